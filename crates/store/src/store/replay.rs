//! Reading the write-ahead log back: at start-up, and for partitions whose writer broke.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use logfleet_model::json::JsonObject;
use serde_json::{Map, Value};
use tracing::{error, info, warn};

use super::Inner;
use super::types::{DocumentOp, ItemFailure, PreparedWrite, WriteRequest, WriteResult};
use super::write::ApplyMode;
use crate::error::{StoreError, StoreResult};
use crate::failpoint::{self, Failpoint};
use crate::partition::Partition;
use crate::target::Target;
use crate::wal::{FLAG_AUTO_ID, Wal, WalOp, WalRecord};

impl Inner {
    pub(super) fn replay(&self, records: Vec<WalRecord>) -> StoreResult<usize> {
        let mut replayed = 0;
        let halfway = records.len() / 2;
        for (position, record) in records.into_iter().enumerate() {
            if position == halfway && position > 0 {
                failpoint::reach(Failpoint::Replay);
            }
            let seq = record.seq;
            let write = match self.prepare_replayed(record) {
                Ok(Some(write)) => write,
                Ok(None) => continue,
                Err(error) => {
                    warn!(seq, %error, "wal replay skipped a record that no longer applies");
                    continue;
                }
            };
            match self.apply(write, seq, ApplyMode::Replay) {
                Ok(outcome) if outcome.version > 0 || outcome.result == WriteResult::Deleted => {
                    replayed += 1
                }
                Ok(_) | Err(ItemFailure::Conflict(_)) => {}
                Err(ItemFailure::Store(error)) => return Err(error),
            }
            self.applied_seq.store(seq, Ordering::SeqCst);
        }
        Ok(replayed)
    }

    pub(super) fn prepare_replayed(&self, record: WalRecord) -> StoreResult<Option<PreparedWrite>> {
        match record.op {
            WalOp::DeleteTarget => Ok(self
                .get_target(&record.target)
                .map(PreparedWrite::delete_target)),
            WalOp::Delete => {
                if self.get_target(&record.target).is_none()
                    && self.find_partition_owner(&record.target).is_none()
                {
                    return Ok(None);
                }
                self.prepare(
                    WriteRequest::Delete {
                        target: record.target,
                        id: record.id,
                    },
                    true,
                )
                .map(Some)
            }
            WalOp::Index | WalOp::Create => {
                let source = Bytes::from(record.source);
                let corrupt = |error: serde_json::Error| StoreError::Corrupt {
                    path: "wal".into(),
                    reason: error.to_string(),
                };
                // Logs written before duplicate keys were rejected may hold documents with
                // them, acknowledged then with the last value of each key: replay them so.
                let deduplicated;
                let parsed = match JsonObject::from_slice(&source) {
                    Ok(parsed) => parsed,
                    Err(_) => {
                        let lenient: Map<String, Value> =
                            serde_json::from_slice(&source).map_err(corrupt)?;
                        deduplicated = serde_json::to_vec(&lenient).map_err(corrupt)?;
                        JsonObject::from_slice(&deduplicated).map_err(corrupt)?
                    }
                };
                let op = if record.op == WalOp::Index {
                    DocumentOp::Index
                } else {
                    DocumentOp::Create
                };
                let auto_id = record.flags & FLAG_AUTO_ID != 0;
                self.prepare(
                    WriteRequest::Document {
                        target: record.target,
                        op,
                        id: (!auto_id).then_some(record.id),
                        source: source.clone(),
                        parsed,
                    },
                    true,
                )
                .map(Some)
            }
        }
    }

    /// Whether a partition waits for a recovery in this process.
    pub(super) fn has_broken_partitions(&self) -> bool {
        self.all_partitions()
            .iter()
            .any(|partition| partition.is_recoverable())
    }

    /// Recovers every broken partition from the log (on the writer thread, which owns the
    /// log and orders every write): each is reset to its last durable commit and given its
    /// writes since again, in their order. One that fails again stays broken. One that broke
    /// with the device's I/O error is left to a restart (see
    /// [`Partition::device_failure`]).
    pub(super) fn recover_broken_partitions(&self, wal: &Wal) {
        let broken: Vec<(Arc<Target>, Arc<Partition>)> = self
            .read_targets()
            .values()
            .flat_map(|target| {
                target
                    .partitions()
                    .into_iter()
                    .filter(|partition| partition.is_recoverable())
                    .map(|partition| (target.clone(), partition))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (target, partition) in broken {
            let started = Instant::now();
            let recovery = match partition.begin_recovery() {
                Ok(recovery) => recovery,
                Err(error) => {
                    warn!(partition = %partition.meta().name, %error, "recovering a partition failed");
                    continue;
                }
            };
            let target_name = target.name();
            let partition_name = &partition.meta().name;
            let mut reapplied = 0u64;
            let read = wal.read_after(recovery.committed_seq(), |record| {
                if record.target != target_name && record.target != *partition_name {
                    return Ok(());
                }
                let seq = record.seq;
                match self.prepare_replayed(record) {
                    Ok(Some(write)) => {
                        let applied = self.apply(write, seq, ApplyMode::Recover(&partition));
                        if matches!(&applied, Ok(outcome) if outcome.version > 0) {
                            reapplied += 1;
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        warn!(seq, %error, "recovery skipped a record that no longer applies")
                    }
                }
                Ok(())
            });
            if let Err(error) = read {
                // Without the whole log the partition cannot be trusted to be complete.
                error!(partition = %partition_name, %error, "reading the write-ahead log back for a recovery failed");
                continue;
            }
            let whole = recovery.finish();
            info!(
                partition = %partition_name,
                reapplied,
                whole,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "recovered a partition from the write-ahead log"
            );
        }
    }
}
