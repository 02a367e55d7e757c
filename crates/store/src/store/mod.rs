//! The store: the catalog of indexes and data streams, the write path through the
//! write-ahead log, refresh, retention, and what searches read.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use logfleet_model::json::JsonObject;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tantivy::schema::Schema;
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{DocAddress, IndexSettings, Searcher, TantivyDocument};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::{debug, error, info, warn};

use crate::alias::{ALIASES_FILE, AliasAction, AliasTable};
use crate::component_template::{
    COMPONENT_TEMPLATES_FILE, ComponentTemplate, check_components, compose,
};
use crate::disk::{DiskGuard, DiskSpace, FloodStage, WriteBlock, is_disk_full};
use crate::document::{LeafValue, convert_document};
use crate::error::{StoreError, StoreResult};
use crate::failure_store::{
    self, DATA_SELECTOR, FAILURES_SELECTOR, failure_store_name, failure_store_parent, has_selector,
};
use crate::faults::Faults;
use crate::ids::IdCodec;
use crate::legacy_template::{LEGACY_TEMPLATES_FILE, LegacyTemplate, merge_matching};
use crate::lifecycle::LifecyclePolicy;
use crate::lock::DataDirLock;
use crate::mapping::{DynamicStyle, Mapping};
use crate::objects::Objects;
use crate::partition::{DocumentKey, Partition, PartitionSettings, Pending};
use crate::persist::{read_json, write_json_atomically};
use crate::rollover::{IndexMeasures, RolloverConditions, next_index_name};
use crate::schema::{Fields, SEQ_FIELD, build_schema};
use crate::skeleton;
use crate::tail::{TAIL_CAPACITY, Tail, TailBatch, TailEntry};
use crate::target::{
    IngestPipelineSettings, Target, TargetKind, TargetMeta, new_uuid, now_millis, remove_dir,
};
use crate::template::{
    IndexTemplate, parse_aliases, string_setting, total_fields_limit_setting, wildcard_match,
};
use crate::time_value::parse_time_value;
use crate::wal::{FLAG_AUTO_ID, Wal, WalOp, WalRecord, encode_record};

/// Writers close after this long without writes, returning their memory.
const IDLE_WRITER_TIMEOUT: Duration = Duration::from_secs(30);
/// A search-idle partition is committed all the same once it holds this many uncommitted
/// writes (about as much log as Elasticsearch's 512 MB translog flush threshold at the size
/// of a typical event)…
const IDLE_COMMIT_WRITES: u64 = 500_000;
/// …or has held uncommitted writes this long.
const IDLE_COMMIT_AGE: Duration = Duration::from_secs(300);

/// How many write batches may queue for the writer thread before callers wait.
const WRITE_QUEUE_DEPTH: usize = 256;

/// The periodic refresh asks the writer thread to recover broken partitions at most this
/// often: each attempt reads the log back, and on a disk that is still full it would only
/// break them again.
const RECOVERY_RETRY_INTERVAL: Duration = Duration::from_secs(5);

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
    target: Arc<Target>,
    /// For deletes addressed to a data stream's backing index: that partition only.
    only_partition: Option<String>,
    op: WalOp,
    id: String,
    auto_id: bool,
    source: Bytes,
    document: Option<TantivyDocument>,
    timestamp_millis: Option<i64>,
    /// The partition the document goes to, found (or created) before it is logged.
    partition: Option<Arc<Partition>>,
}

impl PreparedWrite {
    fn delete_target(target: Arc<Target>) -> PreparedWrite {
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

/// A write refused because the document's id exists (`create`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionConflict {
    /// The concrete index.
    pub index: String,
    /// The id.
    pub id: String,
    /// The existing document's version.
    pub current_version: u64,
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
    partition: Option<Arc<Partition>>,
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

/// Resolves date math index names; see [`Store::set_date_math_resolver`].
struct DateMathResolver(Box<ResolveName>);

type ResolveName = dyn Fn(&str) -> Result<String, String> + Send + Sync;

impl std::fmt::Debug for DateMathResolver {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("DateMathResolver")
    }
}

/// What an index lifecycle policy asks for now.
enum LifecycleStep {
    Rollover { alias: String, conditions: Value },
    Delete { index: String, policy: String },
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

/// Where lifecycle policies are kept, in the data directory.
const LIFECYCLE_POLICIES_FILE: &str = "ilm_policies.json";

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

/// The on-disk format this build writes and reads. Format 1 (no `format` in `state.json`)
/// indexed generated ids, used FST term dictionaries and stored whole sources; format 2
/// derives generated ids from `_seq`, uses block-compressed sorted-string term dictionaries
/// and stores source skeletons (see [`crate::skeleton`]).
const FORMAT: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct StoreState {
    last_seq: u64,
    #[serde(default = "first_format")]
    format: u32,
    /// Generates and recognises this store's document ids; drawn when the store is created.
    #[serde(default)]
    id_salt: Option<IdCodec>,
}

fn first_format() -> u32 {
    1
}

/// Where the writer thread sends each batch's outcomes.
type OutcomeSender = oneshot::Sender<Vec<Result<WriteOutcome, ItemFailure>>>;

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

enum WriterMessage {
    Write {
        writes: Vec<PreparedWrite>,
        reply: oneshot::Sender<Vec<Result<WriteOutcome, ItemFailure>>>,
    },
    Checkpoint {
        seq: u64,
    },
    /// Recover broken partitions (see [`crate::partition`]), then answer.
    Recover {
        reply: Option<oneshot::Sender<()>>,
    },
    /// Read the record with this sequence number back from the log.
    ReadLogged {
        seq: u64,
        reply: oneshot::Sender<StoreResult<Option<WalRecord>>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

#[derive(Debug)]
struct Inner {
    config: StoreConfig,
    partition_settings: PartitionSettings,
    targets: RwLock<BTreeMap<String, Arc<Target>>>,
    templates: RwLock<BTreeMap<String, IndexTemplate>>,
    legacy_templates: RwLock<BTreeMap<String, LegacyTemplate>>,
    component_templates: RwLock<BTreeMap<String, ComponentTemplate>>,
    lifecycle_policies: RwLock<BTreeMap<String, LifecyclePolicy>>,
    aliases: RwLock<AliasTable>,
    date_math: std::sync::OnceLock<DateMathResolver>,
    /// Serialises target creation and deletion, and mapping updates.
    catalog_lock: Mutex<()>,
    /// The last sequence number assigned by the writer thread.
    last_seq: AtomicU64,
    /// Every record up to this sequence number has been applied to a partition writer.
    applied_seq: AtomicU64,
    /// Every record up to this sequence number is visible to searches.
    searchable_seq: watch::Sender<u64>,
    refresh_lock: Mutex<()>,
    /// This store's generated ids.
    ids: IdCodec,
    /// The flood stage: whether writes are refused for lack of disk space.
    disk: DiskGuard,
    /// Why the write-ahead log refuses writes until a restart, once it does.
    log_failure: OnceLock<String>,
    /// When the periodic refresh last asked for a recovery.
    last_recovery_request: Mutex<Option<Instant>>,
    /// Logfleet's own objects (saved searches…).
    objects: Objects,
    /// Where acknowledged documents go for live tails (see [`crate::tail`]).
    tail: broadcast::Sender<TailBatch>,
    /// Documents of the group of writes being applied, kept for the tails.
    tail_pending: Mutex<Vec<TailEntry>>,
    /// Whether a tail listened when the group being applied began (asking the channel
    /// takes a lock: once a group, not once a document).
    tailing: AtomicBool,
    /// Held while the store is open, released by shutdown: one process per data
    /// directory.
    data_dir_lock: Mutex<Option<DataDirLock>>,
}

/// The embedded store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
    sender: mpsc::Sender<WriterMessageBox>,
    writer_thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// `WriterMessage` holds a `oneshot::Sender`, which has no `Debug`; this wrapper keeps
/// `Store: Debug` honest without hand-writing a `Debug` for the enum's payloads.
struct WriterMessageBox(WriterMessage);

impl std::fmt::Debug for WriterMessageBox {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match &self.0 {
            WriterMessage::Write { .. } => "Write",
            WriterMessage::Checkpoint { .. } => "Checkpoint",
            WriterMessage::Recover { .. } => "Recover",
            WriterMessage::ReadLogged { .. } => "ReadLogged",
            WriterMessage::Shutdown { .. } => "Shutdown",
        };
        formatter.write_str(name)
    }
}

impl Store {
    /// Opens (or creates) the store in `config.data_dir`, replays the write-ahead log, and
    /// starts the writer thread. Must be called inside a tokio runtime only for the async
    /// methods; opening itself is synchronous.
    pub fn open(config: StoreConfig) -> StoreResult<Store> {
        let started = Instant::now();
        let data_dir = config.data_dir.clone();
        fs::create_dir_all(&data_dir)
            .map_err(|error| StoreError::io(format!("creating {}", data_dir.display()), error))?;
        // Before anything is read: another process's writes could change it under us.
        let data_dir_lock = DataDirLock::acquire(&data_dir)?;
        for dir in [data_dir.join("targets"), data_dir.join("wal")] {
            fs::create_dir_all(&dir)
                .map_err(|error| StoreError::io(format!("creating {}", dir.display()), error))?;
        }
        let (schema, fields) = build_schema();
        let partition_settings = partition_settings(&config, schema, fields);
        let targets = open_targets(&data_dir, &partition_settings)?;
        let templates: BTreeMap<String, IndexTemplate> = {
            let path = data_dir.join("templates.json");
            if path.exists() {
                read_json(&path)?
            } else {
                BTreeMap::new()
            }
        };
        let legacy_templates: BTreeMap<String, LegacyTemplate> = {
            let path = data_dir.join(LEGACY_TEMPLATES_FILE);
            if path.exists() {
                read_json(&path)?
            } else {
                BTreeMap::new()
            }
        };
        let component_templates: BTreeMap<String, ComponentTemplate> = {
            let path = data_dir.join(COMPONENT_TEMPLATES_FILE);
            if path.exists() {
                read_json(&path)?
            } else {
                BTreeMap::new()
            }
        };
        let lifecycle_policies: BTreeMap<String, LifecyclePolicy> = {
            let path = data_dir.join(LIFECYCLE_POLICIES_FILE);
            if path.exists() {
                read_json(&path)?
            } else {
                BTreeMap::new()
            }
        };
        let mut aliases: AliasTable = {
            let path = data_dir.join(ALIASES_FILE);
            if path.exists() {
                read_json(&path)?
            } else {
                AliasTable::default()
            }
        };
        // A crash between deleting a target and updating the table leaves members that no
        // longer exist; they are dropped here.
        let vanished: Vec<String> = aliases
            .iter()
            .flat_map(|(_, members)| members.keys())
            .filter(|member| !targets.contains_key(*member))
            .cloned()
            .collect();
        if !vanished.is_empty() {
            for member in &vanished {
                aliases.remove_target(member);
            }
            write_json_atomically(
                &data_dir.join(ALIASES_FILE),
                &aliases,
                config.faults.as_deref(),
            )?;
        }
        let state: Option<StoreState> = {
            let path = data_dir.join("state.json");
            if path.exists() {
                Some(read_json(&path)?)
            } else {
                None
            }
        };
        let ids = match &state {
            Some(state) if state.format != FORMAT && !targets.is_empty() => {
                return Err(StoreError::IncompatibleFormat {
                    data_dir: data_dir.display().to_string(),
                    found: state.format,
                    expected: FORMAT,
                });
            }
            Some(StoreState {
                id_salt: Some(ids), ..
            }) => *ids,
            _ => IdCodec::random(),
        };
        let new_store = state.is_none();
        let state_last_seq = state.map_or(0, |state| state.last_seq);
        let (mut wal, records) = Wal::open(
            &data_dir.join("wal"),
            config.wal_segment_bytes,
            config.faults.clone(),
        )
        .map_err(|error| StoreError::io("opening the write-ahead log", error))?;

        let highest_known = targets
            .values()
            .flat_map(|target| {
                let created = target.created_seq();
                target
                    .partitions()
                    .iter()
                    .map(|partition| partition.committed_seq())
                    .chain(std::iter::once(created))
                    .collect::<Vec<_>>()
            })
            .chain(records.iter().map(|record| record.seq))
            .chain(std::iter::once(state_last_seq))
            .max()
            .unwrap_or(0);

        let (searchable_seq, _) = watch::channel(highest_known);
        let disk = DiskGuard::new(&data_dir, config.flood_stage);
        disk.check();
        let objects = Objects::new(&data_dir, config.faults.clone());
        let inner = Arc::new(Inner {
            config,
            partition_settings,
            targets: RwLock::new(targets),
            templates: RwLock::new(templates),
            legacy_templates: RwLock::new(legacy_templates),
            component_templates: RwLock::new(component_templates),
            lifecycle_policies: RwLock::new(lifecycle_policies),
            aliases: RwLock::new(aliases),
            date_math: std::sync::OnceLock::new(),
            catalog_lock: Mutex::new(()),
            last_seq: AtomicU64::new(highest_known),
            applied_seq: AtomicU64::new(highest_known),
            searchable_seq,
            refresh_lock: Mutex::new(()),
            ids,
            disk,
            log_failure: OnceLock::new(),
            last_recovery_request: Mutex::new(None),
            objects,
            tail: broadcast::channel(TAIL_CAPACITY).0,
            tail_pending: Mutex::new(Vec::new()),
            tailing: AtomicBool::new(false),
            data_dir_lock: Mutex::new(Some(data_dir_lock)),
        });

        if new_store {
            // The id salt must be on disk before the first generated id is handed out.
            inner.persist_state(highest_known)?;
        }
        let replayed = inner.replay(records)?;
        // On a full disk the store opens all the same, searchable as last committed and
        // refusing writes, with its replayed writes kept in the log until the commits that
        // failed here succeed.
        let refreshed = inner.refresh_all(RefreshKind::Forced);
        if let Some(error) = &refreshed.failure {
            warn!(%error, "committing the replayed writes failed; they stay in the write-ahead log");
        }
        inner.checkpoint(&mut wal, refreshed.covered, highest_known);
        info!(
            data_dir = %data_dir.display(),
            targets = inner.read_targets().len(),
            replayed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "store opened"
        );

        let (sender, receiver) = mpsc::channel(WRITE_QUEUE_DEPTH);
        let thread_inner = inner.clone();
        let writer_thread = std::thread::Builder::new()
            .name("logfleet-writer".into())
            .spawn(move || thread_inner.run_writer(wal, receiver))
            .map_err(|error| StoreError::io("starting the writer thread", error))?;
        Ok(Store {
            inner,
            sender,
            writer_thread: Arc::new(Mutex::new(Some(writer_thread))),
        })
    }

    /// The tantivy field handles shared by every partition.
    pub fn fields(&self) -> &Fields {
        &self.inner.partition_settings.fields
    }

    /// The configuration the store runs with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// Validates a write against its target's mapping (creating the target and extending
    /// the mapping as Elasticsearch's auto-create and dynamic mapping would). Nothing is
    /// durable until [`Store::execute`].
    pub fn prepare(&self, request: WriteRequest<'_>) -> StoreResult<PreparedWrite> {
        self.inner.prepare(request, false)
    }

    /// Logs the writes durably, applies them, and reports each one's outcome.
    pub async fn execute(
        &self,
        writes: Vec<PreparedWrite>,
    ) -> StoreResult<Vec<Result<WriteOutcome, ItemFailure>>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, response) = oneshot::channel();
        self.sender
            .send(WriterMessageBox(WriterMessage::Write { writes, reply }))
            .await
            .map_err(|_| StoreError::Closed)?;
        response.await.map_err(|_| StoreError::Closed)
    }

    /// Deletes an index or data stream (durably, ordered with writes).
    pub async fn delete_target(&self, name: &str) -> StoreResult<()> {
        let target = self
            .inner
            .get_target(name)
            .ok_or_else(|| StoreError::IndexNotFound(name.to_owned()))?;
        // A data stream's failure store goes with it.
        let failures = (target.kind() == TargetKind::DataStream)
            .then(|| self.inner.get_target(&failure_store_name(name)))
            .flatten();
        let mut writes = vec![PreparedWrite::delete_target(target)];
        writes.extend(failures.map(PreparedWrite::delete_target));
        for outcome in self.execute(writes).await? {
            match outcome {
                Ok(_) => {}
                Err(ItemFailure::Store(error)) => return Err(error),
                Err(ItemFailure::Conflict(_)) => return Err(StoreError::Closed),
            }
        }
        Ok(())
    }

    /// Makes everything written so far searchable, for all targets. Partitions whose
    /// writer failed are recovered from the log first, if the disk has room again.
    pub async fn refresh(&self) -> StoreResult<()> {
        if self.inner.has_broken_partitions() && !self.inner.disk.check() {
            let (reply, recovered) = oneshot::channel();
            let message = WriterMessage::Recover { reply: Some(reply) };
            if self.sender.send(WriterMessageBox(message)).await.is_ok() {
                let _ = recovered.await;
            }
        }
        self.run_refresh(RefreshKind::Forced).await
    }

    /// The periodic refresh: like [`Store::refresh`], but passing over search-idle
    /// partitions (see [`StoreConfig::search_idle_after`]).
    async fn scheduled_refresh(&self) -> StoreResult<()> {
        self.run_refresh(RefreshKind::Scheduled).await
    }

    async fn run_refresh(&self, kind: RefreshKind) -> StoreResult<()> {
        let inner = self.inner.clone();
        let refreshed = tokio::task::spawn_blocking(move || inner.refresh_all(kind))
            .await
            .map_err(|_| StoreError::Closed)?;
        // Everything up to `covered` is now in tantivy commits: the log behind it can go. A
        // full queue only delays trimming to the next refresh.
        let _ = self
            .sender
            .try_send(WriterMessageBox(WriterMessage::Checkpoint {
                seq: refreshed.covered,
            }));
        refreshed.failure.map_or(Ok(()), Err)
    }

    /// Asks the writer thread to recover broken partitions, if there are any, the disk has
    /// room, and the last attempt is long enough ago.
    fn request_recovery(&self) {
        if !self.inner.has_broken_partitions() || self.inner.disk.check() {
            return;
        }
        let mut last = self
            .inner
            .last_recovery_request
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.is_some_and(|last| last.elapsed() < RECOVERY_RETRY_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        let message = WriterMessage::Recover { reply: None };
        let _ = self.sender.try_send(WriterMessageBox(message));
    }

    /// Why writes are refused, if they are: the flood stage, or a write-ahead log that
    /// failed. Measures the disk anew.
    pub fn write_block(&self) -> Option<WriteBlock> {
        if let Some(reason) = self.inner.log_failure.get() {
            return Some(WriteBlock {
                reason: reason.clone(),
            });
        }
        self.inner.disk.check();
        self.inner.disk.block()
    }

    /// Subscribes to documents as they are acknowledged (see [`crate::tail`]).
    pub fn tail(&self) -> Tail {
        Tail::new(
            self.inner.tail.subscribe(),
            self.inner.partition_settings.clone(),
            self.inner.ids,
        )
    }

    /// Every object of `kind` (`saved_searches`, …), by id.
    pub fn objects(&self, kind: &'static str) -> StoreResult<BTreeMap<String, Value>> {
        self.inner.objects.list(kind)
    }

    /// One object of `kind`.
    pub fn object(&self, kind: &'static str, id: &str) -> StoreResult<Option<Value>> {
        self.inner.objects.get(kind, id)
    }

    /// Creates or replaces an object, durably; returns whether it is new.
    pub fn put_object(&self, kind: &'static str, id: &str, object: Value) -> StoreResult<bool> {
        self.inner
            .objects
            .put(kind, id, object)
            .map_err(|error| self.inner.disk_full_as_block(error, kind))
    }

    /// Deletes an object, durably; returns whether it existed.
    pub fn delete_object(&self, kind: &'static str, id: &str) -> StoreResult<bool> {
        self.inner
            .objects
            .delete(kind, id)
            .map_err(|error| self.inner.disk_full_as_block(error, kind))
    }

    /// Space on the file system holding the data directory.
    pub fn disk_space(&self) -> std::io::Result<DiskSpace> {
        DiskSpace::of(&self.inner.config.data_dir)
    }

    /// Why each partition whose writer failed cannot index, while it waits for recovery.
    pub fn broken_partitions(&self) -> Vec<StoreError> {
        self.inner
            .all_partitions()
            .iter()
            .filter_map(|partition| partition.broken())
            .collect()
    }

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

    /// Waits until the write with sequence number `seq` is searchable.
    pub async fn wait_until_searchable(&self, seq: u64) {
        let mut receiver = self.inner.searchable_seq.subscribe();
        let _ = receiver.wait_for(|searchable| *searchable >= seq).await;
    }

    /// Runs refresh and retention until the store shuts down.
    pub fn spawn_background_tasks(&self) {
        if let Some(interval) = self.inner.config.refresh_interval {
            let store = self.clone();
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticker.tick().await;
                    if store.sender.is_closed() {
                        break;
                    }
                    store.request_recovery();
                    if let Err(error) = store.scheduled_refresh().await {
                        error!(%error, "periodic refresh failed");
                    }
                    let inner = store.inner.clone();
                    let _ = tokio::task::spawn_blocking(move || inner.close_idle_writers()).await;
                }
            });
        }
        let store = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(store.inner.config.retention_check_interval);
            loop {
                ticker.tick().await;
                if store.sender.is_closed() {
                    break;
                }
                let inner = store.inner.clone();
                match tokio::task::spawn_blocking(move || inner.enforce_retention(now_millis()))
                    .await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => error!(%error, "retention failed"),
                    Err(_) => break,
                }
                if let Err(error) = store.run_index_lifecycles(now_millis()).await {
                    error!(%error, "index lifecycle failed");
                }
            }
        });
    }

    /// Commits everything, trims the log and stops the writer thread. Writes that cannot
    /// be committed (a full disk) stay in the log for the next start.
    pub async fn shutdown(&self) -> StoreResult<()> {
        if let Err(error) = self.refresh().await {
            warn!(%error, "the last commit before stopping failed; the write-ahead log keeps what it misses");
        }
        let (reply, done) = oneshot::channel();
        if self
            .sender
            .send(WriterMessageBox(WriterMessage::Shutdown { reply }))
            .await
            .is_ok()
        {
            let _ = done.await;
        }
        let handle = self
            .writer_thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        // A merge cut short would leave its half-written segment on disk until the next
        // commit; let running merges finish instead.
        let inner = self.inner.clone();
        let closed = tokio::task::spawn_blocking(move || inner.close_writers())
            .await
            .map_err(|_| StoreError::Closed)?;
        // Nothing writes to the directory any more (the background tasks stop at their
        // next tick, seeing the writer gone): another store may open it now.
        self.inner
            .data_dir_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        closed
    }

    /// Drops expired data stream partitions now; returns their names.
    pub fn enforce_retention(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        self.inner.enforce_retention(now_ms)
    }

    /// Creates a plain index, or fails if the name is taken. `provided_name` is the name as
    /// the request gave it, when that was date math.
    pub fn create_index(
        &self,
        name: &str,
        body: &Value,
        provided_name: Option<&str>,
    ) -> StoreResult<()> {
        self.inner.create_index(name, body, provided_name)
    }

    /// Rolls the alias `alias` over to a new write index (`POST /{alias}/_rollover`) if the
    /// request's conditions are met: `new_index`, or the next name of the series, created
    /// from the templates and the request's `settings`, `mappings` and `aliases`.
    pub fn rollover(
        &self,
        alias: &str,
        new_index: Option<&str>,
        body: &Value,
        dry_run: bool,
    ) -> StoreResult<RolloverOutcome> {
        let conditions = match body.get("conditions") {
            Some(conditions) => RolloverConditions::parse(conditions)?,
            None => RolloverConditions::default(),
        };
        if let Value::Object(object) = body
            && let Some(key) = object.keys().find(|key| {
                !matches!(
                    key.as_str(),
                    "conditions" | "settings" | "mappings" | "aliases"
                )
            })
        {
            return Err(StoreError::IllegalArgument(format!(
                "[rollover] unknown field [{key}]"
            )));
        }
        let inner = &self.inner;
        let _guard = inner.lock_catalog();
        if let Some(target) = inner.get_target(alias) {
            return Err(match target.kind() {
                TargetKind::DataStream => data_stream_rollover(alias),
                TargetKind::Index => StoreError::IllegalArgument(
                    "rollover target is a [concrete index] but one of [alias,data_stream] was expected".into(),
                ),
            });
        }
        let (write_name, properties) = {
            let aliases = inner.read_aliases();
            let Some(members) = aliases.members(alias) else {
                return Err(StoreError::IllegalArgument(format!(
                    "rollover target [{alias}] does not exist"
                )));
            };
            let write_name = match aliases.write_member(alias) {
                Ok(Some(name)) => name.to_owned(),
                _ => {
                    return Err(StoreError::IllegalArgument(format!(
                        "rollover target [{alias}] does not point to a write index"
                    )));
                }
            };
            let properties = members.get(&write_name).cloned().unwrap_or_default();
            (write_name, properties)
        };
        let old = inner
            .get_target(&write_name)
            .ok_or_else(|| StoreError::IndexNotFound(write_name.clone()))?;
        if old.kind() == TargetKind::DataStream {
            return Err(data_stream_rollover(alias));
        }
        let meta = old.meta();
        let (new_name, new_provided) = match new_index {
            Some(name) => (name.to_owned(), None),
            None => {
                let next = next_index_name(meta.provided_name.as_deref().unwrap_or(&meta.name))?;
                let resolved = inner.resolve_date_math(&next)?;
                let provided = (resolved != next).then_some(next);
                (resolved, provided)
            }
        };
        let now = now_millis();
        let partitions = old.partitions();
        let measures = IndexMeasures {
            age_ms: u64::try_from(now - meta.creation_date_ms).unwrap_or(0),
            docs: partitions
                .iter()
                .map(|partition| partition.doc_count())
                .sum(),
            size_bytes: partitions
                .iter()
                .map(|partition| partition.size_on_disk())
                .sum(),
        };
        let (condition_results, met) = conditions.evaluate(measures);
        let outcome = RolloverOutcome {
            old_index: write_name.clone(),
            new_index: new_name.clone(),
            rolled_over: false,
            conditions: condition_results,
        };
        if dry_run || !met {
            return Ok(outcome);
        }
        if inner.get_target(&new_name).is_some() {
            return Err(StoreError::AlreadyExists(new_name));
        }
        let template = inner.template_for(&new_name);
        if template
            .as_ref()
            .is_some_and(|template| template.data_stream)
        {
            return Err(StoreError::IllegalArgument(format!(
                "cannot roll over to [{new_name}]: it matches a template that creates data streams"
            )));
        }
        let mut explicit = body.clone();
        if let Value::Object(object) = &mut explicit {
            object.remove("conditions");
        }
        inner.create_target_locked(
            &new_name,
            TargetKind::Index,
            template.as_ref(),
            Some(&explicit),
            new_provided.as_deref(),
        )?;
        inner.update_aliases_locked(|table| {
            if properties.is_write_index == Some(true) {
                let mut retired = properties.clone();
                retired.is_write_index = Some(false);
                table.add(alias, &write_name, retired);
            } else {
                table.remove(alias, &write_name);
            }
            table.add(alias, &new_name, properties.clone());
            Ok(true)
        })?;
        old.set_rolled_over(now)?;
        info!(alias, old_index = %write_name, new_index = %new_name, "rolled over");
        Ok(RolloverOutcome {
            rolled_over: true,
            ..outcome
        })
    }

    /// Creates an empty data stream (`PUT /_data_stream/{name}`).
    pub fn create_data_stream(&self, name: &str) -> StoreResult<()> {
        let _guard = self.inner.lock_catalog();
        if self.inner.get_target(name).is_some() {
            return Err(StoreError::AlreadyExists(name.to_owned()));
        }
        match self.inner.template_for(name) {
            Some(template) if template.data_stream => {
                self.inner.create_target_locked(
                    name,
                    TargetKind::DataStream,
                    Some(&template),
                    None,
                    None,
                )?;
                Ok(())
            }
            _ if is_builtin_data_stream(name) => {
                self.inner
                    .create_target_locked(name, TargetKind::DataStream, None, None, None)?;
                Ok(())
            }
            _ => Err(StoreError::IllegalArgument(format!(
                "no matching index template found for data stream [{name}]"
            ))),
        }
    }

    /// The failure store a document rejected on its way to `name` goes to, if `name` is (or
    /// would be created as) a data stream whose failure store is on.
    pub fn failure_store_for(&self, name: &str) -> Option<String> {
        if has_selector(name) {
            return None;
        }
        let inner = &self.inner;
        let template = inner.template_for(name);
        let is_stream = match inner.get_target(name) {
            Some(target) => target.kind() == TargetKind::DataStream,
            None => match &template {
                Some(template) => template.data_stream,
                None => is_builtin_data_stream(name),
            },
        };
        let enabled = is_stream
            && failure_store::enabled_for(
                name,
                template.as_ref().and_then(IndexTemplate::failure_store),
                &inner.config.failure_store,
            );
        enabled.then(|| failure_store_name(name))
    }

    /// Adds fields to a target's mapping (`PUT /{index}/_mapping`).
    pub fn put_mapping(&self, name: &str, body: &Value) -> StoreResult<()> {
        let target = self
            .inner
            .get_target(name)
            .ok_or_else(|| StoreError::IndexNotFound(name.to_owned()))?;
        let _guard = self.inner.lock_catalog();
        let mut mapping = (*target.mapping()).clone();
        mapping.merge_explicit(body)?;
        target.set_mapping(mapping)
    }

    /// The ingest pipelines a write to `name` runs: those of the index or data stream (or the
    /// write index of the alias) it names, or, for a target that does not exist yet, those of
    /// the template it would be created from.
    pub fn ingest_pipelines(&self, name: &str) -> IngestPipelineSettings {
        let inner = &self.inner;
        let builtin = || IngestPipelineSettings {
            default_pipeline: inner.config.default_logs_pipeline.clone(),
            final_pipeline: None,
        };
        let existing = inner
            .get_target(name)
            .or_else(|| inner.alias_write_target(name).ok().flatten());
        if let Some(target) = existing {
            let meta = target.meta();
            // A data stream of the built-in `logs` template runs the built-in default.
            if meta.kind == TargetKind::DataStream
                && meta.template.is_none()
                && meta.ingest.is_empty()
            {
                return builtin();
            }
            return meta.ingest;
        }
        match inner.template_for(name) {
            Some(template) => template.ingest_pipelines(),
            None if is_builtin_data_stream(name) => builtin(),
            None => IngestPipelineSettings::default(),
        }
    }

    /// Sets `index.default_pipeline` and `index.final_pipeline` of the indexes and data
    /// streams `names` (`PUT /{index}/_settings`); a `None` leaves a setting as it is, an
    /// empty name clears it, and `_none` says "none" where a default would apply.
    pub fn set_ingest_pipelines(
        &self,
        names: &[String],
        default_pipeline: Option<&str>,
        final_pipeline: Option<&str>,
    ) -> StoreResult<()> {
        let targets = names
            .iter()
            .map(|name| {
                self.inner
                    .get_target(name)
                    .ok_or_else(|| StoreError::IndexNotFound(name.clone()))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let chosen = |given: Option<&str>, current: Option<String>| match given {
            None => current,
            Some("") => None,
            Some(name) => Some(name.to_owned()),
        };
        for target in targets {
            let current = target.meta().ingest;
            target.set_ingest(IngestPipelineSettings {
                default_pipeline: chosen(default_pipeline, current.default_pipeline),
                final_pipeline: chosen(final_pipeline, current.final_pipeline),
            })?;
        }
        Ok(())
    }

    /// The names of the indexes and data streams whose settings name pipeline `id`, for
    /// refusing to delete a pipeline in use.
    pub fn targets_using_pipeline(&self, id: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .read_targets()
            .values()
            .filter(|target| {
                let ingest = target.meta().ingest;
                ingest.default_pipeline.as_deref() == Some(id)
                    || ingest.final_pipeline.as_deref() == Some(id)
            })
            .map(|target| target.name())
            .collect();
        names.sort();
        names
    }

    /// Sets a data stream's retention (`PUT /_data_stream/{name}/_lifecycle`); `None` keeps
    /// data forever unless a configured rule applies.
    pub fn set_retention(&self, name: &str, retention: Option<String>) -> StoreResult<()> {
        if let Some(text) = &retention {
            parse_time_value(text).map_err(StoreError::IllegalArgument)?;
        }
        let target = self
            .inner
            .get_target(name)
            .ok_or_else(|| StoreError::IndexNotFound(name.to_owned()))?;
        if target.kind() != TargetKind::DataStream {
            return Err(StoreError::IndexNotFound(name.to_owned()));
        }
        target.set_retention(retention)
    }

    /// Stores an index template, checking that its components exist and that it composes
    /// with them into something usable.
    pub fn put_template(&self, name: &str, body: &Value) -> StoreResult<()> {
        let template = IndexTemplate::parse(name, body)?;
        {
            let components = self.inner.read_components();
            check_components(&template, &components)?;
            let composed = compose(&template, &components);
            composed.mapping(DynamicStyle::Index)?;
            composed.aliases("index")?;
        }
        let mut templates = self
            .inner
            .templates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        templates.insert(name.to_owned(), template);
        write_json_atomically(
            &self.inner.config.data_dir.join("templates.json"),
            &*templates,
            self.inner.config.faults.as_deref(),
        )
    }

    /// Templates whose names match `pattern` (`*` for all).
    pub fn templates(&self, pattern: &str) -> Vec<IndexTemplate> {
        let templates = self
            .inner
            .templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        templates
            .values()
            .filter(|template| wildcard_match(pattern, &template.name))
            .cloned()
            .collect()
    }

    /// Deletes an index template.
    pub fn delete_template(&self, name: &str) -> StoreResult<bool> {
        let mut templates = self
            .inner
            .templates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let removed = templates.remove(name).is_some();
        if removed {
            write_json_atomically(
                &self.inner.config.data_dir.join("templates.json"),
                &*templates,
                self.inner.config.faults.as_deref(),
            )?;
        }
        Ok(removed)
    }

    /// Stores a component template (`PUT /_component_template/{name}`); with `create`, fails
    /// if one of that name exists.
    pub fn put_component_template(
        &self,
        name: &str,
        body: &Value,
        create: bool,
    ) -> StoreResult<()> {
        let component = ComponentTemplate::parse(name, body)?;
        let mut components = self
            .inner
            .component_templates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if create && components.contains_key(name) {
            return Err(StoreError::IllegalArgument(format!(
                "component template [{name}] already exists"
            )));
        }
        let mut updated = components.clone();
        updated.insert(name.to_owned(), component);
        write_json_atomically(
            &self.inner.config.data_dir.join(COMPONENT_TEMPLATES_FILE),
            &updated,
            self.inner.config.faults.as_deref(),
        )?;
        *components = updated;
        Ok(())
    }

    /// What a new target named `name` would be created from
    /// (`POST /_index_template/_simulate_index/{name}`): the template, composed with its
    /// components or merged from legacy ones, and the other composable templates that match
    /// with a lower priority.
    pub fn simulate_template(&self, name: &str) -> (Option<IndexTemplate>, Vec<IndexTemplate>) {
        let chosen = self.inner.template_for(name);
        let overlapping = self
            .inner
            .templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .filter(|template| template.matches(name))
            .filter(|template| {
                chosen
                    .as_ref()
                    .is_none_or(|chosen| chosen.name != template.name)
            })
            .cloned()
            .collect();
        (chosen, overlapping)
    }

    /// Component templates whose names match any of the comma-separated `patterns`.
    pub fn component_templates(&self, patterns: &str) -> Vec<ComponentTemplate> {
        self.inner
            .read_components()
            .values()
            .filter(|component| {
                patterns
                    .split(',')
                    .any(|pattern| wildcard_match(pattern.trim(), &component.name))
            })
            .cloned()
            .collect()
    }

    /// Deletes a component template; whether there was one. One that index templates are
    /// composed of cannot be deleted, as in Elasticsearch.
    pub fn delete_component_template(&self, name: &str) -> StoreResult<bool> {
        let users: Vec<String> = self
            .inner
            .templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .filter(|template| template.composed_of().iter().any(|used| used == name))
            .map(|template| template.name.clone())
            .collect();
        if !users.is_empty() {
            return Err(StoreError::IllegalArgument(format!(
                "component templates [{name}] cannot be removed as they are still in use by index templates [{}]",
                users.join(", ")
            )));
        }
        let mut components = self
            .inner
            .component_templates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !components.contains_key(name) {
            return Ok(false);
        }
        let mut updated = components.clone();
        updated.remove(name);
        write_json_atomically(
            &self.inner.config.data_dir.join(COMPONENT_TEMPLATES_FILE),
            &updated,
            self.inner.config.faults.as_deref(),
        )?;
        *components = updated;
        Ok(true)
    }

    /// Stores a legacy template (`PUT /_template/{name}`); with `create`, fails if one of
    /// that name exists.
    pub fn put_legacy_template(&self, name: &str, body: &Value, create: bool) -> StoreResult<()> {
        let template = LegacyTemplate::parse(name, body)?;
        let mut templates = self
            .inner
            .legacy_templates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if create && templates.contains_key(name) {
            return Err(StoreError::IllegalArgument(format!(
                "index_template [{name}] already exists"
            )));
        }
        let mut updated = templates.clone();
        updated.insert(name.to_owned(), template);
        write_json_atomically(
            &self.inner.config.data_dir.join(LEGACY_TEMPLATES_FILE),
            &updated,
            self.inner.config.faults.as_deref(),
        )?;
        *templates = updated;
        Ok(())
    }

    /// Legacy templates whose names match any of the comma-separated `patterns`.
    pub fn legacy_templates(&self, patterns: &str) -> Vec<LegacyTemplate> {
        let templates = self
            .inner
            .legacy_templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        templates
            .values()
            .filter(|template| {
                patterns
                    .split(',')
                    .any(|pattern| wildcard_match(pattern.trim(), &template.name))
            })
            .cloned()
            .collect()
    }

    /// Deletes a legacy template; whether there was one.
    pub fn delete_legacy_template(&self, name: &str) -> StoreResult<bool> {
        let mut templates = self
            .inner
            .legacy_templates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !templates.contains_key(name) {
            return Ok(false);
        }
        let mut updated = templates.clone();
        updated.remove(name);
        write_json_atomically(
            &self.inner.config.data_dir.join(LEGACY_TEMPLATES_FILE),
            &updated,
            self.inner.config.faults.as_deref(),
        )?;
        *templates = updated;
        Ok(true)
    }

    /// Stores a lifecycle policy (`PUT /_ilm/policy/{name}`), replacing one of that name and
    /// incrementing its version.
    pub fn put_lifecycle_policy(&self, name: &str, body: &Value) -> StoreResult<()> {
        let mut policy = LifecyclePolicy::parse(name, body)?;
        policy.modified_date_ms = now_millis();
        self.update_lifecycle_policies(|policies| {
            if let Some(previous) = policies.get(name) {
                policy.version = previous.version + 1;
            }
            policies.insert(name.to_owned(), policy);
            true
        })?;
        Ok(())
    }

    /// Applies `change` to the lifecycle policies and, if it says it changed something,
    /// persists them before they take effect. Returns what `change` returned.
    fn update_lifecycle_policies(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, LifecyclePolicy>) -> bool,
    ) -> StoreResult<bool> {
        let mut policies = self
            .inner
            .lifecycle_policies
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut updated = policies.clone();
        if !change(&mut updated) {
            return Ok(false);
        }
        write_json_atomically(
            &self.inner.config.data_dir.join(LIFECYCLE_POLICIES_FILE),
            &updated,
            self.inner.config.faults.as_deref(),
        )?;
        *policies = updated;
        Ok(true)
    }

    /// Lifecycle policies whose names match `pattern` (`*` for all), by name.
    pub fn lifecycle_policies(&self, pattern: &str) -> Vec<LifecyclePolicy> {
        let policies = self
            .inner
            .lifecycle_policies
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        policies
            .values()
            .filter(|policy| wildcard_match(pattern, &policy.name))
            .cloned()
            .collect()
    }

    /// What refers to a lifecycle policy: backing indexes, data streams and templates.
    pub fn lifecycle_policy_usage(&self, name: &str) -> PolicyUsage {
        let templates: Vec<String> = self
            .inner
            .templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .filter(|template| {
                compose(template, &self.inner.read_components())
                    .lifecycle_name()
                    .as_deref()
                    == Some(name)
            })
            .map(|template| template.name.clone())
            .collect();
        let mut usage = PolicyUsage {
            composable_templates: templates,
            ..PolicyUsage::default()
        };
        for target in self.inner.read_targets().values() {
            let meta = target.meta();
            if meta.kind == TargetKind::Index {
                if meta.lifecycle_policy.as_deref() == Some(name) {
                    usage.indices.push(meta.name.clone());
                }
                continue;
            }
            if self.inner.lifecycle_name(&meta).as_deref() != Some(name) {
                continue;
            }
            usage.data_streams.push(meta.name.clone());
            usage.indices.extend(
                target
                    .partitions()
                    .iter()
                    .map(|partition| partition.meta().name.clone()),
            );
        }
        usage
    }

    /// Deletes a lifecycle policy; `Ok(false)` if there is none of that name. A policy that
    /// data streams still follow cannot be deleted, as in Elasticsearch.
    pub fn delete_lifecycle_policy(&self, name: &str) -> StoreResult<bool> {
        let usage = self.lifecycle_policy_usage(name);
        if !usage.indices.is_empty() || !usage.data_streams.is_empty() {
            let mut users = usage.indices;
            if users.is_empty() {
                users = usage.data_streams;
            }
            return Err(StoreError::IllegalArgument(format!(
                "Cannot delete policy [{name}]. It is in use by one or more indices: [{}]",
                users.join(", ")
            )));
        }
        self.update_lifecycle_policies(|policies| policies.remove(name).is_some())
    }

    /// Where each concrete index an expression names stands in its lifecycle policy, for
    /// `GET /{index}/_ilm/explain`.
    pub fn index_lifecycles(
        &self,
        expression: &str,
        ignore_unavailable: bool,
    ) -> StoreResult<Vec<IndexLifecycle>> {
        let policies = self
            .inner
            .lifecycle_policies
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let mut explained = Vec::new();
        for resolved in self.resolve_targets(expression, ignore_unavailable)? {
            let Some(target) = self.inner.get_target(&resolved.name) else {
                continue;
            };
            let meta = target.meta();
            match meta.kind {
                TargetKind::Index => {
                    let managed = meta.lifecycle_policy.clone().map(|name| {
                        let policy = policies.get(&name).cloned();
                        let waiting_for_rollover = meta.rollover_alias.is_some()
                            && meta.rolled_over_ms.is_none()
                            && policy
                                .as_ref()
                                .is_some_and(|policy| policy.rollover.is_some());
                        ManagedLifecycle {
                            policy_name: name,
                            policy,
                            lifecycle_date_ms: meta.rolled_over_ms.unwrap_or(meta.creation_date_ms),
                            waiting_for_rollover,
                        }
                    });
                    explained.push(IndexLifecycle {
                        index: meta.name.clone(),
                        creation_date_ms: meta.creation_date_ms,
                        managed,
                    });
                }
                TargetKind::DataStream => {
                    let policy_name = self.inner.lifecycle_name(&meta);
                    for partition in target.partitions() {
                        let partition_meta = partition.meta();
                        if !resolved.indices.contains(&partition_meta.name) {
                            continue;
                        }
                        // A backing index ages from the end of its day, when it stops
                        // taking new data, as an Elasticsearch one does from its rollover.
                        let managed = policy_name.clone().map(|name| ManagedLifecycle {
                            policy: policies.get(&name).cloned(),
                            policy_name: name,
                            lifecycle_date_ms: partition_meta
                                .bucket_end_ms
                                .unwrap_or(partition_meta.creation_date_ms),
                            waiting_for_rollover: false,
                        });
                        explained.push(IndexLifecycle {
                            index: partition_meta.name.clone(),
                            creation_date_ms: partition_meta.creation_date_ms,
                            managed,
                        });
                    }
                }
            }
        }
        Ok(explained)
    }

    /// Whether writes to `name` go to an existing plain index, directly or through an alias
    /// (they skip data stream routing).
    pub fn is_plain_index(&self, name: &str) -> bool {
        let target = self.inner.get_target(name).or_else(|| {
            let member = self
                .inner
                .read_aliases()
                .write_member(name)
                .ok()??
                .to_owned();
            self.inner.get_target(&member)
        });
        target.is_some_and(|target| target.kind() == TargetKind::Index)
    }

    /// Installs what resolves date math index names (`<logs-{now/d}-000001>`) for the
    /// rollovers the store runs by itself and for [`Store::resolve_date_math`]; the API,
    /// which owns date math, provides it.
    pub fn set_date_math_resolver(
        &self,
        resolver: impl Fn(&str) -> Result<String, String> + Send + Sync + 'static,
    ) {
        let _ = self
            .inner
            .date_math
            .set(DateMathResolver(Box::new(resolver)));
    }

    /// Resolves a date math index name (`<logs-{2016-04-25||/M{yyyy.MM}}>`) with the installed
    /// resolver, as a write does when a pipeline points `_index` at one; other names pass
    /// unchanged.
    pub fn resolve_date_math(&self, name: &str) -> StoreResult<String> {
        self.inner.resolve_date_math(name)
    }

    /// Runs the lifecycle policies of plain indexes: rolls a rollover alias over when its
    /// write index meets the hot phase's conditions, and deletes indexes whose delete
    /// phase is due. Returns the names of the indexes created and deleted.
    pub async fn run_index_lifecycles(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        let mut changed = Vec::new();
        for step in self.inner.lifecycle_steps(now_ms) {
            match step {
                LifecycleStep::Rollover { alias, conditions } => {
                    let body = serde_json::json!({ "conditions": conditions });
                    match self.rollover(&alias, None, &body, false) {
                        Ok(outcome) if outcome.rolled_over => changed.push(outcome.new_index),
                        Ok(_) => {}
                        Err(error) => warn!(alias, %error, "lifecycle rollover failed"),
                    }
                }
                LifecycleStep::Delete { index, policy } => {
                    info!(index, policy, "lifecycle policy deletes the index");
                    self.delete_target(&index).await?;
                    changed.push(index);
                }
            }
        }
        Ok(changed)
    }

    /// A copy of the alias table.
    pub fn aliases(&self) -> AliasTable {
        self.inner.read_aliases().clone()
    }

    /// Whether an alias of this name exists.
    pub fn is_alias(&self, name: &str) -> bool {
        self.inner.read_aliases().contains(name)
    }

    /// Applies `POST /_aliases` actions, all of them or none: one result per action, with
    /// the targets it resolved to. An action that removes nothing fails alone, unless every
    /// action fails, in which case the request does (as in Elasticsearch); `remove_index`
    /// deletes its indexes once the alias changes are durable.
    pub async fn update_aliases(&self, actions: &[AliasAction]) -> StoreResult<Vec<AliasResult>> {
        let (results, doomed) = self.inner.apply_alias_actions(actions)?;
        for name in doomed {
            match self.delete_target(&name).await {
                Ok(()) | Err(StoreError::IndexNotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(results)
    }

    /// Resolves an index expression (comma list, `*` wildcards, `-` exclusions, `_all`) to
    /// partitions. A concrete name that does not exist is an error unless
    /// `ignore_unavailable`.
    pub fn resolve(
        &self,
        expression: &str,
        ignore_unavailable: bool,
    ) -> StoreResult<Vec<SearchShard>> {
        let targets = self.inner.read_targets().clone();
        let aliases = self.inner.read_aliases().clone();
        // What each part of the expression selects: a target, perhaps one of its partitions
        // only, and the filter of the alias it was reached through.
        let mut selected: Vec<(Arc<Target>, Option<String>, Option<Value>)> = Vec::new();
        let select_alias = |selected: &mut Vec<_>, alias: &str| {
            for (member, properties) in aliases.members(alias).into_iter().flatten() {
                if let Some(target) = targets.get(member) {
                    selected.push((target.clone(), None, properties.filter.clone()));
                }
            }
        };
        let parts: Vec<&str> = expression
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        let all = parts.is_empty() || parts.iter().all(|part| *part == "_all" || *part == "*");
        if all {
            selected.extend(
                targets
                    .values()
                    .filter(|target| {
                        let name = target.name();
                        !name.starts_with('.') && !has_selector(&name)
                    })
                    .map(|target| (target.clone(), None, None)),
            );
        } else {
            for part in parts {
                let part = part.strip_suffix(DATA_SELECTOR).unwrap_or(part);
                if let Some(streams) = part.strip_suffix(FAILURES_SELECTOR) {
                    // `logs-*::failures`: the failure stores of the matching data streams.
                    let mut matched = false;
                    for target in targets.values() {
                        let name = target.name();
                        if target.kind() != TargetKind::DataStream
                            || has_selector(&name)
                            || !wildcard_match(streams, &name)
                        {
                            continue;
                        }
                        matched = true;
                        if let Some(failures) = targets.get(&failure_store_name(&name)) {
                            selected.push((failures.clone(), None, None));
                        }
                    }
                    if !matched && !streams.contains('*') && !ignore_unavailable {
                        return Err(StoreError::IndexNotFound(part.to_owned()));
                    }
                    continue;
                }
                if let Some(excluded) = part.strip_prefix('-') {
                    selected.retain(|(target, partition, _)| {
                        let name = partition.clone().unwrap_or_else(|| target.name());
                        !wildcard_match(excluded, &name)
                    });
                    continue;
                }
                if part.contains('*') {
                    let include_hidden = part.starts_with('.');
                    for target in targets.values() {
                        let name = target.name();
                        if (include_hidden || !name.starts_with('.'))
                            && !has_selector(&name)
                            && wildcard_match(part, &name)
                        {
                            selected.push((target.clone(), None, None));
                        }
                        if include_hidden {
                            for partition in target.partitions() {
                                if wildcard_match(part, &partition.meta().name) {
                                    selected.push((
                                        target.clone(),
                                        Some(partition.meta().name.clone()),
                                        None,
                                    ));
                                }
                            }
                        }
                    }
                    let matching_aliases: Vec<&String> = aliases
                        .iter()
                        .filter(|(alias, members)| {
                            let hidden = alias.starts_with('.')
                                || members
                                    .values()
                                    .any(|properties| properties.is_hidden == Some(true));
                            (include_hidden || !hidden) && wildcard_match(part, alias)
                        })
                        .map(|(alias, _)| alias)
                        .collect();
                    for alias in matching_aliases {
                        select_alias(&mut selected, alias);
                    }
                    continue;
                }
                if let Some(target) = targets.get(part) {
                    selected.push((target.clone(), None, None));
                    continue;
                }
                if aliases.contains(part) {
                    select_alias(&mut selected, part);
                    continue;
                }
                let backing = targets.values().find_map(|target| {
                    target
                        .partitions()
                        .iter()
                        .find(|partition| partition.meta().name == part)
                        .map(|partition| {
                            (target.clone(), Some(partition.meta().name.clone()), None)
                        })
                });
                match backing {
                    Some(found) => selected.push(found),
                    None if ignore_unavailable => {}
                    None => return Err(StoreError::IndexNotFound(part.to_owned())),
                }
            }
        }
        // A partition reached several ways is searched once: unfiltered if any way was, else
        // through any of its aliases' filters.
        let mut shards: Vec<(SearchShard, Option<Vec<Value>>)> = Vec::new();
        let mut position_of: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for (target, only_partition, filter) in selected {
            let mapping = target.mapping();
            let target_name = target.name();
            for partition in target.partitions() {
                let meta = partition.meta();
                if only_partition
                    .as_ref()
                    .is_some_and(|only| *only != meta.name)
                {
                    continue;
                }
                if let Some(&position) = position_of.get(&meta.uuid) {
                    let filters = &mut shards[position].1;
                    match (filters.as_mut(), &filter) {
                        (Some(filters), Some(filter)) => {
                            if !filters.contains(filter) {
                                filters.push(filter.clone());
                            }
                        }
                        (_, None) => *filters = None,
                        (None, Some(_)) => {}
                    }
                    continue;
                }
                position_of.insert(meta.uuid.clone(), shards.len());
                let shard = SearchShard {
                    index: meta.name.clone(),
                    target: target_name.clone(),
                    searcher: partition.searcher(),
                    mapping: mapping.clone(),
                    time_bounds: meta.bucket_start_ms.zip(meta.bucket_end_ms),
                    ids: self.inner.ids,
                    filter: None,
                    partition: Some(partition.clone()),
                };
                shards.push((shard, filter.clone().map(|filter| vec![filter])));
            }
        }
        Ok(shards
            .into_iter()
            .map(|(mut shard, filters)| {
                shard.filter = filters.map(|mut filters| {
                    Arc::new(if filters.len() == 1 {
                        filters.remove(0)
                    } else {
                        serde_json::json!({"bool": {"should": filters, "minimum_should_match": 1}})
                    })
                });
                shard
            })
            .collect())
    }

    /// Names of targets matching an expression, for `GET /{index}` style APIs: each with its
    /// concrete indexes.
    pub fn resolve_targets(
        &self,
        expression: &str,
        ignore_unavailable: bool,
    ) -> StoreResult<Vec<ResolvedTarget>> {
        let shards = self.resolve(expression, ignore_unavailable)?;
        let mut by_target: BTreeMap<String, ResolvedTarget> = BTreeMap::new();
        for shard in shards {
            let kind = self
                .inner
                .get_target(&shard.target)
                .map_or(TargetKind::Index, |target| target.kind());
            by_target
                .entry(shard.target.clone())
                .or_insert_with(|| ResolvedTarget {
                    name: shard.target.clone(),
                    kind,
                    mapping: shard.mapping.clone(),
                    indices: Vec::new(),
                })
                .indices
                .push(shard.index);
        }
        // Empty data streams have no partitions yet but still exist.
        let parts: Vec<&str> = expression.split(',').map(str::trim).collect();
        let everything = parts.iter().all(|part| matches!(*part, "" | "_all" | "*"));
        let mut named: Vec<Arc<Target>> = Vec::new();
        if everything {
            named.extend(
                self.inner
                    .read_targets()
                    .values()
                    .filter(|target| {
                        let name = target.name();
                        !name.starts_with('.') && !has_selector(&name)
                    })
                    .cloned(),
            );
        }
        for part in parts {
            if let Some(target) = self.inner.get_target(part) {
                named.push(target);
            } else if let Some(members) = self.inner.read_aliases().members(part) {
                named.extend(
                    members
                        .keys()
                        .filter_map(|name| self.inner.get_target(name)),
                );
            }
        }
        for target in named {
            by_target
                .entry(target.name())
                .or_insert_with(|| ResolvedTarget {
                    name: target.name(),
                    kind: target.kind(),
                    mapping: target.mapping(),
                    indices: Vec::new(),
                });
        }
        Ok(by_target.into_values().collect())
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
                source: record.source,
            }))
    }

    /// One row per concrete index.
    pub fn index_stats(&self) -> Vec<IndexStats> {
        let targets = self.inner.read_targets().clone();
        let mut rows = Vec::new();
        for target in targets.values() {
            let kind = target.kind();
            let target_name = target.name();
            for partition in target.partitions() {
                let meta = partition.meta();
                rows.push(IndexStats {
                    index: meta.name.clone(),
                    uuid: meta.uuid.clone(),
                    target: target_name.clone(),
                    kind,
                    docs_count: partition.doc_count(),
                    docs_deleted: partition.deleted_count(),
                    store_bytes: partition.size_on_disk(),
                    creation_date_ms: meta.creation_date_ms,
                });
            }
        }
        rows
    }

    /// Data streams matching `pattern`.
    pub fn data_streams(&self, pattern: &str) -> Vec<DataStreamInfo> {
        let targets = self.inner.read_targets().clone();
        targets
            .values()
            .filter(|target| target.kind() == TargetKind::DataStream)
            .filter(|target| {
                let name = target.name();
                !has_selector(&name) && wildcard_match(pattern, &name)
            })
            .map(|target| {
                let meta = target.meta();
                let failure_indices = targets
                    .get(&failure_store_name(&meta.name))
                    .map(|failures| {
                        failures
                            .partitions()
                            .iter()
                            .map(|partition| {
                                (partition.meta().name.clone(), partition.meta().uuid.clone())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                DataStreamInfo {
                    name: meta.name.clone(),
                    indices: target
                        .partitions()
                        .iter()
                        .map(|partition| {
                            (partition.meta().name.clone(), partition.meta().uuid.clone())
                        })
                        .collect(),
                    generation: meta.next_generation.saturating_sub(1),
                    template: meta.template.clone(),
                    retention: self.inner.effective_retention(&meta),
                    ilm_policy: self.inner.lifecycle_name(&meta),
                    failure_store_enabled: self.failure_store_for(&meta.name).is_some(),
                    failure_indices,
                }
            })
            .collect()
    }

    /// Bytes under the data directory.
    pub fn disk_usage(&self) -> u64 {
        crate::partition::directory_size(&self.inner.config.data_dir)
    }
}

/// Whether a refresh may pass over search-idle partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshKind {
    /// `_refresh`, `?refresh=true`, shutdown: every partition.
    Forced,
    /// The periodic refresh.
    Scheduled,
}

/// Commits `partitions` together; returns how many had something to commit, and the first
/// failure. A partition whose commit fails is broken (see [`crate::partition`]); the others
/// are committed all the same.
///
/// Preparing a commit drains a partition's indexing thread and writes its segment while the
/// store's writer thread cannot add to that partition. The partitions are committed at the
/// same time, one thread each, so that the writer thread waits for the slowest of them rather
/// than for all of them in turn.
fn commit_all(partitions: &[Arc<Partition>]) -> (usize, Option<StoreError>) {
    let results: Vec<StoreResult<bool>> = match partitions {
        [partition] => vec![partition.commit()],
        _ => std::thread::scope(|scope| {
            let handles: Vec<_> = partitions
                .iter()
                .map(|partition| scope.spawn(|| partition.commit()))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(StoreError::IllegalState("a commit panicked".to_owned()))
                    })
                })
                .collect()
        }),
    };
    let mut committed = 0;
    let mut first_error = None;
    for result in results {
        match result {
            Ok(true) => committed += 1,
            Ok(false) => {}
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    (committed, first_error)
}

/// Where a document read by id is.
#[derive(Debug)]
enum Lookup {
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

/// Why a logged write is being applied.
#[derive(Debug, Clone, Copy)]
enum ApplyMode<'a> {
    /// Just logged, for a client waiting for its outcome.
    Live,
    /// Read back from the log at start-up.
    Replay,
    /// Read back from the log for a broken partition, which alone is written.
    Recover(&'a Partition),
}

impl PartialEq for ApplyMode<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ApplyMode::Live, ApplyMode::Live) | (ApplyMode::Replay, ApplyMode::Replay) => true,
            (ApplyMode::Recover(one), ApplyMode::Recover(other)) => std::ptr::eq(*one, *other),
            _ => false,
        }
    }
}

/// What a refresh achieved.
#[derive(Debug)]
struct Refreshed {
    /// Every write up to this sequence number is in a durable commit.
    covered: u64,
    /// The first commit that failed.
    failure: Option<StoreError>,
}

fn data_stream_rollover(name: &str) -> StoreError {
    StoreError::IllegalArgument(format!(
        "[{name}] is a data stream, which Logfleet rolls over by itself: every day of data gets \
         its own backing index, and mapping changes apply to the stream at once"
    ))
}

fn is_builtin_data_stream(name: &str) -> bool {
    name == "logs" || name.starts_with("logs-")
}

fn partition_settings(config: &StoreConfig, schema: Schema, fields: Fields) -> PartitionSettings {
    let index_settings = IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor {
            compression_level: Some(config.docstore_compression_level),
        }),
        // Log events repeat field names and values from one to the next; larger blocks let
        // zstd find those repetitions and shrink the doc store several-fold.
        docstore_blocksize: 256 * 1024,
        ..IndexSettings::default()
    };
    PartitionSettings {
        schema,
        fields,
        index_settings,
        writer_memory_bytes: config.writer_memory_bytes,
        faults: config.faults.clone(),
    }
}

fn open_targets(
    data_dir: &std::path::Path,
    settings: &PartitionSettings,
) -> StoreResult<BTreeMap<String, Arc<Target>>> {
    let mut targets = BTreeMap::new();
    let dir = data_dir.join("targets");
    let entries = fs::read_dir(&dir)
        .map_err(|error| StoreError::io(format!("listing {}", dir.display()), error))?;
    for entry in entries {
        let entry = entry.map_err(|error| StoreError::io("listing targets", error))?;
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with(".deleting-") {
            let _ = fs::remove_dir_all(&path);
            continue;
        }
        if !path.join("target.json").exists() {
            warn!(path = %path.display(), "removing an incomplete target");
            let _ = fs::remove_dir_all(&path);
            continue;
        }
        let target = Target::open(&path, settings)?;
        targets.insert(target.name(), Arc::new(target));
    }
    Ok(targets)
}

/// Directory names are derived from target names, which are valid index names (no `/`), but
/// may start with `.`; prefix them so they never collide with the store's own entries.
fn target_dir_name(name: &str) -> String {
    format!("t-{name}")
}

impl Inner {
    fn read_targets(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Target>>> {
        self.targets
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_components(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, ComponentTemplate>> {
        self.component_templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_aliases(&self) -> std::sync::RwLockReadGuard<'_, AliasTable> {
        self.aliases
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `change` to a copy of the alias table and, if it says it changed something,
    /// validates and persists the copy before it takes effect. Call with the catalog lock.
    fn update_aliases_locked(
        &self,
        change: impl FnOnce(&mut AliasTable) -> StoreResult<bool>,
    ) -> StoreResult<()> {
        let mut aliases = self
            .aliases
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut updated = aliases.clone();
        if !change(&mut updated)? {
            return Ok(());
        }
        let targets = self.read_targets();
        updated.validate(|name| targets.get(name).map(|target| target.kind()))?;
        drop(targets);
        write_json_atomically(
            &self.config.data_dir.join(ALIASES_FILE),
            &updated,
            self.config.faults.as_deref(),
        )?;
        *aliases = updated;
        Ok(())
    }

    /// The concrete targets an alias action's `index` expressions name. Aliases are not
    /// expanded: an alias points at indexes and data streams, never at other aliases.
    fn alias_action_targets(
        &self,
        action: &AliasAction,
        targets: &BTreeMap<String, Arc<Target>>,
    ) -> StoreResult<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        for expression in action.indices() {
            if expression == "_all" || expression.contains('*') {
                let include_hidden = expression.starts_with('.');
                let before = names.len();
                names.extend(
                    targets
                        .keys()
                        .filter(|name| include_hidden || !name.starts_with('.'))
                        .filter(|name| expression == "_all" || wildcard_match(expression, name))
                        .filter(|name| !names.contains(name))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                if names.len() == before {
                    return Err(StoreError::IndexNotFound(expression.clone()));
                }
                continue;
            }
            if targets.contains_key(expression) {
                if !names.contains(expression) {
                    names.push(expression.clone());
                }
                continue;
            }
            if self.read_aliases().contains(expression) {
                return Err(StoreError::IllegalArgument(format!(
                    "The provided expression [{expression}] matches an alias, specify the corresponding concrete indices instead."
                )));
            }
            if let Some(owner) = self.find_partition_owner(expression) {
                return Err(StoreError::IllegalArgument(format!(
                    "The provided expression [{expression}] is a backing index of data stream [{}]; {} the data stream instead.",
                    owner.name(),
                    if action.kind() == "remove_index" {
                        "delete"
                    } else {
                        "alias"
                    }
                )));
            }
            return Err(StoreError::IndexNotFound(expression.clone()));
        }
        Ok(names)
    }

    /// Validates and applies alias actions as one change; returns each action's result and
    /// the indexes `remove_index` actions delete.
    fn apply_alias_actions(
        &self,
        actions: &[AliasAction],
    ) -> StoreResult<(Vec<AliasResult>, Vec<String>)> {
        let _guard = self.lock_catalog();
        let targets = self.read_targets().clone();
        let mut resolved = Vec::with_capacity(actions.len());
        for action in actions {
            resolved.push((action, self.alias_action_targets(action, &targets)?));
        }
        let mut results = Vec::with_capacity(actions.len());
        let mut doomed = Vec::new();
        self.update_aliases_locked(|table| {
            for (action, names) in resolved {
                match action {
                    AliasAction::Add {
                        aliases,
                        properties,
                        ..
                    } => {
                        for alias in aliases {
                            if targets.contains_key(alias) {
                                return Err(StoreError::InvalidAliasName {
                                    name: alias.clone(),
                                    reason:
                                        "an index or data stream exists with the same name as the alias"
                                            .into(),
                                });
                            }
                            for name in &names {
                                table.add(alias, name, properties.clone());
                            }
                        }
                        results.push((names, Ok(())));
                    }
                    AliasAction::Remove {
                        aliases,
                        must_exist,
                        ..
                    } => {
                        let mut removed = 0;
                        let mut missing = Vec::new();
                        for pattern in aliases {
                            let mut matched = false;
                            for name in &names {
                                let matching: Vec<String> = table
                                    .of_target(name)
                                    .into_keys()
                                    .filter(|alias| {
                                        pattern == "_all" || wildcard_match(pattern, alias)
                                    })
                                    .collect();
                                for alias in matching {
                                    removed += usize::from(table.remove(&alias, name));
                                    matched = true;
                                }
                            }
                            if !matched {
                                missing.push(pattern.clone());
                            }
                        }
                        if *must_exist == Some(true) && !missing.is_empty() {
                            return Err(StoreError::AliasesNotFound(missing));
                        }
                        let result = if removed == 0 && *must_exist != Some(false) {
                            Err(StoreError::AliasesNotFound(aliases.clone()))
                        } else {
                            Ok(())
                        };
                        results.push((names, result));
                    }
                    AliasAction::RemoveIndex { .. } => {
                        for name in &names {
                            if targets
                                .get(name)
                                .is_some_and(|target| target.kind() == TargetKind::DataStream)
                            {
                                return Err(StoreError::IllegalArgument(format!(
                                    "The provided expression [{name}] matches a data stream, specify the corresponding concrete indices instead."
                                )));
                            }
                            table.remove_target(name);
                            doomed.push(name.clone());
                        }
                        results.push((names, Ok(())));
                    }
                }
            }
            if results.iter().all(|(_, result)| result.is_err())
                && let Some((_, Err(error))) = results.drain(..).next()
            {
                return Err(error);
            }
            Ok(true)
        })?;
        Ok((results, doomed))
    }

    /// Resolves a date math name with the installed resolver; other names pass unchanged.
    fn resolve_date_math(&self, name: &str) -> StoreResult<String> {
        if !(name.starts_with('<') && name.ends_with('>')) {
            return Ok(name.to_owned());
        }
        match self.date_math.get() {
            Some(DateMathResolver(resolve)) => resolve(name).map_err(StoreError::IllegalArgument),
            None => Err(StoreError::IllegalArgument(format!(
                "cannot resolve the date math index name [{name}] here"
            ))),
        }
    }

    /// What the lifecycle policies of plain indexes ask for at `now_ms`.
    fn lifecycle_steps(&self, now_ms: i64) -> Vec<LifecycleStep> {
        let targets: Vec<Arc<Target>> = self.read_targets().values().cloned().collect();
        let aliases = self.read_aliases().clone();
        let policies = self
            .lifecycle_policies
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let mut steps = Vec::new();
        for target in targets {
            if target.kind() != TargetKind::Index {
                continue;
            }
            let meta = target.meta();
            let Some(policy) = meta
                .lifecycle_policy
                .as_ref()
                .and_then(|name| policies.get(name))
            else {
                continue;
            };
            let is_write_index = meta.rollover_alias.as_ref().is_some_and(|alias| {
                aliases.write_member(alias).ok().flatten() == Some(meta.name.as_str())
            });
            if let (Some(alias), Some(conditions)) = (&meta.rollover_alias, &policy.rollover)
                && is_write_index
                && meta.rolled_over_ms.is_none()
            {
                steps.push(LifecycleStep::Rollover {
                    alias: alias.clone(),
                    conditions: conditions.clone(),
                });
                continue;
            }
            // An index still waiting for its rollover is in the hot phase, and the alias's
            // write index is never deleted.
            let Some(retention) = policy.retention() else {
                continue;
            };
            if is_write_index || (policy.rollover.is_some() && meta.rolled_over_ms.is_none()) {
                continue;
            }
            let since = meta.rolled_over_ms.unwrap_or(meta.creation_date_ms);
            if now_ms.saturating_sub(since) >= retention.as_millis() as i64 {
                steps.push(LifecycleStep::Delete {
                    index: meta.name.clone(),
                    policy: policy.name.clone(),
                });
            }
        }
        steps
    }

    fn lock_catalog(&self) -> std::sync::MutexGuard<'_, ()> {
        self.catalog_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get_target(&self, name: &str) -> Option<Arc<Target>> {
        self.read_targets().get(name).cloned()
    }

    /// The template a new target named `name` is created from: the composable template of
    /// highest priority, else the legacy templates that match, merged. Names that become
    /// built-in data streams never take legacy templates, as Elasticsearch's built-in `logs`
    /// template outranks them.
    fn template_for(&self, name: &str) -> Option<IndexTemplate> {
        let templates = self
            .templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let composable = templates
            .values()
            .filter(|template| template.matches(name))
            .max_by_key(|template| template.priority)
            .map(|template| compose(template, &self.read_components()));
        if composable.is_some() || is_builtin_data_stream(name) {
            return composable;
        }
        drop(templates);
        let legacy = self
            .legacy_templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        merge_matching(legacy.values(), name)
    }

    fn persist_state(&self, last_seq: u64) -> StoreResult<()> {
        write_json_atomically(
            &self.config.data_dir.join("state.json"),
            &StoreState {
                last_seq,
                format: FORMAT,
                id_salt: Some(self.ids),
            },
            self.config.faults.as_deref(),
        )
    }

    fn create_target_locked(
        &self,
        name: &str,
        kind: TargetKind,
        template: Option<&IndexTemplate>,
        explicit: Option<&Value>,
        provided_name: Option<&str>,
    ) -> StoreResult<Arc<Target>> {
        let style = match kind {
            TargetKind::Index => DynamicStyle::Index,
            TargetKind::DataStream => DynamicStyle::DataStream,
        };
        if self.read_aliases().contains(name) {
            return Err(StoreError::InvalidIndexName {
                name: name.to_owned(),
                reason: "already exists as alias".into(),
            });
        }
        let mut mapping = match template {
            Some(template) => template.mapping(style)?,
            None if failure_store_parent(name).is_some() => failure_store::mapping()?,
            None => Mapping::new(style),
        };
        // The template's aliases, then the request's, which win for the same name.
        let mut aliases = match template {
            Some(template) => template.aliases(name)?,
            None => Vec::new(),
        };
        if let Some(requested) = explicit.and_then(|body| body.get("aliases")) {
            aliases.extend(parse_aliases(requested, name)?);
        }
        {
            let targets = self.read_targets();
            if let Some((alias, _)) = aliases
                .iter()
                .find(|(alias, _)| alias == name || targets.contains_key(alias))
            {
                return Err(StoreError::InvalidAliasName {
                    name: alias.clone(),
                    reason: "an index or data stream exists with the same name as the alias".into(),
                });
            }
        }
        // Lifecycle settings of a plain index: the request's, else the template's.
        let index_setting = |key: &str| {
            if kind != TargetKind::Index {
                return None;
            }
            explicit
                .and_then(|body| body.get("settings"))
                .and_then(|settings| string_setting(settings, key))
                .or_else(|| template.and_then(|template| template.string_setting(key)))
        };
        if let Some(body) = explicit {
            if let Some(settings) = body.get("settings")
                && let Some(limit) = total_fields_limit_setting(settings)?
            {
                mapping.total_fields_limit = limit;
            }
            if let Some(mappings) = body.get("mappings") {
                mapping.merge_explicit(mappings)?;
            }
        }
        let meta = TargetMeta {
            name: name.to_owned(),
            kind,
            uuid: new_uuid(),
            created_seq: self.last_seq.load(Ordering::SeqCst),
            creation_date_ms: now_millis(),
            mapping,
            retention: template.and_then(IndexTemplate::retention),
            template: template.map(|template| template.name.clone()),
            next_generation: 1,
            provided_name: provided_name.map(str::to_owned),
            rolled_over_ms: None,
            lifecycle_policy: index_setting("lifecycle.name"),
            rollover_alias: index_setting("lifecycle.rollover_alias"),
            ingest: explicit
                .and_then(|body| body.get("settings"))
                .map(IngestPipelineSettings::from_settings)
                .filter(|ingest| !ingest.is_empty())
                .or_else(|| template.map(IndexTemplate::ingest_pipelines))
                .unwrap_or_default(),
        };
        let dir = self
            .config
            .data_dir
            .join("targets")
            .join(target_dir_name(name));
        if dir.exists() {
            remove_dir(&dir)?;
        }
        let target = Arc::new(Target::create(&dir, meta, &self.partition_settings)?);
        self.targets
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(name.to_owned(), target.clone());
        if !aliases.is_empty() {
            let added = self.update_aliases_locked(|table| {
                for (alias, properties) in aliases {
                    table.add(&alias, name, properties);
                }
                Ok(true)
            });
            if let Err(error) = added {
                // The request fails as a whole: the target it created goes again.
                self.targets
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .remove(name);
                let _ = remove_dir(target.dir());
                return Err(error);
            }
        }
        info!(name, kind = ?kind, "created");
        Ok(target)
    }

    fn create_index(
        &self,
        name: &str,
        body: &Value,
        provided_name: Option<&str>,
    ) -> StoreResult<()> {
        if let Value::Object(object) = body {
            for key in object.keys() {
                if !matches!(key.as_str(), "settings" | "mappings" | "aliases") {
                    return Err(StoreError::IllegalArgument(format!(
                        "unknown key [{key}] for create index"
                    )));
                }
            }
        }
        let _guard = self.lock_catalog();
        if self.get_target(name).is_some() {
            return Err(StoreError::AlreadyExists(name.to_owned()));
        }
        let template = self.template_for(name);
        if template
            .as_ref()
            .is_some_and(|template| template.data_stream)
            || (template.is_none() && is_builtin_data_stream(name))
        {
            let template_name =
                template.map_or_else(|| "logs".to_owned(), |template| template.name);
            return Err(StoreError::IllegalArgument(format!(
                "cannot create index with name [{name}], because it matches with template [{template_name}] that creates data streams only, use create data stream api instead"
            )));
        }
        self.create_target_locked(
            name,
            TargetKind::Index,
            template.as_ref(),
            Some(body),
            provided_name,
        )?;
        Ok(())
    }

    /// The target writes through the alias `name` go to; `Ok(None)` if it is no alias.
    fn alias_write_target(&self, name: &str) -> StoreResult<Option<Arc<Target>>> {
        let member = match self.read_aliases().write_member(name)? {
            Some(member) => member.to_owned(),
            None => return Ok(None),
        };
        self.get_target(&member)
            .map(Some)
            .ok_or(StoreError::IndexNotFound(member))
    }

    /// The target a write goes to, auto-created like Elasticsearch's `action.auto_create_index`.
    fn write_target(&self, name: &str) -> StoreResult<Arc<Target>> {
        if let Some(target) = self.get_target(name) {
            return Ok(target);
        }
        if let Some(target) = self.alias_write_target(name)? {
            return Ok(target);
        }
        if let Some(stream) = failure_store_parent(name) {
            return self.failure_store_target(stream);
        }
        if name.starts_with(".ds-") || name.starts_with(".fs-") {
            return Err(StoreError::IllegalArgument(format!(
                "index request targeting backing index [{name}] is not allowed, target the data stream instead"
            )));
        }
        let _guard = self.lock_catalog();
        if let Some(target) = self.get_target(name) {
            return Ok(target);
        }
        let template = self.template_for(name);
        let kind = match &template {
            Some(template) if template.data_stream => TargetKind::DataStream,
            Some(_) => TargetKind::Index,
            None if is_builtin_data_stream(name) => TargetKind::DataStream,
            None => TargetKind::Index,
        };
        self.create_target_locked(name, kind, template.as_ref(), None, None)
    }

    /// The failure store of `stream`, created (with the stream, if need be) on first use.
    fn failure_store_target(&self, stream: &str) -> StoreResult<Arc<Target>> {
        let parent = self.write_target(stream)?;
        if parent.kind() != TargetKind::DataStream {
            return Err(StoreError::IllegalArgument(format!(
                "[{stream}] is not a data stream: only data streams have a failure store"
            )));
        }
        let name = failure_store_name(stream);
        let _guard = self.lock_catalog();
        if let Some(target) = self.get_target(&name) {
            return Ok(target);
        }
        self.create_target_locked(&name, TargetKind::DataStream, None, None, None)
    }

    fn prepare(&self, request: WriteRequest<'_>, replaying: bool) -> StoreResult<PreparedWrite> {
        match request {
            WriteRequest::Delete { target: name, id } => {
                let (target, only_partition) = match self.get_target(&name) {
                    Some(target) if target.kind() == TargetKind::DataStream && !replaying => {
                        return Err(StoreError::IllegalArgument(
                            "only write ops with an op_type of create are allowed in data streams; delete through the backing index".into(),
                        ));
                    }
                    Some(target) => (target, None),
                    None => match self.find_partition_owner(&name) {
                        Some(target) => (target, Some(name)),
                        None => match self.alias_write_target(&name)? {
                            Some(target) if target.kind() == TargetKind::Index => (target, None),
                            Some(_) => {
                                return Err(StoreError::IllegalArgument(
                                    "only write ops with an op_type of create are allowed in data streams; delete through the backing index".into(),
                                ));
                            }
                            None => return Err(StoreError::IndexNotFound(name)),
                        },
                    },
                };
                Ok(PreparedWrite {
                    target,
                    only_partition,
                    op: WalOp::Delete,
                    id,
                    auto_id: false,
                    source: Bytes::new(),
                    document: None,
                    timestamp_millis: None,
                    partition: None,
                })
            }
            WriteRequest::Document {
                target,
                op,
                id,
                source,
                parsed,
            } => {
                let target = self
                    .write_target(&target)
                    .map_err(|error| self.disk_full_as_block(error, &target))?;
                if target.kind() == TargetKind::DataStream
                    && op == DocumentOp::Index
                    && id.is_some()
                    && !replaying
                {
                    return Err(StoreError::IllegalArgument(
                        "only write ops with an op_type of create are allowed in data streams"
                            .into(),
                    ));
                }
                let auto_id = id.is_none();
                // A generated id is only known once the log assigns the sequence number.
                let id = id.unwrap_or_default();
                let conversion = self
                    .convert_with_mapping_update(&target, &parsed, &id)
                    .map_err(|error| self.disk_full_as_block(error, &target.name()))?;
                let fields = &self.partition_settings.fields;
                // Sized for the skeleton and the values, so that it is not regrown here, and
                // given what it can before the log, so that the writer thread only adds `_seq`.
                let mut document = TantivyDocument::with_capacity(2 * source.len() + 128);
                if auto_id {
                    document.add_u64(fields.version, 1);
                } else {
                    document.add_text(fields.id, &id);
                }
                let converted = conversion.document;
                // The log keeps the source as sent; the doc store keeps what the columns
                // cannot give back.
                let skeleton = skeleton::build_from_tree(&source, &parsed, &converted);
                let stored = skeleton.as_deref().unwrap_or(&source);
                // A source that parsed as JSON is UTF-8, and its skeleton only swaps values
                // for ASCII bytes; text goes to the doc store in one copy.
                match std::str::from_utf8(stored) {
                    Ok(text) => document.add_text(fields.source, text),
                    Err(_) => document.add_bytes(fields.source, stored),
                }
                let timestamp_millis = converted
                    .timestamp_nanos
                    .map(|nanos| nanos.div_euclid(1_000_000));
                if let Some(nanos) = converted.timestamp_nanos {
                    document.add_date(
                        fields.timestamp,
                        tantivy::DateTime::from_timestamp_nanos(nanos),
                    );
                }
                // Each leaf is copied once, from the decoded source into tantivy's document.
                if !converted.exact_values.is_empty() {
                    document.add_field_value(
                        fields.keyword,
                        LeafValue::Object(&converted.exact_values),
                    );
                }
                if !converted.numeric_values.is_empty() {
                    document.add_field_value(
                        fields.numbers,
                        LeafValue::Object(&converted.numeric_values),
                    );
                }
                if !converted.text_values.is_empty() {
                    document
                        .add_field_value(fields.text, LeafValue::Object(&converted.text_values));
                }
                for path in &converted.text_paths {
                    document.add_text(fields.field_names, path);
                }
                let op = match op {
                    DocumentOp::Index => WalOp::Index,
                    DocumentOp::Create => WalOp::Create,
                };
                Ok(PreparedWrite {
                    target,
                    only_partition: None,
                    op,
                    id,
                    auto_id,
                    source,
                    document: Some(document),
                    timestamp_millis,
                    partition: None,
                })
            }
        }
    }

    fn convert_with_mapping_update<'s>(
        &self,
        target: &Target,
        parsed: &'s JsonObject<'s>,
        id: &str,
    ) -> StoreResult<crate::document::Conversion<'s>> {
        let conversion = convert_document(&target.mapping(), parsed, id)?;
        if conversion.new_fields.is_empty() {
            return Ok(conversion);
        }
        // Another writer may have mapped the same fields meanwhile: convert again under the
        // lock against the latest mapping, so the mapping that is persisted is the one used.
        let _guard = self.lock_catalog();
        let latest = target.mapping();
        let conversion = convert_document(&latest, parsed, id)?;
        if !conversion.new_fields.is_empty() {
            let mut updated = (*latest).clone();
            for (path, field) in &conversion.new_fields {
                updated.insert_checked(path, field.clone())?;
            }
            debug!(target = %target.name(), added = conversion.new_fields.len(), "mapping extended");
            target.set_mapping(updated)?;
        }
        Ok(conversion)
    }

    fn run_writer(self: Arc<Self>, mut wal: Wal, mut receiver: mpsc::Receiver<WriterMessageBox>) {
        let mut buffer = Vec::with_capacity(1 << 20);
        let mut pending = Vec::new();
        while let Some(WriterMessageBox(first)) = receiver.blocking_recv() {
            pending.push(first);
            // Group commit: everything that queued up while the previous fsync ran shares
            // the next one.
            while pending.len() < WRITE_QUEUE_DEPTH {
                match receiver.try_recv() {
                    Ok(WriterMessageBox(message)) => pending.push(message),
                    Err(_) => break,
                }
            }
            let mut batches = Vec::new();
            let mut checkpoint = None;
            let mut recover = None;
            let mut shutdown = None;
            for message in pending.drain(..) {
                match message {
                    WriterMessage::Write { writes, reply } => batches.push((writes, reply)),
                    WriterMessage::Checkpoint { seq } => {
                        checkpoint = Some(checkpoint.map_or(seq, |current: u64| current.max(seq)))
                    }
                    WriterMessage::Recover { reply } => {
                        recover.get_or_insert_with(Vec::new).extend(reply)
                    }
                    WriterMessage::ReadLogged { seq, reply } => {
                        let _ = reply.send(wal.read_record(seq));
                    }
                    WriterMessage::Shutdown { reply } => shutdown = Some(reply),
                }
            }
            if let Some(replies) = recover {
                self.recover_broken_partitions(&wal);
                for reply in replies {
                    let _ = reply.send(());
                }
            }
            if !batches.is_empty() {
                self.write_batches(&mut wal, &mut buffer, batches);
            }
            if let Some(seq) = checkpoint {
                let last = self.last_seq.load(Ordering::SeqCst);
                self.checkpoint(&mut wal, seq, last);
            }
            if let Some(reply) = shutdown {
                let last = self.last_seq.load(Ordering::SeqCst);
                let all_committed = self.applied_seq.load(Ordering::SeqCst) == last
                    && *self.searchable_seq.borrow() >= last;
                let covered = if all_committed { last } else { 0 };
                self.checkpoint(&mut wal, covered, last);
                let _ = reply.send(());
                break;
            }
        }
        debug!("writer thread stopped");
    }

    /// Logs and applies a group of batches. Each write is refused before the log, and
    /// leaves nothing behind, when writes are blocked or its partition cannot be created;
    /// once its record is in the log, it is acknowledged.
    fn write_batches(
        &self,
        wal: &mut Wal,
        buffer: &mut Vec<u8>,
        mut batches: Vec<(Vec<PreparedWrite>, OutcomeSender)>,
    ) {
        let blocked = match self.log_failure.get() {
            Some(reason) => Some(StoreError::LogFailed {
                reason: reason.clone(),
            }),
            None if self.disk.check() => self.disk.block().map(|block| StoreError::WritesBlocked {
                index: String::new(),
                reason: block.reason,
            }),
            None => None,
        };
        let mut outcomes: Vec<Vec<Option<Result<WriteOutcome, ItemFailure>>>> = Vec::new();
        for (writes, _) in &mut batches {
            let refused = writes
                .iter_mut()
                .map(|write| self.refuse_before_logging(write, blocked.as_ref()))
                .collect();
            outcomes.push(refused);
        }
        buffer.clear();
        let first_seq = self.last_seq.load(Ordering::SeqCst) + 1;
        let mut seq = first_seq - 1;
        for ((writes, _), batch_outcomes) in batches.iter().zip(&outcomes) {
            for (write, _) in writes
                .iter()
                .zip(batch_outcomes)
                .filter(|(_, outcome)| outcome.is_none())
            {
                seq += 1;
                let flags = if write.auto_id { FLAG_AUTO_ID } else { 0 };
                let target = write
                    .only_partition
                    .clone()
                    .unwrap_or_else(|| write.target.name());
                encode_record(
                    buffer,
                    seq,
                    write.op,
                    flags,
                    &target,
                    &write.id,
                    &write.source,
                );
            }
        }
        let logged = seq >= first_seq;
        if logged && let Err(error) = wal.append(buffer, first_seq) {
            let failure = self.log_append_failure(wal, &error);
            for ((writes, reply), batch_outcomes) in batches.into_iter().zip(outcomes) {
                let failures = writes
                    .iter()
                    .zip(batch_outcomes)
                    .map(|(write, refused)| {
                        refused.unwrap_or_else(|| {
                            Err(ItemFailure::Store(failure.for_index(&write.target.name())))
                        })
                    })
                    .collect();
                let _ = reply.send(failures);
            }
            return;
        }
        if logged {
            self.last_seq.store(seq, Ordering::SeqCst);
        }
        self.tailing
            .store(self.tail.receiver_count() > 0, Ordering::Relaxed);
        let mut seq = first_seq - 1;
        for ((writes, reply), batch_outcomes) in batches.into_iter().zip(outcomes) {
            let mut results = Vec::with_capacity(writes.len());
            for (write, refused) in writes.into_iter().zip(batch_outcomes) {
                if let Some(refused) = refused {
                    results.push(refused);
                    continue;
                }
                seq += 1;
                results.push(self.apply(write, seq, ApplyMode::Live));
            }
            if logged {
                self.applied_seq.store(seq, Ordering::SeqCst);
            }
            let _ = reply.send(results);
        }
        self.publish_tail();
    }

    /// Whether `write` must be refused before it is logged; finds or creates its partition
    /// and keeps it in the write, so that applying it after the log cannot fail for want of
    /// one (nor, for a document without a timestamp, pick another day's).
    fn refuse_before_logging(
        &self,
        write: &mut PreparedWrite,
        blocked: Option<&StoreError>,
    ) -> Option<Result<WriteOutcome, ItemFailure>> {
        // Deleting a whole index frees space: Elasticsearch's `read_only_allow_delete`.
        let frees_space = write.op == WalOp::DeleteTarget;
        match blocked {
            Some(StoreError::WritesBlocked { .. }) if frees_space => {}
            Some(error) => {
                let refused = error.for_index(&write.target.name());
                return Some(Err(ItemFailure::Store(refused)));
            }
            None => {}
        }
        if !matches!(write.op, WalOp::Index | WalOp::Create) {
            return None;
        }
        match write
            .target
            .partition_for(write.timestamp_millis, &self.partition_settings)
        {
            Ok(partition) => {
                write.partition = Some(partition);
                None
            }
            Err(error) => {
                let error = self.disk_full_as_block(error, &write.target.name());
                Some(Err(ItemFailure::Store(error)))
            }
        }
    }

    /// A write that failed for want of disk space is refused as the flood stage refuses
    /// writes, and the flood stage starts at once.
    fn disk_full_as_block(&self, error: StoreError, index: &str) -> StoreError {
        if !error.is_disk_full() || matches!(error, StoreError::WritesBlocked { .. }) {
            return error;
        }
        self.disk.note_disk_full(&error.to_string());
        StoreError::WritesBlocked {
            index: index.to_owned(),
            reason: self
                .disk
                .block()
                .map(|block| block.reason)
                .unwrap_or_default(),
        }
    }

    /// What the writes of a batch whose log append failed are told: retry later (a full
    /// disk), or the log refuses writes until a restart.
    fn log_append_failure(&self, wal: &Wal, error: &std::io::Error) -> StoreError {
        if let Some(reason) = wal.failure() {
            let reason = self.log_failure.get_or_init(|| reason.to_owned());
            return StoreError::LogFailed {
                reason: reason.clone(),
            };
        }
        let failure = StoreError::io(
            "appending to the write-ahead log",
            std::io::Error::new(error.kind(), error.to_string()),
        );
        if !is_disk_full(error) {
            error!(%error, "write-ahead log append failed; the batch is refused");
        }
        self.disk_full_as_block(failure, "")
    }

    /// Applies one logged write. During replay or a recovery, writes that a commit already
    /// covers, or that belonged to an earlier target of the same name, are skipped; a
    /// recovery applies only what belongs to its partition.
    fn apply(
        &self,
        write: PreparedWrite,
        seq: u64,
        mode: ApplyMode<'_>,
    ) -> Result<WriteOutcome, ItemFailure> {
        let replaying = mode != ApplyMode::Live;
        let target = write.target;
        let target_meta_created = target.created_seq();
        let recovering = match mode {
            ApplyMode::Recover(partition) => Some(partition),
            _ => None,
        };
        let skipped_by_recovery =
            |partition: &Partition| recovering.is_some_and(|only| !std::ptr::eq(only, partition));
        if (replaying && seq <= target_meta_created)
            || (recovering.is_some() && write.op == WalOp::DeleteTarget)
        {
            return Ok(WriteOutcome {
                index: target.name(),
                id: write.id,
                version: 0,
                seq,
                result: WriteResult::NotFound,
            });
        }
        match write.op {
            WalOp::DeleteTarget => {
                self.remove_target(&target).map_err(ItemFailure::Store)?;
                Ok(WriteOutcome {
                    index: target.name(),
                    id: String::new(),
                    version: 0,
                    seq,
                    result: WriteResult::Deleted,
                })
            }
            WalOp::Delete => {
                let index = write
                    .only_partition
                    .clone()
                    .unwrap_or_else(|| target.name());
                let mut outcome = WriteOutcome {
                    index,
                    id: write.id.clone(),
                    version: 1,
                    seq,
                    result: WriteResult::NotFound,
                };
                for partition in target.partitions() {
                    if write
                        .only_partition
                        .as_ref()
                        .is_some_and(|only| *only != partition.meta().name)
                    {
                        continue;
                    }
                    if (replaying && seq <= partition.committed_seq())
                        || skipped_by_recovery(&partition)
                    {
                        continue;
                    }
                    let key = self.document_key(&write.id);
                    if let Some(version) =
                        partition.lookup_version(&key).map_err(ItemFailure::Store)?
                    {
                        partition.delete(&key, seq).map_err(ItemFailure::Store)?;
                        outcome = WriteOutcome {
                            index: partition.meta().name.clone(),
                            id: write.id.clone(),
                            version: version + 1,
                            seq,
                            result: WriteResult::Deleted,
                        };
                    }
                }
                Ok(outcome)
            }
            WalOp::Index | WalOp::Create => {
                let partition = match write.partition {
                    Some(partition) => partition,
                    None => target
                        .partition_for(write.timestamp_millis, &self.partition_settings)
                        .map_err(ItemFailure::Store)?,
                };
                let index = partition.meta().name.clone();
                if (replaying && seq <= partition.committed_seq())
                    || skipped_by_recovery(&partition)
                {
                    return Ok(WriteOutcome {
                        index,
                        id: write.id,
                        version: 0,
                        seq,
                        result: WriteResult::NotFound,
                    });
                }
                let Some(mut document) = write.document else {
                    return Err(ItemFailure::Store(StoreError::Closed));
                };
                let fields = &self.partition_settings.fields;
                if write.auto_id {
                    // `_version` (always 1) was added when the write was prepared.
                    document.add_u64(fields.seq, seq);
                    if mode == ApplyMode::Live {
                        self.tail_document(&target, &index, &document);
                    }
                    partition
                        .add(document, seq, None)
                        .map_err(ItemFailure::Store)?;
                    return Ok(WriteOutcome {
                        index,
                        id: self.ids.encode(seq),
                        version: 1,
                        seq,
                        result: WriteResult::Created,
                    });
                }
                let key = self.document_key(&write.id);
                let (version, result, replaces) =
                    match partition.lookup_version(&key).map_err(ItemFailure::Store)? {
                        Some(current_version) if write.op == WalOp::Create => {
                            return Err(ItemFailure::Conflict(VersionConflict {
                                index,
                                id: write.id,
                                current_version,
                            }));
                        }
                        Some(current_version) => (current_version + 1, WriteResult::Updated, true),
                        None => (1, WriteResult::Created, false),
                    };
                document.add_u64(fields.version, version);
                if mode == ApplyMode::Live {
                    self.tail_document(&target, &index, &document);
                }
                partition
                    .add(document, seq, Some((&key, version, replaces)))
                    .map_err(ItemFailure::Store)?;
                Ok(WriteOutcome {
                    index,
                    id: write.id,
                    version,
                    seq,
                    result,
                })
            }
        }
    }

    /// Keeps a copy of a document being indexed for the live tails, if any listens.
    fn tail_document(&self, target: &Arc<Target>, index: &str, document: &TantivyDocument) {
        if !self.tailing.load(Ordering::Relaxed) {
            return;
        }
        self.tail_pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(TailEntry {
                target: target.clone(),
                index: index.to_owned(),
                document: document.clone(),
            });
    }

    /// Sends what [`Inner::tail_document`] kept to the tails, once its writes are answered.
    fn publish_tail(&self) {
        let entries = std::mem::take(
            &mut *self
                .tail_pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        if !entries.is_empty() {
            let _ = self.tail.send(Arc::new(entries));
        }
    }

    /// How a partition finds the document `id`: by its `_id` term, and by its sequence number
    /// if this store could have generated it.
    fn document_key<'a>(&self, id: &'a str) -> DocumentKey<'a> {
        DocumentKey {
            id,
            generated_seq: self.ids.decode(id),
        }
    }

    fn remove_target(&self, target: &Arc<Target>) -> StoreResult<()> {
        let _guard = self.lock_catalog();
        let name = target.name();
        let mut targets = self
            .targets
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let is_current = targets
            .get(&name)
            .is_some_and(|current| Arc::ptr_eq(current, target));
        if !is_current {
            return Ok(());
        }
        targets.remove(&name);
        drop(targets);
        // Kept in memory even if persisting fails: start-up drops members that are gone.
        let mut aliases = self
            .aliases
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if aliases.remove_target(&name)
            && let Err(error) = write_json_atomically(
                &self.config.data_dir.join(ALIASES_FILE),
                &*aliases,
                self.config.faults.as_deref(),
            )
        {
            warn!(%error, name, "persisting the aliases of a deleted target failed");
        }
        drop(aliases);
        for partition in target.partitions() {
            let _ = partition.close_writer_if_clean();
        }
        remove_dir(target.dir())?;
        info!(name, "deleted");
        Ok(())
    }

    fn replay(&self, records: Vec<WalRecord>) -> StoreResult<usize> {
        let mut replayed = 0;
        for record in records {
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

    fn prepare_replayed(&self, record: WalRecord) -> StoreResult<Option<PreparedWrite>> {
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

    /// Commits dirty partitions — all of them, or for a scheduled refresh those that are not
    /// search idle — and returns the sequence number now covered by commits: every write up
    /// to it is in a commit, and searchable. Broken partitions are not committed, and hold
    /// the covered sequence number back to their last commit.
    fn refresh_all(&self, kind: RefreshKind) -> Refreshed {
        let _guard = self
            .refresh_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let applied = self.applied_seq.load(Ordering::SeqCst);
        let partitions = self.all_partitions();
        let dirty: Vec<Arc<Partition>> = partitions
            .iter()
            .filter(|partition| partition.is_dirty() && !partition.is_broken())
            .cloned()
            .collect();
        // A `refresh=wait_for` request is waiting: refresh everything, as Elasticsearch does
        // not let a search-idle shard skip a refresh that a listener waits for.
        let waited_for = self.searchable_seq.receiver_count() > 0;
        let (mut due, mut passed_over): (Vec<_>, Vec<_>) =
            match (kind, self.config.search_idle_after) {
                (RefreshKind::Scheduled, Some(idle_after)) if !waited_for => {
                    dirty.into_iter().partition(|partition| {
                        !partition.is_search_idle(idle_after)
                            || partition.needs_commit_while_idle(
                                IDLE_WRITER_TIMEOUT,
                                IDLE_COMMIT_WRITES,
                                IDLE_COMMIT_AGE,
                            )
                    })
                }
                _ => (dirty, Vec::new()),
            };
        let mut buffered: Vec<u64> = passed_over
            .iter()
            .map(|partition| partition.uncommitted_writes())
            .collect();
        while buffered.iter().sum::<u64>() > self.config.idle_buffered_writes {
            let Some(fullest) = (0..buffered.len()).max_by_key(|&index| buffered[index]) else {
                break;
            };
            buffered.swap_remove(fullest);
            due.push(passed_over.swap_remove(fullest));
        }
        // The log is shared: a partition passed over keeps every record after its last
        // commit, whichever partition it belongs to. One that holds back too much of it is
        // committed, which bounds the log on disk and the replay after a crash.
        let (behind, kept): (Vec<_>, Vec<_>) = passed_over.into_iter().partition(|partition| {
            applied.saturating_sub(partition.committed_seq()) > self.config.idle_log_records
        });
        due.extend(behind);
        let passed_over = kept;
        let (committed, failure) = commit_all(&due);
        // A refresh that leaves writes unsearchable has failed, whichever round broke them.
        let failure =
            failure.or_else(|| partitions.iter().find_map(|partition| partition.broken()));
        if let Some(error) = &failure
            && error.is_disk_full()
        {
            self.disk.note_disk_full(&error.to_string());
        }
        // The log is still needed from the last commit of every partition holding writes
        // no commit contains: those passed over, those whose commit failed, those broken.
        let covered = partitions
            .iter()
            .filter(|partition| partition.is_dirty())
            .map(|partition| partition.committed_seq())
            .fold(applied, u64::min);
        self.searchable_seq.send_if_modified(|searchable| {
            let advanced = covered > *searchable;
            if advanced {
                *searchable = covered;
            }
            advanced
        });
        if committed > 0 || !passed_over.is_empty() {
            debug!(
                committed,
                search_idle = passed_over.len(),
                applied,
                covered,
                "refreshed"
            );
        }
        Refreshed { covered, failure }
    }

    /// Whether a partition waits for recovery.
    fn has_broken_partitions(&self) -> bool {
        self.all_partitions()
            .iter()
            .any(|partition| partition.is_broken())
    }

    /// Recovers every broken partition from the log (on the writer thread, which owns the
    /// log and orders every write): each is reset to its last durable commit and given its
    /// writes since again, in their order. One that fails again stays broken.
    fn recover_broken_partitions(&self, wal: &Wal) {
        let broken: Vec<(Arc<Target>, Arc<Partition>)> = self
            .read_targets()
            .values()
            .flat_map(|target| {
                target
                    .partitions()
                    .into_iter()
                    .filter(|partition| partition.is_broken())
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

    /// Records the last sequence number handed out, then trims the log through `covered`.
    /// The state goes first: a log trimmed past the last sequence number `state.json`
    /// knows would let the next start hand out numbers (and generated ids) again.
    fn checkpoint(&self, wal: &mut Wal, covered: u64, last: u64) {
        if let Err(error) = self.persist_state(last) {
            warn!(%error, "persisting the store state failed; the write-ahead log is kept");
            if error.is_disk_full() {
                self.disk.note_disk_full(&error.to_string());
            }
            return;
        }
        if let Err(error) = wal.remove_through(covered, last) {
            error!(%error, "trimming the write-ahead log failed");
        }
    }

    /// Closes every partition writer, waiting for running merges.
    fn close_writers(&self) -> StoreResult<()> {
        let started = Instant::now();
        let mut closed = 0;
        for partition in self.all_partitions() {
            if partition.close_writer()? {
                closed += 1;
            }
        }
        let elapsed = started.elapsed();
        if elapsed >= Duration::from_secs(1) {
            info!(
                closed,
                elapsed_ms = elapsed.as_millis() as u64,
                "waited for running merges before stopping"
            );
        } else if closed > 0 {
            debug!(
                closed,
                elapsed_ms = elapsed.as_millis() as u64,
                "partition writers closed"
            );
        }
        Ok(())
    }

    /// Every partition of every target.
    fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.read_targets()
            .values()
            .flat_map(|target| target.partitions())
            .collect()
    }

    fn close_idle_writers(&self) {
        for partition in self.all_partitions() {
            if partition.idle_for() > IDLE_WRITER_TIMEOUT
                && let Err(error) = partition.close_writer_if_clean()
            {
                warn!(%error, index = %partition.meta().name, "closing an idle writer failed");
            }
        }
    }

    /// The data stream that owns the backing index `name`.
    fn find_partition_owner(&self, name: &str) -> Option<Arc<Target>> {
        self.read_targets()
            .values()
            .find(|target| {
                target
                    .partitions()
                    .iter()
                    .any(|partition| partition.meta().name == name)
            })
            .cloned()
    }

    /// The one target an alias names, for single-document reads.
    fn single_alias_member(&self, name: &str) -> StoreResult<Arc<Target>> {
        let aliases = self.read_aliases();
        let Some(members) = aliases.members(name) else {
            return Err(StoreError::IndexNotFound(name.to_owned()));
        };
        let names: Vec<&str> = members.keys().map(String::as_str).collect();
        match names.as_slice() {
            [only] => self
                .get_target(only)
                .ok_or_else(|| StoreError::IndexNotFound((*only).to_owned())),
            _ => Err(StoreError::IllegalArgument(format!(
                "alias [{name}] has more than one index associated with it [{}], can't execute a single index op",
                names.join(", ")
            ))),
        }
    }

    fn get_document(&self, name: &str, id: &str) -> StoreResult<Lookup> {
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
            if let Some((version, source)) = partition.get_committed(&key)? {
                return Ok(Lookup::Found(StoredDocument {
                    index: partition.meta().name.clone(),
                    version,
                    source,
                }));
            }
        }
        Ok(Lookup::Missing)
    }

    /// The lifecycle policy a data stream's template names in `index.lifecycle.name`.
    fn lifecycle_name(&self, meta: &TargetMeta) -> Option<String> {
        if meta.kind != TargetKind::DataStream {
            return None;
        }
        let template_name = meta.template.as_ref()?;
        let templates = self
            .templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        compose(templates.get(template_name)?, &self.read_components()).lifecycle_name()
    }

    fn effective_retention(&self, meta: &TargetMeta) -> Option<(String, &'static str)> {
        // A failure store keeps its documents as long as its data stream keeps its own.
        if let Some(stream) = failure_store_parent(&meta.name) {
            let stream = self.get_target(stream)?;
            return self.effective_retention(&stream.meta());
        }
        if let Some(retention) = &meta.retention {
            return Some((retention.clone(), "data_stream_configuration"));
        }
        if let Some(policy_name) = self.lifecycle_name(meta) {
            let policies = self
                .lifecycle_policies
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(policy) = policies.get(&policy_name) {
                return policy
                    .delete_after
                    .clone()
                    .map(|min_age| (min_age, "index_lifecycle_policy"));
            }
        }
        self.config
            .retention_rules
            .iter()
            .find(|rule| wildcard_match(&rule.pattern, &meta.name))
            .map(|rule| (format_duration(rule.max_age), "logfleet_configuration"))
    }

    fn enforce_retention(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        let targets: Vec<Arc<Target>> = self.read_targets().values().cloned().collect();
        let mut dropped = Vec::new();
        for target in targets {
            if target.kind() != TargetKind::DataStream {
                continue;
            }
            let meta = target.meta();
            let Some((retention, _)) = self.effective_retention(&meta) else {
                continue;
            };
            let Ok(max_age) = parse_time_value(&retention) else {
                warn!(stream = %meta.name, retention, "ignoring an unparsable retention");
                continue;
            };
            let cutoff = now_ms - max_age.as_millis() as i64;
            let names = target.drop_partitions_before(cutoff)?;
            for name in &names {
                info!(stream = %meta.name, index = %name, retention, "retention dropped an expired partition");
            }
            dropped.extend(names);
        }
        Ok(dropped)
    }
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
