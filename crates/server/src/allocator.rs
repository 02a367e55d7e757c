//! The global allocator, and how soon it gives memory back.
//!
//! Ingest allocates and frees many small objects on several threads at once (parsed JSON,
//! typed values, tantivy's per-document buffers); mimalloc's thread-local free lists cut both
//! that CPU cost and the fragmentation that inflates the resident set under glibc's allocator.
//!
//! Two of its defaults are changed, both measured with `logfleet bench ingest`
//! (`BENCHMARKS.md`):
//!
//! * **No transparent huge pages.** mimalloc asks for them on its arenas
//!   (`madvise(MADV_HUGEPAGE)`), so every page fault zeroed 2 MiB and every purge split a huge
//!   page again: page faults and `madvise` took about a tenth of the server's CPU under
//!   ingest, and freed memory lingered in half-used huge pages. The process opts out at
//!   start-up.
//! * **Freed memory goes back to the OS after 100 ms**, not after a second. Indexing builds a
//!   segment's buffers (tens of megabytes per partition) and frees them at each flush, and
//!   merges do the same; a second's delay kept about 30 MB more resident for no measurable
//!   gain, and 250 ms about 40 MB more than 100 ms at the peak of a 3M-event run, while a
//!   10 ms delay returned those pages only to fault them in again for the next segment
//!   (5–7 % more CPU per event; 0 ms costs 9 %).

use std::os::raw::c_int;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t` (`include/mimalloc.h`), in
/// milliseconds.
const PURGE_DELAY: c_int = 15;
/// `mi_option_allow_thp` in the same list: whether new arenas are advised as huge pages.
const ALLOW_THP: c_int = 44;

// The indexes above are those of the bundled mimalloc v3, whose option list has 47 entries; a
// different list fails the build here rather than setting the wrong option.
const _: () = assert!(libmimalloc_sys::_mi_option_last == 47);

/// Returns freed memory to the OS after 100 ms, and keeps the process on ordinary pages.
/// `MIMALLOC_PURGE_DELAY` and `MIMALLOC_ALLOW_THP` in the environment still take precedence
/// for mimalloc's own options.
///
/// Must be called at the start of `main`, before any other thread exists.
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: `mi_option_set_default` writes a plain global that mimalloc reads without
    // synchronisation; no other thread exists yet, and both options accept these values.
    unsafe {
        libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 100);
        libmimalloc_sys::mi_option_set_default(ALLOW_THP, 0);
    }
    // The first arena was reserved (and advised) before `main`; the per-process flag covers
    // it too, since the kernel checks it at every fault. Where the flag cannot be set (an
    // old kernel, a seccomp filter) the process simply keeps the system's policy.
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes an integer flag and no pointers; it changes only
        // how the kernel backs this process's future page faults.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}
