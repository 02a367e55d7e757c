//! Fault injection for the demo: a request may ask for a server error, a failing database
//! (a pool timeout, a refused or a lost connection, raised inside the request's first query
//! so that the SDK logs it as a `database` event with `db_error`) or a slow query, so
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

/// The database failures a request may ask for (`x-demo-fault: database_…`), with the error
/// a driver would report.
pub const DATABASE_FAULTS: [(&str, &str); 3] = [
    (
        "database_pool_timeout",
        "pool timed out while waiting for an open connection",
    ),
    (
        "database_connection_refused",
        "error communicating with database: Connection refused (os error 111)",
    ),
    (
        "database_connection_lost",
        "error communicating with database: Connection reset by peer (os error 104)",
    ),
];

/// What a request asks its first query to suffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryFault {
    /// Time to spend inside the query.
    pub slow: Option<Duration>,
    /// An error to fail it with.
    pub error: Option<&'static str>,
}

impl QueryFault {
    /// Suffers the fault inside the query's timing guard: stalls, then fails if asked to.
    pub async fn apply(self) -> Result<(), &'static str> {
        if let Some(delay) = self.slow {
            tokio::time::sleep(delay).await;
        }
        match self.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

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

    /// Fails when the request asks for a fault other than a database one (those are raised
    /// by [`Faults::query`] inside the query).
    pub fn check(&self, headers: &HeaderMap) -> Result<(), InjectedFault> {
        if !self.enabled {
            return Ok(());
        }
        match headers
            .get(FAULT_HEADER)
            .and_then(|value| value.to_str().ok())
        {
            Some(kind) if database_fault(kind).is_some() => Ok(()),
            Some(kind) => Err(InjectedFault(kind.chars().take(64).collect())),
            None => Ok(()),
        }
    }

    /// What the request's first query should suffer: a stall, a database error, or nothing.
    pub fn query(&self, headers: &HeaderMap) -> QueryFault {
        if !self.enabled {
            return QueryFault::default();
        }
        QueryFault {
            slow: self.slow_query(headers),
            error: headers
                .get(FAULT_HEADER)
                .and_then(|value| value.to_str().ok())
                .and_then(database_fault),
        }
    }

    /// How long the request's first query should stall, when it asks for a slow one.
    fn slow_query(&self, headers: &HeaderMap) -> Option<Duration> {
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

/// The driver error of a database fault kind.
fn database_fault(kind: &str) -> Option<&'static str> {
    DATABASE_FAULTS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, error)| *error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_ignored_unless_enabled() {
        let mut headers = HeaderMap::new();
        headers.insert(FAULT_HEADER, "server_down".parse().unwrap());
        headers.insert(SLOW_QUERY_HEADER, "1200".parse().unwrap());
        assert!(Faults::new(false).check(&headers).is_ok());
        assert_eq!(Faults::new(false).query(&headers), QueryFault::default());
        assert!(Faults::new(true).check(&headers).is_err());
        assert_eq!(
            Faults::new(true).query(&headers).slow,
            Some(Duration::from_millis(1200))
        );
    }

    #[test]
    fn database_faults_fail_the_query_not_the_request() {
        let mut headers = HeaderMap::new();
        headers.insert(FAULT_HEADER, "database_pool_timeout".parse().unwrap());
        let faults = Faults::new(true);
        assert!(faults.check(&headers).is_ok());
        let fault = faults.query(&headers);
        assert_eq!(
            fault.error,
            Some("pool timed out while waiting for an open connection")
        );
    }
}
