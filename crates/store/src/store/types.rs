//! The store's public types: its configuration, write requests and outcomes, and what
//! searches and the catalog APIs read.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use logfleet_model::json::JsonObject;
use serde_json::{Map, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::disk::FloodStage;
use crate::error::StoreError;
use crate::faults::Faults;
use crate::ids::IdCodec;
use crate::lifecycle::LifecyclePolicy;
use crate::mapping::Mapping;
use crate::partition::Partition;
use crate::schema::{Fields, SEQ_FIELD};
use crate::target::{Target, TargetKind};
use crate::wal::WalOp;

/// A retention rule from the configuration: data streams matching `pattern` keep
/// `max_age` of data unless their own lifecycle says otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    /// Data stream name pattern with `*` wildcards.
    pub pattern: String,
    /// How long data is kept.
    pub max_age: Duration,
}

/// How the store runs.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Where everything lives.
    pub data_dir: PathBuf,
    /// How often writes become searchable; `None` disables periodic refresh.
    pub refresh_interval: Option<Duration>,
    /// Elasticsearch's `index.search.idle.after`: a partition no search has reached for this
    /// long is search idle, and periodic refreshes pass over it; the next search commits it
    /// first and waits. `None` refreshes every partition at every interval.
    pub search_idle_after: Option<Duration>,
    /// Search-idle partitions together hold at most about this many uncommitted writes:
    /// beyond it, the periodic refresh commits the one holding most, which empties its
    /// indexing buffer. Each writer's own budget (`writer_memory_bytes`) bounds one
    /// partition; this bounds them all, as Elasticsearch's `indices.memory.index_buffer_size`
    /// does (200,000 writes: roughly 100 MB of indexing buffers for events of the usual
    /// size).
    pub idle_buffered_writes: u64,
    /// A search-idle partition whose last commit lies more than this many log records back
    /// is committed, since the log (shared by all partitions) is kept from there on: this
    /// bounds the log on disk and the replay after a crash (500,000 records: about 300 MB of
    /// events of the usual size).
    pub idle_log_records: u64,
    /// Memory budget of each partition's indexing thread.
    pub writer_memory_bytes: usize,
    /// Size at which a write-ahead log segment is closed and a new one begun.
    pub wal_segment_bytes: u64,
    /// Retention rules, first match wins.
    pub retention_rules: Vec<RetentionRule>,
    /// How often retention runs.
    pub retention_check_interval: Duration,
    /// zstd level of the document store.
    pub docstore_compression_level: i32,
    /// When writes stop because the disk is nearly full (see [`FloodStage`]).
    pub flood_stage: FloodStage,
    /// Storage faults to inject, for tests (see [`crate::faults`]); `None` in production.
    pub faults: Option<Arc<Faults>>,
    /// The default ingest pipeline of `logs` and `logs-*` data streams that no index template
    /// matches, as Elasticsearch's built-in `logs` template names one.
    pub default_logs_pipeline: Option<String>,
    /// Data streams whose failure store is on unless their index template says otherwise
    /// (`logs-*`): documents a pipeline or the mapping rejects are kept there with their
    /// error rather than lost.
    pub failure_store: Vec<String>,
}

impl StoreConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> StoreConfig {
        StoreConfig {
            data_dir: data_dir.into(),
            refresh_interval: Some(Duration::from_secs(1)),
            search_idle_after: Some(Duration::from_secs(30)),
            idle_buffered_writes: 200_000,
            idle_log_records: 500_000,
            writer_memory_bytes: 48 << 20,
            wal_segment_bytes: 64 << 20,
            retention_rules: Vec::new(),
            retention_check_interval: Duration::from_secs(60),
            docstore_compression_level: 3,
            flood_stage: FloodStage::default(),
            faults: None,
            default_logs_pipeline: None,
            failure_store: vec!["logs-*".to_owned()],
        }
    }
}

/// `index` or `create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentOp {
    /// Add, or replace a document with the same id.
    Index,
    /// Add, or fail with a version conflict if the id exists.
    Create,
}

/// A request to write one document or delete one by id; `'a` is the lifetime of the buffer
/// the parsed source borrows from.
#[derive(Debug, Clone)]
pub enum WriteRequest<'a> {
    /// Add or replace a document.
    Document {
        /// Index or data stream name, after the pipeline.
        target: String,
        /// `index` or `create`.
        op: DocumentOp,
        /// The client's id, if any.
        id: Option<String>,
        /// The source as it will be stored (usually a slice of the request body, shared
        /// rather than copied).
        source: Bytes,
        /// The same source, parsed; decoded from `source` itself when it can be (its strings
        /// then point into it, which makes the `_source` skeleton cheap to build), or from
        /// the bytes it was re-encoded from.
        parsed: JsonObject<'a>,
    },
    /// Delete a document.
    Delete {
        /// Index or data stream name.
        target: String,
        /// The id.
        id: String,
    },
}

/// A write validated against its target's mapping, ready for the log.
#[derive(Debug)]
pub struct PreparedWrite {
    pub(super) target: Arc<Target>,
    /// For deletes addressed to a data stream's backing index: that partition only.
    pub(super) only_partition: Option<String>,
    pub(super) op: WalOp,
    pub(super) id: String,
    pub(super) auto_id: bool,
    pub(super) source: Bytes,
    pub(super) document: Option<TantivyDocument>,
    pub(super) timestamp_millis: Option<i64>,
    /// The partition the document goes to, found (or created) before it is logged.
    pub(super) partition: Option<Arc<Partition>>,
    /// What the document must be for the write to go ahead (`if_seq_no`).
    pub(super) condition: Option<WriteCondition>,
}

impl PreparedWrite {
    /// Makes the write go ahead only if the document is as `condition` says (checked when it
    /// is about to be logged, after the writes logged before it).
    pub fn require(&mut self, condition: WriteCondition) {
        self.condition = Some(condition);
    }

    pub(super) fn delete_target(target: Arc<Target>) -> PreparedWrite {
        PreparedWrite {
            target,
            only_partition: None,
            op: WalOp::DeleteTarget,
            id: String::new(),
            auto_id: false,
            source: Bytes::new(),
            document: None,
            timestamp_millis: None,
            partition: None,
            condition: None,
        }
    }
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteResult {
    /// A new document.
    Created,
    /// A document replaced.
    Updated,
    /// A document removed.
    Deleted,
    /// Nothing to delete.
    NotFound,
}

impl WriteResult {
    /// Elasticsearch's `result` value.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteResult::Created => "created",
            WriteResult::Updated => "updated",
            WriteResult::Deleted => "deleted",
            WriteResult::NotFound => "not_found",
        }
    }
}

/// The outcome of one acknowledged write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The concrete index written (a data stream's backing index).
    pub index: String,
    /// The document id.
    pub id: String,
    /// The document's version after the write.
    pub version: u64,
    /// Its write-ahead log sequence number (`_seq_no`).
    pub seq: u64,
    /// What happened.
    pub result: WriteResult,
}

/// A write refused because the document is not as the write required: its id exists
/// (`create`), or it is not the one the client last read (`if_seq_no`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionConflict {
    /// The concrete index.
    pub index: String,
    /// The id.
    pub id: String,
    /// The existing document's version (0 when there is none).
    pub current_version: u64,
    /// What the write required, when it was `if_seq_no`; the document's current sequence
    /// number, if it exists.
    pub required: Option<(WriteCondition, Option<u64>)>,
}

impl VersionConflict {
    /// The reason Elasticsearch gives for it.
    pub fn reason(&self) -> String {
        match &self.required {
            None => format!(
                "[{}]: version conflict, document already exists (current version [{}])",
                self.id, self.current_version
            ),
            Some((condition, None)) => format!(
                "[{}]: version conflict, required seqNo [{}], primary term [{}]. but no document was found",
                self.id, condition.if_seq_no, condition.if_primary_term
            ),
            Some((condition, Some(seq))) => format!(
                "[{}]: version conflict, required seqNo [{}], primary term [{}]. current document has seqNo [{seq}] and primary term [{PRIMARY_TERM}]",
                self.id, condition.if_seq_no, condition.if_primary_term
            ),
        }
    }
}

/// The primary term of every document: one copy of each index, never failed over.
pub const PRIMARY_TERM: u64 = 1;

/// Optimistic concurrency control (`if_seq_no` and `if_primary_term`): the write goes ahead
/// only if the document is the one the client last read, written by that sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteCondition {
    /// The `_seq_no` the document must have.
    pub if_seq_no: u64,
    /// The `_primary_term` it must have.
    pub if_primary_term: u64,
}

/// A failure of one write in a batch.
#[derive(Debug)]
pub enum ItemFailure {
    /// `create` of an existing id.
    Conflict(VersionConflict),
    /// Anything else.
    Store(StoreError),
}

/// One partition as a search sees it.
#[derive(Debug, Clone)]
pub struct SearchShard {
    /// Concrete index name (`_index` of hits).
    pub index: String,
    /// The index or data stream it belongs to.
    pub target: String,
    /// Point-in-time view.
    pub searcher: Searcher,
    /// The target's mapping.
    pub mapping: Arc<Mapping>,
    /// Time bucket `[start, end)` in epoch milliseconds, for data stream partitions.
    pub time_bounds: Option<(i64, i64)>,
    /// The store's generated ids, for `_id` of auto-id documents and queries on `_id`.
    pub ids: IdCodec,
    /// The query of the alias the partition was reached through, which every search of it
    /// must also match.
    pub filter: Option<Arc<Value>>,
    /// The partition itself, for waking it when it is search idle (none for the in-memory
    /// shards of a live tail).
    pub(super) partition: Option<Arc<Partition>>,
}

impl SearchShard {
    /// A shard over documents outside any partition (a live tail's, see [`crate::tail`]).
    pub(crate) fn detached(
        index: String,
        target: String,
        searcher: Searcher,
        mapping: Arc<Mapping>,
        ids: IdCodec,
    ) -> SearchShard {
        SearchShard {
            index,
            target,
            searcher,
            mapping,
            time_bounds: None,
            ids,
            filter: None,
            partition: None,
        }
    }

    /// The `_id` of the document at `address`, given its stored fields: the client's id, or
    /// the id generated from its sequence number.
    pub fn document_id(
        &self,
        address: DocAddress,
        stored: &TantivyDocument,
        fields: &Fields,
    ) -> String {
        use tantivy::schema::Value as _;
        if let Some(id) = stored.get_first(fields.id).and_then(|value| value.as_str()) {
            return id.to_owned();
        }
        self.searcher
            .segment_reader(address.segment_ord)
            .fast_fields()
            .column_opt::<u64>(SEQ_FIELD)
            .ok()
            .flatten()
            .and_then(|column| column.first(address.doc_id))
            .map(|seq| self.ids.encode(seq))
            .unwrap_or_default()
    }
}

/// A document read by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// Concrete index.
    pub index: String,
    /// Version.
    pub version: u64,
    /// The sequence number of the write that stored it (`_seq_no`).
    pub seq: u64,
    /// `_source` bytes.
    pub source: Vec<u8>,
}

/// A row of `_cat/indices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStats {
    /// Concrete index name.
    pub index: String,
    /// Its uuid.
    pub uuid: String,
    /// The index or data stream it belongs to.
    pub target: String,
    /// Index or data stream partition.
    pub kind: TargetKind,
    /// Live documents.
    pub docs_count: u64,
    /// Deleted documents not yet merged away.
    pub docs_deleted: u64,
    /// Bytes on disk.
    pub store_bytes: u64,
    /// Creation time.
    pub creation_date_ms: i64,
    /// Writes (documents and deletes) applied since the index was opened.
    pub index_total: u64,
    /// Searches that reached the index since it was opened.
    pub query_total: u64,
}

/// A data stream as `GET /_data_stream` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataStreamInfo {
    /// Name.
    pub name: String,
    /// Backing indexes, oldest first, with their uuids.
    pub indices: Vec<(String, String)>,
    /// Generation (number of backing indexes created so far).
    pub generation: u32,
    /// The template it was created from.
    pub template: Option<String>,
    /// Effective retention and where it comes from.
    pub retention: Option<(String, &'static str)>,
    /// The lifecycle policy its template names, if any.
    pub ilm_policy: Option<String>,
    /// Whether rejected documents go to its failure store.
    pub failure_store_enabled: bool,
    /// The failure store's partitions, oldest first, with their uuids.
    pub failure_indices: Vec<(String, String)>,
}

/// A concrete index and its lifecycle, as `GET /{index}/_ilm/explain` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexLifecycle {
    /// The concrete index.
    pub index: String,
    /// When it was created, epoch milliseconds.
    pub creation_date_ms: i64,
    /// The policy it follows, if any.
    pub managed: Option<ManagedLifecycle>,
}

/// How a managed index follows its policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedLifecycle {
    /// The policy its settings name.
    pub policy_name: String,
    /// The policy, unless it does not exist.
    pub policy: Option<LifecyclePolicy>,
    /// What its phases' `min_age` count from: its rollover, or its creation.
    pub lifecycle_date_ms: i64,
    /// Whether the hot phase still waits for the rollover conditions.
    pub waiting_for_rollover: bool,
}

/// What a rollover did, or (not `rolled_over`) would do when its conditions are met.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloverOutcome {
    /// The write index before.
    pub old_index: String,
    /// The write index after (or the one a rollover would create).
    pub new_index: String,
    /// Whether the new index was created and took the alias's writes.
    pub rolled_over: bool,
    /// Each condition by its Elasticsearch name, with whether it was met.
    pub conditions: Map<String, Value>,
}

/// What one alias action did: the targets it resolved to, and whether it failed.
pub type AliasResult = (Vec<String>, Result<(), StoreError>);

/// What follows a lifecycle policy, as `GET /_ilm/policy` shows in `in_use_by`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyUsage {
    /// Plain indexes whose settings name the policy, and backing indexes of the data streams
    /// below.
    pub indices: Vec<String>,
    /// Data streams created from a template that names the policy.
    pub data_streams: Vec<String>,
    /// Templates whose settings name the policy.
    pub composable_templates: Vec<String>,
}

/// An index or data stream an expression names, with its concrete indexes.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    /// Index or data stream name.
    pub name: String,
    /// Which of the two.
    pub kind: TargetKind,
    /// Its mapping.
    pub mapping: Arc<Mapping>,
    /// Concrete (backing) index names.
    pub indices: Vec<String>,
}

/// Formats a duration in the largest whole Elasticsearch unit (`7d`, `36h`, `90s`).
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    for (unit, size) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if millis >= size && millis.is_multiple_of(size) {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}
