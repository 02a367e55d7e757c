//! Elasticsearch's ingest API: `/_ingest/pipeline` (store, read, delete, simulate),
//! `/_ingest/_simulate` and `/_ingest/processor/grok`.
//!
//! Pipelines are compiled when they are stored, so a bad processor is a `400` then, never a
//! failure at ingest time; their definitions are kept as given in the data directory
//! (`objects/ingest_pipelines.json`) and compiled again at start-up.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_model::json::JsonObject;
use logfleet_pipeline::{ConfigError, Flow, IngestDocument, Pipeline, Pipelines, Run};
use logfleet_store::Store;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::{json_response, ok};
use logfleet_store::{Expression, wildcard_match};

/// Where pipeline definitions are kept.
const KIND: &str = "ingest_pipelines";
const MAX_ID_BYTES: usize = 512;

/// Compiles the pipelines stored in `store` into `pipelines`. One that no longer compiles
/// (written by a build that knew a processor this one does not) is logged and left out.
pub fn load_pipelines(store: &Store, pipelines: &Pipelines) {
    let stored = match store.objects(KIND) {
        Ok(stored) => stored,
        Err(error) => {
            tracing::error!(%error, "reading the stored ingest pipelines");
            return;
        }
    };
    for (id, definition) in stored {
        if let Err(error) = pipelines.put(&id, &definition) {
            tracing::error!(pipeline = %id, %error, "a stored ingest pipeline does not compile; it is not used");
        }
    }
}

/// Stores the built-in `logs@microservices` pipeline if the data directory has none of that
/// id: it is there from the first start, and one a user replaced is left alone. One that was
/// deleted comes back at the next start, as Elasticsearch's managed pipelines do.
pub fn install_builtin(store: &Store) {
    let id = logfleet_pipeline::MICROSERVICES_PIPELINE;
    match store.object(KIND, id) {
        Ok(Some(_)) => {}
        Ok(None) => {
            let definition: Value =
                serde_json::from_str(logfleet_pipeline::MICROSERVICES_PIPELINE_DEFINITION)
                    .unwrap_or_else(|error| {
                        unreachable!("the built-in pipeline is valid JSON: {error}")
                    });
            if let Err(error) = store.put_object(KIND, id, definition) {
                tracing::error!(%error, pipeline = id, "storing the built-in ingest pipeline");
            }
        }
        Err(error) => tracing::error!(%error, "reading the stored ingest pipelines"),
    }
}

/// Stores the pipelines the configuration defines, replacing stored ones of the same ids.
pub fn install_configured(
    store: &Store,
    pipelines: &Pipelines,
    configured: &std::collections::BTreeMap<String, Value>,
) -> Result<(), ApiError> {
    for (id, definition) in configured {
        check_id(id)?;
        let pipeline = pipelines.compile(id, definition).map_err(|error| {
            let mut error = config_error(error);
            error.reason = format!("pipeline [{id}] in the configuration: {}", error.reason);
            error
        })?;
        store.put_object(KIND, id, definition.clone())?;
        pipelines.insert(pipeline);
    }
    Ok(())
}

/// `ConfigError` → Elasticsearch's `400` with the processor's type, tag and property.
pub fn config_error(error: ConfigError) -> ApiError {
    let mut api = ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.reason);
    if let Some(processor_type) = error.processor_type {
        api = api.with("processor_type", json!(processor_type));
    }
    if let Some(tag) = error.processor_tag {
        api = api.with("processor_tag", json!(tag));
    }
    if let Some(property) = error.property_name {
        api = api.with("property_name", json!(property));
    }
    api
}

fn check_id(id: &str) -> Result<(), ApiError> {
    let invalid = id.is_empty()
        || id.len() > MAX_ID_BYTES
        || id.starts_with('_')
        || id.chars().any(|character| {
            character.is_whitespace()
                || matches!(character, '*' | ',' | '"' | '\\' | '/' | '?' | '#')
        });
    if invalid {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            format!(
                "Invalid pipeline id [{id}]: ids are 1 to {MAX_ID_BYTES} bytes, do not start with '_' \
                 and contain no whitespace or any of * , \" \\ / ? #"
            ),
        ));
    }
    Ok(())
}

/// `PUT /_ingest/pipeline/{id}`.
pub async fn put_pipeline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, "/_ingest/pipeline/{id}", &["if_version"])?;
    check_id(&id)?;
    let bytes = read_body(&headers, body, state.config.max_content_length).await?;
    let Some(definition) = parse_json(&bytes, "parse_exception")? else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "request body is required",
        ));
    };
    if let Some(required) = params.get("if_version") {
        let required: i64 = required.parse().map_err(|_| {
            ApiError::illegal_argument(format!(
                "failed to parse [if_version] with value [{required}] as a number"
            ))
        })?;
        let current = state.pipelines.get(&id);
        let conflict = match &current {
            None => Some(format!(
                "version conflict, required version [{required}] for pipeline [{id}] but no pipeline was found"
            )),
            Some(pipeline) if pipeline.version() != Some(required) => Some(format!(
                "version conflict, required version [{required}] for pipeline [{id}] but current version is [{}]",
                pipeline
                    .version()
                    .map_or_else(|| "none".to_owned(), |version| version.to_string())
            )),
            Some(_) => None,
        };
        if let Some(reason) = conflict {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict_engine_exception",
                reason,
            ));
        }
    }
    let pipeline = state
        .pipelines
        .compile(&id, &definition)
        .map_err(config_error)?;
    state.store.put_object(KIND, &id, definition)?;
    state.pipelines.insert(pipeline);
    Ok(ok(&json!({"acknowledged": true})))
}

/// `GET /_ingest/pipeline`.
pub async fn get_all_pipelines(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    pipelines_response(&state, "*", &params)
}

/// `GET /_ingest/pipeline/{id}`: ids, comma-separated, with wildcards.
pub async fn get_pipelines(
    State(state): State<AppState>,
    Path(ids): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    pipelines_response(&state, &ids, &params)
}

fn pipelines_response(state: &AppState, ids: &str, params: &Params) -> Result<Response, ApiError> {
    params::check(params, "/_ingest/pipeline", &["summary"])?;
    let summary = params::flag(params, "summary")?;
    let ids = Expression::parse(ids);
    let mut found = Map::new();
    for pipeline in state.pipelines.all() {
        if ids.matches(pipeline.id()) {
            let definition = if summary {
                Map::new()
            } else {
                pipeline.definition().clone()
            };
            found.insert(pipeline.id().to_owned(), Value::Object(definition));
        }
    }
    if found.is_empty() && !ids.is_all() {
        return Ok(json_response(StatusCode::NOT_FOUND, &json!({})));
    }
    Ok(ok(&Value::Object(found)))
}

/// `DELETE /_ingest/pipeline/{id}`: ids, comma-separated, with wildcards.
pub async fn delete_pipeline(
    State(state): State<AppState>,
    Path(ids): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_ingest/pipeline/{id}", &[])?;
    let mut deleted = Vec::new();
    for pattern in ids.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        let matching: Vec<Arc<Pipeline>> = state
            .pipelines
            .all()
            .into_iter()
            .filter(|pipeline| wildcard_match(pattern, pipeline.id()))
            .collect();
        if matching.is_empty() && !pattern.contains('*') {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "resource_not_found_exception",
                format!("pipeline [{pattern}] is missing"),
            ));
        }
        deleted.extend(
            matching
                .into_iter()
                .map(|pipeline| pipeline.id().to_owned()),
        );
    }
    for id in &deleted {
        let users = state.store.targets_using_pipeline(id);
        if let Some(first) = users.first() {
            return Err(ApiError::illegal_argument(format!(
                "pipeline [{id}] cannot be deleted because it is the default or final pipeline for {} index(es) including [{first}]",
                users.len()
            )));
        }
    }
    for id in deleted {
        state.store.delete_object(KIND, &id)?;
        state.pipelines.remove(&id);
    }
    Ok(ok(&json!({"acknowledged": true})))
}

/// The JSON object of a simulate request.
async fn read_simulate_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = read_body(headers, body, state.config.max_content_length).await?;
    match parse_json(&bytes, "parse_exception")? {
        Some(Value::Object(request)) => Ok(request),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "request body is required",
        )),
    }
}

/// `POST /_ingest/pipeline/_simulate`: the pipeline is in the body.
pub async fn simulate_inline(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    simulate(&state, None, &params, &headers, body).await
}

/// `POST /_ingest/pipeline/{id}/_simulate`.
pub async fn simulate_stored(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    simulate(&state, Some(&id), &params, &headers, body).await
}

async fn simulate(
    state: &AppState,
    id: Option<&str>,
    params: &Params,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(params, "/_ingest/pipeline/_simulate", &["verbose"])?;
    let verbose = params::flag(params, "verbose")?;
    let mut request = read_simulate_request(state, headers, body).await?;
    let pipeline = match id {
        Some(id) => state
            .pipelines
            .get(id)
            .ok_or_else(|| ApiError::illegal_argument(format!("pipeline [{id}] does not exist")))?,
        None => {
            let definition = request.remove("pipeline").ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "parse_exception",
                    "[pipeline] required property is missing",
                )
                .with("property_name", json!("pipeline"))
            })?;
            Arc::new(
                state
                    .pipelines
                    .compile("_simulate_pipeline", &definition)
                    .map_err(config_error)?,
            )
        }
    };
    let documents = simulated_documents(&mut request)?;
    let mut results = Vec::with_capacity(documents.len());
    for mut document in documents {
        let mut run = if verbose {
            Run::traced(&*state.pipelines)
        } else {
            Run::new(&*state.pipelines)
        };
        logfleet_ingest::stamp_ingest(&mut document);
        let outcome = pipeline.execute(&mut document, &mut run);
        if verbose {
            results.push(json!({ "processor_results": run.trace.unwrap_or_default() }));
            continue;
        }
        results.push(match outcome {
            Ok(Flow::Drop) => Value::Null,
            Ok(_) => json!({ "doc": document.to_simulated() }),
            Err(error) => json!({ "error": error.to_json() }),
        });
    }
    Ok(ok(&json!({ "docs": results })))
}

/// The `docs` of a simulate request, each `{"_index", "_id", "_routing", "_source"}`.
fn simulated_documents(
    request: &mut Map<String, Value>,
) -> Result<Vec<IngestDocument<'static>>, ApiError> {
    let documents = match request.remove("docs") {
        Some(Value::Array(documents)) if !documents.is_empty() => documents,
        Some(Value::Array(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                "must specify at least one document in [docs]",
            ));
        }
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                "[docs] property isn't a list",
            ));
        }
        None => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                "[docs] required property is missing",
            )
            .with("property_name", json!("docs")));
        }
    };
    if let Some(unknown) = request.keys().next() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            format!(
                "unknown parameter [{unknown}] in the simulate request; expected [pipeline] and [docs]"
            ),
        ));
    }
    documents
        .into_iter()
        .map(|document| {
            let Value::Object(mut document) = document else {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "parse_exception",
                    "each of [docs] must be an object",
                ));
            };
            let source = match document.remove("_source") {
                Some(Value::Object(source)) => source,
                Some(_) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "parse_exception",
                        "[_source] must be an object",
                    ));
                }
                None => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "parse_exception",
                        "[_source] required property is missing",
                    )
                    .with("property_name", json!("_source")));
                }
            };
            let index = match document.remove("_index") {
                Some(Value::String(index)) => index,
                _ => "_index".to_owned(),
            };
            let mut ingest = IngestDocument::new(index, JsonObject::from_map(source));
            let id = match document.remove("_id") {
                Some(Value::String(id)) => id,
                Some(Value::Number(number)) => number.to_string(),
                _ => "_id".to_owned(),
            };
            ingest
                .metadata
                .insert("_id", logfleet_model::json::JsonValue::from(id));
            for key in ["_routing", "_version", "_version_type"] {
                if let Some(value) = document.remove(key) {
                    ingest
                        .metadata
                        .insert(key, logfleet_model::json::JsonValue::from_value(value));
                }
            }
            Ok(ingest)
        })
        .collect()
}

/// `POST /_ingest/_simulate`: documents through the pipelines a write to their index would
/// run (its default and final pipelines, or `?pipeline=`), with `pipeline_substitutions`
/// standing in for stored pipelines, and nothing written.
pub async fn simulate_ingest_all(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    simulate_ingest(&state, None, &params, &headers, body).await
}

/// `POST /_ingest/{index}/_simulate`: the same, for documents that name no index.
pub async fn simulate_ingest_index(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    simulate_ingest(&state, Some(&index), &params, &headers, body).await
}

async fn simulate_ingest(
    state: &AppState,
    default_index: Option<&str>,
    params: &Params,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(params, "/_ingest/_simulate", &["pipeline"])?;
    let mut request = read_simulate_request(state, headers, body).await?;
    let mut substitutions = std::collections::BTreeMap::new();
    if let Some(definitions) = request.remove("pipeline_substitutions") {
        let Value::Object(definitions) = definitions else {
            return Err(ApiError::parsing(
                "[pipeline_substitutions] must be an object of pipelines by id",
            ));
        };
        for (id, definition) in definitions {
            let pipeline = state
                .pipelines
                .compile(&id, &definition)
                .map_err(config_error)?;
            substitutions.insert(id, Arc::new(pipeline));
        }
    }
    for unsupported in [
        "component_template_substitutions",
        "index_template_substitutions",
        "mapping_addition",
    ] {
        if request.remove(unsupported).is_some() {
            return Err(ApiError::illegal_argument(format!(
                "[{unsupported}] is not supported by this version of Logfleet"
            )));
        }
    }
    let named_index: Vec<bool> = match request.get("docs") {
        Some(Value::Array(documents)) => documents
            .iter()
            .map(|document| document.get("_index").is_some())
            .collect(),
        _ => Vec::new(),
    };
    let documents = simulated_documents(&mut request)?;
    let mut results = Vec::with_capacity(documents.len());
    for (mut document, named) in documents
        .into_iter()
        .zip(named_index.into_iter().chain(std::iter::repeat(true)))
    {
        if !named {
            match default_index {
                Some(index) => document.target = index.to_owned(),
                None => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "action_request_validation_exception",
                        "Validation Failed: 1: index is missing;",
                    ));
                }
            }
        }
        let simulated = state.ingest.simulate(
            &mut document,
            params.get("pipeline").map(String::as_str),
            &substitutions,
        );
        let mut shown = Map::new();
        shown.insert(
            "_id".to_owned(),
            document
                .metadata
                .get("_id")
                .map_or(Value::Null, |id| id.to_value()),
        );
        shown.insert("_index".to_owned(), json!(document.target));
        shown.insert("_version".to_owned(), json!(-3));
        match simulated.outcome {
            Ok(Flow::Drop) => {}
            Ok(_) => {
                shown.insert(
                    "_source".to_owned(),
                    Value::Object(document.source.to_map()),
                );
            }
            Err(error) => {
                shown.insert(
                    "_source".to_owned(),
                    Value::Object(document.source.to_map()),
                );
                shown.insert("error".to_owned(), ApiError::from(error).to_item_error());
            }
        }
        shown.insert("executed_pipelines".to_owned(), json!(simulated.executed));
        results.push(json!({ "doc": shown }));
    }
    Ok(ok(&json!({ "docs": results })))
}

/// `GET /_ingest/processor/grok`: the pattern library.
pub async fn grok_patterns(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        "/_ingest/processor/grok",
        &["s", "ecs_compatibility"],
    )?;
    let ecs = match params.get("ecs_compatibility").map(String::as_str) {
        None | Some("disabled") => false,
        Some("v1") => true,
        Some(other) => {
            return Err(ApiError::illegal_argument(format!(
                "unsupported ECS compatibility mode [{other}]; expected [disabled] or [v1]"
            )));
        }
    };
    let patterns: Map<String, Value> = state
        .pipelines
        .resources()
        .grok_patterns
        .all(ecs)
        .into_iter()
        .map(|(name, pattern)| (name.to_owned(), json!(pattern)))
        .collect();
    Ok(ok(&json!({ "patterns": patterns })))
}
