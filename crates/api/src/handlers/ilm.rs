//! `_ilm/policy`: index lifecycle policies, whose `delete` phase becomes the retention of the
//! data streams whose template names them (see `logfleet_store::LifecyclePolicy`).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_store::{LifecyclePolicy, format_epoch_millis};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "resource_not_found_exception",
        format!("Lifecycle policy not found: [{name}]"),
    )
}

fn render(state: &AppState, policy: &LifecyclePolicy) -> Value {
    let usage = state.store.lifecycle_policy_usage(&policy.name);
    json!({
        "version": policy.version,
        "modified_date": format_epoch_millis(policy.modified_date_ms),
        "policy": policy.policy,
        "in_use_by": {
            "indices": usage.indices,
            "data_streams": usage.data_streams,
            "composable_templates": usage.composable_templates,
        },
    })
}

/// `GET /_ilm/policy`.
pub async fn get_all(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_ilm/policy", &[])?;
    let policies: Map<String, Value> = state
        .store
        .lifecycle_policies("*")
        .iter()
        .map(|policy| (policy.name.clone(), render(&state, policy)))
        .collect();
    Ok(ok(&Value::Object(policies)))
}

/// `GET /_ilm/policy/{names}`: a comma list; wildcards match several.
pub async fn get(
    State(state): State<AppState>,
    Path(names): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/_ilm/policy/{names}"), &[])?;
    let mut policies = Map::new();
    for name in names.split(',') {
        let found = state.store.lifecycle_policies(name);
        if found.is_empty() && !name.contains('*') {
            return Err(not_found(name));
        }
        for policy in found {
            policies.insert(policy.name.clone(), render(&state, &policy));
        }
    }
    Ok(ok(&Value::Object(policies)))
}

/// `PUT /_ilm/policy/{name}`.
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/_ilm/policy/{name}"), &[])?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "x_content_parse_exception")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "request body is required",
        )
    })?;
    state.store.put_lifecycle_policy(&name, &body)?;
    Ok(ok(&json!({"acknowledged": true})))
}

/// `DELETE /_ilm/policy/{name}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/_ilm/policy/{name}"), &[])?;
    if !state.store.delete_lifecycle_policy(&name)? {
        return Err(not_found(&name));
    }
    Ok(ok(&json!({"acknowledged": true})))
}

/// `GET /_ilm/status`: lifecycle management always runs (retention is checked every minute).
pub async fn status(Query(params): Query<Params>) -> Result<Response, ApiError> {
    params::check(&params, "/_ilm/status", &[])?;
    Ok(ok(&json!({"operation_mode": "RUNNING"})))
}
