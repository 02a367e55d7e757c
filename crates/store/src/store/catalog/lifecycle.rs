//! Lifecycle policies (ILM) and retention: what a policy asks of each index now, and the
//! background run that does it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tracing::{info, warn};

use crate::component_template::compose;
use crate::error::{StoreError, StoreResult};
use crate::expression::{Expression, wildcard_match};
use crate::failure_store::failure_store_parent;
use crate::lifecycle::LifecyclePolicy;
use crate::rollover::RolloverConditions;
use crate::store::catalog::rollover::RolloverRequest;
use crate::store::types::{IndexLifecycle, ManagedLifecycle, PolicyUsage, format_duration};
use crate::store::{Inner, Store};
use crate::target::{Target, TargetKind, TargetMeta, now_millis};
use crate::time_value::parse_time_value;

/// What an index lifecycle policy asks for now.
pub(in crate::store) enum LifecycleStep {
    Rollover {
        alias: String,
        conditions: RolloverConditions,
    },
    Delete {
        index: String,
        policy: String,
    },
}

/// Where lifecycle policies are kept, in the data directory.
pub(in crate::store) const LIFECYCLE_POLICIES_FILE: &str = "ilm_policies.json";

impl Store {
    /// Drops expired data stream partitions now; returns their names.
    pub fn enforce_retention(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        self.inner.enforce_retention(now_ms)
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
    pub(in crate::store) fn update_lifecycle_policies(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, LifecyclePolicy>) -> bool,
    ) -> StoreResult<bool> {
        self.inner
            .lifecycle_policies
            .update(|policies| Ok(change(policies)))
    }

    /// Lifecycle policies whose names `names` selects (a comma list with wildcards; `*` for
    /// all), by name.
    pub fn lifecycle_policies(&self, names: &str) -> Vec<LifecyclePolicy> {
        Expression::parse(names).select(&self.inner.lifecycle_policies.read())
    }

    /// What refers to a lifecycle policy: backing indexes, data streams and templates.
    pub fn lifecycle_policy_usage(&self, name: &str) -> PolicyUsage {
        let templates: Vec<String> = self
            .inner
            .templates
            .read()
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
        let policies = self.inner.lifecycle_policies.read().clone();
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

    /// Runs the lifecycle policies of plain indexes: rolls a rollover alias over when its
    /// write index meets the hot phase's conditions, and deletes indexes whose delete
    /// phase is due. Returns the names of the indexes created and deleted.
    pub async fn run_index_lifecycles(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        let mut changed = Vec::new();
        for step in self.inner.lifecycle_steps(now_ms) {
            match step {
                LifecycleStep::Rollover { alias, conditions } => {
                    let request = RolloverRequest {
                        conditions,
                        ..RolloverRequest::default()
                    };
                    match self.roll_over(&alias, &request) {
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
}

impl Inner {
    /// What the lifecycle policies of plain indexes ask for at `now_ms`.
    pub(in crate::store) fn lifecycle_steps(&self, now_ms: i64) -> Vec<LifecycleStep> {
        let targets: Vec<Arc<Target>> = self.read_targets().values().cloned().collect();
        let aliases = self.read_aliases().clone();
        let policies = self.lifecycle_policies.read().clone();
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
                match RolloverConditions::parse(conditions) {
                    Ok(conditions) => steps.push(LifecycleStep::Rollover {
                        alias: alias.clone(),
                        conditions,
                    }),
                    Err(error) => {
                        warn!(alias, policy = policy.name, %error, "lifecycle rollover conditions are invalid");
                    }
                }
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

    /// The lifecycle policy a data stream's template names in `index.lifecycle.name`.
    pub(in crate::store) fn lifecycle_name(&self, meta: &TargetMeta) -> Option<String> {
        if meta.kind != TargetKind::DataStream {
            return None;
        }
        // Set on the data stream itself (`PUT /{stream}/_settings`), over its template's.
        if let Some(name) = &meta.lifecycle_policy {
            return Some(name.clone());
        }
        let template_name = meta.template.as_ref()?;
        let templates = self.templates.read();
        compose(templates.get(template_name)?, &self.read_components()).lifecycle_name()
    }

    pub(in crate::store) fn effective_retention(
        &self,
        meta: &TargetMeta,
    ) -> Option<(String, &'static str)> {
        // A failure store keeps its documents as long as its data stream keeps its own.
        if let Some(stream) = failure_store_parent(&meta.name) {
            let stream = self.get_target(stream)?;
            return self.effective_retention(&stream.meta());
        }
        if let Some(retention) = &meta.retention {
            return Some((retention.clone(), "data_stream_configuration"));
        }
        if let Some(policy_name) = self.lifecycle_name(meta) {
            let policies = self.lifecycle_policies.read();
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

    pub(in crate::store) fn enforce_retention(&self, now_ms: i64) -> StoreResult<Vec<String>> {
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
