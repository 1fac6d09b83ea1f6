//! Loads the bundled snapshot: every registered source runs through its snapshot fetcher into
//! the Postgres sink, then the read models are refreshed once and the data version bumped.

use std::path::Path;

use kgdb_core::pipeline::RunMode;
use kgdb_sources::files::SnapshotDir;
use kgdb_sources::registry::{run_all, snapshot_runs};
use kgdb_sources::run::SourceOutcome;
use kgdb_store::Config;
use kgdb_store::db::build_pool;
use kgdb_store::refresh::{RefreshReport, refresh_all};
use kgdb_store::sink::{PgSink, log_pipeline_run};
use serde::Serialize;

use crate::database::connect;

#[derive(Debug, Serialize)]
pub struct IngestReport {
    pub sources: Vec<SourceOutcome>,
    pub refresh: RefreshReport,
}

impl IngestReport {
    pub fn failed(&self) -> impl Iterator<Item = &SourceOutcome> {
        self.sources.iter().filter(|s| s.error.is_some())
    }
}

pub type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Runs every source of the snapshot in `dir` (replace mode: the snapshot is each source's
/// whole state). A failing source keeps its stored evidence; the others land.
pub async fn ingest_snapshot(url: &str, dir: &Path) -> Result<IngestReport, AnyError> {
    let pool = build_pool(&Config::from_env().with_database_url(url).with_pool_size(2))?;
    let sink = PgSink::new(pool);
    let runs = snapshot_runs(&SnapshotDir::new(dir));
    let sources = run_all(&runs, &sink, RunMode::Replace, "snapshot").await;
    let mut client = connect(url).await?;
    let refresh = refresh_all(&mut client).await?;
    let failed = sources.iter().any(|s| s.error.is_some());
    let stats = serde_json::json!({"sources": sources, "refresh": refresh});
    log_pipeline_run(&client, "evidence_ingest", failed, &stats).await?;
    Ok(IngestReport { sources, refresh })
}
