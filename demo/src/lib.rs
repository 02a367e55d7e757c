//! The seed's microservices, for real, instrumented with `logfleet-sdk`, and a traffic
//! generator that uses them like people do.
//!
//! - `access_postgresql` (`data_manager`): the only service with a database (SQLite by
//!   default, PostgreSQL when `DATABASE_URL` names one); signup, login and logout with
//!   sessions, profile read, update and delete, argon2 password hashes, authorization checks,
//!   an audit event for every data change.
//! - `user_service` and `auth` (`proxy_service`): validate, then forward to the data manager
//!   over HTTP through the SDK's `log_proxy_request`.
//! - [`traffic`]: virtual users from many countries, wrong passwords, brute-force bursts,
//!   slow queries and injected faults.
//!
//! Every log event comes from the SDK: the `tower` layer for API requests, the database
//! guard for queries, the audit helpers, `log_proxy_request` for inter-service calls and
//! the performance sampler. Each service runs in its own process (`logfleet demo service
//! …`), so each has its own `app_name` and the calls between them are real HTTP.

mod audit;
mod data_manager;
mod db;
pub mod faults;
mod proxy;
pub mod traffic;
mod validate;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

pub use data_manager::DataManager;
pub use db::{Database, DbError, Session, User};
pub use faults::{FAULT_HEADER, Faults, SLOW_QUERY_HEADER};
pub use proxy::{Proxy, Upstream};

/// The three services of the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// `access_postgresql`, the data manager.
    AccessPostgresql,
    /// `user_service`, a proxy for signup and profiles.
    UserService,
    /// `auth`, a proxy for login and logout.
    Auth,
}

impl ServiceKind {
    /// Every service, data manager first (the proxies need it).
    pub const ALL: [ServiceKind; 3] = [
        ServiceKind::AccessPostgresql,
        ServiceKind::UserService,
        ServiceKind::Auth,
    ];

    /// The `app_name` the service logs under.
    pub fn app_name(self) -> &'static str {
        match self {
            ServiceKind::AccessPostgresql => "access_postgresql",
            ServiceKind::UserService => "user_service",
            ServiceKind::Auth => "auth",
        }
    }

    /// The service by its `app_name`.
    pub fn from_app_name(name: &str) -> Option<ServiceKind> {
        ServiceKind::ALL
            .into_iter()
            .find(|kind| kind.app_name() == name)
    }

    /// Its `service_type`.
    pub fn service_type(self) -> &'static str {
        match self {
            ServiceKind::AccessPostgresql => "data_manager",
            ServiceKind::UserService | ServiceKind::Auth => "proxy_service",
        }
    }

    /// The port it listens on by default (the seed's data manager uses 4000).
    pub fn default_port(self) -> u16 {
        match self {
            ServiceKind::AccessPostgresql => 4000,
            ServiceKind::UserService => 4001,
            ServiceKind::Auth => 4002,
        }
    }
}

/// How to run one service.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Which one.
    pub kind: ServiceKind,
    /// Where it listens.
    pub listen: SocketAddr,
    /// Logfleet (or Elasticsearch) to ship events to; `None` writes JSON lines to stdout.
    pub logfleet_url: Option<String>,
    /// The data manager's database, for `access_postgresql`.
    pub database_url: String,
    /// The data manager's base URL, for the proxies.
    pub data_manager_url: String,
    /// A recommendations service the user service forwards to (unreachable in the demo).
    pub recommendations_url: String,
    /// Honour the fault-injection headers.
    pub faults: bool,
    /// How often to sample performance.
    pub performance_interval: Duration,
}

/// Runs one service until `shutdown` completes, then flushes its events.
pub async fn serve_service(
    options: ServiceOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let kind = options.kind;
    let builder = logfleet_sdk::builder()
        .app_name(kind.app_name())
        .service_type(kind.service_type())
        .environment("demo")
        .service_version(env!("CARGO_PKG_VERSION"))
        .performance_interval(Some(options.performance_interval));
    let builder = match &options.logfleet_url {
        Some(url) => builder.url(url.clone()).stdout(false),
        None => builder.stdout(true),
    };
    // LOGFLEET_* variables still win, as for any service using the SDK.
    let builder = builder.with_env().context("reading LOGFLEET_* settings")?;
    let guard = builder.init().context("starting the logfleet sdk")?;
    let app = match kind {
        ServiceKind::AccessPostgresql => {
            let database = Database::connect(&options.database_url)
                .await
                .with_context(|| format!("opening the database {}", options.database_url))?;
            DataManager::new(database, Faults::new(options.faults)).router()
        }
        ServiceKind::UserService | ServiceKind::Auth => {
            let proxy = Proxy::new(
                Upstream {
                    name: ServiceKind::AccessPostgresql.app_name().into(),
                    base_url: options.data_manager_url.clone(),
                },
                Upstream {
                    name: "recommendation_service".into(),
                    base_url: options.recommendations_url.clone(),
                },
            );
            if kind == ServiceKind::UserService {
                proxy.user_service()
            } else {
                proxy.auth()
            }
        }
    };
    // The traffic generator stands in for the edge proxy, on loopback.
    let loopback = ["127.0.0.0/8", "::1"]
        .into_iter()
        .filter_map(|block| block.parse::<logfleet_sdk::TrustedProxy>().ok());
    let app = app.layer(logfleet_sdk::ApiRequestLayer::new().trusted_proxies(loopback));
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    tracing::info!(address = %options.listen, service = kind.app_name(), "service listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving HTTP")?;
    guard.shutdown(Duration::from_secs(10));
    Ok(())
}
