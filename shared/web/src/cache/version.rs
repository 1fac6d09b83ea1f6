//! The data version as a container sees it: re-read through a port at most every `interval`,
//! so a bump reaches every warm container within that interval without any scan or delete.
//!
//! The port keeps the cache free of the database: `crate::pg_version` reads Postgres, tests
//! use a counter.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::error::ApiError;

/// Where the shared data version lives.
pub trait DataVersionPort: Send + Sync {
    /// The current version; `None` when it cannot be read right now.
    fn read(&self) -> BoxFuture<'_, Option<i64>>;
    /// Increments the version and returns the new value.
    fn bump(&self) -> BoxFuture<'_, Result<i64, ApiError>>;
}

/// A port with no version: nothing is ever looked up or stored (every answer is a bypass).
pub struct NoDataVersion;

impl DataVersionPort for NoDataVersion {
    fn read(&self) -> BoxFuture<'_, Option<i64>> {
        Box::pin(async { None })
    }

    fn bump(&self) -> BoxFuture<'_, Result<i64, ApiError>> {
        Box::pin(async { Err(ApiError::unavailable("this cache has no data version")) })
    }
}

pub struct DataVersion {
    port: Arc<dyn DataVersionPort>,
    current: AtomicI64,
    /// Milliseconds since `epoch` of the last successful read; 0 = never read.
    checked_at_ms: AtomicU64,
    refreshing: AtomicBool,
    epoch: Instant,
    interval: Duration,
}

/// Version value meaning "not known yet".
const UNKNOWN: i64 = i64::MIN;

/// Clears `refreshing` however the read ends, also when the request is dropped mid-read
/// (otherwise this container would never re-read the version again).
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl DataVersion {
    pub fn new(port: Arc<dyn DataVersionPort>, interval: Duration) -> Self {
        Self {
            port,
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
    /// port cannot read, the previous value stays (the cache keeps serving) and `None` is
    /// returned only when no version was ever read.
    pub async fn get(&self) -> Option<i64> {
        let checked = self.checked_at_ms.load(Ordering::Acquire);
        let fresh = checked != 0
            && self.now_ms().saturating_sub(checked) < self.interval.as_millis() as u64;
        if fresh || self.refreshing.swap(true, Ordering::AcqRel) {
            return self.known();
        }
        let _refreshing = Refreshing(&self.refreshing);
        if let Some(version) = self.port.read().await {
            self.set(version);
        }
        self.known()
    }

    /// Bumps the shared version through the port and adopts the new value at once.
    pub async fn bump(&self) -> Result<i64, ApiError> {
        let version = self.port.bump().await?;
        self.set(version);
        Ok(version)
    }

    /// Records a version read or written elsewhere.
    pub fn set(&self, version: i64) {
        self.current.store(version, Ordering::Release);
        self.checked_at_ms.store(self.now_ms(), Ordering::Release);
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A version in memory, as another container's bump would change it.
    #[derive(Default)]
    pub(crate) struct FakeVersion {
        pub(crate) version: AtomicI64,
        pub(crate) reads: AtomicUsize,
        pub(crate) unreadable: AtomicBool,
    }

    impl DataVersionPort for FakeVersion {
        fn read(&self) -> BoxFuture<'_, Option<i64>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let v = self.version.load(Ordering::SeqCst);
            let unreadable = self.unreadable.load(Ordering::SeqCst);
            Box::pin(async move { (!unreadable).then_some(v) })
        }

        fn bump(&self) -> BoxFuture<'_, Result<i64, ApiError>> {
            let v = self.version.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move { Ok(v) })
        }
    }

    #[tokio::test]
    async fn reads_at_most_once_per_interval() {
        let port = Arc::new(FakeVersion::default());
        port.version.store(7, Ordering::SeqCst);
        let version = DataVersion::new(port.clone(), Duration::from_secs(3600));
        assert_eq!(version.get().await, Some(7));
        port.version.store(8, Ordering::SeqCst);
        assert_eq!(version.get().await, Some(7), "within the interval");
        assert_eq!(port.reads.load(Ordering::SeqCst), 1);
        assert_eq!(version.bump().await.ok(), Some(9));
        assert_eq!(version.get().await, Some(9), "a local bump is seen at once");
    }

    #[tokio::test]
    async fn an_unreadable_port_keeps_the_last_version() {
        let port = Arc::new(FakeVersion::default());
        let version = DataVersion::new(port.clone(), Duration::ZERO);
        port.unreadable.store(true, Ordering::SeqCst);
        assert_eq!(version.get().await, None, "never read");
        port.unreadable.store(false, Ordering::SeqCst);
        assert_eq!(version.get().await, Some(0));
        port.unreadable.store(true, Ordering::SeqCst);
        assert_eq!(version.get().await, Some(0));
        assert!(
            DataVersion::new(Arc::new(NoDataVersion), Duration::ZERO)
                .bump()
                .await
                .is_err()
        );
    }
}
