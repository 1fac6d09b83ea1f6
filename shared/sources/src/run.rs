//! Drives one source through a fetcher into a sink: plan, then per chunk fetch -> normalize ->
//! stage, then complete. Deployed, the same three steps run in separate queue messages; here
//! they run in one process (the local stack, tests, a manual backfill).

use kgdb_core::pipeline::{
    Fetcher, RunId, RunMode, RunReport, RunSpec, Sink, SinkError, Source, SourceError, TypedMerge,
    chunk_key,
};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// Fetches, normalizes and stages one chunk of a run; returns whether every chunk is staged.
pub async fn run_chunk<S: Source>(
    source: &S,
    fetcher: &dyn Fetcher<S>,
    sink: &dyn Sink,
    run: RunId,
    chunk: &S::Chunk,
) -> Result<bool, RunError> {
    let raw = fetcher.fetch(chunk).await?;
    let records = source
        .normalize(raw)?
        .into_iter()
        .map(|g| g.into_record())
        .collect::<Result<Vec<_>, _>>()?;
    let report = sink.write_chunk(run, &chunk_key(chunk), &records).await?;
    Ok(report.run_is_complete())
}

/// A whole run in this process. Any failure marks the run failed and leaves the stored
/// evidence as it was.
pub async fn run_source<S: Source>(
    source: &S,
    fetcher: &dyn Fetcher<S>,
    sink: &dyn Sink,
    mode: RunMode,
    trigger: &str,
) -> Result<RunReport, RunError> {
    let chunks = fetcher.plan().await?;
    let spec = RunSpec {
        source: source.name(),
        mode,
        chunks_planned: chunks.len(),
        trigger: trigger.to_string(),
    };
    let run = sink.start_run(&spec).await?;
    let outcome = async {
        for chunk in &chunks {
            run_chunk(source, fetcher, sink, run, chunk).await?;
        }
        Ok::<_, RunError>(
            sink.complete(run, &TypedMerge::<S::Evidence>::new())
                .await?,
        )
    }
    .await;
    if let Err(e) = &outcome {
        // A failure to record the failure must not hide the failure itself.
        if let Err(mark) = sink.fail(run, &e.to_string()).await {
            tracing::error!(%run, error = %mark, "could not mark the run failed");
        }
    }
    outcome
}

/// One source's result in a multi-source ingest.
#[derive(Debug, Clone, Serialize)]
pub struct SourceOutcome {
    pub source: String,
    pub report: Option<RunReport>,
    pub error: Option<String>,
}
