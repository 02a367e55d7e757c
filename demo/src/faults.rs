//! Fault injection for the demo: a request may ask for a server error or a slow query, so
//! dashboards show errors only where the traffic generator injected them. Off unless the
//! service is started with it enabled (the quickstart does); a production service would never
//! honour such headers.

use std::time::Duration;

use axum::http::HeaderMap;

/// Asks the data manager to fail the request with a 500.
pub const FAULT_HEADER: &str = "x-demo-fault";
/// Asks the data manager to spend this many milliseconds inside the request's first query.
pub const SLOW_QUERY_HEADER: &str = "x-demo-slow-query-ms";
/// Longest slow query a request may ask for.
const MAX_SLOW_QUERY: Duration = Duration::from_secs(5);

/// The error an injected fault raises.
#[derive(Debug, thiserror::Error)]
#[error("injected fault: {0}")]
pub struct InjectedFault(String);

/// Whether fault-injection headers are honoured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    enabled: bool,
}

impl Faults {
    /// Honours the headers when `enabled`.
    pub fn new(enabled: bool) -> Faults {
        Faults { enabled }
    }

    /// Fails when the request asks for a fault.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), InjectedFault> {
        if !self.enabled {
            return Ok(());
        }
        match headers
            .get(FAULT_HEADER)
            .and_then(|value| value.to_str().ok())
        {
            Some(kind) => Err(InjectedFault(kind.chars().take(64).collect())),
            None => Ok(()),
        }
    }

    /// How long the request's first query should stall, when it asks for a slow one.
    pub fn slow_query(&self, headers: &HeaderMap) -> Option<Duration> {
        if !self.enabled {
            return None;
        }
        let millis: u64 = headers
            .get(SLOW_QUERY_HEADER)?
            .to_str()
            .ok()?
            .parse()
            .ok()?;
        Some(Duration::from_millis(millis).min(MAX_SLOW_QUERY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_ignored_unless_enabled() {
        let mut headers = HeaderMap::new();
        headers.insert(FAULT_HEADER, "database_down".parse().unwrap());
        headers.insert(SLOW_QUERY_HEADER, "1200".parse().unwrap());
        assert!(Faults::new(false).check(&headers).is_ok());
        assert_eq!(Faults::new(false).slow_query(&headers), None);
        assert!(Faults::new(true).check(&headers).is_err());
        assert_eq!(
            Faults::new(true).slow_query(&headers),
            Some(Duration::from_millis(1200))
        );
    }
}
