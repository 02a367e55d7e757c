//! What the `/_logfleet/` endpoints that keep JSON objects in the data directory (saved
//! searches, dashboards) share: ids, timestamps, bodies and their errors.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;

/// The longest id an object may have.
pub const MAX_ID_CHARS: usize = 64;

/// Checks an id given in a path: 1 to 64 ASCII letters, digits, `-` or `_`, so that it is
/// safe as a file name and in a URL. `what` names the object in the error.
pub fn check_id(id: &str, what: &str) -> Result<(), ApiError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::illegal_argument(format!(
            "invalid {what} id [{id}]: use 1 to {MAX_ID_CHARS} letters, digits, '-' or '_'"
        )))
    }
}

/// `404 resource_not_found_exception` for a missing object, as Elasticsearch answers for a
/// missing saved resource.
pub fn not_found(what: &str, resource_type: &str, id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "resource_not_found_exception",
        format!("{what} [{id}] not found"),
    )
    .with("resource.type", json!(resource_type))
    .with("resource.id", json!(id))
}

/// Reads a request body that must be one JSON object; `shape` says what is expected.
pub async fn read_object(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    shape: &str,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = read_body(headers, body, state.config.max_content_length).await?;
    match parse_json(&bytes, "parsing_exception")? {
        Some(Value::Object(object)) => Ok(object),
        _ => Err(ApiError::parsing(shape)),
    }
}

/// Now, as the RFC 3339 text objects record their creation and update times in.
pub fn now_rfc3339() -> String {
    logfleet_time::format_epoch_millis(logfleet_store::now_millis())
}
