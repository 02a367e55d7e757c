//! Locks that outlive a panic.
//!
//! Every lock in the store guards data that is only ever changed whole: a map swapped for
//! an updated copy once it is persisted, a counter, a handle put in or taken out. A thread
//! that panics while holding one therefore leaves nothing half-changed behind, and refusing
//! every later caller, as a poisoned lock would, would turn one failed request into a store
//! that answers nothing. So the store takes its locks through these two traits.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Reads and writes an `RwLock` whether or not a panic poisoned it.
pub(crate) trait RwLockExt<T> {
    fn read_or_recover(&self) -> RwLockReadGuard<'_, T>;
    fn write_or_recover(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T> RwLockExt<T> for RwLock<T> {
    fn read_or_recover(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_or_recover(&self) -> RwLockWriteGuard<'_, T> {
        self.write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Locks a `Mutex` whether or not a panic poisoned it.
pub(crate) trait MutexExt<T> {
    fn lock_or_recover(&self) -> MutexGuard<'_, T>;
}

impl<T> MutexExt<T> for Mutex<T> {
    fn lock_or_recover(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
