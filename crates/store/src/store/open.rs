//! Opening a store: the data directory's lock, its catalog files and targets, the on-disk
//! format check, replaying the write-ahead log and starting the writer thread.

use std::collections::BTreeMap;
use std::fs;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::IndexSettings;
use tantivy::schema::Schema;
use tantivy::store::{Compressor, ZstdCompressor};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{info, warn};

use super::catalog::cluster::CLUSTER_SETTINGS_FILE;
use super::catalog::lifecycle::LIFECYCLE_POLICIES_FILE;
use super::catalog::templates::TEMPLATES_FILE;
use super::refresh::RefreshKind;
use super::types::StoreConfig;
use super::write::WRITE_QUEUE_DEPTH;
use super::{Inner, Store};
use crate::alias::{ALIASES_FILE, AliasTable};
use crate::component_template::COMPONENT_TEMPLATES_FILE;
use crate::disk::DiskGuard;
use crate::error::{StoreError, StoreResult};
use crate::ids::IdCodec;
use crate::legacy_template::LEGACY_TEMPLATES_FILE;
use crate::lock::DataDirLock;
use crate::objects::Objects;
use crate::partition::PartitionSettings;
use crate::persist::{Persisted, read_json, write_json_atomically};
use crate::schema::{Fields, build_schema};
use crate::tail::TAIL_CAPACITY;
use crate::target::Target;
use crate::wal::Wal;

/// The on-disk format this build writes and reads. Format 1 (no `format` in `state.json`)
/// indexed generated ids, used FST term dictionaries and stored whole sources; format 2
/// derives generated ids from `_seq`, uses block-compressed sorted-string term dictionaries
/// and stores source skeletons (see [`crate::skeleton`]).
pub(super) const FORMAT: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StoreState {
    pub(super) last_seq: u64,
    #[serde(default = "first_format")]
    pub(super) format: u32,
    /// Generates and recognises this store's document ids; drawn when the store is created.
    #[serde(default)]
    pub(super) id_salt: Option<IdCodec>,
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
        let catalog_file = |name: &str| data_dir.join(name);
        let faults = || config.faults.clone();
        let templates = Persisted::load(catalog_file(TEMPLATES_FILE), faults())?;
        let legacy_templates = Persisted::load(catalog_file(LEGACY_TEMPLATES_FILE), faults())?;
        let component_templates =
            Persisted::load(catalog_file(COMPONENT_TEMPLATES_FILE), faults())?;
        let lifecycle_policies = Persisted::load(catalog_file(LIFECYCLE_POLICIES_FILE), faults())?;
        let aliases: Persisted<AliasTable> = Persisted::load(catalog_file(ALIASES_FILE), faults())?;
        let cluster_settings = Persisted::load(catalog_file(CLUSTER_SETTINGS_FILE), faults())?;
        // A crash between deleting a target and updating the table leaves members that no
        // longer exist; they are dropped here.
        aliases.update(|aliases| {
            let vanished: Vec<String> = aliases
                .iter()
                .flat_map(|(_, members)| members.keys())
                .filter(|member| !targets.contains_key(*member))
                .cloned()
                .collect();
            for member in &vanished {
                aliases.remove_target(member);
            }
            Ok(!vanished.is_empty())
        })?;
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
            templates,
            legacy_templates,
            component_templates,
            lifecycle_policies,
            cluster_settings,
            aliases,
            catalog_lock: Mutex::new(()),
            last_seq: AtomicU64::new(highest_known),
            applied_seq: AtomicU64::new(highest_known),
            searchable_seq,
            refresh_lock: Mutex::new(()),
            ids,
            disk,
            write_failure: OnceLock::new(),
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
}

impl Inner {
    pub(super) fn persist_state(&self, last_seq: u64) -> StoreResult<()> {
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
}

pub(super) fn first_format() -> u32 {
    1
}

pub(super) fn partition_settings(
    config: &StoreConfig,
    schema: Schema,
    fields: Fields,
) -> PartitionSettings {
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

pub(super) fn open_targets(
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
