//! The on-disk spool: batches that could not be delivered wait here, in order, until the
//! server takes them.
//!
//! One file per batch, named by the batch's sequence number (`00000000000000000042.ndjson`),
//! holding its documents as NDJSON — readable with any tool, and replayable by rebuilding the
//! `_bulk` action lines. A file is written to a temporary name, fsync'd, renamed and the
//! directory fsync'd, so a crash leaves either the whole batch or nothing; a replay that
//! succeeds in part rewrites the file with the remaining documents the same way. The total
//! size is bounded: a batch that would exceed it is refused (the caller counts it as dropped)
//! rather than evicting older data.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::ship::Batch;

const EXTENSION: &str = "ndjson";
const TEMPORARY_SUFFIX: &str = ".tmp";

/// One spooled batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    sequence: u64,
    bytes: u64,
}

/// The spool directory and what it holds.
#[derive(Debug)]
pub(crate) struct Spool {
    directory: PathBuf,
    max_bytes: u64,
    entries: VecDeque<Entry>,
    total_bytes: u64,
}

/// Why a batch was not spooled.
#[derive(Debug)]
pub(crate) enum SpoolError {
    /// The spool is at its size limit.
    Full,
    /// Writing failed (disk full, permissions); the batch is counted as undeliverable.
    Io,
}

impl From<io::Error> for SpoolError {
    fn from(_: io::Error) -> Self {
        Self::Io
    }
}

impl Spool {
    /// Opens (creating it if needed) a spool directory, picking up batches left by an
    /// earlier run and removing temporary files of interrupted writes.
    pub(crate) fn open(directory: &Path, max_bytes: u64) -> io::Result<Self> {
        fs::create_dir_all(directory)?;
        let mut entries = Vec::new();
        for dir_entry in fs::read_dir(directory)? {
            let dir_entry = dir_entry?;
            let path = dir_entry.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if name.ends_with(TEMPORARY_SUFFIX) {
                fs::remove_file(&path)?;
                continue;
            }
            let Some(sequence) = name
                .strip_suffix(&format!(".{EXTENSION}"))
                .and_then(|stem| stem.parse::<u64>().ok())
            else {
                continue;
            };
            entries.push(Entry {
                sequence,
                bytes: dir_entry.metadata()?.len(),
            });
        }
        entries.sort_by_key(|entry| entry.sequence);
        let total_bytes = entries.iter().map(|entry| entry.bytes).sum();
        Ok(Self {
            directory: directory.to_owned(),
            max_bytes,
            entries: entries.into(),
            total_bytes,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The highest sequence number spooled, so a new run numbers its batches after it.
    pub(crate) fn last_sequence(&self) -> Option<u64> {
        self.entries.back().map(|entry| entry.sequence)
    }

    /// The sequence number of the oldest batch.
    pub(crate) fn oldest_sequence(&self) -> Option<u64> {
        self.entries.front().map(|entry| entry.sequence)
    }

    #[cfg(test)]
    pub(crate) fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Appends a batch durably.
    pub(crate) fn push(&mut self, batch: &Batch) -> Result<(), SpoolError> {
        let bytes = batch.docs().len() as u64;
        if self.total_bytes + bytes > self.max_bytes {
            return Err(SpoolError::Full);
        }
        self.write(batch.sequence, batch.docs())?;
        let entry = Entry {
            sequence: batch.sequence,
            bytes,
        };
        // Batches arrive in sequence order, except a batch re-spooled after its replay was
        // cut short, which is older than everything after it.
        let position = self
            .entries
            .iter()
            .position(|existing| existing.sequence > entry.sequence)
            .unwrap_or(self.entries.len());
        self.entries.insert(position, entry);
        self.total_bytes += bytes;
        Ok(())
    }

    /// Reads the oldest batch.
    pub(crate) fn read_oldest(&self) -> io::Result<Option<Batch>> {
        let Some(entry) = self.entries.front() else {
            return Ok(None);
        };
        let docs = fs::read(self.path_of(entry.sequence))?;
        Ok(Some(Batch::from_ndjson(entry.sequence, docs)))
    }

    /// Deletes the oldest batch, once delivered (or rejected for good).
    pub(crate) fn remove_oldest(&mut self) -> io::Result<()> {
        let Some(entry) = self.entries.pop_front() else {
            return Ok(());
        };
        self.total_bytes -= entry.bytes;
        match fs::remove_file(self.path_of(entry.sequence)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Replaces the oldest batch with what is left of it after a partial delivery.
    pub(crate) fn replace_oldest(&mut self, remaining: &Batch) -> io::Result<()> {
        if remaining.is_empty() {
            return self.remove_oldest();
        }
        let Some(entry) = self.entries.front_mut() else {
            return Ok(());
        };
        let sequence = entry.sequence;
        let new_bytes = remaining.docs().len() as u64;
        let old_bytes = entry.bytes;
        entry.bytes = new_bytes;
        self.total_bytes = self.total_bytes - old_bytes + new_bytes;
        self.write(sequence, remaining.docs())
    }

    fn path_of(&self, sequence: u64) -> PathBuf {
        self.directory.join(format!("{sequence:020}.{EXTENSION}"))
    }

    /// Writes a file atomically and durably: temporary file, fsync, rename, fsync of the
    /// directory.
    fn write(&self, sequence: u64, docs: &[u8]) -> io::Result<()> {
        let path = self.path_of(sequence);
        let temporary = self
            .directory
            .join(format!("{sequence:020}.{EXTENSION}{TEMPORARY_SUFFIX}"));
        let mut file = File::create(&temporary)?;
        file.write_all(docs)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, &path)?;
        sync_directory(&self.directory)
    }
}

fn sync_directory(directory: &Path) -> io::Result<()> {
    // Directories can be opened and fsync'd on Unix; elsewhere the rename is as durable as
    // the platform makes it.
    #[cfg(unix)]
    File::open(directory)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = directory;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(sequence: u64, docs: &[&str]) -> Batch {
        let mut batch = Batch::new(sequence);
        for doc in docs {
            batch.push(doc.as_bytes());
        }
        batch
    }

    #[test]
    fn keeps_batches_in_order_across_reopening() {
        let directory = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(directory.path(), 1 << 20).unwrap();
        assert!(spool.is_empty());
        spool
            .push(&batch(3, &[r#"{"a":1}"#, r#"{"a":2}"#]))
            .unwrap();
        spool.push(&batch(7, &[r#"{"a":3}"#])).unwrap();
        // Interrupted write of an earlier run.
        fs::write(
            directory.path().join("00000000000000000009.ndjson.tmp"),
            "x",
        )
        .unwrap();

        let mut reopened = Spool::open(directory.path(), 1 << 20).unwrap();
        assert_eq!(reopened.oldest_sequence(), Some(3));
        assert_eq!(reopened.last_sequence(), Some(7));
        let oldest = reopened.read_oldest().unwrap().unwrap();
        assert_eq!(oldest.len(), 2);
        assert_eq!(oldest.doc(1), br#"{"a":2}"#);

        reopened.replace_oldest(&oldest.retain(&[1])).unwrap();
        let replaced = reopened.read_oldest().unwrap().unwrap();
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced.doc(0), br#"{"a":2}"#);

        reopened.remove_oldest().unwrap();
        assert_eq!(reopened.oldest_sequence(), Some(7));
        reopened.remove_oldest().unwrap();
        assert!(reopened.is_empty());
        assert_eq!(reopened.total_bytes(), 0);
        assert_eq!(fs::read_dir(directory.path()).unwrap().count(), 0);
    }

    #[test]
    fn refuses_batches_beyond_its_size() {
        let directory = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(directory.path(), 20).unwrap();
        spool.push(&batch(1, &[r#"{"a":1}"#])).unwrap();
        assert!(matches!(
            spool.push(&batch(2, &[r#"{"a":"long enough to overflow"}"#])),
            Err(SpoolError::Full)
        ));
        assert_eq!(spool.last_sequence(), Some(1));
    }
}
