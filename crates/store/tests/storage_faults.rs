//! Every storage fault the store can meet, injected where it strikes (see
//! `logfleet_store::faults`): no space when the log is appended to, when a segment is
//! flushed, when a commit is written, when metadata is written and while segments merge;
//! an I/O error from the log's fsync, from a segment flush, from a commit and from metadata
//! writes; torn metadata files. For each, no acknowledged write
//! is lost or doubled, reads go on, the error says what happened, and a restart recovers.
//!
//! `crates/server/tests/storage.rs` does the same with a real, small file system, and
//! `crates/server/tests/crash.rs` kills the server in the middle of a commit, a merge and
//! the start-up replay.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use logfleet_model::json::JsonObject;
use logfleet_store::faults::{Fault, FaultSite, Faults};
use logfleet_store::{
    DocumentOp, FloodStage, ItemFailure, PreparedWrite, RetentionRule, Store, StoreConfig,
    StoreError, WriteRequest,
};
use serde_json::json;

const INDEX: &str = "full";

fn config(directory: &Path, faults: &Arc<Faults>) -> StoreConfig {
    let mut config = StoreConfig::new(directory);
    // Refreshes are explicit, so that each test decides when a commit is attempted.
    config.refresh_interval = None;
    config.flood_stage = FloodStage::disabled();
    config.faults = Some(faults.clone());
    config
}

fn open(directory: &Path, faults: &Arc<Faults>) -> Store {
    Store::open(config(directory, faults)).unwrap()
}

/// Prepares the document `id` for `target`, with `extra` fields.
fn prepare(
    store: &Store,
    target: &str,
    id: &str,
    extra: serde_json::Value,
) -> Result<PreparedWrite, StoreError> {
    let mut source =
        json!({"@timestamp": "2026-12-06T10:00:00Z", "message": format!("document {id}")});
    if let (Some(object), Some(extra)) = (source.as_object_mut(), extra.as_object()) {
        object.extend(extra.clone());
    }
    let source = bytes::Bytes::from(serde_json::to_vec(&source).unwrap());
    store.prepare(WriteRequest::Document {
        target: target.to_owned(),
        op: DocumentOp::Index,
        id: Some(id.to_owned()),
        source: source.clone(),
        parsed: JsonObject::from_slice(&source).unwrap(),
    })
}

const DATA_STREAM: &str = "logs-audit-default";

/// Writes one document with a generated id to a data stream; returns the id.
async fn write_generated(store: &Store) -> String {
    let source = bytes::Bytes::from_static(
        br#"{"@timestamp":"2026-12-06T10:00:00Z","log_category":"audit","message":"generated"}"#,
    );
    let prepared = store
        .prepare(WriteRequest::Document {
            target: DATA_STREAM.to_owned(),
            op: DocumentOp::Create,
            id: None,
            source: source.clone(),
            parsed: JsonObject::from_slice(&source).unwrap(),
        })
        .unwrap();
    let outcome = store.execute(vec![prepared]).await.unwrap().pop().unwrap();
    outcome.unwrap().id
}

/// Writes documents `ids` to the index; returns each outcome.
async fn write_ids(store: &Store, ids: std::ops::Range<u32>) -> Vec<Result<(), String>> {
    let mut prepared = Vec::new();
    for id in ids {
        prepared.push(prepare(store, INDEX, &format!("d{id}"), json!({})).unwrap());
    }
    store
        .execute(prepared)
        .await
        .unwrap()
        .into_iter()
        .map(|outcome| outcome.map(|_| ()).map_err(|failure| describe(&failure)))
        .collect()
}

fn describe(failure: &ItemFailure) -> String {
    match failure {
        ItemFailure::Store(error) => format!("{error:?}"),
        ItemFailure::Conflict(conflict) => format!("{conflict:?}"),
    }
}

/// Writes documents `ids`, all of which must be acknowledged.
async fn acknowledge(store: &Store, ids: std::ops::Range<u32>) {
    for outcome in write_ids(store, ids).await {
        outcome.unwrap();
    }
}

/// Committed, searchable documents of the index (as `_count` sees them).
fn visible(store: &Store) -> u64 {
    store
        .resolve(INDEX, false)
        .unwrap()
        .iter()
        .map(|shard| shard.searcher.num_docs())
        .sum()
}

/// Whether every id of `ids` reads back by id.
async fn all_readable(store: &Store, ids: std::ops::Range<u32>) -> bool {
    for id in ids {
        if store.get(INDEX, &format!("d{id}")).await.unwrap().is_none() {
            return false;
        }
    }
    true
}

fn wal_files(directory: &Path) -> usize {
    std::fs::read_dir(directory.join("wal")).unwrap().count()
}

/// The regression for the loss that started this file: a full disk killed the partition's
/// indexing thread, the next commit recorded the last sequence number without the
/// segments that held the documents, and the log was trimmed behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_documents_survive_a_full_disk_when_a_segment_is_flushed() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..500).await;
    let generated = write_generated(&store).await;

    faults.inject(FaultSite::SegmentFlush, Fault::NoSpace);
    let error = store.refresh().await.unwrap_err();
    assert!(error.is_disk_full(), "{error}");
    // Refreshing again is what used to commit an empty writer over the lost documents.
    for _ in 0..3 {
        assert!(store.refresh().await.is_err());
    }
    assert_eq!(visible(&store), 0, "searchable as last committed");
    // A document only the log holds is read from the log, as Elasticsearch reads its
    // translog: by client id and by generated id.
    let logged = store.get(INDEX, "d7").await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&logged.source).contains("document d7"));
    assert_eq!(logged.version, 1);
    let logged = store.get(DATA_STREAM, &generated).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&logged.source).contains("generated"));
    assert!(store.get(INDEX, "d500").await.unwrap().is_none());
    assert!(wal_files(directory.path()) > 0, "the log is kept");
    assert_eq!(store.broken_partitions().len(), 2);

    faults.clear_all();
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 500, "recovered from the log in memory");
    assert!(all_readable(&store, 0..500).await);
    assert!(store.get(DATA_STREAM, &generated).await.unwrap().is_some());
    assert!(store.broken_partitions().is_empty());
    store.shutdown().await.unwrap();

    let store = open(directory.path(), &faults);
    assert_eq!(visible(&store), 500, "and after a restart, each once");
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_documents_survive_a_commit_that_cannot_be_written() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..100).await;
    store.refresh().await.unwrap();
    acknowledge(&store, 100..300).await;

    faults.inject(FaultSite::Commit, Fault::NoSpace);
    assert!(store.refresh().await.is_err());
    // Writes go on while the partition is broken; they are logged and tracked.
    acknowledge(&store, 300..350).await;
    assert!(store.refresh().await.is_err());
    assert_eq!(visible(&store), 100);

    // Stopped with the disk still full: the log keeps everything for the next start.
    store.shutdown().await.unwrap();
    faults.clear_all();
    let store = open(directory.path(), &faults);
    assert_eq!(visible(&store), 350);
    acknowledge(&store, 0..10).await;
    store.refresh().await.unwrap();
    assert_eq!(
        visible(&store),
        350,
        "replacing documents does not double them"
    );
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opens_on_a_full_disk_and_recovers_when_space_returns() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..200).await;
    faults.inject(FaultSite::SegmentFlush, Fault::NoSpace);
    faults.inject(FaultSite::Commit, Fault::NoSpace);
    // The last commit before stopping fails: everything stays in the log only.
    store.shutdown().await.unwrap();
    let store = open(directory.path(), &faults);
    assert_eq!(
        visible(&store),
        0,
        "the replayed writes could not be committed"
    );
    let logged = store.get(INDEX, "d0").await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&logged.source).contains("document d0"));
    faults.clear_all();
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 200);
    assert!(all_readable(&store, 0..200).await);
    store.shutdown().await.unwrap();
    let store = open(directory.path(), &faults);
    assert_eq!(visible(&store), 200);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_at_log_append_refuses_the_batch_and_nothing_else() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..50).await;
    faults.inject(FaultSite::WalAppend, Fault::NoSpace);
    let outcomes = write_ids(&store, 50..60).await;
    for outcome in &outcomes {
        let failure = outcome.as_ref().unwrap_err();
        assert!(failure.contains("WritesBlocked"), "{failure}");
        assert!(failure.contains("index: \"full\""), "{failure}");
    }
    faults.clear_all();
    acknowledge(&store, 60..70).await;
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 60, "the refused batch left nothing behind");
    store.shutdown().await.unwrap();
    let store = open(directory.path(), &faults);
    assert_eq!(visible(&store), 60);
    assert!(store.get(INDEX, "d55").await.unwrap().is_none());
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_log_fsync_stops_writes_until_a_restart_recovers_from_the_log() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..50).await;
    faults.inject(FaultSite::WalSync, Fault::Io);
    let outcomes = write_ids(&store, 50..60).await;
    assert!(outcomes.iter().all(|outcome| {
        outcome
            .as_ref()
            .is_err_and(|failure| failure.contains("LogFailed"))
    }));
    faults.clear_all();
    // Not retried, even though the device would now answer.
    let outcomes = write_ids(&store, 60..70).await;
    let failure = outcomes[0].as_ref().unwrap_err();
    assert!(failure.contains("until Logfleet restarts"), "{failure}");
    assert!(store.write_block().is_some());
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 50, "reads go on");
    store.shutdown().await.unwrap();

    let store = open(directory.path(), &faults);
    assert!(store.write_block().is_none());
    acknowledge(&store, 50..60).await;
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 60);
    store.shutdown().await.unwrap();
}

/// Once the metadata fault is gone, writes the document whose new field it refused, then
/// reopens the store.
async fn write_the_new_field_and_reopen(
    store: Store,
    directory: &Path,
    faults: &Arc<Faults>,
) -> Store {
    faults.clear_all();
    let prepared = prepare(&store, INDEX, "new-field", json!({"brand_new": "value"})).unwrap();
    store
        .execute(vec![prepared])
        .await
        .unwrap()
        .pop()
        .unwrap()
        .unwrap();
    store.shutdown().await.unwrap();
    open(directory, faults)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_at_metadata_writes_refuses_what_needs_them() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..20).await;
    faults.inject(FaultSite::Metadata, Fault::NoSpace);
    // A new field must be added to the mapping, which is persisted before the write.
    let error = prepare(&store, INDEX, "new-field", json!({"brand_new": "value"})).unwrap_err();
    assert!(error.is_disk_full(), "{error}");
    // A new index needs its metadata.
    let error = prepare(&store, "another", "a", json!({})).unwrap_err();
    assert!(error.is_disk_full(), "{error}");
    // Documents that fit the mapping are still written; the state file that cannot be
    // written keeps the log from being trimmed.
    acknowledge(&store, 20..40).await;
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 40);
    let store = write_the_new_field_and_reopen(store, directory.path(), &faults).await;
    assert_eq!(visible(&store), 41);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_during_merges_loses_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    faults.inject(FaultSite::Merge, Fault::NoSpace);
    // One segment per commit: enough of them to start merges, every one of which fails.
    for round in 0..14u32 {
        acknowledge(&store, round * 10..round * 10 + 10).await;
        store.refresh().await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while faults.struck(FaultSite::Merge) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no merge was attempted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(visible(&store), 140);
    assert!(
        store.broken_partitions().is_empty(),
        "a failed merge breaks nothing"
    );
    faults.clear_all();
    acknowledge(&store, 140..150).await;
    store.refresh().await.unwrap();
    store.shutdown().await.unwrap();
    let store = open(directory.path(), &faults);
    assert_eq!(visible(&store), 150);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_metadata_files_are_either_ignored_or_named() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..10).await;
    store.shutdown().await.unwrap();
    // A crash while a metadata file was being replaced leaves its temporary file, torn.
    let state = std::fs::read(directory.path().join("state.json")).unwrap();
    std::fs::write(
        directory.path().join("state.json.tmp"),
        &state[..state.len() / 2],
    )
    .unwrap();
    let store = open(directory.path(), &faults);
    assert_eq!(visible(&store), 10, "the torn temporary file is not read");
    store.shutdown().await.unwrap();
    // A metadata file torn in place (the disk, not Logfleet, damaged it) is named.
    std::fs::write(
        directory.path().join("state.json"),
        &state[..state.len() / 2],
    )
    .unwrap();
    let error = Store::open(config(directory.path(), &faults)).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("state.json"), "{error}");
}

/// Whether `error` is the device's I/O error, not a full disk.
fn is_io_error(error: &StoreError) -> bool {
    !error.is_disk_full() && error.to_string().contains("Input/output error")
}

/// Writes refused until a restart, as after a failed fsync of the log.
async fn assert_writes_refused_until_restart(store: &Store, ids: std::ops::Range<u32>) {
    for outcome in write_ids(store, ids).await {
        let failure = outcome.unwrap_err();
        assert!(failure.contains("LogFailed"), "{failure}");
        assert!(failure.contains("until Logfleet restarts"), "{failure}");
    }
    let block = store.write_block().expect("writes are refused");
    assert!(block.reason.contains("Input/output error"), "{block:?}");
}

/// An I/O error from the device where a partition is written — its segment or its commit
/// — is not retried in the running process, whose page cache may hold what never reached
/// the disk: writes stop, reads go on as last committed, and a restart recovers every
/// acknowledged write from the log.
async fn an_io_error_in_a_partition_is_recovered_by_a_restart(site: FaultSite) {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..100).await;
    store.refresh().await.unwrap();
    acknowledge(&store, 100..300).await;

    faults.inject(site, Fault::Io);
    let error = store.refresh().await.unwrap_err();
    assert!(is_io_error(&error), "{site:?}: {error}");
    assert_eq!(visible(&store), 100, "searchable as last committed");
    assert!(
        all_readable(&store, 0..300).await,
        "and the rest from the log"
    );

    // The device answers again, and still nothing is retried.
    faults.clear_all();
    assert!(store.refresh().await.is_err());
    assert_eq!(visible(&store), 100);
    assert_writes_refused_until_restart(&store, 300..310).await;
    assert!(wal_files(directory.path()) > 0, "the log is kept");
    store.shutdown().await.unwrap();

    let store = open(directory.path(), &faults);
    assert!(store.write_block().is_none());
    assert_eq!(visible(&store), 300, "each acknowledged write, once");
    assert!(all_readable(&store, 0..300).await);
    assert!(store.get(INDEX, "d305").await.unwrap().is_none());
    acknowledge(&store, 300..310).await;
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 310);
    store.shutdown().await.unwrap();
    let store = open(directory.path(), &faults);
    assert_eq!(visible(&store), 310);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_error_at_commit_stops_writes_until_a_restart_recovers_from_the_log() {
    an_io_error_in_a_partition_is_recovered_by_a_restart(FaultSite::Commit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_error_at_segment_flush_stops_writes_until_a_restart_recovers_from_the_log() {
    an_io_error_in_a_partition_is_recovered_by_a_restart(FaultSite::SegmentFlush).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_error_at_metadata_writes_refuses_what_needs_them_and_names_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    acknowledge(&store, 0..20).await;
    faults.inject(FaultSite::Metadata, Fault::Io);
    // The mapping of a new field is persisted before the write: the write is refused and
    // says which file the device failed to write.
    let error = prepare(&store, INDEX, "new-field", json!({"brand_new": "value"})).unwrap_err();
    assert!(is_io_error(&error), "{error}");
    assert!(matches!(error, StoreError::Io { .. }), "{error:?}");
    assert!(
        error.to_string().contains(".json"),
        "names the file: {error}"
    );
    let error = prepare(&store, "another", "a", json!({})).unwrap_err();
    assert!(is_io_error(&error), "{error}");
    // Documents that fit the mapping are still written; `state.json`, which cannot be
    // written, keeps the log from being trimmed.
    acknowledge(&store, 20..40).await;
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), 40, "reads go on");
    assert!(all_readable(&store, 0..40).await);
    assert!(wal_files(directory.path()) > 0, "the log is kept");
    // The refused mapping change left nothing behind: not in memory, not on disk.
    let store = write_the_new_field_and_reopen(store, directory.path(), &faults).await;
    assert_eq!(visible(&store), 41, "each acknowledged write, once");
    assert!(store.get(INDEX, "new-field").await.unwrap().is_some());
    assert!(store.get(INDEX, "a").await.unwrap().is_none());
    store.shutdown().await.unwrap();
}

/// Writes one document stamped `timestamp` to the data stream, with a generated id.
async fn write_to_stream_at(store: &Store, timestamp: &str) -> Result<(), String> {
    let source = bytes::Bytes::from(
        json!({"@timestamp": timestamp, "log_category": "audit", "message": "dated"}).to_string(),
    );
    let prepared = store
        .prepare(WriteRequest::Document {
            target: DATA_STREAM.to_owned(),
            op: DocumentOp::Create,
            id: None,
            source: source.clone(),
            parsed: JsonObject::from_slice(&source).unwrap(),
        })
        .map_err(|error| format!("{error:?}"))?;
    let outcome = store.execute(vec![prepared]).await.unwrap().pop().unwrap();
    outcome.map(|_| ()).map_err(|failure| describe(&failure))
}

/// Deleting old data is how an operator gets out of the flood stage, so retention must go
/// on while the flood stage refuses writes, as Elasticsearch's `read_only_allow_delete`
/// allows deletions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_while_the_flood_stage_refuses_writes() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let store = open(directory.path(), &faults);
    let now = logfleet_time::format_epoch_millis(logfleet_store::now_millis());
    write_to_stream_at(&store, "2025-01-01T10:00:00Z")
        .await
        .unwrap();
    write_to_stream_at(&store, &now).await.unwrap();
    store.refresh().await.unwrap();
    store.shutdown().await.unwrap();

    let mut config = config(directory.path(), &faults);
    // A threshold no file system meets: the flood stage holds from the start.
    config.flood_stage = FloodStage {
        max_used_ratio: 0.0,
        min_free_bytes: u64::MAX,
    };
    config.retention_rules = vec![RetentionRule {
        pattern: "logs-*".to_owned(),
        max_age: Duration::from_secs(30 * 24 * 3600),
    }];
    config.retention_check_interval = Duration::from_millis(50);
    let store = Store::open(config).unwrap();
    let partitions = |store: &Store| store.resolve(DATA_STREAM, false).unwrap().len();
    assert_eq!(partitions(&store), 2, "a partition for each day");
    assert!(store.write_block().is_some(), "the flood stage is reached");
    let refused = write_to_stream_at(&store, &now).await.unwrap_err();
    assert!(refused.contains("WritesBlocked"), "{refused}");

    store.spawn_background_tasks();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while partitions(&store) > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "retention never dropped the expired partition"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kept: u64 = store
        .resolve(DATA_STREAM, false)
        .unwrap()
        .iter()
        .map(|shard| shard.searcher.num_docs())
        .sum();
    assert_eq!(kept, 1, "the recent document is kept");
    assert!(store.write_block().is_some(), "writes are still refused");
    store.shutdown().await.unwrap();
}
