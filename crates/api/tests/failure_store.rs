//! Data stream failure stores: documents a processor or the mapping rejects are kept, with
//! their error, in `<stream>::failures`, in Elasticsearch 8.19's shapes.

mod common;

use axum::http::StatusCode;
use common::{call, harness};
use serde_json::{Value, json};

async fn search(harness: &common::Harness, index: &str) -> Value {
    call(harness, "POST", "/_refresh", "").await;
    let (status, found, _) = call(harness, "GET", &format!("/{index}/_search"), "").await;
    assert_eq!(status, StatusCode::OK, "{index}: {found}");
    found
}

fn hits(found: &Value) -> Vec<Value> {
    found["hits"]["hits"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

const STRICT: &str = r#"{
    "processors": [
        {"set": {"field": "checked", "value": true}},
        {"pipeline": {"name": "inner"}}
    ]
}"#;

const INNER: &str = r#"{
    "processors": [
        {"fail": {"tag": "no-level", "if": "ctx.level == null", "message": "an event needs a level"}}
    ]
}"#;

#[tokio::test]
async fn a_rejected_document_is_kept_with_its_error_and_the_client_told() {
    let harness = harness(1 << 20);
    call(&harness, "PUT", "/_ingest/pipeline/strict", STRICT).await;
    call(&harness, "PUT", "/_ingest/pipeline/inner", INNER).await;
    let body = concat!(
        "{\"create\":{\"_index\":\"logs-app-default\"}}\n",
        "{\"@timestamp\":\"2026-12-07T10:00:00Z\",\"level\":\"info\",\"message\":\"fine\"}\n",
        "{\"create\":{\"_index\":\"logs-app-default\"}}\n",
        "{\"@timestamp\":\"2026-12-07T10:00:01Z\",\"message\":\"login with password=hunter22\",\"user\":{\"password\":\"hunter22\"},\"cards\":[4111111111111111]}\n",
    );
    let (status, response, _) = call(
        &harness,
        "POST",
        "/_bulk?pipeline=strict&refresh=true",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["errors"], false, "{response}");
    let written = &response["items"][0]["create"];
    assert!(written.get("failure_store").is_none(), "{written}");
    let kept = &response["items"][1]["create"];
    assert_eq!(kept["status"], 201, "{kept}");
    assert_eq!(kept["result"], "created");
    assert_eq!(kept["failure_store"], "used");
    let index = kept["_index"].as_str().unwrap();
    assert!(index.starts_with(".fs-logs-app-default-"), "{index}");
    assert!(index.ends_with("-000001"), "{index}");

    // The stream itself and wildcards see the accepted event only.
    for expression in [
        "logs-app-default",
        "logs-*",
        "_all",
        "logs-app-default::data",
    ] {
        let found = search(&harness, expression).await;
        assert_eq!(found["hits"]["total"]["value"], 1, "{expression}: {found}");
    }
    let found = search(&harness, "logs-app-default::failures").await;
    let failures = hits(&found);
    assert_eq!(failures.len(), 1, "{found}");
    assert_eq!(failures[0]["_index"], index);
    let failure = &failures[0]["_source"];
    assert_eq!(failure["document"]["index"], "logs-app-default");
    assert_eq!(
        failure["document"]["source"],
        json!({
            "@timestamp": "2026-12-07T10:00:01Z",
            "message": "login with password=[REDACTED]",
            "user": {"password": "[REDACTED]"},
            "cards": ["[REDACTED]"],
        }),
        "the document as it arrived, redacted"
    );
    let error = &failure["error"];
    assert_eq!(error["type"], "fail_processor_exception");
    assert_eq!(error["message"], "an event needs a level");
    assert_eq!(error["processor_type"], "fail");
    assert_eq!(error["processor_tag"], "no-level");
    assert_eq!(error["pipeline"], "inner");
    assert_eq!(error["pipeline_trace"], json!(["strict", "inner"]));
    assert!(error["stack_trace"].as_str().unwrap().contains("level"));
    assert!(failure["@timestamp"].is_string());
    // Its error fields are searchable; the original document's are not.
    let (_, by_type, _) = call(
        &harness,
        "POST",
        "/logs-*::failures/_search",
        r#"{"query": {"term": {"error.processor_type": "fail"}}}"#,
    )
    .await;
    assert_eq!(by_type["hits"]["total"]["value"], 1, "{by_type}");
    let (_, by_source, _) = call(
        &harness,
        "POST",
        "/logs-app-default::failures/_search",
        r#"{"query": {"match": {"document.source.message": "login"}}}"#,
    )
    .await;
    assert_eq!(by_source["hits"]["total"]["value"], 0, "{by_source}");

    let (_, streams, _) = call(&harness, "GET", "/_data_stream/logs-app-default", "").await;
    let stream = &streams["data_streams"][0];
    assert_eq!(stream["failure_store"]["enabled"], true, "{streams}");
    assert_eq!(stream["failure_store"]["indices"][0]["index_name"], index);
    assert_eq!(stream["indices"].as_array().unwrap().len(), 1);
    let (_, all, _) = call(&harness, "GET", "/_data_stream", "").await;
    assert_eq!(
        all["data_streams"].as_array().unwrap().len(),
        1,
        "the failure store is no stream of its own: {all}"
    );

    // Durable, and deleted with its stream.
    let harness = harness.restart().await;
    let found = search(&harness, "logs-app-default::failures").await;
    assert_eq!(found["hits"]["total"]["value"], 1, "{found}");
    let (status, _, _) = call(&harness, "DELETE", "/_data_stream/logs-app-default", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&harness, "GET", "/logs-app-default::failures/_search", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let harness = harness.restart().await;
    let (status, _, _) = call(&harness, "GET", "/logs-app-default::failures/_search", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_mapping_conflict_is_kept_as_the_pipelines_left_the_document() {
    let harness = harness(1 << 20);
    call(
        &harness,
        "POST",
        "/logs-orders-default/_doc",
        r#"{"@timestamp": "2026-12-07T10:00:00Z", "order": {"total": 12}}"#,
    )
    .await;
    let (status, response, _) = call(
        &harness,
        "POST",
        "/logs-orders-default/_doc?refresh=true",
        r#"{"@timestamp": "2026-12-07T10:00:01Z", "order": {"total": "twelve"}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{response}");
    assert_eq!(response["failure_store"], "used");
    assert!(
        response.get("status").is_none(),
        "not a bulk item: {response}"
    );
    let found = search(&harness, "logs-orders-default::failures").await;
    let failure = &hits(&found)[0]["_source"];
    assert_eq!(failure["error"]["type"], "document_parsing_exception");
    assert!(
        failure["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[order.total]"),
        "{failure}"
    );
    assert!(failure["error"].get("processor_type").is_none());
    assert_eq!(failure["document"]["source"]["order"]["total"], "twelve");
    // A failure store's own mapping never conflicts with what it keeps.
    let (status, response, _) = call(
        &harness,
        "POST",
        "/logs-orders-default/_doc?refresh=true",
        r#"{"@timestamp": "2026-12-07T10:00:02Z", "order": {"total": {"nested": true}}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{response}");
    assert_eq!(response["failure_store"], "used");
    let found = search(&harness, "logs-orders-default::failures").await;
    assert_eq!(found["hits"]["total"]["value"], 2, "{found}");
}

#[tokio::test]
async fn documents_routed_by_category_fail_into_their_category_stream() {
    let harness = common::harness_with(1 << 20, |config| {
        config.default_logs_pipeline = Some("checked".to_owned());
    });
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/checked",
        r#"{"processors": [{"convert": {"field": "status_code", "type": "integer"}}]}"#,
    )
    .await;
    let body = concat!(
        "{\"create\":{}}\n",
        "{\"log_category\":\"api_request\",\"status_code\":\"200\"}\n",
        "{\"create\":{}}\n",
        "{\"log_category\":\"api_request\",\"status_code\":\"OK\"}\n",
    );
    let (_, response, _) = call(&harness, "POST", "/logs/_bulk?refresh=true", body).await;
    assert_eq!(response["errors"], false, "{response}");
    assert!(
        response["items"][0]["create"]["_index"]
            .as_str()
            .unwrap()
            .starts_with(".ds-logs-api_request-default-")
    );
    assert!(
        response["items"][1]["create"]["_index"]
            .as_str()
            .unwrap()
            .starts_with(".fs-logs-api_request-default-"),
        "{response}"
    );
    let found = search(&harness, "logs-api_request-default::failures").await;
    let failure = &hits(&found)[0]["_source"];
    assert_eq!(failure["document"]["index"], "logs-api_request-default");
    assert_eq!(failure["error"]["processor_type"], "convert");
    assert_eq!(failure["document"]["source"]["status_code"], "OK");
}

#[tokio::test]
async fn only_data_streams_with_the_failure_store_on_keep_failures() {
    let harness = harness(1 << 20);
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/boom",
        r#"{"processors": [{"fail": {"message": "boom"}}]}"#,
    )
    .await;
    call(
        &harness,
        "PUT",
        "/_index_template/metrics",
        r#"{"index_patterns": ["metrics-*"], "data_stream": {}}"#,
    )
    .await;
    call(
        &harness,
        "PUT",
        "/_index_template/traces",
        r#"{"index_patterns": ["traces-*"], "data_stream": {}, "priority": 10,
            "template": {"data_stream_options": {"failure_store": {"enabled": true}}}}"#,
    )
    .await;
    call(
        &harness,
        "PUT",
        "/_index_template/quiet-logs",
        r#"{"index_patterns": ["logs-quiet-*"], "data_stream": {}, "priority": 10,
            "template": {"data_stream_options": {"failure_store": {"enabled": false}}}}"#,
    )
    .await;
    let body = concat!(
        "{\"create\":{\"_index\":\"metrics-cpu-default\"}}\n{\"@timestamp\":1}\n",
        "{\"create\":{\"_index\":\"traces-api-default\"}}\n{\"@timestamp\":1}\n",
        "{\"create\":{\"_index\":\"logs-quiet-default\"}}\n{\"@timestamp\":1}\n",
        "{\"index\":{\"_index\":\"plain\"}}\n{\"@timestamp\":1}\n",
    );
    let (_, response, _) = call(&harness, "POST", "/_bulk?pipeline=boom", body).await;
    let items = response["items"].as_array().unwrap();
    let status = |item: &Value| {
        let (_, body) = item.as_object().unwrap().iter().next().unwrap();
        (body["status"].clone(), body.get("failure_store").cloned())
    };
    assert_eq!(status(&items[0]), (json!(400), None), "{response}");
    assert_eq!(status(&items[1]), (json!(201), Some(json!("used"))));
    assert_eq!(status(&items[2]), (json!(400), None));
    assert_eq!(status(&items[3]), (json!(400), None));
    let (_, streams, _) = call(&harness, "GET", "/_data_stream/traces-*", "").await;
    assert_eq!(streams["data_streams"][0]["failure_store"]["enabled"], true);
}

#[tokio::test]
async fn a_missing_pipeline_is_still_refused() {
    let harness = harness(1 << 20);
    let (status, response, _) = call(
        &harness,
        "POST",
        "/logs-app-default/_doc?pipeline=nope",
        r#"{"message": "x"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
    assert!(search(&harness, "logs-*::failures").await["hits"]["total"]["value"] == 0);
}
