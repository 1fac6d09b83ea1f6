//! Two-level store of rendered 200 bodies: L1 in process (`l1`) and L2 in DynamoDB (`dynamo`,
//! shared by all containers). It stores and returns bodies only; `crate::http::cached` turns
//! them into responses with validators.
//!
//! Every key contains the data version, so a version bump invalidates everything everywhere
//! without a scan or delete: containers re-read the version (through a `DataVersionPort`) at
//! most every few seconds and from then on look up new keys. Keys hash the *parsed, normalized*
//! request (defaults filled in, parameter order irrelevant), so equal requests share one entry
//! and different filters never do. The cache is an accelerator only: any L2 failure degrades
//! to L1/rendering.

pub mod config;
pub mod dynamo;
mod l1;
pub mod namespace;
pub mod stats;
pub mod version;

use std::future::Future;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::error::ApiError;
use crate::validators::etag_of;
use dynamo::{DynamoL2, L2Lookup};
use l1::L1;
use stats::{Counters, Event, L1Stats, L2Stats};

pub use config::CacheConfig;
pub use namespace::{Namespace, Policy};
pub use stats::{CacheStats, NamespaceStats};
pub use version::{DataVersion, DataVersionPort, NoDataVersion};

/// A rendered 200 body with its ETag (computed once, when stored).
#[derive(Debug, Clone)]
pub struct CachedBody {
    pub body: Arc<str>,
    pub etag: String,
}

impl CachedBody {
    pub fn new(body: String) -> Self {
        let etag = etag_of(&body);
        Self {
            body: body.into(),
            etag,
        }
    }
}

/// Where a body came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    HitL1,
    HitL2,
    Miss,
    /// Not cached: the cache is off or the data version is unknown.
    Bypass,
}

impl CacheOutcome {
    /// The name sent as `X-Cache`.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::HitL1 => "hit-l1",
            CacheOutcome::HitL2 => "hit-l2",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Bypass => "bypass",
        }
    }
}

/// A body and where it came from.
#[derive(Debug, Clone)]
pub struct Cached {
    pub value: CachedBody,
    pub outcome: CacheOutcome,
}

pub struct Cache {
    config: CacheConfig,
    l1: L1,
    l2: OnceCell<Option<Arc<DynamoL2>>>,
    version: DataVersion,
    counters: Counters,
}

impl Cache {
    /// A cache without a data version: every lookup bypasses it, but its L2 can be reached
    /// (to probe or create the table). Serving caches use `with_version`.
    pub fn new(config: CacheConfig) -> Self {
        Self::with_version(config, Arc::new(NoDataVersion))
    }

    pub fn with_version(config: CacheConfig, version: Arc<dyn DataVersionPort>) -> Self {
        Self {
            l1: L1::new(config.l1_max_bytes),
            version: DataVersion::new(version, config.version_check_interval),
            config,
            l2: OnceCell::new(),
            counters: Counters::new(),
        }
    }

    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    pub fn data_version(&self) -> &DataVersion {
        &self.version
    }

    /// The L2, connected on first use (so a cold start pays for the SDK only when it is needed).
    pub async fn l2(&self) -> Option<&Arc<DynamoL2>> {
        self.l2
            .get_or_init(|| async {
                let table = self.config.l2_table.clone()?;
                Some(Arc::new(
                    DynamoL2::connect(
                        table,
                        self.config.l2_endpoint.clone(),
                        self.config.l2_timeout,
                    )
                    .await,
                ))
            })
            .await
            .as_ref()
    }

    /// Cache key: namespace, data version and a hash of the normalized request.
    pub fn key(ns: Namespace, version: i64, material: &str) -> String {
        let digest = Sha256::digest(material.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:v{version}:{hex}", ns.name())
    }

    /// The body for a cacheable GET: L1, then L2, then `render` (whose body is stored in both;
    /// an error is returned as is and stores nothing). `material` must identify the body
    /// completely (normalized parameters, base URL).
    pub async fn get_or_render<F, Fut, E>(
        &self,
        ns: Namespace,
        material: &str,
        render: F,
    ) -> Result<Cached, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, E>>,
    {
        let version = if self.config.enabled {
            self.version.get().await
        } else {
            None
        };
        let Some(version) = version else {
            let value = CachedBody::new(render().await?);
            return Ok(Cached {
                value,
                outcome: CacheOutcome::Bypass,
            });
        };
        let key = Self::key(ns, version, material);
        if let Some(value) = self.l1.get(&key) {
            self.counters.count(ns, Event::L1Hit);
            return Ok(Cached {
                value,
                outcome: CacheOutcome::HitL1,
            });
        }
        let now = chrono::Utc::now().timestamp();
        if let Some(l2) = self.l2().await {
            match l2.get(&key, now).await {
                L2Lookup::Hit(value) => {
                    self.counters.count(ns, Event::L2Hit);
                    self.l1.insert(key, value.clone(), self.config.ttl(ns));
                    return Ok(Cached {
                        value,
                        outcome: CacheOutcome::HitL2,
                    });
                }
                L2Lookup::Expired => self.counters.count(ns, Event::L2Expired),
                L2Lookup::Unavailable => self.counters.count(ns, Event::L2Error),
                L2Lookup::Miss => {}
            }
        }
        self.counters.count(ns, Event::Miss);
        let value = CachedBody::new(render().await?);
        let ttl = self.config.ttl(ns);
        self.l1.insert(key.clone(), value.clone(), ttl);
        if let Some(l2) = self.l2().await {
            let (l2, stored) = (l2.clone(), value.clone());
            let expires_at = now + ttl.as_secs() as i64;
            // The write must not delay the answer; on Lambda a frozen task finishes on the next invoke.
            tokio::spawn(async move { l2.put(&key, &stored, expires_at).await });
        }
        Ok(Cached {
            value,
            outcome: CacheOutcome::Miss,
        })
    }

    /// Counts a 304 answered from a body of `ns` (the HTTP side decides; the stats live here).
    pub fn note_not_modified(&self, ns: Namespace) {
        self.counters.count(ns, Event::NotModified);
    }

    /// Invalidates everything by bumping the data version; returns the new version.
    pub async fn flush(&self) -> Result<i64, ApiError> {
        let version = self.version.bump().await?;
        self.l1.clear();
        Ok(version)
    }

    pub async fn stats(&self) -> CacheStats {
        let (entries, bytes) = self.l1.usage();
        let (total, namespaces) = self.counters.snapshot();
        CacheStats {
            enabled: self.config.enabled,
            data_version: self.version.get().await,
            version_check_interval_ms: self.version.interval().as_millis() as u64,
            l1: L1Stats {
                entries,
                bytes,
                max_bytes: self.l1.max_bytes(),
            },
            l2: L2Stats {
                enabled: self.config.l2_table.is_some(),
                table: self.config.l2_table.clone(),
            },
            total,
            namespaces,
        }
    }
}

#[cfg(test)]
mod tests;
