//! `/_logfleet/dashboards`: dashboards as data, kept durably in the data directory.
//!
//! A dashboard is a JSON object with a non-empty `title` and, when it has any, a `panels`
//! array of objects; everything else (variables, time range, layout, each panel's query and
//! visualization) belongs to the UI and is kept as given. The server adds `id`,
//! `created_at` and `updated_at`. The dashboards shipped in the repository's `dashboards/`
//! folder are installed on a data directory's first start ([`install_prebuilt`]) and marked
//! `"prebuilt": true`; one a user deletes stays deleted.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_store::{Store, StoreResult};
use serde_json::{Map, Value, json};

use super::objects::{check_id, now_rfc3339, read_object};
use crate::AppState;
use crate::error::ApiError;
use crate::response::{json_response, ok};

const KIND: &str = "dashboards";
/// Records which prebuilt dashboards were installed once, so that a deleted one stays deleted.
const INSTALLED_KIND: &str = "dashboards_installed";
const MAX_TITLE_CHARS: usize = 256;
/// The members a dashboard's summary in the list carries over as they are.
const SUMMARY_MEMBERS: [&str; 6] = [
    "id",
    "title",
    "description",
    "tags",
    "created_at",
    "updated_at",
];

/// `GET /_logfleet/dashboards`: a summary of each, by title.
pub async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut summaries: Vec<Value> = state
        .store
        .objects(KIND)?
        .into_values()
        .map(|dashboard| summary(&dashboard))
        .collect();
    summaries.sort_by_cached_key(|summary| {
        let title = summary["title"].as_str().unwrap_or_default().to_lowercase();
        (title, summary["id"].as_str().unwrap_or_default().to_owned())
    });
    Ok(ok(&Value::Array(summaries)))
}

fn summary(dashboard: &Value) -> Value {
    let mut summary = Map::new();
    for member in SUMMARY_MEMBERS {
        if let Some(value) = dashboard.get(member) {
            summary.insert(member.to_owned(), value.clone());
        }
    }
    let panels = dashboard["panels"].as_array().map_or(0, Vec::len);
    summary.insert("panels".to_owned(), json!(panels));
    summary.insert(
        "prebuilt".to_owned(),
        json!(dashboard["prebuilt"].as_bool().unwrap_or(false)),
    );
    Value::Object(summary)
}

/// `GET /_logfleet/dashboards/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.store.object(KIND, &id)? {
        Some(dashboard) => Ok(ok(&dashboard)),
        None => Err(not_found(&id)),
    }
}

/// `POST /_logfleet/dashboards`: a new dashboard, under an id the server picks.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_dashboard(&state, &headers, body).await?;
    let id = logfleet_store::new_uuid();
    let dashboard = stamp(&state.store, &id, body)?;
    state.store.put_object(KIND, &id, dashboard.clone())?;
    Ok(json_response(StatusCode::CREATED, &dashboard))
}

/// `PUT /_logfleet/dashboards/{id}`: creates or replaces one.
pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_id(&id, "dashboard")?;
    let body = read_dashboard(&state, &headers, body).await?;
    let dashboard = stamp(&state.store, &id, body)?;
    let status = if state.store.put_object(KIND, &id, dashboard.clone())? {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &dashboard))
}

/// `DELETE /_logfleet/dashboards/{id}`.
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

/// Installs the prebuilt dashboards (`(file name, JSON text)` pairs) that this data directory
/// has never had, and returns how many it installed. A file that is not a valid dashboard is
/// an error: it ships in the binary, so it is a bug.
pub fn install_prebuilt(store: &Store, files: &[(&str, &str)]) -> Result<usize, ApiError> {
    let mut installed = 0;
    for (name, text) in files {
        let invalid = |reason: String| {
            ApiError::illegal_argument(format!("prebuilt dashboard {name}: {reason}"))
        };
        let Ok(Value::Object(mut body)) = serde_json::from_str::<Value>(text) else {
            return Err(invalid("not a JSON object".to_owned()));
        };
        let id = match body.remove("id") {
            Some(Value::String(id)) if check_id(&id, "dashboard").is_ok() => id,
            _ => return Err(invalid("no valid \"id\"".to_owned())),
        };
        validate(&body).map_err(|error| invalid(error.reason.clone()))?;
        if store.object(INSTALLED_KIND, &id)?.is_some() {
            continue;
        }
        body.insert("prebuilt".to_owned(), Value::Bool(true));
        let dashboard = stamp(store, &id, body)?;
        store.put_object(KIND, &id, dashboard)?;
        store.put_object(
            INSTALLED_KIND,
            &id,
            json!({ "installed_at": now_rfc3339() }),
        )?;
        installed += 1;
    }
    Ok(installed)
}

async fn read_dashboard(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, ApiError> {
    let body = read_object(
        state,
        headers,
        body,
        "a dashboard is a JSON object with a \"title\" and \"panels\"",
    )
    .await?;
    validate(&body)?;
    Ok(body)
}

fn validate(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.get("title") {
        Some(Value::String(title)) if !title.trim().is_empty() => {
            if title.chars().count() > MAX_TITLE_CHARS {
                return Err(ApiError::illegal_argument(format!(
                    "[title] must be at most {MAX_TITLE_CHARS} characters"
                )));
            }
        }
        _ => {
            return Err(ApiError::illegal_argument(
                "[title] must be a non-empty string",
            ));
        }
    }
    match body.get("panels") {
        None => {}
        Some(Value::Array(panels)) if panels.iter().all(Value::is_object) => {}
        Some(_) => {
            return Err(ApiError::illegal_argument(
                "[panels] must be an array of objects",
            ));
        }
    }
    Ok(())
}

/// The stored form of `body` under `id`: the path's id (a different one in the body is
/// refused), the creation time kept from an existing dashboard, the update time now.
fn stamp(store: &Store, id: &str, mut body: Map<String, Value>) -> Result<Value, ApiError> {
    match body.remove("id") {
        Some(Value::String(given)) if given != id => {
            return Err(ApiError::illegal_argument(format!(
                "the dashboard's [id] is [{given}] but the request is for [{id}]"
            )));
        }
        Some(Value::String(_)) | None => {}
        Some(_) => return Err(ApiError::illegal_argument("[id] must be a string")),
    }
    for server_owned in ["created_at", "updated_at"] {
        body.remove(server_owned);
    }
    let now = now_rfc3339();
    let created_at = existing_created_at(store, id)?.unwrap_or_else(|| json!(now));
    let mut dashboard = Map::new();
    dashboard.insert("id".to_owned(), json!(id));
    dashboard.extend(body);
    dashboard.insert("created_at".to_owned(), created_at);
    dashboard.insert("updated_at".to_owned(), json!(now));
    Ok(Value::Object(dashboard))
}

fn existing_created_at(store: &Store, id: &str) -> StoreResult<Option<Value>> {
    Ok(store
        .object(KIND, id)?
        .and_then(|existing| existing.get("created_at").cloned()))
}

fn not_found(id: &str) -> ApiError {
    super::objects::not_found("dashboard", "dashboard", id)
}
