//! The state shared between callers and the background thread, and the [`Handle`] and
//! [`Guard`] that control it.
//!
//! Callers touch only a bounded lock-free queue ([`crossbeam_queue::ArrayQueue`]) and a few
//! relaxed counters: a push never blocks and never makes a system call, except to wake the
//! background thread once the queue is half full (otherwise it wakes itself every few
//! milliseconds and drains everything). A full queue drops the event and counts it.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use logfleet_model::{Event, Level, LogCategory};
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::level_filters::LevelFilter;

use crate::config::{Builder, Identity};
use crate::encode::Encoder;
use crate::error::{Error, Result};
use crate::layer::LogfleetLayer;
use crate::metrics::RequestMetrics;
use crate::record::{Category, Record, Val};
use crate::ship::{ShipSettings, Shipper};
use crate::spool::Spool;
use crate::worker::{Worker, WorkerOutputs};
use logfleet_model::redact::Redactor;

/// How long dropping a [`Guard`] waits for delivery.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Recycled records at most: enough to cover what the background thread drains at once
/// under a steady load.
const POOL_CAPACITY: usize = 1024;
const MAX_RECYCLED_TEXT: usize = 8 * 1024;
const MAX_RECYCLED_FIELDS: usize = 64;

/// Extra time a blocking caller waits beyond the deadline the worker enforces, so the
/// worker's own answer (rather than the caller's timeout) decides the result.
const REPLY_GRACE: Duration = Duration::from_millis(500);

/// Settings callers read.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) identity: Identity,
    /// The most verbose level helpers emit (they bypass `tracing`'s filters).
    pub(crate) helper_level: LevelFilter,
    pub(crate) slow_query_threshold_ms: f64,
}

/// Why events were lost, and what happened to the rest.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queue_full: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) undeliverable: AtomicU64,
    pub(crate) spool_full: AtomicU64,
    pub(crate) after_shutdown: AtomicU64,
    pub(crate) written: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) retries: AtomicU64,
}

/// Counts of what the SDK did with events since it started.
///
/// ```
/// let stats = logfleet_sdk::Stats::default();
/// assert_eq!(stats.dropped(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Dropped because the queue was full (the background thread could not keep up).
    pub queue_full: u64,
    /// Refused by the server for good (`4xx` items or requests).
    pub rejected: u64,
    /// Given up after the last attempt without a spool, or lost to a spool I/O error.
    pub undeliverable: u64,
    /// Dropped because the spool was at its size limit.
    pub spool_full: u64,
    /// Emitted after shutdown.
    pub after_shutdown: u64,
    /// Lines written to stdout or the writer.
    pub written: u64,
    /// Acknowledged by the `_bulk` endpoint.
    pub delivered: u64,
    /// Written to the spool (including later delivered ones).
    pub spooled: u64,
    /// Failed delivery attempts that were retried.
    pub retries: u64,
}

impl Stats {
    /// Every event lost, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.queue_full + self.rejected + self.undeliverable + self.spool_full + self.after_shutdown
    }
}

/// A flush or shutdown request for the background thread.
#[derive(Debug)]
pub(crate) enum Control {
    Flush(FlushRequest),
    Shutdown(FlushRequest),
}

#[derive(Debug)]
pub(crate) struct FlushRequest {
    pub(crate) deadline: Instant,
    pub(crate) reply: Reply,
}

/// Where the answer of a flush goes: a blocked thread or an awaiting task.
#[derive(Debug)]
pub(crate) enum Reply {
    Blocking(std::sync::mpsc::SyncSender<bool>),
    Async(oneshot::Sender<bool>),
}

impl Reply {
    pub(crate) fn send(self, delivered: bool) {
        // The caller may have given up waiting; nobody to tell then.
        match self {
            Self::Blocking(sender) => {
                let _ = sender.try_send(delivered);
            }
            Self::Async(sender) => {
                let _ = sender.send(delivered);
            }
        }
    }
}

/// Everything callers and the background thread share.
pub(crate) struct Shared {
    pub(crate) queue: ArrayQueue<Record>,
    /// Emptied records on their way back from the background thread, so the caller's
    /// thread reuses buffers instead of allocating what the other thread frees (which makes
    /// the two threads contend in the allocator).
    pool: ArrayQueue<Record>,
    wake_threshold: usize,
    pub(crate) wake: Notify,
    pub(crate) wake_pending: AtomicBool,
    pub(crate) closed: AtomicBool,
    pub(crate) counters: Counters,
    pub(crate) settings: Settings,
    pub(crate) requests: RequestMetrics,
    control: mpsc::UnboundedSender<Control>,
    thread: Mutex<Option<JoinHandle<()>>>,
    shutdown_result: OnceLock<bool>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Shared")
            .field("queued", &self.queue.len())
            .field("capacity", &self.queue.capacity())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// A record for a new event: a recycled one when there is one.
    pub(crate) fn record(&self, level: Level, field_count: usize) -> Record {
        match self.pool.pop() {
            Some(mut record) => {
                record.restart(level);
                record
            }
            None => Record::new(level, field_count),
        }
    }

    /// Takes back a record the background thread is done with.
    pub(crate) fn recycle(&self, mut record: Record) {
        // An unusually large record keeps its memory only until dropped here.
        if record.text.capacity() > MAX_RECYCLED_TEXT
            || record.fields.capacity() > MAX_RECYCLED_FIELDS
        {
            return;
        }
        record.clear();
        let _ = self.pool.push(record);
    }

    /// Hands a record to the background thread without ever blocking.
    pub(crate) fn enqueue(&self, record: Record) {
        if self.closed.load(Ordering::Relaxed) {
            self.counters.after_shutdown.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match self.queue.push(record) {
            Ok(()) => {
                if self.queue.len() >= self.wake_threshold {
                    self.wake();
                }
            }
            Err(_rejected) => {
                self.counters.queue_full.fetch_add(1, Ordering::Relaxed);
                self.wake();
            }
        }
    }

    fn wake(&self) {
        // One notification per drain is enough; the flag keeps a burst from notifying (and
        // contending on the notifier) once per event.
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }

    /// Whether helpers should emit an event of this level.
    pub(crate) fn enabled(&self, level: Level) -> bool {
        let level = match level {
            Level::Debug => tracing::Level::DEBUG,
            Level::Info => tracing::Level::INFO,
            Level::Warning => tracing::Level::WARN,
            Level::Error | Level::Critical => tracing::Level::ERROR,
        };
        level <= self.settings.helper_level
    }

    pub(crate) fn stats(&self) -> Stats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let counters = &self.counters;
        Stats {
            queue_full: read(&counters.queue_full),
            rejected: read(&counters.rejected),
            undeliverable: read(&counters.undeliverable),
            spool_full: read(&counters.spool_full),
            after_shutdown: read(&counters.after_shutdown),
            written: read(&counters.written),
            delivered: read(&counters.delivered),
            spooled: read(&counters.spooled),
            retries: read(&counters.retries),
        }
    }
}

/// The SDK instance of the current subscriber, if it has one.
pub(crate) fn current_shared() -> Option<Arc<Shared>> {
    tracing::dispatcher::get_default(|dispatch| {
        dispatch
            .downcast_ref::<LogfleetLayer>()
            .map(|layer| Arc::clone(&layer.shared))
    })
}

/// Controls a running SDK: flush, shut down, read the drop counters. Cheap to clone.
///
/// ```no_run
/// # fn main() -> Result<(), logfleet_sdk::Error> {
/// use std::time::Duration;
///
/// let guard = logfleet_sdk::builder().url("http://127.0.0.1:9200").init()?;
/// tracing::info!("hello");
/// let delivered = guard.flush(Duration::from_secs(5));
/// println!("delivered: {delivered}, dropped so far: {}", guard.dropped_events());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Handle")
            .field("app_name", &self.shared.settings.identity.app_name)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Handle {
    /// Events lost so far, for any reason (also reported periodically as an event).
    pub fn dropped_events(&self) -> u64 {
        self.stats().dropped()
    }

    /// Everything counted so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Writes and delivers everything emitted before the call, waiting at most `timeout`.
    ///
    /// Returns `true` when every event emitted before the call has been written to the
    /// outputs and acknowledged by the `_bulk` endpoint (if one is configured), and nothing
    /// was dropped since the previous flush; `false` on timeout (events then stay queued or
    /// spooled, and keep being retried) or after drops. Blocks the calling thread; use
    /// [`flush_async`](Self::flush_async) in async code.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.request_blocking(Control::Flush, timeout)
            .unwrap_or(false)
    }

    /// [`flush`](Self::flush) for async code: awaits the answer without blocking the
    /// executor, on any runtime.
    pub async fn flush_async(&self, timeout: Duration) -> bool {
        self.request_async(Control::Flush, timeout)
            .await
            .unwrap_or(false)
    }

    /// Flushes (as [`flush`](Self::flush), waiting at most `timeout`), then stops the
    /// background thread: batches still undelivered go to the spool if there is one, and
    /// later events are dropped and counted. Blocks; later calls return the first result.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let Some(thread) = self.take_thread() else {
            return self.first_shutdown_result();
        };
        let answer = self.request_blocking(Control::Shutdown, timeout);
        // Join only a worker that answered: one that did not may be stuck writing to a
        // blocked writer, and shutdown must not hang on it.
        if answer.is_some() {
            let _ = thread.join();
        }
        let delivered = answer.unwrap_or(false);
        let _ = self.shared.shutdown_result.set(delivered);
        delivered
    }

    /// [`shutdown`](Self::shutdown) for async code.
    pub async fn shutdown_async(&self, timeout: Duration) -> bool {
        if self.take_thread().is_none() {
            return self.first_shutdown_result();
        }
        let delivered = self
            .request_async(Control::Shutdown, timeout)
            .await
            .unwrap_or(false);
        // The worker exits right after answering; joining would block the executor, so the
        // thread is left to finish on its own.
        let _ = self.shared.shutdown_result.set(delivered);
        delivered
    }

    /// Sends a flush or shutdown request and waits for the answer, blocking; `None` when
    /// the background thread is gone or did not answer in time.
    fn request_blocking(
        &self,
        kind: fn(FlushRequest) -> Control,
        timeout: Duration,
    ) -> Option<bool> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let request = FlushRequest {
            deadline: Instant::now() + timeout,
            reply: Reply::Blocking(sender),
        };
        self.shared.control.send(kind(request)).ok()?;
        receiver.recv_timeout(timeout + REPLY_GRACE).ok()
    }

    /// [`request_blocking`](Self::request_blocking) for async code; the background thread
    /// enforces the deadline, so no timer (and no particular runtime) is needed here.
    async fn request_async(
        &self,
        kind: fn(FlushRequest) -> Control,
        timeout: Duration,
    ) -> Option<bool> {
        let (sender, receiver) = oneshot::channel();
        let request = FlushRequest {
            deadline: Instant::now() + timeout,
            reply: Reply::Async(sender),
        };
        self.shared.control.send(kind(request)).ok()?;
        receiver.await.ok()
    }

    /// The background thread, for the one shutdown that stops it.
    fn take_thread(&self) -> Option<JoinHandle<()>> {
        self.shared
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn first_shutdown_result(&self) -> bool {
        self.shared.shutdown_result.get().copied().unwrap_or(false)
    }

    /// Sends a ready-made [`Event`] (a custom metric, say): the identity fields and the
    /// current request context are added, missing `@timestamp`, `log_category`, `level`
    /// and `message` filled in, and it is redacted like any other event.
    ///
    /// ```
    /// use logfleet_model::{Event, Level, LogCategory, fields};
    ///
    /// # let (_layer, guard) = logfleet_sdk::builder().writer(std::io::sink()).layer::<tracing_subscriber::Registry>().unwrap();
    /// guard.emit(
    ///     Event::new(LogCategory::Performance, Level::Info, "pool sample")
    ///         .with(fields::DB_POOL_IN_USE, 7),
    /// );
    /// ```
    pub fn emit(&self, event: Event) {
        self.shared.enqueue(record_from_event(event));
    }
}

/// Sends an [`Event`] through the SDK of the current subscriber, if there is one; see
/// [`Handle::emit`].
///
/// ```
/// use logfleet_model::{Event, Level, LogCategory, fields};
///
/// logfleet_sdk::emit(
///     Event::new(LogCategory::Performance, Level::Info, "queue depth")
///         .with("queue_depth", 12),
/// );
/// ```
pub fn emit(event: Event) {
    if let Some(shared) = current_shared() {
        shared.enqueue(record_from_event(event));
    }
}

/// The [`Handle`] of the SDK installed in the current subscriber, if any — for code that
/// has no access to the [`Guard`].
///
/// ```
/// if let Some(handle) = logfleet_sdk::handle() {
///     let _lost = handle.dropped_events();
/// }
/// ```
pub fn handle() -> Option<Handle> {
    current_shared().map(|shared| Handle { shared })
}

fn record_from_event(event: Event) -> Record {
    use logfleet_model::fields;
    let level = event.level().unwrap_or(Level::Info);
    let mut record = Record::new(level, event.len());
    if let Some(moment) = event.timestamp() {
        record.time = moment.into();
    }
    for (name, value) in event.into_map() {
        match name.as_str() {
            fields::TIMESTAMP | fields::LEVEL => {}
            fields::LOG_CATEGORY => {
                let text = value.as_str().unwrap_or_default();
                record.category = Some(match text.parse::<LogCategory>() {
                    Ok(category) => Category::Known(category),
                    Err(_) => Category::Other(record.push_text(text)),
                });
            }
            fields::MESSAGE => {
                let range = match &value {
                    serde_json::Value::String(text) => record.push_text(text),
                    other => record.push_display(other),
                };
                record.message = Some(range);
            }
            _ => {
                let captured = match value {
                    serde_json::Value::String(text) => Val::Text(record.push_text(&text)),
                    serde_json::Value::Bool(flag) => Val::Bool(flag),
                    other => Val::Json(Box::new(other)),
                };
                record.val(name, captured);
            }
        }
    }
    record.context = crate::context::current_context();
    record
}

/// Owns the SDK's lifetime: dropping it flushes (up to [`DEFAULT_SHUTDOWN_TIMEOUT`]) and
/// stops the background thread. Dereferences to its [`Handle`].
///
/// Keep it alive for as long as the service runs — typically a `let _guard = …` at the top of
/// `main` (not `let _ = …`, which drops it at once).
///
/// ```no_run
/// fn main() -> Result<(), logfleet_sdk::Error> {
///     let _guard = logfleet_sdk::builder().app_name("billing").init()?;
///     tracing::info!("running");
///     Ok(())
/// } // events still queued are delivered here, for up to 5 seconds
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard shuts the SDK down"]
pub struct Guard {
    handle: Handle,
}

impl Guard {
    /// A clonable handle to the same SDK, for other parts of the service; once the guard is
    /// dropped, its flushes return `false` at once and its events are counted as dropped.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl Deref for Guard {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.handle.shutdown(DEFAULT_SHUTDOWN_TIMEOUT);
    }
}

/// Validates the builder, starts the background thread and returns the layer and guard.
pub(crate) fn start(builder: Builder) -> Result<(LogfleetLayer, Guard)> {
    let bulk_url = builder.bulk_url()?;
    let stdout = builder.stdout_enabled();
    let spool = match &builder.spool_dir {
        Some(directory) => Some(Spool::open(directory, builder.spool_max_bytes).map_err(
            |source| Error::Spool {
                path: directory.clone(),
                source,
            },
        )?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Error::Start(error.to_string()))?;

    let (control, control_receiver) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        queue: ArrayQueue::new(builder.queue_capacity),
        pool: ArrayQueue::new(POOL_CAPACITY.min(builder.queue_capacity)),
        wake_threshold: (builder.queue_capacity / 2).max(1),
        wake: Notify::new(),
        wake_pending: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        counters: Counters::default(),
        settings: Settings {
            identity: builder.identity.clone(),
            helper_level: builder.level.max_level(),
            slow_query_threshold_ms: builder.slow_query_threshold_ms,
        },
        requests: RequestMetrics::default(),
        control,
        thread: Mutex::new(None),
        shutdown_result: OnceLock::new(),
    });

    let shipper = match bulk_url {
        Some(url) => {
            let client = reqwest::Client::builder()
                .timeout(builder.request_timeout)
                .user_agent(concat!("logfleet-sdk/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|error| Error::Start(error.to_string()))?;
            let settings = ShipSettings {
                url,
                index: builder.index.clone(),
                batch_max_events: builder.batch_max_events,
                batch_max_bytes: builder.batch_max_bytes,
                batch_interval: builder.batch_interval,
                max_pending_batches: builder.max_pending_batches.max(1),
                max_attempts: builder.max_attempts.max(1),
                initial_backoff: builder.initial_backoff,
                max_backoff: builder.max_backoff.max(builder.initial_backoff),
            };
            Some(Shipper::new(settings, Arc::clone(&shared), client, spool))
        }
        None => None,
    };

    let encoder = Encoder::new(
        builder.identity.clone(),
        Redactor::new(builder.redaction, &builder.redact_keys),
        builder.default_category,
    );
    let worker = Worker::new(
        Arc::clone(&shared),
        control_receiver,
        encoder,
        WorkerOutputs {
            stdout,
            writer: builder.writer,
        },
        shipper,
        builder.performance_interval,
        builder.drop_report_interval,
    );
    let thread = std::thread::Builder::new()
        .name("logfleet-sdk".to_owned())
        .spawn(move || worker.run(runtime))
        .map_err(|error| Error::Start(error.to_string()))?;
    *shared.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread);

    let layer = LogfleetLayer {
        shared: Arc::clone(&shared),
    };
    Ok((
        layer,
        Guard {
            handle: Handle { shared },
        },
    ))
}
