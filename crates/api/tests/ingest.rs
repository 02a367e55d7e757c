//! Elasticsearch's ingest API in process: storing, reading and deleting pipelines, simulating
//! them, and running them on `_bulk` and `_doc` writes.

mod common;

use axum::http::StatusCode;
use common::{call, harness};
use serde_json::{Value, json};

const ACCESS: &str = r#"{
    "description": "access lines",
    "version": 3,
    "processors": [
        {"grok": {"field": "message", "patterns": ["%{IP:client.ip} %{WORD:http.method} %{URIPATHPARAM:url.path} %{NUMBER:http.status:int}"]}},
        {"lowercase": {"field": "http.method", "tag": "lower"}},
        {"set": {"field": "event.pipeline", "value": "{{_ingest.pipeline}}"}}
    ]
}"#;

async fn search(harness: &common::Harness, index: &str) -> Value {
    call(harness, "POST", &format!("/{index}/_refresh"), "").await;
    let (_, found, _) = call(harness, "GET", &format!("/{index}/_search"), "").await;
    found
}

#[tokio::test]
async fn pipelines_are_stored_read_listed_and_deleted_durably() {
    let harness = harness(1 << 20);
    let (status, body, _) = call(&harness, "PUT", "/_ingest/pipeline/access", ACCESS).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"acknowledged": true}));
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/other",
        r#"{"processors": []}"#,
    )
    .await;

    let harness = harness.restart().await;
    let (status, body, _) = call(&harness, "GET", "/_ingest/pipeline/access", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["access"]["version"], 3);
    assert_eq!(body["access"]["processors"][1]["lowercase"]["tag"], "lower");
    let (_, all, _) = call(&harness, "GET", "/_ingest/pipeline", "").await;
    let mut ids: Vec<&String> = all.as_object().unwrap().keys().collect();
    ids.sort();
    assert_eq!(
        ids,
        ["access", "logs@microservices", "other"],
        "with the built-in one"
    );
    let (_, matched, _) = call(&harness, "GET", "/_ingest/pipeline/acc*?summary=true", "").await;
    assert_eq!(matched, json!({"access": {}}));
    let (status, missing, _) = call(&harness, "GET", "/_ingest/pipeline/nope", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing, json!({}));

    let (status, _, _) = call(&harness, "DELETE", "/_ingest/pipeline/oth*", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, error, _) = call(&harness, "DELETE", "/_ingest/pipeline/other", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["type"], "resource_not_found_exception");
    assert_eq!(error["error"]["reason"], "pipeline [other] is missing");
    let harness = harness.restart().await;
    let (_, all, _) = call(&harness, "GET", "/_ingest/pipeline", "").await;
    assert_eq!(all.as_object().unwrap().len(), 2, "{all}");
}

#[tokio::test]
async fn a_bad_pipeline_is_refused_as_elasticsearch_refuses_it() {
    let harness = harness(1 << 20);
    let cases = [
        (
            r#"{"processors": [{"set": {"value": 1, "tag": "t"}}]}"#,
            "[field] required property is missing",
            Some(("set", "field")),
        ),
        (
            r#"{"processors": [{"nope": {}}]}"#,
            "No processor type exists with name [nope]",
            None,
        ),
        (
            r#"{"processors": [{"set": {"field": "a", "value": 1, "colour": "red"}}]}"#,
            "processor [set] doesn't support one or more provided configuration parameters [colour]",
            None,
        ),
        (
            r#"{"description": "no processors"}"#,
            "[processors] required property is missing",
            None,
        ),
        (
            r#"{"processors": [{"grok": {"field": "m", "patterns": ["%{NOPE}"]}}]}"#,
            "[patterns] Unable to find pattern [NOPE] in Grok's pattern dictionary",
            Some(("grok", "patterns")),
        ),
    ];
    for (definition, reason, property) in cases {
        let (status, error, _) = call(&harness, "PUT", "/_ingest/pipeline/bad", definition).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{definition}: {error}");
        assert_eq!(error["error"]["type"], "parse_exception", "{error}");
        assert_eq!(error["error"]["reason"], reason);
        if let Some((processor, property)) = property {
            assert_eq!(error["error"]["processor_type"], processor);
            assert_eq!(error["error"]["property_name"], property);
        }
    }
    let (status, _, _) = call(&harness, "GET", "/_ingest/pipeline/bad", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
    let (status, error, _) = call(
        &harness,
        "PUT",
        "/_ingest/pipeline/_bad",
        "{\"processors\":[]}",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
}

#[tokio::test]
async fn if_version_guards_replacements() {
    let harness = harness(1 << 20);
    let (status, error, _) =
        call(&harness, "PUT", "/_ingest/pipeline/p?if_version=1", ACCESS).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        error["error"]["reason"],
        "version conflict, required version [1] for pipeline [p] but no pipeline was found"
    );
    call(&harness, "PUT", "/_ingest/pipeline/p", ACCESS).await;
    let (status, error, _) =
        call(&harness, "PUT", "/_ingest/pipeline/p?if_version=2", ACCESS).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["type"], "version_conflict_engine_exception");
    let (status, _, _) = call(&harness, "PUT", "/_ingest/pipeline/p?if_version=3", ACCESS).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn simulate_shows_documents_errors_and_each_processor() {
    let harness = harness(1 << 20);
    let request = json!({
        "pipeline": serde_json::from_str::<Value>(ACCESS).unwrap(),
        "docs": [
            {"_index": "web", "_id": "1", "_source": {"message": "10.0.0.1 GET /a?b=c 200"}},
            {"_source": {"message": "garbage"}}
        ]
    });
    let (status, body, _) = call(
        &harness,
        "POST",
        "/_ingest/pipeline/_simulate",
        &request.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let doc = &body["docs"][0]["doc"];
    assert_eq!(doc["_index"], "web");
    assert_eq!(doc["_id"], "1");
    assert_eq!(doc["_source"]["client"]["ip"], "10.0.0.1");
    assert_eq!(doc["_source"]["http"]["method"], "get");
    assert_eq!(doc["_source"]["http"]["status"], 200);
    assert!(doc["_ingest"]["timestamp"].is_string());
    let error = &body["docs"][1]["error"];
    assert_eq!(error["type"], "illegal_argument_exception");
    assert_eq!(
        error["reason"],
        "Provided Grok expressions do not match field value: [garbage]"
    );

    let verbose = json!({
        "pipeline": {"processors": [
            {"set": {"field": "a", "value": 1}},
            {"rename": {"field": "missing", "target_field": "b", "ignore_failure": true}},
            {"fail": {"message": "stop here", "tag": "f", "on_failure": [{"set": {"field": "why", "value": "{{_ingest.on_failure_message}}"}}]}},
            {"drop": {}}
        ]},
        "docs": [{"_source": {}}]
    });
    let (_, body, _) = call(
        &harness,
        "POST",
        "/_ingest/pipeline/_simulate?verbose",
        &verbose.to_string(),
    )
    .await;
    let results = body["docs"][0]["processor_results"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = results
        .iter()
        .map(|result| {
            (
                result["processor_type"].as_str().unwrap(),
                result["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("set", "success"),
            ("rename", "error_ignored"),
            ("fail", "error"),
            ("set", "success"),
            ("drop", "dropped")
        ]
    );
    assert_eq!(
        results[1]["ignored_error"]["error"]["reason"],
        "field [missing] doesn't exist"
    );
    assert_eq!(results[2]["tag"], "f");
    assert_eq!(results[3]["doc"]["_source"]["why"], "stop here");
    assert!(
        results[3]["doc"]["_ingest"]
            .get("on_failure_message")
            .is_some()
    );
    assert!(results[4].get("doc").is_none());

    call(&harness, "PUT", "/_ingest/pipeline/access", ACCESS).await;
    let stored = json!({"docs": [{"_source": {"message": "1.2.3.4 POST /x 503"}}]});
    let (_, body, _) = call(
        &harness,
        "POST",
        "/_ingest/pipeline/access/_simulate",
        &stored.to_string(),
    )
    .await;
    assert_eq!(
        body["docs"][0]["doc"]["_source"]["event"]["pipeline"],
        "access"
    );
    let (status, error, _) = call(
        &harness,
        "POST",
        "/_ingest/pipeline/_simulate",
        r#"{"pipeline": {"processors": []}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["reason"],
        "[docs] required property is missing"
    );
}

#[tokio::test]
async fn writes_run_the_pipeline_they_name() {
    let harness = harness(1 << 20);
    call(&harness, "PUT", "/_ingest/pipeline/access", ACCESS).await;
    let body = concat!(
        "{\"index\":{\"_index\":\"web\",\"_id\":\"1\"}}\n",
        "{\"message\":\"10.0.0.1 GET / 200\"}\n",
        "{\"index\":{\"_index\":\"web\",\"_id\":\"2\"}}\n",
        "{\"message\":\"unparseable\"}\n",
        "{\"index\":{\"_index\":\"web\",\"_id\":\"3\",\"pipeline\":\"_none\"}}\n",
        "{\"message\":\"kept as sent\"}\n",
        "{\"index\":{\"_index\":\"web\",\"_id\":\"4\",\"pipeline\":\"missing\"}}\n",
        "{\"message\":\"x\"}\n",
    );
    let (status, response, _) = call(&harness, "POST", "/_bulk?pipeline=access", body).await;
    assert_eq!(status, StatusCode::OK);
    let items = response["items"].as_array().unwrap();
    assert_eq!(items[0]["index"]["status"], 201);
    assert_eq!(items[1]["index"]["status"], 400);
    assert_eq!(
        items[1]["index"]["error"]["type"],
        "illegal_argument_exception"
    );
    assert_eq!(items[2]["index"]["status"], 201);
    assert_eq!(
        items[3]["index"]["error"]["reason"],
        "pipeline with id [missing] does not exist"
    );
    let found = search(&harness, "web").await;
    assert_eq!(found["hits"]["total"]["value"], 2);
    let (_, one, _) = call(&harness, "GET", "/web/_doc/1", "").await;
    assert_eq!(one["_source"]["http"]["method"], "get");
    assert_eq!(one["_source"]["http"]["status"], 200);
    let (_, three, _) = call(&harness, "GET", "/web/_doc/3", "").await;
    assert_eq!(three["_source"], json!({"message": "kept as sent"}));

    let (status, response, _) = call(
        &harness,
        "PUT",
        "/web/_doc/9?pipeline=access",
        "{\"message\":\"nope\"}",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
}

#[tokio::test]
async fn date_index_name_sends_each_document_to_its_months_index() {
    let harness = harness(1 << 20);
    let monthly = r#"{"processors": [{"date_index_name": {
        "field": "@timestamp", "index_name_prefix": "events-", "date_rounding": "M",
        "index_name_format": "yyyy.MM", "date_formats": ["ISO8601"]}}]}"#;
    let (status, body, _) = call(&harness, "PUT", "/_ingest/pipeline/monthly", monthly).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = concat!(
        "{\"index\":{\"_index\":\"events\",\"_id\":\"a\"}}\n",
        "{\"@timestamp\":\"2016-04-25T12:02:01.789Z\"}\n",
        "{\"index\":{\"_index\":\"events\",\"_id\":\"b\"}}\n",
        "{\"@timestamp\":\"2016-04-01T00:00:00Z\"}\n",
        "{\"index\":{\"_index\":\"events\",\"_id\":\"c\"}}\n",
        "{\"@timestamp\":\"2016-05-31T23:59:59+02:00\"}\n",
    );
    let (status, response, _) = call(&harness, "POST", "/_bulk?pipeline=monthly", body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(response["errors"], false, "{response}");
    let indexes: Vec<&str> = response["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["index"]["_index"].as_str().unwrap())
        .collect();
    // The last one is still May in UTC, the processor's zone.
    assert_eq!(
        indexes,
        ["events-2016.04", "events-2016.04", "events-2016.05"]
    );
    assert_eq!(
        search(&harness, "events-2016.04").await["hits"]["total"]["value"],
        2
    );
    assert_eq!(
        search(&harness, "events-2016.05").await["hits"]["total"]["value"],
        1
    );
}

#[tokio::test]
async fn the_grok_library_is_listed() {
    let harness = harness(1 << 20);
    let (status, body, _) = call(&harness, "GET", "/_ingest/processor/grok", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["patterns"]["IP"].is_string());
    assert!(body["patterns"]["COMBINEDAPACHELOG"].is_string());
    let (_, ecs, _) = call(
        &harness,
        "GET",
        "/_ingest/processor/grok?ecs_compatibility=v1",
        "",
    )
    .await;
    assert!(
        ecs["patterns"]["HTTPD_COMMONLOG"]
            .as_str()
            .unwrap()
            .contains("source.address")
    );
}

/// Which pipelines ran on `/events/_doc/{id}`.
async fn ran(harness: &common::Harness, id: &str) -> Value {
    let (_, document, _) = call(harness, "GET", &format!("/events/_doc/{id}"), "").await;
    document["_source"]["ran"].clone()
}

#[tokio::test]
async fn index_settings_name_default_and_final_pipelines() {
    let harness = harness(1 << 20);
    let tag = |name: &str| {
        json!({"processors": [{"append": {"field": "ran", "value": name}}]}).to_string()
    };
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/default",
        &tag("default"),
    )
    .await;
    call(&harness, "PUT", "/_ingest/pipeline/final", &tag("final")).await;
    call(&harness, "PUT", "/_ingest/pipeline/named", &tag("named")).await;
    let reroute = json!({"processors": [
        {"append": {"field": "ran", "value": "mover"}},
        {"set": {"field": "_index", "value": "moved"}}
    ]});
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/mover",
        &reroute.to_string(),
    )
    .await;
    let settings = json!({"settings": {"index.default_pipeline": "default", "index": {"final_pipeline": "final"}}});
    let (status, body, _) = call(&harness, "PUT", "/events", &settings.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, shown, _) = call(&harness, "GET", "/events/_settings", "").await;
    assert_eq!(
        shown["events"]["settings"]["index"]["default_pipeline"],
        "default"
    );
    assert_eq!(
        shown["events"]["settings"]["index"]["final_pipeline"],
        "final"
    );

    call(&harness, "PUT", "/events/_doc/1", "{}").await;
    assert_eq!(ran(&harness, "1").await, json!(["default", "final"]));
    call(&harness, "PUT", "/events/_doc/2?pipeline=named", "{}").await;
    assert_eq!(ran(&harness, "2").await, json!(["named", "final"]));
    call(&harness, "PUT", "/events/_doc/3?pipeline=_none", "{}").await;
    assert_eq!(
        ran(&harness, "3").await,
        json!(["final"]),
        "the final pipeline always runs"
    );

    // A pipeline that sends the document elsewhere hands it to that index's default pipeline.
    call(
        &harness,
        "PUT",
        "/moved",
        &json!({"settings": {"index.default_pipeline": "named"}}).to_string(),
    )
    .await;
    let (status, body, _) = call(&harness, "PUT", "/events/_doc/4?pipeline=mover", "{}").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["_index"], "moved");
    let (_, moved, _) = call(&harness, "GET", "/moved/_doc/4", "").await;
    assert_eq!(moved["_source"]["ran"], json!(["mover", "named"]));

    let (status, error, _) = call(&harness, "DELETE", "/_ingest/pipeline/final", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("including [events]"),
        "{error}"
    );

    let (status, _, _) = call(
        &harness,
        "PUT",
        "/events/_settings",
        r#"{"index": {"default_pipeline": "_none"}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    call(&harness, "PUT", "/events/_doc/5", "{}").await;
    assert_eq!(ran(&harness, "5").await, json!(["final"]));
    let (status, error, _) = call(
        &harness,
        "PUT",
        "/events/_settings",
        r#"{"index.final_pipeline": "nope"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["reason"],
        "pipeline with id [nope] does not exist"
    );

    // Templates give new indexes and data streams their pipelines.
    let template = json!({"index_patterns": ["tmpl-*"], "template": {"settings": {"index.default_pipeline": "named"}}});
    call(
        &harness,
        "PUT",
        "/_index_template/tmpl",
        &template.to_string(),
    )
    .await;
    call(&harness, "PUT", "/tmpl-a/_doc/1", "{}").await;
    let (_, created, _) = call(&harness, "GET", "/tmpl-a/_doc/1", "").await;
    assert_eq!(created["_source"]["ran"], json!(["named"]));

    let harness = harness.restart().await;
    call(&harness, "PUT", "/events/_doc/6", "{}").await;
    assert_eq!(
        ran(&harness, "6").await,
        json!(["final"]),
        "settings survive a restart"
    );
}

#[tokio::test]
async fn logs_streams_run_the_built_in_microservices_pipeline() {
    let harness = common::harness_with(1 << 20, |config| {
        config.default_logs_pipeline = Some(logfleet_pipeline::MICROSERVICES_PIPELINE.to_owned());
    });
    let (_, listed, _) = call(&harness, "GET", "/_ingest/pipeline/logs@microservices", "").await;
    assert_eq!(
        listed["logs@microservices"]["_meta"]["managed"], true,
        "visible: {listed}"
    );
    let body = concat!(
        "{\"create\":{}}\n",
        "{\"@timestamp\":\"2026-12-07 10:00:00\",\"log_category\":\"api_request\",\"level\":\"WARN\",\"http_method\":\"get\",\"path\":\"/api/users/17/\",\"status_code\":404,\"headers\":{\"Cookie\":\"sid=abc\"},\"message\":\"token=abc123 used\"}\n",
    );
    let (status, response, _) = call(&harness, "POST", "/logs/_bulk?refresh=true", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["items"][0]["create"]["status"], 201, "{response}");
    let index = response["items"][0]["create"]["_index"].as_str().unwrap();
    assert!(
        index.starts_with(".ds-logs-api_request-default-"),
        "{index}"
    );
    let found = search(&harness, "logs-*").await;
    let source = &found["hits"]["hits"][0]["_source"];
    assert_eq!(source["@timestamp"], "2026-12-07T10:00:00.000Z");
    assert_eq!(source["level"], "warning");
    assert_eq!(source["response_category"], "client_error");
    assert_eq!(source["endpoint_signature"], "GET /api/users/{id}/");
    assert_eq!(source["headers"]["Cookie"], "[REDACTED]");
    assert_eq!(source["message"], "token=[REDACTED] used");

    // Replaceable: a user's version is kept across restarts; `_none` skips it.
    let replacement = json!({"processors": [{"set": {"field": "replaced", "value": true}}]});
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/logs@microservices",
        &replacement.to_string(),
    )
    .await;
    let harness = harness.restart().await;
    let (_, stored, _) = call(&harness, "GET", "/_ingest/pipeline/logs@microservices", "").await;
    assert!(
        stored["logs@microservices"].get("_meta").is_none(),
        "{stored}"
    );
    call(
        &harness,
        "POST",
        "/logs-audit-default/_doc?refresh=true",
        "{\"user_action\":\"LOGIN_FAILED\"}",
    )
    .await;
    call(
        &harness,
        "POST",
        "/logs-audit-default/_doc?refresh=true&pipeline=_none",
        "{\"user_action\":\"LOGOUT\"}",
    )
    .await;
    let found = search(&harness, "logs-audit-default").await;
    let replaced: Vec<bool> = found["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_source"]["replaced"] == true)
        .collect();
    assert_eq!(
        replaced.iter().filter(|replaced| **replaced).count(),
        1,
        "{found}"
    );
}

#[tokio::test]
async fn simulate_ingest_runs_what_a_write_would_and_writes_nothing() {
    let harness = harness(1 << 20);
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/default",
        &json!({"processors": [{"set": {"field": "stage", "value": "stored"}}]}).to_string(),
    )
    .await;
    call(
        &harness,
        "PUT",
        "/_ingest/pipeline/final",
        &json!({"processors": [{"uppercase": {"field": "name"}}]}).to_string(),
    )
    .await;
    let settings =
        json!({"settings": {"index.default_pipeline": "default", "index.final_pipeline": "final"}});
    call(&harness, "PUT", "/events", &settings.to_string()).await;
    let request = json!({
        "docs": [
            {"_id": "1", "_source": {"name": "ann"}},
            {"_index": "events", "_id": "2", "_source": {"name": 7}}
        ],
        "pipeline_substitutions": {"default": {"processors": [{"set": {"field": "stage", "value": "substituted"}}]}}
    });
    let (status, body, _) = call(
        &harness,
        "POST",
        "/_ingest/events/_simulate",
        &request.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = &body["docs"][0]["doc"];
    assert_eq!(first["_index"], "events");
    assert_eq!(
        first["_source"],
        json!({"name": "ANN", "stage": "substituted"})
    );
    assert_eq!(first["executed_pipelines"], json!(["default", "final"]));
    let second = &body["docs"][1]["doc"];
    assert!(
        second["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be cast"),
        "{second}"
    );
    let (status, _, _) = call(&harness, "GET", "/events/_doc/1", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was written");
    let (status, error, _) = call(
        &harness,
        "POST",
        "/_ingest/_simulate",
        r#"{"docs":[{"_source":{}}]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
}
