//! Events from many connections, written in batches: an input hands each event to a
//! [`Batcher`], whose task gathers up to [`MAX_BATCH`] of them (or what arrived within
//! [`LINGER`]) and writes them in one group commit. The channel is bounded: when the store
//! is slower than the senders, stream inputs stop reading (TCP pushes back) and datagram
//! inputs drop, and say so.

use std::time::Duration;

use logfleet_ingest::{Event, Ingest};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

/// The most events written in one batch.
pub const MAX_BATCH: usize = 2_000;
/// How long a batch waits for more events once it has one.
pub const LINGER: Duration = Duration::from_millis(50);
/// Events waiting for the writer before senders are held back.
const QUEUE: usize = 10_000;

/// Where an input's events go.
#[derive(Debug, Clone)]
pub struct Batcher {
    sender: mpsc::Sender<Event>,
}

impl Batcher {
    /// Starts the writing task of the input `name`; it ends, after writing what it holds,
    /// once every clone of the batcher is dropped.
    pub fn spawn(ingest: Ingest, name: &'static str) -> (Batcher, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_batches(ingest, receiver, name));
        (Batcher { sender }, task)
    }

    /// Queues an event, waiting while the queue is full; false once the writer is gone.
    pub async fn send(&self, event: Event) -> bool {
        self.sender.send(event).await.is_ok()
    }

    /// Queues an event unless the queue is full (for datagrams, which cannot wait).
    pub fn try_send(&self, event: Event) -> bool {
        self.sender.try_send(event).is_ok()
    }
}

async fn write_batches(ingest: Ingest, mut receiver: mpsc::Receiver<Event>, name: &'static str) {
    let mut events = Vec::with_capacity(MAX_BATCH);
    loop {
        if receiver.recv_many(&mut events, MAX_BATCH).await == 0 {
            return;
        }
        let deadline = tokio::time::Instant::now() + LINGER;
        while events.len() < MAX_BATCH {
            let room = MAX_BATCH - events.len();
            match tokio::time::timeout_at(deadline, receiver.recv_many(&mut events, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let batch = std::mem::replace(&mut events, Vec::with_capacity(MAX_BATCH));
        write_with_retries(&ingest, batch, name).await;
    }
}

/// Writes a batch; a batch the store refuses for now (a full disk) is tried again, holding
/// the input back meanwhile, until it is stored.
async fn write_with_retries(ingest: &Ingest, batch: Vec<Event>, name: &'static str) {
    let mut delay = Duration::from_millis(200);
    loop {
        let prepared = {
            let ingest = ingest.clone();
            let batch = batch.clone();
            tokio::task::spawn_blocking(move || ingest.prepare_batch(batch)).await
        };
        let Ok(prepared) = prepared else {
            warn!(
                input = name,
                "preparing a batch failed; its events are lost"
            );
            return;
        };
        let outcome = ingest.write_batch(prepared).await;
        if outcome.rejected > 0 {
            warn!(
                input = name,
                rejected = outcome.rejected,
                reason = outcome.first_error.as_deref().unwrap_or_default(),
                "events refused"
            );
        }
        if outcome.retry == 0 || outcome.stored > 0 {
            if outcome.retry > 0 {
                warn!(
                    input = name,
                    lost = outcome.retry,
                    reason = outcome.first_error.as_deref().unwrap_or_default(),
                    "events refused for now and not retried, as others of their batch were stored"
                );
            }
            return;
        }
        warn!(
            input = name,
            events = batch.len(),
            reason = outcome.first_error.as_deref().unwrap_or_default(),
            retry_in = ?delay,
            "the store refuses writes for now; holding the input back"
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
