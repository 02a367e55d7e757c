//! The flood stage: writes stop before the disk is full, and start again by themselves.
//!
//! A store that lets its disk fill up has nowhere to write the commit that would let it
//! trim its log, nor the merge that would shrink its segments. Elasticsearch therefore puts
//! a `read_only_allow_delete` block on every index once the disk passes its flood-stage
//! watermark (95 % by default): writes get `429 cluster_block_exception`, which shippers
//! retry, while searches, retention and index deletion go on. It lifts the block once usage
//! is back under the high watermark (90 %).
//!
//! [`DiskGuard`] does the same for the file system holding the data directory. It blocks
//! when less than [`FloodStage::required_free`] is free — 5 % of the file system or
//! [`FloodStage::min_free_bytes`], whichever is more — and lifts the block once twice that is
//! free again, so that a store hovering at the line does not flap. A write that fails with
//! `ENOSPC` anyway (another process filled the disk between two checks) blocks at once.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{info, warn};

use crate::sync::MutexExt;
use crate::time_value::format_byte_size;

/// When writes stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloodStage {
    /// Writes stop when the file system is fuller than this share of its size (0.95).
    pub max_used_ratio: f64,
    /// …or has less than this many bytes free, whichever leaves more free.
    pub min_free_bytes: u64,
}

impl Default for FloodStage {
    fn default() -> FloodStage {
        FloodStage {
            max_used_ratio: 0.95,
            min_free_bytes: 100 << 20,
        }
    }
}

impl FloodStage {
    /// A flood stage that never blocks (`ENOSPC` still does).
    pub fn disabled() -> FloodStage {
        FloodStage {
            max_used_ratio: 1.0,
            min_free_bytes: 0,
        }
    }

    /// The free space below which writes stop, on a file system of `total` bytes.
    pub fn required_free(&self, total: u64) -> u64 {
        let by_ratio = (total as f64 * (1.0 - self.max_used_ratio).clamp(0.0, 1.0)) as u64;
        by_ratio.max(self.min_free_bytes)
    }
}

/// Space on the file system holding a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// Its size.
    pub total_bytes: u64,
    /// What an unprivileged process may still write.
    pub available_bytes: u64,
}

impl DiskSpace {
    /// Reads the space of the file system holding `path`.
    pub fn of(path: &Path) -> std::io::Result<DiskSpace> {
        let stats = rustix::fs::statvfs(path)?;
        let block = stats.f_frsize.max(1);
        Ok(DiskSpace {
            total_bytes: stats.f_blocks.saturating_mul(block),
            available_bytes: stats.f_bavail.saturating_mul(block),
        })
    }

    /// The share of the file system in use, as `df` shows it.
    pub fn used_percent(&self) -> f64 {
        if self.total_bytes == 0 {
            return 0.0;
        }
        100.0 * (1.0 - self.available_bytes as f64 / self.total_bytes as f64)
    }
}

/// Why writes are refused, for the error each refused write gets and for
/// `_cluster/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteBlock {
    /// What an operator reads: which file system, how full, what to do.
    pub reason: String,
}

/// Watches the data directory's file system and holds the flood-stage block.
#[derive(Debug)]
pub(crate) struct DiskGuard {
    path: PathBuf,
    stage: FloodStage,
    blocked: AtomicBool,
    block: Mutex<Option<WriteBlock>>,
}

/// A block caused by `ENOSPC` is lifted only once at least this much is free again, even
/// when the flood stage itself is disabled: otherwise every retry would fail again at once.
const MIN_FREE_AFTER_ENOSPC: u64 = 16 << 20;

impl DiskGuard {
    pub(crate) fn new(path: &Path, stage: FloodStage) -> DiskGuard {
        DiskGuard {
            path: path.to_owned(),
            stage,
            blocked: AtomicBool::new(false),
            block: Mutex::new(None),
        }
    }

    /// Whether writes are refused now. One atomic load: the writer thread asks before
    /// every group of writes.
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked.load(Ordering::Acquire)
    }

    /// Why writes are refused, if they are.
    pub(crate) fn block(&self) -> Option<WriteBlock> {
        self.lock().clone()
    }

    /// Measures the file system and sets or lifts the block; returns whether writes are
    /// refused.
    pub(crate) fn check(&self) -> bool {
        let space = match DiskSpace::of(&self.path) {
            Ok(space) => space,
            Err(error) => {
                // Not knowing is no reason to refuse writes: ENOSPC still blocks.
                warn!(path = %self.path.display(), %error, "reading the free disk space failed");
                return self.is_blocked();
            }
        };
        self.apply(space)
    }

    fn apply(&self, space: DiskSpace) -> bool {
        let required = self.stage.required_free(space.total_bytes);
        let mut block = self.lock();
        match block.as_ref() {
            None if space.available_bytes < required => {
                let reason = format!(
                    "disk usage exceeded flood-stage watermark: the file system holding {} is \
                     {:.1}% full, with {} free of {} and at least {} required; writes are \
                     refused until {} is free (delete old indexes or data streams, shorten \
                     retention, or give the data directory more space), searches and \
                     deletions go on",
                    self.path.display(),
                    space.used_percent(),
                    format_byte_size(space.available_bytes),
                    format_byte_size(space.total_bytes),
                    format_byte_size(required),
                    format_byte_size(required.saturating_mul(2)),
                );
                warn!(
                    path = %self.path.display(),
                    available_bytes = space.available_bytes,
                    required_bytes = required,
                    "flood stage reached, writes are refused"
                );
                *block = Some(WriteBlock { reason });
                self.blocked.store(true, Ordering::Release);
            }
            Some(_) => {
                let resume_at = required.saturating_mul(2).max(MIN_FREE_AFTER_ENOSPC);
                if space.available_bytes >= resume_at {
                    info!(
                        path = %self.path.display(),
                        available_bytes = space.available_bytes,
                        "disk space is back, writes are accepted again"
                    );
                    *block = None;
                    self.blocked.store(false, Ordering::Release);
                }
            }
            None => {}
        }
        block.is_some()
    }

    /// A write failed with `ENOSPC` (`failure` says which): block at once, whatever the last
    /// measurement said.
    pub(crate) fn note_disk_full(&self, failure: &str) {
        let mut block = self.lock();
        if block.is_none() {
            warn!(path = %self.path.display(), failure, "the disk is full, writes are refused");
            *block = Some(WriteBlock {
                reason: format!(
                    "the file system holding {} is full ({failure}); writes are refused until \
                     space is freed (delete old indexes or data streams, shorten retention, or \
                     give the data directory more space), searches and deletions go on",
                    self.path.display()
                ),
            });
            self.blocked.store(true, Ordering::Release);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<WriteBlock>> {
        self.block.lock_or_recover()
    }
}

/// Whether an I/O error means the file system is full (or the user's quota spent).
pub(crate) fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn space(total_mb: u64, available_mb: u64) -> DiskSpace {
        DiskSpace {
            total_bytes: total_mb * MB,
            available_bytes: available_mb * MB,
        }
    }

    #[test]
    fn the_watermark_leaves_five_percent_or_the_minimum_whichever_is_more() {
        let stage = FloodStage::default();
        assert_eq!(stage.required_free(1000 * 1024 * MB), 50 * 1024 * MB);
        assert_eq!(stage.required_free(1000 * MB), 100 * MB);
        assert_eq!(FloodStage::disabled().required_free(1000 * MB), 0);
    }

    #[test]
    fn the_block_is_set_below_the_watermark_and_lifted_at_twice_it() {
        let stage = FloodStage {
            max_used_ratio: 0.95,
            min_free_bytes: 0,
        };
        let guard = DiskGuard::new(Path::new("/data"), stage);
        assert!(!guard.apply(space(1000, 60)));
        assert!(guard.apply(space(1000, 49)));
        let reason = guard.block().unwrap().reason;
        assert!(reason.contains("95.1% full"), "{reason}");
        assert!(guard.apply(space(1000, 70)), "under twice the watermark");
        assert!(!guard.apply(space(1000, 101)));
        assert!(!guard.is_blocked());
        assert_eq!(guard.block(), None);
    }

    #[test]
    fn a_full_disk_blocks_at_once_and_needs_room_to_lift() {
        let guard = DiskGuard::new(Path::new("/data"), FloodStage::disabled());
        guard.note_disk_full("appending to the write-ahead log");
        assert!(guard.is_blocked());
        assert!(guard.apply(space(80, 1)), "one free megabyte is not enough");
        assert!(!guard.apply(space(80, 30)));
    }

    #[test]
    fn the_file_system_of_a_real_directory_is_measured() {
        let dir = tempfile::tempdir().unwrap();
        let space = DiskSpace::of(dir.path()).unwrap();
        assert!(space.total_bytes > 0);
        assert!(space.available_bytes <= space.total_bytes);
    }
}
