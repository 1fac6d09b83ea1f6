//! Counters per namespace, and the shapes the admin stats route serializes.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::namespace::Namespace;

/// Something the cache counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    L1Hit,
    L2Hit,
    Miss,
    /// An L2 item past its TTL that DynamoDB had not deleted yet.
    L2Expired,
    L2Error,
    /// A 304 answered to `If-None-Match`.
    NotModified,
}

#[derive(Default)]
struct Tally {
    l1_hits: AtomicU64,
    l2_hits: AtomicU64,
    misses: AtomicU64,
    l2_expired: AtomicU64,
    l2_errors: AtomicU64,
    not_modified: AtomicU64,
}

impl Tally {
    fn of(&self, event: Event) -> &AtomicU64 {
        match event {
            Event::L1Hit => &self.l1_hits,
            Event::L2Hit => &self.l2_hits,
            Event::Miss => &self.misses,
            Event::L2Expired => &self.l2_expired,
            Event::L2Error => &self.l2_errors,
            Event::NotModified => &self.not_modified,
        }
    }

    fn read(&self) -> NamespaceStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        NamespaceStats {
            hits: load(&self.l1_hits) + load(&self.l2_hits),
            l1_hits: load(&self.l1_hits),
            l2_hits: load(&self.l2_hits),
            misses: load(&self.misses),
            hit_rate: 0.0,
            l2_expired: load(&self.l2_expired),
            l2_errors: load(&self.l2_errors),
            not_modified: load(&self.not_modified),
        }
    }
}

/// One tally per namespace, created for every namespace up front so counting never allocates
/// or locks; indexed by the namespace's position (counting is on every request's path).
pub(crate) struct Counters {
    by_namespace: Vec<Tally>,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Self {
            by_namespace: Namespace::ALL.iter().map(|_| Tally::default()).collect(),
        }
    }

    pub(crate) fn count(&self, ns: Namespace, event: Event) {
        if let Some(tally) = self.by_namespace.get(ns.index()) {
            tally.of(event).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The sum over all namespaces, and each namespace's numbers by name.
    pub(crate) fn snapshot(&self) -> (NamespaceStats, serde_json::Map<String, serde_json::Value>) {
        let mut total = NamespaceStats::default();
        let mut namespaces = serde_json::Map::new();
        for ns in Namespace::ALL {
            let stats = self
                .by_namespace
                .get(ns.index())
                .map(Tally::read)
                .unwrap_or_default();
            total.add(&stats);
            namespaces.insert(
                ns.name().into(),
                serde_json::to_value(stats.finished()).unwrap_or_default(),
            );
        }
        (total.finished(), namespaces)
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct NamespaceStats {
    pub hits: u64,
    pub l1_hits: u64,
    pub l2_hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub l2_expired: u64,
    pub l2_errors: u64,
    pub not_modified: u64,
}

impl NamespaceStats {
    fn add(&mut self, o: &Self) {
        self.hits += o.hits;
        self.l1_hits += o.l1_hits;
        self.l2_hits += o.l2_hits;
        self.misses += o.misses;
        self.l2_expired += o.l2_expired;
        self.l2_errors += o.l2_errors;
        self.not_modified += o.not_modified;
    }

    /// Fills in `hit_rate` (hits over lookups; 0 before the first lookup).
    fn finished(mut self) -> Self {
        let lookups = self.hits + self.misses;
        self.hit_rate = if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        };
        self
    }
}

/// The admin stats route's `data`.
#[derive(Debug, Serialize)]
pub struct CacheStats {
    pub enabled: bool,
    pub data_version: Option<i64>,
    pub version_check_interval_ms: u64,
    pub l1: L1Stats,
    pub l2: L2Stats,
    pub total: NamespaceStats,
    /// `NamespaceStats` by namespace name.
    pub namespaces: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct L1Stats {
    pub entries: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct L2Stats {
    pub enabled: bool,
    pub table: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_namespace_and_in_total() {
        let counters = Counters::new();
        counters.count(Namespace::GeneDetail, Event::L1Hit);
        counters.count(Namespace::GeneDetail, Event::Miss);
        counters.count(Namespace::GeneList, Event::L2Hit);
        counters.count(Namespace::GeneList, Event::NotModified);
        let (total, namespaces) = counters.snapshot();
        assert_eq!((total.hits, total.misses, total.not_modified), (2, 1, 1));
        assert!((total.hit_rate - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(namespaces.len(), Namespace::ALL.len());
        let detail = &namespaces["gene_detail"];
        assert_eq!(detail["l1_hits"], 1);
        assert_eq!(detail["hit_rate"], 0.5);
        assert_eq!(namespaces["statistics"]["hit_rate"], 0.0);
    }

    #[test]
    fn namespace_stats_keep_their_json_keys() {
        let (total, _) = Counters::new().snapshot();
        let json = serde_json::to_value(total).unwrap_or_default();
        let keys: Vec<&str> = json
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut expected = [
            "hits",
            "l1_hits",
            "l2_hits",
            "misses",
            "hit_rate",
            "l2_expired",
            "l2_errors",
            "not_modified",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}
