//! The seed's proxy services (`service_type: proxy_service`): `user_service` (signup and
//! profiles, plus recommendations from a service that is not always there) and `auth` (login
//! and logout). They validate what they can locally and forward the rest to the data manager
//! over HTTP with the SDK's `log_proxy_request`, so every hop is an `inter_service` event,
//! carries the request's `X-Request-ID` and `traceparent` downstream, and the proxy's own
//! `api_request` event names the upstream and how long it took.

use axum::body::Bytes;
use std::net::SocketAddr;

use std::convert::Infallible;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::faults::{FAULT_HEADER, SLOW_QUERY_HEADER};

/// Headers a proxy passes on; the middleware adds the request id and trace context.
const FORWARDED_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "user-agent",
    FAULT_HEADER,
    SLOW_QUERY_HEADER,
];

/// A service the proxies forward to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Its `app_name`, the `target_service` of the events.
    pub name: String,
    /// Its base URL, e.g. `http://127.0.0.1:4000`.
    pub base_url: String,
}

/// Shared state of a proxy service.
#[derive(Debug, Clone)]
pub struct Proxy {
    client: reqwest::Client,
    data_manager: Upstream,
    recommendations: Upstream,
}

impl Proxy {
    /// A proxy forwarding to `data_manager` (and to `recommendations` for the user service).
    pub fn new(data_manager: Upstream, recommendations: Upstream) -> Proxy {
        Proxy {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            data_manager,
            recommendations,
        }
    }

    /// `user_service`'s routes.
    pub fn user_service(self) -> Router {
        Router::new()
            .route(
                "/api/health/",
                get(health.layer(logfleet_sdk::action_type("HEALTH_CHECK"))),
            )
            .route(
                "/api/signup/",
                post(signup.layer(logfleet_sdk::action_type("USER_SIGNUP"))),
            )
            .route(
                "/api/profile/{user_id}/",
                get(profile.layer(logfleet_sdk::action_type("PROFILE_READ")))
                    .put(profile.layer(logfleet_sdk::action_type("PROFILE_UPDATE")))
                    .delete(profile.layer(logfleet_sdk::action_type("PROFILE_DELETE"))),
            )
            .route(
                "/api/recommendations/{user_id}/",
                get(recommendations.layer(logfleet_sdk::action_type("RECOMMENDATIONS_READ"))),
            )
            .with_state(self)
    }

    /// `auth`'s routes.
    pub fn auth(self) -> Router {
        Router::new()
            .route(
                "/api/health/",
                get(health.layer(logfleet_sdk::action_type("HEALTH_CHECK"))),
            )
            .route(
                "/api/login/",
                post(login.layer(logfleet_sdk::action_type("USER_LOGIN"))),
            )
            .route(
                "/api/logout/",
                post(logout.layer(logfleet_sdk::action_type("USER_LOGOUT"))),
            )
            .with_state(self)
    }

    /// Forwards a request and relays the answer; an unreachable upstream is a 502.
    async fn forward(&self, upstream: &Upstream, hop: Hop, path: &str, body: Bytes) -> Response {
        let url = format!("{}{path}", upstream.base_url);
        let mut request = self.client.request(hop.method, &url).body(body.to_vec());
        for name in FORWARDED_HEADERS {
            if let Some(value) = hop.headers.get(*name) {
                request = request.header(*name, value.clone());
            }
        }
        // As any proxy does: the chain so far, then whoever connected to us.
        let chain = hop
            .headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok());
        let forwarded_for = match (chain, hop.peer) {
            (Some(chain), Some(peer)) => Some(format!("{chain}, {}", peer.ip())),
            (Some(chain), None) => Some(chain.to_owned()),
            (None, Some(peer)) => Some(peer.ip().to_string()),
            (None, None) => None,
        };
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("x-forwarded-for", forwarded_for);
        }
        match logfleet_sdk::log_proxy_request(&upstream.name, request).await {
            Ok(answer) => {
                let status = StatusCode::from_u16(answer.status().as_u16())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let content_type = answer.headers().get("content-type").cloned();
                let bytes = answer.bytes().await.unwrap_or_default();
                let mut response = (status, bytes).into_response();
                if let Some(content_type) = content_type {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static("content-type"), content_type);
                }
                response
            }
            Err(error) => {
                let message = format!("{} is unavailable", upstream.name);
                let mut response = (
                    StatusCode::BAD_GATEWAY,
                    Json(json!({"error": "UpstreamUnavailable", "message": message})),
                )
                    .into_response();
                response
                    .extensions_mut()
                    .insert(logfleet_sdk::ErrorInfo::new(
                        "UpstreamUnavailable",
                        format!("{message}: {error}"),
                    ));
                response
            }
        }
    }
}

/// What a proxy passes on about the request it received: its method, its headers and who
/// sent it (for `X-Forwarded-For`).
struct Hop {
    method: Method,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for Hop {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Hop, Infallible> {
        Ok(Hop {
            method: parts.method.clone(),
            headers: parts.headers.clone(),
            peer: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| *peer),
        })
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// A 400 decided by the proxy itself, before any forwarding.
fn rejected(message: String) -> Response {
    let mut response = (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "ValidationError", "message": message})),
    )
        .into_response();
    response
        .extensions_mut()
        .insert(logfleet_sdk::ErrorInfo::new("ValidationError", message));
    response
}

async fn signup(State(proxy): State<Proxy>, hop: Hop, body: Bytes) -> Response {
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let field = |name: &str| {
        parsed
            .get(name)
            .and_then(|value| value.as_str())
            .unwrap_or("")
    };
    if let Err(reason) =
        crate::validate::signup(field("username"), field("email"), field("password"))
    {
        return rejected(reason);
    }
    proxy
        .forward(&proxy.data_manager, hop, "/api/signup/", body)
        .await
}

async fn profile(
    State(proxy): State<Proxy>,
    hop: Hop,
    Path(user_id): Path<i64>,
    body: Bytes,
) -> Response {
    let path = format!("/api/profile/{user_id}/");
    proxy.forward(&proxy.data_manager, hop, &path, body).await
}

async fn recommendations(
    State(proxy): State<Proxy>,
    hop: Hop,
    Path(user_id): Path<i64>,
) -> Response {
    let path = format!("/api/recommendations/{user_id}/");
    proxy
        .forward(&proxy.recommendations, hop, &path, Bytes::new())
        .await
}

async fn login(State(proxy): State<Proxy>, hop: Hop, body: Bytes) -> Response {
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if parsed
        .get("username")
        .and_then(|value| value.as_str())
        .is_none_or(str::is_empty)
    {
        return rejected("username is required".into());
    }
    proxy
        .forward(&proxy.data_manager, hop, "/api/login/", body)
        .await
}

async fn logout(State(proxy): State<Proxy>, hop: Hop, body: Bytes) -> Response {
    proxy
        .forward(&proxy.data_manager, hop, "/api/logout/", body)
        .await
}
