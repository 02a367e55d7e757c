//! Small JSON metadata files, written so that a crash leaves either the old or the new
//! version: write a temporary file, fsync it, rename it over the old one, fsync the directory.
//!
//! The catalog's files (templates, lifecycle policies, aliases) and Logfleet's objects are
//! also held in memory, each as a [`Persisted`] value: read once, and changed only by
//! writing the changed copy first, so that what searches and writes see is always what a
//! restart would read back.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{StoreError, StoreResult};
use crate::faults::{self, FaultSite, Faults};
use crate::sync::RwLockExt;

/// A JSON metadata file and its content in memory.
#[derive(Debug)]
pub(crate) struct Persisted<T> {
    path: PathBuf,
    faults: Option<Arc<Faults>>,
    value: RwLock<T>,
}

impl<T: Serialize + DeserializeOwned + Default + Clone> Persisted<T> {
    /// Reads `path`, or starts from the default value if there is no such file yet.
    pub(crate) fn load(path: PathBuf, faults: Option<Arc<Faults>>) -> StoreResult<Persisted<T>> {
        let value = if path.exists() {
            read_json(&path)?
        } else {
            T::default()
        };
        Ok(Persisted {
            path,
            faults,
            value: RwLock::new(value),
        })
    }

    /// The value as last persisted.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read_or_recover()
    }

    /// Applies `change` to a copy of the value and, if it says it changed something,
    /// persists the copy and only then lets it replace the value: a failed write (or a
    /// `change` that fails) leaves the value as it was. Updates are serialised; readers see
    /// the old value until the new one is durable. Returns whether anything changed.
    pub(crate) fn update(
        &self,
        change: impl FnOnce(&mut T) -> StoreResult<bool>,
    ) -> StoreResult<bool> {
        let mut current = self.value.write_or_recover();
        let mut updated = current.clone();
        if !change(&mut updated)? {
            return Ok(false);
        }
        self.write(&updated)?;
        *current = updated;
        Ok(true)
    }

    /// Applies `change` to the value at once, then persists it; the change holds even if
    /// the write fails. Only for changes that are true whether or not they are persisted,
    /// such as forgetting a target that is already gone.
    pub(crate) fn update_even_if_unpersisted(
        &self,
        change: impl FnOnce(&mut T) -> bool,
    ) -> StoreResult<bool> {
        let mut current = self.value.write_or_recover();
        if !change(&mut current) {
            return Ok(false);
        }
        self.write(&current)?;
        Ok(true)
    }

    fn write(&self, value: &T) -> StoreResult<()> {
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent)
                .map_err(|error| StoreError::io(format!("creating {}", parent.display()), error))?;
        }
        write_json_atomically(&self.path, value, self.faults.as_deref())
    }
}

/// Writes `value` as pretty JSON to `path`, atomically and durably. A failure leaves the
/// old version in place.
pub fn write_json_atomically<T: Serialize>(
    path: &Path,
    value: &T,
    faults: Option<&Faults>,
) -> StoreResult<()> {
    let temporary = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(value).map_err(|error| StoreError::Corrupt {
        path: path.display().to_string(),
        reason: error.to_string(),
    })?;
    let context = || format!("writing {}", path.display());
    let written = write_temporary(&temporary, &bytes, faults);
    if let Err(error) = written {
        // A half-written temporary file only takes space, which a full disk lacks.
        let _ = fs::remove_file(&temporary);
        return Err(StoreError::io(context(), error));
    }
    fs::rename(&temporary, path).map_err(|error| StoreError::io(context(), error))?;
    if let Some(parent) = path.parent() {
        File::open(parent)
            .and_then(|directory| directory.sync_all())
            .map_err(|error| StoreError::io(context(), error))?;
    }
    Ok(())
}

fn write_temporary(temporary: &Path, bytes: &[u8], faults: Option<&Faults>) -> std::io::Result<()> {
    faults::check(faults, FaultSite::Metadata)?;
    let mut file = File::create(temporary)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Reads a JSON metadata file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> StoreResult<T> {
    let bytes = fs::read(path)
        .map_err(|error| StoreError::io(format!("reading {}", path.display()), error))?;
    serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
        path: path.display().to_string(),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::faults::Fault;

    type Map = BTreeMap<String, u32>;

    fn insert(name: &str, value: u32) -> impl FnOnce(&mut Map) -> StoreResult<bool> {
        move |map| Ok(map.insert(name.to_owned(), value) != Some(value))
    }

    #[test]
    fn a_missing_file_is_the_default_and_its_directory_is_made_on_the_first_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kind").join("map.json");
        let map: Persisted<Map> = Persisted::load(path.clone(), None).unwrap();
        assert!(map.read().is_empty());
        assert!(!map.update(|_| Ok(false)).unwrap());
        assert!(!path.exists(), "an update that changed nothing was written");
        assert!(map.update(insert("one", 1)).unwrap());
        let reloaded: Persisted<Map> = Persisted::load(path, None).unwrap();
        assert_eq!(*reloaded.read(), Map::from([("one".to_owned(), 1)]));
    }

    #[test]
    fn a_failed_write_changes_the_value_only_when_asked_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.json");
        let faults = Faults::new();
        let map: Persisted<Map> = Persisted::load(path.clone(), Some(faults.clone())).unwrap();
        map.update(insert("one", 1)).unwrap();

        faults.inject(FaultSite::Metadata, Fault::NoSpace);
        assert!(map.update(insert("two", 2)).is_err());
        assert_eq!(*map.read(), Map::from([("one".to_owned(), 1)]));
        let failed = map.update(|map| {
            map.clear();
            Err(StoreError::IllegalArgument("refused".to_owned()))
        });
        assert!(failed.is_err());
        assert_eq!(map.read().len(), 1);
        assert!(
            map.update_even_if_unpersisted(|map| map.remove("one").is_some())
                .is_err()
        );
        assert!(map.read().is_empty());
        faults.clear_all();

        let reloaded: Persisted<Map> = Persisted::load(path, None).unwrap();
        assert_eq!(*reloaded.read(), Map::from([("one".to_owned(), 1)]));
    }
}
