//! `logfleet bench`: measurements taken against a real server process over HTTP, so that
//! what is measured is what a user gets.

mod alerts;
mod generator;
mod ingest;
mod load;
mod pipeline;
mod process;
mod query;
mod soak;

/// Benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Sustained durable ingest through `_bulk`: events/s acknowledged (fsync'd), time until
    /// searchable, CPU per event, bytes on disk per event, idle and peak RSS of the server.
    Ingest(ingest::IngestArgs),
    /// Latency of the seed's four dashboard queries and a Discover-style query (time range,
    /// query_string, top 100 by @timestamp, date histogram) over generated events: first run
    /// after a fresh load, then p50/p95 warm.
    Query(query::QueryArgs),
    /// Reliability: SIGKILL the server at random moments (while it starts and replays its
    /// log, while it ingests, commits and merges), restart it, many times over; then check
    /// that every acknowledged document is there exactly once.
    Soak(soak::SoakArgs),
    /// Throughput of an ingest pipeline in process: `grok` + `date` (+ `geoip` with a
    /// database) over web-server access lines, in MB/s.
    Pipeline(pipeline::PipelineArgs),
    /// What evaluating alert rules costs the server: its CPU with `--rules` rules evaluated
    /// every `--every` over generated events, against its idle CPU, as a share of one core.
    Alerts(alerts::AlertsArgs),
}

/// Progress of a long-running benchmark, on standard error.
fn progress(message: &str) {
    #[expect(clippy::print_stderr, reason = "progress of a long-running command")]
    {
        eprintln!("bench: {message}");
    }
}

/// Runs a benchmark.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Ingest(args) => ingest::run(args),
        BenchCommand::Query(args) => query::run(args),
        BenchCommand::Soak(args) => soak::run(args),
        BenchCommand::Pipeline(args) => pipeline::run(args),
        BenchCommand::Alerts(args) => alerts::run(args),
    }
}
