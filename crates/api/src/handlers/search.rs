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
    let mut request = SearchRequest::parse(body.as_ref(), &url)?;
    let total_as_int = params::flag(&params, "rest_total_hits_as_int")?;
    if total_as_int {
        request.track_total_hits = logfleet_query::TrackTotalHits::Exact;
    }
    let shards = state
        .store
        .resolve(&index, params::flag(&params, "ignore_unavailable")?)?;
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
    Ok(ok(&response))
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
