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
