//! Loads the bundled snapshot: every registered source runs through its snapshot fetcher into
//! the Postgres sink, then the offline annotations are written through the annotation writer,
//! then the read models are refreshed once and the data version bumped.

use std::path::Path;
use std::time::Instant;

use kgdb_core::pipeline::RunMode;
use kgdb_sources::annotations::{AnnotationBatch, AnnotationFailure, hgnc, kidney_table};
use kgdb_sources::files::SnapshotDir;
use kgdb_sources::registry::{run_all, snapshot_runs};
use kgdb_sources::run::SourceOutcome;
use kgdb_store::Config;
use kgdb_store::annotations::{AnnotationWriteReport, AnnotationWriter, IdentifierWriteReport};
use kgdb_store::db::build_pool;
use kgdb_store::refresh::{RefreshReport, refresh_all};
use kgdb_store::sink::{PgSink, log_pipeline_run};
use serde::Serialize;

use crate::database::connect;

#[derive(Debug, Serialize)]
pub struct IngestReport {
    pub sources: Vec<SourceOutcome>,
    pub annotations: AnnotationIngestReport,
    pub refresh: RefreshReport,
}

impl IngestReport {
    pub fn failed(&self) -> impl Iterator<Item = &SourceOutcome> {
        self.sources.iter().filter(|s| s.error.is_some())
    }
}

/// One annotation source's result.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotationSourceOutcome {
    pub source: &'static str,
    /// What the writer changed (none when the source's file could not be read).
    pub written: Option<AnnotationWriteReport>,
    /// Rows with no value for this source (not errors).
    pub without_value: usize,
    /// Genes whose row did not parse: this gene × source only.
    pub failed_genes: usize,
    /// The file or the write failed as a whole; the stored rows stay as they were.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct AnnotationIngestReport {
    pub sources: Vec<AnnotationSourceOutcome>,
    pub identifiers: Option<IdentifierWriteReport>,
    pub failures: Vec<AnnotationFailure>,
    pub millis: u128,
}

impl AnnotationIngestReport {
    /// Sources that could not be read or written at all.
    pub fn failed(&self) -> impl Iterator<Item = &AnnotationSourceOutcome> {
        self.sources.iter().filter(|s| s.error.is_some())
    }

    pub fn outcome(&self, source: &str) -> Option<&AnnotationSourceOutcome> {
        self.sources.iter().find(|s| s.source == source)
    }
}

/// Days until a source's rows are due again (the original's per-source TTLs).
pub fn annotation_ttl_days(source: &str) -> i32 {
    match source {
        "string_ppi" | "ensembl" | "uniprot" => 30,
        _ => 90,
    }
}

pub type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Runs every source of the snapshot in `dir` (replace mode: the snapshot is each source's
/// whole state), then the annotations. A failing source keeps its stored data; the others land.
pub async fn ingest_snapshot(url: &str, dir: &Path) -> Result<IngestReport, AnyError> {
    let pool = build_pool(&Config::from_env().with_database_url(url).with_pool_size(2))?;
    let sink = PgSink::new(pool.clone());
    let runs = snapshot_runs(&SnapshotDir::new(dir));
    let sources = run_all(&runs, &sink, RunMode::Replace, "snapshot").await;
    // Annotations describe genes the evidence brought in, so they come after it.
    let annotations = ingest_annotations(&AnnotationWriter::new(pool), dir).await?;
    let mut client = connect(url).await?;
    let refresh = refresh_all(&mut client).await?;
    let failed = sources.iter().any(|s| s.error.is_some()) || annotations.failed().count() > 0;
    let stats =
        serde_json::json!({"sources": sources, "annotations": annotations, "refresh": refresh});
    log_pipeline_run(&client, "evidence_ingest", failed, &stats).await?;
    Ok(IngestReport {
        sources,
        annotations,
        refresh,
    })
}

/// The offline annotations: HGNC/Ensembl identifiers of every database gene, and the
/// kidney-genetics v1 values of its 603 genes. Files are streamed; each file's sources are
/// written in one transaction per source. Does not refresh the views (the caller does, once).
pub async fn ingest_annotations(
    writer: &AnnotationWriter,
    dir: &Path,
) -> Result<AnnotationIngestReport, AnyError> {
    let started = Instant::now();
    let genes = writer.known_genes().await?;
    let mut report = AnnotationIngestReport::default();

    let snapshot = SnapshotDir::new(dir);
    let hgnc_path = snapshot.ensembl_hgnc_genes();
    let mut files: Vec<(Vec<&'static str>, Result<AnnotationBatch, String>)> = Vec::new();
    let genes_for_hgnc = genes.clone();
    files.push((
        vec!["hgnc", "ensembl"],
        blocking(move || hgnc::read(&hgnc_path, &genes_for_hgnc)).await,
    ));
    for (stem, sources) in kidney_table::FILES {
        let (root, genes) = (dir.to_path_buf(), genes.clone());
        let stem: &'static str = stem;
        files.push((
            sources.to_vec(),
            blocking(move || kidney_table::read(&root, stem, &genes)).await,
        ));
    }

    for (sources, batch) in files {
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(?sources, %error, "annotation file failed; stored rows stay");
                report
                    .sources
                    .extend(sources.into_iter().map(|source| AnnotationSourceOutcome {
                        source,
                        written: None,
                        without_value: 0,
                        failed_genes: 0,
                        error: Some(error.clone()),
                    }));
                continue;
            }
        };
        if !batch.identifiers.is_empty() {
            report.identifiers = Some(writer.write_identifiers(&batch.identifiers).await?);
        }
        for source in sources {
            let records = batch.records.remove(source).unwrap_or_default();
            let failed_genes = batch.failures.iter().filter(|f| f.source == source).count();
            let without_value = batch.without_value.get(source).copied().unwrap_or(0);
            let (written, error) = if records.is_empty() {
                (None, Some("no rows to write".to_string()))
            } else {
                match writer
                    .write(source, &records, annotation_ttl_days(source))
                    .await
                {
                    Ok(written) => (Some(written), None),
                    Err(e) => (None, Some(e.to_string())),
                }
            };
            report.sources.push(AnnotationSourceOutcome {
                source,
                written,
                without_value,
                failed_genes,
                error,
            });
        }
        report.failures.extend(batch.failures);
    }
    report.millis = started.elapsed().as_millis();
    Ok(report)
}

/// File parsing is synchronous streaming work: keep it off the async workers.
async fn blocking<F>(f: F) -> Result<AnnotationBatch, String>
where
    F: FnOnce() -> Result<AnnotationBatch, kgdb_sources::annotations::AnnotationReadError>
        + Send
        + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(format!("annotation reader stopped: {e}")),
    }
}
