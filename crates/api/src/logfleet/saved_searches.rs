//! `/_logfleet/saved-searches`: the explorer's saved searches, kept server-side so that
//! they follow a user from browser to browser and can be shared by name.
//!
//! A saved search is `{"id", "name", "state", "created_at", "updated_at"}`; `state` is
//! whatever JSON object the UI needs to restore the view (index pattern, query, time range,
//! columns, sort), kept as given.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::objects::{check_id, now_rfc3339, read_object};
use crate::AppState;
use crate::error::ApiError;
use crate::response::{json_response, ok};

const KIND: &str = "saved_searches";
const MAX_NAME_CHARS: usize = 256;

/// `GET /_logfleet/saved-searches`: all of them, by name.
pub async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut searches: Vec<Value> = state.store.objects(KIND)?.into_values().collect();
    searches.sort_by(|left, right| {
        let name = |search: &Value| search["name"].as_str().unwrap_or_default().to_lowercase();
        name(left).cmp(&name(right))
    });
    Ok(ok(&json!({ "saved_searches": searches })))
}

/// `GET /_logfleet/saved-searches/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.store.object(KIND, &id)? {
        Some(search) => Ok(ok(&search)),
        None => Err(not_found(&id)),
    }
}

/// `POST /_logfleet/saved-searches`: a new saved search, under an id the server picks.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (name, search_state) = parse(&state, &headers, body).await?;
    let id = logfleet_store::new_uuid();
    let now = now_rfc3339();
    let search = json!({
        "id": id,
        "name": name,
        "state": search_state,
        "created_at": now,
        "updated_at": now,
    });
    state.store.put_object(KIND, &id, search.clone())?;
    Ok(json_response(StatusCode::CREATED, &search))
}

/// `PUT /_logfleet/saved-searches/{id}`: renames or updates one (or creates it under that
/// id).
pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_id(&id, "saved search")?;
    let (name, search_state) = parse(&state, &headers, body).await?;
    let now = now_rfc3339();
    let created_at = state
        .store
        .object(KIND, &id)?
        .and_then(|existing| existing.get("created_at").cloned())
        .unwrap_or_else(|| json!(now));
    let search = json!({
        "id": id,
        "name": name,
        "state": search_state,
        "created_at": created_at,
        "updated_at": now,
    });
    let created = state.store.put_object(KIND, &id, search.clone())?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &search))
}

/// `DELETE /_logfleet/saved-searches/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state.store.delete_object(KIND, &id)? {
        Ok(ok(&json!({"acknowledged": true})))
    } else {
        Err(not_found(&id))
    }
}

async fn parse(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(String, Map<String, Value>), ApiError> {
    let mut body = read_object(
        state,
        headers,
        body,
        "a saved search is a JSON object with \"name\" and \"state\"",
    )
    .await?;
    let name = match body.remove("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => {
            return Err(ApiError::illegal_argument(
                "[name] must be a non-empty string",
            ));
        }
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::illegal_argument(format!(
            "[name] must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    let search_state = match body.remove("state") {
        Some(Value::Object(search_state)) => search_state,
        None => Map::new(),
        Some(_) => return Err(ApiError::illegal_argument("[state] must be an object")),
    };
    if let Some(unknown) = body.keys().next() {
        return Err(ApiError::illegal_argument(format!(
            "unknown field [{unknown}] in a saved search; expected [name] and [state]"
        )));
    }
    Ok((name, search_state))
}

fn not_found(id: &str) -> ApiError {
    super::objects::not_found("saved search", "saved_search", id)
}
