//! Rollover of an alias's or an index's write index, on conditions or at once.

use serde_json::{Map, Value};
use tracing::info;

use crate::error::{StoreError, StoreResult};
use crate::rollover::{IndexMeasures, RolloverConditions, next_index_name};
use crate::store::Store;
use crate::store::types::RolloverOutcome;
use crate::target::{TargetKind, now_millis};

/// A rollover request: the conditions to check, and what the new index gets besides its
/// templates (`settings`, `mappings`, `aliases`).
#[derive(Debug, Clone, Default)]
pub struct RolloverRequest {
    /// Rolled over only when these are met; no conditions means at once.
    pub conditions: RolloverConditions,
    /// The request's `settings`, `mappings` and `aliases`, as a create-index body.
    pub new_index: Map<String, Value>,
    /// The new write index's name; the next of the series when `None`.
    pub new_index_name: Option<String>,
    /// Only checks the conditions.
    pub dry_run: bool,
}

impl RolloverRequest {
    /// Parses the body of `POST /{alias}/_rollover`.
    pub fn parse(body: &Value) -> StoreResult<RolloverRequest> {
        let mut request = RolloverRequest::default();
        let Value::Object(object) = body else {
            return Ok(request);
        };
        for (key, value) in object {
            match key.as_str() {
                "conditions" => request.conditions = RolloverConditions::parse(value)?,
                "settings" | "mappings" | "aliases" => {
                    request.new_index.insert(key.clone(), value.clone());
                }
                _ => {
                    return Err(StoreError::IllegalArgument(format!(
                        "[rollover] unknown field [{key}]"
                    )));
                }
            }
        }
        Ok(request)
    }
}

impl Store {
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
        let request = RolloverRequest {
            new_index_name: new_index.map(str::to_owned),
            dry_run,
            ..RolloverRequest::parse(body)?
        };
        self.roll_over(alias, &request)
    }

    /// [`Store::rollover`] of a parsed request.
    pub fn roll_over(
        &self,
        alias: &str,
        request: &RolloverRequest,
    ) -> StoreResult<RolloverOutcome> {
        let inner = &self.inner;
        let catalog = inner.lock_catalog();
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
        let (new_name, new_provided) = match &request.new_index_name {
            Some(name) => (name.clone(), None),
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
        let (condition_results, met) = request.conditions.evaluate(measures);
        let outcome = RolloverOutcome {
            old_index: write_name.clone(),
            new_index: new_name.clone(),
            rolled_over: false,
            conditions: condition_results,
        };
        if request.dry_run || !met {
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
        let explicit = Value::Object(request.new_index.clone());
        inner.create_target(
            &catalog,
            &new_name,
            TargetKind::Index,
            template.as_ref(),
            Some(&explicit),
            new_provided.as_deref(),
        )?;
        inner.update_alias_table(&catalog, |table| {
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
}

pub(in crate::store) fn data_stream_rollover(name: &str) -> StoreError {
    StoreError::IllegalArgument(format!(
        "[{name}] is a data stream, which Logfleet rolls over by itself: every day of data gets \
         its own backing index, and mapping changes apply to the stream at once"
    ))
}
