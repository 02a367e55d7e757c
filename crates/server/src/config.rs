//! Configuration: one TOML file, every key overridable by a `LOGFLEET_<KEY>` environment
//! variable (`LOGFLEET_RETENTION__CHECK_INTERVAL` for nested keys) and by command-line flags.
//! Unknown keys in the file are errors that name the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use logfleet_store::{FloodStage, RetentionRule, StoreConfig, parse_time_value};
use serde::{Deserialize, Serialize};

/// Keys the environment may set; other `LOGFLEET_*` variables (the SDKs use some) are left
/// alone rather than rejected.
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "cluster_name",
    "node_name",
    "max_content_length",
    "refresh_interval",
    "search_idle_after",
    "writer_memory",
    "wal_segment_size",
    "docstore_compression_level",
    "log_level",
    "log_format",
    "ui_dir",
    "retention.check_interval",
    "disk.threshold_enabled",
    "disk.flood_stage",
    "disk.flood_stage_min_free",
    "ingest.default_logs_pipeline",
    "ingest.geoip_directory",
    "ingest.failure_store",
    "inputs.otlp.listen",
    "inputs.syslog.tcp",
    "inputs.syslog.udp",
    "inputs.syslog.tls",
    "inputs.syslog.tls_certificate",
    "inputs.syslog.tls_key",
    "inputs.syslog.index",
    "inputs.syslog.timezone",
    "inputs.syslog.max_message_size",
    "inputs.file",
    "alerts.prebuilt",
];

/// The whole configuration, with defaults in [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on. Loopback by default: exposing the API is a deliberate choice.
    pub listen: SocketAddr,
    /// Where data lives; created on first run.
    pub data_dir: PathBuf,
    /// `cluster_name` reported by `GET /`.
    pub cluster_name: String,
    /// Node name reported by `GET /`.
    pub node_name: String,
    /// Largest request body after decompression (`100mb`).
    pub max_content_length: String,
    /// How often writes become searchable (`1s`, or `-1` to refresh only on request).
    pub refresh_interval: String,
    /// Elasticsearch's `index.search.idle.after` (`30s`): periodic refreshes pass over
    /// partitions no search has reached for this long, and the next search refreshes them
    /// first. `-1` refreshes every partition at every interval.
    pub search_idle_after: String,
    /// Memory budget of each partition writer (`48mb`).
    pub writer_memory: String,
    /// Size at which a write-ahead log segment is rolled (`64mb`).
    pub wal_segment_size: String,
    /// zstd level of the document store (1–22).
    pub docstore_compression_level: i32,
    /// `error`, `warn`, `info`, `debug` or `trace` (or a `tracing` filter directive).
    pub log_level: String,
    /// `text` or `json`.
    pub log_format: String,
    /// Serve the web UI from this directory (a build of `ui/`, such as `ui/dist`) instead of
    /// the copy built into the binary: for working on the UI without rebuilding the binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_dir: Option<PathBuf>,
    /// Retention of data streams.
    pub retention: RetentionConfig,
    /// When writes stop for lack of disk space.
    pub disk: DiskConfig,
    /// Ingest pipelines.
    pub ingest: IngestConfig,
    /// Ways in besides the HTTP API's: OTLP on its own port, syslog, files. Each is off
    /// until configured.
    pub inputs: logfleet_inputs::InputsConfig,
    /// Alert rules defined in the file.
    pub alerts: AlertsConfig,
}

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Whether a data directory gets the prebuilt SLA rules on its first start.
    pub prebuilt: bool,
    /// `[[alerts.rules]]`: each an `id` and a rule in `/_logfleet/alerts/rules`'s shape,
    /// stored at every start as `PUT /_logfleet/alerts/rules/{id}` would.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<serde_json::Value>,
    /// `[alerts.smtp]`: how email notifications are sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<logfleet_alerts::notify::SmtpConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            prebuilt: true,
            rules: Vec::new(),
            smtp: None,
        }
    }
}

/// `[ingest]`: the default pipeline of `logs-*` data streams, and pipelines defined here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// The pipeline `logs` and `logs-*` data streams run when no index template of yours
    /// matches them: the built-in `logs@microservices`, another pipeline's id, or `_none`.
    pub default_logs_pipeline: String,
    /// Where the `geoip` processor finds its databases (`GeoLite2-City.mmdb`, or DB-IP's
    /// files as `logfleet setup geoip` fetches them) [default: ~/.cache/logfleet/geoip].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geoip_directory: Option<PathBuf>,
    /// Data streams whose failure store is on, as Elasticsearch's
    /// `data_streams.failure_store.enabled` cluster setting: comma-separated name patterns
    /// (`logs-*`; empty for none). A document that a processor or the mapping rejects on its
    /// way to one of them is kept, with its error, in `<stream>::failures` instead of being
    /// refused; an index template's `data_stream_options.failure_store.enabled` overrides
    /// this for the streams it creates.
    pub failure_store: String,
    /// Pipelines by id, in Elasticsearch's shape written as TOML
    /// (`[ingest.pipelines.web] processors = [{ lowercase = { field = "method" } }]`),
    /// stored at every start as `PUT /_ingest/pipeline/{id}` would.
    pub pipelines: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            default_logs_pipeline: logfleet_pipeline::MICROSERVICES_PIPELINE.to_owned(),
            geoip_directory: None,
            failure_store: "logs-*".to_owned(),
            pipelines: std::collections::BTreeMap::new(),
        }
    }
}

/// `[disk]`: Elasticsearch's flood-stage watermark. Writes are refused with `429
/// cluster_block_exception` (which shippers retry) once the file system holding the data
/// directory is fuller than `flood_stage` or has less than `flood_stage_min_free` free,
/// whichever leaves more free; searches, retention and index deletion go on, and writes
/// resume by themselves once twice that space is free again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskConfig {
    /// `false` turns the flood stage off (a full disk still refuses writes).
    pub threshold_enabled: bool,
    /// The share of the file system in use at which writes stop (`95%`).
    pub flood_stage: String,
    /// The free space below which writes stop, however large the file system (`100mb`).
    pub flood_stage_min_free: String,
}

impl Default for DiskConfig {
    fn default() -> Self {
        DiskConfig {
            threshold_enabled: true,
            flood_stage: "95%".to_owned(),
            flood_stage_min_free: "100mb".to_owned(),
        }
    }
}

impl DiskConfig {
    fn flood_stage(&self) -> anyhow::Result<FloodStage> {
        if !self.threshold_enabled {
            return Ok(FloodStage::disabled());
        }
        let percent = self
            .flood_stage
            .trim()
            .strip_suffix('%')
            .and_then(|number| number.trim().parse::<f64>().ok())
            .filter(|percent| (0.0..=100.0).contains(percent))
            .with_context(|| {
                format!(
                    "invalid disk.flood_stage {:?}: a share of the disk such as \"95%\"",
                    self.flood_stage
                )
            })?;
        let min_free_bytes = parse_byte_size(&self.flood_stage_min_free)
            .context("invalid disk.flood_stage_min_free")? as u64;
        Ok(FloodStage {
            max_used_ratio: percent / 100.0,
            min_free_bytes,
        })
    }
}

/// `[retention]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// How often expired partitions are dropped.
    pub check_interval: String,
    /// Rules, first match wins; a data stream's own lifecycle setting takes precedence.
    pub rules: Vec<RetentionRuleConfig>,
}

/// `[[retention.rules]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRuleConfig {
    /// Data stream name pattern, `*` wildcards (`logs-debug-*`).
    pub pattern: String,
    /// How long to keep data (`7d`).
    pub max_age: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 9200)),
            data_dir: PathBuf::from("data"),
            cluster_name: "logfleet".to_owned(),
            node_name: "logfleet".to_owned(),
            max_content_length: "100mb".to_owned(),
            refresh_interval: "1s".to_owned(),
            search_idle_after: "30s".to_owned(),
            writer_memory: "48mb".to_owned(),
            wal_segment_size: "64mb".to_owned(),
            docstore_compression_level: 3,
            log_level: "info".to_owned(),
            log_format: "text".to_owned(),
            ui_dir: None,
            retention: RetentionConfig::default(),
            disk: DiskConfig::default(),
            ingest: IngestConfig::default(),
            inputs: logfleet_inputs::InputsConfig::default(),
            alerts: AlertsConfig::default(),
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            check_interval: "1m".to_owned(),
            rules: Vec::new(),
        }
    }
}

/// Values given on the command line, which win over the file and the environment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_idle_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

impl Config {
    /// Loads defaults, then the file (if any), then `LOGFLEET_*`, then `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        let environment = Env::prefixed("LOGFLEET_")
            .split("__")
            // The filter sees the name as written (`WRITER_MEMORY`); figment lowercases later.
            .filter(|key| {
                ENV_KEYS
                    .iter()
                    .any(|known| key.as_str().eq_ignore_ascii_case(known))
            });
        figment = figment
            .merge(environment)
            .merge(Serialized::defaults(overrides));
        let config: Config = figment
            .extract()
            .map_err(|error| anyhow::anyhow!(describe(error)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.store_config()?;
        self.max_content_length_bytes()?;
        self.inputs.validate()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "log_format must be \"text\" or \"json\", found {:?}",
                self.log_format
            );
        }
        Ok(())
    }

    /// The directory of GeoIP databases.
    pub fn geoip_directory(&self) -> PathBuf {
        self.ingest
            .geoip_directory
            .clone()
            .unwrap_or_else(crate::geoip::default_directory)
    }

    /// `max_content_length` in bytes.
    pub fn max_content_length_bytes(&self) -> anyhow::Result<usize> {
        parse_byte_size(&self.max_content_length).context("invalid max_content_length")
    }

    /// The store's settings.
    pub fn store_config(&self) -> anyhow::Result<StoreConfig> {
        let mut store = StoreConfig::new(&self.data_dir);
        store.refresh_interval = match self.refresh_interval.trim() {
            "-1" => None,
            interval => Some(parse_duration(interval).context("invalid refresh_interval")?),
        };
        store.search_idle_after = match self.search_idle_after.trim() {
            "-1" => None,
            after => Some(parse_duration(after).context("invalid search_idle_after")?),
        };
        store.writer_memory_bytes =
            parse_byte_size(&self.writer_memory).context("invalid writer_memory")?;
        if store.writer_memory_bytes < 15_000_000 {
            bail!(
                "writer_memory must be at least 15mb, found {}",
                self.writer_memory
            );
        }
        store.wal_segment_bytes =
            parse_byte_size(&self.wal_segment_size).context("invalid wal_segment_size")? as u64;
        if !(1..=22).contains(&self.docstore_compression_level) {
            bail!(
                "docstore_compression_level must be between 1 and 22, found {}",
                self.docstore_compression_level
            );
        }
        store.docstore_compression_level = self.docstore_compression_level;
        store.default_logs_pipeline = match self.ingest.default_logs_pipeline.trim() {
            "" | "_none" => None,
            name => Some(name.to_owned()),
        };
        store.failure_store = self
            .ingest
            .failure_store
            .split(',')
            .map(str::trim)
            .filter(|pattern| !pattern.is_empty())
            .map(str::to_owned)
            .collect();
        store.retention_check_interval = parse_duration(&self.retention.check_interval)
            .context("invalid retention.check_interval")?;
        store.retention_rules = self
            .retention
            .rules
            .iter()
            .map(|rule| {
                let max_age = parse_duration(&rule.max_age).with_context(|| {
                    format!("invalid max_age for retention rule {:?}", rule.pattern)
                })?;
                Ok(RetentionRule {
                    pattern: rule.pattern.clone(),
                    max_age,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        store.flood_stage = self.disk.flood_stage()?;
        Ok(store)
    }
}

fn describe(error: figment::Error) -> String {
    let messages: Vec<String> = error
        .into_iter()
        .map(|error| {
            let location = error
                .metadata
                .as_ref()
                .map(|metadata| metadata.name.to_string());
            match location {
                Some(location) => format!("{error} (in {location})"),
                None => error.to_string(),
            }
        })
        .collect();
    format!("invalid configuration: {}", messages.join("; "))
}

fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    parse_time_value(text).map_err(|reason| anyhow::anyhow!(reason))
}

/// Parses `100mb`, `512kb`, `1gb`, `4096b` or a plain number of bytes.
pub fn parse_byte_size(text: &str) -> anyhow::Result<usize> {
    let bytes =
        logfleet_store::parse_byte_size_value(text).map_err(|reason| anyhow::anyhow!(reason))?;
    usize::try_from(bytes).with_context(|| format!("{text:?} is too large a size"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_config(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn defaults_are_safe() {
        let config = Config::default();
        assert!(
            config.listen.ip().is_loopback(),
            "never listen publicly by default"
        );
        assert_eq!(config.listen.port(), 9200);
        assert_eq!(
            config.max_content_length_bytes().unwrap(),
            100 * 1024 * 1024
        );
        assert_eq!(
            config.store_config().unwrap().refresh_interval,
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            config.store_config().unwrap().search_idle_after,
            Some(Duration::from_secs(30)),
            "Elasticsearch's index.search.idle.after"
        );
    }

    #[test]
    fn search_idle_after_is_a_duration_or_off() {
        let file = write_config("search_idle_after = \"2m\"\n");
        let store = Config::load(Some(file.path()), &Overrides::default())
            .unwrap()
            .store_config()
            .unwrap();
        assert_eq!(store.search_idle_after, Some(Duration::from_secs(120)));
        let overrides = Overrides {
            search_idle_after: Some("-1".to_owned()),
            ..Overrides::default()
        };
        let store = Config::load(Some(file.path()), &overrides)
            .unwrap()
            .store_config()
            .unwrap();
        assert_eq!(store.search_idle_after, None);
        let file = write_config("search_idle_after = \"later\"\n");
        let error = format!(
            "{:#}",
            Config::load(Some(file.path()), &Overrides::default()).unwrap_err()
        );
        assert!(error.contains("search_idle_after"), "{error}");
    }

    #[test]
    fn a_misspelt_key_is_rejected_by_name() {
        let file = write_config("lisen = \"127.0.0.1:9201\"\n");
        let error = Config::load(Some(file.path()), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("lisen"), "{error}");
        let file = write_config("[retention]\nrulez = []\n");
        let error = Config::load(Some(file.path()), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("rulez"), "{error}");
    }

    #[test]
    fn file_then_flags() {
        let file = write_config(
            "listen = \"127.0.0.1:9300\"\nrefresh_interval = \"250ms\"\n[[retention.rules]]\npattern = \"logs-debug-*\"\nmax_age = \"1d\"\n",
        );
        let config = Config::load(Some(file.path()), &Overrides::default()).unwrap();
        assert_eq!(config.listen.port(), 9300);
        let store = config.store_config().unwrap();
        assert_eq!(store.refresh_interval, Some(Duration::from_millis(250)));
        assert_eq!(
            store.retention_rules[0].max_age,
            Duration::from_secs(86_400)
        );
        let overrides = Overrides {
            listen: Some("127.0.0.1:9400".parse().unwrap()),
            ..Overrides::default()
        };
        assert_eq!(
            Config::load(Some(file.path()), &overrides)
                .unwrap()
                .listen
                .port(),
            9400
        );
    }

    #[test]
    fn bad_values_are_explained() {
        let file = write_config("refresh_interval = \"soon\"\n");
        let error = format!(
            "{:#}",
            Config::load(Some(file.path()), &Overrides::default()).unwrap_err()
        );
        assert!(error.contains("refresh_interval"), "{error}");
        let file = write_config("[[retention.rules]]\npattern = \"x\"\nmax_age = \"forever\"\n");
        assert!(Config::load(Some(file.path()), &Overrides::default()).is_err());
        assert!(Config::load(Some(Path::new("/nonexistent.toml")), &Overrides::default()).is_err());
    }

    #[test]
    fn the_flood_stage_is_a_share_and_a_minimum_or_off() {
        let store = Config::default().store_config().unwrap();
        assert_eq!(store.flood_stage, FloodStage::default());
        let file = write_config("[disk]\nflood_stage = \"90%\"\nflood_stage_min_free = \"1gb\"\n");
        let store = Config::load(Some(file.path()), &Overrides::default())
            .unwrap()
            .store_config()
            .unwrap();
        assert_eq!(store.flood_stage.max_used_ratio, 0.9);
        assert_eq!(store.flood_stage.min_free_bytes, 1 << 30);
        let file = write_config("[disk]\nthreshold_enabled = false\n");
        let store = Config::load(Some(file.path()), &Overrides::default())
            .unwrap()
            .store_config()
            .unwrap();
        assert_eq!(store.flood_stage, FloodStage::disabled());
        let file = write_config("[disk]\nflood_stage = \"0.95\"\n");
        let error = format!(
            "{:#}",
            Config::load(Some(file.path()), &Overrides::default()).unwrap_err()
        );
        assert!(error.contains("disk.flood_stage"), "{error}");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("100mb").unwrap(), 104_857_600);
        assert_eq!(parse_byte_size("1.5kb").unwrap(), 1536);
        assert_eq!(parse_byte_size("42").unwrap(), 42);
        assert!(parse_byte_size("lots").is_err());
        assert!(parse_byte_size("5zb").is_err());
        assert_eq!(parse_byte_size("1tb").unwrap(), 1 << 40);
    }
}
