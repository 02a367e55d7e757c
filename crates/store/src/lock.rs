//! One process per data directory.
//!
//! Two processes writing one data directory would each trim the write-ahead log behind
//! their own commits and overwrite each other's metadata: the first one's acknowledged
//! writes would be gone after a restart. So a store takes an exclusive `flock` on
//! `logfleet.lock` in its data directory and keeps it for as long as it is open, as
//! Elasticsearch takes its node lock. The kernel releases the lock when the process ends,
//! however it ends, so a crash never leaves a stale lock behind; the file's content (the
//! holder's pid) is only there to name the holder in the refusal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use rustix::fs::{FlockOperation, flock};

use crate::error::{StoreError, StoreResult};

const LOCK_FILE: &str = "logfleet.lock";

/// The held lock; released when dropped.
#[derive(Debug)]
pub(crate) struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock of `data_dir`, or says which process holds it.
    pub(crate) fn acquire(data_dir: &Path) -> StoreResult<DataDirLock> {
        let path = data_dir.join(LOCK_FILE);
        let context = || format!("locking the data directory {}", data_dir.display());
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|error| StoreError::io(context(), error))?;
        if let Err(errno) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if errno != rustix::io::Errno::WOULDBLOCK {
                return Err(StoreError::io(context(), errno.into()));
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(StoreError::DataDirInUse {
                data_dir: data_dir.display().to_string(),
                pid: holder.trim().parse().ok(),
            });
        }
        // Only the holder writes the file, so a reader never sees another holder's pid half
        // overwritten.
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(|error| StoreError::io(context(), error))?;
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        // flock locks belong to open files, not processes: a second open in this process
        // conflicts exactly as another process would.
        match DataDirLock::acquire(dir.path()) {
            Err(StoreError::DataDirInUse { pid, data_dir }) => {
                assert_eq!(pid, Some(std::process::id()));
                assert_eq!(data_dir, dir.path().display().to_string());
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
