//! The Rust SDK shipping to the real `logfleet` binary: events arrive; while the server is
//! down they wait in the spool and arrive exactly once when it is back; when the queue is
//! full the caller is not held up, and the drops are counted and reported to the server.

mod common;

use std::time::{Duration, Instant};

use common::{Server, free_port};
use logfleet_model::{Event, Level, LogCategory};

fn event(batch: &str, sequence: usize) -> Event {
    Event::new(
        LogCategory::Audit,
        Level::Info,
        format!("{batch} event {sequence}"),
    )
    .with("user_action", "SHIPPING_TEST")
    .with("batch", batch)
    .with("sequence", sequence as i64)
}

/// How many events of `batch` the server holds, after a refresh.
fn stored(server: &Server, batch: &str) -> u64 {
    let (status, _) = server.post("/logs-*/_refresh", "");
    assert_eq!(status, 200);
    let (status, body) = server.post(
        "/logs-*/_count",
        &serde_json::json!({"query": {"term": {"batch": batch}}}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    body["count"].as_u64().unwrap()
}

#[test]
fn events_survive_a_server_outage_through_the_spool_and_arrive_once() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let port = free_port();
    let mut server = Server::start_on_port("serve", &data_dir, port, &[]);
    let (_, guard) = logfleet_sdk::builder()
        .app_name("shipping_test")
        .service_type("test")
        .url(server.base.clone())
        .stdout(false)
        .spool_dir(temporary.path().join("spool"))
        .max_attempts(2)
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .batch_interval(Duration::from_millis(50))
        .performance_interval(None)
        .layer::<tracing_subscriber::Registry>()
        .unwrap();

    for sequence in 0..100 {
        guard.emit(event("before", sequence));
    }
    assert!(guard.flush(Duration::from_secs(30)), "{:?}", guard.stats());
    assert_eq!(stored(&server, "before"), 100);

    server.stop();
    for sequence in 0..100 {
        guard.emit(event("outage", sequence));
    }
    assert!(
        !guard.flush(Duration::from_secs(2)),
        "nothing can be delivered while the server is down"
    );
    assert!(guard.stats().spooled > 0, "{:?}", guard.stats());

    let server = Server::start_on_port("serve", &data_dir, port, &[]);
    assert!(guard.flush(Duration::from_secs(60)), "{:?}", guard.stats());
    assert_eq!(stored(&server, "outage"), 100, "every event, once");
    assert_eq!(stored(&server, "before"), 100, "nothing sent twice");
    assert_eq!(guard.dropped_events(), 0);
}

#[test]
fn a_full_queue_drops_without_blocking_and_reports_the_drops() {
    let server = Server::start();
    let (_, guard) = logfleet_sdk::builder()
        .app_name("burst_test")
        .service_type("test")
        .url(server.base.clone())
        .stdout(false)
        .queue_capacity(64)
        .drop_report_interval(Duration::from_millis(200))
        .performance_interval(None)
        .layer::<tracing_subscriber::Registry>()
        .unwrap();

    let burst = 200_000;
    let started = Instant::now();
    for sequence in 0..burst {
        guard.emit(event("burst", sequence));
    }
    let elapsed = started.elapsed();
    let dropped = guard.dropped_events();
    assert!(
        dropped > 0,
        "a 64-event queue cannot hold a burst of {burst}"
    );
    // Generous on purpose: blocking on the network for each full queue would take minutes.
    assert!(
        elapsed < Duration::from_secs(5),
        "the caller was held up for {elapsed:?}"
    );

    // The drops are themselves reported to the server, as an event.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !guard.flush(Duration::from_secs(30)),
        "this flush reports the drops"
    );
    assert!(
        guard.flush(Duration::from_secs(30)),
        "nothing dropped since: {:?}",
        guard.stats()
    );
    let (_, _) = server.post("/logs-*/_refresh", "");
    let (status, body) = server.post(
        "/logs-*/_search",
        r#"{"query": {"bool": {"filter": [{"term": {"app_name": "burst_test"}}, {"exists": {"field": "sdk_dropped_events"}}]}}, "size": 100}"#,
    );
    assert_eq!(status, 200, "{body}");
    let reported: u64 = body["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|hit| hit["_source"]["sdk_dropped_events"].as_u64())
        .sum();
    assert!(reported > 0, "no drop report reached the server: {body}");
    assert!(
        reported <= dropped,
        "reported {reported}, dropped {dropped}"
    );
    let stored = stored(&server, "burst");
    let stats = guard.stats();
    // Every event is either stored or counted as dropped; the drop count may also include a
    // few of the SDK's own reports, which met the same full queue.
    let accounted = stored + guard.dropped_events();
    assert!(
        (burst as u64..=burst as u64 + 20).contains(&accounted),
        "{stored} stored, {stats:?}"
    );
}
