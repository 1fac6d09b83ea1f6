//! Two-level response cache: L1 in process (moka, bounded by bytes, TTL per namespace) and L2
//! in DynamoDB (shared by all containers, TTL attribute checked by the reader).
//!
//! Every key contains the data version, so a version bump invalidates everything everywhere
//! without a scan or delete: containers re-read the version at most every few seconds and
//! from then on look up new keys. Keys hash the *parsed, normalized* request (defaults filled
//! in, parameter order irrelevant), so equal requests share one entry and different filters
//! never do. The cache is an accelerator only: any L2 failure degrades to L1/Postgres.

pub mod dynamo;
pub mod version;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::HandlerResult;
use dynamo::{DynamoL2, L2Lookup};
use version::DataVersion;

/// What is cached, with its TTLs: in the caches (`ttl`) and for HTTP clients (`max_age`; short,
/// because a browser cannot see the data version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    GeneList,
    GeneResolve,
    GeneDetail,
    GeneEvidence,
    Statistics,
    Datasources,
    Annotations,
}

impl Namespace {
    pub const ALL: [Namespace; 7] = [
        Namespace::GeneList,
        Namespace::GeneResolve,
        Namespace::GeneDetail,
        Namespace::GeneEvidence,
        Namespace::Statistics,
        Namespace::Datasources,
        Namespace::Annotations,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Namespace::GeneList => "gene_list",
            Namespace::GeneResolve => "gene_resolve",
            Namespace::GeneDetail => "gene_detail",
            Namespace::GeneEvidence => "gene_evidence",
            Namespace::Statistics => "statistics",
            Namespace::Datasources => "datasources",
            Namespace::Annotations => "annotations",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|n| *n == self).unwrap_or(0)
    }

    pub fn default_ttl(self) -> Duration {
        Duration::from_secs(match self {
            Namespace::GeneList => 300,
            Namespace::Datasources => 600,
            _ => 3600,
        })
    }

    pub fn max_age(self) -> u64 {
        match self {
            Namespace::GeneList => 60,
            _ => 300,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub enabled: bool,
    pub l1_max_bytes: u64,
    /// DynamoDB table of the L2; `None` disables L2.
    pub l2_table: Option<String>,
    /// Endpoint override (moto locally); `None` is real AWS.
    pub l2_endpoint: Option<String>,
    pub l2_timeout: Duration,
    pub version_check_interval: Duration,
    pub ttls: [Duration; 7],
}

impl CacheConfig {
    /// `KGDB_CACHE=off` disables caching. L2 needs `KGDB_CACHE_TABLE` and an AWS to talk to:
    /// real AWS (inside Lambda) or an emulator (`AWS_ENDPOINT_URL`); locally it is off by default.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let num = |k: &str, d: u64| var(k).and_then(|v| v.trim().parse().ok()).unwrap_or(d);
        let endpoint = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL"));
        let in_aws = var("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let mut ttls = Namespace::ALL.map(Namespace::default_ttl);
        for ns in Namespace::ALL {
            let key = format!("KGDB_CACHE_TTL_{}", ns.name().to_ascii_uppercase());
            if let Some(secs) = var(&key).and_then(|v| v.parse().ok()) {
                ttls[ns.index()] = Duration::from_secs(secs);
            }
        }
        Self {
            enabled: !matches!(var("KGDB_CACHE").as_deref(), Some("off" | "false" | "0")),
            l1_max_bytes: num("KGDB_CACHE_L1_MB", 32) * 1024 * 1024,
            l2_table: var("KGDB_CACHE_TABLE").filter(|_| in_aws || endpoint.is_some()),
            l2_endpoint: endpoint,
            l2_timeout: Duration::from_millis(num("KGDB_CACHE_L2_TIMEOUT_MS", 50)),
            version_check_interval: Duration::from_millis(num("KGDB_DATA_VERSION_CHECK_MS", 2000)),
            ttls,
        }
    }

    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::from_env()
        }
    }

    pub fn ttl(&self, ns: Namespace) -> Duration {
        self.ttls[ns.index()]
    }
}

/// A cached 200 answer.
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

/// Strong validator: the first 128 bits of the body's SHA-256.
pub fn etag_of(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[derive(Clone)]
struct L1Entry {
    value: CachedBody,
    ttl: Duration,
}

struct PerEntryTtl;

impl moka::Expiry<String, L1Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &L1Entry,
        _now: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

#[derive(Default)]
struct Counters {
    l1_hits: AtomicU64,
    l2_hits: AtomicU64,
    misses: AtomicU64,
    l2_expired: AtomicU64,
    l2_errors: AtomicU64,
    not_modified: AtomicU64,
}

/// Where an answer came from (also sent as `X-Cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    HitL1,
    HitL2,
    Miss,
    Bypass,
}

impl CacheOutcome {
    fn header(self) -> &'static str {
        match self {
            CacheOutcome::HitL1 => "hit-l1",
            CacheOutcome::HitL2 => "hit-l2",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Bypass => "bypass",
        }
    }
}

pub struct Cache {
    config: CacheConfig,
    l1: moka::sync::Cache<String, L1Entry>,
    l2: OnceCell<Option<Arc<DynamoL2>>>,
    version: DataVersion,
    counters: [Counters; 7],
}

impl Cache {
    pub fn new(config: CacheConfig) -> Self {
        let l1 = moka::sync::Cache::builder()
            .max_capacity(config.l1_max_bytes)
            .weigher(|key: &String, entry: &L1Entry| {
                (key.len() + entry.value.body.len() + entry.value.etag.len() + 64)
                    .min(u32::MAX as usize) as u32
            })
            .expire_after(PerEntryTtl)
            .build();
        Self {
            version: DataVersion::new(config.version_check_interval),
            config,
            l1,
            l2: OnceCell::new(),
            counters: Default::default(),
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

    /// Serves a cacheable GET: L1, then L2, then `compute` (whose 200 answer is stored in both).
    /// `material` must identify the answer completely (normalized parameters, base URL).
    pub async fn respond<F, Fut>(
        &self,
        pool: &DbPool,
        req: &Request,
        ns: Namespace,
        material: &str,
        compute: F,
    ) -> HandlerResult
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = HandlerResult>,
    {
        let counters = &self.counters[ns.index()];
        let version = if self.config.enabled {
            self.version.get(pool).await
        } else {
            None
        };
        let Some(version) = version else {
            let response = compute().await?;
            return Ok(finish(req, ns, response, CacheOutcome::Bypass, counters));
        };
        let key = Self::key(ns, version, material);
        let l1_on = self.config.l1_max_bytes > 0;
        if let Some(entry) = self.l1.get(&key).filter(|_| l1_on) {
            counters.l1_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(from_cached(
                req,
                ns,
                &entry.value,
                CacheOutcome::HitL1,
                counters,
            ));
        }
        let now = chrono::Utc::now().timestamp();
        if let Some(l2) = self.l2().await {
            match l2.get(&key, now).await {
                L2Lookup::Hit(value) => {
                    counters.l2_hits.fetch_add(1, Ordering::Relaxed);
                    if l1_on {
                        let ttl = self.config.ttl(ns);
                        self.l1.insert(
                            key,
                            L1Entry {
                                value: value.clone(),
                                ttl,
                            },
                        );
                    }
                    return Ok(from_cached(req, ns, &value, CacheOutcome::HitL2, counters));
                }
                L2Lookup::Expired => {
                    counters.l2_expired.fetch_add(1, Ordering::Relaxed);
                }
                L2Lookup::Unavailable => {
                    counters.l2_errors.fetch_add(1, Ordering::Relaxed);
                }
                L2Lookup::Miss => {}
            }
        }
        counters.misses.fetch_add(1, Ordering::Relaxed);
        let response = compute().await?;
        if response.status() != StatusCode::OK {
            return Ok(response);
        }
        let (parts, body) = response.into_parts();
        let Body::Text(text) = body else {
            return Ok(finish(
                req,
                ns,
                Response::from_parts(parts, body),
                CacheOutcome::Bypass,
                counters,
            ));
        };
        let value = CachedBody::new(text);
        let ttl = self.config.ttl(ns);
        if l1_on {
            self.l1.insert(
                key.clone(),
                L1Entry {
                    value: value.clone(),
                    ttl,
                },
            );
        }
        if let Some(l2) = self.l2().await {
            let (l2, value) = (l2.clone(), value.clone());
            let expires_at = now + ttl.as_secs() as i64;
            // The write must not delay the answer; on Lambda a frozen task finishes on the next invoke.
            tokio::spawn(async move { l2.put(&key, &value, expires_at).await });
        }
        Ok(from_cached(req, ns, &value, CacheOutcome::Miss, counters))
    }

    /// Invalidates everything by bumping the data version; returns the new version.
    pub async fn flush(&self, pool: &DbPool) -> Result<i64, ApiError> {
        let client = pool.get().await?;
        let version = crate::refresh::bump_data_version(&**client).await?;
        self.version.set(version);
        self.l1.invalidate_all();
        Ok(version)
    }

    pub async fn stats(&self, pool: &DbPool) -> CacheStats {
        self.l1.run_pending_tasks();
        let mut namespaces = serde_json::Map::new();
        let mut total = NamespaceStats::default();
        for ns in Namespace::ALL {
            let c = &self.counters[ns.index()];
            let s = NamespaceStats::from(c);
            total.add(&s);
            namespaces.insert(
                ns.name().into(),
                serde_json::to_value(s.finished()).unwrap_or_default(),
            );
        }
        CacheStats {
            enabled: self.config.enabled,
            data_version: self.version.get(pool).await,
            version_check_interval_ms: self.version.interval().as_millis() as u64,
            l1: L1Stats {
                entries: self.l1.entry_count(),
                bytes: self.l1.weighted_size(),
                max_bytes: self.config.l1_max_bytes,
            },
            l2: L2Stats {
                enabled: self.config.l2_table.is_some(),
                table: self.config.l2_table.clone(),
            },
            total: total.finished(),
            namespaces,
        }
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
    fn from(c: &Counters) -> Self {
        let l1_hits = c.l1_hits.load(Ordering::Relaxed);
        let l2_hits = c.l2_hits.load(Ordering::Relaxed);
        Self {
            hits: l1_hits + l2_hits,
            l1_hits,
            l2_hits,
            misses: c.misses.load(Ordering::Relaxed),
            hit_rate: 0.0,
            l2_expired: c.l2_expired.load(Ordering::Relaxed),
            l2_errors: c.l2_errors.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
        }
    }

    fn add(&mut self, o: &Self) {
        self.hits += o.hits;
        self.l1_hits += o.l1_hits;
        self.l2_hits += o.l2_hits;
        self.misses += o.misses;
        self.l2_expired += o.l2_expired;
        self.l2_errors += o.l2_errors;
        self.not_modified += o.not_modified;
    }

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

#[derive(Debug, Serialize)]
pub struct CacheStats {
    pub enabled: bool,
    pub data_version: Option<i64>,
    pub version_check_interval_ms: u64,
    pub l1: L1Stats,
    pub l2: L2Stats,
    pub total: NamespaceStats,
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

fn if_none_match_hits(req: &Request, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

fn validators(response: &mut Response<Body>, ns: Namespace, etag: &str, outcome: CacheOutcome) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={}", ns.max_age())) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    headers.insert("x-cache", HeaderValue::from_static(outcome.header()));
}

fn not_modified(ns: Namespace, etag: &str, outcome: CacheOutcome) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    validators(&mut response, ns, etag, outcome);
    response
}

fn from_cached(
    req: &Request,
    ns: Namespace,
    value: &CachedBody,
    outcome: CacheOutcome,
    c: &Counters,
) -> Response<Body> {
    if if_none_match_hits(req, &value.etag) {
        c.not_modified.fetch_add(1, Ordering::Relaxed);
        return not_modified(ns, &value.etag, outcome);
    }
    let mut response = crate::http::json_body_response(StatusCode::OK, value.body.to_string());
    validators(&mut response, ns, &value.etag, outcome);
    response
}

/// Validators for an answer that was not stored (cache off or version unknown).
fn finish(
    req: &Request,
    ns: Namespace,
    response: Response<Body>,
    outcome: CacheOutcome,
    c: &Counters,
) -> Response<Body> {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    match body {
        Body::Text(text) => {
            let value = CachedBody::new(text);
            from_cached(req, ns, &value, outcome, c)
        }
        other => Response::from_parts(parts, other),
    }
}
