//! The crate's one error type.
//!
//! Only set-up can fail: once the SDK runs, nothing it does returns an error to the service
//! (a failed delivery is retried, spooled or counted as a drop, never surfaced on the caller's
//! thread), so every variant describes a configuration or start-up problem.

use std::path::PathBuf;

/// Why the SDK could not be set up.
///
/// ```
/// let error = logfleet_sdk::builder().url("ftp://logs").init().unwrap_err();
/// assert_eq!(error.to_string(), "invalid url: ftp://logs: expected an http or https URL");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable holds a value the SDK cannot use.
    #[error("invalid value `{value}` for {name}: {reason}")]
    InvalidEnv {
        /// The variable, e.g. `LOGFLEET_STDOUT`.
        name: &'static str,
        /// What it was set to.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// A configuration value set in code is unusable.
    #[error("invalid {setting}: {reason}")]
    InvalidConfig {
        /// The builder setting, e.g. `url`.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The spool directory could not be created or read.
    #[error("cannot use spool directory {path}: {source}")]
    Spool {
        /// The configured directory.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The background thread, its runtime or its HTTP client could not be started.
    #[error("cannot start the background shipper: {0}")]
    Start(String),
    /// [`Builder::init`](crate::Builder::init) found a global `tracing` subscriber already
    /// installed; compose [`Builder::layer`](crate::Builder::layer) into it instead.
    #[error("a global tracing subscriber is already installed")]
    GlobalSubscriberAlreadySet,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error's message followed by its causes (`insert failed: disk full`): for I/O and HTTP
/// errors the useful part is usually in a cause.
pub(crate) fn error_chain(error: &(dyn std::error::Error + '_)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
