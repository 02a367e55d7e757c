//! `_delete_by_query`: delete every document a query matches, through the ordinary delete
//! path (the write-ahead log, then the partitions), in batches.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_query::SearchContext;
use logfleet_store::{ItemFailure, WriteRequest, WriteResult, now_millis};
use serde_json::{Value, json};

use super::write::apply_refresh;
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

/// `POST /{index}/_delete_by_query`.
pub async fn delete_by_query(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    params::check(&params, &format!("/{index}/_delete_by_query"), PARAMETERS)?;
    if params
        .get("wait_for_completion")
        .is_some_and(|value| value == "false")
    {
        return Err(ApiError::illegal_argument(
            "[wait_for_completion=false] is not supported: Logfleet runs _delete_by_query to completion and answers with the result",
        ));
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
    let refresh = params::refresh(&params)?;
    let batch = positive(&params, "scroll_size")?.unwrap_or(DEFAULT_BATCH);
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let mut body: Option<Value> = parse_json(&body, "parsing_exception")?;
    let mut max_docs = positive(&params, "max_docs")?;
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
    }
    if body.is_none() && !params.contains_key("q") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: query is missing;",
        ));
    }
    let query = super::search::query_of(&params, body.as_ref())?;
    let shards = state
        .store
        .search_shards(&index, params::flag(&params, "ignore_unavailable")?)
        .await?;
    let store = state.store.clone();
    let matches = super::run_blocking("delete_by_query", move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: now_millis(),
            request_cache: None,
        };
        logfleet_query::matching_documents(&shards, &query, &context, max_docs)
    })
    .await??;

    let total = matches.len();
    let mut deleted = 0u64;
    let mut conflicts = 0u64;
    let mut batches = 0u64;
    let mut failures = Vec::new();
    let mut last_seq = None;
    'batches: for chunk in matches.chunks(batch) {
        batches += 1;
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
                    last_seq = Some(last_seq.map_or(outcome.seq, |seq: u64| seq.max(outcome.seq)));
                    if outcome.result == WriteResult::Deleted {
                        deleted += 1;
                        continue;
                    }
                    // Gone between the search and the delete: Elasticsearch's version
                    // conflict.
                    conflicts += 1;
                    if !proceed {
                        failures.push(json!({
                            "index": target, "id": id, "status": 409,
                            "cause": {"type": "version_conflict_engine_exception",
                                      "reason": format!("[{id}]: version conflict, document already deleted"),
                                      "index": target},
                        }));
                        break 'batches;
                    }
                }
                Err(ItemFailure::Conflict(_)) => conflicts += 1,
                Err(ItemFailure::Store(error)) => {
                    let error = ApiError::from(error);
                    failures.push(
                        json!({"index": target, "id": id, "status": error.status.as_u16(),
                                         "cause": error.to_item_error()}),
                    );
                    break 'batches;
                }
            }
        }
    }
    apply_refresh(&state, refresh, last_seq).await?;
    let status = match failures
        .first()
        .and_then(|failure| failure["status"].as_u64())
    {
        Some(code) => {
            StatusCode::from_u16(code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
        None => StatusCode::OK,
    };
    let body = json!({
        "took": started.elapsed().as_millis() as u64,
        "timed_out": false,
        "total": total,
        "deleted": deleted,
        "batches": batches,
        "version_conflicts": conflicts,
        "noops": 0,
        "retries": {"bulk": 0, "search": 0},
        "throttled_millis": 0,
        "requests_per_second": -1.0,
        "throttled_until_millis": 0,
        "failures": failures,
    });
    Ok(json_response(status, &body))
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
