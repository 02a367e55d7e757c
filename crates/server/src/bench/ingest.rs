//! `logfleet bench ingest`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::generator::EventGenerator;
use super::process::ServerProcess;
use crate::print_out;

/// Options of `bench ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// How many events to send.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Events per `_bulk` request.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Seed of the event generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Refresh interval of the server under test.
    #[arg(long, default_value = "1s")]
    refresh_interval: String,
    /// `search_idle_after` of the server under test: periodic refreshes pass over
    /// partitions no search has reached for this long (-1: refresh everything always).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        allow_hyphen_values = true
    )]
    search_idle_after: String,
    /// While sending, also count `logs-*` at this interval, as an open dashboard would;
    /// this keeps every partition search-active, so each refresh commits them all.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    search_every: Option<Duration>,
    /// Data directory of the server under test [default: a temporary directory, removed
    /// afterwards].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Skip the default ingest pipeline of `logs-*` (`?pipeline=_none`), to measure what
    /// the pipeline costs against a run without this flag.
    #[arg(long)]
    without_pipeline: bool,
    /// Print the results as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = logfleet_store::parse_time_value(text)?;
    if interval.is_zero() {
        return Err("the interval must be positive".to_owned());
    }
    Ok(interval)
}

/// What the dashboard-like searches during the run saw.
#[derive(Debug, Default)]
struct Searches {
    /// How many ran.
    count: usize,
    /// Their latencies.
    latencies: Vec<Duration>,
    /// The most events acknowledged before a search started that it did not count.
    max_unseen: u64,
}

struct Results {
    events: usize,
    body_bytes: usize,
    ack_elapsed: Duration,
    searchable_elapsed: Duration,
    /// Server CPU from the first request until everything was searchable.
    cpu: Duration,
    /// The same, plus the shutdown: the final commit and the merges it lets finish.
    cpu_with_shutdown: Duration,
    shutdown_elapsed: Duration,
    idle_rss: u64,
    peak_rss: u64,
    peak_anonymous: u64,
    disk_live: u64,
    disk_after_stop: u64,
    searches: Option<Searches>,
}

/// Runs the benchmark.
pub fn run(args: IngestArgs) -> anyhow::Result<()> {
    if args.events == 0 || args.batch == 0 || args.connections == 0 {
        bail!("--events, --batch and --connections must be positive");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let temporary = tempfile::tempdir()?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temporary.path().join("data"));
    let results = runtime.block_on(measure(&args, &data_dir))?;
    report(&args, &results);
    Ok(())
}

async fn measure(args: &IngestArgs, data_dir: &std::path::Path) -> anyhow::Result<Results> {
    super::progress(&format!(
        "generating {} events in bodies of {}",
        args.events, args.batch
    ));
    let now_millis = logfleet_store::now_millis();
    // Events span the last hour, so that they land in today's partition (or two).
    let spacing_micros = (3_600_000_000 / args.events as i64).max(1);
    let mut generator = EventGenerator::new(args.seed, now_millis - 3_600_000, spacing_micros);
    let mut bodies = Vec::new();
    let mut remaining = args.events;
    while remaining > 0 {
        let count = remaining.min(args.batch);
        let mut body = String::with_capacity(count * 600);
        for _ in 0..count {
            body.push_str("{\"create\":{}}\n");
            generator.write_event(&mut body);
            body.push('\n');
        }
        bodies.push(body.into_bytes());
        remaining -= count;
    }
    let body_bytes: usize = bodies.iter().map(Vec::len).sum();
    let bodies = Arc::new(bodies);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .build()?;
    let mut server = ServerProcess::start(
        data_dir,
        &[
            "--refresh-interval",
            &args.refresh_interval,
            "--search-idle-after",
            &args.search_idle_after,
        ],
    )?;
    server.wait_ready(&client).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle_rss, _, _) = server.memory()?;
    let cpu_before = server.cpu_time()?;
    super::progress(&format!(
        "server idle at {:.1} MB RSS; sending over {} connections",
        idle_rss as f64 / 1e6,
        args.connections
    ));

    let base = format!("http://{}", server.address);
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let searcher = args.search_every.map(|interval| {
        tokio::spawn(search_while_sending(
            client.clone(),
            format!("{base}/logs-*/_count"),
            interval,
            acknowledged.clone(),
            args.events,
        ))
    });
    let mut workers = Vec::new();
    for _ in 0..args.connections {
        let client = client.clone();
        let bodies = bodies.clone();
        let next = next.clone();
        let acknowledged = acknowledged.clone();
        let (batch, events) = (args.batch, args.events);
        let url = if args.without_pipeline {
            format!("{base}/logs/_bulk?pipeline=_none")
        } else {
            format!("{base}/logs/_bulk")
        };
        workers.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(index) else {
                    return Ok::<(), anyhow::Error>(());
                };
                let response = client
                    .post(&url)
                    .header("content-type", "application/x-ndjson")
                    .body(body.clone())
                    .send()
                    .await
                    .context("sending a bulk request")?;
                let status = response.status();
                let text = response.text().await?;
                let head = &text[..text.len().min(64)];
                if !status.is_success() || !head.contains("\"errors\":false") {
                    bail!(
                        "bulk request failed with {status}: {}",
                        &text[..text.len().min(500)]
                    );
                }
                let items = batch.min(events - index * batch);
                acknowledged.fetch_add(items, Ordering::Relaxed);
            }
        }));
    }
    let mut peak_sampled = 0;
    let mut peak_anonymous = 0;
    for worker in workers {
        while !worker.is_finished() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Ok((current, _, anonymous)) = server.memory() {
                peak_sampled = peak_sampled.max(current);
                peak_anonymous = peak_anonymous.max(anonymous);
            }
        }
        worker.await??;
    }
    let ack_elapsed = started.elapsed();
    let searches = match searcher {
        Some(searcher) => Some(searcher.await??),
        None => None,
    };
    super::progress(&format!(
        "acknowledged in {:.2} s; waiting until searchable",
        ack_elapsed.as_secs_f64()
    ));

    let count_url = format!("{base}/logs-*/_count");
    loop {
        let text = client.get(&count_url).send().await?.text().await?;
        let response: serde_json::Value =
            serde_json::from_str(&text).context("parsing a _count response")?;
        if response["count"].as_u64() == Some(args.events as u64) {
            break;
        }
        if started.elapsed() > ack_elapsed + Duration::from_secs(120) {
            bail!("events were not all searchable two minutes after acknowledgement: {response}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let searchable_elapsed = started.elapsed();
    let cpu = server.cpu_time()? - cpu_before;
    let (_, peak_rss, _) = server.memory()?;
    let disk_live = logfleet_store::directory_size(data_dir);
    super::progress("stopping the server");
    let stopping = Instant::now();
    let cpu_with_shutdown = server.stop()?.saturating_sub(cpu_before).max(cpu);
    let shutdown_elapsed = stopping.elapsed();
    let disk_after_stop = logfleet_store::directory_size(data_dir);
    Ok(Results {
        events: args.events,
        body_bytes,
        ack_elapsed,
        searchable_elapsed,
        cpu,
        cpu_with_shutdown,
        shutdown_elapsed,
        idle_rss,
        peak_rss: peak_rss.max(peak_sampled),
        peak_anonymous,
        disk_live,
        disk_after_stop,
        searches,
    })
}

/// Counts `url` every `interval` until `total` events are acknowledged, noting how many
/// acknowledged events each count missed.
async fn search_while_sending(
    client: reqwest::Client,
    url: String,
    interval: Duration,
    acknowledged: Arc<AtomicUsize>,
    total: usize,
) -> anyhow::Result<Searches> {
    let mut searches = Searches::default();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let before = acknowledged.load(Ordering::Relaxed);
        if before >= total {
            return Ok(searches);
        }
        let sent = Instant::now();
        let text = client.get(&url).send().await?.text().await?;
        searches.latencies.push(sent.elapsed());
        searches.count += 1;
        let response: serde_json::Value =
            serde_json::from_str(&text).context("parsing a _count response")?;
        let counted = response["count"]
            .as_u64()
            .with_context(|| format!("a _count response without a count: {response}"))?;
        searches.max_unseen = searches
            .max_unseen
            .max((before as u64).saturating_sub(counted));
    }
}

fn report(args: &IngestArgs, results: &Results) {
    let events = results.events as f64;
    let ack_rate = events / results.ack_elapsed.as_secs_f64();
    let searchable_rate = events / results.searchable_elapsed.as_secs_f64();
    let megabytes_per_second = results.body_bytes as f64 / 1e6 / results.ack_elapsed.as_secs_f64();
    let cpu_micros_per_event = results.cpu.as_secs_f64() * 1e6 / events;
    let cpu_micros_with_shutdown = results.cpu_with_shutdown.as_secs_f64() * 1e6 / events;
    let bytes_per_event_live = results.disk_live as f64 / events;
    let bytes_per_event = results.disk_after_stop as f64 / events;
    let average_event_bytes = results.body_bytes as f64 / events - 14.0;
    let searches = results.searches.as_ref().map(|searches| {
        let mut latencies = searches.latencies.clone();
        latencies.sort();
        let median = latencies
            .get(latencies.len() / 2)
            .map_or(0.0, |latency| latency.as_secs_f64() * 1e3);
        (searches.count, median, searches.max_unseen)
    });
    if args.json {
        let mut json = serde_json::json!({
            "events": results.events,
            "batch": args.batch,
            "connections": args.connections,
            "average_event_bytes": average_event_bytes.round(),
            "acknowledged_events_per_second": ack_rate.round(),
            "searchable_events_per_second": searchable_rate.round(),
            "megabytes_per_second": (megabytes_per_second * 10.0).round() / 10.0,
            "cpu_seconds": (results.cpu.as_secs_f64() * 100.0).round() / 100.0,
            "cpu_microseconds_per_event": (cpu_micros_per_event * 10.0).round() / 10.0,
            "cpu_microseconds_per_event_with_shutdown": (cpu_micros_with_shutdown * 10.0).round() / 10.0,
            "shutdown_seconds": (results.shutdown_elapsed.as_secs_f64() * 100.0).round() / 100.0,
            "disk_bytes_per_event_live": bytes_per_event_live.round(),
            "disk_bytes_per_event_after_stop": bytes_per_event.round(),
            "idle_rss_mb": (results.idle_rss as f64 / 1e5).round() / 10.0,
            "peak_rss_mb": (results.peak_rss as f64 / 1e5).round() / 10.0,
            "peak_anonymous_rss_mb": (results.peak_anonymous as f64 / 1e5).round() / 10.0,
            "refresh_interval": args.refresh_interval,
            "search_idle_after": args.search_idle_after,
        });
        if let Some((count, median_ms, max_unseen)) = searches {
            json["searches_while_sending"] = serde_json::json!({
                "count": count,
                "median_ms": (median_ms * 10.0).round() / 10.0,
                "max_unseen_events": max_unseen,
            });
        }
        print_out(&json.to_string());
        return;
    }
    let mut lines = vec![
        format!("events                      {}", results.events),
        format!("average event               {average_event_bytes:.0} bytes of JSON"),
        format!(
            "acknowledged (fsync'd)      {ack_rate:.0} events/s, {megabytes_per_second:.1} MB/s"
        ),
        format!(
            "searchable                  {searchable_rate:.0} events/s (all {} searchable after {:.2} s)",
            results.events,
            results.searchable_elapsed.as_secs_f64()
        ),
        format!(
            "server CPU                  {:.2} s, {cpu_micros_per_event:.1} µs per event ({cpu_micros_with_shutdown:.1} µs with the shutdown's commit and merges, {:.2} s)",
            results.cpu.as_secs_f64(),
            results.shutdown_elapsed.as_secs_f64()
        ),
        format!(
            "disk per event              {bytes_per_event:.0} bytes after shutdown ({bytes_per_event_live:.0} while running, WAL included)"
        ),
        format!(
            "server RSS                  {:.1} MB idle, {:.1} MB peak ({:.1} MB heap, the rest mapped index files)",
            results.idle_rss as f64 / 1e6,
            results.peak_rss as f64 / 1e6,
            results.peak_anonymous as f64 / 1e6
        ),
        format!(
            "refresh                     every {}, search idle after {}",
            args.refresh_interval, args.search_idle_after
        ),
    ];
    if let Some((count, median_ms, max_unseen)) = searches {
        lines.push(format!(
            "searches while sending      {count}, {median_ms:.1} ms median; at most {max_unseen} acknowledged events not yet counted"
        ));
    }
    print_out(&lines.join("\n"));
}
