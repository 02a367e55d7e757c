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

#[tokio::test]
async fn generated_ids_behave_like_client_ids() {
    let harness = harness(1 << 20);
    let (status, created, _) = call(
        &harness,
        "POST",
        "/t/_doc?refresh=true",
        r#"{"level":"info","n":1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 20, "{id}");
    let (status, bulk, _) = call(
        &harness,
        "POST",
        "/_bulk?refresh=true",
        "{\"create\":{\"_index\":\"t\"}}\n{\"n\":2}\n{\"index\":{\"_index\":\"t\",\"_id\":\"mine\"}}\n{\"n\":3}\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let second = bulk["items"][0]["create"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        second > id,
        "generated ids sort in write order: {id} {second}"
    );

    let (status, got, _) = call(&harness, "GET", &format!("/t/_doc/{id}"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (got["_id"].as_str(), got["_version"].as_u64()),
        (Some(id.as_str()), Some(1))
    );
    assert_eq!(got["_source"]["n"], 1);

    for query in [
        json!({"ids": {"values": [id, "mine"]}}),
        json!({"terms": {"_id": [id, "mine"]}}),
        json!({"bool": {"should": [{"term": {"_id": id}}, {"match": {"_id": "mine"}}]}}),
    ] {
        let (status, found, _) = call(
            &harness,
            "POST",
            "/t/_search",
            &json!({"query": query, "sort": [{"n": "asc"}]}).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let ids: Vec<&str> = found["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str(), "mine"], "{query}");
    }

    // A client may send a generated id back: the document is replaced, not duplicated.
    let (status, replaced, _) = call(
        &harness,
        "PUT",
        &format!("/t/_doc/{id}?refresh=true"),
        r#"{"n":10}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["result"], "updated");
    assert_eq!(replaced["_version"], 2);
    let (_, found, _) = call(
        &harness,
        "POST",
        "/t/_search",
        &json!({"query": {"ids": {"values": [id]}}}).to_string(),
    )
    .await;
    assert_eq!(found["hits"]["total"]["value"], 1, "{found}");
    assert_eq!(found["hits"]["hits"][0]["_source"]["n"], 10);
    let (status, conflict, _) = call(
        &harness,
        "PUT",
        &format!("/t/_create/{second}"),
        r#"{"n":20}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");

    let (status, deleted, _) = call(
        &harness,
        "DELETE",
        &format!("/t/_doc/{second}?refresh=true"),
        "",
    )
    .await;
    assert_eq!(
        (status, deleted["result"].as_str()),
        (StatusCode::OK, Some("deleted"))
    );
    let (status, _, _) = call(&harness, "GET", &format!("/t/_doc/{second}"), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, count, _) = call(&harness, "GET", "/t/_count", "").await;
    assert_eq!(count["count"], 2);

    // An id of the same shape that this store did not generate finds nothing.
    let (status, _, _) = call(&harness, "GET", "/t/_doc/AAAAAAAAAAEAAAAAAAAA", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn undecodable_paths_get_elasticsearch_errors() {
    let harness = harness(1 << 20);
    for uri in [
        "/%ff/_doc/1",
        "/%ff",
        "/_index_template/%ff",
        "/_ilm/policy/%ff",
    ] {
        let (status, body, _) = call(&harness, "GET", uri, "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(
            body["error"]["type"], "illegal_argument_exception",
            "{uri}: {body}"
        );
        assert_eq!(body["status"], 400, "{uri}");
        assert!(
            body["error"]["root_cause"][0]["reason"].is_string(),
            "{uri}: {body}"
        );
    }
}
