//! The SDK's overhead beside `tracing-subscriber`'s JSON formatter writing through
//! `tracing-appender`'s non-blocking writer — the usual way to get JSON logs off the calling
//! thread — with the same event in the same request span, in the same run.
//!
//! - `per_event`: the cost on the calling thread of one `info!` event with eight fields
//!   inside a request span carrying the request context, each sample starting with the
//!   background threads caught up (both write to a sink that counts lines and discards
//!   them; nothing is dropped, which is checked);
//! - `per_event_sustained`: the same, emitted back to back for the whole run while the
//!   background threads work beside the caller (both write to `io::sink()`);
//! - `disabled`: a `debug!` event with the same fields when the level is `info`;
//! - `end_to_end`: a burst of events, then waiting until every line has been written by the
//!   background thread (`ItemsCount` gives events per second).
//!
//! `cargo bench -p logfleet-sdk --bench overhead`

use std::cell::Cell;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use divan::Bencher;
use divan::counter::ItemsCount;
use logfleet_sdk::{Guard, RequestSpan};
use tracing::Dispatch;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

fn main() {
    divan::main();
}

const REQUEST_ID: &str = "0f8b2c1e-6a4d-4e0b-9d6f-3c2a1b0e9f87";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const ENDPOINT: &str = "POST /api/signup/";

/// The measured event at a level: a message and eight fields of the usual kinds.
macro_rules! signup_event {
    ($level:ident) => {
        tracing::$level!(
            user_id = 42_u64,
            user_name = "alice",
            http_method = "POST",
            status_code = 201_u64,
            duration_ms = 12.5,
            cache_hit = true,
            rows = 3_i64,
            plan = %"pro",
            "user signed up"
        )
    };
}

#[inline(always)]
fn event() {
    signup_event!(info);
}

#[inline(always)]
fn disabled_event() {
    signup_event!(debug);
}

fn sdk(writer: impl Write + Send + 'static, queue_capacity: usize) -> (Dispatch, Guard) {
    let (layer, guard) = logfleet_sdk::builder()
        .app_name("bench")
        .service_type("bench")
        .host("bench")
        .writer(writer)
        .queue_capacity(queue_capacity)
        .performance_interval(None)
        .layer::<Registry>()
        .expect("sdk starts");
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    )
}

fn fmt_json(
    writer: impl Write + Send + 'static,
) -> (Dispatch, tracing_appender::non_blocking::WorkerGuard) {
    let (non_blocking, guard) = tracing_appender::non_blocking(writer);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(non_blocking)
        .finish();
    (Dispatch::new(subscriber), guard)
}

/// The SDK's request span (with its context) and an equivalent span for the baseline.
fn sdk_request_span() -> tracing::Span {
    RequestSpan::new()
        .request_id(REQUEST_ID)
        .traceparent(TRACEPARENT)
        .endpoint_signature(ENDPOINT)
        .start()
}

fn fmt_request_span() -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = REQUEST_ID,
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
        span_id = "a3ce929d0e0e4736",
        endpoint = ENDPOINT,
    )
}

/// Waits until `sink` has written `target` lines: the background thread has caught up.
fn wait_for_lines(sink: &CountingSink, target: u64) {
    while sink.lines.load(Ordering::Acquire) < target {
        std::thread::yield_now();
    }
}

/// Queue of the `per_event` runs: the SDK's default; each sample (1000 events) fits.
const QUEUE_CAPACITY: usize = 8192;

/// The calling thread's cost per event. Before each sample of 1000 events both background
/// threads have caught up (waited for outside the timing), so every sample starts from an
/// empty queue and nothing is dropped, as at any sustainable event rate.
mod per_event {
    use super::*;

    #[divan::bench(sample_count = 300, sample_size = 1000)]
    fn logfleet_sdk(bencher: Bencher<'_, '_>) {
        let sink = CountingSink::default();
        let (dispatch, guard) = sdk(sink.clone(), QUEUE_CAPACITY);
        let emitted = Cell::new(0_u64);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = sdk_request_span();
            let _entered = span.enter();
            bencher
                .with_inputs(|| wait_for_lines(&sink, emitted.get()))
                .bench_local_values(|()| {
                    event();
                    emitted.set(emitted.get() + 1);
                });
        });
        assert_eq!(guard.dropped_events(), 0, "events were dropped");
    }

    #[divan::bench(sample_count = 300, sample_size = 1000)]
    fn tracing_subscriber_json(bencher: Bencher<'_, '_>) {
        let sink = CountingSink::default();
        let (dispatch, _guard) = fmt_json(sink.clone());
        let emitted = Cell::new(0_u64);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = fmt_request_span();
            let _entered = span.enter();
            bencher
                .with_inputs(|| wait_for_lines(&sink, emitted.get()))
                .bench_local_values(|()| {
                    event();
                    emitted.set(emitted.get() + 1);
                });
        });
    }
}

/// The calling thread's cost per event while the background thread works flat out beside
/// it: events emitted back to back for the whole run (a queue of 2^19 so nothing is
/// dropped). An upper bound: it includes contention with the background thread on a shared
/// machine and first-touch page faults of the large queue.
mod per_event_sustained {
    use super::*;

    const NO_DROP_CAPACITY: usize = 1 << 19;

    #[divan::bench(sample_count = 200, sample_size = 1000)]
    fn logfleet_sdk(bencher: Bencher<'_, '_>) {
        let (dispatch, guard) = sdk(io::sink(), NO_DROP_CAPACITY);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = sdk_request_span();
            let _entered = span.enter();
            bencher.bench_local(event);
        });
        assert!(guard.flush(Duration::from_secs(60)), "events were dropped");
    }

    #[divan::bench(sample_count = 200, sample_size = 1000)]
    fn tracing_subscriber_json(bencher: Bencher<'_, '_>) {
        let (dispatch, _guard) = fmt_json(io::sink());
        tracing::dispatcher::with_default(&dispatch, || {
            let span = fmt_request_span();
            let _entered = span.enter();
            bencher.bench_local(event);
        });
    }
}

mod disabled {
    use super::*;

    #[divan::bench]
    fn logfleet_sdk(bencher: Bencher<'_, '_>) {
        let (dispatch, _guard) = sdk(io::sink(), 1024);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = sdk_request_span();
            let _entered = span.enter();
            bencher.bench_local(disabled_event);
        });
    }

    #[divan::bench]
    fn tracing_subscriber_json(bencher: Bencher<'_, '_>) {
        let (dispatch, _guard) = fmt_json(io::sink());
        tracing::dispatcher::with_default(&dispatch, || {
            let span = fmt_request_span();
            let _entered = span.enter();
            bencher.bench_local(disabled_event);
        });
    }
}

/// Counts written lines and discards them.
#[derive(Clone, Default)]
struct CountingSink {
    lines: Arc<AtomicU64>,
}

impl Write for CountingSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let lines = bytes.iter().filter(|&&byte| byte == b'\n').count() as u64;
        self.lines.fetch_add(lines, Ordering::Release);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const BURST: usize = 10_000;

mod end_to_end {
    use super::*;

    #[divan::bench(sample_count = 30, sample_size = 1)]
    fn logfleet_sdk(bencher: Bencher<'_, '_>) {
        let sink = CountingSink::default();
        let (dispatch, guard) = sdk(sink.clone(), 2 * BURST);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = sdk_request_span();
            let _entered = span.enter();
            bencher.counter(ItemsCount::new(BURST)).bench_local(|| {
                for _ in 0..BURST {
                    event();
                }
                // A flush wakes the background thread at once and returns when every line
                // is written.
                guard.flush(Duration::from_secs(60))
            });
        });
        assert_eq!(guard.dropped_events(), 0, "events were dropped");
    }

    #[divan::bench(sample_count = 30, sample_size = 1)]
    fn tracing_subscriber_json(bencher: Bencher<'_, '_>) {
        let sink = CountingSink::default();
        let (dispatch, _guard) = fmt_json(sink.clone());
        tracing::dispatcher::with_default(&dispatch, || {
            let span = fmt_request_span();
            let _entered = span.enter();
            bencher.counter(ItemsCount::new(BURST)).bench_local(|| {
                let target = sink.lines.load(Ordering::Acquire) + BURST as u64;
                for _ in 0..BURST {
                    event();
                }
                while sink.lines.load(Ordering::Acquire) < target {
                    std::thread::yield_now();
                }
            });
        });
    }
}
