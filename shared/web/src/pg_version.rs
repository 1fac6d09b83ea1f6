//! The cache's data-version port over Postgres: the one-row `data_version` table, which every
//! write path bumps (see `kgdb_store::refresh`).

use futures::future::BoxFuture;

use crate::cache::DataVersionPort;
use crate::error::ApiError;
use kgdb_store::DbPool;
use kgdb_store::refresh::{bump_data_version, current_data_version};

pub struct PgDataVersion {
    pool: DbPool,
}

impl PgDataVersion {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

impl DataVersionPort for PgDataVersion {
    /// `None` when Postgres cannot be reached: the cache keeps the version it last saw.
    fn read(&self) -> BoxFuture<'_, Option<i64>> {
        Box::pin(async move {
            let client = self.pool.get().await.ok()?;
            current_data_version(&**client).await.ok()
        })
    }

    fn bump(&self) -> BoxFuture<'_, Result<i64, ApiError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            Ok(bump_data_version(&**client).await?)
        })
    }
}
