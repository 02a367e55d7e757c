//! What `_bulk` items and the single-document endpoints share: decoding a source, running
//! the pipeline, preparing the store write, and rendering an outcome.

use std::sync::Arc;

use axum::http::StatusCode;
use bytes::Bytes;
use logfleet_ingest::validate_index_name;
use logfleet_model::json::JsonValue;
use logfleet_pipeline::{
    Flow, IngestDocument, NoPipelines, Pipeline, PipelineError, Run, is_data_stream_write_target,
};
use logfleet_store::{
    DocumentOp, ItemFailure, PreparedWrite, StoreError, WriteOutcome, WriteRequest, WriteResult,
};
use serde::Serialize;
use serde_json::json;

use crate::AppState;
use crate::date_math::resolve_name;
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

/// A document after its pipelines: a write for the store, or nothing, when a `drop`
/// processor dropped it.
#[derive(Debug)]
pub enum Prepared {
    /// Ready for the store.
    Write(PreparedWrite),
    /// Dropped by a pipeline: answered `200` with `result: noop`, as Elasticsearch does.
    Dropped {
        /// The target it was sent to.
        index: String,
        /// Its id, if it had one.
        id: Option<String>,
    },
}

/// Decodes a document source, runs the ingest pipeline (`?pipeline=`, or none for `_none`)
/// and the data stream routing, and prepares the write.
pub fn prepare_document(
    state: &AppState,
    index: &str,
    op: DocumentOp,
    id: Option<String>,
    source: Bytes,
    pipeline: Option<&str>,
) -> Result<Prepared, ApiError> {
    let index = resolve_name(index)?;
    let index = index.as_ref();
    check_index_name(index)?;
    let requested = match pipeline {
        None => None,
        Some("_none") => Some(None),
        Some(name) => Some(Some(lookup_pipeline(state, name)?)),
    };
    // Decoded in place: the document's strings borrow from the request body.
    let parsed = JsonValue::from_slice(&source).map_err(|error| {
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
    let JsonValue::Object(parsed) = parsed else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "document_parsing_exception",
            "[1:1] failed to parse: the document must be a JSON object",
        ));
    };
    let mut document = IngestDocument::new(index, parsed);
    if let Some(id) = &id {
        document
            .metadata
            .insert("_id", JsonValue::from(id.as_str()));
    }
    if run_pipelines(state, &mut document, requested)? == Flow::Drop {
        return Ok(Prepared::Dropped {
            index: document.target,
            id,
        });
    }
    let routed = is_data_stream_write_target(&document.target)
        && !state.store.is_plain_index(&document.target);
    if routed {
        state
            .routing
            .execute(&mut document, &mut Run::new(&NoPipelines))
            .map_err(pipeline_failure)?;
    }
    let id = match document.metadata.get("_id") {
        Some(JsonValue::String(id)) => Some(id.as_ref().to_owned()),
        Some(JsonValue::Number(number)) => Some(number.to_string()),
        _ => id,
    };
    let stored = if document.source_modified {
        serde_json::to_vec(&document.source).map_or_else(|_| source.clone(), Bytes::from)
    } else {
        source.clone()
    };
    let request = WriteRequest::Document {
        target: document.target,
        op,
        id,
        source: stored,
        parsed: document.source,
    };
    Ok(Prepared::Write(state.store.prepare(request)?))
}

fn lookup_pipeline(state: &AppState, name: &str) -> Result<Arc<Pipeline>, ApiError> {
    state.pipelines.get(name).ok_or_else(|| {
        ApiError::illegal_argument(format!("pipeline with id [{name}] does not exist"))
    })
}

/// Runs a document's ingest pipelines as Elasticsearch does: the one the request names (or,
/// when it names none, the target's `index.default_pipeline`); when a pipeline sends the
/// document to another target, that target's default pipeline next (a target seen twice is
/// a cycle); last the final target's `index.final_pipeline`, which may not send it elsewhere.
fn run_pipelines(
    state: &AppState,
    document: &mut IngestDocument<'_>,
    requested: Option<Option<Arc<Pipeline>>>,
) -> Result<Flow, ApiError> {
    let settings = state.store.ingest_pipelines(&document.target);
    let first = match requested {
        Some(requested) => requested,
        None => settings
            .default_pipeline
            .as_deref()
            .filter(|name| *name != "_none")
            .map(|name| lookup_pipeline(state, name))
            .transpose()?,
    };
    let mut final_pipeline = settings.final_pipeline.filter(|name| name != "_none");
    let mut visited = vec![document.target.clone()];
    let mut next = first;
    while let Some(pipeline) = next.take() {
        if document.ingest.get("timestamp").is_none() {
            super::ingest::stamp_ingest(document);
        }
        let before = document.target.clone();
        let flow = pipeline
            .execute(document, &mut Run::new(&*state.pipelines))
            .map_err(pipeline_failure)?;
        if flow == Flow::Drop {
            return Ok(Flow::Drop);
        }
        if document.target != before {
            check_index_name(&document.target)?;
            if visited.contains(&document.target) {
                visited.push(document.target.clone());
                return Err(ApiError::illegal_argument(format!(
                    "index cycle detected: {}",
                    visited.join(" -> ")
                )));
            }
            visited.push(document.target.clone());
            let settings = state.store.ingest_pipelines(&document.target);
            final_pipeline = settings.final_pipeline.filter(|name| name != "_none");
            next = settings
                .default_pipeline
                .as_deref()
                .filter(|name| *name != "_none")
                .map(|name| lookup_pipeline(state, name))
                .transpose()?;
        }
    }
    if let Some(name) = final_pipeline {
        let pipeline = lookup_pipeline(state, &name)?;
        if document.ingest.get("timestamp").is_none() {
            super::ingest::stamp_ingest(document);
        }
        let before = document.target.clone();
        let flow = pipeline
            .execute(document, &mut Run::new(&*state.pipelines))
            .map_err(pipeline_failure)?;
        if flow == Flow::Drop {
            return Ok(Flow::Drop);
        }
        if document.target != before {
            return Err(ApiError::illegal_argument(format!(
                "final pipeline [{name}] can't change the target index (from [{before}] to [{}])",
                document.target
            )));
        }
    }
    Ok(Flow::Continue)
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

/// A document a pipeline failed on, as the item or response reports it.
fn pipeline_failure(error: PipelineError) -> ApiError {
    let mut api = ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.reason);
    if let Some(processor_type) = error.processor_type {
        api = api.with("processor_type", json!(processor_type));
    }
    if let Some(tag) = error.processor_tag {
        api = api.with("processor_tag", json!(tag));
    }
    api
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
        }
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
