//! `_search` and `_count`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_query::{
    SearchContext, SearchRequest, SearchUrlParameters, parse_count_body, parse_uri_query,
};
use logfleet_store::now_millis;
use serde_json::{Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;

const SEARCH_PARAMETERS: &[&str] = &[
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
    let response = execute_search(&state, &index, body.as_ref(), &params).await?;
    Ok(ok(&response))
}

/// Runs one search: the body (if any) with URL-style parameters over an index expression.
async fn execute_search(
    state: &AppState,
    index: &str,
    body: Option<&Value>,
    params: &Params,
) -> Result<Value, ApiError> {
    let url = SearchUrlParameters {
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
    };
    let mut request = SearchRequest::parse(body, &url)?;
    let total_as_int = params::flag(params, "rest_total_hits_as_int")?;
    if total_as_int {
        request.track_total_hits = logfleet_query::TrackTotalHits::Exact;
    }
    let shards = state
        .store
        .resolve(index, params::flag(params, "ignore_unavailable")?)?;
    let store = state.store.clone();
    let mut response = tokio::task::spawn_blocking(move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: now_millis(),
        };
        logfleet_query::search(&shards, &request, &context)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "search was interrupted",
        )
    })??;
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
    let query = match params.get("q") {
        Some(text) => parse_uri_query(
            text,
            params.get("df").map(String::as_str),
            params.get("default_operator").map(String::as_str),
        )?,
        None => parse_count_body(body.as_ref())?,
    };
    let shards = state
        .store
        .resolve(&index, params::flag(&params, "ignore_unavailable")?)?;
    let store = state.store.clone();
    let response = tokio::task::spawn_blocking(move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: now_millis(),
        };
        logfleet_query::count(&shards, &query, &context)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "count was interrupted",
        )
    })??;
    Ok(ok(&response))
}
