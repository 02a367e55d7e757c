//! Logfleet's own API (`/_logfleet/`) and the web UI's delivery (`/_ui/`), in process.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{call, harness};
use http_body_util::BodyExt;
use logfleet_api::{ApiConfig, AppState, CONTENT_SECURITY_POLICY, UiAsset, UiSource, router};
use logfleet_store::{Store, StoreConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

#[tokio::test]
async fn saved_searches_are_created_listed_renamed_and_deleted_durably() {
    let harness = harness(1 << 20);
    let (status, listed, _) = call(&harness, "GET", "/_logfleet/saved-searches", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!({"saved_searches": []}));
    let state = json!({"index": "logs-*", "query": "level:error", "columns": ["message"]});
    let body = json!({"name": "Errors", "state": state}).to_string();
    let (status, created, _) = call(&harness, "POST", "/_logfleet/saved-searches", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["state"], state);
    assert_eq!(created["created_at"], created["updated_at"]);
    let body = json!({"name": "All 5xx", "state": state}).to_string();
    call(&harness, "POST", "/_logfleet/saved-searches", &body).await;

    let rename = json!({"name": "Server errors", "state": state}).to_string();
    let uri = format!("/_logfleet/saved-searches/{id}");
    let (status, renamed, _) = call(&harness, "PUT", &uri, &rename).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["created_at"], created["created_at"]);

    let harness = harness.restart().await;
    let (_, listed, _) = call(&harness, "GET", "/_logfleet/saved-searches", "").await;
    let names: Vec<&str> = listed["saved_searches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|search| search["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["All 5xx", "Server errors"], "sorted by name, kept");
    let (status, _, _) = call(&harness, "DELETE", &uri, "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, missing, _) = call(&harness, "DELETE", &uri, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["type"], "resource_not_found_exception");
}

#[tokio::test]
async fn dashboards_are_kept_listed_replaced_and_deleted_durably() {
    let harness = harness(1 << 20);
    let (status, listed, _) = call(&harness, "GET", "/_logfleet/dashboards", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([]), "the list is a bare array");
    let panels =
        json!([{"title": "Errors", "query": {"term": {"level": "error"}}, "layout": {"w": 6}}]);
    let body = json!({"title": "Ops", "panels": panels, "time": {"from": "now-1h"}}).to_string();
    let (status, created, _) = call(&harness, "PUT", "/_logfleet/dashboards/ops", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "ops");
    assert_eq!(created["panels"], panels, "panels are kept as given");
    assert_eq!(created["time"], json!({"from": "now-1h"}));
    let body = json!({"title": "api latency", "description": "p95"}).to_string();
    let (status, posted, _) = call(&harness, "POST", "/_logfleet/dashboards", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert!(posted["id"].as_str().is_some_and(|id| !id.is_empty()));

    let replace = json!({"id": "ops", "title": "Operations", "panels": []}).to_string();
    let (status, replaced, _) = call(&harness, "PUT", "/_logfleet/dashboards/ops", &replace).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert!(
        replaced.get("time").is_none(),
        "a PUT replaces the whole dashboard"
    );

    let harness = harness.restart().await;
    let (_, listed, _) = call(&harness, "GET", "/_logfleet/dashboards", "").await;
    let titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|summary| summary["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["api latency", "Operations"],
        "by title, case aside"
    );
    assert_eq!(listed[1]["panels"], 0);
    assert_eq!(listed[1]["prebuilt"], false);
    assert_eq!(listed[0]["description"], "p95");
    let (status, _, _) = call(&harness, "DELETE", "/_logfleet/dashboards/ops", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, missing, _) = call(&harness, "GET", "/_logfleet/dashboards/ops", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["type"], "resource_not_found_exception");
    assert_eq!(missing["error"]["reason"], "dashboard [ops] not found");
}

#[tokio::test]
async fn dashboards_refuse_what_they_cannot_keep() {
    let harness = harness(1 << 20);
    for (uri, body, expected) in [
        ("/_logfleet/dashboards/a", "{\"title\":\" \"}", "[title]"),
        ("/_logfleet/dashboards/a", "{\"panels\":[]}", "[title]"),
        (
            "/_logfleet/dashboards/a",
            "{\"title\":\"x\",\"panels\":{}}",
            "[panels]",
        ),
        (
            "/_logfleet/dashboards/a",
            "{\"title\":\"x\",\"panels\":[1]}",
            "[panels]",
        ),
        (
            "/_logfleet/dashboards/a",
            "{\"title\":\"x\",\"id\":\"b\"}",
            "[b]",
        ),
        ("/_logfleet/dashboards/a", "[]", "JSON object"),
        ("/_logfleet/dashboards/a", "{", "parse"),
        (
            "/_logfleet/dashboards/a%20b",
            "{\"title\":\"x\"}",
            "invalid dashboard id",
        ),
    ] {
        let (status, error, _) = call(&harness, "PUT", uri, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        let reason = error["error"]["reason"].as_str().unwrap();
        assert!(reason.contains(expected), "{body}: {reason}");
    }
    let (_, listed, _) = call(&harness, "GET", "/_logfleet/dashboards", "").await;
    assert_eq!(listed, json!([]), "nothing was kept");
}

#[tokio::test]
async fn prebuilt_dashboards_are_installed_once() {
    let harness = harness(1 << 20);
    let files = [
        (
            "a.json",
            r#"{"id": "api", "title": "API", "panels": [{"title": "p"}]}"#,
        ),
        ("b.json", r#"{"id": "errors", "title": "Errors"}"#),
    ];
    let installed = logfleet_api::install_prebuilt_dashboards(&harness.store, &files).unwrap();
    assert_eq!(installed, 2);
    let (_, api, _) = call(&harness, "GET", "/_logfleet/dashboards/api", "").await;
    assert_eq!(api["prebuilt"], true);
    assert_eq!(api["panels"][0]["title"], "p");
    let (status, _, _) = call(&harness, "DELETE", "/_logfleet/dashboards/errors", "").await;
    assert_eq!(status, StatusCode::OK);
    let installed = logfleet_api::install_prebuilt_dashboards(&harness.store, &files).unwrap();
    assert_eq!(installed, 0, "a deleted prebuilt dashboard stays deleted");
    let (_, listed, _) = call(&harness, "GET", "/_logfleet/dashboards", "").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let broken = [("c.json", r#"{"id": "c"}"#)];
    let error = logfleet_api::install_prebuilt_dashboards(&harness.store, &broken).unwrap_err();
    assert!(error.reason.contains("c.json"), "{}", error.reason);
}

#[tokio::test]
async fn saved_searches_refuse_what_they_cannot_keep() {
    let harness = harness(1 << 20);
    for (body, expected) in [
        ("{\"name\":\"\"}", "[name]"),
        ("{\"name\":\"x\",\"state\":[1]}", "[state]"),
        (
            "{\"name\":\"x\",\"colour\":\"red\"}",
            "unknown field [colour]",
        ),
        ("[1,2]", "JSON object"),
        ("{not json", "failed to parse request body"),
    ] {
        let (status, error, _) = call(&harness, "POST", "/_logfleet/saved-searches", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let reason = error["error"]["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains(expected) || error.to_string().contains(expected),
            "{body}: {error}"
        );
    }
    let uri = "/_logfleet/saved-searches/..%2Fescape";
    let (status, _, _) = call(&harness, "PUT", uri, "{\"name\":\"x\"}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn fill(harness: &common::Harness) {
    let mut body = String::new();
    for number in 0..2_500 {
        body.push_str(&format!(
            "{{\"index\":{{\"_index\":\"exported\",\"_id\":\"{number}\"}}}}\n"
        ));
        let message = match number {
            7 => "=cmd|' /C calc'!A0".to_owned(),
            8 => "quote \" and, comma\nand line".to_owned(),
            _ => format!("event {number}"),
        };
        body.push_str(
            &json!({"n": number, "level": if number % 2 == 0 {"info"} else {"error"},
                    "message": message, "http": {"method": "GET"}})
            .to_string(),
        );
        body.push('\n');
    }
    let (status, response, _) = call(harness, "POST", "/_bulk?refresh=true", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["errors"], false);
}

async fn export(
    harness: &common::Harness,
    request: &Value,
) -> (StatusCode, String, axum::http::HeaderMap) {
    let request = Request::builder()
        .method("POST")
        .uri("/_logfleet/export")
        .header("content-type", "application/json")
        .body(Body::from(request.to_string()))
        .unwrap();
    let response = harness.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap(), headers)
}

#[tokio::test]
async fn an_export_streams_the_whole_result_not_a_page() {
    let harness = harness(1 << 20);
    fill(&harness).await;
    let request = json!({
        "index": "exported",
        "query": {"term": {"level.keyword": "error"}},
        "sort": [{"n": "asc"}],
        "columns": ["n", "message", "http.method", "_id"],
        "format": "csv",
    });
    let (status, csv, headers) = export(&harness, &request).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert_eq!(headers["x-logfleet-total"], "1250");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let mut lines = csv.split("\r\n");
    assert_eq!(lines.next(), Some("n,message,http.method,_id"));
    assert_eq!(lines.next(), Some("1,event 1,GET,1"));
    assert!(
        csv.contains("7,'=cmd|' /C calc'!A0,GET,7\r\n"),
        "no formula runs"
    );
    // Every matching event, past the first page of the scroll, in order.
    let rows: Vec<&str> = csv.trim_end().split("\r\n").skip(1).collect();
    assert_eq!(rows.len(), 1250);
    assert!(rows.last().unwrap().starts_with("2499,"));

    let request = json!({"index": "exported", "format": "ndjson", "limit": 1001,
                         "columns": ["n", "message"], "sort": [{"n": "asc"}]});
    let (status, ndjson, headers) = export(&harness, &request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-logfleet-total"], "1001");
    let rows: Vec<Value> = ndjson
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 1001);
    assert_eq!(
        rows[8],
        json!({"n": 8, "message": "quote \" and, comma\nand line"})
    );

    let (status, error, _) = export(&harness, &json!({"format": "xlsx"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let request = json!({"index": "exported", "query": {"nope": {}}, "columns": ["n"]});
    let (status, _, _) = export(&harness, &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

static ASSETS: &[UiAsset] = &[
    UiAsset {
        path: "index.html",
        identity: b"<!doctype html><script type=module src=/_ui/assets/main-ABC.js></script>",
        gzip: None,
        brotli: None,
    },
    UiAsset {
        path: "assets/main-ABC.js",
        identity: b"console.log('ui')",
        gzip: Some(b"gzipped"),
        brotli: Some(b"brotlied"),
    },
];

fn ui_router() -> (axum::Router, tempfile::TempDir) {
    let directory = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(directory.path());
    config.refresh_interval = None;
    let store = Store::open(config).unwrap();
    let api = ApiConfig {
        ui: UiSource::Embedded(ASSETS),
        ..ApiConfig::default()
    };
    (router(AppState::new(store, api)), directory)
}

async fn get(
    router: &axum::Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, bytes)
}

#[tokio::test]
async fn the_ui_is_served_hashed_compressed_and_under_a_strict_policy() {
    let (router, _directory) = ui_router();
    for route in [
        "/_ui",
        "/_ui/",
        "/_ui/explorer",
        "/_ui/dashboards/api-performance",
    ] {
        let (status, headers, body) = get(&router, route, &[]).await;
        assert_eq!(status, StatusCode::OK, "{route}");
        assert_eq!(body, ASSETS[0].identity, "{route}: the application's page");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["content-security-policy"], CONTENT_SECURITY_POLICY);
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    let accept = [("accept-encoding", "gzip, deflate, br")];
    let (status, headers, body) = get(&router, "/_ui/assets/main-ABC.js", &accept).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"brotlied");
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    let (_, headers, body) = get(
        &router,
        "/_ui/assets/main-ABC.js",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(
        (body.as_slice(), &headers["content-encoding"]),
        (
            &b"gzipped"[..],
            &"gzip".parse::<axum::http::HeaderValue>().unwrap()
        )
    );
    let (_, headers, body) = get(&router, "/_ui/assets/main-ABC.js", &[]).await;
    assert_eq!(body, b"console.log('ui')");
    assert!(headers.get("content-encoding").is_none());
    let (status, _, _) = get(&router, "/_ui/assets/gone-XYZ.js", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_browser_at_the_root_is_sent_to_the_ui_and_clients_get_json() {
    let (router, _directory) = ui_router();
    let browser = [(
        "accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    )];
    let (status, headers, _) = get(&router, "/", &browser).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers["location"], "/_ui/");
    for accept in [
        "application/json",
        "*/*",
        "application/vnd.elasticsearch+json; compatible-with=8",
    ] {
        let (status, _, body) = get(&router, "/", &[("accept", accept)]).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["tagline"], "You Know, for Search");
    }
}

#[tokio::test]
async fn a_binary_built_without_node_says_how_to_build_the_ui() {
    let harness = harness(1 << 20);
    let (status, body, headers) = call(&harness, "GET", "/_ui/", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.as_str().unwrap().contains("npm ci"), "{body}");
    assert_eq!(headers["content-security-policy"], CONTENT_SECURITY_POLICY);
}

/// Reads server-sent events from `body` until one named `name` arrives; returns its data.
async fn next_event(body: &mut Body, name: &str) -> Value {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(end) = text.find("\n\n") {
            let message: String = text.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in message.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    event = value.trim();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            if event == name {
                return serde_json::from_str(&data).unwrap();
            }
            continue;
        }
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

#[tokio::test]
async fn a_tail_pushes_matching_documents_as_they_are_acknowledged() {
    let harness = harness(1 << 20);
    // Existing data is not replayed: a tail shows what comes after it starts.
    let old = "{\"index\":{\"_index\":\"app\",\"_id\":\"old\"}}\n{\"level\":\"error\",\"message\":\"before\"}\n";
    call(&harness, "POST", "/_bulk?refresh=true", old).await;
    let request = Request::builder()
        .uri("/_logfleet/tail?index=app,logs-*&q=level:error")
        .body(Body::empty())
        .unwrap();
    let response = harness.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();

    let writes = [
        ("app", "1", "error", "disk failing"),
        ("app", "2", "info", "all good"),
        ("other", "3", "error", "not tailed"),
        ("app", "4", "error", "<img src=x onerror=alert(1)>"),
    ];
    let mut bulk = String::new();
    for (index, id, level, message) in writes {
        bulk.push_str(&format!(
            "{{\"index\":{{\"_index\":\"{index}\",\"_id\":\"{id}\"}}}}\n"
        ));
        bulk.push_str(&json!({"level": level, "message": message}).to_string());
        bulk.push('\n');
    }
    // No refresh: the tail sees writes when they are acknowledged.
    let (status, _, _) = call(&harness, "POST", "/_bulk", &bulk).await;
    assert_eq!(status, StatusCode::OK);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = next_event(&mut body, "hits").await;
        for hit in event["hits"].as_array().unwrap() {
            assert_eq!(hit["_index"], "app");
            seen.push((
                hit["_id"].as_str().unwrap().to_owned(),
                hit["_source"]["message"].clone(),
            ));
        }
    }
    assert_eq!(
        seen,
        [
            ("1".to_owned(), json!("disk failing")),
            ("4".to_owned(), json!("<img src=x onerror=alert(1)>")),
        ]
    );
    // A data stream created after the tail started is tailed too (`logs-*`), with its
    // generated ids.
    let stream =
        "{\"create\":{}}\n{\"log_category\":\"audit\",\"level\":\"error\",\"message\":\"late\"}\n";
    call(&harness, "POST", "/logs/_bulk", stream).await;
    let event = next_event(&mut body, "hits").await;
    let hit = &event["hits"][0];
    assert_eq!(hit["_source"]["message"], "late");
    assert!(
        hit["_index"]
            .as_str()
            .unwrap()
            .starts_with(".ds-logs-audit-default-")
    );
    assert_eq!(hit["_id"].as_str().unwrap().len(), 20, "{hit}");
}

#[tokio::test]
async fn a_tail_refuses_a_broken_query_before_it_starts() {
    let harness = harness(1 << 20);
    let (status, error, _) = call(&harness, "GET", "/_logfleet/tail?q=level:(error", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["error"]["type"].as_str().is_some());
    let (status, _, _) = call(&harness, "GET", "/_logfleet/tail?colour=red", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn health_says_why_writes_are_refused_and_waits_for_a_status() {
    let harness = harness(1 << 20);
    let (status, health, _) = call(
        &harness,
        "GET",
        "/_cluster/health?wait_for_status=green&timeout=1s",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "green");
    assert!(
        health.get("logfleet_storage").is_none(),
        "nothing to explain"
    );
    let (status, _, _) = call(
        &harness,
        "GET",
        "/_cluster/health?wait_for_status=purple",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A flood stage no disk can satisfy: every write is refused.
    let directory = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(directory.path());
    config.refresh_interval = None;
    config.flood_stage = logfleet_store::FloodStage {
        max_used_ratio: 0.0,
        min_free_bytes: u64::MAX,
    };
    let store = Store::open(config).unwrap();
    let router = router(AppState::new(store, ApiConfig::default()));
    let request = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
    let response = router
        .clone()
        .oneshot(request(
            "/_cluster/health?wait_for_status=yellow&timeout=300ms",
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let health: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(health["status"], "red");
    assert_eq!(health["timed_out"], true);
    assert_eq!(health["logfleet_storage"]["writes"], "refused");
    let reason = health["logfleet_storage"]["reason"].as_str().unwrap();
    assert!(reason.contains("flood-stage watermark"), "{reason}");
    let response = router
        .clone()
        .oneshot(request("/_cat/health?h=status"))
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(String::from_utf8_lossy(&bytes).trim(), "red");

    let write = Request::builder()
        .method("PUT")
        .uri("/refused/_doc/1")
        .header("content-type", "application/json")
        .body(Body::from("{\"message\":\"x\"}"))
        .unwrap();
    let response = router.oneshot(write).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let error: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(error["error"]["type"], "cluster_block_exception");
    let reason = error["error"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("index [refused] blocked by: [TOO_MANY_REQUESTS/12/"),
        "{reason}"
    );
}
