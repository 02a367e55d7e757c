//! Point in time: `POST /{index}/_pit` pins the partitions' current searchers under an id,
//! `_search` with `"pit": {"id": …}` searches them (sorted with the implicit `_shard_doc`
//! tiebreaker, so `search_after` pages are stable), and `DELETE /_pit` releases them.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_store::SearchShard;
use serde_json::json;

use super::contexts::{Contexts, MAX_OPEN_CONTEXTS, keep_alive_duration, search_context_missing};
use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::{json_response, ok};

/// Open points in time by id: the pinned partitions.
pub type PointsInTime = Contexts<Vec<SearchShard>>;

impl PointsInTime {
    /// The partitions of point in time `id`, its life extended by `keep_alive` when given.
    pub(crate) fn shards(
        &self,
        id: &str,
        keep_alive: Option<&str>,
    ) -> Result<Vec<SearchShard>, ApiError> {
        let keep_alive = keep_alive.map(keep_alive_duration).transpose()?;
        let mut open = self.lock();
        let (shards, expires) = open.get_mut(id).ok_or_else(|| search_context_missing(id))?;
        if let Some(keep_alive) = keep_alive {
            *expires = Instant::now() + keep_alive;
        }
        Ok(shards.clone())
    }
}

/// Elasticsearch's request validation error.
fn validation_failed(reason: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "action_request_validation_exception",
        format!("Validation Failed: 1: {reason};"),
    )
}

/// `POST /{index}/_pit?keep_alive=1m`.
pub async fn open(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/{index}/_pit"),
        &[
            "keep_alive",
            "ignore_unavailable",
            "expand_wildcards",
            "preference",
            "routing",
            "allow_partial_search_results",
        ],
    )?;
    let keep_alive = params
        .get("keep_alive")
        .ok_or_else(|| validation_failed("[keep_alive] is not specified"))?;
    let keep_alive = keep_alive_duration(keep_alive)?;
    let shards = state
        .store
        .search_shards(&index, params::flag(&params, "ignore_unavailable")?)
        .await?;
    let total = shards.len();
    let mut open = state.points_in_time.lock();
    if open.len() >= MAX_OPEN_CONTEXTS {
        return Err(ApiError::illegal_argument(format!(
            "Trying to create too many point in time contexts. Must be less than or equal to: [{MAX_OPEN_CONTEXTS}]."
        )));
    }
    let id = logfleet_store::new_document_id();
    open.insert(id.clone(), (shards, Instant::now() + keep_alive));
    Ok(ok(&json!({
        "id": id,
        "_shards": {"total": total, "successful": total, "skipped": 0, "failed": 0},
    })))
}

/// `DELETE /_pit` with `{"id": "…"}`.
pub async fn close(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, "/_pit", &[])?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?;
    let id = body
        .as_ref()
        .and_then(|body| body.get("id"))
        .and_then(|id| id.as_str())
        .ok_or_else(|| validation_failed("point in time id is missing"))?;
    let freed = usize::from(state.points_in_time.lock().remove(id).is_some());
    let status = if freed == 0 {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok(json_response(
        status,
        &json!({"succeeded": true, "num_freed": freed}),
    ))
}
