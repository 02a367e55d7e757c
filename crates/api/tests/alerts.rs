//! `/_logfleet/alerts`: rules stored, read, replaced and deleted durably, with errors in
//! Elasticsearch's shape, and previewed over the stored events.

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
    assert_eq!(
        shown["state"],
        json!({"firing": 0, "pending": 0, "last_evaluation": null})
    );
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

#[tokio::test]
async fn a_preview_says_when_a_rule_would_have_fired_from_the_stored_events() {
    let harness = harness(1 << 20);
    // Three hours ago, a burst of 5xx responses from user_service for ten minutes; quiet
    // otherwise, and access_postgresql never fails.
    let now = logfleet_store::now_millis();
    let mut bulk = String::new();
    for minute in 0..60 {
        let at = now - 3 * 3_600_000 + minute * 60_000;
        for (app, status) in [
            ("user_service", if minute < 10 { 503 } else { 200 }),
            ("access_postgresql", 200),
        ] {
            bulk.push_str("{\"create\":{}}\n");
            bulk.push_str(
                &json!({"@timestamp": logfleet_time::format_epoch_millis(at), "app_name": app,
                        "status_code": status, "message": "request"})
                .to_string(),
            );
            bulk.push('\n');
        }
    }
    let (status, body, _) = call(
        &harness,
        "POST",
        "/logs-api_request-default/_bulk?refresh=true",
        &bulk,
    )
    .await;
    assert_eq!(
        (status, body["errors"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let rule = json!({
        "name": "Errors", "index": "logs-api_request-*", "query": "status_code:>=500",
        "condition": {"metric": "count", "op": ">=", "threshold": 3},
        "window": "5m", "every": "1m", "for": "2m", "delay": "0s", "group_by": "app_name"
    });
    let (status, preview, _) = call(
        &harness,
        "POST",
        "/_logfleet/alerts/rules/_preview?range=6h",
        &rule.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["step"], "2m", "six hours in at most 288 steps");
    assert_eq!(preview["evaluations"], 180);
    assert_eq!(
        (preview["metric"].as_str(), preview["op"].as_str()),
        (Some("count"), Some(">="))
    );
    let fired = preview["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 1, "{preview}");
    assert_eq!(fired[0]["group"], json!({"app_name": "user_service"}));
    assert_eq!(
        fired[0]["peak"], 5.0,
        "five 503s in a five-minute window at most"
    );
    let from = logfleet_time::parse_date_optional_time(fired[0]["from"].as_str().unwrap()).unwrap()
        / 1_000_000;
    let to = logfleet_time::parse_date_optional_time(fired[0]["to"].as_str().unwrap()).unwrap()
        / 1_000_000;
    let burst = now - 3 * 3_600_000;
    assert!(
        from > burst && from < burst + 10 * 60_000,
        "fired during the burst: {preview}"
    );
    assert!(
        to > burst + 10 * 60_000 && to < burst + 20 * 60_000,
        "resolved after it: {preview}"
    );
    assert_eq!(
        preview["series"][0]["group"],
        json!({"app_name": "user_service"})
    );
    assert_eq!(
        preview["series"][0]["points"].as_array().unwrap().len(),
        180
    );

    // A stored rule, by id; bad input in Elasticsearch's shape.
    let (status, _, _) = call(
        &harness,
        "PUT",
        "/_logfleet/alerts/rules/errors",
        &rule.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, stored, _) = call(
        &harness,
        "GET",
        "/_logfleet/alerts/rules/errors/_preview?range=6h",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["fired"], preview["fired"]);
    for (path, body, reason) in [
        (
            "/_logfleet/alerts/rules/_preview?range=30d",
            rule.to_string(),
            "at most 7d",
        ),
        (
            "/_logfleet/alerts/rules/_preview?range=soon",
            rule.to_string(),
            "[range]",
        ),
        (
            "/_logfleet/alerts/rules/_preview?size=3",
            rule.to_string(),
            "size",
        ),
        (
            "/_logfleet/alerts/rules/_preview",
            r#"{"name": "x"}"#.to_owned(),
            "missing field",
        ),
    ] {
        let (status, error, _) = call(&harness, "POST", path, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {error}");
        assert!(
            error["error"]["reason"].as_str().unwrap().contains(reason),
            "{path}: {error}"
        );
    }
    let (status, _, _) = call(&harness, "GET", "/_logfleet/alerts/rules/nope/_preview", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
