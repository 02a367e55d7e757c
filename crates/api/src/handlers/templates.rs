//! `_index_template` (composable templates), `_component_template` (their parts) and
//! `_template` (legacy ones).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use logfleet_store::{DynamicStyle, render_settings};
use serde_json::{Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::{json_response, ok};

/// Reads a template body (which is required), checking the names and filters of its
/// aliases at `aliases_pointer`.
async fn template_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    missing: &str,
    aliases_pointer: &str,
) -> Result<Value, ApiError> {
    let body = read_body(headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            format!("Validation Failed: 1: {missing};"),
        )
    })?;
    if let Some(aliases) = body.pointer(aliases_pointer) {
        super::aliases::check_aliases_object(aliases)?;
    }
    Ok(body)
}

/// The answer of a `DELETE` request: acknowledged, or 404 with Elasticsearch's error.
fn deleted(removed: bool, kind: &str, reason: String) -> Result<Response, ApiError> {
    if removed {
        Ok(ok(&json!({"acknowledged": true})))
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, kind, reason))
    }
}

/// The answer of a `HEAD` request.
fn exists(found: bool) -> Response {
    if found {
        StatusCode::OK.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// `PUT /_index_template/{name}`.
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = template_body(
        &state,
        &headers,
        body,
        "index template is missing",
        "/template/aliases",
    )
    .await?;
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
    exists(!state.store.templates(&name).is_empty())
}

/// `DELETE /_index_template/{name}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let removed = state.store.delete_template(&name)?;
    deleted(
        removed,
        "resource_not_found_exception",
        format!("index_template [{name}] missing"),
    )
}

/// `PUT /_template/{name}` (legacy templates; `?create=true` refuses to replace one).
pub async fn put_legacy(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/_template/{name}"),
        &["create", "order", "master_timeout", "timeout", "cause"],
    )?;
    let mut body = template_body(
        &state,
        &headers,
        body,
        "index patterns are missing",
        "/aliases",
    )
    .await?;
    if let Some(order) = params.get("order") {
        let order: i64 = order.parse().map_err(|_| {
            ApiError::illegal_argument(format!("[order] must be an integer, got [{order}]"))
        })?;
        if let Value::Object(object) = &mut body {
            object.insert("order".into(), json!(order));
        }
    }
    let create = params::flag(&params, "create")?;
    state.store.put_legacy_template(&name, &body, create)?;
    Ok(ok(&json!({"acknowledged": true})))
}

fn render_legacy(state: &AppState, names: &str) -> Value {
    let templates: serde_json::Map<String, Value> = state
        .store
        .legacy_templates(names)
        .into_iter()
        .map(|template| (template.name.clone(), template.to_json()))
        .collect();
    Value::Object(templates)
}

/// `GET /_template`.
pub async fn get_all_legacy(State(state): State<AppState>) -> Response {
    ok(&render_legacy(&state, "*"))
}

/// `GET /_template/{name}`: names and patterns, comma-separated; `404 {}` when a name
/// without wildcards matches nothing, as in Elasticsearch.
pub async fn get_legacy(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let body = render_legacy(&state, &name);
    let missing = body.as_object().is_some_and(serde_json::Map::is_empty) && !name.contains('*');
    let status = if missing {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    json_response(status, &body)
}

/// `HEAD /_template/{name}`.
pub async fn head_legacy(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    exists(!state.store.legacy_templates(&name).is_empty())
}

/// `DELETE /_template/{name}`.
pub async fn delete_legacy(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let removed = state.store.delete_legacy_template(&name)?;
    deleted(
        removed,
        "index_template_missing_exception",
        format!("index_template [{name}] missing"),
    )
}

/// `PUT /_component_template/{name}` (`?create=true` refuses to replace one).
pub async fn put_component(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/_component_template/{name}"),
        &["create", "master_timeout", "cause"],
    )?;
    let body = template_body(
        &state,
        &headers,
        body,
        "a component template is required",
        "/template/aliases",
    )
    .await?;
    let create = params::flag(&params, "create")?;
    state.store.put_component_template(&name, &body, create)?;
    Ok(ok(&json!({"acknowledged": true})))
}

fn render_components(state: &AppState, names: &str) -> Vec<Value> {
    state
        .store
        .component_templates(names)
        .into_iter()
        .map(|component| json!({"name": component.name, "component_template": component.body}))
        .collect()
}

/// `GET /_component_template`.
pub async fn get_all_components(State(state): State<AppState>) -> Response {
    ok(&json!({"component_templates": render_components(&state, "*")}))
}

/// `GET /_component_template/{name}`: names and patterns, comma-separated.
pub async fn get_component(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let components = render_components(&state, &name);
    if components.is_empty() && !name.contains('*') {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "resource_not_found_exception",
            format!("component template matching [{name}] not found"),
        ));
    }
    Ok(ok(&json!({"component_templates": components})))
}

/// `HEAD /_component_template/{name}`.
pub async fn head_component(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    exists(!state.store.component_templates(&name).is_empty())
}

/// `DELETE /_component_template/{name}`.
pub async fn delete_component(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let removed = state.store.delete_component_template(&name)?;
    deleted(removed, "resource_not_found_exception", name.clone())
}

/// `POST|GET /_index_template/_simulate_index/{name}`: what an index or data stream of that
/// name would be created with, and which other templates match it.
pub async fn simulate_index(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let name = crate::date_math::resolve_name(&name)?.into_owned();
    let (chosen, overlapping) = state.store.simulate_template(&name);
    let template = match chosen {
        Some(template) => {
            let style = if template.data_stream {
                DynamicStyle::DataStream
            } else {
                DynamicStyle::Index
            };
            let aliases: serde_json::Map<String, Value> = template
                .aliases(&name)?
                .into_iter()
                .map(|(alias, properties)| (alias, properties.to_json()))
                .collect();
            json!({
                "settings": render_settings(&template.body["template"]["settings"]),
                "mappings": template.mapping(style)?.to_es_json(),
                "aliases": aliases,
            })
        }
        None => json!({"settings": {}, "mappings": {}, "aliases": {}}),
    };
    let overlapping: Vec<Value> = overlapping
        .into_iter()
        .map(|template| json!({"name": template.name, "index_patterns": template.index_patterns}))
        .collect();
    Ok(ok(
        &json!({"template": template, "overlapping": overlapping}),
    ))
}
