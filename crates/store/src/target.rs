//! Write and search targets: plain indexes (one partition) and data streams (one partition per
//! time bucket, named like Elasticsearch's backing indexes).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{StoreError, StoreResult};
use crate::faults::Faults;
use crate::mapping::Mapping;
use crate::partition::{Partition, PartitionMeta, PartitionSettings};
use crate::persist::{read_json, write_json_atomically};
use crate::sync::{MutexExt, RwLockExt};

const META_FILE: &str = "target.json";
const PARTITIONS_DIR: &str = "partitions";
/// Data stream partitions cover one UTC day.
pub const BUCKET_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// Whether a target is a plain index or a data stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A plain index: one partition, documents can be replaced and deleted by id.
    Index,
    /// A data stream: append-only, time-partitioned.
    DataStream,
}

/// What a target's directory records about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetMeta {
    /// The name clients use.
    pub name: String,
    /// Index or data stream.
    pub kind: TargetKind,
    /// A unique id.
    pub uuid: String,
    /// The write-ahead log sequence number current when the target was created; replay
    /// ignores older records, which belonged to a deleted target of the same name.
    pub created_seq: u64,
    /// Creation time, epoch milliseconds.
    pub creation_date_ms: i64,
    /// The fields.
    pub mapping: Mapping,
    /// Data stream lifecycle `data_retention` (`7d`), when set on the stream itself.
    #[serde(default)]
    pub retention: Option<String>,
    /// The index template the target was created from.
    #[serde(default)]
    pub template: Option<String>,
    /// Generation number of the next data stream backing index.
    pub next_generation: u32,
    /// The name as the creating request gave it, when that was date math
    /// (`<logs-{now/d}-000001>`): rollover derives the next name from it.
    #[serde(default)]
    pub provided_name: Option<String>,
    /// When a rollover moved the alias's writes to a newer index, epoch milliseconds.
    #[serde(default)]
    pub rolled_over_ms: Option<i64>,
    /// A plain index's `index.lifecycle.name` setting: the policy it follows.
    #[serde(default)]
    pub lifecycle_policy: Option<String>,
    /// A plain index's `index.lifecycle.rollover_alias` setting.
    #[serde(default)]
    pub rollover_alias: Option<String>,
    /// `index.default_pipeline` and `index.final_pipeline`.
    #[serde(default, skip_serializing_if = "IngestPipelineSettings::is_empty")]
    pub ingest: IngestPipelineSettings,
    /// Index settings kept as they were given, without a `index.` prefix
    /// (`refresh_interval`, `codec`, `max_result_window`…), which `GET /{index}/_settings`
    /// shows as Elasticsearch would; see [`crate::settings::recorded_at_creation`].
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub recorded_settings: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The ingest pipelines an index names in its settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestPipelineSettings {
    /// `index.default_pipeline`: runs when a write names no pipeline (`_none` is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_pipeline: Option<String>,
    /// `index.final_pipeline`: runs after every other pipeline, always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_pipeline: Option<String>,
}

impl IngestPipelineSettings {
    /// Whether neither is set.
    pub fn is_empty(&self) -> bool {
        self.default_pipeline.is_none() && self.final_pipeline.is_none()
    }

    /// Reads them from index settings in any shape Elasticsearch takes (flat or nested, with
    /// or without `index.`). `_none` is kept: it says "none" where a default would apply.
    pub fn from_settings(settings: &serde_json::Value) -> IngestPipelineSettings {
        let read = |key: &str| crate::template::string_setting(settings, key);
        IngestPipelineSettings {
            default_pipeline: read("default_pipeline"),
            final_pipeline: read("final_pipeline"),
        }
    }
}

/// An index or data stream, with its partitions.
#[derive(Debug)]
pub struct Target {
    dir: PathBuf,
    meta: Mutex<TargetMeta>,
    mapping: RwLock<Arc<Mapping>>,
    partitions: RwLock<Vec<Arc<Partition>>>,
    faults: Option<Arc<Faults>>,
}

impl Target {
    /// Creates a target on disk. A plain index gets its single partition at once.
    pub fn create(
        dir: &Path,
        meta: TargetMeta,
        settings: &PartitionSettings,
    ) -> StoreResult<Target> {
        fs::create_dir_all(dir.join(PARTITIONS_DIR))
            .map_err(|error| StoreError::io(format!("creating {}", dir.display()), error))?;
        write_json_atomically(&dir.join(META_FILE), &meta, settings.faults.as_deref())?;
        let target = Target {
            dir: dir.to_owned(),
            mapping: RwLock::new(Arc::new(meta.mapping.clone())),
            meta: Mutex::new(meta),
            partitions: RwLock::new(Vec::new()),
            faults: settings.faults.clone(),
        };
        if target.kind() == TargetKind::Index {
            let name = target.name();
            let uuid = target.lock_meta().uuid.clone();
            let partition_meta = PartitionMeta {
                name: name.clone(),
                uuid,
                bucket_start_ms: None,
                bucket_end_ms: None,
                creation_date_ms: now_millis(),
            };
            let partition =
                Partition::create(&target.partition_dir(&name), partition_meta, settings)?;
            target.write_partitions().push(Arc::new(partition));
        }
        Ok(target)
    }

    /// Opens a target and its partitions.
    pub fn open(dir: &Path, settings: &PartitionSettings) -> StoreResult<Target> {
        let meta: TargetMeta = read_json(&dir.join(META_FILE))?;
        let mut partitions = Vec::new();
        let partitions_dir = dir.join(PARTITIONS_DIR);
        let entries = fs::read_dir(&partitions_dir).map_err(|error| {
            StoreError::io(format!("listing {}", partitions_dir.display()), error)
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| StoreError::io("listing partitions", error))?;
            if entry.path().join("partition.json").exists() {
                partitions.push(Arc::new(Partition::open(&entry.path(), settings)?));
            } else {
                // A partition whose creation was interrupted before its metadata was written
                // holds no acknowledged data.
                tracing::warn!(path = %entry.path().display(), "removing an incomplete partition");
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        partitions.sort_by_key(|partition| partition.meta().bucket_start_ms);
        Ok(Target {
            dir: dir.to_owned(),
            mapping: RwLock::new(Arc::new(meta.mapping.clone())),
            meta: Mutex::new(meta),
            partitions: RwLock::new(partitions),
            faults: settings.faults.clone(),
        })
    }

    fn lock_meta(&self) -> MutexGuard<'_, TargetMeta> {
        self.meta.lock_or_recover()
    }

    fn write_partitions(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<Partition>>> {
        self.partitions.write_or_recover()
    }

    fn partition_dir(&self, name: &str) -> PathBuf {
        self.dir.join(PARTITIONS_DIR).join(name)
    }

    /// The target's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The name clients use.
    pub fn name(&self) -> String {
        self.lock_meta().name.clone()
    }

    /// Index or data stream.
    pub fn kind(&self) -> TargetKind {
        self.lock_meta().kind
    }

    /// The write-ahead log sequence number the target was created at.
    pub fn created_seq(&self) -> u64 {
        self.lock_meta().created_seq
    }

    /// A copy of the metadata (with the mapping: not for hot paths).
    pub fn meta(&self) -> TargetMeta {
        let mut meta = self.lock_meta().clone();
        meta.mapping = (*self.mapping()).clone();
        meta
    }

    /// The current mapping.
    pub fn mapping(&self) -> Arc<Mapping> {
        self.mapping.read_or_recover().clone()
    }

    /// Replaces the mapping, persisting it first.
    pub fn set_mapping(&self, mapping: Mapping) -> StoreResult<()> {
        let mut meta = self.lock_meta();
        meta.mapping = mapping.clone();
        write_json_atomically(&self.dir.join(META_FILE), &*meta, self.faults.as_deref())?;
        *self.mapping.write_or_recover() = Arc::new(mapping);
        Ok(())
    }

    /// Sets (or clears) the data stream's own retention, persisting it.
    pub fn set_retention(&self, retention: Option<String>) -> StoreResult<()> {
        let mut meta = self.lock_meta();
        meta.retention = retention;
        meta.mapping = (*self.mapping()).clone();
        write_json_atomically(&self.dir.join(META_FILE), &*meta, self.faults.as_deref())
    }

    /// Replaces the ingest pipeline settings, persisting them.
    pub fn set_ingest(&self, ingest: IngestPipelineSettings) -> StoreResult<()> {
        let mut meta = self.lock_meta();
        meta.ingest = ingest;
        meta.mapping = (*self.mapping()).clone();
        write_json_atomically(&self.dir.join(META_FILE), &*meta, self.faults.as_deref())
    }

    /// Sets the lifecycle policy and rollover alias (`index.lifecycle.*`), persisting them.
    pub fn set_lifecycle(
        &self,
        policy: Option<String>,
        rollover_alias: Option<String>,
    ) -> StoreResult<()> {
        let mut meta = self.lock_meta();
        meta.lifecycle_policy = policy;
        meta.rollover_alias = rollover_alias;
        meta.mapping = (*self.mapping()).clone();
        write_json_atomically(&self.dir.join(META_FILE), &*meta, self.faults.as_deref())
    }

    /// Replaces the recorded settings, persisting them.
    pub fn set_recorded_settings(
        &self,
        settings: std::collections::BTreeMap<String, serde_json::Value>,
    ) -> StoreResult<()> {
        let mut meta = self.lock_meta();
        meta.recorded_settings = settings;
        meta.mapping = (*self.mapping()).clone();
        write_json_atomically(&self.dir.join(META_FILE), &*meta, self.faults.as_deref())
    }

    /// Records that a rollover moved writes away from this index, persisting it.
    pub fn set_rolled_over(&self, at_ms: i64) -> StoreResult<()> {
        let mut meta = self.lock_meta();
        meta.rolled_over_ms = Some(at_ms);
        meta.mapping = (*self.mapping()).clone();
        write_json_atomically(&self.dir.join(META_FILE), &*meta, self.faults.as_deref())
    }

    /// The partitions, oldest bucket first.
    pub fn partitions(&self) -> Vec<Arc<Partition>> {
        self.partitions.read_or_recover().clone()
    }

    /// The partition a document with this timestamp belongs to, created if needed. Plain
    /// indexes have exactly one.
    pub fn partition_for(
        &self,
        timestamp_millis: Option<i64>,
        settings: &PartitionSettings,
    ) -> StoreResult<Arc<Partition>> {
        if self.kind() == TargetKind::Index {
            return self
                .partitions()
                .into_iter()
                .next()
                .ok_or(StoreError::Closed);
        }
        let millis = timestamp_millis.unwrap_or_else(now_millis);
        let bucket_start = millis.div_euclid(BUCKET_MILLIS) * BUCKET_MILLIS;
        let existing = self
            .partitions()
            .into_iter()
            .find(|partition| partition.meta().bucket_start_ms == Some(bucket_start));
        if let Some(partition) = existing {
            return Ok(partition);
        }
        let mut partitions = self.write_partitions();
        if let Some(partition) = partitions
            .iter()
            .find(|partition| partition.meta().bucket_start_ms == Some(bucket_start))
        {
            return Ok(partition.clone());
        }
        let (name, uuid) = {
            let mut meta = self.lock_meta();
            let generation = meta.next_generation;
            meta.next_generation += 1;
            meta.mapping = (*self.mapping()).clone();
            write_json_atomically(&self.dir.join(META_FILE), &*meta, self.faults.as_deref())?;
            let date = OffsetDateTime::from_unix_timestamp(bucket_start / 1000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let name = format!(
                "{}-{:04}.{:02}.{:02}-{generation:06}",
                crate::failure_store::partition_prefix(&meta.name),
                date.year(),
                u8::from(date.month()),
                date.day()
            );
            (name, new_uuid())
        };
        let partition_meta = PartitionMeta {
            name: name.clone(),
            uuid,
            bucket_start_ms: Some(bucket_start),
            bucket_end_ms: Some(bucket_start + BUCKET_MILLIS),
            creation_date_ms: now_millis(),
        };
        let partition = Arc::new(Partition::create(
            &self.partition_dir(&name),
            partition_meta,
            settings,
        )?);
        partitions.push(partition.clone());
        partitions.sort_by_key(|partition| partition.meta().bucket_start_ms);
        Ok(partition)
    }

    /// Removes partitions whose bucket ended at or before `cutoff_millis`; returns their names.
    pub fn drop_partitions_before(&self, cutoff_millis: i64) -> StoreResult<Vec<String>> {
        let expired: Vec<Arc<Partition>> = {
            let mut partitions = self.write_partitions();
            let (expired, kept) = partitions.drain(..).partition(|partition| {
                partition
                    .meta()
                    .bucket_end_ms
                    .is_some_and(|end| end <= cutoff_millis)
            });
            *partitions = kept;
            expired
        };
        let mut names = Vec::new();
        for partition in expired {
            remove_dir(partition.dir())?;
            names.push(partition.meta().name.clone());
        }
        Ok(names)
    }
}

/// Removes a directory tree, renaming it first so that a crash mid-way never leaves a
/// half-deleted directory that looks valid.
pub fn remove_dir(dir: &Path) -> StoreResult<()> {
    let Some(name) = dir.file_name() else {
        return Ok(());
    };
    let mut doomed = dir.to_owned();
    doomed.set_file_name(format!(
        ".deleting-{}-{}",
        name.to_string_lossy(),
        new_uuid()
    ));
    fs::rename(dir, &doomed)
        .map_err(|error| StoreError::io(format!("deleting {}", dir.display()), error))?;
    fs::remove_dir_all(&doomed)
        .map_err(|error| StoreError::io(format!("deleting {}", doomed.display()), error))
}

/// The current time in epoch milliseconds.
pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A random 22-character id in Elasticsearch's url-safe base64 alphabet.
pub fn new_uuid() -> String {
    crate::ids::random_base64(16)
}
