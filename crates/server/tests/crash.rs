//! Every acknowledged write survives SIGKILL, and the store opens again afterwards: at a
//! random moment of a stream of writes, and at the exact moments that matter most — in
//! the middle of a commit, of a merge and of the start-up replay — which the store's
//! failpoints (`LOGFLEET_FAILPOINT`, see `logfleet_store::failpoint`) stop it at.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, bulk_body, raw_request};
use serde_json::{Value, json};

#[test]
fn acknowledged_documents_survive_sigkill_mid_stream() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    // A long refresh interval keeps most acknowledged writes in the write-ahead log only,
    // which is what the crash must not lose.
    let mut server = Server::start_in(&data_dir, &["--refresh-interval", "30s"]);
    let base = server.base.clone();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..3 {
        let acknowledged = acknowledged.clone();
        let stop = stop.clone();
        let base = base.clone();
        writers.push(std::thread::spawn(move || {
            let mut batch = 0;
            while !stop.load(Ordering::Relaxed) {
                let prefix = format!("w{writer}b{batch}");
                let body = bulk_body("crash", &prefix, 0..200);
                batch += 1;
                let Ok((status, text)) =
                    raw_request("POST", &format!("{base}/_bulk"), Some(body.as_bytes()), &[])
                else {
                    break;
                };
                if status != 200 {
                    break;
                }
                let Ok(response) = serde_json::from_str::<Value>(&text) else {
                    break;
                };
                let mut acknowledged = acknowledged.lock().unwrap();
                for item in response["items"].as_array().unwrap() {
                    if item["create"]["status"] == 201 {
                        acknowledged.insert(item["create"]["_id"].as_str().unwrap().to_owned());
                    }
                }
            }
        }));
    }
    // Let a refresh-free stream of writes build up, plus a data stream write with an
    // auto-generated id.
    std::thread::sleep(Duration::from_millis(1500));
    let (status, _) = server.bulk(
        "/logs/_bulk",
        "{\"create\":{}}\n{\"log_category\":\"audit\",\"user_action\":\"LOGIN_SUCCESS\"}\n",
    );
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(500));
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 200,
        "the test must have written something: {}",
        acknowledged.len()
    );

    let server = Server::start_in(&data_dir, &["--refresh-interval", "30s"]);
    server.request("POST", "/_refresh", None);
    let total = server.count("crash");
    assert!(
        total >= acknowledged.len() as u64,
        "{total} < {}",
        acknowledged.len()
    );
    for id in acknowledged.iter().step_by(97) {
        let (status, body) = server.get(&format!("/crash/_doc/{id}"));
        assert_eq!(status, 200, "acknowledged document {id} lost: {body}");
    }
    let (_, found) = server.post(
        "/crash/_search",
        &serde_json::json!({"size": 0, "track_total_hits": true, "query": {"ids": {"values": acknowledged.iter().collect::<Vec<_>>()}}}).to_string(),
    );
    assert_eq!(
        found["hits"]["total"]["value"].as_u64(),
        Some(acknowledged.len() as u64),
        "every acknowledged id is searchable"
    );
    assert_eq!(server.count("logs-audit-default"), 1);
    // The recovered store accepts writes and stays consistent across a clean restart.
    server.bulk("/_bulk?refresh=true", &bulk_body("crash", "after", 0..10));
    let after = server.count("crash");
    drop(server);
    let server = Server::start_in(&data_dir, &[]);
    assert_eq!(
        server.count("crash"),
        after,
        "replay is idempotent: nothing doubled, nothing lost"
    );
}

const INDEX: &str = "crash";
const DATA_STREAM: &str = "logs-audit-default";

/// Sends `batches` bulk requests of `size` documents with ids `{prefix}{batch}-{n}`, each of
/// which must be acknowledged; returns their ids.
fn acknowledge(server: &Server, prefix: &str, batches: usize, size: usize) -> BTreeSet<String> {
    let mut acknowledged = BTreeSet::new();
    for batch in 0..batches {
        let body = bulk_body(INDEX, &format!("{prefix}{batch}"), 0..size);
        let (status, response) = server.bulk("/_bulk", &body);
        assert_eq!(status, 200, "{response}");
        for item in response["items"].as_array().unwrap() {
            assert_eq!(item["create"]["status"], 201, "{item}");
            acknowledged.insert(item["create"]["_id"].as_str().unwrap().to_owned());
        }
    }
    acknowledged
}

/// Writes one document with a generated id into a data stream; returns the id.
fn acknowledge_generated(server: &Server) -> String {
    let (status, response) = server.bulk(
        "/logs/_bulk",
        "{\"create\":{}}\n{\"log_category\":\"audit\",\"user_action\":\"LOGIN_SUCCESS\"}\n",
    );
    assert_eq!(status, 200, "{response}");
    let item = &response["items"][0]["create"];
    assert_eq!(item["status"], 201, "{response}");
    item["_id"].as_str().unwrap().to_owned()
}

/// Hits of an `ids` query for `ids` on `target`: each id counts once per document holding it.
fn found_by_id<'a>(server: &Server, target: &str, ids: impl IntoIterator<Item = &'a str>) -> u64 {
    let ids: Vec<&str> = ids.into_iter().collect();
    let query = json!({"size": 0, "track_total_hits": true, "query": {"ids": {"values": ids}}});
    let (status, found) = server.post(&format!("/{target}/_search"), &query.to_string());
    assert_eq!(status, 200, "{found}");
    found["hits"]["total"]["value"].as_u64().unwrap()
}

/// After a kill and a restart: each acknowledged document is there exactly once (by id
/// and by count, every write having been acknowledged), and the server answers reads and
/// writes.
fn assert_found_exactly_once(server: &Server, acknowledged: &BTreeSet<String>, generated: &str) {
    let (status, body) = server.post("/_refresh", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        server.count(INDEX),
        acknowledged.len() as u64,
        "nothing lost, nothing doubled"
    );
    assert_eq!(
        found_by_id(server, INDEX, acknowledged.iter().map(String::as_str)),
        acknowledged.len() as u64,
        "every acknowledged id once"
    );
    for id in acknowledged.iter().step_by(61) {
        let (status, body) = server.get(&format!("/{INDEX}/_doc/{id}"));
        assert_eq!(status, 200, "acknowledged document {id} lost: {body}");
    }
    assert_eq!(server.count(DATA_STREAM), 1);
    assert_eq!(found_by_id(server, DATA_STREAM, [generated]), 1);
    let (status, health) = server.get("/_cluster/health");
    assert_eq!(status, 200, "{health}");
    let (status, body) = server.put(
        &format!("/{INDEX}/_doc/after-restart?refresh=true"),
        "{\"message\":\"after the restart\"}",
    );
    assert_eq!(status, 201, "{body}");
}

/// SIGKILL in the middle of a commit: its segment written but its `meta.json` not, and
/// its `meta.json` durable but the write-ahead log not yet trimmed behind it.
#[test]
fn sigkill_during_a_commit_loses_and_doubles_nothing() {
    for failpoint in ["commit-before-publish", "commit-after-publish"] {
        let temporary = tempfile::tempdir().unwrap();
        let data_dir = temporary.path().join("data");
        // A durable commit under the one to be cut short.
        let mut server = Server::start_in(&data_dir, &["--refresh-interval", "1h"]);
        let mut acknowledged = acknowledge(&server, "before", 2, 200);
        assert_eq!(server.post("/_refresh", "").0, 200);
        server.stop();

        // No periodic commit and no search until the refresh below: it is the commit that
        // reaches the failpoint.
        let mut server =
            Server::start_with_failpoint(&data_dir, &["--refresh-interval", "1h"], failpoint);
        acknowledged.extend(acknowledge(&server, "during", 3, 200));
        let generated = acknowledge_generated(&server);
        let base = server.base.clone();
        let refresh =
            std::thread::spawn(move || raw_request("POST", &format!("{base}/_refresh"), None, &[]));
        server.wait_for_log(&format!("failpoint reached: {failpoint}"));
        server.kill();
        let _cut_off = refresh.join().unwrap();

        let server = Server::start_in(&data_dir, &[]);
        assert_found_exactly_once(&server, &acknowledged, &generated);
    }
}

/// SIGKILL with a merged segment half-written, while writes and commits go on.
#[test]
fn sigkill_during_a_merge_loses_and_doubles_nothing() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    // A commit every 50 ms, each a segment of its own: enough of them soon start a merge.
    let mut server = Server::start_with_failpoint(
        &data_dir,
        &["--refresh-interval", "50ms", "--search-idle-after", "-1"],
        "merge",
    );
    let generated = acknowledge_generated(&server);
    let mut acknowledged = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut round = 0;
    while !server.log().contains("failpoint reached: merge") {
        assert!(
            Instant::now() < deadline,
            "no merge started; log:\n{}",
            server.log()
        );
        acknowledged.extend(acknowledge(&server, &format!("r{round}-"), 1, 20));
        round += 1;
        std::thread::sleep(Duration::from_millis(60));
    }
    // The stopped merge holds up neither writes nor commits.
    acknowledged.extend(acknowledge(&server, "while-merging-", 2, 100));
    assert_eq!(server.post("/_refresh", "").0, 200);
    server.kill();

    let server = Server::start_in(&data_dir, &[]);
    assert_found_exactly_once(&server, &acknowledged, &generated);
}

/// SIGKILL half-way through replaying the write-ahead log at start-up, then a start that
/// replays it all.
#[test]
fn sigkill_during_start_up_replay_loses_and_doubles_nothing() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    // No periodic commit and no search: every acknowledged write is in the log only.
    let mut server = Server::start_in(&data_dir, &["--refresh-interval", "1h"]);
    let acknowledged = acknowledge(&server, "logged", 5, 200);
    let generated = acknowledge_generated(&server);
    server.kill();

    // The failpoint is reached half-way through a log of more than one record, and never
    // lets the server answer.
    let mut replaying =
        Server::spawn_with_failpoint(&data_dir, &["--refresh-interval", "1h"], "replay");
    replaying.wait_for_log("failpoint reached: replay");
    replaying.kill();

    let server = Server::start_in(&data_dir, &[]);
    assert_found_exactly_once(&server, &acknowledged, &generated);
}
