//! Logfleet's own objects — saved searches now, dashboards and alert rules later: small JSON
//! documents, by kind, each kind one file under `objects/` in the data directory, replaced
//! atomically on every change (as Kibana keeps its saved objects in an index of their own).
//!
//! They are few and small, so a kind is read whole the first time it is asked for and
//! rewritten whole on each change; that keeps them durable and readable with `jq` without
//! a second storage path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::error::{StoreError, StoreResult};
use crate::faults::Faults;
use crate::persist::Persisted;
use crate::sync::MutexExt;

const DIRECTORY: &str = "objects";

/// How many objects of one kind the store keeps: saved objects are made by hand.
const MAX_OBJECTS_PER_KIND: usize = 10_000;

/// Objects by kind, then by id.
/// One kind's objects, by id.
type Kind = Persisted<BTreeMap<String, Value>>;

#[derive(Debug)]
pub(crate) struct Objects {
    dir: PathBuf,
    faults: Option<Arc<Faults>>,
    kinds: Mutex<BTreeMap<&'static str, Arc<Kind>>>,
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
        Ok(self.loaded(kind)?.read().clone())
    }

    /// One object.
    pub(crate) fn get(&self, kind: &'static str, id: &str) -> StoreResult<Option<Value>> {
        Ok(self.loaded(kind)?.read().get(id).cloned())
    }

    /// Creates or replaces an object; returns whether it is new. Nothing changes if it
    /// cannot be written.
    pub(crate) fn put(&self, kind: &'static str, id: &str, object: Value) -> StoreResult<bool> {
        let mut created = false;
        self.loaded(kind)?.update(|objects| {
            created = !objects.contains_key(id);
            if created && objects.len() >= MAX_OBJECTS_PER_KIND {
                return Err(StoreError::IllegalArgument(format!(
                    "there are {MAX_OBJECTS_PER_KIND} {kind} already; delete some first"
                )));
            }
            objects.insert(id.to_owned(), object);
            Ok(true)
        })?;
        Ok(created)
    }

    /// Deletes an object; returns whether it existed.
    pub(crate) fn delete(&self, kind: &'static str, id: &str) -> StoreResult<bool> {
        self.loaded(kind)?
            .update(|objects| Ok(objects.remove(id).is_some()))
    }

    /// The objects of `kind`, read from their file the first time they are asked for.
    fn loaded(&self, kind: &'static str) -> StoreResult<Arc<Kind>> {
        let mut kinds = self.kinds.lock_or_recover();
        if let Some(objects) = kinds.get(kind) {
            return Ok(objects.clone());
        }
        let path = self.dir.join(format!("{kind}.json"));
        let objects = Arc::new(Persisted::load(path, self.faults.clone())?);
        kinds.insert(kind, objects.clone());
        Ok(objects)
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
