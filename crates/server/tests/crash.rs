//! Every acknowledged write survives SIGKILL, and the store opens again afterwards.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Server, bulk_body, raw_request};
use serde_json::Value;

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
