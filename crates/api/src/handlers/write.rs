//! What `_bulk` items and the single-document endpoints share: handing a document to the
//! write path every input shares (`logfleet_ingest::Ingest`), and rendering an outcome.

use axum::http::StatusCode;
use bytes::Bytes;
use logfleet_ingest::Document;
pub use logfleet_ingest::Prepared;
use logfleet_store::{DocumentOp, ItemFailure, PreparedWrite, WriteOutcome, WriteResult};
use serde::Serialize;
use serde_json::json;

use crate::AppState;
use crate::date_math::resolve_name;
use crate::error::ApiError;
use crate::params::{Params, Refresh};

/// Validates a write target's name as Elasticsearch does.
pub fn check_index_name(name: &str) -> Result<(), ApiError> {
    Ok(logfleet_ingest::check_index_name(name)?)
}

/// Resolves date math in the target's name and hands the document to the write path that
/// every input shares.
pub fn prepare_document(
    state: &AppState,
    index: &str,
    op: DocumentOp,
    id: Option<String>,
    source: Bytes,
    pipeline: Option<&str>,
) -> Result<Prepared, ApiError> {
    let index = resolve_name(index)?;
    Ok(state.ingest.prepare(Document {
        index: index.as_ref(),
        op,
        id,
        source,
        pipeline,
    })?)
}

/// The answer for a document a pipeline dropped, as a bulk item (with `status`).
pub fn dropped_response(index: &str, id: Option<&str>) -> serde_json::Value {
    json!({
        "_index": index,
        "_id": id,
        "_version": -3,
        "result": "noop",
        "_shards": {"total": 0, "successful": 0, "failed": 0},
        "status": 200,
    })
}

/// The error of a failed write, as the item or response reports it.
pub fn failure_to_error(failure: ItemFailure) -> ApiError {
    match failure {
        ItemFailure::Conflict(conflict) => ApiError::new(
            StatusCode::CONFLICT,
            "version_conflict_engine_exception",
            conflict.reason(),
        )
        .with("index_uuid", json!("_na_"))
        .with("shard", json!("0"))
        .with("index", json!(conflict.index)),
        ItemFailure::Store(error) => error.into(),
    }
}

/// Executes one prepared write and returns its outcome or its error.
pub async fn execute_one(
    state: &AppState,
    prepared: PreparedWrite,
) -> Result<WriteOutcome, ApiError> {
    let mut outcomes = state.store.execute(vec![prepared]).await?;
    match outcomes.pop() {
        Some(Ok(outcome)) => Ok(outcome),
        Some(Err(failure)) => Err(failure_to_error(failure)),
        None => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "missing outcome",
        )),
    }
}

/// The HTTP status of a successful write.
pub fn outcome_status(outcome: &WriteOutcome) -> StatusCode {
    match outcome.result {
        WriteResult::Created => StatusCode::CREATED,
        WriteResult::Updated | WriteResult::Deleted => StatusCode::OK,
        WriteResult::NotFound => StatusCode::NOT_FOUND,
    }
}

/// The response body of a successful write, and of a bulk item (with `status`).
#[derive(Debug, Serialize)]
pub struct WriteResponse<'a> {
    #[serde(rename = "_index")]
    index: &'a str,
    #[serde(rename = "_id")]
    id: &'a str,
    #[serde(rename = "_version")]
    version: u64,
    result: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    forced_refresh: bool,
    #[serde(rename = "_shards")]
    shards: Shards,
    #[serde(rename = "_seq_no")]
    seq_no: u64,
    #[serde(rename = "_primary_term")]
    primary_term: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    /// `used` when the document was rejected and kept in its data stream's failure store.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_store: Option<&'static str>,
}

/// `_shards` of a write: one copy, written.
#[derive(Debug, Serialize)]
struct Shards {
    total: u32,
    successful: u32,
    failed: u32,
}

impl WriteResponse<'_> {
    /// The body for `outcome`; `forced_refresh` when `?refresh=true` made it visible.
    pub fn new(outcome: &WriteOutcome, forced_refresh: bool) -> WriteResponse<'_> {
        WriteResponse {
            index: &outcome.index,
            id: &outcome.id,
            version: outcome.version,
            result: outcome.result.as_str(),
            forced_refresh,
            shards: Shards {
                total: 1,
                successful: 1,
                failed: 0,
            },
            seq_no: outcome.seq,
            primary_term: 1,
            status: None,
            failure_store: None,
        }
    }

    /// Marks a write that kept a rejected document in a failure store.
    pub fn with_failure_store(mut self, used: bool) -> Self {
        self.failure_store = used.then_some("used");
        self
    }

    /// The same body as a bulk item, which carries its HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status.as_u16());
        self
    }
}

/// Applies `?refresh` after writes up to `max_seq`.
pub async fn apply_refresh(
    state: &AppState,
    refresh: Refresh,
    max_seq: Option<u64>,
) -> Result<bool, ApiError> {
    match (refresh, max_seq) {
        (Refresh::No, _) | (_, None) => Ok(false),
        (Refresh::Immediate, Some(_)) => match state.store.refresh().await {
            Ok(()) => Ok(true),
            Err(error) => {
                // The writes are acknowledged all the same: failing the response would make
                // the client send them again. `forced_refresh` stays false.
                tracing::warn!(%error, "the refresh a write asked for failed");
                Ok(false)
            }
        },
        (Refresh::WaitFor, Some(seq)) => {
            state.store.wait_until_searchable(seq).await;
            Ok(true)
        }
    }
}

/// The `?pipeline` parameter.
pub fn pipeline_param(params: &Params) -> Option<&str> {
    params.get("pipeline").map(String::as_str)
}
