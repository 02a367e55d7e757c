//! Search contexts kept between requests — scrolls and points in time — by id, each dropped
//! once its keep-alive has passed without use.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use std::time::Instant;

use axum::http::StatusCode;

use crate::error::ApiError;

/// Elasticsearch's default `search.max_open_scroll_context`, for each kind of context.
pub(crate) const MAX_OPEN_CONTEXTS: usize = 500;

/// Open contexts of one kind by id, with their expiry.
#[derive(Debug)]
pub struct Contexts<T> {
    open: Mutex<HashMap<String, (T, Instant)>>,
}

impl<T> Default for Contexts<T> {
    fn default() -> Self {
        Contexts {
            open: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Contexts<T> {
    /// The open contexts, the expired ones dropped first.
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<String, (T, Instant)>> {
        // A panic while holding the lock leaves the map whole: nothing to refuse.
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        open.retain(|_, (_, expires)| *expires > now);
        open
    }
}

/// A keep-alive such as `1m`.
pub(crate) fn keep_alive_duration(text: &str) -> Result<Duration, ApiError> {
    logfleet_store::parse_time_value(text).map_err(ApiError::illegal_argument)
}

/// Elasticsearch's answer for an unknown or expired context.
pub(crate) fn search_context_missing(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "search_context_missing_exception",
        format!("No search context found for id [{id}]"),
    )
}
