//! Single documents: `_doc`, `_create`, `_source`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use logfleet_store::{DocumentOp, PRIMARY_TERM, WriteCondition, WriteRequest};
use serde_json::{Map, Value, json};

use super::write::{
    Prepared, WriteResponse, apply_refresh, dropped_response, execute_one, outcome_status,
    pipeline_param, prepare_document,
};
use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::{json_response, ok};

const WRITE_PARAMETERS: &[&str] = &[
    "refresh",
    "op_type",
    "pipeline",
    "routing",
    "version",
    "version_type",
    "if_seq_no",
    "if_primary_term",
    "wait_for_active_shards",
    "require_alias",
    "require_data_stream",
];
const READ_PARAMETERS: &[&str] = &[
    "_source",
    "_source_includes",
    "_source_excludes",
    "realtime",
    "refresh",
    "routing",
    "preference",
    "stored_fields",
    "version",
    "version_type",
];

/// `POST /{index}/_doc`.
pub async fn index_auto_id(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    write_one(
        &state,
        &index,
        None,
        DocumentOp::Create,
        &params,
        &headers,
        body,
    )
    .await
}

/// `PUT|POST /{index}/_doc/{id}`.
pub async fn index_with_id(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let op = match params.get("op_type").map(String::as_str) {
        None | Some("index") => DocumentOp::Index,
        Some("create") => DocumentOp::Create,
        Some(other) => {
            return Err(ApiError::illegal_argument(format!(
                "opType must be 'create' or 'index', found: [{other}]"
            )));
        }
    };
    write_one(&state, &index, Some(id), op, &params, &headers, body).await
}

/// `PUT|POST /{index}/_create/{id}`.
pub async fn create_with_id(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    write_one(
        &state,
        &index,
        Some(id),
        DocumentOp::Create,
        &params,
        &headers,
        body,
    )
    .await
}

async fn write_one(
    state: &AppState,
    index: &str,
    id: Option<String>,
    op: DocumentOp,
    params: &Params,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(params, &format!("/{index}/_doc"), WRITE_PARAMETERS)?;
    let refresh = params::refresh(params)?;
    if id.as_ref().is_some_and(|id| id.len() > 512) {
        return Err(ApiError::illegal_argument(
            "id is too long, must be no longer than 512 bytes",
        ));
    }
    let body = read_body(headers, body, state.config.max_content_length).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: source is missing;",
        ));
    }
    let (prepared, failure_store) =
        match prepare_document(state, index, op, id, body, pipeline_param(params))? {
            Prepared::Write(prepared) => (prepared, false),
            Prepared::FailureStore(prepared) => (prepared, true),
            Prepared::Dropped { index, id } => {
                let mut response = dropped_response(&index, id.as_deref());
                if let Value::Object(response) = &mut response {
                    response.remove("status");
                }
                return Ok(ok(&response));
            }
        };
    let mut prepared = prepared;
    if let Some(condition) = write_condition(params)? {
        if op == DocumentOp::Create {
            return Err(validation(
                "Validation Failed: 1: create operations do not support compare and set. use index instead;",
            ));
        }
        prepared.require(condition);
    }
    let outcome = execute_one(state, prepared).await?;
    let forced = apply_refresh(state, refresh, Some(outcome.seq)).await?;
    let forced = forced && refresh == params::Refresh::Immediate;
    Ok(json_response(
        outcome_status(&outcome),
        &WriteResponse::new(&outcome, forced).with_failure_store(failure_store),
    ))
}

/// `GET /{index}/_doc/{id}`.
pub async fn get_document(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_doc/{id}"), READ_PARAMETERS)?;
    let filter = logfleet_query::SourceFilter::from_url(
        params.get("_source").map(String::as_str),
        params.get("_source_includes").map(String::as_str),
        params.get("_source_excludes").map(String::as_str),
    )
    .unwrap_or_default();
    match state.store.get(&index, &id).await? {
        Some(document) => Ok(ok(&found_body(&id, &document, &filter))),
        None => Ok(json_response(
            StatusCode::NOT_FOUND,
            &json!({"_index": index, "_id": id, "found": false}),
        )),
    }
}

/// `if_seq_no` and `if_primary_term`: a write that goes ahead only if the document is the
/// one the client last read. Both or neither, as Elasticsearch validates them.
pub(crate) fn write_condition(params: &Params) -> Result<Option<WriteCondition>, ApiError> {
    let number = |name: &str| -> Result<Option<u64>, ApiError> {
        params
            .get(name)
            .map(|value| {
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|number| *number >= 0)
                    .map(|number| number as u64)
                    .ok_or_else(|| {
                        ApiError::illegal_argument(format!(
                            "Failed to parse long parameter [{name}] with value [{value}]"
                        ))
                    })
            })
            .transpose()
    };
    condition_of(number("if_seq_no")?, number("if_primary_term")?)
}

/// The condition `if_seq_no` and `if_primary_term` make (from URL parameters or a bulk
/// action line): both or neither, as Elasticsearch validates them.
pub(crate) fn condition_of(
    if_seq_no: Option<u64>,
    if_primary_term: Option<u64>,
) -> Result<Option<WriteCondition>, ApiError> {
    match (if_seq_no, if_primary_term) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(validation(
            "Validation Failed: 1: ifSeqNo is set, but primary term is [0];",
        )),
        (None, Some(term)) => Err(validation(&format!(
            "Validation Failed: 1: ifSeqNo is unassigned, but primary term is [{term}];"
        ))),
        (Some(if_seq_no), Some(if_primary_term)) => Ok(Some(WriteCondition {
            if_seq_no,
            if_primary_term,
        })),
    }
}

/// A document found, as `GET /{index}/_doc/{id}` and `_mget` show it.
fn found_body(
    id: &str,
    document: &logfleet_store::StoredDocument,
    filter: &logfleet_query::SourceFilter,
) -> Value {
    let mut body = Map::new();
    body.insert("_index".into(), json!(document.index));
    body.insert("_id".into(), json!(id));
    body.insert("_version".into(), json!(document.version));
    body.insert("_seq_no".into(), json!(document.seq));
    body.insert("_primary_term".into(), json!(PRIMARY_TERM));
    body.insert("found".into(), json!(true));
    let source: Map<String, Value> = serde_json::from_slice(&document.source).unwrap_or_default();
    if let Some(filtered) = filter.apply(source) {
        body.insert("_source".into(), Value::Object(filtered));
    }
    Value::Object(body)
}

const MGET_PARAMETERS: &[&str] = &[
    "_source",
    "_source_includes",
    "_source_excludes",
    "realtime",
    "refresh",
    "routing",
    "preference",
    "stored_fields",
];

/// `GET|POST /_mget`.
pub async fn mget_all(
    state: State<AppState>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    mget(state, None, params, headers, body).await
}

/// `GET|POST /{index}/_mget`.
pub async fn mget_index(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    mget(state, Some(index), params, headers, body).await
}

/// Several documents by id: `{"docs": [{"_index", "_id", "_source"?}…]}`, or `{"ids": […]}`
/// with the index in the path. Each answer stands alone: a document not found is
/// `"found": false`, a missing index an error in its place.
async fn mget(
    State(state): State<AppState>,
    index: Option<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let path = index
        .as_ref()
        .map_or_else(|| "/_mget".to_owned(), |index| format!("/{index}/_mget"));
    params::check(&params, &path, MGET_PARAMETERS)?;
    let url_filter = logfleet_query::SourceFilter::from_url(
        params.get("_source").map(String::as_str),
        params.get("_source_includes").map(String::as_str),
        params.get("_source_excludes").map(String::as_str),
    );
    let bytes = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&bytes, "parsing_exception")?
        .ok_or_else(|| validation("Validation Failed: 1: no documents to get;"))?;
    let requests = mget_requests(&body, index.as_deref())?;
    if requests.is_empty() {
        return Err(validation("Validation Failed: 1: no documents to get;"));
    }
    let mut docs = Vec::with_capacity(requests.len());
    for request in requests {
        let filter = match &request.source {
            Some(source) => logfleet_query::SourceFilter::parse(source)?,
            None => url_filter.clone().unwrap_or_default(),
        };
        let entry = match state.store.get(&request.index, &request.id).await {
            Ok(Some(document)) => found_body(&request.id, &document, &filter),
            Ok(None) => json!({"_index": request.index, "_id": request.id, "found": false}),
            Err(error) => {
                let error = ApiError::from(error);
                json!({"_index": request.index, "_id": request.id, "error": error.to_error_object()})
            }
        };
        docs.push(entry);
    }
    Ok(ok(&json!({"docs": docs})))
}

pub(crate) fn validation(reason: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "action_request_validation_exception",
        reason,
    )
}

/// One document `_mget` asks for.
struct MgetRequest {
    index: String,
    id: String,
    source: Option<Value>,
}

fn mget_requests(body: &Value, index: Option<&str>) -> Result<Vec<MgetRequest>, ApiError> {
    let id_of = |value: &Value| match value {
        Value::String(id) => Some(id.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    if let Some(ids) = body.get("ids") {
        let Value::Array(ids) = ids else {
            return Err(ApiError::parsing("[ids] must be an array"));
        };
        let Some(index) = index else {
            return Err(validation(
                "Validation Failed: 1: index is missing for doc 0;",
            ));
        };
        return ids
            .iter()
            .map(|id| {
                id_of(id)
                    .map(|id| MgetRequest {
                        index: index.to_owned(),
                        id,
                        source: None,
                    })
                    .ok_or_else(|| ApiError::parsing("[ids] must hold strings"))
            })
            .collect();
    }
    let Some(Value::Array(docs)) = body.get("docs") else {
        return Err(validation("Validation Failed: 1: no documents to get;"));
    };
    let mut requests = Vec::with_capacity(docs.len());
    let mut problems = Vec::new();
    for (position, doc) in docs.iter().enumerate() {
        let Value::Object(doc) = doc else {
            return Err(ApiError::parsing("[docs] must hold objects"));
        };
        let doc_index = doc
            .get("_index")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| index.map(str::to_owned));
        let id = doc.get("_id").and_then(id_of);
        match (doc_index, id) {
            (Some(index), Some(id)) => requests.push(MgetRequest {
                index,
                id,
                source: doc.get("_source").cloned(),
            }),
            (None, _) => problems.push(format!("index is missing for doc {position}")),
            (_, None) => problems.push(format!("id is missing for doc {position}")),
        }
    }
    if !problems.is_empty() {
        let listed: Vec<String> = problems
            .iter()
            .enumerate()
            .map(|(number, problem)| format!("{}: {problem};", number + 1))
            .collect();
        return Err(validation(&format!(
            "Validation Failed: {}",
            listed.join("")
        )));
    }
    Ok(requests)
}

/// `HEAD /{index}/_doc/{id}`.
pub async fn head_document(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
) -> Response {
    match state.store.get(&index, &id).await {
        Ok(Some(_)) => StatusCode::OK.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /{index}/_source/{id}`.
pub async fn get_source(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    match state.store.get(&index, &id).await? {
        Some(document) => {
            let source: Value = serde_json::from_slice(&document.source).unwrap_or(Value::Null);
            Ok(ok(&source))
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "resource_not_found_exception",
            format!("Document not found [{index}]/[{id}]"),
        )),
    }
}

/// `HEAD /{index}/_source/{id}`.
pub async fn head_source(state: State<AppState>, path: Path<(String, String)>) -> Response {
    head_document(state, path).await
}

/// `DELETE /{index}/_doc/{id}`.
pub async fn delete_document(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_doc/{id}"), WRITE_PARAMETERS)?;
    let refresh = params::refresh(&params)?;
    let mut prepared = state
        .store
        .prepare(WriteRequest::Delete { target: index, id })?;
    if let Some(condition) = write_condition(&params)? {
        prepared.require(condition);
    }
    let outcome = execute_one(&state, prepared).await?;
    apply_refresh(&state, refresh, Some(outcome.seq)).await?;
    Ok(json_response(
        outcome_status(&outcome),
        &WriteResponse::new(&outcome, false),
    ))
}
