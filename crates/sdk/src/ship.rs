//! Shipping to a `_bulk` endpoint: batching, gzip, retries with backoff, the spool.
//!
//! Everything here runs on the background thread. Encoded events are appended to an open
//! [`Batch`], sealed by count, size or age, and delivered one request at a time, in order:
//! spooled batches first (they are older), then sealed batches waiting in memory. Each
//! delivery is `POST {url}/_bulk` with a `create` action per event (data streams accept only
//! `create`) and a gzip body.
//!
//! Outcomes: network errors, `408`, `429` and `5xx` retry the whole batch after an
//! exponential backoff with jitter; in a `2xx` answer, items with `429` or `5xx` are retried
//! alone, other `4xx` items are dropped and counted (the server will never take them), and a
//! `4xx` for the whole request drops the batch. After `max_attempts` a batch goes to the
//! spool (or, without one, is dropped and counted); while the spool holds anything, new
//! batches join it behind, so order is kept and memory stays bounded during an outage, and
//! the spool's oldest batch is retried (backoff capped at `max_backoff`) until the server is
//! back. Delivery is at least once: a batch whose response was lost is sent again.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Deserialize;

use crate::handle::Shared;
use crate::spool::{Spool, SpoolError};

/// A group of encoded events delivered in one request.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) sequence: u64,
    /// The documents, each followed by `\n`.
    docs: Vec<u8>,
    /// Where each document's line ends (after its `\n`).
    ends: Vec<usize>,
    /// Delivery attempts so far.
    pub(crate) attempts: u32,
    /// When the first document was added, for sealing by age.
    opened: Option<Instant>,
}

impl Batch {
    pub(crate) fn new(sequence: u64) -> Self {
        Self {
            sequence,
            docs: Vec::new(),
            ends: Vec::new(),
            attempts: 0,
            opened: None,
        }
    }

    /// A batch from NDJSON text (a spool file); blank lines are skipped.
    pub(crate) fn from_ndjson(sequence: u64, text: Vec<u8>) -> Self {
        let mut batch = Self::new(sequence);
        for line in text.split(|&b| b == b'\n') {
            if !line.iter().all(u8::is_ascii_whitespace) {
                batch.push(line);
            }
        }
        batch
    }

    pub(crate) fn push(&mut self, doc: &[u8]) {
        if self.opened.is_none() {
            self.opened = Some(Instant::now());
        }
        self.docs.extend_from_slice(doc);
        self.docs.push(b'\n');
        self.ends.push(self.docs.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// All documents as NDJSON.
    pub(crate) fn docs(&self) -> &[u8] {
        &self.docs
    }

    /// One document, without its newline.
    pub(crate) fn doc(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.docs[start..self.ends[index] - 1]
    }

    /// A batch with only the documents at `indices`, same sequence and attempts.
    pub(crate) fn retain(&self, indices: &[usize]) -> Self {
        let mut kept = Self::new(self.sequence);
        kept.attempts = self.attempts;
        for &index in indices {
            if index < self.len() {
                kept.push(self.doc(index));
            }
        }
        kept
    }

    /// The `_bulk` body: an action line before each document, gzip-compressed.
    pub(crate) fn gzip_body(&self, action_line: &[u8]) -> io::Result<Vec<u8>> {
        let raw_length = self.docs.len() + self.len() * action_line.len();
        let mut encoder = GzEncoder::new(Vec::with_capacity(raw_length / 4), Compression::fast());
        for index in 0..self.len() {
            encoder.write_all(action_line)?;
            let start = if index == 0 { 0 } else { self.ends[index - 1] };
            encoder.write_all(&self.docs[start..self.ends[index]])?;
        }
        encoder.finish()
    }
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The server answered for each document.
    Answered {
        accepted: usize,
        /// Documents refused for good (`4xx` other than `429`).
        rejected: usize,
        /// Documents to send again (`429`, `5xx`).
        retry: Vec<usize>,
    },
    /// Send the whole batch again later.
    Retry,
    /// The server refused the whole request for good.
    Refused,
}

#[derive(Deserialize)]
struct BulkResponse {
    #[serde(default)]
    errors: bool,
    #[serde(default)]
    items: Vec<HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    status: u16,
}

fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// Sends one `_bulk` request and classifies the answer.
pub(crate) async fn send(
    client: reqwest::Client,
    url: reqwest::Url,
    body: Vec<u8>,
    doc_count: usize,
) -> Outcome {
    let response = client
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/x-ndjson")
        .header(http::header::CONTENT_ENCODING, "gzip")
        .body(body)
        .send()
        .await;
    let Ok(response) = response else {
        return Outcome::Retry;
    };
    let status = response.status().as_u16();
    if is_retryable_status(status) {
        return Outcome::Retry;
    }
    if !response.status().is_success() {
        return Outcome::Refused;
    }
    let Ok(bytes) = response.bytes().await else {
        // The server took the request but the answer was cut: sending again could store the
        // batch twice, not sending could lose it; at-least-once says send again.
        return Outcome::Retry;
    };
    classify_items(&bytes, doc_count)
}

/// Reads the per-item statuses of a successful `_bulk` answer.
fn classify_items(body: &[u8], doc_count: usize) -> Outcome {
    let all_accepted = Outcome::Answered {
        accepted: doc_count,
        rejected: 0,
        retry: Vec::new(),
    };
    let Ok(response) = serde_json::from_slice::<BulkResponse>(body) else {
        // A 2xx that is not a bulk answer (a proxy's page?) still means the server took
        // the body; resending risks duplicates for nothing we can check.
        return all_accepted;
    };
    if !response.errors || response.items.len() != doc_count {
        return all_accepted;
    }
    let mut accepted = 0;
    let mut rejected = 0;
    let mut retry = Vec::new();
    for (index, item) in response.items.iter().enumerate() {
        let status = item.values().next().map_or(200, |result| result.status);
        // 409 on `create` means the document is already there: delivered.
        if (200..300).contains(&status) || status == 409 {
            accepted += 1;
        } else if is_retryable_status(status) {
            retry.push(index);
        } else {
            rejected += 1;
        }
    }
    Outcome::Answered {
        accepted,
        rejected,
        retry,
    }
}

/// The delay before attempt `attempt + 1`: `initial × 2^(attempt − 1)`, capped at `max`,
/// then randomised between half and all of it so clients that failed together do not retry
/// together.
pub(crate) fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let base = initial.saturating_mul(1 << exponent).min(max);
    let half = base / 2;
    let jitter_nanos = fastrand::u64(0..=u64::try_from(half.as_nanos()).unwrap_or(u64::MAX));
    half + Duration::from_nanos(jitter_nanos)
}

/// The settings of a shipper.
#[derive(Debug, Clone)]
pub(crate) struct ShipSettings {
    pub(crate) url: reqwest::Url,
    pub(crate) index: String,
    pub(crate) batch_max_events: usize,
    pub(crate) batch_max_bytes: usize,
    pub(crate) batch_interval: Duration,
    pub(crate) max_pending_batches: usize,
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

/// A delivery in progress, polled by the worker's loop.
pub(crate) type Delivery = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// Where the batch being delivered came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The front of `pending`.
    Pending,
    /// `spool_head`.
    Spool,
}

/// The delivery state machine.
#[derive(Debug)]
pub(crate) struct Shipper {
    settings: ShipSettings,
    shared: Arc<Shared>,
    client: reqwest::Client,
    action_line: Vec<u8>,
    open: Batch,
    next_sequence: u64,
    pending: VecDeque<Batch>,
    spool: Option<Spool>,
    /// The spool's oldest batch, read once and kept while it is being delivered.
    spool_head: Option<Batch>,
    in_flight: Option<Source>,
    /// Consecutive failed attempts, for the backoff.
    failures: u32,
    not_before: Instant,
}

impl Shipper {
    pub(crate) fn new(
        settings: ShipSettings,
        shared: Arc<Shared>,
        client: reqwest::Client,
        spool: Option<Spool>,
    ) -> Self {
        let mut action_line = Vec::new();
        // Serialising a map of strings into memory cannot fail.
        let _ = serde_json::to_writer(
            &mut action_line,
            &serde_json::json!({"create": {"_index": settings.index}}),
        );
        action_line.push(b'\n');
        let next_sequence = spool
            .as_ref()
            .and_then(Spool::last_sequence)
            .map_or(1, |last| last + 1);
        Self {
            settings,
            shared,
            client,
            action_line,
            open: Batch::new(next_sequence),
            next_sequence: next_sequence + 1,
            pending: VecDeque::new(),
            spool,
            spool_head: None,
            in_flight: None,
            failures: 0,
            not_before: Instant::now(),
        }
    }

    /// Adds one encoded event, sealing the batch when it is full.
    pub(crate) fn push(&mut self, doc: &[u8]) {
        self.open.push(doc);
        if self.open.len() >= self.settings.batch_max_events
            || self.open.docs().len() >= self.settings.batch_max_bytes
        {
            self.seal();
        }
    }

    /// Seals the open batch if its oldest event has waited long enough.
    pub(crate) fn seal_if_due(&mut self, now: Instant) {
        if self
            .open
            .opened
            .is_some_and(|opened| now.duration_since(opened) >= self.settings.batch_interval)
        {
            self.seal();
        }
    }

    /// When the open batch will be due, for the worker's sleep.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let sealing = self
            .open
            .opened
            .map(|opened| opened + self.settings.batch_interval);
        let has_work =
            !self.pending.is_empty() || self.spool.as_ref().is_some_and(|s| !s.is_empty());
        let retry = has_work.then_some(self.not_before);
        match (sealing, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Seals the open batch (if it holds anything) and queues it; returns the sequence number
    /// of the last sealed batch.
    pub(crate) fn seal(&mut self) -> u64 {
        if self.open.is_empty() {
            return self.open.sequence - 1;
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let sealed = std::mem::replace(&mut self.open, Batch::new(sequence));
        let sealed_sequence = sealed.sequence;
        let spool_in_use = self.spool.as_ref().is_some_and(|spool| !spool.is_empty());
        if spool_in_use {
            self.spool_batch(sealed);
        } else {
            self.pending.push_back(sealed);
            if self.pending.len() > self.settings.max_pending_batches {
                self.overflow();
            }
        }
        sealed_sequence
    }

    /// Too many batches waiting in memory: to the spool with all of them, or drop the newest.
    fn overflow(&mut self) {
        if self.spool.is_some() {
            // The front one may be in flight; it stays in memory and completes normally.
            let keep = usize::from(self.in_flight == Some(Source::Pending));
            let moved: Vec<Batch> = self.pending.drain(keep..).collect();
            for batch in moved {
                self.spool_batch(batch);
            }
        } else if let Some(newest) = self.pending.pop_back() {
            self.count_undeliverable(newest.len());
        }
    }

    fn spool_batch(&mut self, batch: Batch) {
        let Some(spool) = &mut self.spool else {
            self.count_undeliverable(batch.len());
            return;
        };
        let count = batch.len() as u64;
        match spool.push(&batch) {
            Ok(()) => {
                self.shared
                    .counters
                    .spooled
                    .fetch_add(count, Ordering::Relaxed);
            }
            Err(SpoolError::Full) => {
                self.shared
                    .counters
                    .spool_full
                    .fetch_add(count, Ordering::Relaxed);
            }
            Err(SpoolError::Io) => self.count_undeliverable(batch.len()),
        }
    }

    fn count_undeliverable(&self, events: usize) {
        self.shared
            .counters
            .undeliverable
            .fetch_add(events as u64, Ordering::Relaxed);
    }

    /// Starts delivering the next batch, if one is waiting and the backoff allows.
    pub(crate) fn start(&mut self, now: Instant) -> Option<Delivery> {
        if self.in_flight.is_some() || now < self.not_before {
            return None;
        }
        let from_spool = self.spool.as_ref().is_some_and(|spool| !spool.is_empty());
        let batch = if from_spool {
            if self.spool_head.is_none() {
                let spool = self.spool.as_mut()?;
                match spool.read_oldest() {
                    Ok(head) => self.spool_head = head,
                    Err(_) => {
                        // An unreadable spool file would block the spool forever: give up on
                        // it and count what it held as lost (its size is all we know).
                        let _ = spool.remove_oldest();
                        self.count_undeliverable(1);
                        return None;
                    }
                }
            }
            self.spool_head.as_mut()?
        } else {
            self.pending.front_mut()?
        };
        batch.attempts += 1;
        let doc_count = batch.len();
        let Ok(body) = batch.gzip_body(&self.action_line) else {
            return None;
        };
        self.in_flight = Some(if from_spool {
            Source::Spool
        } else {
            Source::Pending
        });
        let future = send(
            self.client.clone(),
            self.settings.url.clone(),
            body,
            doc_count,
        );
        Some(Box::pin(future))
    }

    /// Applies the outcome of the delivery started by [`start`](Self::start).
    pub(crate) fn complete(&mut self, outcome: Outcome, now: Instant) {
        let Some(source) = self.in_flight.take() else {
            return;
        };
        let inflight_from_spool = source == Source::Spool;
        let batch = match source {
            Source::Spool => self.spool_head.take(),
            Source::Pending => self.pending.pop_front(),
        };
        let Some(batch) = batch else {
            return;
        };
        let counters = &self.shared.counters;
        match outcome {
            Outcome::Answered {
                accepted,
                rejected,
                retry,
            } => {
                counters
                    .delivered
                    .fetch_add(accepted as u64, Ordering::Relaxed);
                counters
                    .rejected
                    .fetch_add(rejected as u64, Ordering::Relaxed);
                if retry.is_empty() {
                    self.failures = 0;
                    self.not_before = now;
                    if inflight_from_spool {
                        self.remove_spool_head();
                    }
                } else {
                    let remaining = batch.retain(&retry);
                    self.failed(remaining, inflight_from_spool, now, true);
                }
            }
            Outcome::Retry => self.failed(batch, inflight_from_spool, now, false),
            Outcome::Refused => {
                counters
                    .rejected
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                self.failures = 0;
                if inflight_from_spool {
                    self.remove_spool_head();
                }
            }
        }
    }

    fn remove_spool_head(&mut self) {
        if let Some(spool) = &mut self.spool {
            let _ = spool.remove_oldest();
        }
    }

    /// A failed attempt (whole batch, or the part of it to retry).
    fn failed(&mut self, batch: Batch, from_spool: bool, now: Instant, partial: bool) {
        self.failures += 1;
        self.shared.counters.retries.fetch_add(1, Ordering::Relaxed);
        self.not_before = now
            + backoff(
                self.settings.initial_backoff,
                self.settings.max_backoff,
                self.failures,
            );
        if from_spool {
            if partial && let Some(spool) = &mut self.spool {
                let _ = spool.replace_oldest(&batch);
            }
            // The spool head is re-read on the next attempt.
            return;
        }
        if batch.attempts < self.settings.max_attempts {
            self.pending.push_front(batch);
            return;
        }
        // Out of attempts: the spool takes it with everything queued behind it, in order.
        if self.spool.is_some() {
            self.spool_batch(batch);
            let queued: Vec<Batch> = self.pending.drain(..).collect();
            for batch in queued {
                self.spool_batch(batch);
            }
        } else {
            self.count_undeliverable(batch.len());
        }
    }

    /// Whether a batch sealed at or before `sequence` is still undelivered.
    pub(crate) fn has_undelivered_through(&self, sequence: u64) -> bool {
        let pending = self
            .pending
            .front()
            .is_some_and(|batch| batch.sequence <= sequence);
        let spooled = self
            .spool
            .as_ref()
            .and_then(Spool::oldest_sequence)
            .is_some_and(|oldest| oldest <= sequence);
        pending || spooled
    }

    /// On shutdown: seals what is open and spools (or counts as lost) what was not sent.
    pub(crate) fn shutdown(&mut self) {
        self.seal();
        self.in_flight = None;
        let unsent: Vec<Batch> = self.pending.drain(..).collect();
        for batch in unsent {
            self.spool_batch(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn body_has_an_action_line_before_each_document() {
        let mut batch = Batch::new(1);
        batch.push(br#"{"a":1}"#);
        batch.push(br#"{"a":2}"#);
        let body = batch
            .gzip_body(b"{\"create\":{\"_index\":\"logs\"}}\n")
            .unwrap();
        let mut text = String::new();
        GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
        assert_eq!(
            text,
            "{\"create\":{\"_index\":\"logs\"}}\n{\"a\":1}\n{\"create\":{\"_index\":\"logs\"}}\n{\"a\":2}\n"
        );
    }

    #[test]
    fn ndjson_round_trips_and_retain_keeps_chosen_documents() {
        let batch = Batch::from_ndjson(4, b"{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}".to_vec());
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.doc(2), br#"{"a":3}"#);
        let kept = batch.retain(&[0, 2, 9]);
        assert_eq!(kept.sequence, 4);
        assert_eq!(kept.docs(), b"{\"a\":1}\n{\"a\":3}\n");
    }

    #[test]
    fn item_statuses_are_sorted_into_accepted_rejected_and_retry() {
        let body = br#"{"errors":true,"items":[
            {"create":{"status":201}},
            {"create":{"status":429}},
            {"create":{"status":400,"error":{"type":"document_parsing_exception"}}},
            {"create":{"status":503}},
            {"create":{"status":409}}]}"#;
        assert_eq!(
            classify_items(body, 5),
            Outcome::Answered {
                accepted: 2,
                rejected: 1,
                retry: vec![1, 3]
            }
        );
        let fine = br#"{"errors":false,"items":[{"create":{"status":201}}]}"#;
        assert_eq!(
            classify_items(fine, 1),
            Outcome::Answered {
                accepted: 1,
                rejected: 0,
                retry: vec![]
            }
        );
    }

    #[test]
    fn a_full_disk_on_the_server_is_retried_not_dropped() {
        // Elasticsearch's (and Logfleet's) flood stage, item by item and for a whole request.
        let body = br#"{"errors":true,"items":[
            {"create":{"_index":"logs-api_request-default","status":429,"error":{
                "type":"cluster_block_exception",
                "reason":"index [logs-api_request-default] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"}}}]}"#;
        assert_eq!(
            classify_items(body, 1),
            Outcome::Answered {
                accepted: 0,
                rejected: 0,
                retry: vec![0]
            }
        );
        assert!(is_retryable_status(429));
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let initial = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for _ in 0..100 {
            let first = backoff(initial, max, 1);
            assert!(first >= Duration::from_millis(50) && first <= initial);
            let third = backoff(initial, max, 3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = backoff(initial, max, 30);
            assert!(late >= max / 2 && late <= max);
        }
    }
}
