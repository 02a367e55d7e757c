//! The inputs that do not speak HTTP — syslog over UDP and TCP, and files tailed from disk —
//! each off until configured, each feeding the one way in ([`logfleet_ingest::Ingest`]):
//! the same pipelines, routing, failure store and write-ahead log as `_bulk`. (OTLP, which
//! is HTTP, is served by the API, on its own port too.)

pub mod batcher;
pub mod file;
pub mod syslog;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use logfleet_ingest::Ingest;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

use batcher::Batcher;

/// `[inputs]` of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputsConfig {
    /// `[inputs.otlp]`: OTLP/HTTP logs on a port of their own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp: Option<OtlpConfig>,
    /// `[inputs.syslog]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syslog: Option<SyslogConfig>,
    /// `[[inputs.file]]`, one per set of files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file: Vec<FileConfig>,
}

/// `[inputs.otlp]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// Where `POST /v1/logs` is served (`127.0.0.1:4318`, OTLP/HTTP's port).
    pub listen: SocketAddr,
}

/// `[inputs.syslog]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogConfig {
    /// TCP address (octet-counted or newline-framed messages), e.g. `127.0.0.1:5514`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<SocketAddr>,
    /// UDP address, one message per datagram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<SocketAddr>,
    /// TLS address (RFC 5425; 6514 by convention), with `tls_certificate` and `tls_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<SocketAddr>,
    /// The server's certificate chain, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<std::path::PathBuf>,
    /// Its private key, PEM (PKCS #8, PKCS #1 or SEC1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<std::path::PathBuf>,
    /// The data stream messages go to.
    pub index: String,
    /// The zone of RFC 3164 timestamps, which carry none: an IANA name, or `Local`.
    pub timezone: String,
    /// Messages are cut at this size (`64kb`).
    pub max_message_size: String,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            tcp: None,
            udp: None,
            tls: None,
            tls_certificate: None,
            tls_key: None,
            index: "logs-syslog-default".to_owned(),
            timezone: "UTC".to_owned(),
            max_message_size: "64kb".to_owned(),
        }
    }
}

/// `[[inputs.file]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Glob patterns of the files to read (`/var/log/app/*.log`).
    pub paths: Vec<String>,
    /// Glob patterns of files to leave out (`*.gz`).
    pub exclude: Vec<String>,
    /// `lines` (each line is a message) or `ndjson` (each line is an event).
    pub format: String,
    /// The index or data stream events go to; `logs` routes them by `log_category`.
    pub index: String,
    /// Joining lines into events (stack traces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiline: Option<MultilineConfig>,
    /// Lines are cut at this size (`1mb`).
    pub max_line_size: String,
    /// How often the patterns are expanded and files checked for growth (`1s`).
    pub scan_interval: String,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            paths: Vec::new(),
            exclude: Vec::new(),
            format: "lines".to_owned(),
            index: "logs".to_owned(),
            multiline: None,
            max_line_size: "1mb".to_owned(),
            scan_interval: "1s".to_owned(),
        }
    }
}

/// `[inputs.file.multiline]`, as Filebeat's `multiline` with `type: pattern`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MultilineConfig {
    /// A regular expression matched against each line.
    pub pattern: String,
    /// Lines that do *not* match continue an event.
    pub negate: bool,
    /// `after`: continuing lines join the line before; `before`: the line after.
    #[serde(rename = "match")]
    pub match_: String,
    /// Lines beyond this many in one event are dropped.
    pub max_lines: usize,
    /// An event is ended when its file has not grown for this long (`5s`).
    pub timeout: String,
}

impl Default for MultilineConfig {
    fn default() -> Self {
        MultilineConfig {
            pattern: String::new(),
            negate: false,
            match_: "after".to_owned(),
            max_lines: 500,
            timeout: "5s".to_owned(),
        }
    }
}

/// A configuration the inputs cannot start with.
#[derive(Debug, Error)]
pub enum InputError {
    /// A setting is invalid.
    #[error("{0}")]
    Invalid(String),
    /// A listener could not be bound.
    #[error("binding {what} {address}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Where.
        address: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
}

/// The running inputs.
#[derive(Debug)]
pub struct Inputs {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl InputsConfig {
    /// Checks every setting without starting anything.
    pub fn validate(&self) -> Result<(), InputError> {
        if let Some(syslog) = &self.syslog {
            syslog_settings(syslog)?;
            tls_settings(syslog)?;
        }
        for (position, file) in self.file.iter().enumerate() {
            file_input(file, position, Path::new("."))?;
        }
        Ok(())
    }

    /// Starts the configured syslog listeners and file inputs; file offsets live under
    /// `data_dir/inputs`.
    pub async fn start(&self, ingest: &Ingest, data_dir: &Path) -> Result<Inputs, InputError> {
        let (shutdown, receiver) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some(config) = &self.syslog {
            let (options, max_message_size) = syslog_settings(config)?;
            let acceptor = tls_settings(config)?;
            let (batcher, writer) = Batcher::spawn(ingest.clone(), "syslog");
            let syslog = syslog::Syslog::new(&config.index, options, max_message_size, batcher);
            if let Some(address) = config.udp {
                let socket = tokio::net::UdpSocket::bind(address)
                    .await
                    .map_err(|source| InputError::Bind {
                        what: "syslog UDP",
                        address,
                        source,
                    })?;
                info!(address = %socket.local_addr().unwrap_or(address), "syslog UDP");
                tasks.push(tokio::spawn(syslog::serve_udp(
                    socket,
                    syslog.clone(),
                    receiver.clone(),
                )));
            }
            let streams = [
                (config.tcp, None, "syslog TCP"),
                (config.tls, acceptor, "syslog TLS"),
            ];
            for (address, tls, what) in streams {
                let Some(address) = address else { continue };
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|source| InputError::Bind {
                        what,
                        address,
                        source,
                    })?;
                info!(address = %listener.local_addr().unwrap_or(address), "{what}");
                tasks.push(tokio::spawn(syslog::serve_stream(
                    listener,
                    tls,
                    syslog.clone(),
                    receiver.clone(),
                )));
            }
            drop(syslog);
            tasks.push(writer);
        }
        for (position, config) in self.file.iter().enumerate() {
            let input = file_input(config, position, data_dir)?;
            tasks.push(tokio::spawn(file::run(
                input,
                ingest.clone(),
                receiver.clone(),
            )));
        }
        Ok(Inputs { shutdown, tasks })
    }
}

impl Inputs {
    /// Stops reading, writes what was read, and waits (at most `deadline`) for the inputs to
    /// finish, so that file offsets are saved before the store closes.
    pub async fn stop(self, deadline: Duration) {
        let _ = self.shutdown.send(true);
        let all = futures_join(self.tasks);
        if tokio::time::timeout(deadline, all).await.is_err() {
            tracing::warn!(
                "inputs did not finish in time; unsent events are read again at the next start"
            );
        }
    }
}

async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

fn syslog_settings(
    config: &SyslogConfig,
) -> Result<(syslog::parse::ParseOptions, usize), InputError> {
    let timezone = match config.timezone.as_str() {
        "Local" | "local" => jiff::tz::TimeZone::system(),
        name => jiff::tz::TimeZone::get(name).map_err(|error| {
            InputError::Invalid(format!("inputs.syslog.timezone [{name}]: {error}"))
        })?,
    };
    let max_message_size = byte_size(&config.max_message_size, "inputs.syslog.max_message_size")?;
    if config.tcp.is_none() && config.udp.is_none() && config.tls.is_none() {
        return Err(InputError::Invalid(
            "[inputs.syslog] needs tcp, udp or tls (an address such as \"127.0.0.1:5514\")".into(),
        ));
    }
    Ok((syslog::parse::ParseOptions { timezone }, max_message_size))
}

/// The TLS listener's identity, when `tls` is set.
fn tls_settings(config: &SyslogConfig) -> Result<Option<tokio_rustls::TlsAcceptor>, InputError> {
    if config.tls.is_none() {
        return Ok(None);
    }
    let (Some(certificate), Some(key)) = (&config.tls_certificate, &config.tls_key) else {
        return Err(InputError::Invalid(
            "inputs.syslog.tls needs inputs.syslog.tls_certificate and inputs.syslog.tls_key (PEM files)"
                .into(),
        ));
    };
    syslog::tls_acceptor(certificate, key)
        .map(Some)
        .map_err(|error| InputError::Invalid(format!("inputs.syslog.tls: {error}")))
}

fn file_input(
    config: &FileConfig,
    position: usize,
    data_dir: &Path,
) -> Result<file::FileInput, InputError> {
    let key = |name: &str| format!("inputs.file[{position}].{name}");
    if config.paths.is_empty() {
        return Err(InputError::Invalid(format!(
            "{} is empty: name the files to read",
            key("paths")
        )));
    }
    for pattern in &config.paths {
        glob::Pattern::new(pattern).map_err(|error| {
            InputError::Invalid(format!("{} [{pattern}]: {error}", key("paths")))
        })?;
    }
    let exclude = config
        .exclude
        .iter()
        .map(|pattern| {
            glob::Pattern::new(pattern).map_err(|error| {
                InputError::Invalid(format!("{} [{pattern}]: {error}", key("exclude")))
            })
        })
        .collect::<Result<_, _>>()?;
    let format = match config.format.as_str() {
        "lines" => file::Format::Lines,
        "ndjson" => file::Format::Ndjson,
        other => {
            return Err(InputError::Invalid(format!(
                "{} must be \"lines\" or \"ndjson\", found {other:?}",
                key("format")
            )));
        }
    };
    let (multiline, multiline_timeout) = match &config.multiline {
        None => (None, Duration::from_secs(5)),
        Some(multiline) => {
            let pattern = regex::Regex::new(&multiline.pattern).map_err(|error| {
                InputError::Invalid(format!("{}: {error}", key("multiline.pattern")))
            })?;
            let match_ = match multiline.match_.as_str() {
                "after" => file::multiline::Match::After,
                "before" => file::multiline::Match::Before,
                other => {
                    return Err(InputError::Invalid(format!(
                        "{} must be \"after\" or \"before\", found {other:?}",
                        key("multiline.match")
                    )));
                }
            };
            (
                Some(file::multiline::Multiline {
                    pattern,
                    negate: multiline.negate,
                    match_,
                    max_lines: multiline.max_lines.max(1),
                }),
                duration(&multiline.timeout, &key("multiline.timeout"))?,
            )
        }
    };
    Ok(file::FileInput {
        name: format!("file-{position}"),
        paths: config.paths.clone(),
        exclude,
        format,
        index: config.index.clone(),
        multiline,
        multiline_timeout,
        max_line_size: byte_size(&config.max_line_size, &key("max_line_size"))?,
        scan_interval: duration(&config.scan_interval, &key("scan_interval"))?,
        registry: data_dir
            .join("inputs")
            .join(format!("file-{position}.json")),
    })
}

fn byte_size(text: &str, key: &str) -> Result<usize, InputError> {
    logfleet_store::parse_byte_size_value(text)
        .map(|bytes| bytes as usize)
        .map_err(|error| InputError::Invalid(format!("{key} [{text}]: {error}")))
        .and_then(|bytes| {
            if bytes == 0 {
                Err(InputError::Invalid(format!("{key} must be more than 0")))
            } else {
                Ok(bytes)
            }
        })
}

fn duration(text: &str, key: &str) -> Result<Duration, InputError> {
    logfleet_store::parse_time_value(text)
        .map_err(|error| InputError::Invalid(format!("{key} [{text}]: {error}")))
}
