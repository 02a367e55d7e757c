//! Handler tests in process: the router called with `oneshot`, over a real store in a
//! temporary directory.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use logfleet_api::{ApiConfig, AppState, router};
use logfleet_store::{Store, StoreConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Harness {
    router: axum::Router,
    _directory: tempfile::TempDir,
}

fn harness(max_content_length: usize) -> Harness {
    let directory = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(directory.path());
    config.refresh_interval = None;
    let store = Store::open(config).unwrap();
    let api = ApiConfig {
        max_content_length,
        ..ApiConfig::default()
    };
    Harness {
        router: router(AppState::new(store, api)),
        _directory: directory,
    }
}

async fn call(
    harness: &Harness,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = harness.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value, headers)
}

#[tokio::test]
async fn every_response_names_the_product() {
    let harness = harness(1 << 20);
    for (method, uri) in [
        ("GET", "/"),
        ("GET", "/nope/_search"),
        ("GET", "/a/b/c/d"),
        ("DELETE", "/_bulk"),
    ] {
        let (_, _, headers) = call(&harness, method, uri, "").await;
        assert_eq!(
            headers.get("x-elastic-product").unwrap(),
            "Elasticsearch",
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn bulk_then_search_in_process() {
    let harness = harness(1 << 20);
    let body = "{\"index\":{\"_index\":\"t\",\"_id\":\"1\"}}\n{\"level\":\"error\",\"n\":1}\n{\"index\":{\"_index\":\"t\",\"_id\":\"2\"}}\n{\"level\":\"info\",\"n\":2}\n";
    let (status, response, _) = call(&harness, "POST", "/_bulk?refresh=true", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["errors"], false);
    assert_eq!(
        response["items"][1]["index"]["_seq_no"].as_u64().unwrap(),
        response["items"][0]["index"]["_seq_no"].as_u64().unwrap() + 1
    );
    let (status, hits, _) = call(
        &harness,
        "POST",
        "/t/_search",
        &json!({"query": {"term": {"level.keyword": "error"}}}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hits["hits"]["total"]["value"], 1);
    assert_eq!(hits["hits"]["hits"][0]["_id"], "1");
    let (_, count, _) = call(&harness, "GET", "/t/_count", "").await;
    assert_eq!(count["count"], 2);
}

#[tokio::test]
async fn method_not_allowed_and_unknown_paths() {
    let harness = harness(1 << 20);
    let (status, body, _) = call(&harness, "DELETE", "/_bulk", "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Incorrect HTTP method")
    );
    let (status, body, _) = call(&harness, "GET", "/a/b/c/d", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn body_limit_is_enforced() {
    let harness = harness(64);
    let body = "{\"index\":{\"_index\":\"t\"}}\n{\"message\":\"this line makes the body longer than sixty-four bytes\"}\n";
    let (status, response, _) = call(&harness, "POST", "/_bulk", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response["error"]["type"], "content_too_long_exception");
}

#[tokio::test]
async fn pretty_printing_and_unknown_parameters() {
    let harness = harness(1 << 20);
    let (_, body, _) = call(&harness, "GET", "/?pretty", "").await;
    assert_eq!(body["tagline"], "You Know, for Search");
    let (status, body, _) = call(&harness, "POST", "/_bulk?refesh=true", "{}\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["reason"],
        "request [/_bulk] contains unrecognized parameter: [refesh]"
    );
}
