//! `logfleet quickstart` and `logfleet demo`: the whole system on one machine — the server,
//! the seed's three services (each its own process, so calls between them are real HTTP and
//! each logs under its own `app_name`) and the traffic generator.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use logfleet_demo::traffic::{TrafficConfig, TrafficStats};
use logfleet_demo::{ServiceKind, ServiceOptions};

use crate::ServeArgs;
use crate::serve::{init_logging, serve, shutdown_signal};

/// Where the recommendations upstream is said to live: a port nothing listens on, so the
/// user service's calls to it fail with `connection_refused`, as an outage would.
const UNREACHABLE_URL: &str = "http://127.0.0.1:9";

/// `logfleet quickstart`.
#[derive(Debug, clap::Args)]
pub struct QuickstartArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Stop by itself after this long (e.g. 90s, 10m) instead of at Ctrl-C.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Virtual users acting at once.
    #[arg(long, default_value_t = 6)]
    users: usize,
    /// Seconds between the services' performance samples.
    #[arg(long, default_value_t = 15)]
    performance_interval: u64,
    #[command(flatten)]
    faults: FaultArgs,
    /// Which services to run: the Rust ones of `demo/`, in this binary, or the Django ones
    /// of `sdks/python/examples/` under gunicorn, shipping with the Python SDK (from a
    /// Logfleet checkout, with the SDK's virtual environment: `scripts/python-sdk venv`).
    #[arg(long, value_enum, default_value_t = Stack::Rust)]
    stack: Stack,
    /// With `--stack django`: the Python that has Django, DRF, gunicorn and the SDK.
    #[arg(
        long,
        env = "LOGFLEET_PYTHON",
        default_value = "python3",
        value_name = "PATH"
    )]
    python: PathBuf,
    /// With `--stack django`: the directory of the Django services.
    #[arg(long, value_name = "DIR", default_value = DJANGO_EXAMPLES)]
    django_dir: PathBuf,
}

/// The Django services in the checkout this binary was built from.
const DJANGO_EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdks/python/examples");

/// Which implementation of the seed's services the quickstart runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stack {
    /// `demo/`'s services, each a `logfleet demo service` process.
    Rust,
    /// `sdks/python/examples/`'s Django and DRF services, each under gunicorn.
    Django,
}

/// `logfleet demo`.
#[derive(Debug, clap::Subcommand)]
pub enum DemoCommand {
    /// Run only the three services, shipping their events to a Logfleet or Elasticsearch.
    Services(ServicesArgs),
    /// Run only the traffic generator, against services running elsewhere.
    Traffic(TrafficArgs),
    /// Run one service in this process (what `services` and `quickstart` start).
    #[command(hide = true)]
    Service(ServiceArgs),
}

/// `logfleet demo services`.
#[derive(Debug, clap::Args)]
pub struct ServicesArgs {
    /// The `_bulk` endpoint's base URL.
    #[arg(long, default_value = "http://127.0.0.1:9200")]
    logfleet_url: String,
    /// Where the data manager keeps its SQLite database (unless DATABASE_URL is set).
    #[arg(long, default_value = "./data/demo")]
    data_dir: PathBuf,
    /// Honour the fault-injection headers the traffic generator sends.
    #[arg(long)]
    allow_fault_injection: bool,
    /// Seconds between performance samples.
    #[arg(long, default_value_t = 15)]
    performance_interval: u64,
}

/// `logfleet demo traffic`.
#[derive(Debug, clap::Args)]
pub struct TrafficArgs {
    /// `user_service`'s base URL.
    #[arg(long, default_value = "http://127.0.0.1:4001")]
    user_service: String,
    /// `auth`'s base URL.
    #[arg(long, default_value = "http://127.0.0.1:4002")]
    auth: String,
    /// Virtual users acting at once.
    #[arg(long, default_value_t = 6)]
    users: usize,
    /// Stop after this long (e.g. 5m) instead of at Ctrl-C.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    #[command(flatten)]
    faults: FaultArgs,
}

/// How much trouble the traffic asks for.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct FaultArgs {
    /// Share of requests that ask for an injected fault (a failed query or request: a 5xx),
    /// from 0 to 1. Above 0.05 the prebuilt error-rate alerts fire.
    #[arg(long, default_value_t = 0.02, value_parser = parse_share)]
    fault_rate: f64,
    /// Share of requests that ask for a query slower than one second, from 0 to 1.
    #[arg(long, default_value_t = 0.02, value_parser = parse_share)]
    slow_query_rate: f64,
}

impl FaultArgs {
    fn apply(self, config: &mut TrafficConfig) {
        config.fault_rate = self.fault_rate;
        config.slow_query_rate = self.slow_query_rate;
    }
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("expected a share from 0 to 1, found [{text}]")),
    }
}

/// `logfleet demo service`.
#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    /// access_postgresql, user_service or auth.
    name: String,
    #[arg(long)]
    listen: SocketAddr,
    #[arg(long)]
    logfleet_url: Option<String>,
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite::memory:")]
    database_url: String,
    #[arg(long, default_value = "http://127.0.0.1:4000")]
    data_manager_url: String,
    #[arg(long, default_value = UNREACHABLE_URL)]
    recommendations_url: String,
    #[arg(long)]
    allow_fault_injection: bool,
    #[arg(long, default_value_t = 60)]
    performance_interval: u64,
    /// Stop when standard input closes: the parent that started the service holds its other
    /// end, so the service never outlives it, however it ends.
    #[arg(long)]
    exit_with_parent: bool,
}

/// Completes when standard input reaches its end (or fails).
async fn stdin_closed() {
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin();
        while let Ok(read) = std::io::Read::read(&mut stdin, &mut sink) {
            if read == 0 {
                break;
            }
        }
    })
    .await;
}

/// Runs `logfleet demo …`.
pub fn run_demo(command: DemoCommand) -> anyhow::Result<()> {
    let runtime = runtime()?;
    match command {
        DemoCommand::Service(args) => {
            let kind = ServiceKind::from_app_name(&args.name).with_context(|| {
                format!(
                    "unknown service {:?}: use access_postgresql, user_service or auth",
                    args.name
                )
            })?;
            let options = ServiceOptions {
                kind,
                listen: args.listen,
                logfleet_url: args.logfleet_url,
                database_url: args.database_url,
                data_manager_url: args.data_manager_url,
                recommendations_url: args.recommendations_url,
                faults: args.allow_fault_injection,
                performance_interval: Duration::from_secs(args.performance_interval.max(1)),
            };
            let exit_with_parent = args.exit_with_parent;
            let shutdown = async move {
                if exit_with_parent {
                    tokio::select! {
                        () = shutdown_signal() => {},
                        () = stdin_closed() => {},
                    }
                } else {
                    shutdown_signal().await;
                }
            };
            runtime.block_on(logfleet_demo::serve_service(options, shutdown))
        }
        DemoCommand::Services(args) => runtime.block_on(async {
            let services = Services::start(&ServicesPlan {
                logfleet_url: args.logfleet_url.clone(),
                data_dir: args.data_dir.clone(),
                faults: args.allow_fault_injection,
                performance_interval: args.performance_interval,
                runtime: ServiceRuntime::Rust,
            })
            .await?;
            say(&services.describe());
            say("Ctrl-C stops them.");
            shutdown_signal().await;
            services.stop();
            Ok(())
        }),
        DemoCommand::Traffic(args) => runtime.block_on(async {
            let mut config = TrafficConfig::new(args.user_service, args.auth);
            config.concurrency = args.users;
            args.faults.apply(&mut config);
            let stats = Arc::new(TrafficStats::default());
            say(&format!(
                "sending traffic to {} and {} with {} virtual users; Ctrl-C stops",
                config.user_service, config.auth, config.concurrency
            ));
            let traffic = tokio::spawn(logfleet_demo::traffic::run(config, stats.clone()));
            wait_for_end(args.duration).await;
            traffic.abort();
            say(&traffic_summary(&stats));
            Ok(())
        }),
    }
}

/// Runs `logfleet quickstart`.
pub fn run_quickstart(args: QuickstartArgs) -> anyhow::Result<()> {
    let mut config = args.serve.load()?;
    // The server's own log would drown the summary; warnings still show.
    if args.serve.log_level.is_none() {
        config.log_level = "warn".into();
    }
    init_logging(&config)?;
    let geoip_directory = config.geoip_directory();
    if !crate::geoip::has_database(&geoip_directory)
        && let Err(error) = crate::geoip::fetch(&geoip_directory)
    {
        say(&format!(
            "could not fetch the GeoIP database ({error:#}); going on without: events get no \
             geo.* fields and the map stays empty"
        ));
    }
    let data_dir = config.data_dir.clone();
    let runtime = runtime()?;
    runtime.block_on(async move {
        let (ready_sender, ready) = tokio::sync::oneshot::channel();
        let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(config, Some(ready_sender), async {
            let _ = server_stopped.await;
        }));
        let address = match ready.await {
            Ok(address) => address,
            Err(_) => {
                // The server ended before listening: report why.
                return match server.await {
                    Ok(Err(error)) => Err(error),
                    _ => bail!("the server stopped while starting"),
                };
            }
        };
        let logfleet_url = format!("http://{address}");
        let started = Instant::now();
        let runtime = match args.stack {
            Stack::Rust => ServiceRuntime::Rust,
            Stack::Django => ServiceRuntime::Django {
                python: args.python.clone(),
                directory: args.django_dir.clone(),
            },
        };
        let services = Services::start(&ServicesPlan {
            logfleet_url: logfleet_url.clone(),
            data_dir: data_dir.join("demo"),
            faults: true,
            performance_interval: args.performance_interval,
            runtime,
        })
        .await;
        let services = match services {
            Ok(services) => services,
            Err(error) => {
                let _ = stop_server.send(());
                let _ = server.await;
                return Err(error);
            }
        };
        let mut traffic_config = TrafficConfig::new(
            services.url(ServiceKind::UserService),
            services.url(ServiceKind::Auth),
        );
        traffic_config.concurrency = args.users;
        args.faults.apply(&mut traffic_config);
        let stats = Arc::new(TrafficStats::default());
        let traffic = tokio::spawn(logfleet_demo::traffic::run(traffic_config, stats.clone()));
        say(&banner(&logfleet_url, &data_dir, &services, args.users));
        let progress = progress(logfleet_url.clone(), stats.clone(), started);
        tokio::select! {
            () = wait_for_end(args.duration) => {},
            () = progress => {},
        }
        say("stopping: traffic, then the services (flushing their events), then the server");
        traffic.abort();
        services.stop();
        let _ = stop_server.send(());
        match server.await {
            Ok(result) => result?,
            Err(error) => bail!("the server task failed: {error}"),
        }
        say(&traffic_summary(&stats));
        say(&format!("data kept in {}", data_dir.display()));
        Ok(())
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn wait_for_end(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::select! {
            () = tokio::time::sleep(duration) => {},
            () = shutdown_signal() => {},
        },
        None => shutdown_signal().await,
    }
}

/// Prints a line every 10 seconds: requests sent and events stored. Never completes.
async fn progress(logfleet_url: String, stats: Arc<TrafficStats>, started: Instant) {
    let client = reqwest::Client::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(10));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let stored = client
            .get(format!("{logfleet_url}/logs-*/_count"))
            .send()
            .await
            .ok();
        let stored = match stored {
            Some(response) => response
                .bytes()
                .await
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .and_then(|body| body["count"].as_u64()),
            None => None,
        };
        say(&format!(
            "[{:>4}s] {} requests sent, {} events stored",
            started.elapsed().as_secs(),
            stats.total(),
            stored.map_or_else(|| "?".to_owned(), |count| count.to_string()),
        ));
    }
}

struct ServicesPlan {
    logfleet_url: String,
    data_dir: PathBuf,
    faults: bool,
    performance_interval: u64,
    runtime: ServiceRuntime,
}

/// What runs each service.
enum ServiceRuntime {
    /// This executable's `demo service`.
    Rust,
    /// gunicorn over the Django services in `directory`, with `python`.
    Django { python: PathBuf, directory: PathBuf },
}

/// The three service processes.
struct Services {
    children: Vec<(ServiceKind, SocketAddr, Child)>,
    database: String,
}

impl Services {
    async fn start(plan: &ServicesPlan) -> anyhow::Result<Services> {
        std::fs::create_dir_all(&plan.data_dir)
            .with_context(|| format!("creating {}", plan.data_dir.display()))?;
        if let ServiceRuntime::Django { python, directory } = &plan.runtime {
            return Services::start_django(plan, python, directory).await;
        }
        let database = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
            format!(
                "sqlite://{}?mode=rwc",
                plan.data_dir.join("access_postgresql.db").display()
            )
        });
        let executable = std::env::current_exe().context("finding the logfleet executable")?;
        let mut services = Services {
            children: Vec::new(),
            database: database.clone(),
        };
        let mut data_manager_url = String::new();
        for kind in ServiceKind::ALL {
            let listen = free_address(kind.default_port())?;
            let mut command = Command::new(&executable);
            command
                .args(["demo", "service", kind.app_name()])
                .arg("--listen")
                .arg(listen.to_string())
                .arg("--logfleet-url")
                .arg(&plan.logfleet_url)
                .arg("--database-url")
                .arg(&database)
                .arg("--recommendations-url")
                .arg(UNREACHABLE_URL)
                .arg("--performance-interval")
                .arg(plan.performance_interval.to_string())
                .arg("--exit-with-parent")
                // Held open by `Child` until this process ends, however it ends.
                .stdin(Stdio::piped())
                .stdout(Stdio::null());
            if !data_manager_url.is_empty() {
                command.arg("--data-manager-url").arg(&data_manager_url);
            }
            if plan.faults {
                command.arg("--allow-fault-injection");
            }
            let child = command
                .spawn()
                .with_context(|| format!("starting {}", kind.app_name()))?;
            services.children.push((kind, listen, child));
            if kind == ServiceKind::AccessPostgresql {
                data_manager_url = format!("http://{listen}");
            }
            services.wait_healthy(kind, listen).await?;
        }
        Ok(services)
    }

    /// The Django services: the data manager's tables created, then each service under
    /// gunicorn with two forked workers, configured through the environment as their
    /// settings read it (`LOGFLEET_*` for the SDK). Their output goes to `<name>.log` in the
    /// data directory.
    async fn start_django(
        plan: &ServicesPlan,
        python: &Path,
        directory: &Path,
    ) -> anyhow::Result<Services> {
        if !directory.join("manage.py").is_file() {
            bail!(
                "no Django services in {}: --stack django runs from a Logfleet checkout \
                 (or give --django-dir)",
                directory.display()
            );
        }
        let database = plan.data_dir.join("access_postgresql.sqlite3");
        let environment = |kind: ServiceKind| {
            let mut variables = vec![
                ("LOGFLEET_URL", plan.logfleet_url.clone()),
                (
                    "LOGFLEET_PERFORMANCE_INTERVAL",
                    plan.performance_interval.to_string(),
                ),
                ("PROXY_APP_NAME", kind.app_name().to_owned()),
                ("ACCESS_POSTGRESQL_DATABASE", database.display().to_string()),
                ("RECOMMENDATIONS_URL", UNREACHABLE_URL.to_owned()),
                ("PYTHONDONTWRITEBYTECODE", "1".to_owned()),
            ];
            if plan.faults {
                variables.push(("DEMO_FAULTS", "1".to_owned()));
            }
            variables
        };
        let migrate = {
            let mut command = Command::new(python);
            command
                .args(["manage.py", "migrate", "-v", "0"])
                .current_dir(directory)
                .env("DJANGO_SETTINGS_MODULE", "access_postgresql.settings")
                .envs(environment(ServiceKind::AccessPostgresql));
            command
        };
        let migrated = tokio::task::spawn_blocking(move || {
            let mut migrate = migrate;
            migrate.status()
        })
        .await?
        .with_context(|| format!("running {}", python.display()))?;
        if !migrated.success() {
            bail!(
                "creating the data manager's tables failed ({migrated}); does {} have the \
                 SDK's packages? (scripts/python-sdk venv, then --python <venv>/bin/python)",
                python.display()
            );
        }
        let mut services = Services {
            children: Vec::new(),
            database: format!("sqlite {}", database.display()),
        };
        let mut data_manager_url = String::new();
        for kind in ServiceKind::ALL {
            let listen = free_address(kind.default_port())?;
            let module = match kind {
                ServiceKind::AccessPostgresql => "access_postgresql",
                ServiceKind::UserService | ServiceKind::Auth => "user_service",
            };
            let log = std::fs::File::create(plan.data_dir.join(format!("{}.log", kind.app_name())))
                .context("creating a service log")?;
            let mut command = Command::new(python);
            command
                .args([
                    "-m",
                    "gunicorn",
                    "--workers",
                    "2",
                    "--graceful-timeout",
                    "10",
                ])
                .arg("--bind")
                .arg(listen.to_string())
                .arg(format!("{module}.wsgi:application"))
                .current_dir(directory)
                .envs(environment(kind))
                .env(
                    "LOGFLEET_SPOOL_DIR",
                    plan.data_dir.join("spool").join(kind.app_name()),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log);
            if !data_manager_url.is_empty() {
                command.env("DATA_MANAGER_URL", &data_manager_url);
            }
            let child = command.spawn().with_context(|| {
                format!("starting {} with {}", kind.app_name(), python.display())
            })?;
            services.children.push((kind, listen, child));
            if kind == ServiceKind::AccessPostgresql {
                data_manager_url = format!("http://{listen}");
            }
            services.wait_healthy(kind, listen).await?;
        }
        Ok(services)
    }

    async fn wait_healthy(&mut self, kind: ServiceKind, listen: SocketAddr) -> anyhow::Result<()> {
        // Named like any real probe, so that its requests' events say who made them.
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "logfleet-quickstart/",
                env!("CARGO_PKG_VERSION"),
                " (readiness probe)"
            ))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = client
                .get(format!("http://{listen}/api/health/"))
                .send()
                .await;
            if health.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if let Some((_, _, child)) = self
                .children
                .iter_mut()
                .find(|(other, _, _)| *other == kind)
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!("{} exited while starting ({status})", kind.app_name());
            }
            if Instant::now() > deadline {
                bail!("{} did not answer on {listen} within 30 s", kind.app_name());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self, kind: ServiceKind) -> String {
        self.children
            .iter()
            .find(|(other, _, _)| *other == kind)
            .map(|(_, address, _)| format!("http://{address}"))
            .unwrap_or_default()
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        for (kind, address, child) in &self.children {
            text.push_str(&format!(
                "  {:<18} http://{address}  ({}, pid {})\n",
                kind.app_name(),
                kind.service_type(),
                child.id()
            ));
        }
        text.push_str(&format!("  database           {}\n", self.database));
        text
    }

    /// SIGTERM to each (they flush their events), then wait; SIGKILL after 15 s.
    fn stop(mut self) {
        // Proxies first, so nothing calls a data manager that is gone.
        for (_, _, child) in self.children.iter().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        for (kind, _, child) in &mut self.children {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        tracing::warn!(
                            service = kind.app_name(),
                            "did not stop in time; killing it"
                        );
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
        self.children.clear();
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        for (_, _, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The preferred loopback port when it is free, else any free one.
fn free_address(preferred: u16) -> anyhow::Result<SocketAddr> {
    let loopback = Ipv4Addr::LOCALHOST;
    let listener = TcpListener::bind((loopback, preferred))
        .or_else(|_| TcpListener::bind((loopback, 0)))
        .context("finding a free port")?;
    Ok(listener.local_addr()?)
}

fn banner(logfleet_url: &str, data_dir: &Path, services: &Services, users: usize) -> String {
    format!(
        "\nLogfleet quickstart is running.\n\n\
         \x20 explorer           {logfleet_url}/_ui/  (open it in a browser)\n\
         \x20 logfleet           {logfleet_url}  (Elasticsearch API)\n\
         \x20 data directory     {}\n\
         {}\
         \x20 traffic            {users} virtual users, faults and slow queries injected now and then\n\n\
         Try:\n\
         \x20 curl -s '{logfleet_url}/_cat/indices?v'\n\
         \x20 curl -s '{logfleet_url}/logs-*/_search?q=log_category:audit&size=3&pretty'\n\
         \x20 curl -s -H 'content-type: application/json' '{logfleet_url}/logs-*/_search?pretty' \\\n\
         \x20     -d '{{\"size\":0,\"aggs\":{{\"by_service\":{{\"terms\":{{\"field\":\"app_name\"}}}}}}}}'\n\n\
         Ctrl-C stops everything.\n",
        data_dir.display(),
        services.describe(),
    )
}

fn traffic_summary(stats: &TrafficStats) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    format!(
        "traffic: {} requests ({} ok, {} client errors, {} server errors, {} unanswered)",
        stats.total(),
        stats.ok.load(Relaxed),
        stats.client_errors.load(Relaxed),
        stats.server_errors.load(Relaxed),
        stats.unanswered.load(Relaxed),
    )
}

#[expect(
    clippy::print_stdout,
    reason = "the quickstart talks to the person who ran it"
)]
fn say(text: &str) {
    println!("{text}");
}

/// `90s`, `10m`, `1h`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let amount: u64 = text[..digits]
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: use e.g. 90s, 10m or 1h"))?;
    let seconds = match &text[digits..] {
        "" | "s" => amount,
        "m" => amount * 60,
        "h" => amount * 3600,
        _ => {
            return Err(format!(
                "invalid duration {text:?}: use e.g. 90s, 10m or 1h"
            ));
        }
    };
    Ok(Duration::from_secs(seconds))
}
