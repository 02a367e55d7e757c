//! `_cluster/health`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::response::ok;

/// The health of a single node whose indexes have no replicas: always green while it runs.
pub fn health_body(state: &AppState, shards: usize) -> Value {
    json!({
        "cluster_name": state.config.cluster_name,
        "status": "green",
        "timed_out": false,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": shards,
        "active_shards": shards,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0,
    })
}

/// `GET /_cluster/health`.
pub async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    let shards = state.store.index_stats().len();
    Ok(ok(&health_body(&state, shards)))
}

/// `GET /_cluster/health/{index}`.
pub async fn health_index(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> Result<Response, ApiError> {
    let shards = state.store.resolve(&index, false)?.len();
    Ok(ok(&health_body(&state, shards)))
}
