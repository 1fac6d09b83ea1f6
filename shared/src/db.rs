//! Postgres access that stays multiplexable behind RDS Proxy.
//!
//! Rules (serverless-notes B5): statements go through `query_typed*` (unnamed statement, one
//! round trip, no pinning), never `prepare_cached`, never session `SET`; the pool recycles with
//! `Fast` because `Clean` issues pinning statements.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::types::{ToSql, Type};

use crate::config::Config;

pub type DbPool = Pool;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Config(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] tokio_postgres::Error),
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e)
                if !e.is_closed() && e.as_db_error().is_some() =>
            {
                DbError::Query(e)
            }
            other => DbError::Unavailable(other.to_string()),
        }
    }
}

/// Builds the pool. No connection is opened here: connections are created on first use, so a
/// cold start does not pay for the database until a request needs it.
pub fn build_pool(config: &Config) -> Result<DbPool, DbError> {
    let mut pg: tokio_postgres::Config = config
        .database_url
        .parse()
        .map_err(|e: tokio_postgres::Error| DbError::Config(e.to_string()))?;
    pg.connect_timeout(config.db_connect_timeout);
    if pg.get_application_name().is_none() {
        pg.application_name("kgdb");
    }
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.db_pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.db_wait_timeout))
        .create_timeout(Some(config.db_connect_timeout))
        .build()
        .map_err(|e| DbError::Config(e.to_string()))
}

/// A statement parameter with its declared type, as `query_typed` wants it.
pub type TypedParam<'a> = (&'a (dyn ToSql + Sync), Type);

/// Owned parameters for dynamically built SQL; placeholders are numbered as they are pushed.
#[derive(Default)]
pub struct Params {
    values: Vec<(Box<dyn ToSql + Sync + Send>, Type)>,
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value and returns its placeholder (`$n`).
    pub fn push<T: ToSql + Sync + Send + 'static>(&mut self, value: T, ty: Type) -> String {
        self.values.push((Box::new(value), ty));
        format!("${}", self.values.len())
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn as_typed(&self) -> Vec<TypedParam<'_>> {
        self.values
            .iter()
            .map(|(v, t)| (v.as_ref() as &(dyn ToSql + Sync), t.clone()))
            .collect()
    }
}
