//! `GET /_logfleet/tail?index=logs-*&q=level:error`: live tail as server-sent events.
//!
//! New documents matching a Lucene query are pushed as they are acknowledged, in messages
//! `event: hits` / `data: {"hits": [...]}` whose hits have the shape of `_search` hits;
//! nothing is polled and no search over the stored data is run again. An invalid query is
//! refused with `400` before the stream starts. A subscriber too slow to keep up gets
//! `event: missed` / `data: {"missed_batches": n}` and goes on from the newest writes.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use logfleet_query::{SearchContext, SearchRequest, SearchUrlParameters};
use logfleet_store::{Expression, Tail, TailEvent};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Params};

/// How long a tail gathers acknowledged documents before it searches them: short enough
/// to show an event well within two seconds, long enough not to search every group of
/// writes on its own.
const WINDOW: Duration = Duration::from_millis(250);
/// The most documents one message carries.
const MAX_DOCUMENTS: usize = 1_000;

/// `GET /_logfleet/tail`.
pub async fn tail(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_logfleet/tail", &["index", "q"])?;
    let pattern = params
        .get("index")
        .map(String::as_str)
        .filter(|pattern| !pattern.trim().is_empty())
        .unwrap_or("logs-*")
        .to_owned();
    let mut body = json!({"size": MAX_DOCUMENTS});
    if let Some(query) = params.get("q").filter(|query| !query.trim().is_empty()) {
        body["query"] = json!({"query_string": {
            "query": query,
            "default_operator": "AND",
            "analyze_wildcard": true,
        }});
    }
    let request = SearchRequest::parse(Some(&body), &SearchUrlParameters::default())?;
    // Indexes and data streams the pattern names now (aliases included), and any that
    // its wildcards will name later.
    let mut targets: Vec<String> = state
        .store
        .resolve(&pattern, true)?
        .into_iter()
        .map(|shard| shard.target)
        .collect();
    targets.sort();
    targets.dedup();
    let subscription = Subscription {
        tail: state.store.tail(),
        state,
        request,
        pattern,
        targets,
    };
    let stream = futures_util::stream::unfold(subscription, |mut subscription| async move {
        let event = subscription.next_event().await?;
        Some((Ok::<_, Infallible>(event), subscription))
    });
    let keep_alive = KeepAlive::new()
        .interval(Duration::from_secs(15))
        .text("keep-alive");
    Ok(Sse::new(stream).keep_alive(keep_alive).into_response())
}

struct Subscription {
    state: AppState,
    /// Subscribed before the response starts, so that nothing acknowledged after the
    /// request is missed.
    tail: Tail,
    request: SearchRequest,
    pattern: String,
    targets: Vec<String>,
}

/// Whether documents of `target` are tailed: it was named when the tail started, or the
/// pattern's wildcards name it.
fn wanted(pattern: &Expression<'_>, targets: &[String], target: &str) -> bool {
    targets
        .binary_search_by(|known| known.as_str().cmp(target))
        .is_ok()
        || pattern.matches(target)
}

impl Subscription {
    /// The next message for the client; `None` ends the stream.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            // Read once a window, not once a document.
            let pattern = Expression::parse(&self.pattern);
            let targets = &self.targets;
            let received = self
                .tail
                .next(WINDOW, MAX_DOCUMENTS, |target| {
                    wanted(&pattern, targets, target)
                })
                .await;
            let shards = match received {
                Ok(Some(TailEvent::Documents(shards))) if shards.is_empty() => continue,
                Ok(Some(TailEvent::Documents(shards))) => shards,
                Ok(Some(TailEvent::Missed(missed))) => {
                    let missed = json!({"missed_batches": missed}).to_string();
                    return Some(Event::default().event("missed").data(missed));
                }
                Ok(None) => return None,
                Err(error) => return Some(error_event(ApiError::from(error))),
            };
            let store = self.state.store.clone();
            let request = self.request.clone();
            let searched = crate::handlers::run_blocking("tail", move || {
                let context = SearchContext {
                    fields: store.fields(),
                    now_millis: logfleet_store::now_millis(),
                    request_cache: None,
                };
                logfleet_query::search(&shards, &request, &context)
            })
            .await;
            let response = match searched {
                Ok(Ok(response)) => response,
                Ok(Err(error)) => return Some(error_event(ApiError::from(error))),
                Err(error) => return Some(error_event(error)),
            };
            let hits = response
                .pointer("/hits/hits")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            if hits.as_array().is_some_and(|hits| !hits.is_empty()) {
                let hits = json!({"hits": hits}).to_string();
                return Some(Event::default().event("hits").data(hits));
            }
        }
    }
}

fn error_event(error: ApiError) -> Event {
    Event::default().event("error").data(
        json!({"error": error.to_error_object(), "status": error.status.as_u16()}).to_string(),
    )
}
