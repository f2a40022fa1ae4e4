//! A map with a size cap that evicts its oldest entry (by insertion) to make room.
//!
//! Memory is then bounded by the cap whatever a client does; the caller learns of each
//! eviction and journals it, so a test that outgrows the cap sees why a token vanished.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// A string-keyed map holding at most `cap` entries.
#[derive(Debug)]
pub struct Capped<V> {
    map: HashMap<Arc<str>, V>,
    /// Keys in insertion order; may hold keys removed since (skipped, and compacted away
    /// once they outnumber the live ones).
    order: VecDeque<Arc<str>>,
    cap: usize,
}

impl<V> Capped<V> {
    /// An empty map for at most `cap` entries (at least one).
    pub fn new(cap: usize) -> Capped<V> {
        Capped {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Inserts or replaces; how many of the oldest entries were evicted to make room.
    pub fn insert(&mut self, key: &str, value: V) -> usize {
        if let Some(v) = self.map.get_mut(key) {
            *v = value;
            return 0;
        }
        let mut evicted = 0;
        while self.map.len() >= self.cap {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            evicted += usize::from(self.map.remove(&oldest).is_some());
        }
        let key: Arc<str> = Arc::from(key);
        self.order.push_back(key.clone());
        self.map.insert(key, value);
        evicted
    }

    /// The entry under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    /// The entry under `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// Removes and returns the entry under `key`.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let v = self.map.remove(key);
        self.compact_if_sparse();
        v
    }

    /// Keeps the entries for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut V) -> bool) {
        self.map.retain(|k, v| keep(k, v));
        self.compact_if_sparse();
    }

    /// Every entry's value.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values()
    }

    /// Every entry's value, to change.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut()
    }

    /// Every entry.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.map.iter().map(|(k, v)| (&**k, v))
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the next new key would evict one.
    pub fn is_full(&self) -> bool {
        self.map.len() >= self.cap
    }

    fn compact_if_sparse(&mut self) {
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
            self.order.shrink_to(self.order.len() * 2);
        }
        if self.map.capacity() > 4 * self.map.len() + 64 {
            self.map.shrink_to(self.map.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_oldest_at_the_cap() {
        let mut m = Capped::new(3);
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            assert_eq!(m.insert(k, i), 0);
        }
        assert_eq!(m.insert("d", 3), 1);
        assert!(m.get("a").is_none());
        assert_eq!(m.get("b"), Some(&1));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn replacing_evicts_nothing_and_removed_keys_are_skipped() {
        let mut m = Capped::new(2);
        m.insert("a", 1);
        m.insert("b", 2);
        assert_eq!(m.insert("a", 10), 0);
        m.remove("a");
        assert_eq!(m.insert("c", 3), 0);
        assert_eq!(m.insert("d", 4), 1);
        assert!(m.get("b").is_none());
        assert_eq!(m.get("c"), Some(&3));
    }

    #[test]
    fn the_order_queue_stays_bounded_by_live_entries() {
        let mut m = Capped::new(1_000_000);
        for i in 0..100_000 {
            let k = i.to_string();
            m.insert(&k, i);
            m.remove(&k);
        }
        assert_eq!(m.len(), 0);
        assert!(m.order.len() <= 64, "{} stale keys kept", m.order.len());
    }
}
