//! A bounded cache of recent results, for processors whose work is costly and whose inputs
//! repeat (user-agent headers, client addresses): traffic comes from a few thousand clients,
//! and a hit costs a hash where the work costs microseconds. Elasticsearch keeps such caches
//! for the same processors.
//!
//! Two generations bound it: when the young one is full it becomes the old one and the
//! previous old one is dropped, so keys still in use survive by moving back up.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

/// How many independently locked parts a [`SharedRecent`] has: threads that run pipelines
/// at once rarely wait for each other.
const SHARDS: usize = 16;

/// A [`Recent`] cache shared by the threads that run a processor, in locked shards.
#[derive(Debug)]
pub struct SharedRecent<V> {
    hasher: RandomState,
    shards: Box<[Mutex<Recent<V>>]>,
}

impl<V: Clone> SharedRecent<V> {
    /// A cache of about `2 × generation` entries in all.
    pub fn new(generation: usize) -> SharedRecent<V> {
        SharedRecent {
            hasher: RandomState::new(),
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Recent::new(generation.div_ceil(SHARDS))))
                .collect(),
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, Recent<V>> {
        let index = self.hasher.hash_one(key) as usize % self.shards.len();
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The result for `key`, if it is recent.
    pub fn get(&self, key: &str) -> Option<V> {
        self.shard(key).get(key)
    }

    /// Remembers the result for `key`.
    pub fn insert(&self, key: String, value: V) {
        self.shard(&key).insert(key, value);
    }
}

/// Recent results by key.
#[derive(Debug)]
pub struct Recent<V> {
    generation: usize,
    young: HashMap<String, V>,
    old: HashMap<String, V>,
}

impl<V: Clone> Recent<V> {
    /// A cache of at most `2 × generation` entries.
    pub fn new(generation: usize) -> Recent<V> {
        Recent {
            generation: generation.max(1),
            young: HashMap::new(),
            old: HashMap::new(),
        }
    }

    /// The result for `key`, if it is recent.
    pub fn get(&mut self, key: &str) -> Option<V> {
        if let Some(value) = self.young.get(key) {
            return Some(value.clone());
        }
        let (key, value) = self.old.remove_entry(key)?;
        self.insert(key, value.clone());
        Some(value)
    }

    /// Remembers the result for `key`.
    pub fn insert(&mut self, key: String, value: V) {
        if self.young.len() >= self.generation {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }

    /// How many results it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_is_used_and_stays_bounded() {
        let mut recent = Recent::new(2);
        recent.insert("a".to_owned(), 1);
        recent.insert("b".to_owned(), 2);
        recent.insert("c".to_owned(), 3);
        assert_eq!(
            recent.get("a"),
            Some(1),
            "from the old generation, moved up"
        );
        recent.insert("d".to_owned(), 4);
        recent.insert("e".to_owned(), 5);
        assert!(recent.len() <= 4);
        assert_eq!(recent.get("b"), None, "dropped with its generation");
    }
}
