//! `_search` and `_count`.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use logfleet_query::{
    QueryAst, Scroll, SearchContext, SearchRequest, SearchUrlParameters, parse_count_body,
    parse_uri_query,
};
use logfleet_store::now_millis;
use serde_json::{Map, Value, json};

use super::contexts::{Contexts, MAX_OPEN_CONTEXTS, keep_alive_duration, search_context_missing};
use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::{json_response, ok};

const SEARCH_PARAMETERS: &[&str] = &[
    "scroll",
    "from",
    "size",
    "sort",
    "_source",
    "_source_includes",
    "_source_excludes",
    "track_total_hits",
    "q",
    "terminate_after",
    "version",
    "ignore_unavailable",
    "allow_no_indices",
    "expand_wildcards",
    "rest_total_hits_as_int",
    "typed_keys",
    "request_cache",
    "preference",
    "routing",
    "search_type",
    "batched_reduce_size",
    "ccs_minimize_roundtrips",
    "pre_filter_shard_size",
    "max_concurrent_shard_requests",
    "allow_partial_search_results",
    "seq_no_primary_term",
    "track_scores",
    "explain",
    "stats",
    "ignore_throttled",
    "df",
    "analyzer",
    "default_operator",
    "lenient",
    "analyze_wildcard",
];
const COUNT_PARAMETERS: &[&str] = &[
    "ignore_unavailable",
    "allow_no_indices",
    "expand_wildcards",
    "q",
    "routing",
    "preference",
    "min_score",
    "terminate_after",
    "ignore_throttled",
    "df",
    "analyzer",
    "default_operator",
    "lenient",
];

/// `GET|POST /_search`.
pub async fn search_all(
    state: State<AppState>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_search(state, "_all".to_owned(), params, headers, body).await
}

/// `GET|POST /{index}/_search`.
pub async fn search_index(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_search(state, index, params, headers, body).await
}

async fn run_search(
    State(state): State<AppState>,
    index: String,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_search"), SEARCH_PARAMETERS)?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?;
    if let Some(keep_alive) = params.get("scroll") {
        let response = start_scroll(&state, &index, body.as_ref(), &params, keep_alive).await?;
        return Ok(ok(&response));
    }
    let response = execute_search(&state, &index, body.as_ref(), &params).await?;
    Ok(ok(&response))
}

/// Open scrolls by id.
pub type Scrolls = Contexts<Scroll>;

async fn start_scroll(
    state: &AppState,
    index: &str,
    body: Option<&Value>,
    params: &Params,
    keep_alive: &str,
) -> Result<Value, ApiError> {
    let keep_alive = keep_alive_duration(keep_alive)?;
    if state.scrolls.lock().len() >= MAX_OPEN_CONTEXTS {
        return Err(ApiError::illegal_argument(format!(
            "Trying to create too many scroll contexts. Must be less than or equal to: [{MAX_OPEN_CONTEXTS}]."
        )));
    }
    let request = SearchRequest::parse(body, &url_parameters(params))?;
    let shards = state
        .store
        .search_shards(index, params::flag(params, "ignore_unavailable")?)
        .await?;
    let store = state.store.clone();
    let (scroll, page) = super::run_blocking("search", move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: now_millis(),
            request_cache: None,
        };
        let mut scroll = Scroll::start(shards, request, &context)?;
        let page = scroll.next_page(context.now_millis)?;
        Ok::<_, logfleet_query::QueryError>((scroll, page))
    })
    .await??;
    let id = logfleet_store::new_document_id();
    state
        .scrolls
        .lock()
        .insert(id.clone(), (scroll, Instant::now() + keep_alive));
    Ok(with_scroll_id(page, &id))
}

fn with_scroll_id(page: Value, id: &str) -> Value {
    let mut object = Map::new();
    object.insert("_scroll_id".into(), json!(id));
    if let Value::Object(page) = page {
        object.extend(page);
    }
    Value::Object(object)
}

/// `GET|POST /_search/scroll` with `{"scroll": "1m", "scroll_id": "…"}`.
pub async fn scroll_next(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        "/_search/scroll",
        &["scroll", "scroll_id", "rest_total_hits_as_int"],
    )?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.unwrap_or_else(|| json!({}));
    let id = body
        .get("scroll_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| params.get("scroll_id").cloned())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "action_request_validation_exception",
                "Validation Failed: 1: scrollId is missing;",
            )
        })?;
    let keep_alive = body
        .get("scroll")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| params.get("scroll").cloned());
    continue_scroll(&state, &id, keep_alive.as_deref()).await
}

/// `GET|POST /_search/scroll/{scroll_id}`.
pub async fn scroll_next_by_path(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        "/_search/scroll",
        &["scroll", "rest_total_hits_as_int"],
    )?;
    continue_scroll(&state, &id, params.get("scroll").map(String::as_str)).await
}

async fn continue_scroll(
    state: &AppState,
    id: &str,
    keep_alive: Option<&str>,
) -> Result<Response, ApiError> {
    let keep_alive = keep_alive.map(keep_alive_duration).transpose()?;
    // The scroll leaves the registry while its page is read, so concurrent calls with the
    // same id cannot interleave its position.
    let (mut scroll, expires) = state
        .scrolls
        .lock()
        .remove(id)
        .ok_or_else(|| search_context_missing(id))?;
    let (scroll, page) = super::run_blocking("scroll", move || {
        let page = scroll.next_page(now_millis());
        (scroll, page)
    })
    .await?;
    let expires = keep_alive.map_or(expires, |keep_alive| Instant::now() + keep_alive);
    state
        .scrolls
        .lock()
        .insert(id.to_owned(), (scroll, expires));
    Ok(ok(&with_scroll_id(page?, id)))
}

/// `DELETE /_search/scroll` with `{"scroll_id": "…" or ["…"]}`.
pub async fn clear_scroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.unwrap_or_else(|| json!({}));
    let ids: Vec<String> = match body.get("scroll_id") {
        Some(Value::String(id)) => vec![id.clone()],
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    Ok(clear(&state, &ids))
}

/// `DELETE /_search/scroll/{scroll_id}` (a comma list, or `_all`).
pub async fn clear_scroll_by_path(
    State(state): State<AppState>,
    Path(ids): Path<String>,
) -> Result<Response, ApiError> {
    let ids: Vec<String> = ids.split(',').map(str::to_owned).collect();
    Ok(clear(&state, &ids))
}

fn clear(state: &AppState, ids: &[String]) -> Response {
    let mut open = state.scrolls.lock();
    let freed = if ids.iter().any(|id| id == "_all") {
        let count = open.len();
        open.clear();
        count
    } else {
        ids.iter()
            .filter(|id| open.remove(id.as_str()).is_some())
            .count()
    };
    let status = if freed == 0 && !ids.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    json_response(status, &json!({"succeeded": true, "num_freed": freed}))
}

fn url_parameters(params: &Params) -> SearchUrlParameters {
    SearchUrlParameters {
        from: params.get("from").cloned(),
        size: params.get("size").cloned(),
        source: params.get("_source").cloned(),
        source_includes: params.get("_source_includes").cloned(),
        source_excludes: params.get("_source_excludes").cloned(),
        track_total_hits: params.get("track_total_hits").cloned(),
        terminate_after: params.get("terminate_after").cloned(),
        q: params.get("q").cloned(),
        version: params.get("version").cloned(),
        sort: params.get("sort").cloned(),
        default_field: params.get("df").cloned(),
        default_operator: params.get("default_operator").cloned(),
    }
}

/// Runs one search: the body (if any) with URL-style parameters over an index expression.
async fn execute_search(
    state: &AppState,
    index: &str,
    body: Option<&Value>,
    params: &Params,
) -> Result<Value, ApiError> {
    let mut request = SearchRequest::parse(body, &url_parameters(params))?;
    let total_as_int = params::flag(params, "rest_total_hits_as_int")?;
    if total_as_int {
        request.track_total_hits = logfleet_query::TrackTotalHits::Exact;
    }
    let pit_id = request.pit.as_ref().map(|pit| pit.id.clone());
    let shards = match &request.pit {
        Some(_) if index != "_all" => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "action_request_validation_exception",
                "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;",
            ));
        }
        Some(pit) => state
            .points_in_time
            .shards(&pit.id, pit.keep_alive.as_deref())?,
        None => {
            state
                .store
                .search_shards(index, params::flag(params, "ignore_unavailable")?)
                .await?
        }
    };
    let store = state.store.clone();
    // On unless `?request_cache=false`.
    let bypass_cache =
        params.contains_key("request_cache") && !params::flag(params, "request_cache")?;
    let request_cache = (!bypass_cache).then(|| state.request_cache.clone());
    let mut response = super::run_blocking("search", move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: now_millis(),
            request_cache: request_cache.as_deref(),
        };
        logfleet_query::search(&shards, &request, &context)
    })
    .await??;
    if let (Some(id), Value::Object(object)) = (pit_id, &mut response) {
        // Elasticsearch answers with the id first.
        let mut with_id = Map::new();
        with_id.insert("pit_id".into(), json!(id));
        with_id.extend(std::mem::take(object));
        *object = with_id;
    }
    if total_as_int && let Some(total) = response.pointer_mut("/hits/total") {
        let value = total.get("value").cloned().unwrap_or(json!(0));
        *total = value;
    }
    Ok(response)
}

/// `POST /_msearch`.
pub async fn msearch_all(
    state: State<AppState>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_msearch(state, None, params, headers, body).await
}

/// `POST /{index}/_msearch`.
pub async fn msearch_index(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_msearch(state, Some(index), params, headers, body).await
}

/// Header keys of `_msearch` that act like URL parameters of the search they precede.
const MSEARCH_HEADER_PARAMETERS: &[&str] = &[
    "ignore_unavailable",
    "allow_no_indices",
    "expand_wildcards",
    "search_type",
    "preference",
    "routing",
    "request_cache",
    "rest_total_hits_as_int",
    "track_total_hits",
];

/// `_msearch`: newline-delimited header and body pairs; each search succeeds or fails on
/// its own, as in Elasticsearch, with its `status` in its slot of `responses`.
async fn run_msearch(
    State(state): State<AppState>,
    default_index: Option<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    params::check(
        &params,
        "/_msearch",
        &[
            "max_concurrent_searches",
            "max_concurrent_shard_requests",
            "rest_total_hits_as_int",
            "typed_keys",
            "search_type",
            "ccs_minimize_roundtrips",
            "pre_filter_shard_size",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
        ],
    )?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let lines: Vec<&[u8]> = body
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    if lines.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: no requests added;",
        ));
    }
    if !lines.len().is_multiple_of(2) {
        return Err(ApiError::parsing(
            "the msearch body must be pairs of header and body lines",
        ));
    }
    let mut responses = Vec::with_capacity(lines.len() / 2);
    for pair in lines.chunks(2) {
        let outcome =
            msearch_one(&state, default_index.as_deref(), &params, pair[0], pair[1]).await;
        responses.push(match outcome {
            Ok(mut response) => {
                response["status"] = json!(200);
                response
            }
            Err(error) => {
                json!({"error": error.to_error_object(), "status": error.status.as_u16()})
            }
        });
    }
    Ok(ok(&json!({
        "took": started.elapsed().as_millis() as u64,
        "responses": responses,
    })))
}

async fn msearch_one(
    state: &AppState,
    default_index: Option<&str>,
    url_params: &Params,
    header: &[u8],
    body: &[u8],
) -> Result<Value, ApiError> {
    let header: Value = parse_json(header, "parsing_exception")?.unwrap_or_else(|| json!({}));
    let Value::Object(header) = header else {
        return Err(ApiError::parsing("msearch header must be an object"));
    };
    let mut params = Params::new();
    for key in ["rest_total_hits_as_int", "ignore_unavailable"] {
        if let Some(value) = url_params.get(key) {
            params.insert(key.to_owned(), value.clone());
        }
    }
    let mut index = default_index.map(str::to_owned);
    for (key, value) in header {
        match key.as_str() {
            "index" => {
                index = Some(match value {
                    Value::Array(names) => names
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.as_str().unwrap_or_default().to_owned(),
                });
            }
            known if MSEARCH_HEADER_PARAMETERS.contains(&known) => {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                params.insert(key, text);
            }
            other => {
                return Err(ApiError::illegal_argument(format!(
                    "key [{other}] is not supported in the metadata section"
                )));
            }
        }
    }
    let body = parse_json(body, "parsing_exception")?;
    let index = index.unwrap_or_else(|| "_all".to_owned());
    execute_search(state, &index, body.as_ref(), &params).await
}

/// `GET|POST /_count`.
pub async fn count_all(
    state: State<AppState>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_count(state, "_all".to_owned(), params, headers, body).await
}

/// `GET|POST /{index}/_count`.
pub async fn count_index(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_count(state, index, params, headers, body).await
}

/// The query of `_count` and `_delete_by_query`: `?q=` in Lucene syntax, else the body's
/// `query` (all documents without one).
pub(crate) fn query_of(params: &Params, body: Option<&Value>) -> Result<QueryAst, ApiError> {
    Ok(match params.get("q") {
        Some(text) => parse_uri_query(
            text,
            params.get("df").map(String::as_str),
            params.get("default_operator").map(String::as_str),
        )?,
        None => parse_count_body(body)?,
    })
}

async fn run_count(
    State(state): State<AppState>,
    index: String,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_count"), COUNT_PARAMETERS)?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body: Option<Value> = parse_json(&body, "parsing_exception")?;
    let query = query_of(&params, body.as_ref())?;
    let shards = state
        .store
        .search_shards(&index, params::flag(&params, "ignore_unavailable")?)
        .await?;
    let store = state.store.clone();
    let response = super::run_blocking("count", move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: now_millis(),
            request_cache: None,
        };
        logfleet_query::count(&shards, &query, &context)
    })
    .await??;
    Ok(ok(&response))
}
