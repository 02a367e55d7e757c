//! Logfleet's own objects — saved searches now, dashboards and alert rules later: small JSON
//! documents, by kind, each kind one file under `objects/` in the data directory, replaced
//! atomically on every change (as Kibana keeps its saved objects in an index of their own).
//!
//! They are few and small, so a kind is read whole the first time it is asked for and
//! rewritten whole on each change; that keeps them durable and readable with `jq` without
//! a second storage path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::error::{StoreError, StoreResult};
use crate::faults::Faults;
use crate::persist::{read_json, write_json_atomically};
use crate::sync::MutexExt;

const DIRECTORY: &str = "objects";

/// How many objects of one kind the store keeps: saved objects are made by hand.
const MAX_OBJECTS_PER_KIND: usize = 10_000;

/// Objects by kind, then by id.
#[derive(Debug)]
pub(crate) struct Objects {
    dir: PathBuf,
    faults: Option<Arc<Faults>>,
    kinds: Mutex<BTreeMap<&'static str, BTreeMap<String, Value>>>,
}

impl Objects {
    pub(crate) fn new(data_dir: &Path, faults: Option<Arc<Faults>>) -> Objects {
        Objects {
            dir: data_dir.join(DIRECTORY),
            faults,
            kinds: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every object of `kind`, by id.
    pub(crate) fn list(&self, kind: &'static str) -> StoreResult<BTreeMap<String, Value>> {
        let mut kinds = self.lock();
        Ok(self.loaded(&mut kinds, kind)?.clone())
    }

    /// One object.
    pub(crate) fn get(&self, kind: &'static str, id: &str) -> StoreResult<Option<Value>> {
        let mut kinds = self.lock();
        Ok(self.loaded(&mut kinds, kind)?.get(id).cloned())
    }

    /// Creates or replaces an object; returns whether it is new. Nothing changes if it
    /// cannot be written.
    pub(crate) fn put(&self, kind: &'static str, id: &str, object: Value) -> StoreResult<bool> {
        let mut kinds = self.lock();
        let objects = self.loaded(&mut kinds, kind)?;
        let created = !objects.contains_key(id);
        if created && objects.len() >= MAX_OBJECTS_PER_KIND {
            return Err(StoreError::IllegalArgument(format!(
                "there are {MAX_OBJECTS_PER_KIND} {kind} already; delete some first"
            )));
        }
        let mut updated = objects.clone();
        updated.insert(id.to_owned(), object);
        self.persist(kind, &updated)?;
        *objects = updated;
        Ok(created)
    }

    /// Deletes an object; returns whether it existed.
    pub(crate) fn delete(&self, kind: &'static str, id: &str) -> StoreResult<bool> {
        let mut kinds = self.lock();
        let objects = self.loaded(&mut kinds, kind)?;
        if !objects.contains_key(id) {
            return Ok(false);
        }
        let mut updated = objects.clone();
        updated.remove(id);
        self.persist(kind, &updated)?;
        *objects = updated;
        Ok(true)
    }

    fn loaded<'k>(
        &self,
        kinds: &'k mut BTreeMap<&'static str, BTreeMap<String, Value>>,
        kind: &'static str,
    ) -> StoreResult<&'k mut BTreeMap<String, Value>> {
        if !kinds.contains_key(kind) {
            let path = self.path(kind);
            let objects = if path.exists() {
                read_json(&path)?
            } else {
                BTreeMap::new()
            };
            kinds.insert(kind, objects);
        }
        kinds
            .get_mut(kind)
            .ok_or_else(|| StoreError::IllegalState(format!("objects of kind {kind} vanished")))
    }

    fn persist(&self, kind: &str, objects: &BTreeMap<String, Value>) -> StoreResult<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|error| StoreError::io(format!("creating {}", self.dir.display()), error))?;
        write_json_atomically(&self.path(kind), objects, self.faults.as_deref())
    }

    fn path(&self, kind: &str) -> PathBuf {
        self.dir.join(format!("{kind}.json"))
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, BTreeMap<String, Value>>> {
        self.kinds.lock_or_recover()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, FaultSite};
    use serde_json::json;

    #[test]
    fn objects_survive_a_reopen_and_a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::new();
        let objects = Objects::new(dir.path(), Some(faults.clone()));
        assert!(objects.list("saved_searches").unwrap().is_empty());
        assert!(
            objects
                .put("saved_searches", "a", json!({"name": "errors"}))
                .unwrap()
        );
        assert!(
            !objects
                .put("saved_searches", "a", json!({"name": "5xx"}))
                .unwrap()
        );
        faults.inject(FaultSite::Metadata, Fault::NoSpace);
        assert!(objects.put("saved_searches", "b", json!({})).is_err());
        assert!(objects.delete("saved_searches", "a").is_err());
        faults.clear_all();
        assert_eq!(objects.list("saved_searches").unwrap().len(), 1);

        let reopened = Objects::new(dir.path(), None);
        let found = reopened.get("saved_searches", "a").unwrap().unwrap();
        assert_eq!(found["name"], "5xx");
        assert!(reopened.delete("saved_searches", "a").unwrap());
        assert!(!reopened.delete("saved_searches", "a").unwrap());
        assert!(reopened.get("saved_searches", "a").unwrap().is_none());
    }
}
