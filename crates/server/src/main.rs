//! The `logfleet` binary: every part of Logfleet wired together behind one command line.

mod allocator;
mod bench;
mod config;
mod demo;
mod geoip;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

/// Self-hosted structured logging for microservices, compatible with the Elasticsearch API.
///
/// Logfleet stores log events on local disk, durably, and answers the Elasticsearch ingest
/// and search APIs at the root path, so Filebeat, Logstash, Vector and the official
/// Elasticsearch clients work with it unchanged.
#[derive(Debug, Parser)]
#[command(name = "logfleet", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// See the whole system working: the server, the seed's three demo services
    /// (access_postgresql, user_service, auth) and a traffic generator, until Ctrl-C.
    ///
    /// Takes the same flags as `serve`. The services ship their events to this server over
    /// its `_bulk` API, exactly as they would to Elasticsearch.
    Quickstart(demo::QuickstartArgs),
    /// Run the demo services or the traffic generator on their own.
    #[command(subcommand)]
    Demo(demo::DemoCommand),
    /// Run the server: the Elasticsearch-compatible API on one port (127.0.0.1:9200 by
    /// default), storing data under --data-dir.
    ///
    /// Configuration comes from, in increasing precedence: built-in defaults, the TOML file
    /// given with --config, LOGFLEET_* environment variables (LOGFLEET_LISTEN,
    /// LOGFLEET_DATA_DIR, LOGFLEET_REFRESH_INTERVAL, LOGFLEET_RETENTION__CHECK_INTERVAL…),
    /// and these flags.
    Serve(ServeArgs),
    /// Measure performance on this machine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Fetch data files the server uses but does not ship, such as a GeoIP database.
    #[command(subcommand)]
    Setup(geoip::SetupCommand),
    /// Print the effective configuration as TOML (defaults merged with file, environment
    /// and flags), or fail with a message naming what is invalid.
    Config(ServeArgs),
}

/// Flags shared by `serve` and `config`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, short = 'c', env = "LOGFLEET_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for data, created if missing [default: ./data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:9200]. Use 0.0.0.0:9200 to accept remote
    /// connections (there is no authentication: put a proxy in front).
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<SocketAddr>,
    /// How often new writes become searchable, e.g. 1s or 250ms; -1 disables periodic
    /// refresh [default: 1s].
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    refresh_interval: Option<String>,
    /// Pass over partitions no search has reached for this long in periodic refreshes; the
    /// next search refreshes them first and waits, as on a search-idle Elasticsearch shard.
    /// -1 refreshes everything at every interval [default: 30s].
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    search_idle_after: Option<String>,
    /// Log verbosity: error, warn, info, debug, trace, or a filter such as
    /// "info,logfleet_store=debug" [default: info].
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
}

impl ServeArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let overrides = Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            refresh_interval: self.refresh_interval.clone(),
            search_idle_after: self.search_idle_after.clone(),
            log_level: self.log_level.clone(),
        };
        Config::load(self.config.as_deref(), &overrides)
    }
}

fn main() -> ExitCode {
    allocator::tune();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => args.load().and_then(serve::run),
        Command::Config(args) => args.load().and_then(|config| {
            let text = toml_for(&config)?;
            print_out(&text);
            Ok(())
        }),
        Command::Bench(command) => bench::run(command),
        Command::Setup(command) => geoip::run(command),
        Command::Quickstart(args) => demo::run_quickstart(args),
        Command::Demo(command) => demo::run_demo(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            #[expect(clippy::print_stderr, reason = "the last word of a failed command")]
            {
                eprintln!("logfleet: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn toml_for(config: &Config) -> anyhow::Result<String> {
    let value = serde_json::to_value(config)?;
    Ok(json_to_toml(&value, ""))
}

/// A small TOML writer for the configuration's shape (scalars, one table, an array of
/// tables), which avoids a TOML serialiser dependency.
fn json_to_toml(value: &serde_json::Value, prefix: &str) -> String {
    use serde_json::Value;
    let mut scalars = String::new();
    let mut tables = String::new();
    if let Value::Object(object) = value {
        for (key, child) in object {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match child {
                Value::Object(_) => {
                    tables.push_str(&format!("\n[{path}]\n"));
                    tables.push_str(&json_to_toml(child, &path));
                }
                Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
                    for item in items {
                        tables.push_str(&format!("\n[[{path}]]\n"));
                        tables.push_str(&json_to_toml(item, &path));
                    }
                }
                other => scalars.push_str(&format!("{key} = {other}\n")),
            }
        }
    }
    scalars + &tables
}

/// Writes to standard output (the command's product, not a log line).
pub fn print_out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}
