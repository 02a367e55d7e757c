//! Aliases, rollover and date math index names, through the router in process.

mod common;

use axum::http::StatusCode;
use common::{Harness, call, harness};
use serde_json::{Value, json};

async fn ok(harness: &Harness, method: &str, uri: &str, body: Value) -> Value {
    let (status, response, _) = call(harness, method, uri, &body.to_string()).await;
    assert!(status.is_success(), "{method} {uri}: {status} {response}");
    response
}

async fn bulk(harness: &Harness, lines: &[Value]) -> Value {
    let body: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let (status, response, _) = call(harness, "POST", "/_bulk?refresh=true", &body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    response
}

async fn count(harness: &Harness, index: &str) -> u64 {
    ok(harness, "GET", &format!("/{index}/_count"), json!({})).await["count"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn filtered_aliases_limit_searches_and_writes_go_to_the_write_index() {
    let harness = harness(1 << 20);
    for index in ["app-000001", "app-000002"] {
        ok(&harness, "PUT", &format!("/{index}"), json!({})).await;
    }
    bulk(
        &harness,
        &[
            json!({"index": {"_index": "app-000001", "_id": "1"}}),
            json!({"level": "error", "service": "cart"}),
            json!({"index": {"_index": "app-000001", "_id": "2"}}),
            json!({"level": "info", "service": "cart"}),
            json!({"index": {"_index": "app-000002", "_id": "3"}}),
            json!({"level": "error", "service": "auth"}),
        ],
    )
    .await;
    let response = ok(
        &harness,
        "POST",
        "/_aliases",
        json!({"actions": [
            {"add": {"indices": ["app-000001", "app-000002"], "alias": "app"}},
            {"add": {"index": "app-000002", "alias": "app", "is_write_index": true}},
            {"add": {"index": "app-*", "alias": "app-errors",
                     "filter": {"term": {"level": "error"}}}},
        ]}),
    )
    .await;
    assert_eq!(response, json!({"acknowledged": true, "errors": false}));

    assert_eq!(count(&harness, "app").await, 3);
    assert_eq!(count(&harness, "app-errors").await, 2);
    // A partition reached directly and through a filtered alias is not filtered.
    assert_eq!(count(&harness, "app-errors,app-000001").await, 3);
    let search = ok(
        &harness,
        "POST",
        "/app-errors/_search",
        json!({"query": {"term": {"service": "cart"}}, "aggs": {"s": {"terms": {"field": "service.keyword"}}}}),
    )
    .await;
    assert_eq!(search["hits"]["total"]["value"], 1);
    assert_eq!(search["hits"]["hits"][0]["_index"], "app-000001");
    assert_eq!(search["aggregations"]["s"]["buckets"][0]["doc_count"], 1);

    // Writes through the alias land in its write index.
    let written = bulk(
        &harness,
        &[
            json!({"index": {"_index": "app", "_id": "4"}}),
            json!({"level": "warn"}),
        ],
    )
    .await;
    assert_eq!(written["items"][0]["index"]["_index"], "app-000002");
    let (status, error, _) = call(&harness, "PUT", "/app-errors/_doc/5", r#"{"level":"x"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("no write index is defined for alias [app-errors]"),
        "{error}"
    );
    let (status, error, _) = call(&harness, "GET", "/app/_doc/1", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["reason"],
        "alias [app] has more than one index associated with it [app-000001, app-000002], can't execute a single index op"
    );

    // The shapes of the read APIs.
    assert_eq!(
        ok(&harness, "GET", "/_alias/app-errors", json!({})).await,
        json!({
            "app-000001": {"aliases": {"app-errors": {"filter": {"term": {"level": "error"}}}}},
            "app-000002": {"aliases": {"app-errors": {"filter": {"term": {"level": "error"}}}}},
        })
    );
    assert_eq!(
        ok(&harness, "GET", "/app-000002/_alias", json!({})).await,
        json!({"app-000002": {"aliases": {
            "app": {"is_write_index": true},
            "app-errors": {"filter": {"term": {"level": "error"}}},
        }}})
    );
    let index = ok(&harness, "GET", "/app-000001", json!({})).await;
    assert_eq!(index["app-000001"]["aliases"]["app"], json!({}));
    let resolved = ok(&harness, "GET", "/_resolve/index/app*", json!({})).await;
    assert_eq!(
        resolved["aliases"],
        json!([
            {"name": "app", "indices": ["app-000001", "app-000002"]},
            {"name": "app-errors", "indices": ["app-000001", "app-000002"]},
        ])
    );
    let (status, missing, _) = call(&harness, "GET", "/_alias/app,nope", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"], "alias [nope] missing");
    assert_eq!(missing["status"], 404);
    assert!(missing["app-000001"]["aliases"]["app"].is_object());
    let (status, _, _) = call(&harness, "HEAD", "/_alias/app", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&harness, "HEAD", "/_alias/nope", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, cat, _) = call(&harness, "GET", "/_cat/aliases/app?v&s=index", "").await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = cat.as_str().unwrap().lines().collect();
    assert_eq!(lines.len(), 3, "{cat}");
    assert!(lines[0].starts_with("alias"));
    assert!(
        lines[2]
            .split_whitespace()
            .eq(["app", "app-000002", "-", "-", "-", "true"])
    );

    // Aliases are not indexes: they cannot be deleted as one, nor created over one.
    let (status, error, _) = call(&harness, "DELETE", "/app", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, error, _) = call(&harness, "PUT", "/app", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["type"], "invalid_index_name_exception");
    assert_eq!(
        error["error"]["reason"],
        "Invalid index name [app], already exists as alias"
    );
    let (status, error, _) = call(&harness, "PUT", "/app-000001/_alias/app-000002", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["type"], "invalid_alias_name_exception");

    // Deleting an index takes it out of its aliases.
    ok(&harness, "DELETE", "/app-000002", json!({})).await;
    assert_eq!(count(&harness, "app").await, 2);
    assert_eq!(count(&harness, "app-errors").await, 1);
}

#[tokio::test]
async fn alias_actions_are_atomic_and_report_what_failed() {
    let harness = harness(1 << 20);
    for index in ["a", "b", "c"] {
        ok(&harness, "PUT", &format!("/{index}"), json!({})).await;
    }
    ok(&harness, "PUT", "/a/_alias/current", json!({})).await;
    // A swap in one request.
    ok(
        &harness,
        "POST",
        "/_aliases",
        json!({"actions": [
            {"remove": {"index": "a", "alias": "current"}},
            {"add": {"index": "b", "alias": "current"}},
        ]}),
    )
    .await;
    assert_eq!(
        ok(&harness, "GET", "/_alias/current", json!({})).await,
        json!({"b": {"aliases": {"current": {}}}})
    );

    // One failing action of several: the others apply, and the response says which failed.
    let response = ok(
        &harness,
        "POST",
        "/_aliases",
        json!({"actions": [
            {"add": {"index": "c", "alias": "other"}},
            {"remove": {"index": "c", "alias": "never"}},
        ]}),
    )
    .await;
    assert_eq!(response["errors"], true);
    assert_eq!(
        response["action_results"],
        json!([
            {"action": {"type": "add", "indices": ["c"], "aliases": ["other"]}, "status": 200},
            {"action": {"type": "remove", "indices": ["c"], "aliases": ["never"]}, "status": 404,
             "error": {"type": "aliases_not_found_exception", "reason": "aliases [never] missing",
                       "resource.type": "aliases", "resource.id": "never"}},
        ])
    );
    // All failing: the request fails.
    let (status, error, _) = call(&harness, "DELETE", "/c/_alias/never", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["type"], "aliases_not_found_exception");

    // A failure that makes the whole request invalid changes nothing.
    let (status, error, _) = call(
        &harness,
        "POST",
        "/_aliases",
        &json!({"actions": [
            {"add": {"index": "a", "alias": "doomed"}},
            {"add": {"index": "missing", "alias": "doomed"}},
        ]})
        .to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["type"], "index_not_found_exception");
    let (status, _, _) = call(&harness, "HEAD", "/_alias/doomed", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error, _) = call(
        &harness,
        "POST",
        "/_aliases",
        &json!({"actions": [
            {"add": {"index": "a", "alias": "two", "is_write_index": true}},
            {"add": {"index": "b", "alias": "two", "is_write_index": true}},
        ]})
        .to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        error["error"]["reason"],
        "alias [two] has more than one write index [a,b]"
    );

    // `remove_index` deletes, and the aliases survive a restart.
    ok(
        &harness,
        "POST",
        "/_aliases",
        json!({"actions": [{"remove_index": {"index": "a"}}]}),
    )
    .await;
    let (status, _, _) = call(&harness, "HEAD", "/a", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let harness = harness.restart().await;
    assert_eq!(
        ok(&harness, "GET", "/_alias", json!({})).await,
        json!({"b": {"aliases": {"current": {}}}, "c": {"aliases": {"other": {}}}})
    );
}

#[tokio::test]
async fn date_math_names_and_rollover_make_a_series() {
    let harness = harness(1 << 20);
    let today = time::OffsetDateTime::now_utc();
    let day = format!(
        "{:04}.{:02}.{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    // What Logstash does to bootstrap its ILM write alias.
    let created = ok(
        &harness,
        "PUT",
        "/%3Cseries-%7Bnow%2Fd%7D-000001%3E",
        json!({"aliases": {"series": {"is_write_index": true}}}),
    )
    .await;
    let first = format!("series-{day}-000001");
    assert_eq!(created["index"], first);
    let written = bulk(
        &harness,
        &[
            json!({"create": {"_index": "series"}}),
            json!({"message": "one"}),
            json!({"create": {"_index": "<series-{now/d}-000001>"}}),
            json!({"message": "two"}),
        ],
    )
    .await;
    assert_eq!(written["items"][0]["create"]["_index"], first);
    assert_eq!(written["items"][1]["create"]["_index"], first, "{written}");

    let not_yet = ok(
        &harness,
        "POST",
        "/series/_rollover",
        json!({"conditions": {"max_docs": 3, "max_age": "1d"}}),
    )
    .await;
    assert_eq!(
        not_yet,
        json!({"acknowledged": false, "shards_acknowledged": false, "old_index": first,
               "new_index": format!("series-{day}-000002"), "rolled_over": false,
               "dry_run": false, "lazy": false,
               "conditions": {"[max_docs: 3]": false, "[max_age: 1d]": false}})
    );
    let dry = ok(
        &harness,
        "POST",
        "/series/_rollover?dry_run",
        json!({"conditions": {"max_docs": 2}}),
    )
    .await;
    assert_eq!(dry["rolled_over"], false);
    assert_eq!(dry["conditions"]["[max_docs: 2]"], true);
    let rolled = ok(
        &harness,
        "POST",
        "/series/_rollover",
        json!({"conditions": {"max_docs": 2}}),
    )
    .await;
    let second = format!("series-{day}-000002");
    assert_eq!(rolled["rolled_over"], true);
    assert_eq!(rolled["new_index"], second);
    assert_eq!(
        ok(&harness, "GET", "/_alias/series", json!({})).await,
        json!({
            first.clone(): {"aliases": {"series": {"is_write_index": false}}},
            second.clone(): {"aliases": {"series": {"is_write_index": true}}},
        })
    );
    let written = bulk(
        &harness,
        &[
            json!({"create": {"_index": "series"}}),
            json!({"message": "three"}),
        ],
    )
    .await;
    assert_eq!(written["items"][0]["create"]["_index"], second);
    assert_eq!(count(&harness, "series").await, 3);
    let search = ok(
        &harness,
        "GET",
        "/%3Cseries-%7Bnow%2Fd%7D-*%3E/_count",
        json!({}),
    )
    .await;
    assert_eq!(search["count"], 3);

    // An explicit name, and the errors of the API.
    let named = ok(
        &harness,
        "POST",
        "/series/_rollover/series-archive-1",
        json!({}),
    )
    .await;
    assert_eq!(named["new_index"], "series-archive-1");
    let (status, error, _) = call(&harness, "POST", "/series/_rollover/series-archive-1", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["type"], "resource_already_exists_exception");
    let (status, error, _) = call(&harness, "POST", &format!("/{first}/_rollover"), "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["reason"],
        "rollover target is a [concrete index] but one of [alias,data_stream] was expected"
    );
    let (status, error, _) = call(&harness, "POST", "/nothing/_rollover", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["reason"],
        "rollover target [nothing] does not exist"
    );
    let (status, error, _) = call(
        &harness,
        "POST",
        "/series/_rollover",
        r#"{"conditions": {"max_bananas": 1}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, error, _) = call(&harness, "GET", "/%3Cseries-%7Bnow%2Fd%3E/_search", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["type"], "parse_exception");
    assert_eq!(
        call(&harness, "GET", "/%3Cseries-%7Bnow%2Fd%3E/_search", "")
            .await
            .2["x-elastic-product"],
        "Elasticsearch"
    );
}

#[tokio::test]
async fn templates_and_index_creation_add_aliases() {
    let harness = harness(1 << 20);
    ok(
        &harness,
        "PUT",
        "/_index_template/metrics",
        json!({"index_patterns": ["metrics-*"],
               "template": {"aliases": {"metrics": {}, "{index}-alias": {"is_hidden": true}}}}),
    )
    .await;
    ok(
        &harness,
        "PUT",
        "/metrics-1",
        json!({"aliases": {"latest": {"filter": {"range": {"value": {"gte": 10}}}}}}),
    )
    .await;
    assert_eq!(
        ok(&harness, "GET", "/metrics-1/_alias", json!({})).await,
        json!({"metrics-1": {"aliases": {
            "latest": {"filter": {"range": {"value": {"gte": 10}}}},
            "metrics": {},
            "metrics-1-alias": {"is_hidden": true},
        }}})
    );
    for (uri, body, kind) in [
        (
            "/_index_template/bad",
            json!({"index_patterns": ["x-*"], "template": {"aliases": {"Bad": {}}}}),
            "invalid_alias_name_exception",
        ),
        (
            "/x-1",
            json!({"aliases": {"a": {"filter": {"no_such_query": {}}}}}),
            "illegal_argument_exception",
        ),
        (
            "/x-2",
            json!({"aliases": {"x-2": {}}}),
            "invalid_alias_name_exception",
        ),
        (
            "/x-3",
            json!({"aliases": {"a": {"routing": []}}}),
            "illegal_argument_exception",
        ),
    ] {
        let (status, error, _) = call(&harness, "PUT", uri, &body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {error}");
        assert_eq!(error["error"]["type"], kind, "{uri}: {error}");
    }
    // Nothing of a refused creation is left behind.
    for index in ["x-1", "x-2", "x-3"] {
        let (status, _, _) = call(&harness, "HEAD", &format!("/{index}"), "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{index}");
    }

    // Data stream aliases.
    bulk(
        &harness,
        &[
            json!({"create": {"_index": "logs-web-default"}}),
            json!({"@timestamp": "2026-12-01T00:00:00Z", "message": "x"}),
        ],
    )
    .await;
    ok(
        &harness,
        "PUT",
        "/logs-web-default/_alias/web",
        json!({"is_write_index": true}),
    )
    .await;
    let written = bulk(
        &harness,
        &[
            json!({"create": {"_index": "web"}}),
            json!({"@timestamp": "2026-12-01T00:00:01Z", "message": "y"}),
        ],
    )
    .await;
    assert!(
        written["items"][0]["create"]["_index"]
            .as_str()
            .unwrap()
            .starts_with(".ds-logs-web-default-"),
        "{written}"
    );
    assert_eq!(count(&harness, "web").await, 2);
    assert_eq!(
        ok(&harness, "GET", "/_alias/web", json!({})).await,
        json!({"logs-web-default": {"aliases": {"web": {"is_write_index": true}}}})
    );
    let (status, error, _) = call(&harness, "PUT", "/metrics-1/_alias/web", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
}

#[tokio::test]
async fn lifecycle_policies_roll_over_and_delete_alias_indexes() {
    let harness = harness(1 << 20);
    // What Logstash installs in its ILM mode: a policy, a template naming it and the
    // rollover alias, and the bootstrap index.
    ok(
        &harness,
        "PUT",
        "/_ilm/policy/logstash-policy",
        json!({"policy": {"phases": {
            "hot": {"actions": {"rollover": {"max_docs": 2, "max_age": "30d"}}},
            "delete": {"min_age": "0ms", "actions": {"delete": {}}},
        }}}),
    )
    .await;
    ok(
        &harness,
        "PUT",
        "/_template/logstash",
        json!({"index_patterns": "logstash-*", "settings": {
            "index.lifecycle.name": "logstash-policy",
            "index.lifecycle.rollover_alias": "logstash",
        }}),
    )
    .await;
    ok(
        &harness,
        "PUT",
        "/%3Clogstash-%7Bnow%2Fd%7D-000001%3E",
        json!({"aliases": {"logstash": {"is_write_index": true}}}),
    )
    .await;
    let (status, _, _) = call(&harness, "HEAD", "/logstash", "").await;
    assert_eq!(status, StatusCode::OK);
    let now = logfleet_store::now_millis();
    assert!(
        harness
            .store
            .run_index_lifecycles(now)
            .await
            .unwrap()
            .is_empty()
    );

    let written = bulk(
        &harness,
        &[
            json!({"index": {"_index": "logstash"}}),
            json!({"message": "a"}),
            json!({"index": {"_index": "logstash"}}),
            json!({"message": "b"}),
        ],
    )
    .await;
    let first = written["items"][0]["index"]["_index"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(first.ends_with("-000001"), "{first}");
    let explained = ok(&harness, "GET", "/logstash/_ilm/explain", json!({})).await;
    let state = &explained["indices"][first.as_str()];
    assert_eq!(
        (
            &state["managed"],
            &state["policy"],
            &state["phase"],
            &state["action"],
            &state["step"]
        ),
        (
            &json!(true),
            &json!("logstash-policy"),
            &json!("hot"),
            &json!("rollover"),
            &json!("check-rollover-ready")
        ),
        "{explained}"
    );
    let rolled = harness.store.run_index_lifecycles(now).await.unwrap();
    let second = first.replace("-000001", "-000002");
    assert_eq!(rolled, std::slice::from_ref(&second));
    let explained = ok(
        &harness,
        "GET",
        &format!("/{first}/_ilm/explain"),
        json!({}),
    )
    .await;
    assert_eq!(
        explained["indices"][first.as_str()]["phase"],
        "delete",
        "{explained}"
    );
    ok(&harness, "PUT", "/unmanaged", json!({})).await;
    let explained = ok(&harness, "GET", "/unmanaged/_ilm/explain", json!({})).await;
    assert_eq!(
        explained,
        json!({"indices": {"unmanaged": {"index": "unmanaged", "managed": false}}})
    );
    let explained = ok(
        &harness,
        "GET",
        "/unmanaged/_ilm/explain?only_managed",
        json!({}),
    )
    .await;
    assert_eq!(explained, json!({"indices": {}}));
    // The retired index's delete phase is due at once; the write index is kept.
    let deleted = harness
        .store
        .run_index_lifecycles(now + 60_000)
        .await
        .unwrap();
    assert_eq!(deleted, std::slice::from_ref(&first));
    assert!(
        harness
            .store
            .run_index_lifecycles(now + 120_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ok(&harness, "GET", "/_alias/logstash", json!({})).await,
        json!({second: {"aliases": {"logstash": {"is_write_index": true}}}})
    );
}

#[tokio::test]
async fn a_policy_that_plain_indexes_follow_is_in_use() {
    let harness = harness(1 << 20);
    ok(
        &harness,
        "PUT",
        "/_ilm/policy/keep",
        json!({"policy": {"phases": {"hot": {"actions": {}}}}}),
    )
    .await;
    ok(
        &harness,
        "PUT",
        "/kept",
        json!({"settings": {"index": {"lifecycle": {"name": "keep"}}}}),
    )
    .await;
    let policy = ok(&harness, "GET", "/_ilm/policy/keep", json!({})).await;
    assert_eq!(policy["keep"]["in_use_by"]["indices"], json!(["kept"]));
    let (status, _, _) = call(&harness, "DELETE", "/_ilm/policy/keep", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
