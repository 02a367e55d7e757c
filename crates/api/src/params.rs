//! URL parameters. Elasticsearch rejects parameters an endpoint does not know, which catches
//! typos like `?refesh=true`; so does Logfleet.

use std::collections::HashMap;

use crate::error::ApiError;

/// Parameters every endpoint accepts.
const COMMON: &[&str] = &[
    "pretty",
    "human",
    "error_trace",
    "filter_path",
    "master_timeout",
    "timeout",
];

/// Decoded query string.
pub type Params = HashMap<String, String>;

/// Fails on a parameter outside `allowed` and the common ones.
pub fn check(params: &Params, path: &str, allowed: &[&str]) -> Result<(), ApiError> {
    let mut unknown: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|name| !allowed.contains(name) && !COMMON.contains(name))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    let noun = if unknown.len() == 1 {
        "parameter"
    } else {
        "parameters"
    };
    Err(ApiError::illegal_argument(format!(
        "request [{path}] contains unrecognized {noun}: [{}]",
        unknown.join("], [")
    )))
}

/// A boolean parameter: present without value, `true` or `false`.
pub fn flag(params: &Params, name: &str) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("") | Some("true") => Ok(true),
        Some(other) => Err(ApiError::illegal_argument(format!(
            "Failed to parse value [{other}] as only [true] or [false] are allowed."
        ))),
    }
}

/// `?refresh`: `true`/empty, `false`, or `wait_for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Do not wait.
    No,
    /// Refresh now.
    Immediate,
    /// Wait for the next periodic refresh.
    WaitFor,
}

/// Parses `?refresh`.
pub fn refresh(params: &Params) -> Result<Refresh, ApiError> {
    match params.get("refresh").map(String::as_str) {
        None | Some("false") => Ok(Refresh::No),
        Some("") | Some("true") => Ok(Refresh::Immediate),
        Some("wait_for") => Ok(Refresh::WaitFor),
        Some(other) => Err(ApiError::illegal_argument(format!(
            "Unknown value for refresh: [{other}]."
        ))),
    }
}
