//! `_data_stream` and its lifecycle (retention).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_store::DataStreamInfo;
use serde_json::{Value, json};

use super::write::check_index_name;
use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::response::ok;

fn render(stream: &DataStreamInfo) -> Value {
    // A stream whose template names a lifecycle policy, and that has no data stream lifecycle
    // of its own, is shown as Elasticsearch shows one managed by ILM.
    let by_policy = stream
        .retention
        .as_ref()
        .is_none_or(|(_, source)| *source == "index_lifecycle_policy");
    let ilm_policy = stream.ilm_policy.as_ref().filter(|_| by_policy);
    let managed_by = if ilm_policy.is_some() {
        "Index Lifecycle Management"
    } else {
        "Data stream lifecycle"
    };
    let render_indices = |indices: &[(String, String)]| -> Vec<Value> {
        indices
            .iter()
            .map(|(name, uuid)| {
                let mut index = json!({
                    "index_name": name,
                    "index_uuid": uuid,
                    "prefer_ilm": ilm_policy.is_some(),
                    "managed_by": managed_by,
                });
                if let Some(policy) = ilm_policy {
                    index["ilm_policy"] = json!(policy);
                }
                index
            })
            .collect()
    };
    let indices = render_indices(&stream.indices);
    // Rejected documents of a stream whose failure store is on are kept there; its first
    // partition is created by the first of them.
    let failure_store = json!({
        "enabled": stream.failure_store_enabled,
        "rollover_on_write": stream.failure_indices.is_empty(),
        "indices": render_indices(&stream.failure_indices),
    });
    let mut rendered = json!({
        "name": stream.name,
        "timestamp_field": {"name": "@timestamp"},
        "indices": indices,
        "generation": stream.generation,
        "status": "GREEN",
        "template": stream.template.clone().unwrap_or_else(|| "logs".to_owned()),
        "next_generation_managed_by": managed_by,
        "prefer_ilm": ilm_policy.is_some(),
        "hidden": false,
        "system": false,
        "allow_custom_routing": false,
        "replicated": false,
        "rollover_on_write": false,
        "failure_store": failure_store,
    });
    match ilm_policy {
        Some(policy) => rendered["ilm_policy"] = json!(policy),
        None => {
            let mut lifecycle = json!({"enabled": true});
            if let Some((retention, _)) = &stream.retention {
                lifecycle["data_retention"] = json!(retention);
            }
            rendered["lifecycle"] = lifecycle;
        }
    }
    rendered
}

fn find(state: &AppState, pattern: &str) -> Result<Vec<DataStreamInfo>, ApiError> {
    let streams = state.store.data_streams(pattern);
    if streams.is_empty() && !pattern.contains('*') {
        return Err(ApiError::index_not_found(pattern));
    }
    Ok(streams)
}

/// `GET /_data_stream`.
pub async fn get_all(State(state): State<AppState>) -> Response {
    let streams: Vec<Value> = state.store.data_streams("*").iter().map(render).collect();
    ok(&json!({"data_streams": streams}))
}

/// `GET /_data_stream/{name}`.
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let streams: Vec<Value> = find(&state, &name)?.iter().map(render).collect();
    Ok(ok(&json!({"data_streams": streams})))
}

/// `PUT /_data_stream/{name}`.
pub async fn create(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    check_index_name(&name)?;
    state.store.create_data_stream(&name)?;
    Ok(ok(&json!({"acknowledged": true})))
}

/// `DELETE /_data_stream/{name}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    for stream in find(&state, &name)? {
        state.store.delete_target(&stream.name).await?;
    }
    Ok(ok(&json!({"acknowledged": true})))
}

/// `PUT /_data_stream/{name}/_lifecycle` with `{"data_retention": "7d"}`.
pub async fn put_lifecycle(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.unwrap_or_else(|| json!({}));
    let retention = match body.get("data_retention") {
        None | Some(Value::Null) => None,
        Some(Value::String(retention)) => Some(retention.clone()),
        Some(other) => {
            return Err(ApiError::illegal_argument(format!(
                "[data_retention] must be a time value such as 7d, found [{other}]"
            )));
        }
    };
    if let Some(Value::Object(object)) = Some(&body) {
        for key in object.keys() {
            if key != "data_retention" && key != "enabled" && key != "downsampling" {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "x_content_parse_exception",
                    format!("[data_stream_lifecycle] unknown field [{key}]"),
                ));
            }
        }
    }
    for stream in find(&state, &name)? {
        state.store.set_retention(&stream.name, retention.clone())?;
    }
    Ok(ok(&json!({"acknowledged": true})))
}

/// `GET /_data_stream/{name}/_lifecycle`.
pub async fn get_lifecycle(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let streams: Vec<Value> = find(&state, &name)?
        .iter()
        .map(|stream| {
            if stream.ilm_policy.is_some()
                && stream
                    .retention
                    .as_ref()
                    .is_none_or(|(_, source)| *source == "index_lifecycle_policy")
            {
                // Managed by its lifecycle policy: no data stream lifecycle to show.
                return json!({"name": stream.name});
            }
            let mut lifecycle = json!({"enabled": true});
            if let Some((retention, source)) = &stream.retention {
                lifecycle["data_retention"] = json!(retention);
                lifecycle["effective_retention"] = json!(retention);
                lifecycle["retention_determined_by"] = json!(source);
            }
            json!({"name": stream.name, "lifecycle": lifecycle})
        })
        .collect();
    Ok(ok(&json!({"data_streams": streams})))
}

/// `DELETE /_data_stream/{name}/_lifecycle`: back to keeping data (or the configured rule).
pub async fn delete_lifecycle(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    for stream in find(&state, &name)? {
        state.store.set_retention(&stream.name, None)?;
    }
    Ok(ok(&json!({"acknowledged": true})))
}
