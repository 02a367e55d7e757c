//! Storage faults injected on purpose, so that tests can show what the store does when a
//! disk fills up or fails at each place where it writes.
//!
//! A [`Faults`] handle is shared between a test and a store opened with it
//! ([`crate::StoreConfig::faults`]). Every fault is off until the test switches it on; a
//! store opened without a handle takes none of these paths at all, so production code pays
//! nothing for them. The places ([`FaultSite`]) are the ones where a real disk reports trouble:
//! the write-ahead log's appends and its fsync, tantivy's segment files as an indexing thread
//! flushes them or a merge thread writes them, tantivy's commit (`meta.json`), and the store's
//! own JSON metadata files.
//!
//! tantivy's files are reached through [`FaultyDirectory`], a [`Directory`] that forwards to
//! the real memory-mapped directory and fails where told to.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use rustix::io::Errno;
use tantivy::directory::error::{DeleteError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, DirectoryLock, FileHandle, Lock, MmapDirectory, TerminatingWrite, WatchCallback,
    WatchHandle, WritePtr,
};
use tantivy::{Directory, TantivyError};

use crate::failpoint::{self, Failpoint};

/// Where a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultSite {
    /// Writing records to the write-ahead log.
    WalAppend = 0,
    /// fsync of the write-ahead log.
    WalSync = 1,
    /// Segment files written by an indexing thread: when its buffer is full, or a commit
    /// flushes it.
    SegmentFlush = 2,
    /// Segment files written by a merge thread.
    Merge = 3,
    /// tantivy's commit: `meta.json` and the fsync of the partition directory.
    Commit = 4,
    /// The store's own metadata files (`state.json`, `target.json`, `partition.json`, …).
    Metadata = 5,
}

const SITES: usize = 6;

/// What happens at a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `ENOSPC`: the file system is full.
    NoSpace = 1,
    /// `EIO`: the device failed.
    Io = 2,
}

/// Faults to inject into a store; see the module documentation.
#[derive(Debug, Default)]
pub struct Faults {
    sites: [AtomicU8; SITES],
    /// How many operations each site failed, so that a test can tell a fault struck.
    struck: [AtomicU64; SITES],
}

impl Faults {
    /// A handle with every fault off.
    pub fn new() -> Arc<Faults> {
        Arc::new(Faults::default())
    }

    /// Makes every operation at `site` fail with `fault` from now on.
    pub fn inject(&self, site: FaultSite, fault: Fault) {
        self.sites[site as usize].store(fault as u8, Ordering::SeqCst);
    }

    /// Lets operations at `site` succeed again.
    pub fn clear(&self, site: FaultSite) {
        self.sites[site as usize].store(0, Ordering::SeqCst);
    }

    /// Makes every site fail with `fault`, as a full disk would.
    pub fn inject_everywhere(&self, fault: Fault) {
        for site in &self.sites {
            site.store(fault as u8, Ordering::SeqCst);
        }
    }

    /// Switches every fault off.
    pub fn clear_all(&self) {
        for site in &self.sites {
            site.store(0, Ordering::SeqCst);
        }
    }

    /// How many operations at `site` a fault has failed so far.
    pub fn struck(&self, site: FaultSite) -> u64 {
        self.struck[site as usize].load(Ordering::SeqCst)
    }

    /// The error an operation at `site` fails with, if a fault is on there.
    pub fn check(&self, site: FaultSite) -> io::Result<()> {
        let fault = self.sites[site as usize].load(Ordering::SeqCst);
        if fault != 0 {
            self.struck[site as usize].fetch_add(1, Ordering::SeqCst);
        }
        match fault {
            0 => Ok(()),
            // The kernel's own errno values, so that an injected error reads exactly as a
            // real one (`No space left on device (os error 28)`).
            1 => Err(Errno::NOSPC.into()),
            _ => Err(Errno::IO.into()),
        }
    }
}

/// Checks `site` on an optional handle: the form every write path uses.
pub(crate) fn check(faults: Option<&Faults>, site: FaultSite) -> io::Result<()> {
    faults.map_or(Ok(()), |faults| faults.check(site))
}

/// A tantivy directory that fails where a [`Faults`] handle says, and otherwise is the
/// memory-mapped directory at its path.
#[derive(Debug, Clone)]
pub struct FaultyDirectory {
    inner: MmapDirectory,
    faults: Arc<Faults>,
}

impl FaultyDirectory {
    /// Opens the directory at `path`.
    pub fn open(path: &Path, faults: Arc<Faults>) -> tantivy::Result<FaultyDirectory> {
        let inner = MmapDirectory::open(path).map_err(|error| {
            TantivyError::SystemError(format!("opening {}: {error}", path.display()))
        })?;
        Ok(FaultyDirectory { inner, faults })
    }

    /// Segment files are written by tantivy's merge threads (named `merge_thread_N`) or by
    /// an indexing thread.
    fn segment_site() -> FaultSite {
        let merging = std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with("merge_thread"));
        if merging {
            FaultSite::Merge
        } else {
            FaultSite::SegmentFlush
        }
    }
}

impl Directory for FaultyDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let site = FaultyDirectory::segment_site();
        let io_error = |error: io::Error| OpenWriteError::IoError {
            io_error: Arc::new(error),
            filepath: path.to_owned(),
        };
        self.faults.check(site).map_err(io_error)?;
        let inner = self.inner.open_write(path)?;
        let write = FaultyWrite {
            inner,
            faults: self.faults.clone(),
            site,
            path: path.to_owned(),
        };
        Ok(BufWriter::new(Box::new(write)))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.faults.check(FaultSite::Commit)?;
        self.inner.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.faults.check(FaultSite::Commit)?;
        self.inner.sync_directory()
    }

    fn acquire_lock(
        &self,
        lock: &Lock,
    ) -> Result<DirectoryLock, tantivy::directory::error::LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

/// A segment file being written, failing when its site's fault is on.
struct FaultyWrite {
    inner: WritePtr,
    faults: Arc<Faults>,
    site: FaultSite,
    path: PathBuf,
}

impl FaultyWrite {
    fn check(&self) -> io::Result<()> {
        self.faults.check(self.site).map_err(|error| {
            io::Error::new(error.kind(), format!("{}: {error}", self.path.display()))
        })
    }
}

impl Write for FaultyWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check()?;
        self.inner.flush()
    }
}

impl TerminatingWrite for FaultyWrite {
    fn terminate_ref(&mut self, token: AntiCallToken) -> io::Result<()> {
        self.check()?;
        self.inner.terminate_ref(token)?;
        if self.site == FaultSite::Merge {
            // One file of the merged segment is complete, the segment is not.
            failpoint::reach(Failpoint::Merge);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_as_the_kernel_reports_them() {
        let faults = Faults::new();
        assert!(faults.check(FaultSite::WalSync).is_ok());
        faults.inject(FaultSite::WalSync, Fault::Io);
        let error = faults.check(FaultSite::WalSync).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(Errno::IO.raw_os_error()));
        assert_eq!(faults.struck(FaultSite::WalSync), 1);
        assert_eq!(faults.struck(FaultSite::Metadata), 0);
        faults.inject_everywhere(Fault::NoSpace);
        let error = faults.check(FaultSite::Metadata).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        faults.clear_all();
        assert!(faults.check(FaultSite::Metadata).is_ok());
    }
}
