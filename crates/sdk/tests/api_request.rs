//! The tower layer, driven in process with `oneshot`: every field of the `api_request`
//! event, request ids, trace context, client addresses, users, errors, and the request
//! context inside handlers.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use axum::response::Redirect;
use axum::routing::{get, post};
use common::{capture, capture_with, of_category, only};
use logfleet_model::{Event, Level, LogCategory, fields};
use logfleet_sdk::{
    ActionType, ApiRequestLayer, ErrorInfo, PeerAddr, RouteTemplate, action_type, set_user,
};
use serde_json::json;
use tower::{Layer, ServiceExt};

fn app() -> Router {
    Router::new()
        .route(
            "/users/{id}",
            get(|| async {
                tracing::info!("loading user");
                "alice"
            }),
        )
        .route(
            "/api/signup/",
            post(|body: String| async move { format!("created {body}") })
                .layer(action_type("USER_SIGNUP")),
        )
        .route(
            "/fail",
            get(|| async {
                let error = std::io::Error::other("database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorInfo::from_error(&error),
                    "try later",
                )
            }),
        )
        .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }))
        .route("/redirect", get(|| async { Redirect::to("/users/1") }))
        .route(
            "/whoami",
            get(|| async {
                tracing::info!("before login");
                set_user(42, "alice");
                tracing::info!("after login");
                "you"
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                tracing::info!("after sleep");
                "done"
            }),
        )
        .route(
            "/echo-request-id",
            get(|headers: HeaderMap| async move {
                headers
                    .get("x-request-id")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            }),
        )
        .route(
            "/hang",
            get(|| async {
                std::future::pending::<()>().await;
            }),
        )
        .layer(ApiRequestLayer::new().trusted_proxies(["10.0.0.0/8".parse().unwrap()]))
}

fn get_request(path: &str) -> Request<Body> {
    Request::builder().uri(path).body(Body::empty()).unwrap()
}

async fn send(request: Request<Body>) -> Response<Body> {
    app().oneshot(request).await.unwrap()
}

fn api_events(events: &[Event]) -> Vec<&Event> {
    of_category(events, LogCategory::ApiRequest)
        .into_iter()
        .filter(|event| event.get(fields::STATUS_CODE).is_some())
        .collect()
}

fn the_api_event(events: &[Event]) -> &Event {
    let api = api_events(events);
    assert_eq!(api.len(), 1, "{events:#?}");
    api[0]
}

async fn body_text(response: Response<Body>) -> String {
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn success_event_has_every_request_field() {
    let sdk = capture();
    let mut request = Request::builder()
        .method("POST")
        .uri("/api/signup/?next=/home")
        .header("content-length", "5")
        .header("user-agent", "curl/8.0")
        .body(Body::from("hello"))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 5], 40000))));
    let response = send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = sdk.events();
    let event = the_api_event(&events);

    assert_eq!(event.log_category(), Some(LogCategory::ApiRequest));
    assert_eq!(event.level(), Some(Level::Info));
    assert_eq!(event.message(), Some("POST /api/signup/ 200"));
    assert_eq!(event.get_str(fields::ACTION_TYPE), Some("USER_SIGNUP"));
    assert_eq!(event.get_str(fields::HTTP_METHOD), Some("POST"));
    assert_eq!(event.get_str(fields::PATH), Some("/api/signup/"));
    assert_eq!(
        event.get_str(fields::ENDPOINT_SIGNATURE),
        Some("POST /api/signup/")
    );
    assert_eq!(event.get(fields::STATUS_CODE), Some(&json!(200)));
    assert_eq!(event.get_str(fields::RESPONSE_CATEGORY), Some("success"));
    assert!(event.get(fields::DURATION_MS).unwrap().as_f64().unwrap() >= 0.0);
    assert_eq!(event.get(fields::REQUEST_SIZE), Some(&json!(5)));
    assert_eq!(
        event.get(fields::RESPONSE_SIZE),
        Some(&json!("created hello".len()))
    );
    assert_eq!(event.get_str(fields::CLIENT_IP), Some("203.0.113.5"));
    assert_eq!(event.get_str(fields::USER_AGENT), Some("curl/8.0"));
    assert_eq!(event.get(fields::ERROR_TYPE), None);
    assert_eq!(event.get(fields::USER_ID), None);
    assert_eq!(event.get_str(fields::REQUEST_ID).unwrap().len(), 36);
    assert_eq!(event.get_str(fields::TRACE_ID).unwrap().len(), 32);
    assert_eq!(event.get_str(fields::SPAN_ID).unwrap().len(), 16);
}

#[tokio::test]
async fn endpoint_signature_comes_from_the_route_template() {
    let sdk = capture();
    send(get_request("/users/42")).await;
    let events = sdk.events();
    let event = the_api_event(&events);
    assert_eq!(event.get_str(fields::PATH), Some("/users/42"));
    assert_eq!(
        event.get_str(fields::ENDPOINT_SIGNATURE),
        Some("GET /users/{id}")
    );
    assert_eq!(event.message(), Some("GET /users/{id} 200"));
    // The handler's own event carries the endpoint too.
    let inner = only(&events, "loading user");
    assert_eq!(
        inner.get_str(fields::ENDPOINT_SIGNATURE),
        Some("GET /users/{id}")
    );
}

#[tokio::test]
async fn status_codes_set_category_level_and_error_fields() {
    let sdk = capture();
    send(get_request("/redirect")).await;
    send(get_request("/teapot")).await;
    send(get_request("/fail")).await;
    let events = sdk.events();
    let by_status = |status: u64| {
        api_events(&events)
            .into_iter()
            .find(|event| event.get(fields::STATUS_CODE) == Some(&json!(status)))
            .unwrap_or_else(|| panic!("status {status} in {events:#?}"))
    };

    let redirect = by_status(303);
    assert_eq!(
        redirect.get_str(fields::RESPONSE_CATEGORY),
        Some("redirect")
    );
    assert_eq!(redirect.level(), Some(Level::Info));
    assert_eq!(redirect.get(fields::ERROR_TYPE), None);

    let teapot = by_status(418);
    assert_eq!(
        teapot.get_str(fields::RESPONSE_CATEGORY),
        Some("client_error")
    );
    assert_eq!(teapot.level(), Some(Level::Warning));
    assert_eq!(teapot.get_str(fields::ERROR_TYPE), Some("i_m_a_teapot"));
    assert_eq!(teapot.get_str(fields::ERROR_MESSAGE), Some("I'm a teapot"));

    let failure = by_status(503);
    assert_eq!(
        failure.get_str(fields::RESPONSE_CATEGORY),
        Some("server_error")
    );
    assert_eq!(failure.level(), Some(Level::Error));
    assert_eq!(failure.get_str(fields::ERROR_TYPE), Some("Error"));
    assert_eq!(
        failure.get_str(fields::ERROR_MESSAGE),
        Some("database unavailable")
    );
}

#[tokio::test]
async fn request_id_is_kept_or_added_and_returned() {
    let sdk = capture();
    let with_id = Request::builder()
        .uri("/echo-request-id")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let response = send(with_id).await;
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    assert_eq!(body_text(response).await, "abc-123");

    let response = send(get_request("/echo-request-id")).await;
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 36);
    assert_eq!(
        body_text(response).await,
        generated,
        "the handler sees it too"
    );

    let invalid = Request::builder()
        .uri("/echo-request-id")
        .header("x-request-id", "has spaces in it")
        .body(Body::empty())
        .unwrap();
    let response = send(invalid).await;
    assert_ne!(response.headers()["x-request-id"], "has spaces in it");

    let events = sdk.events();
    let ids: Vec<&str> = api_events(&events)
        .iter()
        .map(|event| event.get_str(fields::REQUEST_ID).unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], "abc-123");
    assert_eq!(ids[1], generated);
}

#[tokio::test]
async fn incoming_traceparent_is_continued_with_a_new_span() {
    let sdk = capture();
    let request = Request::builder()
        .uri("/users/1")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Body::empty())
        .unwrap();
    send(request).await;
    send(get_request("/users/2")).await;
    let events = sdk.events();
    let api = api_events(&events);
    assert_eq!(
        api[0].get_str(fields::TRACE_ID),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(api[0].get_str("parent_span_id"), Some("00f067aa0ba902b7"));
    assert_ne!(api[0].get_str(fields::SPAN_ID), Some("00f067aa0ba902b7"));
    // Without one, a new trace.
    assert_ne!(
        api[1].get_str(fields::TRACE_ID),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(api[1].get("parent_span_id"), None);
}

#[tokio::test]
async fn forwarded_for_is_honoured_only_from_trusted_proxies() {
    let sdk = capture();
    for peer in [[10, 0, 0, 1], [203, 0, 113, 5]] {
        let mut request = Request::builder()
            .uri("/users/1")
            .header("x-forwarded-for", "198.51.100.7, 10.0.0.9")
            .body(Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((peer, 1234))));
        send(request).await;
    }
    send(get_request("/users/1")).await;
    let events = sdk.events();
    let ips: Vec<Option<&str>> = api_events(&events)
        .iter()
        .map(|event| event.get_str(fields::CLIENT_IP))
        .collect();
    assert_eq!(ips, [Some("198.51.100.7"), Some("203.0.113.5"), None]);
}

#[tokio::test]
async fn user_set_in_the_handler_is_on_the_request_event_and_later_events() {
    let sdk = capture();
    send(get_request("/whoami")).await;
    let events = sdk.events();
    let api = the_api_event(&events);
    assert_eq!(api.get_str(fields::USER_ID), Some("42"));
    assert_eq!(api.get_str(fields::USER_NAME), Some("alice"));
    assert_eq!(
        only(&events, "after login").get_str(fields::USER_NAME),
        Some("alice")
    );
}

#[tokio::test]
async fn context_survives_an_await_in_the_handler() {
    let sdk = capture();
    let (first, second) = tokio::join!(send(get_request("/slow")), send(get_request("/slow")));
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    let events = sdk.events();
    let api_ids: Vec<&str> = api_events(&events)
        .iter()
        .map(|event| event.get_str(fields::REQUEST_ID).unwrap())
        .collect();
    let inner_ids: Vec<&str> = events
        .iter()
        .filter(|event| event.message() == Some("after sleep"))
        .map(|event| {
            event
                .get_str(fields::REQUEST_ID)
                .expect("context after .await")
        })
        .collect();
    assert_eq!(api_ids.len(), 2);
    assert_ne!(api_ids[0], api_ids[1]);
    let mut api_sorted = api_ids.clone();
    api_sorted.sort_unstable();
    let mut inner_sorted = inner_ids.clone();
    inner_sorted.sort_unstable();
    assert_eq!(
        api_sorted, inner_sorted,
        "each handler event has its own request"
    );
}

#[tokio::test]
async fn a_request_dropped_before_its_response_is_logged_as_499() {
    let sdk = capture();
    let pending = send(get_request("/hang"));
    assert!(
        tokio::time::timeout(Duration::from_millis(20), pending)
            .await
            .is_err()
    );
    let events = sdk.events();
    let event = the_api_event(&events);
    assert_eq!(event.get(fields::STATUS_CODE), Some(&json!(499)));
    assert_eq!(
        event.get_str(fields::ERROR_TYPE),
        Some("client_closed_request")
    );
    assert_eq!(event.get_str(fields::ENDPOINT_SIGNATURE), Some("GET /hang"));
}

#[tokio::test]
async fn plain_tower_services_use_extensions_for_route_and_peer() {
    let sdk = capture();
    let service = tower::service_fn(|_request: Request<String>| async {
        let mut response = Response::new(String::from("missing"));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response
            .extensions_mut()
            .insert(RouteTemplate::new("/orders/{id}"));
        response
            .extensions_mut()
            .insert(ActionType("ORDER_READ".into()));
        response
            .extensions_mut()
            .insert(ErrorInfo::new("OrderNotFound", "no order 7"));
        Ok::<_, Infallible>(response)
    });
    let service = ApiRequestLayer::new().layer(service);
    let mut request = Request::builder()
        .method("GET")
        .uri("/orders/7")
        .body(String::new())
        .unwrap();
    request
        .extensions_mut()
        .insert(PeerAddr(SocketAddr::from(([192, 0, 2, 1], 5555))));
    let response = service.oneshot(request).await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let events = sdk.events();
    let event = the_api_event(&events);
    assert_eq!(
        event.get_str(fields::ENDPOINT_SIGNATURE),
        Some("GET /orders/{id}")
    );
    assert_eq!(event.get_str(fields::ACTION_TYPE), Some("ORDER_READ"));
    assert_eq!(event.get_str(fields::CLIENT_IP), Some("192.0.2.1"));
    assert_eq!(event.get_str(fields::ERROR_TYPE), Some("OrderNotFound"));
    assert_eq!(event.get_str(fields::ERROR_MESSAGE), Some("no order 7"));
    assert_eq!(event.get(fields::RESPONSE_SIZE), Some(&json!(7)));
}

#[tokio::test]
async fn performance_samples_count_requests_and_open_connections() {
    let sdk =
        capture_with(|builder| builder.performance_interval(Some(Duration::from_millis(100))));
    for id in 0..4 {
        send(get_request(&format!("/users/{id}"))).await;
    }
    // One request stays open while samples are taken.
    let hanging = tokio::spawn(send(get_request("/hang")));
    let mut sample_with_requests = None;
    let mut sample_with_open = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let events = sdk.events_async().await;
        for event in events
            .iter()
            .filter(|event| event.message() == Some("performance sample"))
        {
            if event.get(fields::DURATION_MS_P50).is_some() {
                sample_with_requests = Some(event.clone());
            }
            if event.get(fields::OPEN_CONNECTIONS) == Some(&json!(1)) {
                sample_with_open = Some(event.clone());
            }
        }
        if sample_with_requests.is_some() && sample_with_open.is_some() {
            break;
        }
    }
    hanging.abort();
    let sample = sample_with_requests.expect("a sample with request figures");
    assert!(
        sample
            .get(fields::REQUESTS_PER_MINUTE)
            .unwrap()
            .as_f64()
            .unwrap()
            > 0.0
    );
    for percentile in [
        fields::DURATION_MS_P50,
        fields::DURATION_MS_P95,
        fields::DURATION_MS_P99,
    ] {
        assert!(sample.get(percentile).unwrap().as_f64().unwrap() >= 0.0);
    }
    assert!(
        sample_with_open.is_some(),
        "the hanging request was counted"
    );
}
