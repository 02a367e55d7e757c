//! Handler tests in process: the router called with `oneshot`, over a real store in a
//! temporary directory.

mod common;

use axum::http::StatusCode;
use common::{call, harness};
use serde_json::{Value, json};

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
    // Both in the error object every error has: tools read `error.type`.
    let (status, body, _) = call(&harness, "DELETE", "/_bulk", "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["type"], "illegal_argument_exception");
    assert_eq!(
        body["error"]["reason"],
        "Incorrect HTTP method for uri [/_bulk] and method [DELETE]"
    );
    assert_eq!(body["status"], 405);
    let (status, body, _) = call(&harness, "GET", "/a/b/c/d", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"]["root_cause"][0]["type"],
        "resource_not_found_exception"
    );
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

#[tokio::test]
async fn legacy_templates_apply_where_no_composable_template_does() {
    let harness = harness(1 << 20);
    let put = |name: &'static str, body: Value| {
        let harness = &harness;
        async move {
            let (status, response, _) = call(
                harness,
                "PUT",
                &format!("/_template/{name}"),
                &body.to_string(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{response}");
        }
    };
    put(
        "base",
        json!({"index_patterns": ["fluentd-*"], "order": 0,
               "mappings": {"properties": {"host": {"type": "keyword"}, "pid": {"type": "keyword"}}}}),
    )
    .await;
    put(
        "web",
        json!({"index_patterns": ["fluentd-web-*"], "order": 1, "version": 3,
               "settings": {"index": {"mapping.total_fields.limit": 77}},
               "mappings": {"properties": {"pid": {"type": "long"}}},
               "aliases": {"fluentd": {}}}),
    )
    .await;
    let (status, body, _) = call(&harness, "GET", "/_template/web", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"web": {"order": 1, "version": 3, "index_patterns": ["fluentd-web-*"],
                       "settings": {"index": {"mapping": {"total_fields": {"limit": "77"}}}},
                       "mappings": {"properties": {"pid": {"type": "long"}}},
                       "aliases": {"fluentd": {}}}})
    );
    let (status, body, _) = call(&harness, "GET", "/_template/nope", "").await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({})));
    let (status, _, _) = call(&harness, "HEAD", "/_template/base", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, error, _) = call(
        &harness,
        "PUT",
        "/_template/base?create=true",
        r#"{"index_patterns": ["x"]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");

    let (status, _, _) = call(
        &harness,
        "POST",
        "/fluentd-web-1/_doc?refresh=true",
        r#"{"host": "a", "pid": 12}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, index, _) = call(&harness, "GET", "/fluentd-web-1", "").await;
    let index = &index["fluentd-web-1"];
    assert_eq!(index["mappings"]["properties"]["host"]["type"], "keyword");
    assert_eq!(index["mappings"]["properties"]["pid"]["type"], "long");
    assert_eq!(
        index["settings"]["index"]["mapping"]["total_fields"]["limit"],
        "77"
    );
    assert_eq!(index["aliases"], json!({"fluentd": {}}));
    // A composable template outranks every legacy one.
    let (status, _, _) = call(
        &harness,
        "PUT",
        "/_index_template/composable",
        r#"{"index_patterns": ["fluentd-web-2*"]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    call(&harness, "POST", "/fluentd-web-2/_doc", r#"{"pid": "x"}"#).await;
    let (_, index, _) = call(&harness, "GET", "/fluentd-web-2", "").await;
    assert_eq!(index["fluentd-web-2"]["aliases"], json!({}));

    let (_, cat, _) = call(
        &harness,
        "GET",
        "/_cat/templates?h=name,order,version&s=name",
        "",
    )
    .await;
    let rows: Vec<Vec<&str>> = cat
        .as_str()
        .unwrap()
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["base", "0"],
            vec!["composable", "0"],
            vec!["web", "1", "3"]
        ]
    );
    let (_, count, _) = call(&harness, "GET", "/_cat/count/fluentd-*?format=json", "").await;
    assert_eq!(count[0]["count"], "1");
    let (status, _, _) = call(&harness, "DELETE", "/_template/base", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, error, _) = call(&harness, "DELETE", "/_template/base", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["type"], "index_template_missing_exception");
}

#[tokio::test]
async fn nodes_and_cluster_settings_describe_one_node() {
    let harness = harness(1 << 20);
    let (status, nodes, _) = call(&harness, "GET", "/_nodes/http", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(nodes["_nodes"]["total"], 1);
    let node = nodes["nodes"].as_object().unwrap().values().next().unwrap();
    assert!(node["http"]["publish_address"].is_string());
    assert_eq!(node["version"], logfleet_api::ELASTICSEARCH_VERSION);
    let (status, settings, _) = call(&harness, "GET", "/_cluster/settings", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings, json!({"persistent": {}, "transient": {}}));
    // Shippers set `action.auto_create_index`; a write it forbids creates nothing.
    let (status, applied, _) = call(
        &harness,
        "PUT",
        "/_cluster/settings",
        r#"{"persistent": {"action": {"auto_create_index": "+keep-*,-*"}}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        applied,
        json!({"acknowledged": true, "persistent": {"action": {"auto_create_index": "+keep-*,-*"}}, "transient": {}})
    );
    let (status, _, _) = call(&harness, "POST", "/keep-1/_doc", r#"{"a": 1}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, error, _) = call(&harness, "POST", "/other/_doc", r#"{"a": 1}"#).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["type"], "index_not_found_exception");
    assert_eq!(
        error["error"]["reason"],
        "no such index [other] and [action.auto_create_index] contains [-*] which forbids automatic creation of the index"
    );
    let (_, settings, _) = call(&harness, "GET", "/_cluster/settings?flat_settings=true", "").await;
    assert_eq!(
        settings,
        json!({"persistent": {"action.auto_create_index": "+keep-*,-*"}, "transient": {}})
    );
    let (status, error, _) = call(
        &harness,
        "PUT",
        "/_cluster/settings",
        r#"{"persistent": {"no.such.setting": "1"}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["reason"],
        "persistent setting [no.such.setting], not recognized"
    );
}

#[tokio::test]
async fn component_templates_compose_into_index_templates() {
    let harness = harness(1 << 20);
    for (name, body) in [
        (
            "base",
            json!({"template": {"mappings": {"properties": {
                "host": {"type": "keyword"}, "pid": {"type": "keyword"}}},
                "aliases": {"everything": {}}}}),
        ),
        (
            "numbers",
            json!({"template": {"mappings": {"properties": {"pid": {"type": "long"}}},
                                "settings": {"index.mapping.total_fields.limit": 123}},
                   "version": 2}),
        ),
    ] {
        let uri = format!("/_component_template/{name}");
        let (status, body, _) = call(&harness, "PUT", &uri, &body.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, error, _) = call(
        &harness,
        "PUT",
        "/_index_template/broken",
        r#"{"index_patterns": ["b-*"], "composed_of": ["base", "gone"]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["type"], "invalid_index_template_exception");
    assert_eq!(
        error["error"]["reason"],
        "index_template [broken] invalid, cause [index template [broken] specifies component templates [gone] that do not exist]"
    );
    let (status, body, _) = call(
        &harness,
        "PUT",
        "/_index_template/apps",
        r#"{"index_patterns": ["apps-*"], "composed_of": ["base", "numbers"],
            "template": {"mappings": {"properties": {"address": {"type": "ip"}}}}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    call(
        &harness,
        "POST",
        "/apps-1/_doc?refresh=true",
        r#"{"host": "a", "pid": 7, "address": "10.0.0.1"}"#,
    )
    .await;
    let (_, index, _) = call(&harness, "GET", "/apps-1", "").await;
    let index = &index["apps-1"];
    let properties = &index["mappings"]["properties"];
    assert_eq!(properties["host"]["type"], "keyword");
    assert_eq!(properties["pid"]["type"], "long");
    assert_eq!(properties["address"]["type"], "ip");
    assert_eq!(
        index["settings"]["index"]["mapping"]["total_fields"]["limit"],
        "123"
    );
    assert_eq!(index["aliases"], json!({"everything": {}}));

    let (status, simulated, _) = call(
        &harness,
        "POST",
        "/_index_template/_simulate_index/apps-2",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{simulated}");
    let template = &simulated["template"];
    assert_eq!(template["mappings"]["properties"]["pid"]["type"], "long");
    assert_eq!(template["mappings"]["properties"]["address"]["type"], "ip");
    assert_eq!(
        template["settings"]["index"]["mapping"]["total_fields"]["limit"],
        "123"
    );
    assert_eq!(template["aliases"], json!({"everything": {}}));
    assert_eq!(simulated["overlapping"], json!([]));
    let (_, listed, _) = call(&harness, "GET", "/_component_template/num*", "").await;
    assert_eq!(listed["component_templates"][0]["name"], "numbers");
    assert_eq!(
        listed["component_templates"][0]["component_template"]["version"],
        2
    );
    let (status, error, _) = call(&harness, "DELETE", "/_component_template/base", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["reason"],
        "component templates [base] cannot be removed as they are still in use by index templates [apps]"
    );
    call(&harness, "DELETE", "/_index_template/apps", "").await;
    let (status, _, _) = call(&harness, "DELETE", "/_component_template/base", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&harness, "HEAD", "/_component_template/base", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error, _) = call(&harness, "GET", "/_component_template/base", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["type"], "resource_not_found_exception");
}

#[tokio::test]
async fn delete_by_query_deletes_what_matches_and_nothing_else() {
    let harness = harness(1 << 20);
    let mut body = String::new();
    for number in 0..25 {
        let level = if number % 5 == 0 { "error" } else { "info" };
        if number % 2 == 0 {
            body.push_str(&format!(
                "{{\"index\":{{\"_index\":\"app\",\"_id\":\"{number}\"}}}}\n"
            ));
        } else {
            body.push_str("{\"index\":{\"_index\":\"app\"}}\n");
        }
        body.push_str(&format!("{{\"level\":\"{level}\",\"n\":{number}}}\n"));
    }
    body.push_str("{\"create\":{\"_index\":\"logs-app-default\"}}\n");
    body.push_str("{\"@timestamp\":\"2026-12-01T00:00:00Z\",\"level\":\"error\"}\n");
    let (status, response, _) = call(&harness, "POST", "/_bulk?refresh=true", &body).await;
    assert_eq!(
        (status, &response["errors"]),
        (StatusCode::OK, &json!(false))
    );

    let (status, response, _) = call(
        &harness,
        "POST",
        "/app,logs-app-default/_delete_by_query?refresh=true&scroll_size=2",
        r#"{"query": {"term": {"level.keyword": "error"}}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(response["total"], 5, "{response}");
    assert_eq!(response["deleted"], 5);
    assert_eq!(response["batches"], 3);
    assert_eq!(response["version_conflicts"], 0);
    assert_eq!(response["failures"], json!([]));
    let (_, count, _) = call(&harness, "GET", "/app/_count", "").await;
    assert_eq!(count["count"], 20);
    // The data stream's `level` is a keyword, not `level.keyword`: untouched.
    let (_, count, _) = call(&harness, "GET", "/logs-app-default/_count", "").await;
    assert_eq!(count["count"], 1);

    let (status, response, _) = call(
        &harness,
        "POST",
        "/logs-app-default/_delete_by_query?q=level:error&refresh=true",
        "",
    )
    .await;
    assert_eq!(
        (status, &response["deleted"]),
        (StatusCode::OK, &json!(1)),
        "{response}"
    );
    let (status, response, _) = call(
        &harness,
        "POST",
        "/app/_delete_by_query?refresh=true",
        r#"{"query": {"range": {"n": {"gte": 20}}}, "max_docs": 3}"#,
    )
    .await;
    assert_eq!(
        (status, &response["deleted"]),
        (StatusCode::OK, &json!(3)),
        "{response}"
    );
    let (_, count, _) = call(&harness, "GET", "/app/_count", "").await;
    assert_eq!(count["count"], 17);

    for (uri, body, kind) in [
        (
            "/app/_delete_by_query",
            "",
            "action_request_validation_exception",
        ),
        (
            "/app/_delete_by_query?conflicts=maybe",
            r#"{"query": {"match_all": {}}}"#,
            "illegal_argument_exception",
        ),
        (
            "/app/_delete_by_query?wait_for_completion=false",
            r#"{"query": {"match_all": {}}}"#,
            "illegal_argument_exception",
        ),
        (
            "/app/_delete_by_query",
            r#"{"query": {"nope": {}}}"#,
            "parsing_exception",
        ),
        (
            "/missing/_delete_by_query",
            r#"{"query": {"match_all": {}}}"#,
            "index_not_found_exception",
        ),
    ] {
        let (status, error, _) = call(&harness, "POST", uri, body).await;
        assert!(status.is_client_error(), "{uri}: {status} {error}");
        assert_eq!(error["error"]["type"], kind, "{uri}: {error}");
    }
    let (_, count, _) = call(&harness, "GET", "/app/_count", "").await;
    assert_eq!(count["count"], 17, "refused requests delete nothing");
}

#[tokio::test]
async fn events_stamped_by_the_pipeline_keep_their_values() {
    let harness = harness(1 << 20);
    // No `@timestamp`: the pipeline adds one and the document is re-encoded, so its stored
    // `_source` no longer shares the request's bytes; it must still come back whole.
    let body = concat!(
        "{\"create\":{}}\n",
        "{\"log_category\":\"audit\",\"user_id\":\"u7\",\"status_code\":200,\"duration_ms\":1.5}\n",
        "{\"create\":{}}\n",
        "{\"@timestamp\":\"2026-12-06T10:00:00.000Z\",\"log_category\":\"audit\",\"user_id\":\"u8\",\"status_code\":201}\n",
    );
    let (status, response, _) = call(&harness, "POST", "/logs/_bulk?refresh=true", body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(response["errors"], false, "{response}");
    let (_, hits, _) = call(
        &harness,
        "POST",
        "/logs-audit-default/_search",
        &json!({"sort": [{"user_id": "asc"}]}).to_string(),
    )
    .await;
    let sources: Vec<&Value> = hits["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| &hit["_source"])
        .collect();
    assert_eq!(sources.len(), 2, "{hits}");
    let stamped = sources[0].as_object().unwrap();
    assert!(
        stamped["@timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(stamped["user_id"], "u7");
    assert_eq!(stamped["status_code"], 200);
    assert_eq!(stamped["duration_ms"], 1.5);
    assert_eq!(
        sources[1],
        &json!({"@timestamp": "2026-12-06T10:00:00.000Z", "log_category": "audit", "user_id": "u8", "status_code": 201})
    );
}

#[tokio::test]
async fn node_info_has_every_section_or_the_ones_asked_for() {
    let harness = harness(1 << 20);
    let (_, all, _) = call(&harness, "GET", "/_nodes", "").await;
    let node = all["nodes"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    for section in [
        "settings",
        "os",
        "process",
        "jvm",
        "thread_pool",
        "transport",
        "http",
        "plugins",
        "modules",
        "ingest",
    ] {
        assert!(node.get(section).is_some(), "no [{section}] in {node}");
    }
    assert_eq!(node["jvm"]["gc_collectors"], json!([]));
    assert!(
        node["ingest"]["processors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|processor| processor["type"] == "grok")
    );
    let (_, some, _) = call(&harness, "GET", "/_nodes/os,http", "").await;
    let node = some["nodes"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert!(
        node.get("os").is_some() && node.get("http").is_some() && node.get("jvm").is_none(),
        "{node}"
    );
}
