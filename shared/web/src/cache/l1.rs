//! L1: this container's memory (moka), bounded by bytes, each entry with its namespace's TTL.

use std::time::{Duration, Instant};

use super::CachedBody;

#[derive(Clone)]
struct Entry {
    value: CachedBody,
    ttl: Duration,
}

/// Entries expire after their own TTL (namespaces differ), not a cache-wide one.
struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

pub(crate) struct L1 {
    entries: moka::sync::Cache<String, Entry>,
    max_bytes: u64,
}

impl L1 {
    /// `max_bytes == 0` turns L1 off (every `get` misses, `insert` keeps nothing).
    pub(crate) fn new(max_bytes: u64) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            // Weight = bytes held, roughly, so the bound is one of memory, not of entry count.
            .weigher(|key: &String, entry: &Entry| {
                (key.len() + entry.value.body.len() + entry.value.etag.len() + 64)
                    .min(u32::MAX as usize) as u32
            })
            .expire_after(PerEntryTtl)
            .build();
        Self { entries, max_bytes }
    }

    fn on(&self) -> bool {
        self.max_bytes > 0
    }

    pub(crate) fn get(&self, key: &str) -> Option<CachedBody> {
        self.entries
            .get(key)
            .filter(|_| self.on())
            .map(|entry| entry.value)
    }

    pub(crate) fn insert(&self, key: String, value: CachedBody, ttl: Duration) {
        if self.on() {
            self.entries.insert(key, Entry { value, ttl });
        }
    }

    pub(crate) fn clear(&self) {
        self.entries.invalidate_all();
    }

    /// `(entries, bytes)` after applying pending evictions, so the numbers are current.
    pub(crate) fn usage(&self) -> (u64, u64) {
        self.entries.run_pending_tasks();
        (self.entries.entry_count(), self.entries.weighted_size())
    }

    pub(crate) fn max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_and_drops_entries() {
        let l1 = L1::new(1024 * 1024);
        assert!(l1.get("k").is_none());
        l1.insert(
            "k".into(),
            CachedBody::new("{}".into()),
            Duration::from_secs(60),
        );
        assert_eq!(l1.get("k").map(|v| v.body), Some("{}".into()));
        let (entries, bytes) = l1.usage();
        assert_eq!(entries, 1);
        assert!(bytes > 0);
        l1.clear();
        assert!(l1.get("k").is_none());
    }

    #[test]
    fn zero_bytes_is_off() {
        let l1 = L1::new(0);
        l1.insert(
            "k".into(),
            CachedBody::new("{}".into()),
            Duration::from_secs(60),
        );
        assert!(l1.get("k").is_none());
    }
}
