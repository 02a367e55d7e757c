//! A partition: one tantivy index holding one time bucket of a data stream, or a whole plain
//! index.
//!
//! Writes arrive from the store's single writer thread (so they are already ordered by the
//! write-ahead log); commits come from the refresh task. The `IndexWriter` sits behind a
//! read-write lock: adding a document only needs `&IndexWriter`, preparing a commit needs it
//! exclusively, so the commit payload — the last write-ahead log sequence number applied — is
//! exact. Replay skips records at or below it.
//!
//! A commit has two halves. Preparing it drains the indexing thread and writes its segment;
//! that needs the writer to itself. Publishing it (deletes, `meta.json`, fsyncs) runs on
//! tantivy's segment updater and does not: the lock is released in between, so the writer
//! thread goes on adding documents while a commit is published. Writes applied meanwhile
//! stay pending for the next commit.
//!
//! A writer that fails — its indexing thread could not flush a segment, or a commit could
//! not be written, most often because the disk is full — is never committed again: tantivy
//! drops the documents of a failed indexing thread, and its next commit would record a
//! sequence number their segments do not hold. The partition is marked *broken* instead. It
//! keeps answering searches from its last good commit and keeps track of the writes applied
//! to it (ids, versions, deletes), but indexes nothing and commits nothing until the store
//! recovers it: [`Partition::begin_recovery`] discards the writer and everything since the
//! last durable commit, and the store gives it the write-ahead log's records again from
//! there. Until then the log is kept from that commit on. A writer that failed with the
//! device's I/O error is not recovered in the running process (see
//! [`Partition::device_failure`]); the store refuses writes until a restart replays the log.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Schema};
use tantivy::{
    DocAddress, FutureResult, Index, IndexReader, IndexSettings, IndexWriter, Opstamp,
    ReloadPolicy, Searcher,
};
use tantivy::{TantivyDocument, Term};

use crate::error::{StoreError, StoreResult};
use crate::failpoint::{self, Failpoint};
use crate::faults::{Faults, FaultyDirectory};
use crate::persist::{read_json, write_json_atomically};
use crate::schema::{Fields, SEQ_FIELD};
use crate::seq_query::GeneratedIdQuery;
use crate::skeleton::SourceCache;
use crate::sync::{MutexExt, RwLockExt};

const META_FILE: &str = "partition.json";

/// How many segments of about the same size tantivy's log merge policy waits for before
/// merging them into one (its default is 8; Elasticsearch's tiered policy merges 10 at a
/// time). Every merge rewrites the documents it takes, so a wider merge rewrites each
/// document fewer times over its life: at 5,000,000 events of `bench ingest`, 12 spent 18.3
/// µs of CPU per event where 8 spent 20.2 (16 gained nothing more), and the dashboard
/// queries of `bench query` over 3,000,000 events ran in the same time (`BENCHMARKS.md`).
const MERGE_FACTOR: usize = 12;

/// What a partition's directory records about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMeta {
    /// The index name clients see: the plain index's name, or a data stream backing index
    /// name such as `.ds-logs-api_request-default-2026.11.26-000001`.
    pub name: String,
    /// A unique id, shown as `uuid` by `_cat/indices`.
    pub uuid: String,
    /// First millisecond of the time bucket (inclusive), for data stream partitions.
    pub bucket_start_ms: Option<i64>,
    /// End of the time bucket (exclusive).
    pub bucket_end_ms: Option<i64>,
    /// Creation time, epoch milliseconds.
    pub creation_date_ms: i64,
}

#[derive(Debug, Default)]
struct PendingState {
    /// The last write-ahead log sequence number applied to the writer.
    last_applied_seq: u64,
    /// The sequence number recorded by the last commit.
    committed_seq: u64,
    /// Whether there are writes since the last commit.
    dirty: bool,
    /// Client-chosen ids written since the last commit, with their versions and the sequence
    /// numbers that wrote them: the committed searcher cannot see them yet, and `create` must
    /// still detect a duplicate.
    pending_ids: HashMap<String, PendingWrite>,
    /// Ids deleted since the last commit (with the deleting sequence number), which the
    /// committed searcher still shows.
    pending_deletes: HashMap<String, u64>,
    /// When the last write was applied.
    last_write: Option<Instant>,
    /// Writes (documents and deletes) applied since the partition was opened.
    writes_applied: u64,
    /// How many of them the last commit contains.
    writes_committed: u64,
    /// Since when the partition has held writes no commit contains.
    dirty_since: Option<Instant>,
    /// When a search last reached the partition (see [`Partition::is_search_idle`]).
    last_searched: Option<Instant>,
    /// Searches that reached the partition since it was opened.
    searches: u64,
    /// Why the writer failed, while the partition waits for recovery (see the module
    /// documentation).
    broken: Option<BrokenWriter>,
    /// Whether a recovery is giving the partition its writes again: they are indexed even
    /// though it is still broken, and it is not committed until the recovery ends.
    recovering: bool,
}

impl PendingState {
    /// Whether no search has reached the partition for `after`, or ever.
    fn search_idle(&self, after: Duration) -> bool {
        self.last_searched
            .is_none_or(|last| last.elapsed() >= after)
    }

    fn uncommitted_writes(&self) -> u64 {
        self.writes_applied - self.writes_committed
    }

    fn note_write(&mut self, seq: u64) {
        let now = Instant::now();
        self.last_applied_seq = seq;
        self.dirty = true;
        self.dirty_since.get_or_insert(now);
        self.writes_applied += 1;
        self.last_write = Some(now);
    }
}

/// Why a partition's writer failed.
#[derive(Debug, Clone)]
struct BrokenWriter {
    reason: String,
    disk_full: bool,
    /// An I/O error from the device: the partition waits for a restart, not a recovery.
    device_failure: bool,
}

/// What a partition knows of a document written or deleted since its last commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Written by the log record `seq` (for a generated id: perhaps, if the record is this
    /// partition's), with this version.
    Written {
        /// The record's sequence number.
        seq: u64,
        /// The document's version.
        version: u64,
    },
    /// Deleted.
    Deleted,
    /// Nothing since the last commit that the partition knows of.
    Unknown,
}

/// A client-chosen id written since the last commit.
#[derive(Debug, Clone, Copy)]
struct PendingWrite {
    version: u64,
    seq: u64,
}

/// A live document's version, and the write-ahead log sequence number that wrote it (its
/// `_seq_no`; 0 for a document with a client-chosen id written before sequence numbers were
/// kept for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// `_version`.
    pub version: u64,
    /// `_seq_no`.
    pub seq: u64,
}

/// The version and sequence number of the committed document at `address`.
fn written_at(searcher: &Searcher, address: DocAddress) -> Written {
    let columns = searcher.segment_reader(address.segment_ord).fast_fields();
    let read = |name: &str| {
        columns
            .u64(name)
            .ok()
            .and_then(|column| column.first(address.doc_id))
    };
    Written {
        version: read("_version").unwrap_or(1),
        seq: read(SEQ_FIELD).unwrap_or(0),
    }
}

/// How a document is found by id: the `_id` term of a client-chosen id, or the `_seq` column
/// value of a generated one (see [`crate::IdCodec`]). An id this store could have generated
/// is looked up both ways, since a client may also have chosen it.
#[derive(Debug, Clone, Copy)]
pub struct DocumentKey<'a> {
    /// The id as the client sees it.
    pub id: &'a str,
    /// The sequence number `id` encodes, if this store's codec generated it.
    pub generated_seq: Option<u64>,
}

/// A tantivy index and its writer.
pub struct Partition {
    meta: PartitionMeta,
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: RwLock<Option<IndexWriter>>,
    state: Mutex<PendingState>,
    fields: Fields,
    writer_memory_bytes: usize,
    /// Held from preparing a commit until it is published, and through a recovery: a
    /// recovery must not read the last commit while another is being written.
    commit_lock: Mutex<()>,
}

impl std::fmt::Debug for Partition {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Partition")
            .field("meta", &self.meta)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Settings every partition is created with.
#[derive(Debug, Clone)]
pub struct PartitionSettings {
    /// The shared schema.
    pub schema: Schema,
    /// Its field handles.
    pub fields: Fields,
    /// The doc store layout and compression.
    pub index_settings: IndexSettings,
    /// Memory budget of the indexing thread.
    pub writer_memory_bytes: usize,
    /// Storage faults to inject (tests only; see [`crate::faults`]).
    pub faults: Option<Arc<Faults>>,
}

impl PartitionSettings {
    /// The directory tantivy writes `dir` through.
    fn directory(&self, dir: &Path) -> StoreResult<Box<dyn tantivy::Directory>> {
        let directory: Box<dyn tantivy::Directory> = match &self.faults {
            Some(faults) => Box::new(FaultyDirectory::open(dir, faults.clone())?),
            // The merge failpoint is reached where merged segments are written, which only
            // this directory sees; it injects nothing.
            None if failpoint::armed(Failpoint::Merge) => {
                Box::new(FaultyDirectory::open(dir, Faults::new())?)
            }
            None => Box::new(
                tantivy::directory::MmapDirectory::open(dir).map_err(|error| {
                    StoreError::io(
                        format!("opening {}", dir.display()),
                        std::io::Error::other(error.to_string()),
                    )
                })?,
            ),
        };
        Ok(directory)
    }
}

impl Partition {
    /// Creates a new, empty partition in `dir`.
    pub fn create(
        dir: &Path,
        meta: PartitionMeta,
        settings: &PartitionSettings,
    ) -> StoreResult<Partition> {
        fs::create_dir_all(dir)
            .map_err(|error| StoreError::io(format!("creating {}", dir.display()), error))?;
        let index = Index::create(
            settings.directory(dir)?,
            settings.schema.clone(),
            settings.index_settings.clone(),
        )?;
        write_json_atomically(&dir.join(META_FILE), &meta, settings.faults.as_deref())?;
        Partition::from_index(dir, meta, index, settings, 0)
    }

    /// Opens an existing partition.
    pub fn open(dir: &Path, settings: &PartitionSettings) -> StoreResult<Partition> {
        let meta: PartitionMeta = read_json(&dir.join(META_FILE))?;
        let index = Index::open(settings.directory(dir)?)?;
        let committed_seq = last_commit_seq(&index)?;
        Partition::from_index(dir, meta, index, settings, committed_seq)
    }

    fn from_index(
        dir: &Path,
        meta: PartitionMeta,
        index: Index,
        settings: &PartitionSettings,
        committed_seq: u64,
    ) -> StoreResult<Partition> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Partition {
            meta,
            dir: dir.to_owned(),
            index,
            reader,
            writer: RwLock::new(None),
            state: Mutex::new(PendingState {
                last_applied_seq: committed_seq,
                committed_seq,
                ..PendingState::default()
            }),
            fields: settings.fields.clone(),
            writer_memory_bytes: settings.writer_memory_bytes,
            commit_lock: Mutex::new(()),
        })
    }

    /// Name, uuid and time bucket.
    pub fn meta(&self) -> &PartitionMeta {
        &self.meta
    }

    /// The partition's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sequence number of the last commit.
    pub fn committed_seq(&self) -> u64 {
        self.lock_state().committed_seq
    }

    /// Whether writes are waiting for a commit.
    pub fn is_dirty(&self) -> bool {
        self.lock_state().dirty
    }

    /// How long since the last write (zero if there never was one since opening, so that a
    /// writer is only closed after it was used and then left alone).
    pub fn idle_for(&self) -> Duration {
        self.lock_state()
            .last_write
            .map_or(Duration::ZERO, |last| last.elapsed())
    }

    /// Whether no search has reached the partition for `after` (or ever since it was
    /// opened). Scheduled refreshes pass over such a partition, as Elasticsearch passes over
    /// a search-idle shard, unless [`Partition::needs_commit_while_idle`] says otherwise.
    pub fn is_search_idle(&self, after: Duration) -> bool {
        self.lock_state().search_idle(after)
    }

    /// Records that a search is about to read the partition. Returns whether it was search
    /// idle with writes its searcher cannot see yet: the search must then commit it first.
    pub fn mark_searched(&self, idle_after: Duration) -> bool {
        let mut state = self.lock_state();
        let was_idle = state.search_idle(idle_after);
        state.last_searched = Some(Instant::now());
        state.searches += 1;
        was_idle && state.dirty
    }

    /// What the partition did since it was opened: writes applied (documents and deletes)
    /// and searches that reached it.
    pub fn activity(&self) -> (u64, u64) {
        let state = self.lock_state();
        (state.writes_applied, state.searches)
    }

    /// Whether a search-idle partition must be committed all the same: its writes have
    /// stopped for `quiet` (so that its writer can close), or it has held back
    /// `max_writes` writes or writes for `max_age` (which bounds the write-ahead log kept
    /// for it, and the replay after a crash).
    pub fn needs_commit_while_idle(
        &self,
        quiet: Duration,
        max_writes: u64,
        max_age: Duration,
    ) -> bool {
        let state = self.lock_state();
        state.dirty
            && (state.last_write.is_none_or(|last| last.elapsed() >= quiet)
                || state.uncommitted_writes() >= max_writes
                || state
                    .dirty_since
                    .is_some_and(|since| since.elapsed() >= max_age))
    }

    /// Writes applied since the last commit.
    pub fn uncommitted_writes(&self) -> u64 {
        self.lock_state().uncommitted_writes()
    }

    /// A point-in-time view of the committed documents.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    fn lock_state(&self) -> MutexGuard<'_, PendingState> {
        // A panic while holding the lock cannot leave the counters half-updated in a way
        // that matters more than refusing all further writes would.
        self.state.lock_or_recover()
    }

    fn with_writer<T>(
        &self,
        action: impl FnOnce(&IndexWriter) -> StoreResult<T>,
    ) -> StoreResult<T> {
        {
            let guard = self.writer.read_or_recover();
            if let Some(writer) = guard.as_ref() {
                return action(writer);
            }
        }
        let mut guard = self.writer.write_or_recover();
        if guard.is_none() {
            // One indexing thread and one merge thread per partition: a store has many
            // partitions, and each concurrent merge holds its own buffers.
            let options = IndexWriterOptions::builder()
                .num_worker_threads(1)
                .num_merge_threads(1)
                .memory_budget_per_thread(self.writer_memory_bytes)
                .build();
            let writer: IndexWriter = self.index.writer_with_options(options)?;
            let mut merge_policy = LogMergePolicy::default();
            merge_policy.set_min_num_segments(MERGE_FACTOR);
            writer.set_merge_policy(Box::new(merge_policy));
            *guard = Some(writer);
        }
        let writer = guard.as_ref().ok_or(StoreError::Closed)?;
        action(writer)
    }

    /// The version of the live document `key` and the sequence number that wrote it,
    /// looking at uncommitted writes first.
    pub fn lookup_version(&self, key: &DocumentKey<'_>) -> StoreResult<Option<Written>> {
        {
            let state = self.lock_state();
            if let Some(pending) = state.pending_ids.get(key.id) {
                return Ok(Some(Written {
                    version: pending.version,
                    seq: pending.seq,
                }));
            }
            if state.pending_deletes.contains_key(key.id) {
                return Ok(None);
            }
        }
        let searcher = self.searcher();
        let Some(address) = self.find_committed(&searcher, key)? else {
            return Ok(None);
        };
        Ok(Some(written_at(&searcher, address)))
    }

    fn find_committed(
        &self,
        searcher: &Searcher,
        key: &DocumentKey<'_>,
    ) -> StoreResult<Option<DocAddress>> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, key.id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        if let Some((_, address)) = top.first() {
            return Ok(Some(*address));
        }
        let Some(seq) = key.generated_seq else {
            return Ok(None);
        };
        let top = searcher.search(
            &GeneratedIdQuery::new([seq]),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        Ok(top.first().map(|(_, address)| *address))
    }

    /// Reads the committed source of the document `key`, with its version and sequence
    /// number.
    pub fn get_committed(&self, key: &DocumentKey<'_>) -> StoreResult<Option<(Written, Vec<u8>)>> {
        let searcher = self.searcher();
        let Some(address) = self.find_committed(&searcher, key)? else {
            return Ok(None);
        };
        let document: TantivyDocument = searcher.doc(address)?;
        let source = source_bytes(&searcher, address, &document, &self.fields);
        Ok(Some((written_at(&searcher, address), source)))
    }

    /// Adds a document written at `seq`. `client_id` is set for client-chosen ids, with the
    /// document's version and whether it replaces an earlier document with the same id,
    /// which is deleted first.
    pub fn add(
        &self,
        document: TantivyDocument,
        seq: u64,
        client_id: Option<(&DocumentKey<'_>, u64, bool)>,
    ) -> StoreResult<()> {
        self.index_or_fail(|writer| {
            if let Some((key, _, true)) = client_id {
                self.delete_with(writer, key)?;
            }
            writer.add_document(document)?;
            Ok(())
        })?;
        let mut state = self.lock_state();
        state.note_write(seq);
        if let Some((key, version, _)) = client_id {
            state.pending_deletes.remove(key.id);
            state
                .pending_ids
                .insert(key.id.to_owned(), PendingWrite { version, seq });
        }
        Ok(())
    }

    /// Deletes the document `key` at `seq`.
    pub fn delete(&self, key: &DocumentKey<'_>, seq: u64) -> StoreResult<()> {
        self.index_or_fail(|writer| self.delete_with(writer, key))?;
        let mut state = self.lock_state();
        state.note_write(seq);
        state.pending_ids.remove(key.id);
        state.pending_deletes.insert(key.id.to_owned(), seq);
        Ok(())
    }

    /// Hands a write to the writer, unless the partition is broken. A writer that fails
    /// breaks the partition rather than the write: the write is in the log already, and a
    /// recovery indexes it again.
    fn index_or_fail(
        &self,
        action: impl FnOnce(&IndexWriter) -> StoreResult<()>,
    ) -> StoreResult<()> {
        {
            let state = self.lock_state();
            if state.broken.is_some() && !state.recovering {
                return Ok(());
            }
        }
        if let Err(error) = self.with_writer(action) {
            // tantivy only says that the indexing thread stopped; joining it tells why, and
            // of the ways to join it only preparing a commit (never finished here) keeps
            // the thread's error.
            let writer = self.writer.write_or_recover().take();
            let cause = writer.and_then(|mut writer| writer.prepare_commit().err());
            self.mark_broken(&cause.map_or(error, StoreError::from));
        }
        Ok(())
    }

    /// Marks the partition broken (see the module documentation). The first failure is
    /// the one reported: a writer that fails again during a recovery mostly says only that
    /// its indexing thread stopped.
    fn mark_broken(&self, error: &StoreError) {
        let mut state = self.lock_state();
        if state.broken.is_none() {
            tracing::error!(
                partition = %self.meta.name,
                %error,
                committed_seq = state.committed_seq,
                "a partition writer failed; the partition is searchable as last committed, \
                 and its writes since are kept in the write-ahead log until it recovers"
            );
            state.broken = Some(BrokenWriter {
                reason: error.to_string(),
                disk_full: error.is_disk_full(),
                device_failure: error.is_device_failure(),
            });
        }
        state.recovering = false;
    }

    /// Why the partition cannot index, if it is waiting for recovery.
    pub fn broken(&self) -> Option<StoreError> {
        self.lock_state()
            .broken
            .as_ref()
            .map(|broken| StoreError::PartitionUnavailable {
                partition: self.meta.name.clone(),
                reason: broken.reason.clone(),
                disk_full: broken.disk_full,
            })
    }

    /// Whether the partition is waiting for recovery.
    pub fn is_broken(&self) -> bool {
        self.lock_state().broken.is_some()
    }

    /// Whether the partition is waiting for a recovery in this process: it broke for a
    /// reason that may pass, such as a full disk.
    pub fn is_recoverable(&self) -> bool {
        self.lock_state()
            .broken
            .as_ref()
            .is_some_and(|broken| !broken.device_failure)
    }

    /// Why the partition broke, if the device failed under it. Such a partition is not
    /// recovered in this process: its writer's files may be in the page cache only, and a
    /// new attempt could not tell what reached the disk. A restart replays its writes from
    /// the log over its last commit that is surely on disk.
    pub fn device_failure(&self) -> Option<String> {
        self.lock_state()
            .broken
            .as_ref()
            .filter(|broken| broken.device_failure)
            .map(|broken| broken.reason.clone())
    }

    /// What happened to `key` since the last commit, as far as the partition tracks it.
    pub fn pending(&self, key: &DocumentKey<'_>) -> Pending {
        let state = self.lock_state();
        if let Some(written) = state.pending_ids.get(key.id) {
            return Pending::Written {
                seq: written.seq,
                version: written.version,
            };
        }
        if state.pending_deletes.contains_key(key.id) {
            return Pending::Deleted;
        }
        // Generated ids are not tracked one by one: one newer than the last commit and not
        // newer than the last write applied may be pending here.
        match key.generated_seq {
            Some(seq) if seq > state.committed_seq && seq <= state.last_applied_seq => {
                Pending::Written { seq, version: 1 }
            }
            _ => Pending::Unknown,
        }
    }

    fn delete_with(&self, writer: &IndexWriter, key: &DocumentKey<'_>) -> StoreResult<()> {
        writer.delete_term(Term::from_field_text(self.fields.id, key.id));
        if let Some(seq) = key.generated_seq {
            writer.delete_query(Box::new(GeneratedIdQuery::new([seq])))?;
        }
        Ok(())
    }

    /// Makes every applied write durable in tantivy and visible to searches. Returns whether
    /// there was anything to commit.
    pub fn commit(&self) -> StoreResult<bool> {
        match self.begin_commit()? {
            Some(commit) => commit.finish().map(|()| true),
            None => Ok(false),
        }
    }

    /// The first half of a commit: drains the indexing thread, writes its segment and hands
    /// the commit to tantivy's segment updater. The writer is free again when this returns;
    /// [`PendingCommit::finish`] waits for the commit to be published. `None` when there was
    /// nothing to commit, or the partition is broken. A failure breaks the partition.
    pub fn begin_commit(&self) -> StoreResult<Option<PendingCommit<'_>>> {
        let commit_guard = self.commit_lock.lock_or_recover();
        let mut guard = self.writer.write_or_recover();
        let Some(writer) = guard.as_mut() else {
            return Ok(None);
        };
        let (seq, writes) = {
            let state = self.lock_state();
            if !state.dirty || state.broken.is_some() {
                return Ok(None);
            }
            (state.last_applied_seq, state.writes_applied)
        };
        let prepared = writer.prepare_commit().map_err(StoreError::from);
        let published = prepared.map(|mut prepared| {
            failpoint::reach(Failpoint::CommitBeforePublish);
            prepared.set_payload(&seq.to_string());
            prepared.commit_future()
        });
        drop(guard);
        let published = published.inspect_err(|error| self.mark_broken(error))?;
        Ok(Some(PendingCommit {
            partition: self,
            seq,
            writes,
            published,
            _commit_guard: commit_guard,
        }))
    }

    /// Starts a recovery of a broken partition (see the module documentation): discards
    /// its writer, reloads its last durable commit and forgets the writes applied since,
    /// which the caller then applies again from the log, in order, from
    /// [`Recovery::committed_seq`] on.
    pub fn begin_recovery(&self) -> StoreResult<Recovery<'_>> {
        let commit_guard = self.commit_lock.lock_or_recover();
        let mut guard = self.writer.write_or_recover();
        // Dropping a writer without committing is tantivy's rollback: its uncommitted
        // segment files are garbage-collected by the next writer.
        drop(guard.take());
        // The commit that failed may have reached the disk all the same (its directory
        // fsync failed after `meta.json` was renamed): what is on disk decides.
        let committed_seq = last_commit_seq(&self.index)?;
        self.reader.reload()?;
        let mut state = self.lock_state();
        let writes_committed = state.writes_committed;
        *state = PendingState {
            last_applied_seq: committed_seq,
            committed_seq,
            writes_applied: writes_committed,
            writes_committed,
            last_searched: state.last_searched,
            searches: state.searches,
            broken: state.broken.take(),
            recovering: true,
            ..PendingState::default()
        };
        Ok(Recovery {
            partition: self,
            committed_seq,
            _commit_guard: commit_guard,
        })
    }

    /// Drops the writer (its threads and memory) when nothing is pending; it is re-created
    /// on the next write. Returns whether it was closed.
    pub fn close_writer_if_clean(&self) -> StoreResult<bool> {
        self.close_writer_when(|state| !state.dirty)
    }

    /// Drops the writer after letting its running merges finish, so that no half-written
    /// merge is left on disk (for a graceful shutdown, after the last commit). Writes not
    /// committed yet stay in the write-ahead log. Returns whether there was a writer.
    pub fn close_writer(&self) -> StoreResult<bool> {
        self.close_writer_when(|_| true)
    }

    fn close_writer_when(
        &self,
        condition: impl FnOnce(&PendingState) -> bool,
    ) -> StoreResult<bool> {
        let mut guard = self.writer.write_or_recover();
        if guard.is_none() || !condition(&self.lock_state()) {
            return Ok(false);
        }
        if let Some(writer) = guard.take()
            && let Err(error) = writer.wait_merging_threads()
        {
            // Its indexing thread failed since the last commit: what it held is in the log,
            // and the partition recovers from there.
            drop(guard);
            self.mark_broken(&error.into());
        }
        Ok(true)
    }

    /// Live documents, as committed.
    pub fn doc_count(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Deleted documents not yet merged away, as committed.
    pub fn deleted_count(&self) -> u64 {
        self.searcher()
            .segment_readers()
            .iter()
            .map(|segment| u64::from(segment.num_deleted_docs()))
            .sum()
    }

    /// Bytes the partition's files take on disk.
    pub fn size_on_disk(&self) -> u64 {
        directory_size(&self.dir)
    }
}

/// A commit whose segment is written and whose publication is under way (see
/// [`Partition::begin_commit`]).
#[must_use = "a commit is only searchable once finished"]
pub struct PendingCommit<'a> {
    partition: &'a Partition,
    /// The last sequence number the commit contains.
    seq: u64,
    /// How many of the partition's writes it contains.
    writes: u64,
    published: FutureResult<Opstamp>,
    _commit_guard: MutexGuard<'a, ()>,
}

impl std::fmt::Debug for PendingCommit<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PendingCommit")
            .field("partition", &self.partition.meta.name)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl PendingCommit<'_> {
    /// Waits until the commit is durable, then makes it visible to searches. Writes applied
    /// after the commit was prepared stay pending.
    pub fn finish(self) -> StoreResult<()> {
        let PendingCommit {
            partition,
            seq,
            writes,
            published,
            _commit_guard,
        } = self;
        let published = published
            .wait()
            .map_err(StoreError::from)
            .and_then(|_| partition.reader.reload().map_err(StoreError::from));
        published.inspect_err(|error| partition.mark_broken(error))?;
        failpoint::reach(Failpoint::CommitAfterPublish);
        let mut state = partition.lock_state();
        state.writes_committed = state.writes_committed.max(writes);
        // Commits of one partition are published in the order they were prepared, but
        // their callers may finish them in any order.
        state.committed_seq = state.committed_seq.max(seq);
        let committed = state.committed_seq;
        state.dirty = state.last_applied_seq > committed;
        // Writes that arrived while the commit was published are the oldest pending now;
        // they are at most as old as the commit.
        state.dirty_since = state.dirty.then(Instant::now);
        state
            .pending_ids
            .retain(|_, pending| pending.seq > committed);
        state
            .pending_deletes
            .retain(|_, deleted| *deleted > committed);
        Ok(())
    }
}

/// A recovery under way (see [`Partition::begin_recovery`]); commits of the partition wait
/// for it.
#[must_use = "a recovery ends with `finish`"]
pub struct Recovery<'a> {
    partition: &'a Partition,
    committed_seq: u64,
    _commit_guard: MutexGuard<'a, ()>,
}

impl std::fmt::Debug for Recovery<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Recovery")
            .field("partition", &self.partition.meta.name)
            .field("committed_seq", &self.committed_seq)
            .finish_non_exhaustive()
    }
}

impl Recovery<'_> {
    /// The sequence number of the partition's last durable commit: its writes after it
    /// must be applied again.
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq
    }

    /// Ends the recovery once every write was applied again. Returns whether the partition
    /// is whole: if its new writer failed too, it stays broken (with the writes it was given
    /// tracked as before) and is recovered again later.
    pub fn finish(self) -> bool {
        let mut state = self.partition.lock_state();
        if !state.recovering {
            return false;
        }
        state.recovering = false;
        state.broken = None;
        true
    }
}

/// The sequence number the last durable commit of `index` recorded.
fn last_commit_seq(index: &Index) -> StoreResult<u64> {
    Ok(index
        .load_metas()?
        .payload
        .and_then(|payload| payload.parse::<u64>().ok())
        .unwrap_or(0))
}

/// The `_source` bytes of a stored document.
///
/// `document` is the stored document at `address`; a source kept as a skeleton is rebuilt
/// from the segment's columns (see [`crate::skeleton`]).
pub fn source_bytes(
    searcher: &Searcher,
    address: DocAddress,
    document: &TantivyDocument,
    fields: &Fields,
) -> Vec<u8> {
    SourceCache::default().source(0, searcher, address, document, fields)
}

/// Total size of the files under `dir`.
pub fn directory_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_size(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::build_schema;

    fn partition(dir: &Path) -> Partition {
        let (schema, fields) = build_schema();
        let settings = PartitionSettings {
            schema,
            fields,
            index_settings: IndexSettings::default(),
            writer_memory_bytes: 15_000_000,
            faults: None,
        };
        let meta = PartitionMeta {
            name: "test".to_owned(),
            uuid: "uuid".to_owned(),
            bucket_start_ms: None,
            bucket_end_ms: None,
            creation_date_ms: 0,
        };
        Partition::create(dir, meta, &settings).unwrap()
    }

    fn add(partition: &Partition, seq: u64) {
        let mut document = TantivyDocument::new();
        document.add_u64(partition.fields.seq, seq);
        partition.add(document, seq, None).unwrap();
    }

    #[test]
    fn search_activity_decides_what_a_search_must_commit() {
        let dir = tempfile::tempdir().unwrap();
        let partition = partition(dir.path());
        let idle_after = Duration::from_millis(50);
        assert!(partition.is_search_idle(idle_after), "never searched");
        assert!(
            !partition.mark_searched(idle_after),
            "nothing pending, nothing to commit"
        );
        assert!(!partition.is_search_idle(idle_after));
        add(&partition, 1);
        assert!(
            !partition.mark_searched(idle_after),
            "an active partition is left to the periodic refresh"
        );
        std::thread::sleep(idle_after * 2);
        assert!(partition.is_search_idle(idle_after));
        assert!(
            partition.mark_searched(idle_after),
            "idle with a pending write"
        );
        assert!(partition.commit().unwrap());
        assert_eq!(partition.doc_count(), 1);
    }

    #[test]
    fn an_idle_partition_is_committed_when_writes_stop_pile_up_or_age() {
        let dir = tempfile::tempdir().unwrap();
        let partition = partition(dir.path());
        let (long, short) = (Duration::from_secs(3600), Duration::from_millis(30));
        assert!(
            !partition.needs_commit_while_idle(short, 1, short),
            "nothing pending"
        );
        add(&partition, 1);
        assert!(!partition.needs_commit_while_idle(long, 2, long));
        add(&partition, 2);
        assert!(
            partition.needs_commit_while_idle(long, 2, long),
            "two writes"
        );
        std::thread::sleep(short * 2);
        assert!(partition.needs_commit_while_idle(short, 100, long), "quiet");
        assert!(partition.needs_commit_while_idle(long, 100, short), "old");
        assert!(!partition.needs_commit_while_idle(long, 100, long));
        assert!(partition.commit().unwrap());
        assert!(!partition.needs_commit_while_idle(short, 1, short));
        assert_eq!(partition.committed_seq(), 2);
    }

    #[test]
    fn writes_applied_while_a_commit_is_published_stay_pending() {
        let dir = tempfile::tempdir().unwrap();
        let partition = partition(dir.path());
        add(&partition, 1);
        let commit = partition.begin_commit().unwrap().unwrap();
        // The writer is free again: the next write does not wait for publication.
        add(&partition, 2);
        commit.finish().unwrap();
        assert_eq!(partition.committed_seq(), 1);
        assert_eq!(partition.doc_count(), 1);
        assert!(
            partition.is_dirty(),
            "the second write is not committed yet"
        );
        assert!(partition.commit().unwrap());
        assert_eq!(partition.committed_seq(), 2);
        assert_eq!(partition.doc_count(), 2);
        assert!(!partition.is_dirty());
    }
}
