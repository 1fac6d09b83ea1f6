//! The data version as a container sees it: re-read from Postgres at most every `interval`, so
//! a bump reaches every warm container within that interval without any scan or delete.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::db::DbPool;

pub struct DataVersion {
    current: AtomicI64,
    /// Milliseconds since `epoch` of the last successful read; 0 = never read.
    checked_at_ms: AtomicU64,
    refreshing: AtomicBool,
    epoch: Instant,
    interval: Duration,
}

/// Version value meaning "not known yet".
const UNKNOWN: i64 = i64::MIN;

impl DataVersion {
    pub fn new(interval: Duration) -> Self {
        Self {
            current: AtomicI64::new(UNKNOWN),
            checked_at_ms: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            epoch: Instant::now(),
            interval,
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    fn known(&self) -> Option<i64> {
        Some(self.current.load(Ordering::Acquire)).filter(|v| *v != UNKNOWN)
    }

    /// The current version, re-read when the last read is older than the interval. One
    /// request re-reads; concurrent ones keep using the previous value meanwhile. If the
    /// database cannot be read, the previous value stays (the cache keeps serving) and `None`
    /// is returned only when no version was ever read.
    pub async fn get(&self, pool: &DbPool) -> Option<i64> {
        let checked = self.checked_at_ms.load(Ordering::Acquire);
        let fresh = checked != 0
            && self.now_ms().saturating_sub(checked) < self.interval.as_millis() as u64;
        if fresh {
            return self.known();
        }
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return self.known();
        }
        let read = async {
            let client = pool.get().await.ok()?;
            let row = client
                .query_typed_one("SELECT version FROM data_version", &[])
                .await
                .ok()?;
            Some(row.get::<_, i64>(0))
        };
        if let Some(version) = read.await {
            self.set(version);
        }
        self.refreshing.store(false, Ordering::Release);
        self.known()
    }

    /// Records a version read or written elsewhere (e.g. by a flush on this container).
    pub fn set(&self, version: i64) {
        self.current.store(version, Ordering::Release);
        self.checked_at_ms.store(self.now_ms(), Ordering::Release);
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }
}
