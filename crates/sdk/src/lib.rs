//! Logfleet's SDK for Rust services: every API request, database operation, inter-service
//! call, performance sample and audit event in the canonical schema, shipped to Logfleet (or
//! Elasticsearch) and/or written to stdout as JSON lines.
//!
//! It plugs into the ecosystem's own traits instead of inventing a logger:
//!
//! - a [`tracing_subscriber::Layer`] ([`LogfleetLayer`]): ordinary `tracing::info!` calls
//!   become events, and inside a request they carry the request's context (`request_id`,
//!   `trace_id`, `span_id`, `endpoint_signature`, `user_id`, `user_name`) automatically,
//!   across `.await`s;
//! - a [`tower::Layer`] ([`ApiRequestLayer`]) that logs each request as an `api_request`
//!   event — the seed's `log_api_request` — plus [`action_type`] per route, [`ErrorInfo`]
//!   for handlers' errors and [`set_user`] for the user;
//! - a [`reqwest_middleware::Middleware`] ([`InterServiceMiddleware`]) that logs calls to
//!   other services and propagates `X-Request-ID` and W3C `traceparent`, with the seed's
//!   [`log_external_request`] and [`log_proxy_request`] for plain `reqwest`;
//! - helpers for the rest of the seed: [`log_database_operation`] (a timing guard that flags
//!   slow queries), [`log_user_action`] and [`log_authentication_event`], periodic
//!   `performance` samples (CPU, memory, throughput, latency percentiles, open requests).
//!
//! # A complete service
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use std::time::Duration;
//!
//! use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
//! use logfleet_model::DbAction;
//! use logfleet_sdk::{
//!     ApiRequestLayer, AuthEvent, ErrorInfo, InterServiceMiddleware, UserAction, action_type,
//!     log_authentication_event, log_database_operation, log_user_action, set_user,
//! };
//! use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
//! use serde_json::{Value, json};
//!
//! #[derive(Clone)]
//! struct App {
//!     auth: ClientWithMiddleware,
//! }
//!
//! async fn signup(
//!     State(app): State<App>,
//!     Json(body): Json<Value>,
//! ) -> Result<(StatusCode, Json<Value>), (StatusCode, ErrorInfo)> {
//!     let username = body["username"].as_str().unwrap_or_default().to_owned();
//!     tracing::info!(username = %username, "signing up"); // carries request_id, trace_id…
//!
//!     // An inter_service event; the callee continues this request's trace.
//!     let verdict = app
//!         .auth
//!         .post("http://auth:4001/api/check/")
//!         .body(json!({ "username": username }).to_string())
//!         .send()
//!         .await
//!         .map_err(|error| (StatusCode::BAD_GATEWAY, ErrorInfo::from_error(&error)))?;
//!     if !verdict.status().is_success() {
//!         let info = ErrorInfo::new("ValidationError", "username refused");
//!         return Err((StatusCode::UNPROCESSABLE_ENTITY, info));
//!     }
//!
//!     // A database event, slow_query flagged over the threshold.
//!     let insert = log_database_operation("USER_CREATE", "USER", DbAction::Create)
//!         .field("username", username.clone());
//!     tokio::time::sleep(Duration::from_millis(5)).await; // the INSERT
//!     insert.finish(1);
//!
//!     set_user(42, &username); // user_id/user_name from here on, and on the api_request
//!     log_user_action(UserAction::UserCreated).target_entity("USER").emit();
//!     log_authentication_event(AuthEvent::LoginSuccess).emit();
//!     Ok((StatusCode::CREATED, Json(json!({ "id": 42 }))))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // One call: identity in code, LOGFLEET_* variables override (URL, spool, level…).
//!     let guard = logfleet_sdk::builder()
//!         .app_name("user_service")
//!         .service_type("proxy_service")
//!         .service_version(env!("CARGO_PKG_VERSION"))
//!         .url("http://127.0.0.1:9200")
//!         .spool_dir("/var/spool/user_service")
//!         .with_env()?
//!         .init()?;
//!
//!     let auth = ClientBuilder::new(reqwest::Client::new())
//!         .with(InterServiceMiddleware::new().target_service("auth"))
//!         .build();
//!     let app = Router::new()
//!         .route("/api/signup/", post(signup).layer(action_type("USER_SIGNUP")))
//!         .layer(ApiRequestLayer::new().trusted_proxies(["10.0.0.0/8".parse()?]))
//!         .with_state(App { auth });
//!
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:4000").await?;
//!     axum::serve(
//!         listener,
//!         app.into_make_service_with_connect_info::<SocketAddr>(),
//!     )
//!     .with_graceful_shutdown(async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .await?;
//!
//!     // Deliver what is left (or spool it) before exiting; dropping the guard does the same
//!     // with a 5 s limit.
//!     guard.shutdown_async(Duration::from_secs(10)).await;
//!     Ok(())
//! }
//! ```
//!
//! # Set-up
//!
//! [`builder`] configures everything ([`Builder`] lists each setting, its default and its
//! `LOGFLEET_*` variable: `LOGFLEET_APP_NAME`, `LOGFLEET_SERVICE_TYPE`,
//! `LOGFLEET_ENVIRONMENT`, `LOGFLEET_SERVICE_VERSION`, `LOGFLEET_URL`, `LOGFLEET_STDOUT`,
//! `LOGFLEET_SPOOL_DIR`, `LOGFLEET_LEVEL`). [`Builder::init`] installs the global subscriber;
//! [`Builder::layer`] returns the layer to compose into your own `tracing_subscriber::registry()`
//! (next to a `fmt` layer, say). Both return a [`Guard`] that flushes and stops the SDK when
//! dropped; [`Handle::flush`], [`Handle::shutdown`] and their async twins do it explicitly
//! with a timeout and say whether everything was delivered.
//!
//! # Design
//!
//! - **The caller's thread never blocks and never does I/O.** An event's fields are copied
//!   into a compact owned record (strings into one buffer, numbers inline, the request
//!   context as a shared pointer) and pushed onto a bounded lock-free queue; when the queue
//!   is full the event is dropped and counted. Serialisation, redaction, writes and HTTP run
//!   on one background thread with its own small tokio runtime, so the SDK works whether or
//!   not the service uses tokio. See `BENCHMARKS.md` for the cost per event.
//! - **The request context lives in the request's `tracing` span**, so it follows the work
//!   across `.await`s and into tasks instrumented with the span. The SDK's layer must
//!   therefore sit on a `tracing_subscriber::Registry`.
//! - **Shipping** (`POST {url}/_bulk`, `create` actions, gzip) batches by count, size and
//!   age, retries `429`/`5xx`/network errors with exponential backoff and jitter (per item
//!   within a bulk answer, too), drops and counts `4xx` items, and with a spool directory
//!   keeps undelivered batches on disk (fsync'd) and replays them oldest first when the
//!   server is back. Delivery is at least once.
//! - **Dropped events are reported**: [`Handle::dropped_events`], and a `performance` event
//!   `logfleet sdk dropped events` with `sdk_dropped_events` whenever there were new drops.
//! - **Redaction happens before anything leaves the process**: sensitive keys (`password`,
//!   `token`, `secret`, `authorization`, `cookie`, `api_key`…), card numbers, bearer tokens
//!   and JWTs are replaced with `[REDACTED]` in every field and message; configurable with
//!   [`Builder::redact_keys`] and [`Builder::redaction`].
//! - **Categories**: helpers set theirs; a `tracing` event takes an explicit
//!   `log_category = "…"` field if it has one, else `api_request` inside a request and
//!   [`Builder::default_category`] outside.

mod audit;
mod client;
mod config;
mod context;
mod database;
mod encode;
mod error;
mod handle;
mod http;
mod layer;
mod metrics;
mod record;
mod ship;
mod spool;
mod worker;
mod writer;

pub use audit::{AuditEvent, AuthEvent, UserAction, log_authentication_event, log_user_action};
pub use client::{
    InterServiceMiddleware, RetryCount, TargetService, log_external_request, log_proxy_request,
};
pub use config::{Builder, builder, init};
pub use context::{REQUEST_SPAN_TARGET, RequestSpan, client_ip, set_user};
pub use database::{DatabaseOperation, log_database_operation};
pub use error::{Error, Result};
pub use handle::{DEFAULT_SHUTDOWN_TIMEOUT, Guard, Handle, Stats, emit, handle};
pub use http::{
    ActionType, ActionTypeFuture, ActionTypeLayer, ActionTypeService, ApiRequestFuture,
    ApiRequestLayer, ApiRequestService, ErrorInfo, PeerAddr, RouteTemplate, TrustedProxy,
    action_type,
};
pub use layer::LogfleetLayer;
pub use record::FieldValue;
pub use writer::MemoryWriter;
