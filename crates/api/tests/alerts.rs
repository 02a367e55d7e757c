//! `/_logfleet/alerts`: rules stored, read, replaced and deleted durably, with errors in
//! Elasticsearch's shape.

mod common;

use axum::http::StatusCode;
use common::{call, harness};
use serde_json::json;

#[tokio::test]
async fn rules_are_stored_listed_replaced_and_deleted() {
    let harness = harness(1 << 20);
    let rule = json!({
        "name": "Slow queries",
        "index": "logs-database-*",
        "query": "duration_ms:>1000",
        "condition": {"metric": "count", "op": ">", "threshold": 10},
        "window": "5m",
        "group_by": ["app_name"],
        "notify": [{"type": "webhook", "url": "http://127.0.0.1:9/hook"}]
    });
    let (status, body, _) = call(
        &harness,
        "PUT",
        "/_logfleet/alerts/rules/slow-queries",
        &rule.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["result"], "created");
    let (status, body, _) = call(
        &harness,
        "PUT",
        "/_logfleet/alerts/rules/slow-queries",
        &rule.to_string(),
    )
    .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (StatusCode::OK, Some("updated"))
    );

    let harness = harness.restart().await;
    let (status, listed, _) = call(&harness, "GET", "/_logfleet/alerts/rules", "").await;
    assert_eq!(status, StatusCode::OK);
    let shown = &listed["slow-queries"];
    assert_eq!(shown["name"], "Slow queries");
    assert_eq!(shown["every"], "1m", "defaults are shown");
    assert_eq!(shown["state"], json!({"firing": 0, "pending": 0}));
    let (_, one, _) = call(&harness, "GET", "/_logfleet/alerts/rules/slow-queries", "").await;
    assert_eq!(one["slow-queries"]["group_by"], json!(["app_name"]));
    let (_, active, _) = call(&harness, "GET", "/_logfleet/alerts", "").await;
    assert_eq!(active, json!({"alerts": []}));

    let (status, error, _) = call(
        &harness,
        "PUT",
        "/_logfleet/alerts/rules/broken",
        r#"{"name": "x", "index": "logs-*", "condition": {"metric": "p95"}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["type"], "illegal_argument_exception");
    assert!(
        error["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("[condition.field] is required for the [p95] metric"),
        "{error}"
    );
    let (status, _, _) = call(&harness, "PUT", "/_logfleet/alerts/rules/x", "[1]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, _) = call(
        &harness,
        "DELETE",
        "/_logfleet/alerts/rules/slow-queries",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, missing, _) = call(
        &harness,
        "DELETE",
        "/_logfleet/alerts/rules/slow-queries",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["type"], "resource_not_found_exception");
    let harness = harness.restart().await;
    let (_, listed, _) = call(&harness, "GET", "/_logfleet/alerts/rules", "").await;
    assert_eq!(listed, json!({}));

    // Silences.
    let (status, created, _) = call(
        &harness,
        "POST",
        "/_logfleet/alerts/silences",
        r#"{"matchers": [{"name": "app_name", "value": "user_service"}], "ends_at_ms": 99999999999999, "comment": "deploy"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, silences, _) = call(&harness, "GET", "/_logfleet/alerts/silences", "").await;
    assert_eq!(silences["silences"][0]["id"], json!(id));
    assert_eq!(silences["silences"][0]["active"], true);
    let (status, error, _) = call(
        &harness,
        "POST",
        "/_logfleet/alerts/silences",
        r#"{"matchers": [], "ends_at_ms": 99999999999999}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("at least one matcher")
    );
    let path = format!("/_logfleet/alerts/silences/{id}");
    let (status, _, _) = call(&harness, "DELETE", &path, "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&harness, "DELETE", &path, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
