//! Index expressions: names, wildcards, aliases, date math and selectors resolved to
//! targets and their concrete indexes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::types::{ResolvedTarget, SearchShard};
use super::{Inner, Store};
use crate::error::{StoreError, StoreResult};
use crate::expression::{Expression, Part, wildcard_match};
use crate::failure_store::{DATA_SELECTOR, FAILURES_SELECTOR, failure_store_name, has_selector};
use crate::target::{Target, TargetKind, now_millis};

impl Store {
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

    /// Resolves a date math index name (`<logs-{2016-04-25||/M{yyyy.MM}}>`), as a write does
    /// when a pipeline points `_index` at one; other names pass unchanged.
    pub fn resolve_date_math(&self, name: &str) -> StoreResult<String> {
        self.inner.resolve_date_math(name)
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
        let expression = Expression::parse(expression);
        if expression.is_all() {
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
            for part in expression.parts() {
                let part = match *part {
                    Part::Exclude(excluded) => {
                        selected.retain(|(target, partition, _)| {
                            let name = partition.clone().unwrap_or_else(|| target.name());
                            !wildcard_match(excluded, &name)
                        });
                        continue;
                    }
                    Part::All => "*",
                    Part::Pattern(text) | Part::Name(text) => text,
                };
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
        let expression = Expression::parse(expression);
        let mut named: Vec<Arc<Target>> = Vec::new();
        if expression.is_all() {
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
        for part in expression.names() {
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
}

impl Inner {
    /// Resolves a date math name against the current time; other names pass unchanged.
    pub(super) fn resolve_date_math(&self, name: &str) -> StoreResult<String> {
        logfleet_time::resolve_index_date_math(name, now_millis())
            .map_err(StoreError::IllegalArgument)
    }

    /// The data stream that owns the backing index `name`.
    pub(super) fn find_partition_owner(&self, name: &str) -> Option<Arc<Target>> {
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
    pub(super) fn single_alias_member(&self, name: &str) -> StoreResult<Arc<Target>> {
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
}
