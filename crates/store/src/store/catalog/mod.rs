//! The catalog: targets (indexes and data streams), aliases, templates, lifecycle
//! policies and rollover.

pub(super) mod aliases;
pub(super) mod cluster;
pub(super) mod lifecycle;
pub(super) mod rollover;
pub(super) mod targets;
pub(super) mod templates;

use std::collections::BTreeMap;
use std::sync::{Arc, MutexGuard};

use super::Inner;
use crate::alias::AliasTable;
use crate::component_template::ComponentTemplate;
use crate::sync::{MutexExt, RwLockExt};
use crate::target::Target;

/// The catalog lock, held: target creation and deletion, alias changes, rollover and mapping
/// updates happen one at a time. What must only run under it takes a `&CatalogGuard`, so
/// that the compiler, not a comment, asks for the lock.
#[derive(Debug)]
pub(in crate::store) struct CatalogGuard<'a> {
    _held: MutexGuard<'a, ()>,
}

impl Inner {
    pub(in crate::store) fn read_targets(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Target>>> {
        self.targets.read_or_recover()
    }

    pub(in crate::store) fn read_components(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, ComponentTemplate>> {
        self.component_templates.read()
    }

    pub(in crate::store) fn read_aliases(&self) -> std::sync::RwLockReadGuard<'_, AliasTable> {
        self.aliases.read()
    }

    /// Takes the catalog lock (see the lock order in [`crate::store`]).
    pub(in crate::store) fn lock_catalog(&self) -> CatalogGuard<'_> {
        CatalogGuard {
            _held: self.catalog_lock.lock_or_recover(),
        }
    }

    pub(in crate::store) fn get_target(&self, name: &str) -> Option<Arc<Target>> {
        self.read_targets().get(name).cloned()
    }
}
