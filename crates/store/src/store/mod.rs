//! The store: the catalog of indexes and data streams, the write path through the
//! write-ahead log, refresh, retention, and what searches read.
//!
//! [`Store`] is a cheap handle on the shared state, `Inner`; each concern is an `impl` block
//! of its own file, in data-flow order:
//!
//! - `open.rs`: opening a data directory — its lock, catalog files, targets, format check —
//!   replaying the log and starting the writer thread.
//! - `types.rs`: the public types (configuration, write requests and outcomes, search
//!   shards, catalog reports).
//! - `write.rs`: preparing a write against its target's mapping (auto-creating targets), the
//!   writer thread's group commit, and applying logged writes to partitions.
//! - `replay.rs`: reading the log back at start-up and for broken partitions.
//! - `refresh.rs`: commits, log trimming, idle writers, the background tasks, shutdown.
//! - `search.rs` and `resolve.rs`: what searches read, and index expressions resolved to
//!   targets and concrete indexes.
//! - `catalog/`: targets, aliases, templates, lifecycle policies and retention, rollover. Its
//!   files are kept on disk through [`crate::persist::Persisted`], which changes memory only
//!   once the new version is durable.
//!
//! # Lock order
//!
//! A thread that holds several of the store's locks takes them in this order:
//!
//! 1. the catalog lock (`catalog::CatalogGuard`), which serialises target creation and
//!    deletion, alias changes, rollover and mapping updates. A function that must run under
//!    it takes a `&CatalogGuard` instead of saying so in a comment;
//! 2. the refresh lock, taken by refreshes alone;
//! 3. the alias table before the targets map; the index templates before the component
//!    templates; the legacy templates and lifecycle policies on their own;
//! 4. last, a target's and a partition's own locks, which never reach back to the store's.
//!
//! The other mutexes (tail buffer, recovery timer, data directory lock) guard one value
//! each and are held only around it. Poisoned locks are taken all the same (see
//! [`crate::sync`]).

mod catalog;
mod open;
mod refresh;
mod replay;
mod resolve;
mod search;
mod types;
mod write;

pub use catalog::rollover::RolloverRequest;
pub use types::{
    AliasResult, DataStreamInfo, DocumentOp, IndexLifecycle, IndexStats, ItemFailure,
    ManagedLifecycle, PRIMARY_TERM, PolicyUsage, PreparedWrite, ResolvedTarget, RetentionRule,
    RolloverOutcome, SearchShard, StoreConfig, StoredDocument, VersionConflict, WriteCondition,
    WriteOutcome, WriteRequest, WriteResult, format_duration,
};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::alias::AliasTable;
use crate::cluster_settings::ClusterSettings;
use crate::component_template::ComponentTemplate;
use crate::disk::{DiskGuard, DiskSpace, WriteBlock};
use crate::error::StoreResult;
use crate::ids::IdCodec;
use crate::legacy_template::LegacyTemplate;
use crate::lifecycle::LifecyclePolicy;
use crate::lock::DataDirLock;
use crate::objects::Objects;
use crate::partition::PartitionSettings;
use crate::persist::Persisted;
use crate::schema::Fields;
use crate::tail::{Tail, TailBatch, TailEntry};
use crate::target::Target;
use crate::template::IndexTemplate;
use crate::wal::WalRecord;

/// Where the writer thread sends each batch's outcomes.
type OutcomeSender = oneshot::Sender<Vec<Result<WriteOutcome, ItemFailure>>>;

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
    templates: Persisted<BTreeMap<String, IndexTemplate>>,
    legacy_templates: Persisted<BTreeMap<String, LegacyTemplate>>,
    component_templates: Persisted<BTreeMap<String, ComponentTemplate>>,
    lifecycle_policies: Persisted<BTreeMap<String, LifecyclePolicy>>,
    aliases: Persisted<AliasTable>,
    /// `PUT /_cluster/settings` (the persistent ones on disk).
    cluster_settings: Persisted<ClusterSettings>,
    /// Serialises target creation and deletion, alias changes, rollover and mapping
    /// updates; taken through `lock_catalog`, first of all the locks.
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
    /// Why writes are refused until a restart, once they are: the device failed under the
    /// write-ahead log or a partition.
    write_failure: OnceLock<String>,
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
    /// The tantivy field handles shared by every partition.
    pub fn fields(&self) -> &Fields {
        &self.inner.partition_settings.fields
    }

    /// The configuration the store runs with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// Why writes are refused, if they are: the flood stage, or a device that failed under
    /// the write-ahead log or a partition. Measures the disk anew.
    pub fn write_block(&self) -> Option<WriteBlock> {
        if let Some(reason) = self.inner.write_failure.get() {
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

    /// Bytes under the data directory.
    pub fn disk_usage(&self) -> u64 {
        crate::partition::directory_size(&self.inner.config.data_dir)
    }
}
