//! One module per group of Elasticsearch endpoints.

pub mod aliases;
pub mod bulk;
pub mod by_query;
pub mod cat;
pub mod cluster;
mod contexts;
pub mod data_streams;
pub mod documents;
pub mod ilm;
pub mod indices;
pub mod ingest;
pub mod otlp;
pub mod pit;
pub mod root;
pub mod search;
pub mod stats;
pub mod templates;
pub mod update;
mod write;
pub mod xpack;

use axum::http::StatusCode;

use crate::error::ApiError;

/// Runs CPU-bound work (decoding a bulk body, searching) on the blocking pool, so that it never
/// stalls the threads serving connections; a panic in it becomes a 500 that names `what`.
pub(crate) async fn run_blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            format!("{what} was interrupted"),
        )
    })
}
