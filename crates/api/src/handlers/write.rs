//! What `_bulk` items and the single-document endpoints share: decoding a source, running
//! the pipeline, preparing the store write, and rendering an outcome.

use axum::http::StatusCode;
use logfleet_ingest::validate_index_name;
use logfleet_pipeline::{IngestDocument, is_data_stream_write_target};
use logfleet_store::{
    DocumentOp, ItemFailure, PreparedWrite, StoreError, WriteOutcome, WriteRequest, WriteResult,
};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::params::{Params, Refresh};

/// Validates a write target's name as Elasticsearch does.
pub fn check_index_name(name: &str) -> Result<(), ApiError> {
    validate_index_name(name).map_err(|problem| {
        ApiError::from(StoreError::InvalidIndexName {
            name: name.to_owned(),
            reason: problem.to_string(),
        })
    })
}

/// Decodes a document source, runs the pipeline and prepares the write.
pub fn prepare_document(
    state: &AppState,
    index: &str,
    op: DocumentOp,
    id: Option<String>,
    source: &[u8],
    pipeline: Option<&str>,
) -> Result<PreparedWrite, ApiError> {
    check_index_name(index)?;
    if let Some(name) = pipeline.filter(|name| *name != "_none") {
        return Err(ApiError::illegal_argument(format!(
            "pipeline with id [{name}] does not exist"
        )));
    }
    let parsed: Value = serde_json::from_slice(source).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "document_parsing_exception",
            format!(
                "[{}:{}] failed to parse: {error}",
                error.line(),
                error.column()
            ),
        )
    })?;
    let Value::Object(parsed) = parsed else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "document_parsing_exception",
            "[1:1] failed to parse: the document must be a JSON object",
        ));
    };
    let routed = is_data_stream_write_target(index) && !state.store.is_plain_index(index);
    let (target, parsed, source) = if routed {
        let mut document = IngestDocument::new(index, parsed);
        state
            .pipeline
            .run(&mut document)
            .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.reason))?;
        let source = if document.source_modified {
            serde_json::to_vec(&document.source).unwrap_or_else(|_| source.to_vec())
        } else {
            source.to_vec()
        };
        (document.target, document.source, source)
    } else {
        (index.to_owned(), parsed, source.to_vec())
    };
    let request = WriteRequest::Document {
        target,
        op,
        id,
        source,
        parsed,
    };
    Ok(state.store.prepare(request)?)
}

/// The error of a failed write, as the item or response reports it.
pub fn failure_to_error(failure: ItemFailure) -> ApiError {
    match failure {
        ItemFailure::Conflict(conflict) => ApiError::new(
            StatusCode::CONFLICT,
            "version_conflict_engine_exception",
            format!(
                "[{}]: version conflict, document already exists (current version [{}])",
                conflict.id, conflict.current_version
            ),
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

/// The response body of a successful write (also a bulk item without `status`).
pub fn outcome_body(outcome: &WriteOutcome) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("_index".into(), json!(outcome.index));
    body.insert("_id".into(), json!(outcome.id));
    body.insert("_version".into(), json!(outcome.version));
    body.insert("result".into(), json!(outcome.result.as_str()));
    body.insert(
        "_shards".into(),
        json!({"total": 1, "successful": 1, "failed": 0}),
    );
    body.insert("_seq_no".into(), json!(outcome.seq));
    body.insert("_primary_term".into(), json!(1));
    body
}

/// Applies `?refresh` after writes up to `max_seq`.
pub async fn apply_refresh(
    state: &AppState,
    refresh: Refresh,
    max_seq: Option<u64>,
) -> Result<bool, ApiError> {
    match (refresh, max_seq) {
        (Refresh::No, _) | (_, None) => Ok(false),
        (Refresh::Immediate, Some(_)) => {
            state.store.refresh().await?;
            Ok(true)
        }
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
