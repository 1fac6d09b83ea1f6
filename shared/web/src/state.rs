//! State built once per cold start and lent to every invocation.

use std::sync::Arc;

use crate::cache::{Cache, CacheConfig};
use crate::pg_version::PgDataVersion;
use kgdb_core::jobs::JobSender;
use kgdb_store::Config;
use kgdb_store::db::{DbError, DbPool, build_pool};

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub config: Arc<Config>,
    pub cache: Arc<Cache>,
    /// The annotation queue, for the functions that start runs (admin); None elsewhere.
    pub jobs: Option<Arc<dyn JobSender>>,
}

impl AppState {
    /// State with the cache configured from the environment.
    pub fn new(config: Config) -> Result<Self, DbError> {
        Self::with_cache(config, CacheConfig::from_env())
    }

    pub fn with_cache(config: Config, cache: CacheConfig) -> Result<Self, DbError> {
        let pool = build_pool(&config)?;
        // The cache learns of data changes through the version Postgres keeps.
        let version = Arc::new(PgDataVersion::new(pool.clone()));
        Ok(Self {
            pool,
            config: Arc::new(config),
            cache: Arc::new(Cache::with_version(cache, version)),
            jobs: None,
        })
    }

    pub fn with_jobs(mut self, jobs: Arc<dyn JobSender>) -> Self {
        self.jobs = Some(jobs);
        self
    }

    pub fn from_env() -> Result<Self, DbError> {
        Self::new(Config::from_env())
    }
}
