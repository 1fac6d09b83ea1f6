//! One queue message = one chunk: fetch its genes from the source, write the records, record
//! the chunk's end, advance the run. A redelivered message finds its chunk finished and does
//! nothing; a failed fetch writes nothing, so the stored annotations stay as they were.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use kgdb_core::annotation::{AnnotationRecord, GeneIdentifiers, IdentifierKind};
use kgdb_core::jobs::{AnnotationJob, JobSender};
use kgdb_fetch::annotation::{GeneKey, MissKind};
use kgdb_pipeline::RunStore;
use kgdb_pipeline::queue::Delivery;
use kgdb_pipeline::runs::{ChunkResult, ChunkState, ChunkStatus};
use kgdb_store::annotations::AnnotationWriter;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Fetchers;

/// What one delivery ended in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum JobOutcome {
    Done {
        source: String,
        records: i32,
        inserted: i32,
        updated: i32,
        unchanged: i32,
        misses: i32,
        millis: i32,
    },
    /// A redelivery of a finished chunk: nothing done.
    AlreadyFinished,
    /// A transient failure with deliveries left: the queue delivers it again.
    Retry { error: String },
    /// Not a job of ours: the queue delivers it again and then dead-letters it.
    Poison { error: String },
    /// Failed for good and recorded on the chunk (the stored rows stay). `dead_letter` when it
    /// was the last delivery of a transient failure: the message goes to the DLQ too, where
    /// operators see it.
    Failed { error: String, dead_letter: bool },
}

impl JobOutcome {
    pub fn delivery(&self) -> Delivery {
        match self {
            JobOutcome::Done { .. }
            | JobOutcome::AlreadyFinished
            | JobOutcome::Failed {
                dead_letter: false, ..
            } => Delivery::Ack,
            JobOutcome::Retry { error }
            | JobOutcome::Poison { error }
            | JobOutcome::Failed { error, .. } => Delivery::Retry(error.clone()),
        }
    }
}

pub struct Worker {
    runs: RunStore,
    writer: AnnotationWriter,
    fetchers: Fetchers,
    sender: Arc<dyn JobSender>,
    /// The queue's `maxReceiveCount`: on this delivery a transient failure is final.
    max_receives: u32,
}

impl Worker {
    pub fn new(
        runs: RunStore,
        fetchers: Fetchers,
        sender: Arc<dyn JobSender>,
        max_receives: u32,
    ) -> Self {
        Self {
            writer: AnnotationWriter::new(runs.pool().clone()),
            runs,
            fetchers,
            sender,
            max_receives: max_receives.max(1),
        }
    }

    pub fn runs(&self) -> &RunStore {
        &self.runs
    }

    /// Handles one delivery of `body` (`receive_count` from 1).
    pub async fn process(&self, body: &str, receive_count: u32) -> JobOutcome {
        let job = match AnnotationJob::parse(body) {
            Ok(job) => job,
            Err(error) => {
                tracing::error!(%error, "poison message");
                return JobOutcome::Poison { error };
            }
        };
        let outcome = self.process_job(job, receive_count).await;
        match &outcome {
            JobOutcome::Done {
                source,
                records,
                millis,
                ..
            } => tracing::info!(
                run_id = job.run_id, chunk = job.chunk_no, %source, records, millis, "chunk done"
            ),
            JobOutcome::AlreadyFinished => {
                tracing::info!(
                    run_id = job.run_id,
                    chunk = job.chunk_no,
                    "redelivery of a finished chunk"
                )
            }
            other => {
                tracing::warn!(run_id = job.run_id, chunk = job.chunk_no, receive_count, outcome = ?other, "chunk not done")
            }
        }
        outcome
    }

    async fn process_job(&self, job: AnnotationJob, receive_count: u32) -> JobOutcome {
        let retry = |e: &dyn std::fmt::Display| JobOutcome::Retry {
            error: e.to_string(),
        };
        let work = match self.runs.begin_attempt(job).await {
            Err(e) => return retry(&e),
            Ok(Err(ChunkState::Unknown)) => {
                return JobOutcome::Poison {
                    error: format!("run {} has no chunk {}", job.run_id, job.chunk_no),
                };
            }
            Ok(Err(ChunkState::Finished)) => {
                // The completion may have been lost with the earlier delivery's container.
                if let Err(e) = self.runs.advance(job.run_id, &*self.sender).await {
                    return retry(&e);
                }
                return JobOutcome::AlreadyFinished;
            }
            Ok(Ok(work)) => work,
        };
        let started = Instant::now();
        let Some(fetcher) = self.fetchers.get(&work.source).cloned() else {
            let error = format!("no fetcher for source {}", work.source);
            return self.fail(job, error, false, started).await;
        };
        let genes = match self.runs.gene_rows(&work.gene_ids).await {
            Ok(rows) => rows
                .into_iter()
                .map(|r| GeneKey {
                    hgnc_id: r.hgnc_id,
                    symbol: r.symbol,
                    ensembl_gene_id: r.ensembl_gene_id,
                    ncbi_gene_id: r.ncbi_gene_id,
                    percentage_score: r.percentage_score,
                })
                .collect::<Vec<_>>(),
            Err(e) => return retry(&e),
        };
        // The fetcher hands records over as it builds them; they are written in batches
        // meanwhile, so a large source (ClinVar) never holds all its records at once.
        let (tx, rx) = tokio::sync::mpsc::channel(WRITE_BATCH);
        let ttl_days = fetcher.ttl_days();
        let fetch = async move {
            let misses = fetcher.fetch_each(&genes, &tx).await;
            drop(tx);
            misses
        };
        let (misses, written) = tokio::join!(
            fetch,
            self.write_batches(work.source.as_str(), ttl_days, rx)
        );
        let written = match written {
            Ok(w) => w,
            // The writer failed (the database): retried, whatever the fetch said.
            Err(e) => return retry(&e),
        };
        let misses = match misses {
            Ok(misses) => misses,
            Err(e) if e.is_transient() && receive_count < self.max_receives => return retry(&e),
            Err(e) => {
                let dead_letter = e.is_transient();
                return self.fail(job, e.to_string(), dead_letter, started).await;
            }
        };
        let report = written.report;
        let not_found = misses
            .iter()
            .filter(|m| m.kind == MissKind::NotFound)
            .count();
        let result = ChunkResult {
            records: count(written.records),
            inserted: count(report.inserted),
            updated: count(report.updated),
            unchanged: count(report.unchanged),
            not_found: count(not_found),
            gene_failures: count(misses.len() - not_found),
            identifiers_changed: count(written.identifiers_changed),
            misses: json!(misses),
            millis: millis(started.elapsed()),
            error: None,
        };
        match self
            .runs
            .finish_chunk(job, ChunkStatus::Done, &result)
            .await
        {
            Ok(_) => {}
            Err(e) => return retry(&e),
        }
        if let Err(e) = self.runs.advance(job.run_id, &*self.sender).await {
            // The chunk is recorded; the completion is retried by the sweep.
            tracing::warn!(run_id = job.run_id, error = %e, "advance failed");
        }
        JobOutcome::Done {
            source: work.source.clone(),
            records: result.records,
            inserted: result.inserted,
            updated: result.updated,
            unchanged: result.unchanged,
            misses: result.not_found + result.gene_failures,
            millis: result.millis,
        }
    }

    /// Writes what the fetcher emits, `WRITE_BATCH` records per statement batch; hgnc's
    /// records also replace their genes' identifiers.
    async fn write_batches(
        &self,
        source: &str,
        ttl: i32,
        mut rx: tokio::sync::mpsc::Receiver<AnnotationRecord>,
    ) -> Result<Written, String> {
        let mut written = Written::default();
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        loop {
            let more = rx.recv().await;
            let done = more.is_none();
            if let Some(record) = more {
                batch.push(record);
            }
            if batch.len() >= WRITE_BATCH || (done && !batch.is_empty()) {
                let report = self
                    .writer
                    .write(source, &batch, ttl)
                    .await
                    .map_err(|e| e.to_string())?;
                written.records += batch.len();
                written.report.inserted += report.inserted;
                written.report.updated += report.updated;
                written.report.unchanged += report.unchanged;
                if source == "hgnc" {
                    let ids: Vec<GeneIdentifiers> = batch.iter().map(identifiers_of).collect();
                    let r = self
                        .writer
                        .write_identifiers(&ids)
                        .await
                        .map_err(|e| e.to_string())?;
                    written.identifiers_changed += r.inserted + r.removed;
                }
                batch.clear();
            }
            if done {
                return Ok(written);
            }
        }
    }

    async fn fail(
        &self,
        job: AnnotationJob,
        error: String,
        dead_letter: bool,
        started: Instant,
    ) -> JobOutcome {
        let result = ChunkResult {
            misses: Value::Null,
            millis: millis(started.elapsed()),
            error: Some(error.clone()),
            ..ChunkResult::default()
        };
        if let Err(e) = self
            .runs
            .finish_chunk(job, ChunkStatus::Failed, &result)
            .await
        {
            return JobOutcome::Retry {
                error: e.to_string(),
            };
        }
        if let Err(e) = self.runs.advance(job.run_id, &*self.sender).await {
            tracing::warn!(run_id = job.run_id, error = %e, "advance failed");
        }
        JobOutcome::Failed { error, dead_letter }
    }
}

/// Records per write: bounds what the worker holds of a large source.
const WRITE_BATCH: usize = 64;

#[derive(Default)]
struct Written {
    records: usize,
    report: kgdb_store::annotations::AnnotationWriteReport,
    identifiers_changed: u64,
}

fn count(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

fn millis(d: Duration) -> i32 {
    count(d.as_millis())
}

/// The identifiers `/api/genes/resolve` finds a gene by, from its hgnc record.
fn identifiers_of(record: &AnnotationRecord) -> GeneIdentifiers {
    let a = &record.annotations;
    let mut ids = Vec::new();
    let mut push = |kind: IdentifierKind, v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => ids.push((kind, s.trim().to_string())),
        Value::Number(n) => ids.push((kind, n.to_string())),
        Value::Array(items) => {
            for item in items {
                if let Some(s) = item.as_str().filter(|s| !s.trim().is_empty()) {
                    ids.push((kind, s.trim().to_string()));
                }
            }
        }
        _ => {}
    };
    push(IdentifierKind::EnsemblGeneId, &a["ensembl_gene_id"]);
    push(IdentifierKind::NcbiGeneId, &a["ncbi_gene_id"]);
    push(IdentifierKind::UniprotAccession, &a["uniprot_ids"]);
    push(IdentifierKind::PrevSymbol, &a["prev_symbol"]);
    push(IdentifierKind::AliasSymbol, &a["alias_symbol"]);
    GeneIdentifiers {
        hgnc_id: record.hgnc_id.clone(),
        ids,
    }
}

/// The SQS entry point: messages one after another; each one not handled is reported by its
/// id (`ReportBatchItemFailures`), so SQS redelivers exactly those. A message arriving without
/// an id cannot be reported and is processed like the others (SQS always sets one).
pub async fn handle_sqs(
    worker: &Worker,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    let deadline = event.context.deadline;
    for (i, message) in event.payload.records.iter().enumerate() {
        let id = message.message_id.as_deref().filter(|id| !id.is_empty());
        // Not enough time left for another chunk: give the rest back to the queue now rather
        // than be killed mid-chunk.
        if i > 0 && matches!(time_left(deadline), Some(left) if left < Duration::from_secs(60)) {
            if let Some(id) = id {
                response.add_failure(id);
            }
            continue;
        }
        let receive_count = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let outcome = worker
            .process(message.body.as_deref().unwrap_or_default(), receive_count)
            .await;
        if let (Delivery::Retry(_), Some(id)) = (outcome.delivery(), id) {
            response.add_failure(id);
        }
    }
    Ok(response)
}

fn time_left(deadline_ms: u64) -> Option<Duration> {
    if deadline_ms == 0 {
        return None;
    }
    let deadline = std::time::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    Some(
        deadline
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}
