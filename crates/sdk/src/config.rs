//! [`Builder`]: every setting of the SDK in one place, with its default, and the
//! `LOGFLEET_*` environment variables that override them.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use logfleet_model::{DEFAULT_SLOW_QUERY_THRESHOLD_MS, LogCategory};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

use crate::error::{Error, Result};
use crate::handle::{Guard, start};
use crate::layer::{LevelSpec, LogfleetLayer};

// Defaults, in one place.
const DEFAULT_APP_NAME: &str = "unknown_service";
const DEFAULT_SERVICE_TYPE: &str = "service";
const DEFAULT_ENVIRONMENT: &str = "development";
const DEFAULT_SERVICE_VERSION: &str = "unknown";
const DEFAULT_INDEX: &str = "logs";
const DEFAULT_QUEUE_CAPACITY: usize = 8192;
const DEFAULT_BATCH_MAX_EVENTS: usize = 1000;
const DEFAULT_BATCH_MAX_BYTES: usize = 1024 * 1024;
const DEFAULT_BATCH_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_MAX_PENDING_BATCHES: usize = 8;
const DEFAULT_MAX_ATTEMPTS: u32 = 5;
const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_SPOOL_MAX_BYTES: u64 = 128 * 1024 * 1024;
const DEFAULT_PERFORMANCE_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_DROP_REPORT_INTERVAL: Duration = Duration::from_secs(60);

/// The environment variables the SDK reads (the Logfleet server ignores them).
pub(crate) const ENV_APP_NAME: &str = "LOGFLEET_APP_NAME";
pub(crate) const ENV_SERVICE_TYPE: &str = "LOGFLEET_SERVICE_TYPE";
pub(crate) const ENV_ENVIRONMENT: &str = "LOGFLEET_ENVIRONMENT";
pub(crate) const ENV_SERVICE_VERSION: &str = "LOGFLEET_SERVICE_VERSION";
pub(crate) const ENV_URL: &str = "LOGFLEET_URL";
pub(crate) const ENV_STDOUT: &str = "LOGFLEET_STDOUT";
pub(crate) const ENV_SPOOL_DIR: &str = "LOGFLEET_SPOOL_DIR";
pub(crate) const ENV_LEVEL: &str = "LOGFLEET_LEVEL";

/// Configures and starts the SDK.
///
/// Settings made in code are the defaults; [`with_env`](Self::with_env) then lets
/// `LOGFLEET_*` variables override them (call it last so deployment wins over code):
///
/// | variable | setting | example |
/// |---|---|---|
/// | `LOGFLEET_APP_NAME` | [`app_name`](Self::app_name) | `user_service` |
/// | `LOGFLEET_SERVICE_TYPE` | [`service_type`](Self::service_type) | `proxy_service` |
/// | `LOGFLEET_ENVIRONMENT` | [`environment`](Self::environment) | `production` |
/// | `LOGFLEET_SERVICE_VERSION` | [`service_version`](Self::service_version) | `1.4.2` |
/// | `LOGFLEET_URL` | [`url`](Self::url): base URL of a Logfleet or Elasticsearch `_bulk` endpoint | `http://logfleet:9200` |
/// | `LOGFLEET_STDOUT` | [`stdout`](Self::stdout): JSON lines on stdout (`true`/`false`) | `false` |
/// | `LOGFLEET_SPOOL_DIR` | [`spool_dir`](Self::spool_dir) | `/var/spool/user_service` |
/// | `LOGFLEET_LEVEL` | [`level`](Self::level): a level or `EnvFilter` directives | `info,sqlx=warn` |
///
/// Outputs: stdout is on unless a URL or a writer is configured (or `LOGFLEET_STDOUT` says
/// otherwise); stdout, one writer and one `_bulk` endpoint can be combined.
///
/// ```no_run
/// # fn main() -> Result<(), logfleet_sdk::Error> {
/// let guard = logfleet_sdk::builder()
///     .app_name("user_service")
///     .service_type("proxy_service")
///     .service_version(env!("CARGO_PKG_VERSION"))
///     .url("http://127.0.0.1:9200")
///     .with_env()? // LOGFLEET_* variables, when set, win over the lines above
///     .init()?;
/// tracing::info!("started");
/// guard.shutdown(std::time::Duration::from_secs(5));
/// # Ok(())
/// # }
/// ```
pub struct Builder {
    pub(crate) identity: Identity,
    pub(crate) level: LevelSpec,
    pub(crate) stdout: Option<bool>,
    pub(crate) writer: Option<Box<dyn Write + Send>>,
    pub(crate) url: Option<String>,
    pub(crate) index: String,
    pub(crate) spool_dir: Option<PathBuf>,
    pub(crate) spool_max_bytes: u64,
    pub(crate) queue_capacity: usize,
    pub(crate) batch_max_events: usize,
    pub(crate) batch_max_bytes: usize,
    pub(crate) batch_interval: Duration,
    pub(crate) max_pending_batches: usize,
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) performance_interval: Option<Duration>,
    pub(crate) drop_report_interval: Duration,
    pub(crate) slow_query_threshold_ms: f64,
    pub(crate) redaction: bool,
    pub(crate) redact_keys: Vec<String>,
    pub(crate) default_category: LogCategory,
}

/// Who emits the events: the five identity fields every event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) app_name: String,
    pub(crate) service_type: String,
    pub(crate) environment: String,
    pub(crate) host: String,
    pub(crate) service_version: String,
}

impl Identity {
    /// The identity as (field, value) pairs, in schema order.
    pub(crate) fn fields(&self) -> [(&'static str, &str); 5] {
        use logfleet_model::fields;
        [
            (fields::APP_NAME, &self.app_name),
            (fields::SERVICE_TYPE, &self.service_type),
            (fields::ENVIRONMENT, &self.environment),
            (fields::HOST, &self.host),
            (fields::SERVICE_VERSION, &self.service_version),
        ]
    }
}

/// Starts a [`Builder`] with every setting at its default.
///
/// ```
/// let builder = logfleet_sdk::builder()
///     .app_name("access_postgresql")
///     .service_type("data_manager");
/// # drop(builder);
/// ```
pub fn builder() -> Builder {
    Builder::default()
}

/// Sets the SDK up entirely from `LOGFLEET_*` variables and installs it as the global
/// subscriber: `builder().with_env()?.init()`.
///
/// ```no_run
/// # fn main() -> Result<(), logfleet_sdk::Error> {
/// let _guard = logfleet_sdk::init()?; // flushes and stops when dropped
/// # Ok(())
/// # }
/// ```
pub fn init() -> Result<Guard> {
    builder().with_env()?.init()
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            identity: Identity {
                app_name: DEFAULT_APP_NAME.to_owned(),
                service_type: DEFAULT_SERVICE_TYPE.to_owned(),
                environment: DEFAULT_ENVIRONMENT.to_owned(),
                host: detect_host(),
                service_version: DEFAULT_SERVICE_VERSION.to_owned(),
            },
            level: LevelSpec::Level(tracing::level_filters::LevelFilter::INFO),
            stdout: None,
            writer: None,
            url: None,
            index: DEFAULT_INDEX.to_owned(),
            spool_dir: None,
            spool_max_bytes: DEFAULT_SPOOL_MAX_BYTES,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            batch_max_events: DEFAULT_BATCH_MAX_EVENTS,
            batch_max_bytes: DEFAULT_BATCH_MAX_BYTES,
            batch_interval: DEFAULT_BATCH_INTERVAL,
            max_pending_batches: DEFAULT_MAX_PENDING_BATCHES,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            performance_interval: Some(DEFAULT_PERFORMANCE_INTERVAL),
            drop_report_interval: DEFAULT_DROP_REPORT_INTERVAL,
            slow_query_threshold_ms: DEFAULT_SLOW_QUERY_THRESHOLD_MS,
            redaction: true,
            redact_keys: Vec::new(),
            default_category: LogCategory::ApiRequest,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Builder")
            .field("identity", &self.identity)
            .field("level", &self.level)
            .field("stdout", &self.stdout)
            .field("writer", &self.writer.as_ref().map(|_| "<writer>"))
            .field("url", &self.url)
            .field("index", &self.index)
            .field("spool_dir", &self.spool_dir)
            .field("queue_capacity", &self.queue_capacity)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The service's name, the `app_name` of every event (default `unknown_service`).
    pub fn app_name(mut self, app_name: impl Into<String>) -> Self {
        self.identity.app_name = app_name.into();
        self
    }

    /// The service's role, e.g. `data_manager` or `proxy_service` (default `service`).
    pub fn service_type(mut self, service_type: impl Into<String>) -> Self {
        self.identity.service_type = service_type.into();
        self
    }

    /// The deployment environment, e.g. `production` (default `development`).
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.identity.environment = environment.into();
        self
    }

    /// The service's version, e.g. `env!("CARGO_PKG_VERSION")` (default `unknown`).
    pub fn service_version(mut self, service_version: impl Into<String>) -> Self {
        self.identity.service_version = service_version.into();
        self
    }

    /// The `host` field (default: `$HOSTNAME`, else the kernel's host name).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.identity.host = host.into();
        self
    }

    /// The least severe level sent (default `info`): `debug`, `info`, `warning`, `error`,
    /// `critical`, or `EnvFilter` directives such as `info,sqlx=warn`.
    pub fn level(mut self, level: &str) -> Result<Self> {
        self.level = LevelSpec::parse(level).map_err(|reason| Error::InvalidConfig {
            setting: "level",
            reason,
        })?;
        Ok(self)
    }

    /// Writes JSON lines to stdout, for any log shipper (default: on unless a URL or writer
    /// is configured).
    pub fn stdout(mut self, enabled: bool) -> Self {
        self.stdout = Some(enabled);
        self
    }

    /// Writes JSON lines to `writer` as well, from the background thread — a file, a pipe,
    /// or a [`MemoryWriter`](crate::MemoryWriter) in tests.
    pub fn writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.writer = Some(Box::new(writer));
        self
    }

    /// Ships events to `POST {url}/_bulk` of a Logfleet server or an Elasticsearch/OpenSearch
    /// cluster, e.g. `http://127.0.0.1:9200`. Credentials may be given in the URL
    /// (`https://user:password@host:9200`).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The index or data stream named in each `create` action (default `logs`, which
    /// Logfleet routes to `logs-<log_category>-default`).
    pub fn index(mut self, index: impl Into<String>) -> Self {
        self.index = index.into();
        self
    }

    /// Keeps batches that could not be delivered in this directory (fsync'd) and sends them,
    /// oldest first, when the server is back; they also survive a restart.
    pub fn spool_dir(mut self, directory: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(directory.into());
        self
    }

    /// The most the spool may hold (default 128 MiB); beyond it new batches are dropped and
    /// counted.
    pub fn spool_max_bytes(mut self, bytes: u64) -> Self {
        self.spool_max_bytes = bytes;
        self
    }

    /// How many events may wait for the background thread (default 8192); when full, new
    /// events are dropped and counted rather than blocking the caller.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// A `_bulk` request is sent when it holds this many events (default 1000)…
    pub fn batch_max_events(mut self, events: usize) -> Self {
        self.batch_max_events = events;
        self
    }

    /// …or this many bytes of uncompressed JSON (default 1 MiB)…
    pub fn batch_max_bytes(mut self, bytes: usize) -> Self {
        self.batch_max_bytes = bytes;
        self
    }

    /// …or when its oldest event is this old (default 1 s).
    pub fn batch_interval(mut self, interval: Duration) -> Self {
        self.batch_interval = interval;
        self
    }

    /// Sealed batches kept in memory while the server is slow (default 8); beyond that they
    /// go to the spool, or are dropped and counted without one.
    pub fn max_pending_batches(mut self, batches: usize) -> Self {
        self.max_pending_batches = batches;
        self
    }

    /// Delivery attempts of a batch before it is spooled, or dropped without a spool
    /// (default 5). Spooled batches are retried until delivered.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The exponential backoff between attempts: first delay and cap (defaults 100 ms and
    /// 30 s), each delay randomised between half and all of its value.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// The timeout of one `_bulk` request (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How often a `performance` event samples CPU, memory, throughput and latency
    /// percentiles (default 60 s); `None` turns the samples off.
    pub fn performance_interval(mut self, interval: Option<Duration>) -> Self {
        self.performance_interval = interval;
        self
    }

    /// How often dropped events are reported in a `logfleet sdk dropped events` event, when
    /// there were any (default 60 s).
    pub fn drop_report_interval(mut self, interval: Duration) -> Self {
        self.drop_report_interval = interval;
        self
    }

    /// Database operations slower than this are flagged `slow_query` (default 1000 ms).
    pub fn slow_query_threshold(mut self, threshold: Duration) -> Self {
        self.slow_query_threshold_ms = threshold.as_secs_f64() * 1000.0;
        self
    }

    /// Turns redaction of sensitive keys and values on or off (default on).
    pub fn redaction(mut self, enabled: bool) -> Self {
        self.redaction = enabled;
        self
    }

    /// Adds key fragments whose fields are redacted, on top of the built-in ones.
    pub fn redact_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.redact_keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// The category of `tracing` events outside any request that set no `log_category`
    /// (default `api_request`, so they sit with the service's request logs).
    pub fn default_category(mut self, category: LogCategory) -> Self {
        self.default_category = category;
        self
    }

    /// Applies the `LOGFLEET_*` variables that are set, overriding earlier settings.
    pub fn with_env(self) -> Result<Self> {
        self.with_env_from(|name| std::env::var(name).ok())
    }

    /// [`with_env`](Self::with_env) with a custom lookup, so tests need not touch the process
    /// environment.
    pub(crate) fn with_env_from(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let lookup = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if let Some(value) = lookup(ENV_APP_NAME) {
            self.identity.app_name = value;
        }
        if let Some(value) = lookup(ENV_SERVICE_TYPE) {
            self.identity.service_type = value;
        }
        if let Some(value) = lookup(ENV_ENVIRONMENT) {
            self.identity.environment = value;
        }
        if let Some(value) = lookup(ENV_SERVICE_VERSION) {
            self.identity.service_version = value;
        }
        if let Some(value) = lookup(ENV_URL) {
            self.url = Some(value);
        }
        if let Some(value) = lookup(ENV_STDOUT) {
            self.stdout = Some(parse_bool(&value).ok_or_else(|| Error::InvalidEnv {
                name: ENV_STDOUT,
                value: value.clone(),
                reason: "expected true or false".to_owned(),
            })?);
        }
        if let Some(value) = lookup(ENV_SPOOL_DIR) {
            self.spool_dir = Some(PathBuf::from(value));
        }
        if let Some(value) = lookup(ENV_LEVEL) {
            self.level = LevelSpec::parse(&value).map_err(|reason| Error::InvalidEnv {
                name: ENV_LEVEL,
                value: value.clone(),
                reason,
            })?;
        }
        Ok(self)
    }

    /// Starts the background thread and returns the layer to compose into your own
    /// subscriber, already wrapped in the SDK's level filter, with the guard that flushes
    /// and stops it.
    ///
    /// The subscriber must be built on `tracing_subscriber::registry()`, which is where the
    /// SDK keeps request contexts.
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use tracing_subscriber::util::SubscriberInitExt;
    ///
    /// # fn main() -> Result<(), logfleet_sdk::Error> {
    /// let (logfleet, guard) = logfleet_sdk::builder().app_name("auth").layer()?;
    /// tracing_subscriber::registry()
    ///     .with(logfleet)
    ///     .with(tracing_subscriber::fmt::layer()) // human-readable output as well
    ///     .init();
    /// # drop(guard);
    /// # Ok(())
    /// # }
    /// ```
    pub fn layer<S>(self) -> Result<(impl Layer<S> + Send + Sync + 'static, Guard)>
    where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    {
        let filter = self.level.filter::<S>();
        let (layer, guard) = self.start()?;
        Ok((layer.with_filter(filter), guard))
    }

    /// Starts the SDK and installs it as the global `tracing` subscriber; the guard flushes
    /// and stops it when dropped.
    ///
    /// Fails with [`Error::GlobalSubscriberAlreadySet`] when another subscriber was
    /// installed first; use [`layer`](Self::layer) to compose with it instead.
    pub fn init(self) -> Result<Guard> {
        let (layer, guard) = self.layer::<tracing_subscriber::Registry>()?;
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| Error::GlobalSubscriberAlreadySet)?;
        Ok(guard)
    }

    /// Validates the settings and starts the background thread.
    fn start(self) -> Result<(LogfleetLayer, Guard)> {
        if self.queue_capacity == 0 {
            return Err(Error::InvalidConfig {
                setting: "queue_capacity",
                reason: "must be at least 1".to_owned(),
            });
        }
        if self.batch_max_events == 0 || self.batch_max_bytes == 0 {
            return Err(Error::InvalidConfig {
                setting: "batch_max_events",
                reason: "batch limits must be at least 1".to_owned(),
            });
        }
        start(self)
    }

    /// Whether stdout gets JSON lines: as configured, else only when nothing else does.
    pub(crate) fn stdout_enabled(&self) -> bool {
        self.stdout
            .unwrap_or(self.url.is_none() && self.writer.is_none())
    }

    /// `{url}/_bulk`, validated.
    pub(crate) fn bulk_url(&self) -> Result<Option<reqwest::Url>> {
        let Some(base) = &self.url else {
            return Ok(None);
        };
        let invalid = |reason: String| Error::InvalidConfig {
            setting: "url",
            reason,
        };
        let trimmed = base.trim().trim_end_matches('/');
        let full = if trimmed.ends_with("/_bulk") {
            trimmed.to_owned()
        } else {
            format!("{trimmed}/_bulk")
        };
        let url =
            reqwest::Url::parse(&full).map_err(|error| invalid(format!("{base}: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!("{base}: expected an http or https URL")));
        }
        Ok(Some(url))
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `$HOSTNAME`, else the kernel's host name, else `unknown`.
fn detect_host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tracing::level_filters::LevelFilter;

    fn with_vars(builder: Builder, vars: &[(&str, &str)]) -> Result<Builder> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        builder.with_env_from(|name| vars.get(name).cloned())
    }

    #[test]
    fn environment_overrides_code_and_unset_variables_keep_it() {
        let builder = with_vars(
            builder().app_name("from_code").service_type("data_manager"),
            &[
                ("LOGFLEET_APP_NAME", "from_env"),
                ("LOGFLEET_ENVIRONMENT", "production"),
                ("LOGFLEET_SERVICE_VERSION", "2.0.0"),
                ("LOGFLEET_URL", "http://logfleet:9200/"),
                ("LOGFLEET_STDOUT", "yes"),
                ("LOGFLEET_SPOOL_DIR", "/tmp/spool"),
                ("LOGFLEET_LEVEL", "warn"),
            ],
        )
        .unwrap();
        assert_eq!(builder.identity.app_name, "from_env");
        assert_eq!(builder.identity.service_type, "data_manager");
        assert_eq!(builder.identity.environment, "production");
        assert_eq!(builder.identity.service_version, "2.0.0");
        assert_eq!(
            builder.bulk_url().unwrap().unwrap().as_str(),
            "http://logfleet:9200/_bulk"
        );
        assert!(builder.stdout_enabled());
        assert_eq!(builder.spool_dir, Some(PathBuf::from("/tmp/spool")));
        assert_eq!(builder.level, LevelSpec::Level(LevelFilter::WARN));
    }

    #[test]
    fn invalid_variables_are_errors_naming_the_variable() {
        let error = with_vars(builder(), &[("LOGFLEET_STDOUT", "maybe")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid value `maybe` for LOGFLEET_STDOUT: expected true or false"
        );
        let error = with_vars(builder(), &[("LOGFLEET_LEVEL", "loud")]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid value `loud` for LOGFLEET_LEVEL")
        );
    }

    #[test]
    fn stdout_defaults_to_on_only_without_other_outputs() {
        assert!(builder().stdout_enabled());
        assert!(!builder().url("http://x:9200").stdout_enabled());
        assert!(!builder().writer(Vec::new()).stdout_enabled());
        assert!(builder().url("http://x:9200").stdout(true).stdout_enabled());
    }

    #[test]
    fn bulk_url_accepts_a_base_or_the_endpoint_and_rejects_others() {
        let url = |text: &str| builder().url(text).bulk_url();
        assert_eq!(
            url("http://h:9200/_bulk").unwrap().unwrap().as_str(),
            "http://h:9200/_bulk"
        );
        assert_eq!(
            url("https://h/prefix").unwrap().unwrap().as_str(),
            "https://h/prefix/_bulk"
        );
        assert!(url("ftp://h").is_err());
        assert!(url("not a url").is_err());
        assert!(builder().bulk_url().unwrap().is_none());
    }

    #[test]
    fn zero_capacity_is_rejected() {
        let error = builder().queue_capacity(0).start().unwrap_err();
        assert!(matches!(
            error,
            Error::InvalidConfig {
                setting: "queue_capacity",
                ..
            }
        ));
    }
}
