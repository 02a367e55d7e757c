//! Shipping to a fake `_bulk` server in process: gzip batches of `create` actions, outages
//! bridged by the spool with every event delivered exactly once, per-item errors, drops
//! counted and reported, and a caller that never blocks.

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{APP_NAME, assert_common_fields, capture_with};
use flate2::read::GzDecoder;
use logfleet_model::{Event, LogCategory};
use logfleet_sdk::{Builder, MemoryWriter};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// How the fake server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every document is created.
    Accept,
    /// `503` for the whole request, this many times, then `Accept`.
    UnavailableFor(usize),
    /// Documents with `"kind":"bad"` get `400`, those with `"kind":"throttled"` get `429` the
    /// first time they are seen; the rest are created.
    PerItem,
}

#[derive(Debug)]
struct FakeState {
    mode: Mutex<Mode>,
    received: Mutex<Vec<Value>>,
    requests: AtomicUsize,
    gzip_requests: AtomicUsize,
    wrong_actions: AtomicUsize,
    throttled_once: Mutex<HashSet<String>>,
}

/// A `_bulk` endpoint on its own thread and runtime, so tests may block on flushes.
struct FakeBulk {
    address: SocketAddr,
    state: Arc<FakeState>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeBulk {
    fn start(mode: Mode) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), mode)
    }

    fn start_on(address: SocketAddr, mode: Mode) -> Self {
        let listener = std::net::TcpListener::bind(address).unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(FakeState {
            mode: Mutex::new(mode),
            received: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
            gzip_requests: AtomicUsize::new(0),
            wrong_actions: AtomicUsize::new(0),
            throttled_once: Mutex::new(HashSet::new()),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let router = Router::new()
            .route("/_bulk", post(bulk))
            .with_state(Arc::clone(&state));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            address,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn received(&self) -> Vec<Value> {
        self.state.received.lock().unwrap().clone()
    }

    /// The `seq` field of every received event of the test, in arrival order.
    fn sequences(&self) -> Vec<u64> {
        self.received()
            .iter()
            .filter_map(|doc| doc.get("seq").and_then(Value::as_u64))
            .collect()
    }
}

impl Drop for FakeBulk {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn bulk(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    state.requests.fetch_add(1, Ordering::SeqCst);
    {
        let mut mode = state.mode.lock().unwrap();
        if let Mode::UnavailableFor(remaining) = *mode {
            *mode = if remaining > 1 {
                Mode::UnavailableFor(remaining - 1)
            } else {
                Mode::Accept
            };
            return (StatusCode::SERVICE_UNAVAILABLE, "{}".to_owned());
        }
    }
    let mut text = String::new();
    if headers
        .get("content-encoding")
        .is_some_and(|value| value == "gzip")
    {
        state.gzip_requests.fetch_add(1, Ordering::SeqCst);
        GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
    } else {
        text = String::from_utf8(body.to_vec()).unwrap();
    }
    let mode = *state.mode.lock().unwrap();
    let lines: Vec<&str> = text.lines().filter(|line| !line.is_empty()).collect();
    let mut items = Vec::new();
    let mut errors = false;
    for pair in lines.chunks(2) {
        let action: Value = serde_json::from_str(pair[0]).unwrap();
        if action != json!({"create": {"_index": "logs"}}) {
            state.wrong_actions.fetch_add(1, Ordering::SeqCst);
        }
        let doc: Value = serde_json::from_str(pair[1]).unwrap();
        let status = match (mode, doc.get("kind").and_then(Value::as_str)) {
            (Mode::PerItem, Some("bad")) => 400,
            (Mode::PerItem, Some("throttled")) => {
                let id = doc["seq"].to_string();
                if state.throttled_once.lock().unwrap().insert(id) {
                    429
                } else {
                    201
                }
            }
            _ => 201,
        };
        if status == 201 {
            state.received.lock().unwrap().push(doc);
        } else {
            errors = true;
        }
        items.push(json!({"create": {"_index": "logs-api_request-default", "status": status}}));
    }
    let answer = json!({"took": 1, "errors": errors, "items": items});
    (StatusCode::OK, answer.to_string())
}

/// A shipping SDK: small batches, quick retries.
fn shipping(builder: Builder, url: &str) -> Builder {
    builder
        .url(url)
        .batch_max_events(10)
        .batch_interval(Duration::from_millis(20))
        .backoff(Duration::from_millis(10), Duration::from_millis(100))
        .drop_report_interval(Duration::from_millis(50))
}

fn emit(range: std::ops::Range<u64>) {
    for seq in range {
        tracing::info!(seq, "event");
    }
}

/// A port nothing listens on (for now).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn spool_files(directory: &Path) -> usize {
    std::fs::read_dir(directory).unwrap().count()
}

#[test]
fn batches_arrive_gzipped_as_create_actions() {
    let server = FakeBulk::start(Mode::Accept);
    let sdk = capture_with(|builder| shipping(builder, &server.url()));
    emit(0..25);
    assert!(sdk.guard.flush(Duration::from_secs(10)));

    assert_eq!(server.sequences(), (0..25).collect::<Vec<_>>());
    let requests = server.state.requests.load(Ordering::SeqCst);
    assert!(requests >= 3, "batches of at most 10: {requests} requests");
    assert_eq!(server.state.gzip_requests.load(Ordering::SeqCst), requests);
    assert_eq!(server.state.wrong_actions.load(Ordering::SeqCst), 0);
    for doc in server.received() {
        let event: Event = serde_json::from_value(doc).unwrap();
        assert_common_fields(&event);
        assert_eq!(event.get_str("app_name"), Some(APP_NAME));
    }
    let stats = sdk.guard.stats();
    assert_eq!(stats.delivered, 25);
    assert_eq!(stats.dropped(), 0);
    // The writer got the same events.
    assert_eq!(sdk.output.events().len(), 25);
}

#[test]
fn an_outage_is_bridged_by_the_spool_and_every_event_arrives_exactly_once() {
    let address = free_port();
    let spool = tempfile::tempdir().unwrap();
    let sdk = capture_with(|builder| {
        shipping(builder, &format!("http://{address}"))
            .spool_dir(spool.path())
            .max_attempts(2)
    });
    emit(0..30);
    assert!(
        !sdk.guard.flush(Duration::from_millis(500)),
        "nothing can be delivered while the server is down"
    );
    assert!(spool_files(spool.path()) >= 1);
    assert!(sdk.guard.stats().spooled >= 30);
    // While the spool holds batches, new ones queue behind them, on disk.
    emit(30..40);
    assert!(!sdk.guard.flush(Duration::from_millis(300)));
    assert!(sdk.guard.stats().spooled >= 40);

    let server = FakeBulk::start_on(address, Mode::Accept);
    assert!(sdk.guard.flush(Duration::from_secs(20)));
    let sequences = server.sequences();
    assert_eq!(sequences.len(), 40, "{sequences:?}");
    let unique: HashSet<u64> = sequences.iter().copied().collect();
    assert_eq!(unique, (0..40).collect(), "each exactly once");
    assert_eq!(sequences, (0..40).collect::<Vec<_>>(), "in order");
    assert_eq!(spool_files(spool.path()), 0, "the spool is emptied");
    assert_eq!(sdk.guard.dropped_events(), 0);
}

#[test]
fn spooled_batches_survive_a_restart() {
    let address = free_port();
    let spool = tempfile::tempdir().unwrap();
    {
        let sdk = capture_with(|builder| {
            shipping(builder, &format!("http://{address}"))
                .spool_dir(spool.path())
                .max_attempts(1)
        });
        emit(0..5);
        assert!(!sdk.guard.shutdown(Duration::from_millis(300)));
    }
    assert!(spool_files(spool.path()) >= 1);

    let server = FakeBulk::start_on(address, Mode::Accept);
    let sdk = capture_with(|builder| shipping(builder, &server.url()).spool_dir(spool.path()));
    emit(5..7);
    assert!(sdk.guard.flush(Duration::from_secs(20)));
    assert_eq!(server.sequences(), (0..7).collect::<Vec<_>>());
    assert_eq!(spool_files(spool.path()), 0);
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let server = FakeBulk::start(Mode::UnavailableFor(2));
    let sdk = capture_with(|builder| shipping(builder, &server.url()));
    emit(0..5);
    assert!(sdk.guard.flush(Duration::from_secs(10)));
    assert_eq!(server.sequences(), (0..5).collect::<Vec<_>>());
    assert!(sdk.guard.stats().retries >= 2);
}

#[test]
fn throttled_items_are_retried_and_refused_items_dropped_and_counted() {
    let server = FakeBulk::start(Mode::PerItem);
    let sdk = capture_with(|builder| shipping(builder, &server.url()));
    tracing::info!(seq = 0_u64, kind = "good", "event");
    tracing::info!(seq = 1_u64, kind = "bad", "event");
    tracing::info!(seq = 2_u64, kind = "throttled", "event");
    tracing::info!(seq = 3_u64, kind = "good", "event");
    assert!(
        !sdk.guard.flush(Duration::from_secs(10)),
        "a refused event means not everything was delivered"
    );
    let mut sequences = server.sequences();
    sequences.sort_unstable();
    assert_eq!(sequences, [0, 2, 3]);
    let stats = sdk.guard.stats();
    assert_eq!(stats.rejected, 1);
    assert_eq!(stats.delivered, 3);
    assert!(stats.retries >= 1);
    assert_eq!(sdk.guard.dropped_events(), 1);
    // Nothing new: the next flush is clean again.
    assert!(sdk.guard.flush(Duration::from_secs(10)));
}

#[test]
fn without_a_spool_undeliverable_events_are_dropped_counted_and_reported() {
    let address = free_port();
    let sdk =
        capture_with(|builder| shipping(builder, &format!("http://{address}")).max_attempts(2));
    emit(0..5);
    assert!(!sdk.guard.flush(Duration::from_secs(5)));
    assert_eq!(sdk.guard.stats().undeliverable, 5);
    assert_eq!(sdk.guard.dropped_events(), 5);

    let report = wait_for_drop_report(&sdk.output);
    assert_eq!(report.log_category(), Some(LogCategory::Performance));
    assert_eq!(report.get("sdk_dropped_events"), Some(&json!(5)));
    assert_eq!(report.get("sdk_dropped_undeliverable"), Some(&json!(5)));
}

fn wait_for_drop_report(output: &MemoryWriter) -> Event {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(report) = output
            .events()
            .into_iter()
            .find(|event| event.message() == Some("logfleet sdk dropped events"))
        {
            return report;
        }
        assert!(Instant::now() < deadline, "no drop report");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A writer that blocks until released, to stall the background thread.
#[derive(Clone, Default)]
struct StallingWriter {
    gate: Arc<(Mutex<(bool, bool)>, Condvar)>,
    inner: MemoryWriter,
}

impl StallingWriter {
    /// Waits until the background thread is stuck in `write`.
    fn wait_until_stalled(&self) {
        let (lock, condvar) = &*self.gate;
        let mut state = lock.lock().unwrap();
        while !state.0 {
            state = condvar.wait(state).unwrap();
        }
    }

    fn release(&self) {
        let (lock, condvar) = &*self.gate;
        lock.lock().unwrap().1 = true;
        condvar.notify_all();
    }
}

impl Write for StallingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let (lock, condvar) = &*self.gate;
        let mut state = lock.lock().unwrap();
        state.0 = true;
        condvar.notify_all();
        while !state.1 {
            state = condvar.wait(state).unwrap();
        }
        drop(state);
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_full_queue_drops_and_counts_without_blocking_the_caller() {
    const BURST: u64 = 20_000;
    const CAPACITY: usize = 64;
    let stalling = StallingWriter::default();
    let output = stalling.inner.clone();
    let sdk = capture_with(|builder| {
        builder
            .writer(stalling.clone())
            .queue_capacity(CAPACITY)
            .drop_report_interval(Duration::from_millis(50))
    });
    emit(0..1);
    stalling.wait_until_stalled();

    let started = Instant::now();
    emit(1..BURST + 1);
    let burst = started.elapsed();
    // Generous for an unoptimised build on a busy machine; a caller that blocked on the
    // stalled writer would never get here at all.
    assert!(burst < Duration::from_secs(5), "burst took {burst:?}");
    let dropped = sdk.guard.stats().queue_full;
    assert!(dropped >= BURST - CAPACITY as u64, "dropped {dropped}");

    stalling.release();
    assert!(
        !sdk.guard.flush(Duration::from_secs(10)),
        "there were drops"
    );
    let written = output
        .events()
        .iter()
        .filter(|event| event.message() == Some("event"))
        .count() as u64;
    assert_eq!(
        written + dropped,
        BURST + 1,
        "every event written or counted"
    );
    let report = wait_for_drop_report(&output);
    assert_eq!(report.get("sdk_dropped_events"), Some(&json!(dropped)));
    assert_eq!(report.get("sdk_dropped_queue_full"), Some(&json!(dropped)));
    assert_eq!(sdk.guard.dropped_events(), dropped);
}

#[test]
fn events_after_shutdown_are_counted() {
    let sdk = capture_with(|builder| builder);
    emit(0..3);
    assert!(sdk.guard.shutdown(Duration::from_secs(5)));
    emit(3..5);
    assert_eq!(sdk.guard.stats().after_shutdown, 2);
    assert_eq!(sdk.output.events().len(), 3);
    // Later calls give the first answer without waiting.
    assert!(sdk.guard.shutdown(Duration::from_secs(5)));
}
