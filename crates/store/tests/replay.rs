//! Replaying write-ahead log records that an earlier version of the store wrote.

use bytes::Bytes;
use logfleet_model::json::JsonObject;
use logfleet_store::wal::{FLAG_AUTO_ID, Wal, WalOp, encode_record};
use logfleet_store::{DocumentOp, Fields, Store, StoreConfig, WriteRequest};
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;

const STREAM: &str = "logs-audit-default";

/// Documents with a key given twice were once accepted, keeping the key's last value; such a
/// document still in the log when the store restarts must come back, not be skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_documents_with_duplicate_keys_replay_with_the_last_value() {
    let directory = tempfile::tempdir().unwrap();
    let config = StoreConfig::new(directory.path());
    let last_seq = {
        let store = Store::open(config.clone()).unwrap();
        let source = Bytes::from_static(
            br#"{"@timestamp":"2026-12-06T10:00:00Z","log_category":"audit","level":"info"}"#,
        );
        let prepared = store
            .prepare(WriteRequest::Document {
                target: STREAM.into(),
                op: DocumentOp::Create,
                id: None,
                source: source.clone(),
                parsed: JsonObject::from_slice(&source).unwrap(),
            })
            .unwrap();
        let outcomes = store.execute(vec![prepared]).await.unwrap();
        let seq = outcomes[0].as_ref().unwrap().seq;
        store.shutdown().await.unwrap();
        seq
    };
    let duplicated =
        br#"{"@timestamp":"2026-12-06T10:00:01Z","log_category":"audit","level":"info","level":"error"}"#;
    assert!(JsonObject::from_slice(duplicated).is_err());
    let (mut wal, _) = Wal::open(&directory.path().join("wal"), 1 << 20, None).unwrap();
    let mut record = Vec::new();
    let seq = last_seq + 1;
    encode_record(
        &mut record,
        seq,
        WalOp::Create,
        FLAG_AUTO_ID,
        STREAM,
        "",
        duplicated,
    );
    wal.append(&record, seq).unwrap();
    drop(wal);

    let store = Store::open(config).unwrap();
    let shards = store.search_shards(STREAM, false).await.unwrap();
    let fields = Fields::from_schema(&shards[0].searcher.schema().clone()).unwrap();
    let count_level = |level: &str| -> usize {
        let mut term = tantivy::Term::from_field_json_path(fields.keyword, "level", false);
        term.append_type_and_str(level);
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        shards
            .iter()
            .map(|shard| shard.searcher.search(&query, &Count).unwrap())
            .sum()
    };
    assert_eq!(count_level("info"), 1, "the first document");
    assert_eq!(
        count_level("error"),
        1,
        "the replayed one, with the last value"
    );
    store.shutdown().await.unwrap();
}
