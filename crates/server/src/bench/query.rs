//! `logfleet bench query`: the seed's four dashboard queries and a Discover-style query over
//! generated events, latency on the first run after a fresh load and warm.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::load::load_last_day;
use super::process::ServerProcess;
use crate::print_out;

/// Options of `bench query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// How many events to load (spread over the last 24 hours).
    #[arg(long, default_value_t = 10_000_000)]
    events: usize,
    /// Warm runs of each query.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Seed of the event generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Data directory of the server under test [default: a temporary directory]. With
    /// `--no-load`, an existing directory to query as it is.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Query the data already in `--data-dir` instead of loading.
    #[arg(long, requires = "data_dir")]
    no_load: bool,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// The queries measured, by name.
fn queries() -> Vec<(&'static str, Value)> {
    vec![
        (
            "api_performance",
            json!({"query": {"bool": {"must": [{"term": {"log_category": "api_request"}}, {"exists": {"field": "duration_ms"}}]}}, "aggs": {"avg_response_time": {"avg": {"field": "duration_ms"}}, "response_times_by_endpoint": {"terms": {"field": "endpoint_signature"}, "aggs": {"avg_time": {"avg": {"field": "duration_ms"}}}}}}),
        ),
        (
            "error_rate",
            json!({"query": {"bool": {"must": [{"range": {"@timestamp": {"gte": "now-1h"}}}, {"term": {"response_category": "server_error"}}]}}, "aggs": {"errors_by_service": {"terms": {"field": "app_name"}}, "errors_by_endpoint": {"terms": {"field": "endpoint_signature"}}}}),
        ),
        (
            "user_activity",
            json!({"query": {"bool": {"must": [{"term": {"log_category": "audit"}}, {"exists": {"field": "user_id"}}]}}, "aggs": {"top_users": {"terms": {"field": "user_name"}}, "actions_by_type": {"terms": {"field": "user_action"}}}}),
        ),
        (
            "service_health",
            json!({"query": {"bool": {"must": [{"term": {"log_category": "inter_service"}}, {"range": {"@timestamp": {"gte": "now-5m"}}}]}}, "aggs": {"service_communication": {"terms": {"field": "target_service"}, "aggs": {"avg_latency": {"avg": {"field": "duration_ms"}}, "error_rate": {"filter": {"term": {"response_category": "server_error"}}}}}}}),
        ),
        (
            "discover",
            json!({"size": 100, "sort": [{"@timestamp": "desc"}], "query": {"bool": {"filter": [{"range": {"@timestamp": {"gte": "now-15m"}}}, {"query_string": {"query": "level:error OR status_code:>=500"}}]}}, "aggs": {"over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "30s"}}}}),
        ),
    ]
}

/// Runs the benchmark.
pub fn run(args: QueryArgs) -> anyhow::Result<()> {
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

/// Sends `body` to `url` `runs` times, one after the other; the wall time of each.
async fn time_runs(
    client: &reqwest::Client,
    url: &str,
    name: &str,
    body: &Value,
    runs: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut timings = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        timings.push(started.elapsed());
        if !status.is_success() {
            bail!(
                "{name} failed with {status}: {}",
                &text[..text.len().min(400)]
            );
        }
    }
    Ok(timings)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

async fn measure(args: &QueryArgs, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().build()?;
    let mut server = ServerProcess::start(data_dir, &["--refresh-interval", "1s"])?;
    server.wait_ready(&client).await?;
    let base = format!("http://{}", server.address);
    if !args.no_load {
        load_last_day(&client, &base, args.events, args.seed).await?;
        client
            .post(format!("{base}/_refresh"))
            .send()
            .await?
            .error_for_status()?;
    }
    let count: Value = serde_json::from_str(
        &client
            .get(format!("{base}/logs-*/_count"))
            .send()
            .await?
            .text()
            .await?,
    )?;
    let total = count["count"].as_u64().context("no count")?;
    super::progress(&format!("{total} events searchable; measuring"));
    let mut rows = Vec::new();
    for (name, body) in queries() {
        let url = format!("{base}/logs-*/_search");
        let mut timings = time_runs(&client, &url, name, &body, args.runs + 1).await?;
        let first = timings.remove(0);
        timings.sort();
        // The same query with the request cache bypassed: what a partition that changed
        // since the last run costs.
        let uncached_url = format!("{url}?request_cache=false");
        let mut uncached = time_runs(&client, &uncached_url, name, &body, args.runs).await?;
        uncached.sort();
        rows.push((
            name,
            first,
            percentile(&timings, 0.5),
            percentile(&timings, 0.95),
            percentile(&uncached, 0.5),
        ));
    }
    server.stop()?;
    let milliseconds = |duration: Duration| (duration.as_secs_f64() * 1e4).round() / 10.0;
    if args.json {
        let results: Vec<Value> = rows
            .iter()
            .map(|(name, first, p50, p95, uncached)| json!({"query": name, "first_ms": milliseconds(*first), "p50_ms": milliseconds(*p50), "p95_ms": milliseconds(*p95), "uncached_p50_ms": milliseconds(*uncached)}))
            .collect();
        print_out(&json!({"events": total, "runs": args.runs, "queries": results}).to_string());
        return Ok(());
    }
    let mut lines = vec![
        format!(
            "{total} events, {} warm runs per query (HTTP round trip included)",
            args.runs
        ),
        format!(
            "{:<18}{:>12}{:>12}{:>12}{:>16}",
            "query", "first ms", "p50 ms", "p95 ms", "uncached p50"
        ),
    ];
    for (name, first, p50, p95, uncached) in rows {
        lines.push(format!(
            "{name:<18}{:>12.1}{:>12.1}{:>12.1}{:>16.1}",
            milliseconds(first),
            milliseconds(p50),
            milliseconds(p95),
            milliseconds(uncached)
        ));
    }
    print_out(&lines.join("\n"));
    Ok(())
}
