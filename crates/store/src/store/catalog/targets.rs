//! Targets: creating and deleting indexes and data streams, their mappings, settings and
//! statistics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use tracing::{info, warn};

use crate::error::{StoreError, StoreResult};
use crate::expression::Expression;
use crate::failure_store::{self, failure_store_name, failure_store_parent, has_selector};
use crate::mapping::{DynamicStyle, Mapping};
use crate::settings;
use crate::store::catalog::CatalogGuard;
use crate::store::types::{DataStreamInfo, IndexStats, ItemFailure, PreparedWrite};
use crate::store::{Inner, Store};
use crate::sync::RwLockExt;
use crate::target::{
    IngestPipelineSettings, Target, TargetKind, TargetMeta, new_uuid, now_millis, remove_dir,
};
use crate::template::{IndexTemplate, parse_aliases, string_setting, total_fields_limit_setting};
use crate::time_value::parse_time_value;

impl Store {
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

    /// Creates an empty data stream (`PUT /_data_stream/{name}`).
    pub fn create_data_stream(&self, name: &str) -> StoreResult<()> {
        let catalog = self.inner.lock_catalog();
        if self.inner.get_target(name).is_some() {
            return Err(StoreError::AlreadyExists(name.to_owned()));
        }
        match self.inner.template_for(name) {
            Some(template) if template.data_stream => {
                self.inner.create_target(
                    &catalog,
                    name,
                    TargetKind::DataStream,
                    Some(&template),
                    None,
                    None,
                )?;
                Ok(())
            }
            _ if is_builtin_data_stream(name) => {
                self.inner.create_target(
                    &catalog,
                    name,
                    TargetKind::DataStream,
                    None,
                    None,
                    None,
                )?;
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
        let _catalog = self.inner.lock_catalog();
        let mut mapping = (*target.mapping()).clone();
        mapping.merge_explicit(body)?;
        let settings = target.meta().recorded_settings;
        mapping.resolve_normalizers(|key| settings.get(key).cloned())?;
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
        let targets = self.named_targets(names)?;
        for target in targets {
            let current = target.meta().ingest;
            target.set_ingest(IngestPipelineSettings {
                default_pipeline: updated_setting(default_pipeline, current.default_pipeline),
                final_pipeline: updated_setting(final_pipeline, current.final_pipeline),
            })?;
        }
        Ok(())
    }

    /// The targets `names` (each an index or data stream name), or the first that is missing.
    fn named_targets(&self, names: &[String]) -> StoreResult<Vec<Arc<Target>>> {
        names
            .iter()
            .map(|name| {
                self.inner
                    .get_target(name)
                    .ok_or_else(|| StoreError::IndexNotFound(name.clone()))
            })
            .collect()
    }

    /// Sets `index.lifecycle.name` and `index.lifecycle.rollover_alias` of the targets
    /// `names`: `None` keeps a setting, an empty name removes it.
    pub fn set_index_lifecycle(
        &self,
        names: &[String],
        policy: Option<&str>,
        rollover_alias: Option<&str>,
    ) -> StoreResult<()> {
        let targets = self.named_targets(names)?;
        for target in targets {
            let meta = target.meta();
            target.set_lifecycle(
                updated_setting(policy, meta.lifecycle_policy),
                updated_setting(rollover_alias, meta.rollover_alias),
            )?;
        }
        Ok(())
    }

    /// The recorded settings of every index and data stream (see [`crate::settings`]), by
    /// name.
    pub fn recorded_settings(&self) -> BTreeMap<String, BTreeMap<String, Value>> {
        self.inner
            .read_targets()
            .values()
            .map(|target| {
                let meta = target.meta();
                (meta.name, meta.recorded_settings)
            })
            .collect()
    }

    /// Applies `PUT /{index}/_settings` to the recorded settings of the targets `names` (see
    /// [`crate::settings`]): all of them or, on a setting an open index cannot change, none.
    pub fn update_recorded_settings(&self, names: &[String], update: &Value) -> StoreResult<()> {
        let targets = self.named_targets(names)?;
        let updated = targets
            .iter()
            .map(|target| {
                let meta = target.meta();
                settings::updated(&meta.name, &meta.recorded_settings, update)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        for (target, settings) in targets.iter().zip(updated) {
            target.set_recorded_settings(settings)?;
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

    /// One row per concrete index.
    pub fn index_stats(&self) -> Vec<IndexStats> {
        let targets = self.inner.read_targets().clone();
        let mut rows = Vec::new();
        for target in targets.values() {
            let kind = target.kind();
            let target_name = target.name();
            for partition in target.partitions() {
                let meta = partition.meta();
                let (index_total, query_total) = partition.activity();
                rows.push(IndexStats {
                    index: meta.name.clone(),
                    uuid: meta.uuid.clone(),
                    target: target_name.clone(),
                    kind,
                    docs_count: partition.doc_count(),
                    docs_deleted: partition.deleted_count(),
                    store_bytes: partition.size_on_disk(),
                    creation_date_ms: meta.creation_date_ms,
                    index_total,
                    query_total,
                });
            }
        }
        rows
    }

    /// Data streams whose names `names` selects (a comma list with wildcards).
    pub fn data_streams(&self, names: &str) -> Vec<DataStreamInfo> {
        let names = Expression::parse(names);
        let targets = self.inner.read_targets().clone();
        targets
            .values()
            .filter(|target| target.kind() == TargetKind::DataStream)
            .filter(|target| {
                let name = target.name();
                !has_selector(&name) && names.matches(&name)
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
}

impl Inner {
    pub(in crate::store) fn create_target(
        &self,
        catalog: &CatalogGuard<'_>,
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
        // The template's settings, then the request's, which win.
        let recorded_settings: BTreeMap<String, Value> = template
            .and_then(IndexTemplate::settings)
            .into_iter()
            .chain(explicit.and_then(|body| body.get("settings")))
            .flat_map(settings::recorded_at_creation)
            .collect();
        mapping.resolve_normalizers(|key| recorded_settings.get(key).cloned())?;
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
            recorded_settings,
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
            .write_or_recover()
            .insert(name.to_owned(), target.clone());
        if !aliases.is_empty() {
            let added = self.update_alias_table(catalog, |table| {
                for (alias, properties) in aliases {
                    table.add(&alias, name, properties);
                }
                Ok(true)
            });
            if let Err(error) = added {
                // The request fails as a whole: the target it created goes again.
                self.targets.write_or_recover().remove(name);
                let _ = remove_dir(target.dir());
                return Err(error);
            }
        }
        info!(name, kind = ?kind, "created");
        Ok(target)
    }

    pub(in crate::store) fn create_index(
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
        let catalog = self.lock_catalog();
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
        self.create_target(
            &catalog,
            name,
            TargetKind::Index,
            template.as_ref(),
            Some(body),
            provided_name,
        )?;
        Ok(())
    }

    pub(in crate::store) fn remove_target(&self, target: &Arc<Target>) -> StoreResult<()> {
        let _catalog = self.lock_catalog();
        let name = target.name();
        let mut targets = self.targets.write_or_recover();
        let is_current = targets
            .get(&name)
            .is_some_and(|current| Arc::ptr_eq(current, target));
        if !is_current {
            return Ok(());
        }
        targets.remove(&name);
        drop(targets);
        // Kept in memory even if persisting fails: start-up drops members that are gone.
        if let Err(error) = self
            .aliases
            .update_even_if_unpersisted(|aliases| aliases.remove_target(&name))
        {
            warn!(%error, name, "persisting the aliases of a deleted target failed");
        }
        for partition in target.partitions() {
            let _ = partition.close_writer_if_clean();
        }
        remove_dir(target.dir())?;
        info!(name, "deleted");
        Ok(())
    }
}

pub(in crate::store) fn is_builtin_data_stream(name: &str) -> bool {
    name == "logs" || name.starts_with("logs-")
}

/// Directory names are derived from target names, which are valid index names (no `/`), but
/// may start with `.`; prefix them so they never collide with the store's own entries.
pub(in crate::store) fn target_dir_name(name: &str) -> String {
    format!("t-{name}")
}

/// A setting after an update: unchanged when not `given`, removed when given empty.
fn updated_setting(given: Option<&str>, current: Option<String>) -> Option<String> {
    match given {
        None => current,
        Some("") => None,
        Some(name) => Some(name.to_owned()),
    }
}
