//! `logfleet bench`: measurements taken against a real server process over HTTP, so that
//! what is measured is what a user gets.

mod generator;
mod ingest;
mod process;

/// Benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Sustained durable ingest through `_bulk`: events/s acknowledged (fsync'd), time until
    /// searchable, CPU per event, bytes on disk per event, idle and peak RSS of the server.
    Ingest(ingest::IngestArgs),
}

/// Runs a benchmark.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Ingest(args) => ingest::run(args),
    }
}
