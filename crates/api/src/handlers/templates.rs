//! `_index_template`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::response::ok;

/// `PUT /_index_template/{name}`.
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: index template is missing;",
        )
    })?;
    state.store.put_template(&name, &body)?;
    Ok(ok(&json!({"acknowledged": true})))
}

fn render(state: &AppState, pattern: &str) -> Value {
    let templates: Vec<Value> = state
        .store
        .templates(pattern)
        .into_iter()
        .map(|template| json!({"name": template.name, "index_template": template.body}))
        .collect();
    json!({"index_templates": templates})
}

/// `GET /_index_template`.
pub async fn get_all(State(state): State<AppState>) -> Response {
    ok(&render(&state, "*"))
}

/// `GET /_index_template/{name}`.
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let body = render(&state, &name);
    let found = body["index_templates"]
        .as_array()
        .is_some_and(|templates| !templates.is_empty());
    if !found && !name.contains('*') {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "resource_not_found_exception",
            format!("index template matching [{name}] not found"),
        ));
    }
    Ok(ok(&body))
}

/// `HEAD /_index_template/{name}`.
pub async fn head(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    if state.store.templates(&name).is_empty() {
        StatusCode::NOT_FOUND.into_response()
    } else {
        StatusCode::OK.into_response()
    }
}

/// `DELETE /_index_template/{name}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if state.store.delete_template(&name)? {
        Ok(ok(&json!({"acknowledged": true})))
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "resource_not_found_exception",
            format!("index_template [{name}] missing"),
        ))
    }
}
