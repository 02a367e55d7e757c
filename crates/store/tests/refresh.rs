//! Periodic refresh and search-idle partitions: a partition no search has reached for
//! `search_idle_after` is passed over by periodic refreshes (as Elasticsearch passes over a
//! search-idle shard), yet every search, count and `refresh=wait_for` still sees every write
//! acknowledged before it.

use std::time::Duration;

use logfleet_model::json::JsonObject;
use logfleet_store::{DocumentOp, Store, StoreConfig, WriteRequest};
use serde_json::json;

const REFRESH: Duration = Duration::from_millis(40);

fn open(directory: &std::path::Path, search_idle_after: Option<Duration>) -> Store {
    let mut config = StoreConfig::new(directory);
    config.search_idle_after = search_idle_after;
    open_with(config)
}

/// A store whose partitions stay search idle for the whole test, with `adjust` applied.
fn open_idle(directory: &std::path::Path, adjust: impl FnOnce(&mut StoreConfig)) -> Store {
    let mut config = StoreConfig::new(directory);
    config.search_idle_after = Some(Duration::from_secs(3600));
    adjust(&mut config);
    open_with(config)
}

fn open_with(mut config: StoreConfig) -> Store {
    config.refresh_interval = Some(REFRESH);
    let store = Store::open(config).unwrap();
    store.spawn_background_tasks();
    store
}

/// Writes `count` audit events; returns the last sequence number.
async fn write(store: &Store, count: usize) -> u64 {
    write_to(store, "logs-audit-default", count).await
}

/// Writes `count` events to the data stream `target`; returns the last sequence number.
async fn write_to(store: &Store, target: &str, count: usize) -> u64 {
    let mut prepared = Vec::new();
    for index in 0..count {
        let source = json!({
            "@timestamp": "2026-12-06T10:00:00Z",
            "log_category": "audit",
            "message": format!("event {index}"),
        });
        let source = bytes::Bytes::from(serde_json::to_vec(&source).unwrap());
        prepared.push(
            store
                .prepare(WriteRequest::Document {
                    target: target.into(),
                    op: DocumentOp::Create,
                    id: None,
                    source: source.clone(),
                    parsed: JsonObject::from_slice(&source).unwrap(),
                })
                .unwrap(),
        );
    }
    let outcomes = store.execute(prepared).await.unwrap();
    outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap().seq)
        .max()
        .unwrap()
}

/// What the partitions show without waking them (as `_cat/indices` reads them).
fn visible(store: &Store) -> u64 {
    visible_in(store, "logs-*")
}

fn visible_in(store: &Store, expression: &str) -> u64 {
    store
        .resolve(expression, true)
        .unwrap()
        .iter()
        .map(|shard| shard.searcher.num_docs())
        .sum()
}

/// What a search sees.
async fn searched(store: &Store) -> u64 {
    store
        .search_shards("logs-*", true)
        .await
        .unwrap()
        .iter()
        .map(|shard| shard.searcher.num_docs())
        .sum()
}

async fn some_refreshes() {
    tokio::time::sleep(REFRESH * 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_idle_partition_is_refreshed_by_the_next_search() {
    let directory = tempfile::tempdir().unwrap();
    let idle_after = Duration::from_millis(600);
    let store = open(directory.path(), Some(idle_after));

    // Nothing has searched the new partition: periodic refreshes pass over it…
    write(&store, 10).await;
    some_refreshes().await;
    assert_eq!(
        visible(&store),
        0,
        "a never-searched partition is search idle"
    );
    // …and the first search commits it before reading.
    assert_eq!(searched(&store).await, 10);

    // Searched just now, it is active: periodic refreshes make new writes visible.
    write(&store, 5).await;
    some_refreshes().await;
    assert_eq!(
        visible(&store),
        15,
        "an active partition is refreshed periodically"
    );

    // Left alone, it falls idle again.
    tokio::time::sleep(idle_after + REFRESH).await;
    write(&store, 7).await;
    some_refreshes().await;
    assert_eq!(visible(&store), 15);
    assert_eq!(searched(&store).await, 22);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_is_answered_even_when_nobody_searches() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path(), Some(Duration::from_secs(3600)));
    let seq = write(&store, 3).await;
    tokio::time::timeout(Duration::from_secs(10), store.wait_until_searchable(seq))
        .await
        .expect("a refresh=wait_for request is not left waiting by a search-idle partition");
    assert_eq!(visible(&store), 3);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_search_idle_every_refresh_commits_everything() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path(), None);
    write(&store, 4).await;
    some_refreshes().await;
    assert_eq!(visible(&store), 4);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_passed_over_survive_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    {
        let store = open(directory.path(), Some(Duration::from_secs(3600)));
        write(&store, 6).await;
        some_refreshes().await;
        assert_eq!(visible(&store), 0);
        store.shutdown().await.unwrap();
    }
    let store = open(directory.path(), Some(Duration::from_secs(3600)));
    assert_eq!(
        visible(&store),
        6,
        "shutdown commits search-idle partitions too"
    );
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_during_commits_are_neither_lost_nor_hidden() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path(), None);
    // Keep the writer busy while periodic refreshes prepare and publish commits.
    let mut total = 0;
    for _ in 0..40 {
        write(&store, 50).await;
        total += 50;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    store.refresh().await.unwrap();
    assert_eq!(visible(&store), total);
    store.shutdown().await.unwrap();
    let store = open(directory.path(), None);
    assert_eq!(visible(&store), total);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_idle_partitions_share_one_buffer_budget() {
    let directory = tempfile::tempdir().unwrap();
    let store = open_idle(directory.path(), |config| config.idle_buffered_writes = 10);
    write_to(&store, "logs-api_request-default", 20).await;
    write_to(&store, "logs-audit-default", 8).await;
    some_refreshes().await;
    // 28 uncommitted writes exceed the budget of 10: the partition holding most is
    // committed, and what is left fits.
    assert_eq!(visible_in(&store, "logs-api_request-default"), 20);
    assert_eq!(visible_in(&store, "logs-audit-default"), 0);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_idle_partition_does_not_hold_back_the_shared_log_for_long() {
    let directory = tempfile::tempdir().unwrap();
    let store = open_idle(directory.path(), |config| config.idle_log_records = 30);
    write_to(&store, "logs-audit-default", 5).await;
    some_refreshes().await;
    assert_eq!(visible(&store), 0, "5 records behind: passed over");
    // Another stream's writes move the log on; the audit partition's last commit falls
    // more than 30 records behind, so it is committed although nobody searched it.
    write_to(&store, "logs-database-default", 40).await;
    some_refreshes().await;
    assert_eq!(visible_in(&store, "logs-audit-default"), 5);
    store.shutdown().await.unwrap();
}
