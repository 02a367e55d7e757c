//! What searches read: the search shards of an index expression and documents by id.

use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::refresh::commit_all;
use super::types::{SearchShard, StoredDocument};
use super::{Inner, Store, WriterMessage, WriterMessageBox};
use crate::error::{StoreError, StoreResult};
use crate::partition::{Partition, Pending};
use crate::wal::{FLAG_AUTO_ID, WalOp};

/// Where a document read by id is.
#[derive(Debug)]
pub(super) enum Lookup {
    /// In a commit.
    Found(StoredDocument),
    /// Perhaps written by the log record `seq` into `index`, whose writer failed: the
    /// record tells, if it was written to one of `targets`.
    InLog {
        index: String,
        targets: Vec<String>,
        seq: u64,
        version: u64,
    },
    Missing,
}

impl Store {
    /// Resolves an index expression for a search, as [`Store::resolve`] does, after waking
    /// the partitions it reaches: a partition that was search idle, with writes its
    /// searcher cannot see yet, is committed first, so that the search sees every write
    /// acknowledged before it — as the first search on a search-idle Elasticsearch shard
    /// waits for its refresh.
    pub async fn search_shards(
        &self,
        expression: &str,
        ignore_unavailable: bool,
    ) -> StoreResult<Vec<SearchShard>> {
        let mut shards = self.resolve(expression, ignore_unavailable)?;
        let (Some(idle_after), Some(_)) = (
            self.inner.config.search_idle_after,
            self.inner.config.refresh_interval,
        ) else {
            return Ok(shards);
        };
        let waking: Vec<usize> = (0..shards.len())
            .filter(|&index| {
                shards[index]
                    .partition
                    .as_ref()
                    .is_some_and(|partition| partition.mark_searched(idle_after))
            })
            .collect();
        if waking.is_empty() {
            return Ok(shards);
        }
        debug!(
            partitions = waking.len(),
            "committing search-idle partitions for a search"
        );
        let partitions: Vec<Arc<Partition>> = waking
            .iter()
            .filter_map(|&index| shards[index].partition.clone())
            .collect();
        let (_, failure) = tokio::task::spawn_blocking(move || commit_all(&partitions))
            .await
            .map_err(|_| StoreError::Closed)?;
        if let Some(error) = failure {
            // The search goes on over what the partition last committed.
            warn!(%error, "committing a search-idle partition for a search failed");
        }
        for index in waking {
            if let Some(partition) = &shards[index].partition {
                shards[index].searcher = partition.searcher();
            }
        }
        Ok(shards)
    }

    /// Reads a document by id (real time: pending writes to the target are committed first,
    /// as Elasticsearch's realtime get refreshes).
    pub async fn get(&self, name: &str, id: &str) -> StoreResult<Option<StoredDocument>> {
        let inner = self.inner.clone();
        let (name, owned_id) = (name.to_owned(), id.to_owned());
        let lookup = tokio::task::spawn_blocking(move || inner.get_document(&name, &owned_id))
            .await
            .map_err(|_| StoreError::Closed)??;
        let (index, targets, seq, version) = match lookup {
            Lookup::Found(document) => return Ok(Some(document)),
            Lookup::Missing => return Ok(None),
            Lookup::InLog {
                index,
                targets,
                seq,
                version,
            } => (index, targets, seq, version),
        };
        // A write that only the log holds (its partition's writer failed): read it there,
        // as Elasticsearch reads a document from its translog.
        let (reply, record) = oneshot::channel();
        let message = WriterMessage::ReadLogged { seq, reply };
        self.sender
            .send(WriterMessageBox(message))
            .await
            .map_err(|_| StoreError::Closed)?;
        let record = record.await.map_err(|_| StoreError::Closed)??;
        let written_here = record.as_ref().is_some_and(|record| {
            matches!(record.op, WalOp::Index | WalOp::Create)
                && targets.contains(&record.target)
                && (record.id == id || record.flags & FLAG_AUTO_ID != 0)
        });
        Ok(record
            .filter(|_| written_here)
            .map(|record| StoredDocument {
                index,
                version,
                seq,
                source: record.source,
            }))
    }
}

impl Inner {
    pub(super) fn get_document(&self, name: &str, id: &str) -> StoreResult<Lookup> {
        let (target, only) = match self.get_target(name) {
            Some(target) => (target, None),
            None => match self.find_partition_owner(name) {
                Some(target) => (target, Some(name.to_owned())),
                None => (self.single_alias_member(name)?, None),
            },
        };
        for partition in target.partitions() {
            if only
                .as_ref()
                .is_some_and(|only| *only != partition.meta().name)
            {
                continue;
            }
            // A commit that fails breaks the partition, which the next lines handle.
            if partition.is_dirty() {
                let _ = partition.commit();
            }
            let key = self.document_key(id);
            if partition.is_broken() {
                // Its writes since the last commit are in the log only.
                match partition.pending(&key) {
                    Pending::Written { seq, version } => {
                        return Ok(Lookup::InLog {
                            index: partition.meta().name.clone(),
                            targets: vec![target.name(), partition.meta().name.clone()],
                            seq,
                            version,
                        });
                    }
                    Pending::Deleted => continue,
                    Pending::Unknown => {}
                }
            }
            if let Some((written, source)) = partition.get_committed(&key)? {
                return Ok(Lookup::Found(StoredDocument {
                    index: partition.meta().name.clone(),
                    version: written.version,
                    seq: written.seq,
                    source,
                }));
            }
        }
        Ok(Lookup::Missing)
    }
}
