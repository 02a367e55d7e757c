//! Single documents: sequence numbers and optimistic concurrency control (`if_seq_no`,
//! `if_primary_term`), as Elasticsearch's clients rely on them.

mod common;

use axum::http::StatusCode;
use common::{call, harness};
use serde_json::{Value, json};

fn seq_no(body: &Value) -> u64 {
    body["_seq_no"]
        .as_u64()
        .unwrap_or_else(|| panic!("no _seq_no in {body}"))
}

#[tokio::test]
async fn a_document_reports_the_sequence_number_of_its_last_write() {
    let harness = harness(1 << 20);
    let (status, created, _) = call(&harness, "PUT", "/seq/_doc/1", r#"{"n": 1}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, got, _) = call(&harness, "GET", "/seq/_doc/1", "").await;
    assert_eq!(seq_no(&got), seq_no(&created));
    assert_eq!(got["_primary_term"], 1);
    let (_, updated, _) = call(&harness, "PUT", "/seq/_doc/1", r#"{"n": 2}"#).await;
    assert!(seq_no(&updated) > seq_no(&created));
    let (_, got, _) = call(&harness, "GET", "/seq/_doc/1", "").await;
    assert_eq!(seq_no(&got), seq_no(&updated));
    assert_eq!(got["_version"], 2);
    // After a refresh, from the committed index.
    call(&harness, "POST", "/seq/_refresh", "").await;
    let (_, got, _) = call(&harness, "GET", "/seq/_doc/1", "").await;
    assert_eq!(seq_no(&got), seq_no(&updated));
    let (_, many, _) = call(
        &harness,
        "POST",
        "/_mget",
        r#"{"docs": [{"_index": "seq", "_id": "1"}]}"#,
    )
    .await;
    assert_eq!(seq_no(&many["docs"][0]), seq_no(&updated));
    let (_, found, _) = call(
        &harness,
        "POST",
        "/seq/_search",
        r#"{"seq_no_primary_term": true, "version": true}"#,
    )
    .await;
    let hit = &found["hits"]["hits"][0];
    assert_eq!(seq_no(hit), seq_no(&updated));
    assert_eq!(hit["_primary_term"], 1);
    assert_eq!(hit["_version"], 2);
}

#[tokio::test]
async fn a_write_of_a_stale_copy_is_refused() {
    let harness = harness(1 << 20);
    let (_, created, _) = call(&harness, "PUT", "/occ/_doc/1?refresh=true", r#"{"n": 1}"#).await;
    let read = seq_no(&created);
    // Two clients read the same copy; the first write wins.
    let path = format!("/occ/_doc/1?if_seq_no={read}&if_primary_term=1");
    let (status, first, _) = call(&harness, "PUT", &path, r#"{"n": 2}"#).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, second, _) = call(&harness, "PUT", &path, r#"{"n": 3}"#).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(second["error"]["type"], "version_conflict_engine_exception");
    assert_eq!(
        second["error"]["reason"],
        format!(
            "[1]: version conflict, required seqNo [{read}], primary term [1]. current document has seqNo [{}] and primary term [1]",
            seq_no(&first)
        )
    );
    let (_, got, _) = call(&harness, "GET", "/occ/_doc/1", "").await;
    assert_eq!(got["_source"]["n"], 2, "the refused write changed nothing");

    // Another primary term, a missing document, and deletes.
    let stale_term = format!("/occ/_doc/1?if_seq_no={}&if_primary_term=2", seq_no(&first));
    let (status, _, _) = call(&harness, "PUT", &stale_term, r#"{"n": 4}"#).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, missing, _) = call(
        &harness,
        "PUT",
        "/occ/_doc/2?if_seq_no=1&if_primary_term=1",
        r#"{"n": 1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        missing["error"]["reason"]
            .as_str()
            .unwrap()
            .ends_with("but no document was found")
    );
    let (status, _, _) = call(&harness, "DELETE", &path, "").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let current = format!("/occ/_doc/1?if_seq_no={}&if_primary_term=1", seq_no(&first));
    let (status, deleted, _) = call(&harness, "DELETE", &current, "").await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
}

#[tokio::test]
async fn bulk_items_are_checked_in_order() {
    let harness = harness(1 << 20);
    let (_, created, _) = call(&harness, "PUT", "/occb/_doc/1", r#"{"n": 1}"#).await;
    let read = seq_no(&created);
    // Two writes of the same copy in one request: the second sees the first.
    let body = format!(
        "{{\"index\": {{\"_index\": \"occb\", \"_id\": \"1\", \"if_seq_no\": {read}, \"if_primary_term\": 1}}}}\n{{\"n\": 2}}\n\
         {{\"index\": {{\"_index\": \"occb\", \"_id\": \"1\", \"if_seq_no\": {read}, \"if_primary_term\": 1}}}}\n{{\"n\": 3}}\n\
         {{\"create\": {{\"_index\": \"occb\", \"_id\": \"2\", \"if_seq_no\": 1, \"if_primary_term\": 1}}}}\n{{\"n\": 1}}\n\
         {{\"index\": {{\"_index\": \"occb\", \"_id\": \"3\", \"if_seq_no\": 1}}}}\n{{\"n\": 1}}\n"
    );
    let (status, response, _) = call(&harness, "POST", "/_bulk", &body).await;
    assert_eq!(status, StatusCode::OK);
    let items = response["items"].as_array().unwrap();
    assert_eq!(items[0]["index"]["status"], 200);
    assert_eq!(items[1]["index"]["status"], 409);
    assert_eq!(
        items[1]["index"]["error"]["type"],
        "version_conflict_engine_exception"
    );
    assert_eq!(items[2]["create"]["status"], 400);
    assert_eq!(items[3]["index"]["status"], 400);
    assert_eq!(
        items[3]["index"]["error"]["reason"],
        "Validation Failed: 1: ifSeqNo is set, but primary term is [0];"
    );
    let (_, got, _) = call(&harness, "GET", "/occb/_doc/1", "").await;
    assert_eq!(got["_source"], json!({"n": 2}));
    assert_eq!(seq_no(&got), items[0]["index"]["_seq_no"].as_u64().unwrap());
}

#[tokio::test]
async fn sequence_number_parameters_are_validated() {
    let harness = harness(1 << 20);
    let (status, error, _) = call(&harness, "PUT", "/v/_doc/1?if_seq_no=1", r#"{"n": 1}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["type"],
        "action_request_validation_exception"
    );
    let (status, error, _) = call(
        &harness,
        "PUT",
        "/v/_doc/1?if_seq_no=x&if_primary_term=1",
        r#"{"n": 1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["type"], "illegal_argument_exception");
    let (status, _, _) = call(
        &harness,
        "PUT",
        "/v/_create/1?if_seq_no=1&if_primary_term=1",
        r#"{"n": 1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_update_merges_a_partial_document_or_runs_a_script() {
    let harness = harness(1 << 20);
    call(
        &harness,
        "PUT",
        "/up/_doc/1",
        r#"{"user": {"name": "ann", "age": 30}, "n": 1, "tags": ["a"]}"#,
    )
    .await;
    let (status, updated, _) = call(
        &harness,
        "POST",
        "/up/_update/1?_source=true",
        r#"{"doc": {"user": {"age": 31}, "tags": ["b"]}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["result"], "updated");
    assert_eq!(updated["_version"], 2);
    assert_eq!(
        updated["get"]["_source"],
        json!({"user": {"name": "ann", "age": 31}, "n": 1, "tags": ["b"]})
    );
    // The same change again changes nothing.
    let (status, noop, _) = call(
        &harness,
        "POST",
        "/up/_update/1",
        r#"{"doc": {"user": {"age": 31}}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (noop["result"].clone(), noop["_version"].clone()),
        (json!("noop"), json!(2))
    );
    // A script, with params; `ctx.op` says what to do.
    let (_, scripted, _) = call(
        &harness,
        "POST",
        "/up/_update/1",
        r#"{"script": {"source": "ctx._source.n += params.k", "params": {"k": 10}}}"#,
    )
    .await;
    assert_eq!(scripted["result"], "updated", "{scripted}");
    let (_, got, _) = call(&harness, "GET", "/up/_doc/1", "").await;
    assert_eq!(got["_source"]["n"], 11);
    assert_eq!(seq_no(&got), seq_no(&scripted));
    let (_, none, _) = call(
        &harness,
        "POST",
        "/up/_update/1",
        r#"{"script": "if (ctx._source.n > 5) { ctx.op = 'none' }"}"#,
    )
    .await;
    assert_eq!(none["result"], "noop");
    let (_, deleted, _) = call(
        &harness,
        "POST",
        "/up/_update/1",
        r#"{"script": "ctx.op = 'delete'"}"#,
    )
    .await;
    assert_eq!(deleted["result"], "deleted");
    let (status, _, _) = call(&harness, "GET", "/up/_doc/1", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_update_of_a_missing_document_upserts_or_fails() {
    let harness = harness(1 << 20);
    call(&harness, "PUT", "/ups", "{}").await;
    let (status, missing, _) =
        call(&harness, "POST", "/ups/_update/1", r#"{"doc": {"n": 1}}"#).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["type"], "document_missing_exception");
    assert_eq!(missing["error"]["reason"], "[1]: document missing");
    let (status, created, _) = call(
        &harness,
        "POST",
        "/ups/_update/1",
        r#"{"doc": {"n": 2}, "upsert": {"n": 1}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["result"], "created");
    let (_, got, _) = call(&harness, "GET", "/ups/_doc/1", "").await;
    assert_eq!(got["_source"], json!({"n": 1}), "the upsert, not the doc");
    let (status, _, _) = call(
        &harness,
        "POST",
        "/ups/_update/2",
        r#"{"doc": {"n": 2}, "doc_as_upsert": true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = call(
        &harness,
        "POST",
        "/ups/_update/3",
        r#"{"script": {"source": "ctx._source.n = 5"}, "upsert": {"n": 0}, "scripted_upsert": true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, got, _) = call(&harness, "GET", "/ups/_doc/3", "").await;
    assert_eq!(got["_source"], json!({"n": 5}));
}

#[tokio::test]
async fn an_update_checks_what_it_read() {
    let harness = harness(1 << 20);
    let (_, created, _) = call(&harness, "PUT", "/upc/_doc/1", r#"{"n": 1}"#).await;
    let stale = seq_no(&created);
    call(&harness, "PUT", "/upc/_doc/1", r#"{"n": 2}"#).await;
    let (status, conflict, _) = call(
        &harness,
        "POST",
        &format!("/upc/_update/1?if_seq_no={stale}&if_primary_term=1"),
        r#"{"doc": {"n": 3}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        conflict["error"]["type"],
        "version_conflict_engine_exception"
    );
    for (body, error) in [
        ("{}", "action_request_validation_exception"),
        (
            r#"{"doc": {"n": 1}, "script": "ctx._source.n = 1"}"#,
            "action_request_validation_exception",
        ),
        (r#"{"doc": 1}"#, "parsing_exception"),
        (
            r#"{"script": "ctx._source.n = new TreeMap()"}"#,
            "script_exception",
        ),
    ] {
        let (status, response, _) = call(&harness, "POST", "/upc/_update/1", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
        assert_eq!(response["error"]["type"], error, "{body}");
    }
}

#[tokio::test]
async fn concurrent_updates_lose_no_change() {
    let harness = harness(1 << 20);
    call(&harness, "PUT", "/upn/_doc/1", r#"{"n": 0}"#).await;
    let increments = (0..20).map(|_| {
        call(
            &harness,
            "POST",
            "/upn/_update/1?retry_on_conflict=100",
            r#"{"script": "ctx._source.n += 1"}"#,
        )
    });
    for (status, response, _) in futures_util::future::join_all(increments).await {
        assert_eq!(status, StatusCode::OK, "{response}");
    }
    let (_, got, _) = call(&harness, "GET", "/upn/_doc/1", "").await;
    assert_eq!(got["_source"]["n"], 20);
    assert_eq!(got["_version"], 21);
}

#[tokio::test]
async fn update_by_query_runs_a_script_over_every_match() {
    let harness = harness(1 << 20);
    call(
        &harness,
        "PUT",
        "/ubq",
        r#"{"mappings": {"properties": {"service": {"type": "keyword"}, "retries": {"type": "long"}}}}"#,
    )
    .await;
    let body = "{\"index\": {\"_id\": \"1\"}}\n{\"service\": \"billing\", \"retries\": 0}\n\
                {\"index\": {\"_id\": \"2\"}}\n{\"service\": \"billing\", \"retries\": 2}\n\
                {\"index\": {\"_id\": \"3\"}}\n{\"service\": \"shop\", \"retries\": 1}\n\
                {\"index\": {\"_id\": \"4\"}}\n{\"service\": \"shop\", \"retries\": 9}\n";
    call(&harness, "POST", "/ubq/_bulk?refresh=true", body).await;
    let (status, result, _) = call(
        &harness,
        "POST",
        "/ubq/_update_by_query?refresh=true",
        r#"{"query": {"term": {"service": "billing"}},
            "script": {"source": "ctx._source.retries += params.extra", "params": {"extra": 10}}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(
        (
            result["total"].clone(),
            result["updated"].clone(),
            result["version_conflicts"].clone()
        ),
        (json!(2), json!(2), json!(0))
    );
    assert_eq!(result["failures"], json!([]));
    for (id, retries) in [("1", 10), ("2", 12), ("3", 1), ("4", 9)] {
        let (_, got, _) = call(&harness, "GET", &format!("/ubq/_doc/{id}"), "").await;
        assert_eq!(got["_source"]["retries"], retries, "document {id}");
    }
    // ctx.op: none leaves a document alone, delete removes it.
    let (_, result, _) = call(
        &harness,
        "POST",
        "/ubq/_update_by_query?refresh=true",
        r#"{"query": {"term": {"service": "shop"}},
            "script": "if (ctx._source.retries > 5) { ctx.op = 'delete' } else { ctx.op = 'none' }"}"#,
    )
    .await;
    assert_eq!(
        (
            result["deleted"].clone(),
            result["noops"].clone(),
            result["updated"].clone()
        ),
        (json!(1), json!(1), json!(0))
    );
    let (status, _, _) = call(&harness, "GET", "/ubq/_doc/4", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without a query or a script: every document written again as it is.
    let (_, result, _) = call(&harness, "POST", "/ubq/_update_by_query", "").await;
    assert_eq!(
        (result["total"].clone(), result["updated"].clone()),
        (json!(3), json!(3))
    );
    let (_, got, _) = call(&harness, "GET", "/ubq/_doc/1", "").await;
    assert_eq!(got["_version"], 3);
}

#[tokio::test]
async fn bulk_updates_run_in_their_place_among_the_writes() {
    let harness = harness(1 << 20);
    // Index, then update the same document in one request: the update sees the index.
    let body = "{\"index\": {\"_index\": \"bu\", \"_id\": \"1\"}}\n{\"n\": 1, \"tag\": \"a\"}\n\
                {\"update\": {\"_index\": \"bu\", \"_id\": \"1\"}}\n{\"doc\": {\"n\": 2}}\n\
                {\"update\": {\"_index\": \"bu\", \"_id\": \"1\"}}\n{\"doc\": {\"n\": 2}}\n\
                {\"update\": {\"_index\": \"bu\", \"_id\": \"2\"}}\n{\"doc\": {\"n\": 1}}\n\
                {\"update\": {\"_index\": \"bu\", \"_id\": \"3\", \"retry_on_conflict\": 3}}\n{\"script\": \"ctx._source.n = 7\", \"upsert\": {\"n\": 0}}\n\
                {\"index\": {\"_index\": \"bu\", \"_id\": \"1\"}}\n{\"n\": 9}\n\
                {\"update\": {\"_index\": \"bu\", \"_id\": \"1\"}}\n{\"nonsense\": 1}\n";
    let (status, response, _) = call(&harness, "POST", "/_bulk", body).await;
    assert_eq!(status, StatusCode::OK);
    let items = response["items"].as_array().unwrap();
    assert_eq!(items.len(), 7, "{response}");
    assert_eq!(response["errors"], true);
    assert_eq!(items[1]["update"]["result"], "updated", "{}", items[1]);
    assert_eq!(items[1]["update"]["status"], 200);
    assert_eq!(items[2]["update"]["result"], "noop");
    assert_eq!(items[3]["update"]["status"], 404);
    assert_eq!(
        items[3]["update"]["error"]["type"],
        "document_missing_exception"
    );
    assert_eq!(items[4]["update"]["result"], "created");
    assert_eq!(items[4]["update"]["status"], 201);
    assert_eq!(items[5]["index"]["result"], "updated");
    assert_eq!(items[6]["update"]["status"], 400);
    let (_, got, _) = call(&harness, "GET", "/bu/_doc/1", "").await;
    assert_eq!(
        got["_source"],
        json!({"n": 9}),
        "the last index came after the update"
    );
    assert_eq!(got["_version"], 3);
    let (_, got, _) = call(&harness, "GET", "/bu/_doc/3", "").await;
    assert_eq!(
        got["_source"],
        json!({"n": 0}),
        "the upsert, without scripted_upsert"
    );
}
