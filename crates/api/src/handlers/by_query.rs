//! `_delete_by_query` and `_update_by_query`: delete or change every document a query
//! matches, through the ordinary write path (the write-ahead log, then the partitions), in
//! batches. An update writes a document only if it is still the one the query found (its
//! sequence number), so a change made meanwhile is a version conflict, never lost.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use logfleet_query::SearchContext;
use logfleet_store::{
    DocumentOp, ItemFailure, PRIMARY_TERM, WriteCondition, WriteRequest, WriteResult, now_millis,
};
use serde_json::{Map, Value, json};

use super::update::{ScriptOp, UpdateScript};
use super::write::{Prepared, apply_refresh, prepare_document};
use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::json_response;

const PARAMETERS: &[&str] = &[
    "q",
    "df",
    "default_operator",
    "analyzer",
    "lenient",
    "conflicts",
    "refresh",
    "max_docs",
    "scroll_size",
    "slices",
    "requests_per_second",
    "wait_for_completion",
    "wait_for_active_shards",
    "timeout",
    "scroll",
    "search_timeout",
    "routing",
    "ignore_unavailable",
    "allow_no_indices",
    "expand_wildcards",
];

/// Deletes go to the log in batches of this many, as `scroll_size` does by default.
const DEFAULT_BATCH: usize = 1000;

/// What a by-query request asks for, and the documents its query matched.
struct ByQuery {
    started: Instant,
    proceed: bool,
    refresh: params::Refresh,
    batch: usize,
    /// The concrete index and id of each document matched.
    matches: Vec<(String, String)>,
    /// `_update_by_query`'s script, if any.
    script: Option<UpdateScript>,
}

/// Reads a by-query request (`what` is `_delete_by_query` or `_update_by_query`) and runs its
/// query.
async fn by_query_request(
    state: &AppState,
    index: &str,
    what: &str,
    params: &Params,
    headers: &HeaderMap,
    body: Body,
) -> Result<ByQuery, ApiError> {
    let started = Instant::now();
    let updating = what == "_update_by_query";
    let allowed: Vec<&str> = PARAMETERS
        .iter()
        .copied()
        .chain(
            updating
                .then_some(["pipeline", "version"])
                .into_iter()
                .flatten(),
        )
        .collect();
    params::check(params, &format!("/{index}/{what}"), &allowed)?;
    if params
        .get("wait_for_completion")
        .is_some_and(|value| value == "false")
    {
        return Err(ApiError::illegal_argument(format!(
            "[wait_for_completion=false] is not supported: Logfleet runs {what} to completion and answers with the result"
        )));
    }
    let mut proceed = match params.get("conflicts").map(String::as_str) {
        None | Some("abort") => false,
        Some("proceed") => true,
        Some(other) => {
            return Err(ApiError::illegal_argument(format!(
                "conflicts may only be \"proceed\" or \"abort\" but was [{other}]"
            )));
        }
    };
    let refresh = params::refresh(params)?;
    let batch = positive(params, "scroll_size")?.unwrap_or(DEFAULT_BATCH);
    let body = read_body(headers, body, state.config.max_content_length).await?;
    let mut body: Option<Value> = parse_json(&body, "parsing_exception")?;
    let mut max_docs = positive(params, "max_docs")?;
    let mut script = None;
    if let Some(Value::Object(object)) = &mut body {
        if let Some(value) = object.remove("max_docs") {
            let limit = value.as_u64().filter(|limit| *limit > 0).ok_or_else(|| {
                ApiError::illegal_argument(format!(
                    "[max_docs] parameter cannot be negative or zero, found [{value}]"
                ))
            })?;
            max_docs = Some(limit as usize);
        }
        match object.remove("conflicts") {
            None => {}
            Some(Value::String(mode)) if mode == "abort" => proceed = false,
            Some(Value::String(mode)) if mode == "proceed" => proceed = true,
            Some(other) => {
                return Err(ApiError::illegal_argument(format!(
                    "conflicts may only be \"proceed\" or \"abort\" but was [{other}]"
                )));
            }
        }
        if updating && let Some(value) = object.remove("script") {
            script = Some(UpdateScript::parse(&value)?);
        }
    }
    // An update by query without a query updates everything; a delete must say what.
    if !updating && body.is_none() && !params.contains_key("q") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: query is missing;",
        ));
    }
    let query = match &body {
        Some(Value::Object(object)) if object.is_empty() && !params.contains_key("q") => {
            super::search::query_of(params, None)?
        }
        _ => super::search::query_of(params, body.as_ref())?,
    };
    let shards = state
        .store
        .search_shards(index, params::flag(params, "ignore_unavailable")?)
        .await?;
    let store = state.store.clone();
    let matches = super::run_blocking(what, move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: now_millis(),
            request_cache: None,
        };
        logfleet_query::matching_documents(&shards, &query, &context, max_docs)
    })
    .await??;
    Ok(ByQuery {
        started,
        proceed,
        refresh,
        batch,
        matches,
        script,
    })
}

/// What a by-query request did, for its response.
#[derive(Default)]
struct Tally {
    updated: u64,
    deleted: u64,
    noops: u64,
    conflicts: u64,
    batches: u64,
    failures: Vec<Value>,
    last_seq: Option<u64>,
}

impl Tally {
    fn written(&mut self, seq: u64) {
        self.last_seq = Some(self.last_seq.map_or(seq, |last| last.max(seq)));
    }

    fn conflict(&mut self, index: &str, id: &str, reason: String, proceed: bool) -> bool {
        self.conflicts += 1;
        if proceed {
            return false;
        }
        self.failures.push(json!({
            "index": index, "id": id, "status": 409,
            "cause": {"type": "version_conflict_engine_exception", "reason": reason, "index": index},
        }));
        true
    }

    fn failure(&mut self, index: &str, id: &str, error: &ApiError) {
        self.failures.push(json!({
            "index": index, "id": id, "status": error.status.as_u16(),
            "cause": error.to_item_error(),
        }));
    }

    async fn respond(
        self,
        state: &AppState,
        request: &ByQuery,
        updating: bool,
    ) -> Result<Response, ApiError> {
        apply_refresh(state, request.refresh, self.last_seq).await?;
        let status = match self
            .failures
            .first()
            .and_then(|failure| failure["status"].as_u64())
        {
            Some(code) => {
                StatusCode::from_u16(code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            None => StatusCode::OK,
        };
        let mut body = json!({
            "took": request.started.elapsed().as_millis() as u64,
            "timed_out": false,
            "total": request.matches.len(),
        });
        if updating {
            body["updated"] = json!(self.updated);
        }
        body["deleted"] = json!(self.deleted);
        body["batches"] = json!(self.batches);
        body["version_conflicts"] = json!(self.conflicts);
        body["noops"] = json!(self.noops);
        body["retries"] = json!({"bulk": 0, "search": 0});
        body["throttled_millis"] = json!(0);
        body["requests_per_second"] = json!(-1.0);
        body["throttled_until_millis"] = json!(0);
        body["failures"] = json!(self.failures);
        Ok(json_response(status, &body))
    }
}

/// `POST /{index}/_delete_by_query`.
pub async fn delete_by_query(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request =
        by_query_request(&state, &index, "_delete_by_query", &params, &headers, body).await?;
    let mut tally = Tally::default();
    'batches: for chunk in request.matches.chunks(request.batch) {
        tally.batches += 1;
        let mut prepared = Vec::with_capacity(chunk.len());
        for (target, id) in chunk {
            let request = WriteRequest::Delete {
                target: target.clone(),
                id: id.clone(),
            };
            prepared.push(state.store.prepare(request)?);
        }
        for ((target, id), outcome) in chunk.iter().zip(state.store.execute(prepared).await?) {
            match outcome {
                Ok(outcome) => {
                    tally.written(outcome.seq);
                    if outcome.result == WriteResult::Deleted {
                        tally.deleted += 1;
                        continue;
                    }
                    // Gone between the search and the delete: Elasticsearch's version
                    // conflict.
                    let reason = format!("[{id}]: version conflict, document already deleted");
                    if tally.conflict(target, id, reason, request.proceed) {
                        break 'batches;
                    }
                }
                Err(ItemFailure::Conflict(_)) => tally.conflicts += 1,
                Err(ItemFailure::Store(error)) => {
                    tally.failure(target, id, &ApiError::from(error));
                    break 'batches;
                }
            }
        }
    }
    tally.respond(&state, &request, false).await
}

/// `POST /{index}/_update_by_query`: every matching document run through the `script` (or
/// written again as it is, without one), each write conditional on the document being the
/// one the query found.
pub async fn update_by_query(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request =
        by_query_request(&state, &index, "_update_by_query", &params, &headers, body).await?;
    let mut tally = Tally::default();
    'batches: for chunk in request.matches.chunks(request.batch) {
        tally.batches += 1;
        let mut prepared = Vec::with_capacity(chunk.len());
        let mut written = Vec::with_capacity(chunk.len());
        for (target, id) in chunk {
            let Some(current) = state.store.get(target, id).await? else {
                // Deleted since the query ran.
                let reason = format!("[{id}]: version conflict, document already deleted");
                if tally.conflict(target, id, reason, request.proceed) {
                    break 'batches;
                }
                continue;
            };
            let source: Map<String, Value> =
                serde_json::from_slice(&current.source).unwrap_or_default();
            let (source, op) = match &request.script {
                Some(script) => match script.run(target, id, source) {
                    Ok(changed) => changed,
                    Err(error) => {
                        tally.failure(target, id, &error);
                        break 'batches;
                    }
                },
                None => (source, ScriptOp::Index),
            };
            let mut write = match op {
                ScriptOp::None => {
                    tally.noops += 1;
                    continue;
                }
                ScriptOp::Delete => state.store.prepare(WriteRequest::Delete {
                    target: target.clone(),
                    id: id.clone(),
                })?,
                ScriptOp::Index => {
                    let bytes = Bytes::from(serde_json::to_vec(&source).unwrap_or_default());
                    let document = prepare_document(
                        &state,
                        target,
                        DocumentOp::Index,
                        Some(id.clone()),
                        bytes,
                        params.get("pipeline").map(String::as_str),
                    );
                    match document {
                        Ok(Prepared::Write(write) | Prepared::FailureStore(write)) => write,
                        Ok(Prepared::Dropped { .. }) => {
                            tally.noops += 1;
                            continue;
                        }
                        Err(error) => {
                            tally.failure(target, id, &error);
                            break 'batches;
                        }
                    }
                }
            };
            write.require(WriteCondition {
                if_seq_no: current.seq,
                if_primary_term: PRIMARY_TERM,
            });
            prepared.push(write);
            written.push((target, id));
        }
        for ((target, id), outcome) in written
            .into_iter()
            .zip(state.store.execute(prepared).await?)
        {
            match outcome {
                Ok(outcome) => {
                    tally.written(outcome.seq);
                    match outcome.result {
                        WriteResult::Deleted => tally.deleted += 1,
                        _ => tally.updated += 1,
                    }
                }
                Err(ItemFailure::Conflict(conflict)) => {
                    if tally.conflict(target, id, conflict.reason(), request.proceed) {
                        break 'batches;
                    }
                }
                Err(ItemFailure::Store(error)) => {
                    tally.failure(target, id, &ApiError::from(error));
                    break 'batches;
                }
            }
        }
    }
    tally.respond(&state, &request, true).await
}

fn positive(params: &Params, name: &str) -> Result<Option<usize>, ApiError> {
    params
        .get(name)
        .map(|text| {
            text.parse::<usize>()
                .ok()
                .filter(|value| *value > 0)
                .ok_or_else(|| {
                    ApiError::illegal_argument(format!(
                        "[{name}] parameter cannot be negative or zero, found [{text}]"
                    ))
                })
        })
        .transpose()
}
