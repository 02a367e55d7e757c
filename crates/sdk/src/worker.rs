//! The background thread: drains the queue, encodes, writes, ships, samples, reports drops,
//! answers flushes.
//!
//! It runs its own current-thread tokio runtime, so the SDK works the same whether or not the
//! service uses tokio, and nothing it does — JSON encoding, redaction, writes, HTTP, fsync —
//! happens on a caller's thread. It wakes every [`DRAIN_INTERVAL`] (or when a producer finds
//! the queue half full, or a delivery finishes, or a flush arrives) and drains everything.
//! The SDK's layer ignores events emitted on this thread (by the HTTP client, say), so they
//! cannot loop back into the queue; it does that with a thread-local flag rather than a
//! no-op subscriber of its own, because a subscriber that refuses everything would make
//! `tracing` re-check every enabled callsite in the process on every event.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use logfleet_model::{Level, LogCategory, fields};
use tokio::sync::mpsc;

use crate::encode::Encoder;
use crate::handle::{Control, Reply, Shared};
use crate::metrics::ProcessSampler;
use crate::record::{Record, Val};
use crate::ship::{Delivery, Outcome, Shipper};

/// How often the thread wakes on its own to drain the queue.
const DRAIN_INTERVAL: Duration = Duration::from_millis(20);
/// Written outputs are flushed when the buffer reaches this size, even mid-drain.
const OUTPUT_BUFFER_LIMIT: usize = 256 * 1024;

/// Where JSON lines go.
pub(crate) struct WorkerOutputs {
    pub(crate) stdout: bool,
    pub(crate) writer: Option<Box<dyn Write + Send>>,
}

impl WorkerOutputs {
    fn any(&self) -> bool {
        self.stdout || self.writer.is_some()
    }
}

/// A flush waiting for its batches to be delivered.
struct PendingFlush {
    deadline: Instant,
    /// The last batch sealed when the flush arrived.
    through_sequence: u64,
    /// Drops counted when the previous flush answered; more means not everything arrived.
    drops_before: u64,
    reply: Reply,
    shutdown: bool,
}

/// The background thread's state.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    control: mpsc::UnboundedReceiver<Control>,
    encoder: Encoder,
    outputs: WorkerOutputs,
    shipper: Option<Shipper>,
    delivery: Option<Delivery>,
    line: Vec<u8>,
    output_buffer: Vec<u8>,
    buffered_lines: u64,
    flushes: Vec<PendingFlush>,
    drops_answered: u64,
    shutdown_reply: Option<(Reply, bool)>,
    sampler: ProcessSampler,
    performance_interval: Option<Duration>,
    next_performance: Option<Instant>,
    last_performance: Instant,
    drop_report_interval: Duration,
    next_drop_report: Instant,
    drops_reported: u64,
    stop: bool,
}

impl Worker {
    pub(crate) fn new(
        shared: Arc<Shared>,
        control: mpsc::UnboundedReceiver<Control>,
        encoder: Encoder,
        outputs: WorkerOutputs,
        shipper: Option<Shipper>,
        performance_interval: Option<Duration>,
        drop_report_interval: Duration,
    ) -> Self {
        let now = Instant::now();
        let performance_interval = performance_interval.filter(|interval| !interval.is_zero());
        Self {
            shared,
            control,
            encoder,
            outputs,
            shipper,
            delivery: None,
            line: Vec::with_capacity(1024),
            output_buffer: Vec::with_capacity(64 * 1024),
            buffered_lines: 0,
            flushes: Vec::new(),
            drops_answered: 0,
            shutdown_reply: None,
            sampler: ProcessSampler::new(),
            performance_interval,
            next_performance: performance_interval.map(|interval| now + interval),
            last_performance: now,
            drop_report_interval: drop_report_interval.max(Duration::from_millis(1)),
            next_drop_report: now + drop_report_interval,
            drops_reported: 0,
            stop: false,
        }
    }

    /// The thread's body.
    pub(crate) fn run(mut self, runtime: tokio::runtime::Runtime) {
        crate::layer::mark_background_thread();
        runtime.block_on(self.run_loop());
        self.finish();
        // The runtime goes last: dropping it cancels connection tasks of the HTTP client.
        drop(self);
        drop(runtime);
    }

    async fn run_loop(&mut self) {
        while !self.stop {
            let wake_at = self.next_wakeup(Instant::now());
            tokio::select! {
                biased;
                message = self.control.recv() => self.on_control(message),
                outcome = wait_for(&mut self.delivery), if self.delivery.is_some() => {
                    self.delivery = None;
                    if let Some(shipper) = &mut self.shipper {
                        shipper.complete(outcome, Instant::now());
                    }
                }
                () = self.shared.wake.notified() => {}
                () = tokio::time::sleep_until(wake_at.into()) => {}
            }
            self.shared.wake_pending.store(false, Ordering::Release);
            self.step(Instant::now());
        }
        // A delivery still running belongs to this runtime; its batch is still queued and
        // will be spooled by `finish`.
        self.delivery = None;
    }

    fn next_wakeup(&self, now: Instant) -> Instant {
        if !self.shared.queue.is_empty() {
            return now;
        }
        let mut wake_at = now + DRAIN_INTERVAL;
        let candidates = [
            self.shipper.as_ref().and_then(Shipper::next_deadline),
            self.next_performance,
            Some(self.next_drop_report),
            self.flushes.iter().map(|flush| flush.deadline).min(),
        ];
        for candidate in candidates.into_iter().flatten() {
            wake_at = wake_at.min(candidate.max(now));
        }
        wake_at
    }

    fn step(&mut self, now: Instant) {
        self.drain();
        if let Some(shipper) = &mut self.shipper {
            shipper.seal_if_due(now);
            if self.delivery.is_none() {
                self.delivery = shipper.start(now);
            }
        }
        self.periodic(now);
        self.settle_flushes(now);
    }

    fn on_control(&mut self, message: Option<Control>) {
        let (request, shutdown) = match message {
            Some(Control::Flush(request)) => (request, false),
            Some(Control::Shutdown(request)) => (request, true),
            // Cannot happen while `Shared` holds the sender, but stopping is the right answer.
            None => {
                self.stop = true;
                return;
            }
        };
        // Everything emitted before the request is in the queue by now.
        self.drain();
        let through_sequence = self.shipper.as_mut().map_or(0, Shipper::seal);
        self.flushes.push(PendingFlush {
            deadline: request.deadline,
            through_sequence,
            drops_before: self.drops_answered,
            reply: request.reply,
            shutdown,
        });
    }

    /// Answers the flushes whose batches are all delivered, or whose time is up.
    fn settle_flushes(&mut self, now: Instant) {
        let mut index = 0;
        while index < self.flushes.len() {
            let flush = &self.flushes[index];
            let undelivered = self
                .shipper
                .as_ref()
                .is_some_and(|shipper| shipper.has_undelivered_through(flush.through_sequence));
            if undelivered && now < flush.deadline {
                index += 1;
                continue;
            }
            let flush = self.flushes.swap_remove(index);
            let dropped = self.shared.stats().dropped();
            let delivered = !undelivered && dropped == flush.drops_before;
            self.drops_answered = dropped;
            if flush.shutdown {
                self.stop = true;
                self.shutdown_reply = Some((flush.reply, delivered));
            } else {
                flush.reply.send(delivered);
            }
        }
    }

    /// Drains the queue: encode, buffer for the outputs, add to the open batch.
    fn drain(&mut self) {
        // Bounded so a flood cannot starve deliveries and flushes; the loop comes straight
        // back when the queue is not empty.
        let mut budget = self.shared.queue.capacity();
        while budget > 0 {
            let Some(record) = self.shared.queue.pop() else {
                break;
            };
            self.process(&record);
            self.shared.recycle(record);
            budget -= 1;
        }
        self.write_outputs();
    }

    fn process(&mut self, record: &Record) {
        self.line.clear();
        self.encoder.encode(record, &mut self.line);
        if self.outputs.any() {
            self.output_buffer.extend_from_slice(&self.line);
            self.output_buffer.push(b'\n');
            self.buffered_lines += 1;
            if self.output_buffer.len() >= OUTPUT_BUFFER_LIMIT {
                self.write_outputs();
            }
        }
        if let Some(shipper) = &mut self.shipper {
            shipper.push(&self.line);
        }
    }

    fn write_outputs(&mut self) {
        if self.output_buffer.is_empty() {
            return;
        }
        // Write errors (a closed stdout, a full disk) cannot be reported anywhere useful and
        // must not stop shipping; the lines are lost for that output only.
        if self.outputs.stdout {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&self.output_buffer);
            let _ = stdout.flush();
        }
        if let Some(writer) = &mut self.outputs.writer {
            let _ = writer.write_all(&self.output_buffer);
            let _ = writer.flush();
        }
        self.shared
            .counters
            .written
            .fetch_add(self.buffered_lines, Ordering::Relaxed);
        self.output_buffer.clear();
        self.buffered_lines = 0;
    }

    fn periodic(&mut self, now: Instant) {
        if let (Some(interval), Some(next)) = (self.performance_interval, self.next_performance)
            && now >= next
        {
            self.emit_performance(now);
            self.next_performance = Some(now + interval);
        }
        if now >= self.next_drop_report {
            self.report_drops();
            self.next_drop_report = now + self.drop_report_interval;
        }
    }

    /// The `performance` event: process resources and the window's request statistics.
    fn emit_performance(&mut self, now: Instant) {
        let window_seconds = now.duration_since(self.last_performance).as_secs_f64();
        self.last_performance = now;
        let process = self.sampler.sample();
        let requests = self.shared.requests.take_window();
        let mut record = Record::with_message(
            LogCategory::Performance,
            Level::Info,
            "performance sample",
            8,
        );
        if let Some(cpu_percent) = process.cpu_percent {
            record.val(
                fields::CPU_PERCENT,
                Val::F64(round_to_hundredths(cpu_percent)),
            );
        }
        if let Some(rss) = process.memory_rss_bytes {
            record.val(fields::MEMORY_RSS_BYTES, Val::U64(rss));
        }
        let open = u64::try_from(self.shared.requests.in_flight()).unwrap_or(0);
        record.val(fields::OPEN_CONNECTIONS, Val::U64(open));
        let count = requests.as_ref().map_or(0, |window| window.count);
        let per_minute = if window_seconds > 0.0 {
            count as f64 / window_seconds * 60.0
        } else {
            0.0
        };
        record.val(
            fields::REQUESTS_PER_MINUTE,
            Val::F64(round_to_hundredths(per_minute)),
        );
        if let Some(window) = requests {
            record.val(
                fields::DURATION_MS_P50,
                Val::F64(round_to_hundredths(window.p50_ms)),
            );
            record.val(
                fields::DURATION_MS_P95,
                Val::F64(round_to_hundredths(window.p95_ms)),
            );
            record.val(
                fields::DURATION_MS_P99,
                Val::F64(round_to_hundredths(window.p99_ms)),
            );
        }
        self.process(&record);
        self.write_outputs();
    }

    /// The drop report: when events were lost since the last one, say how many.
    fn report_drops(&mut self) {
        let stats = self.shared.stats();
        let total = stats.dropped();
        let new_drops = total.saturating_sub(self.drops_reported);
        if new_drops == 0 {
            return;
        }
        self.drops_reported = total;
        let mut record = Record::with_message(
            LogCategory::Performance,
            Level::Warning,
            "logfleet sdk dropped events",
            7,
        );
        record
            .val("sdk_dropped_events", Val::U64(new_drops))
            .val("sdk_dropped_events_total", Val::U64(total))
            .val("sdk_dropped_queue_full", Val::U64(stats.queue_full))
            .val("sdk_dropped_rejected", Val::U64(stats.rejected))
            .val("sdk_dropped_undeliverable", Val::U64(stats.undeliverable))
            .val("sdk_dropped_spool_full", Val::U64(stats.spool_full));
        self.process(&record);
        self.write_outputs();
    }

    /// After the loop: take the last events, spool what was not delivered, answer.
    fn finish(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.drain();
        if let Some(shipper) = &mut self.shipper {
            shipper.shutdown();
        }
        self.write_outputs();
        for flush in self.flushes.drain(..) {
            flush.reply.send(false);
        }
        if let Some((reply, delivered)) = self.shutdown_reply.take() {
            reply.send(delivered);
        }
    }
}

async fn wait_for(delivery: &mut Option<Delivery>) -> Outcome {
    match delivery {
        Some(future) => future.as_mut().await,
        None => std::future::pending().await,
    }
}

fn round_to_hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
