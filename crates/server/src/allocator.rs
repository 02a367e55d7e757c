//! The global allocator, and how soon it gives memory back.
//!
//! Ingest allocates and frees many small objects on several threads at once (parsed JSON,
//! typed values, tantivy's per-document buffers); mimalloc's thread-local free lists cut both
//! that CPU cost and the fragmentation that inflates the resident set under glibc's allocator.
//!
//! Its defaults are tuned for throughput, not footprint: freed pages go back to the OS only
//! after a second. Every refresh flushes a segment per partition and every merge builds large
//! transient buffers, so under sustained ingest that delay kept well over 100 MB of freed
//! memory resident (peak RSS about 500 MB instead of about 360 MB for a million events, at
//! the same CPU cost within the noise; see `BENCHMARKS.md`).

use std::os::raw::c_int;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t` (`include/mimalloc.h`), in
/// milliseconds.
const PURGE_DELAY: c_int = 15;

// The index above is that of the bundled mimalloc v3, whose option list has 47 entries; a
// different list fails the build here rather than setting the wrong option.
const _: () = assert!(libmimalloc_sys::_mi_option_last == 47);

/// Returns freed memory to the OS after 10 ms (mimalloc v2's default).
/// `MIMALLOC_PURGE_DELAY` in the environment still takes precedence.
///
/// Must be called at the start of `main`, before any other thread exists.
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: `mi_option_set_default` writes a plain global that mimalloc reads without
    // synchronisation; no other thread exists yet, and the option accepts any value.
    unsafe {
        libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 10);
    }
}
