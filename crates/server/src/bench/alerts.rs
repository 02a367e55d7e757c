//! `logfleet bench alerts`: what evaluating alert rules costs a real server. Loads generated
//! events, measures the server's idle CPU, installs rules (ten kinds from the seed's SLAs, ten
//! variants each, every `--every`), then measures its CPU again over the same span: the
//! difference is the rules' cost, as a share of one core.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::generator::SERVICES;
use super::load::load_last_day;
use super::process::ServerProcess;
use crate::print_out;

/// Options of `bench alerts`.
#[derive(Debug, clap::Args)]
pub struct AlertsArgs {
    /// How many events to load (spread over the last 24 hours).
    #[arg(long, default_value_t = 10_000_000)]
    events: usize,
    /// How many rules to evaluate.
    #[arg(long, default_value_t = 100)]
    rules: usize,
    /// How often each rule is evaluated.
    #[arg(long, default_value = "30s")]
    every: String,
    /// How long each CPU measurement (idle, then with the rules) lasts, in seconds.
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    /// Seed of the event generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Data directory of the server under test [default: a temporary directory]. With
    /// `--no-load`, an existing directory to use as it is.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Use the data already in `--data-dir` instead of loading.
    #[arg(long, requires = "data_dir")]
    no_load: bool,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Rule `n` of the benchmark: kind `n % 10` (the seed's SLAs and more), variant `n / 10`
/// (another service, another threshold), so that no two rules ask the same search.
fn rule(n: usize, every: &str) -> Value {
    let variant = n / 10;
    let service = SERVICES[variant % SERVICES.len()];
    let (index, query, condition, group_by) = match n % 10 {
        0 => (
            "logs-*",
            json!("log_category:api_request"),
            json!({"metric": "ratio", "numerator": "status_code:>=500", "op": ">", "threshold": 5 + variant}),
            json!(["app_name"]),
        ),
        1 => (
            "logs-*",
            json!(format!("log_category:api_request AND app_name:{service}")),
            json!({"metric": "p95", "field": "duration_ms", "op": ">", "threshold": 1000 + 100 * variant}),
            json!(["endpoint_signature"]),
        ),
        2 => (
            "logs-*",
            json!("user_action:LOGIN_FAILED"),
            json!({"metric": "count", "op": ">=", "threshold": 10 + variant}),
            json!(["client_ip"]),
        ),
        3 => (
            "logs-*",
            json!("log_category:inter_service"),
            json!({"metric": "ratio", "numerator": {"term": {"response_category": "server_error"}}, "op": ">", "threshold": 5 + variant}),
            json!(["target_service"]),
        ),
        4 => (
            "logs-*",
            json!(format!("app_name:{service}")),
            json!({"metric": "absence"}),
            json!([]),
        ),
        5 => (
            "logs-*",
            json!(format!(
                "log_category:database AND duration_ms:>{}",
                1000 + 100 * variant
            )),
            json!({"metric": "count", "op": ">", "threshold": 10}),
            json!(["app_name"]),
        ),
        6 => (
            "logs-*",
            json!(format!("level:error AND app_name:{service}")),
            json!({"metric": "change", "op": ">", "threshold": 2 + variant}),
            json!([]),
        ),
        7 => (
            "logs-*",
            json!(format!("log_category:audit AND app_name:{service}")),
            json!({"metric": "cardinality", "field": "user_id", "op": ">", "threshold": 1000 * (variant + 1)}),
            json!([]),
        ),
        8 => (
            "logs-*",
            json!("log_category:inter_service"),
            json!({"metric": "avg", "field": "duration_ms", "op": ">", "threshold": 500 + 50 * variant}),
            json!(["target_service"]),
        ),
        _ => (
            "logs-*",
            json!(format!("log_category:performance AND host:*{variant}*")),
            json!({"metric": "max", "field": "cpu_percent", "op": ">", "threshold": 90}),
            json!(["app_name"]),
        ),
    };
    json!({
        "name": format!("bench rule {n}"),
        "index": index,
        "query": query,
        "condition": condition,
        "group_by": group_by,
        "window": "5m",
        "every": every,
        "delay": "30s",
    })
}

/// Runs the benchmark.
pub fn run(args: AlertsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let temporary = tempfile::tempdir()?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temporary.path().join("data"));
    runtime.block_on(measure(&args, &data_dir))
}

async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let text = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    serde_json::from_str(&text).with_context(|| format!("{url} answered no JSON"))
}

/// The server's CPU time over `seconds` of wall time, as a share of one core.
async fn cpu_share(server: &ServerProcess, seconds: u64) -> anyhow::Result<f64> {
    let (cpu, wall) = (server.cpu_time()?, Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let used = server.cpu_time()?.saturating_sub(cpu);
    Ok(used.as_secs_f64() / wall.elapsed().as_secs_f64())
}

async fn measure(args: &AlertsArgs, data_dir: &std::path::Path) -> anyhow::Result<()> {
    if args.rules == 0 {
        bail!("--rules must be at least 1");
    }
    let every = logfleet_store::parse_time_value(&args.every)
        .map_err(|error| anyhow::anyhow!("--every: {error}"))?;
    if every.as_secs() == 0 || args.seconds < every.as_secs() {
        bail!("--seconds must span at least one round of --every (whole rounds measure best)");
    }
    let client = reqwest::Client::builder().build()?;
    let mut server = ServerProcess::start(data_dir, &["--refresh-interval", "1s"])?;
    server.wait_ready(&client).await?;
    let base = format!("http://{}", server.address);
    // Only the benchmark's rules: the prebuilt ones (or an earlier run's) go.
    let existing = get_json(&client, &format!("{base}/_logfleet/alerts/rules")).await?;
    for id in existing
        .as_object()
        .into_iter()
        .flat_map(|rules| rules.keys())
    {
        client
            .delete(format!("{base}/_logfleet/alerts/rules/{id}"))
            .send()
            .await?
            .error_for_status()?;
    }
    if !args.no_load {
        load_last_day(&client, &base, args.events, args.seed).await?;
    }
    client
        .post(format!("{base}/_refresh"))
        .send()
        .await?
        .error_for_status()?;
    let count = get_json(&client, &format!("{base}/logs-*/_count")).await?;
    let total = count["count"].as_u64().context("no count")?;
    // Let the load's merges finish before measuring the idle server.
    tokio::time::sleep(Duration::from_secs(10)).await;
    super::progress(&format!(
        "{total} events searchable; measuring the idle server for {} s",
        args.seconds
    ));
    let idle = cpu_share(&server, args.seconds).await?;

    for n in 0..args.rules {
        client
            .put(format!("{base}/_logfleet/alerts/rules/bench-{n}"))
            .header("content-type", "application/json")
            .body(rule(n, &args.every).to_string())
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("storing rule bench-{n}"))?;
    }
    // The first round runs at once; measure whole rounds after it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    super::progress(&format!(
        "{} rules every {}; measuring for {} s",
        args.rules, args.every, args.seconds
    ));
    let busy = cpu_share(&server, args.seconds).await?;
    let rules = get_json(&client, &format!("{base}/_logfleet/alerts/rules")).await?;
    server.stop()?;

    let mut took: Vec<u64> = Vec::new();
    let mut failed = 0;
    for shown in rules
        .as_object()
        .into_iter()
        .flat_map(|rules| rules.values())
    {
        let last = &shown["state"]["last_evaluation"];
        if !last["error"].is_null() {
            failed += 1;
        }
        if let Some(ms) = last["took_ms"].as_u64() {
            took.push(ms);
        }
    }
    if failed > 0 {
        bail!("{failed} rules failed to evaluate");
    }
    took.sort_unstable();
    let median = took.get(took.len() / 2).copied().unwrap_or_default();
    let slowest = took.last().copied().unwrap_or_default();
    let cost = (busy - idle).max(0.0);
    let per_round_ms = cost * every.as_secs_f64() * 1000.0;
    if args.json {
        print_out(
            &json!({
                "events": total, "rules": args.rules, "every": args.every, "seconds": args.seconds,
                "idle_core_share": idle, "busy_core_share": busy, "rules_core_share": cost,
                "cpu_ms_per_round": per_round_ms, "evaluation_ms_median": median,
                "evaluation_ms_max": slowest,
            })
            .to_string(),
        );
        return Ok(());
    }
    print_out(&format!(
        "{total} events, {} rules every {}, {} s per measurement\n\
         server CPU, idle:        {:>6.2}% of one core\n\
         server CPU, with rules:  {:>6.2}% of one core\n\
         the rules' cost:         {:>6.2}% of one core ({per_round_ms:.0} ms of CPU per round)\n\
         one rule's evaluation:   median {median} ms, slowest {slowest} ms (wall, last round)",
        args.rules,
        args.every,
        args.seconds,
        idle * 100.0,
        busy * 100.0,
        cost * 100.0,
    ));
    Ok(())
}
