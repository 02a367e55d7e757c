//! Batches of events from the inputs that are not `_bulk` (OTLP, syslog, files): each event
//! goes the one way in ([`Ingest::prepare`]), the batch is written in one group commit, and
//! the answer says what an input needs to acknowledge its sender — how many events are
//! stored, how many were refused for good, and whether the store asked for the batch again.

use bytes::Bytes;
use logfleet_store::{DocumentOp, ItemFailure, PreparedWrite, StoreError};

use crate::write::{Document, Ingest, IngestError, Prepared};

/// One event from an input.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The index or data stream it goes to.
    pub index: String,
    /// The document, JSON.
    pub source: Bytes,
}

/// Events prepared for the store.
#[derive(Debug)]
pub struct PreparedBatch {
    writes: Vec<PreparedWrite>,
    failure_stored: usize,
    dropped: usize,
    outcome: BatchOutcome,
}

/// What became of a batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Events stored (those kept in a failure store included).
    pub stored: usize,
    /// Of those, events a processor or the mapping rejected, kept in a failure store.
    pub failure_stored: usize,
    /// Events a pipeline dropped on purpose.
    pub dropped: usize,
    /// Events refused for good (an invalid document with no failure store to take it).
    pub rejected: usize,
    /// The first refusal's reason, for the sender's operator.
    pub first_error: Option<String>,
    /// Events refused for now (a full disk, a store shutting down): send them again later.
    pub retry: usize,
}

impl BatchOutcome {
    fn refuse(&mut self, error: String, retry: bool) {
        if retry {
            self.retry += 1;
        } else {
            self.rejected += 1;
        }
        self.first_error.get_or_insert(error);
    }
}

impl Ingest {
    /// Runs each event's pipelines and prepares its write (CPU work: call it off the
    /// threads that serve connections).
    pub fn prepare_batch(&self, events: Vec<Event>) -> PreparedBatch {
        let mut batch = PreparedBatch {
            writes: Vec::with_capacity(events.len()),
            failure_stored: 0,
            dropped: 0,
            outcome: BatchOutcome::default(),
        };
        for event in events {
            let prepared = self.prepare(Document {
                index: &event.index,
                op: DocumentOp::Create,
                id: None,
                source: event.source,
                pipeline: None,
            });
            match prepared {
                Ok(Prepared::Write(write)) => batch.writes.push(write),
                Ok(Prepared::FailureStore(write)) => {
                    batch.failure_stored += 1;
                    batch.writes.push(write);
                }
                Ok(Prepared::Dropped { .. }) => batch.dropped += 1,
                Err(error) => {
                    let retry = matches!(&error, IngestError::Store(error) if is_transient(error));
                    batch.outcome.refuse(error.to_string(), retry);
                }
            }
        }
        batch
    }

    /// Writes a prepared batch, durably, in one group commit.
    pub async fn write_batch(&self, batch: PreparedBatch) -> BatchOutcome {
        let PreparedBatch {
            writes,
            failure_stored,
            dropped,
            mut outcome,
        } = batch;
        outcome.dropped = dropped;
        let count = writes.len();
        if count == 0 {
            return outcome;
        }
        match self.store().execute(writes).await {
            Ok(results) => {
                for result in results {
                    match result {
                        Ok(_) => outcome.stored += 1,
                        Err(ItemFailure::Conflict(conflict)) => {
                            outcome.refuse(format!("[{}]: version conflict", conflict.id), false)
                        }
                        Err(ItemFailure::Store(error)) => {
                            let retry = is_transient(&error);
                            outcome.refuse(error.to_string(), retry);
                        }
                    }
                }
                // Failure-store writes fail like any write; the count is of those stored.
                outcome.failure_stored = failure_stored.min(outcome.stored);
            }
            Err(error) => {
                for _ in 0..count {
                    outcome.refuse(error.to_string(), true);
                }
            }
        }
        outcome
    }

    /// [`Ingest::prepare_batch`] then [`Ingest::write_batch`].
    pub async fn write_events(&self, events: Vec<Event>) -> BatchOutcome {
        let batch = self.prepare_batch(events);
        self.write_batch(batch).await
    }
}

/// Whether a store error passes (so that the events are to be sent again) rather than
/// saying something about the event.
pub fn is_transient(error: &StoreError) -> bool {
    error.is_disk_full()
        || matches!(
            error,
            StoreError::Closed
                | StoreError::WritesBlocked { .. }
                | StoreError::LogFailed { .. }
                | StoreError::PartitionUnavailable { .. }
                | StoreError::Io { .. }
                | StoreError::Engine(_)
        )
}
