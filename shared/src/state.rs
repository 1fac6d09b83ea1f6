//! State built once per cold start and lent to every invocation.

use std::sync::Arc;

use crate::config::Config;
use crate::db::{DbError, DbPool, build_pool};

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub config: Arc<Config>,
}

impl AppState {
    pub fn new(config: Config) -> Result<Self, DbError> {
        let pool = build_pool(&config)?;
        Ok(Self {
            pool,
            config: Arc::new(config),
        })
    }

    pub fn from_env() -> Result<Self, DbError> {
        Self::new(Config::from_env())
    }
}
