//! Live tail: documents pushed to subscribers as they are acknowledged, searchable with the
//! same Query DSL as everything else.
//!
//! While someone tails, the writer thread hands a copy of each document it indexes to a
//! broadcast channel, right after it is logged and applied — before any refresh, so a tail
//! sees a write about when its client sees the acknowledgement. Nobody tailing costs one
//! atomic load per group of writes. A subscriber collects what arrived over a short
//! window and indexes it into a small in-memory tantivy index per partition, with the
//! store's schema and the target's mapping: the result is a [`SearchShard`] like any other,
//! which the query crate searches with the very code that answers `_search`. A tail's
//! query therefore means exactly what it means in a search.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tantivy::indexer::IndexWriterOptions;
use tantivy::{Index, TantivyDocument};
use tokio::sync::broadcast;

use crate::error::{StoreError, StoreResult};
use crate::ids::IdCodec;
use crate::partition::PartitionSettings;
use crate::store::SearchShard;
use crate::target::Target;

/// How many groups of writes a subscriber may fall behind before it misses some.
pub(crate) const TAIL_CAPACITY: usize = 1024;

/// One acknowledged document, as indexed.
#[derive(Debug, Clone)]
pub(crate) struct TailEntry {
    pub(crate) target: Arc<Target>,
    /// The concrete index (partition) it went to.
    pub(crate) index: String,
    pub(crate) document: TantivyDocument,
}

/// The documents of one group of writes.
pub(crate) type TailBatch = Arc<Vec<TailEntry>>;

/// A subscription to acknowledged documents (see the module documentation).
#[derive(Debug)]
pub struct Tail {
    receiver: broadcast::Receiver<TailBatch>,
    settings: PartitionSettings,
    ids: IdCodec,
}

/// What a subscriber receives.
#[derive(Debug)]
pub enum TailEvent {
    /// Documents acknowledged since the last event, as searchable shards (one per
    /// partition they went to), with the names of the indexes or data streams they
    /// belong to.
    Documents(Vec<SearchShard>),
    /// The subscriber fell behind and this many groups of writes were dropped.
    Missed(u64),
}

impl Tail {
    pub(crate) fn new(
        receiver: broadcast::Receiver<TailBatch>,
        settings: PartitionSettings,
        ids: IdCodec,
    ) -> Tail {
        Tail {
            receiver,
            settings,
            ids,
        }
    }

    /// Waits for acknowledged documents, then gathers what else arrives within `window`
    /// (at most `max_documents`), keeping those whose index or data stream `wanted` accepts.
    /// `Ok(None)` once the store has shut down.
    pub async fn next(
        &mut self,
        window: Duration,
        max_documents: usize,
        wanted: impl Fn(&str) -> bool,
    ) -> StoreResult<Option<TailEvent>> {
        let first = match self.receiver.recv().await {
            Ok(batch) => batch,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                return Ok(Some(TailEvent::Missed(missed)));
            }
            Err(broadcast::error::RecvError::Closed) => return Ok(None),
        };
        let take = |entries: &mut Vec<TailEntry>, batch: &TailBatch| {
            let kept = batch.iter().filter(|entry| wanted(&entry.target.name()));
            entries.extend(kept.cloned());
        };
        let mut entries = Vec::new();
        take(&mut entries, &first);
        let deadline = tokio::time::Instant::now() + window;
        while entries.len() < max_documents {
            match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                Ok(Ok(batch)) => take(&mut entries, &batch),
                Ok(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    return Ok(Some(TailEvent::Missed(missed)));
                }
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => break,
            }
        }
        entries.truncate(max_documents);
        let settings = self.settings.clone();
        let ids = self.ids;
        let shards = tokio::task::spawn_blocking(move || index_in_memory(entries, &settings, ids))
            .await
            .map_err(|_| StoreError::Closed)??;
        Ok(Some(TailEvent::Documents(shards)))
    }
}

/// One in-memory index per partition the entries went to.
fn index_in_memory(
    entries: Vec<TailEntry>,
    settings: &PartitionSettings,
    ids: IdCodec,
) -> StoreResult<Vec<SearchShard>> {
    let mut by_index: BTreeMap<String, (Arc<Target>, Vec<TantivyDocument>)> = BTreeMap::new();
    for entry in entries {
        by_index
            .entry(entry.index)
            .or_insert_with(|| (entry.target.clone(), Vec::new()))
            .1
            .push(entry.document);
    }
    let mut shards = Vec::with_capacity(by_index.len());
    for (index_name, (target, documents)) in by_index {
        let index = Index::builder()
            .schema(settings.schema.clone())
            .create_in_ram()?;
        // The smallest budget tantivy takes; the arena grows only as far as it is used.
        let options = IndexWriterOptions::builder()
            .num_worker_threads(1)
            .num_merge_threads(1)
            .memory_budget_per_thread(15_000_000)
            .build();
        let mut writer: tantivy::IndexWriter = index.writer_with_options(options)?;
        for document in documents {
            writer.add_document(document)?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        shards.push(SearchShard::detached(
            index_name,
            target.name(),
            searcher,
            target.mapping(),
            ids,
        ));
    }
    Ok(shards)
}
