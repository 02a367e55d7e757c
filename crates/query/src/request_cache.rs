//! The request cache: each partition's aggregation results, kept so a dashboard that
//! refreshes the same panels does not recompute partitions that have not changed, as
//! Elasticsearch's shard request cache does. Requests that depend on `now` are never cached
//! and `?request_cache=false` bypasses it. Elasticsearch caches only `size: 0` requests,
//! whole; Logfleet caches the aggregations of any request and still searches for its hits,
//! so the seed's dashboard queries (which return ten hits too) benefit.
//!
//! An entry is keyed by the partition's exact contents — the ids of its segments and how many
//! documents each has deleted — and the request as translated for it, so a refresh that adds
//! a segment, a merge or a deletion makes new keys and the old entries are never read again;
//! they age out of the bounded cache.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use tantivy::Searcher;
use tantivy::aggregation::intermediate_agg_result::IntermediateAggregationResults;

/// Entries kept at most.
const MAX_ENTRIES: usize = 1024;
/// Approximate bytes kept at most.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// What one partition contributed to a search: its match count and aggregation state.
#[derive(Debug, Clone)]
pub(crate) struct ShardResult {
    pub(crate) count: u64,
    pub(crate) aggregations: IntermediateAggregationResults,
}

/// A bounded map from (partition contents, request) to that partition's result.
#[derive(Debug, Default)]
pub struct RequestCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<(u64, String), Entry>,
    bytes: usize,
    clock: u64,
    hits: u64,
    misses: u64,
}

#[derive(Debug)]
struct Entry {
    result: ShardResult,
    bytes: usize,
    last_used: u64,
}

/// The key of one partition's contents.
pub(crate) fn contents_key(searcher: &Searcher) -> u64 {
    let mut hasher = DefaultHasher::new();
    for segment in searcher.segment_readers() {
        segment.segment_id().uuid_string().hash(&mut hasher);
        segment.num_deleted_docs().hash(&mut hasher);
    }
    hasher.finish()
}

impl RequestCache {
    /// An empty cache.
    pub fn new() -> RequestCache {
        RequestCache::default()
    }

    pub(crate) fn get(&self, contents: u64, request: &str) -> Option<ShardResult> {
        let mut entries = self.lock();
        entries.clock += 1;
        let clock = entries.clock;
        let found = entries
            .map
            .get_mut(&(contents, request.to_owned()))
            .map(|entry| {
                entry.last_used = clock;
                entry.result.clone()
            });
        match found {
            Some(_) => entries.hits += 1,
            None => entries.misses += 1,
        }
        found
    }

    pub(crate) fn insert(&self, contents: u64, request: &str, result: ShardResult) {
        // The length of its debug rendering stands in for the memory the state holds (its
        // serde form is not always JSON: some maps have non-string keys).
        let bytes = format!("{:?}", result.aggregations)
            .len()
            .saturating_add(request.len());
        if bytes > MAX_BYTES / 8 {
            return;
        }
        let mut entries = self.lock();
        entries.clock += 1;
        let clock = entries.clock;
        while entries.map.len() >= MAX_ENTRIES || entries.bytes + bytes > MAX_BYTES {
            let Some(oldest) = entries
                .map
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some(evicted) = entries.map.remove(&oldest) {
                entries.bytes -= evicted.bytes;
            }
        }
        let entry = Entry {
            result,
            bytes,
            last_used: clock,
        };
        if let Some(replaced) = entries.map.insert((contents, request.to_owned()), entry) {
            entries.bytes -= replaced.bytes;
        }
        entries.bytes += bytes;
    }

    /// `(hits, misses)` since the start.
    pub fn stats(&self) -> (u64, u64) {
        let entries = self.lock();
        (entries.hits, entries.misses)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves nothing half-done worth refusing.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(count: u64) -> ShardResult {
        ShardResult {
            count,
            aggregations: IntermediateAggregationResults::default(),
        }
    }

    #[test]
    fn entries_are_found_by_contents_and_request() {
        let cache = RequestCache::new();
        cache.insert(1, "q", result(5));
        assert_eq!(cache.get(1, "q").map(|found| found.count), Some(5));
        assert!(cache.get(2, "q").is_none(), "other contents");
        assert!(cache.get(1, "other").is_none(), "other request");
        assert_eq!(cache.stats(), (1, 2));
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let cache = RequestCache::new();
        for contents in 0..MAX_ENTRIES as u64 {
            cache.insert(contents, "q", result(contents));
        }
        assert!(cache.get(0, "q").is_some());
        cache.insert(u64::MAX, "q", result(0));
        assert!(cache.get(0, "q").is_some(), "recently used, kept");
        assert!(cache.get(1, "q").is_none(), "least recently used, evicted");
        assert_eq!(cache.lock().map.len(), MAX_ENTRIES);
    }
}
