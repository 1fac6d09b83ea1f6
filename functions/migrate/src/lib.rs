//! Migration function: applies pending `migrations/` to the database behind RDS Proxy.
//! Invoked by hand after `sam deploy` (`aws lambda invoke --function-name <MigrateFunction>`),
//! never on a schedule and never from another function's cold start.

use kgdb_store::DbPool;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize)]
pub struct MigrateReport {
    pub applied: Vec<&'static str>,
    pub schema_version: usize,
}

/// Any payload triggers the migration; the payload itself is ignored.
pub async fn handle(pool: &DbPool, _event: LambdaEvent<Value>) -> Result<MigrateReport, Error> {
    let mut client = pool.get().await?;
    // Migrations run in explicit transactions, so they need the inner client.
    let applied = kgdb_store::migrate::run(&mut client).await?;
    tracing::info!(applied = applied.len(), "migrations applied");
    Ok(MigrateReport {
        applied,
        schema_version: kgdb_store::migrate::MIGRATIONS.len(),
    })
}
