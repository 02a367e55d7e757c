//! Where each file input stopped: per file (known by its fingerprint, not its inode or
//! path, so that a rotated file is not read twice and a new file at an old path is read
//! whole), the offset up to which its events are stored. The registry is written — to a
//! temporary file, fsync'd, renamed — only after the events before that offset were written
//! durably, so a restart resumes exactly where the store's acknowledgements ended.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How long a file no scan has seen stays in the registry.
const FORGET_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

/// One file's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The path it was last seen at.
    pub path: PathBuf,
    /// How many bytes of its start the fingerprint covers.
    pub prefix: u64,
    /// Everything before this offset is stored.
    pub offset: u64,
    /// When a scan last saw it, epoch milliseconds.
    pub seen_ms: i64,
}

/// The entries of one input, by fingerprint.
#[derive(Debug)]
pub struct Registry {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
}

impl Registry {
    /// Reads the registry at `path` (empty if there is none yet).
    pub fn open(path: PathBuf) -> std::io::Result<Registry> {
        let entries = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {error}", path.display()),
                )
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(error) => return Err(error),
        };
        Ok(Registry { path, entries })
    }

    /// The entries.
    pub fn entries(&self) -> &BTreeMap<String, Entry> {
        &self.entries
    }

    /// The entry of a fingerprint.
    pub fn get(&self, fingerprint: &str) -> Option<&Entry> {
        self.entries.get(fingerprint)
    }

    /// Records an entry (in memory; [`Registry::save`] persists).
    pub fn set(&mut self, fingerprint: &str, entry: Entry) {
        self.entries.insert(fingerprint.to_owned(), entry);
    }

    /// Forgets a fingerprint (a file that was truncated, or replaced by a longer one).
    pub fn remove(&mut self, fingerprint: &str) {
        self.entries.remove(fingerprint);
    }

    /// Drops entries no scan has seen for a day, then writes the registry durably.
    pub fn save(&mut self, now_ms: i64) -> std::io::Result<()> {
        self.entries
            .retain(|_, entry| now_ms - entry.seen_ms < FORGET_AFTER_MS);
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent)?;
        }
        let temporary = self.path.with_extension("json.tmp");
        let mut file = fs::File::create(&temporary)?;
        file.write_all(&serde_json::to_vec_pretty(&self.entries)?)?;
        file.sync_all()?;
        fs::rename(&temporary, &self.path)?;
        if let Some(parent) = self.path.parent() {
            fs::File::open(parent)?.sync_all()?;
        }
        Ok(())
    }

    /// Where the registry lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_reopen_and_old_ones_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inputs").join("file-0.json");
        let mut registry = Registry::open(path.clone()).unwrap();
        let entry = |offset, seen_ms| Entry {
            path: "/var/log/app.log".into(),
            prefix: 1024,
            offset,
            seen_ms,
        };
        registry.set("kept", entry(42, 1_000_000_000));
        registry.set("stale", entry(7, 0));
        registry.save(1_000_000_000).unwrap();
        let reopened = Registry::open(path).unwrap();
        assert_eq!(reopened.get("kept"), Some(&entry(42, 1_000_000_000)));
        assert_eq!(reopened.get("stale"), None);
    }
}
