//! Aliases: reading the alias table and applying `_aliases` actions.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::alias::{AliasAction, AliasTable};
use crate::error::{StoreError, StoreResult};
use crate::expression::wildcard_match;
use crate::store::catalog::CatalogGuard;
use crate::store::types::AliasResult;
use crate::store::{Inner, Store};
use crate::target::{Target, TargetKind};

impl Store {
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
}

impl Inner {
    /// Applies `change` to a copy of the alias table and, if it says it changed something,
    /// validates and persists the copy before it takes effect.
    pub(in crate::store) fn update_alias_table(
        &self,
        _catalog: &CatalogGuard<'_>,
        change: impl FnOnce(&mut AliasTable) -> StoreResult<bool>,
    ) -> StoreResult<()> {
        self.aliases.update(|aliases| {
            if !change(aliases)? {
                return Ok(false);
            }
            let targets = self.read_targets();
            aliases.validate(|name| targets.get(name).map(|target| target.kind()))?;
            Ok(true)
        })?;
        Ok(())
    }

    /// The concrete targets an alias action's `index` expressions name. Aliases are not
    /// expanded: an alias points at indexes and data streams, never at other aliases.
    pub(in crate::store) fn alias_action_targets(
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
    pub(in crate::store) fn apply_alias_actions(
        &self,
        actions: &[AliasAction],
    ) -> StoreResult<(Vec<AliasResult>, Vec<String>)> {
        let catalog = self.lock_catalog();
        let targets = self.read_targets().clone();
        let mut resolved = Vec::with_capacity(actions.len());
        for action in actions {
            resolved.push((action, self.alias_action_targets(action, &targets)?));
        }
        let mut results = Vec::with_capacity(actions.len());
        let mut doomed = Vec::new();
        self.update_alias_table(&catalog, |table| {
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
}
