//! The reqwest middleware and the seed's `log_external_request`/`log_proxy_request`,
//! against local axum servers on 127.0.0.1: header propagation, statuses, network error
//! kinds, retries, and one request followed across two services.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use common::{capture, of_category};
use logfleet_model::{Event, Level, LogCategory, fields};
use logfleet_sdk::{
    ApiRequestLayer, InterServiceMiddleware, RequestSpan, TargetService, log_external_request,
    log_proxy_request,
};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::{Value, json};
use tracing::Instrument;

/// Service B: echoes propagation headers, answers any status, can be slow or flaky.
fn service_b() -> Router {
    let failures_left = Arc::new(AtomicU32::new(2));
    Router::new()
        .route(
            "/echo-headers",
            get(|headers: HeaderMap| async move {
                tracing::info!("service b handling");
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned)
                };
                axum::Json(json!({
                    "x-request-id": header("x-request-id"),
                    "traceparent": header("traceparent"),
                }))
            }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "late"
            }),
        )
        .route(
            "/flaky",
            get(|State(failures_left): State<Arc<AtomicU32>>| async move {
                let left = failures_left.load(Ordering::SeqCst);
                if left > 0 {
                    failures_left.store(left - 1, Ordering::SeqCst);
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }),
        )
        .with_state(failures_left)
        .layer(ApiRequestLayer::new())
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    address
}

fn client(middleware: InterServiceMiddleware) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build()
}

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

fn inter_service(events: &[Event]) -> Vec<&Event> {
    of_category(events, LogCategory::InterService)
}

fn the_call(events: &[Event]) -> &Event {
    let calls = inter_service(events);
    assert_eq!(calls.len(), 1, "{events:#?}");
    calls[0]
}

#[tokio::test]
async fn request_context_is_propagated_and_the_call_logged() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let client = client(InterServiceMiddleware::new().target_service("service_b"));
    let span = RequestSpan::new()
        .request_id("req-1")
        .traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .start();
    let response = async {
        client
            .get(format!("http://{b}/echo-headers?token=secret"))
            .send()
            .await
            .unwrap()
    }
    .instrument(span)
    .await;
    let echoed = json_of(response).await;
    let events = sdk.events_async().await;
    let call = the_call(&events);

    assert_eq!(echoed["x-request-id"], "req-1");
    let traceparent = echoed["traceparent"].as_str().unwrap();
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(parts[3], "01");

    assert_eq!(call.level(), Some(Level::Info));
    assert_eq!(call.get_str(fields::TARGET_SERVICE), Some("service_b"));
    assert_eq!(
        call.get_str(fields::TARGET_URL),
        Some(format!("http://{b}/echo-headers").as_str())
    );
    assert_eq!(call.get_str(fields::HTTP_METHOD), Some("GET"));
    assert_eq!(call.get(fields::STATUS_CODE), Some(&json!(200)));
    assert_eq!(call.get_str(fields::RESPONSE_CATEGORY), Some("success"));
    assert_eq!(call.get(fields::RETRY_COUNT), Some(&json!(0)));
    assert!(call.get(fields::DURATION_MS).unwrap().as_f64().unwrap() > 0.0);
    assert_eq!(call.get_str(fields::REQUEST_ID), Some("req-1"));
    assert_eq!(
        call.get_str(fields::TRACE_ID),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    // The call's span is the one sent downstream; its parent is the request's span.
    assert_eq!(call.get_str(fields::SPAN_ID), Some(parts[2]));
    assert_eq!(call.get(fields::ERROR_TYPE), None);
    let b_request = of_category(&events, LogCategory::ApiRequest)
        .into_iter()
        .find(|event| event.get(fields::STATUS_CODE).is_some())
        .unwrap();
    assert_eq!(b_request.get_str("parent_span_id"), Some(parts[2]));
    assert_eq!(b_request.get_str(fields::REQUEST_ID), Some("req-1"));
}

#[tokio::test]
async fn outside_a_request_each_call_starts_a_trace() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let response = client(InterServiceMiddleware::new())
        .get(format!("http://{b}/echo-headers"))
        .send()
        .await
        .unwrap();
    let echoed = json_of(response).await;
    let events = sdk.events_async().await;
    let call = the_call(&events);
    let request_id = echoed["x-request-id"].as_str().unwrap();
    assert_eq!(request_id.len(), 36);
    assert_eq!(call.get_str(fields::REQUEST_ID), Some(request_id));
    let traceparent = echoed["traceparent"].as_str().unwrap();
    assert!(traceparent.contains(call.get_str(fields::TRACE_ID).unwrap()));
    // Without a configured name, the URL's host.
    assert_eq!(call.get_str(fields::TARGET_SERVICE), Some("127.0.0.1"));
    assert_eq!(call.get("parent_span_id"), None);
}

#[tokio::test]
async fn statuses_set_level_category_and_error_type() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let client = client(InterServiceMiddleware::new().target_service("service_b"));
    for code in [404, 503] {
        let response = client
            .get(format!("http://{b}/status/{code}"))
            .with_extension(TargetService::new("override"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), code);
    }
    let events = sdk.events_async().await;
    let calls = inter_service(&events);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].level(), Some(Level::Warning));
    assert_eq!(
        calls[0].get_str(fields::RESPONSE_CATEGORY),
        Some("client_error")
    );
    assert_eq!(calls[0].get_str(fields::ERROR_TYPE), Some("http_404"));
    assert_eq!(calls[0].get_str(fields::ERROR_MESSAGE), Some("Not Found"));
    assert_eq!(calls[0].get_str(fields::TARGET_SERVICE), Some("override"));
    assert_eq!(calls[1].level(), Some(Level::Error));
    assert_eq!(
        calls[1].get_str(fields::RESPONSE_CATEGORY),
        Some("server_error")
    );
    assert_eq!(calls[1].get(fields::STATUS_CODE), Some(&json!(503)));
}

#[tokio::test]
async fn connection_refused_on_a_closed_port() {
    let sdk = capture();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let result = client(InterServiceMiddleware::new().target_service("gone"))
        .post(format!("http://{closed}/api/signup/"))
        .send()
        .await;
    assert!(result.is_err());
    let events = sdk.events_async().await;
    let call = the_call(&events);
    assert_eq!(call.level(), Some(Level::Error));
    assert_eq!(call.get_str(fields::ERROR_TYPE), Some("connection_refused"));
    assert!(call.get_str(fields::ERROR_MESSAGE).is_some());
    assert_eq!(call.get(fields::STATUS_CODE), None);
    assert_eq!(call.get(fields::RESPONSE_CATEGORY), None);
    assert_eq!(call.get_str(fields::HTTP_METHOD), Some("POST"));
    assert_eq!(
        call.message(),
        Some("POST gone /api/signup/ failed: connection_refused")
    );
}

#[tokio::test]
async fn timeouts_are_their_own_kind() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let client = ClientBuilder::new(
        reqwest::Client::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    )
    .with(InterServiceMiddleware::new())
    .build();
    assert!(client.get(format!("http://{b}/slow")).send().await.is_err());
    let events = sdk.events_async().await;
    assert_eq!(
        the_call(&events).get_str(fields::ERROR_TYPE),
        Some("timeout")
    );
}

#[tokio::test]
async fn retries_are_made_and_counted() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let response = client(InterServiceMiddleware::new().max_retries(3))
        .get(format!("http://{b}/flaky"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = sdk.events_async().await;
    let call = the_call(&events);
    assert_eq!(call.get(fields::RETRY_COUNT), Some(&json!(2)));
    assert_eq!(call.get(fields::STATUS_CODE), Some(&json!(200)));
}

/// Service A: its handler calls service B, through the middleware or as a proxy.
fn service_a(b: SocketAddr) -> Router {
    let via_middleware = client(InterServiceMiddleware::new().target_service("service_b"));
    Router::new()
        .route(
            "/api/profile/",
            get(move || {
                let client = via_middleware.clone();
                async move {
                    tracing::info!("service a handling");
                    let answer = client
                        .get(format!("http://{b}/echo-headers"))
                        .send()
                        .await
                        .map_err(|_| StatusCode::BAD_GATEWAY)?;
                    answer.text().await.map_err(|_| StatusCode::BAD_GATEWAY)
                }
            }),
        )
        .route(
            "/api/signup/",
            get(move || async move {
                let request = reqwest::Client::new().get(format!("http://{b}/status/201"));
                let upstream = log_proxy_request("access_postgresql", request)
                    .await
                    .map_err(|_| StatusCode::BAD_GATEWAY)?;
                Ok::<_, StatusCode>(upstream.status())
            }),
        )
        .layer(ApiRequestLayer::new())
}

#[tokio::test]
async fn two_services_share_one_request_id_and_trace_id() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let a = serve(service_a(b)).await;
    let response = reqwest::Client::new()
        .get(format!("http://{a}/api/profile/"))
        .header("x-request-id", "journey-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = sdk.events_async().await;

    let a_handler = common::only(&events, "service a handling");
    let b_handler = common::only(&events, "service b handling");
    let call = the_call(&events);
    let requests: Vec<&Event> = of_category(&events, LogCategory::ApiRequest)
        .into_iter()
        .filter(|event| event.get(fields::STATUS_CODE).is_some())
        .collect();
    assert_eq!(requests.len(), 2);
    let trace_id = a_handler.get_str(fields::TRACE_ID).unwrap();
    for event in [a_handler, b_handler, call, requests[0], requests[1]] {
        assert_eq!(
            event.get_str(fields::REQUEST_ID),
            Some("journey-1"),
            "{event:?}"
        );
        assert_eq!(event.get_str(fields::TRACE_ID), Some(trace_id), "{event:?}");
    }
    // B's request is a child of A's call, which is a child of A's request.
    let a_request = requests
        .iter()
        .find(|event| event.get_str(fields::PATH) == Some("/api/profile/"))
        .unwrap();
    let b_request = requests
        .iter()
        .find(|event| event.get_str(fields::PATH) == Some("/echo-headers"))
        .unwrap();
    assert_eq!(
        call.get_str("parent_span_id"),
        a_request.get_str(fields::SPAN_ID)
    );
    assert_eq!(
        b_request.get_str("parent_span_id"),
        call.get_str(fields::SPAN_ID)
    );
    assert_eq!(
        b_handler.get_str(fields::SPAN_ID),
        b_request.get_str(fields::SPAN_ID)
    );
}

#[tokio::test]
async fn log_proxy_request_describes_the_upstream_on_the_proxy_request() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let a = serve(service_a(b)).await;
    let response = reqwest::Client::new()
        .get(format!("http://{a}/api/signup/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let events = sdk.events_async().await;
    let proxy_request = of_category(&events, LogCategory::ApiRequest)
        .into_iter()
        .find(|event| event.get_str(fields::PATH) == Some("/api/signup/"))
        .unwrap();
    assert_eq!(
        proxy_request.get_str(fields::TARGET_SERVICE),
        Some("access_postgresql")
    );
    assert_eq!(proxy_request.get("upstream_status_code"), Some(&json!(201)));
    assert!(
        proxy_request
            .get("upstream_duration_ms")
            .unwrap()
            .as_f64()
            .unwrap()
            > 0.0
    );
    let call = the_call(&events);
    assert_eq!(
        call.get_str(fields::TARGET_SERVICE),
        Some("access_postgresql")
    );
    assert_eq!(call.get(fields::STATUS_CODE), Some(&json!(201)));
    assert_eq!(
        call.get_str(fields::REQUEST_ID),
        proxy_request.get_str(fields::REQUEST_ID)
    );
}

#[tokio::test]
async fn log_external_request_works_with_a_plain_client() {
    let sdk = capture();
    let b = serve(service_b()).await;
    let response = RequestSpan::new()
        .request_id("plain-1")
        .start()
        .in_scope(|| {
            log_external_request(
                "service_b",
                reqwest::Client::new().get(format!("http://{b}/echo-headers")),
            )
        })
        .await
        .unwrap();
    let echoed = json_of(response).await;
    assert_eq!(echoed["x-request-id"], "plain-1");
    let events = sdk.events_async().await;
    let call = the_call(&events);
    assert_eq!(call.get_str(fields::TARGET_SERVICE), Some("service_b"));
    assert_eq!(call.get_str(fields::REQUEST_ID), Some("plain-1"));
}
