//! A run and its chunks in Postgres. Every step is a conditional statement, so concurrent
//! workers, redelivered messages and a sweep after a crash each find the one thing left to do:
//! a finished chunk is never redone, phase 2 is sent once, a run completes once.

use std::time::Duration;

use kgdb_core::annotation::ANNOTATION_SOURCES;
use kgdb_core::jobs::{AnnotationJob, JobSender};
use kgdb_store::DbPool;
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

use crate::plan::{self, ChunkSize, RunRequest};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("annotation run {run_id} is still in progress; a new run starts when it completes")]
    AlreadyRunning { run_id: i64 },
    #[error("{0} is not an active annotation source")]
    InactiveSource(String),
    #[error("no current gene has the id(s) {0:?}")]
    UnknownGenes(Vec<i64>),
    #[error("annotation runs storage: {0}")]
    Storage(String),
}

impl RunError {
    /// Postgres down or refusing: the caller should answer 503 / retry the message.
    pub fn is_storage(&self) -> bool {
        matches!(self, RunError::Storage(_))
    }
}

fn storage(e: impl std::fmt::Display) -> RunError {
    RunError::Storage(e.to_string())
}

#[derive(Debug, Clone, Serialize)]
pub struct StartedRun {
    pub run_id: i64,
    pub strategy: &'static str,
    pub sources: Vec<String>,
    pub chunks_planned: i32,
    pub genes_planned: i32,
    /// `running`, or `completed` at once when nothing was due.
    pub status: &'static str,
    /// Messages sent now (phase 1, or phase 2 when hgnc is not in the run).
    pub jobs_sent: usize,
    /// Set when the first send failed: the chunks stay pending and the sweep sends them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_error: Option<String>,
}

/// A chunk the worker is to fetch now.
#[derive(Debug, Clone)]
pub struct ChunkWork {
    pub source: String,
    pub gene_ids: Vec<i64>,
    pub attempts: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkState {
    /// Finished before (a redelivery): nothing to do.
    Finished,
    /// No such chunk (a message from a deleted run, or forged): poison.
    Unknown,
}

/// What the worker learned about a gene: the keys a fetcher joins on.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneRow {
    pub gene_id: i64,
    pub hgnc_id: String,
    pub symbol: String,
    pub ensembl_gene_id: Option<String>,
    pub ncbi_gene_id: Option<String>,
    pub percentage_score: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkStatus {
    Done,
    Failed,
}

/// What one chunk did, as the worker reports it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChunkResult {
    pub records: i32,
    pub inserted: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub not_found: i32,
    pub gene_failures: i32,
    pub identifiers_changed: i32,
    /// `[{hgnc_id, kind, reason}]` per gene without a record.
    pub misses: Value,
    pub millis: i32,
    pub error: Option<String>,
}

/// What advancing a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Advance {
    /// Chunks are still open.
    Nothing,
    /// hgnc is over: phase 2's chunks were sent.
    PhaseTwo { jobs_sent: usize },
    /// The run completed: views refreshed and the data version bumped (when anything changed).
    Completed { data_version: Option<i64> },
    /// Every chunk failed: nothing changed, the stored rows stay.
    Failed,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct SweepReport {
    pub runs: usize,
    pub chunks_lost: u64,
    pub jobs_resent: usize,
    pub completed: usize,
}

#[derive(Clone)]
pub struct RunStore {
    pool: DbPool,
}

impl RunStore {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Plans the run (due genes per source, chunks, phases) in one transaction, then sends the
    /// first phase. A run already in flight refuses the new one.
    pub async fn start(
        &self,
        request: &RunRequest,
        sender: &dyn JobSender,
    ) -> Result<StartedRun, RunError> {
        let mut client = self.pool.get().await.map_err(storage)?;
        let tx = client.transaction().await.map_err(storage)?;
        let active: Vec<String> = tx
            .query_typed(
                "SELECT source_name FROM annotation_sources WHERE is_active",
                &[],
            )
            .await
            .map_err(storage)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // The catalog's order, hgnc first.
        let sources: Vec<String> = if request.sources.is_empty() {
            ANNOTATION_SOURCES
                .iter()
                .filter(|s| active.iter().any(|a| a == *s))
                .map(|s| s.to_string())
                .collect()
        } else {
            if let Some(inactive) = request.sources.iter().find(|s| !active.contains(s)) {
                return Err(RunError::InactiveSource(inactive.clone()));
            }
            ANNOTATION_SOURCES
                .iter()
                .filter(|s| request.sources.iter().any(|r| r == *s))
                .map(|s| s.to_string())
                .collect()
        };
        if !request.gene_ids.is_empty() {
            let known: Vec<i64> = tx
                .query_typed(
                    "SELECT id FROM genes WHERE id = ANY($1) AND valid_to = 'infinity'",
                    &[(&request.gene_ids, Type::INT8_ARRAY)],
                )
                .await
                .map_err(storage)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let unknown: Vec<i64> = request
                .gene_ids
                .iter()
                .filter(|id| !known.contains(id))
                .take(20)
                .copied()
                .collect();
            if !unknown.is_empty() {
                return Err(RunError::UnknownGenes(unknown));
            }
        }
        let strategy = request.strategy.as_str();
        let inserted = tx
            .query_typed_one(
                "INSERT INTO annotation_runs (strategy, sources, trigger) VALUES ($1, $2, $3)
                 RETURNING id",
                &[
                    (&strategy, Type::TEXT),
                    (&sources, Type::TEXT_ARRAY),
                    (&request.trigger, Type::TEXT),
                ],
            )
            .await;
        let run_id: i64 = match inserted {
            Ok(row) => row.get(0),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                drop(tx);
                return Err(self.in_flight_error().await);
            }
            Err(e) => return Err(storage(e)),
        };
        let mut chunk_no: i32 = 0;
        let mut genes_planned = std::collections::BTreeSet::new();
        let mut has_phase_one = false;
        for source in &sources {
            let mut due: Vec<i64> = tx
                .query_typed(
                    "SELECT g.id FROM genes g
                       LEFT JOIN gene_annotations a ON a.gene_id = g.id AND a.source = $1
                      WHERE g.valid_to = 'infinity'
                        AND (cardinality($2::bigint[]) = 0 OR g.id = ANY($2))
                        AND CASE $3
                              WHEN 'incremental' THEN a.gene_id IS NULL OR a.next_update IS NULL
                                                      OR a.next_update <= now()
                              WHEN 'missing' THEN a.gene_id IS NULL
                              ELSE true
                            END
                      ORDER BY g.id",
                    &[
                        (source, Type::TEXT),
                        (&request.gene_ids, Type::INT8_ARRAY),
                        (&strategy, Type::TEXT),
                    ],
                )
                .await
                .map_err(storage)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if due.is_empty() {
                continue;
            }
            if plan::needs_all_genes(source) {
                due = tx
                    .query_typed(
                        "SELECT id FROM genes WHERE valid_to = 'infinity' ORDER BY id",
                        &[],
                    )
                    .await
                    .map_err(storage)?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
            }
            genes_planned.extend(due.iter().copied());
            let per_chunk = match plan::chunk_size(source) {
                ChunkSize::Bulk => due.len(),
                ChunkSize::Genes(n) => n.max(1),
            };
            let phase = plan::phase_of(source);
            has_phase_one |= phase == 1;
            for genes in due.chunks(per_chunk) {
                tx.execute_typed(
                    "INSERT INTO annotation_run_chunks (run_id, chunk_no, source, phase, gene_ids)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        (&run_id, Type::INT8),
                        (&chunk_no, Type::INT4),
                        (source, Type::TEXT),
                        (&phase, Type::INT2),
                        (&genes, Type::INT8_ARRAY),
                    ],
                )
                .await
                .map_err(storage)?;
                chunk_no += 1;
            }
        }
        let genes_planned = i32::try_from(genes_planned.len()).unwrap_or(i32::MAX);
        let status = if chunk_no == 0 {
            "completed"
        } else {
            "running"
        };
        let phase: i16 = if has_phase_one { 1 } else { 2 };
        tx.execute_typed(
            "UPDATE annotation_runs
                SET chunks_planned = $2, genes_planned = $3, phase = $4, status = $5,
                    completed_at = CASE WHEN $5 = 'completed' THEN now() END, updated_at = now()
              WHERE id = $1",
            &[
                (&run_id, Type::INT8),
                (&chunk_no, Type::INT4),
                (&genes_planned, Type::INT4),
                (&phase, Type::INT2),
                (&status, Type::TEXT),
            ],
        )
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        drop(client);
        let (jobs_sent, send_error) = match self.send_pending(run_id, sender).await {
            Ok(n) => (n, None),
            Err(e) => {
                tracing::warn!(run_id, error = %e, "first send failed; the sweep sends later");
                (0, Some(e.to_string()))
            }
        };
        tracing::info!(
            run_id,
            strategy,
            chunks = chunk_no,
            genes = genes_planned,
            jobs_sent,
            "annotation run started"
        );
        Ok(StartedRun {
            run_id,
            strategy: request.strategy.as_str(),
            sources,
            chunks_planned: chunk_no,
            genes_planned,
            status,
            jobs_sent,
            send_error,
        })
    }

    async fn in_flight_error(&self) -> RunError {
        let running = async {
            let client = self.pool.get().await.map_err(storage)?;
            let row = client
                .query_typed_opt(
                    "SELECT id FROM annotation_runs WHERE status IN ('running', 'completing')
                      ORDER BY id LIMIT 1",
                    &[],
                )
                .await
                .map_err(storage)?;
            Ok::<_, RunError>(row.map(|r| r.get::<_, i64>(0)))
        };
        match running.await {
            Ok(Some(run_id)) => RunError::AlreadyRunning { run_id },
            Ok(None) => RunError::Storage("a run finished while this one started; retry".into()),
            Err(e) => e,
        }
    }

    /// Sends the run's pending chunks of its current phase and marks them queued.
    pub async fn send_pending(
        &self,
        run_id: i64,
        sender: &dyn JobSender,
    ) -> Result<usize, RunError> {
        let client = self.pool.get().await.map_err(storage)?;
        let pending: Vec<i32> = client
            .query_typed(
                "SELECT c.chunk_no FROM annotation_run_chunks c
                   JOIN annotation_runs r ON r.id = c.run_id
                  WHERE c.run_id = $1 AND c.status = 'pending' AND c.phase <= r.phase
                    AND r.status = 'running'
                  ORDER BY c.chunk_no",
                &[(&run_id, Type::INT8)],
            )
            .await
            .map_err(storage)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        let jobs: Vec<AnnotationJob> = pending
            .iter()
            .map(|&chunk_no| AnnotationJob { run_id, chunk_no })
            .collect();
        sender.send(&jobs).await.map_err(RunError::Storage)?;
        // Only chunks still pending: a fast worker may already have finished one.
        client
            .execute_typed(
                "UPDATE annotation_run_chunks SET status = 'queued', updated_at = now()
                  WHERE run_id = $1 AND chunk_no = ANY($2) AND status = 'pending'",
                &[(&run_id, Type::INT8), (&pending, Type::INT4_ARRAY)],
            )
            .await
            .map_err(storage)?;
        Ok(jobs.len())
    }

    /// Counts a delivery of the chunk and returns its work, or why there is none.
    pub async fn begin_attempt(
        &self,
        job: AnnotationJob,
    ) -> Result<Result<ChunkWork, ChunkState>, RunError> {
        let client = self.pool.get().await.map_err(storage)?;
        let row = client
            .query_typed_opt(
                "UPDATE annotation_run_chunks
                    SET attempts = attempts + 1, updated_at = now()
                  WHERE run_id = $1 AND chunk_no = $2 AND status IN ('pending', 'queued')
                  RETURNING source, gene_ids, attempts",
                &[(&job.run_id, Type::INT8), (&job.chunk_no, Type::INT4)],
            )
            .await
            .map_err(storage)?;
        if let Some(row) = row {
            return Ok(Ok(ChunkWork {
                source: row.get(0),
                gene_ids: row.get(1),
                attempts: row.get(2),
            }));
        }
        let exists = client
            .query_typed_opt(
                "SELECT 1 FROM annotation_run_chunks WHERE run_id = $1 AND chunk_no = $2",
                &[(&job.run_id, Type::INT8), (&job.chunk_no, Type::INT4)],
            )
            .await
            .map_err(storage)?
            .is_some();
        Ok(Err(if exists {
            ChunkState::Finished
        } else {
            ChunkState::Unknown
        }))
    }

    /// The chunk's genes with the ids the fetchers join on, in the chunk's order.
    pub async fn gene_rows(&self, gene_ids: &[i64]) -> Result<Vec<GeneRow>, RunError> {
        let client = self.pool.get().await.map_err(storage)?;
        let rows = client
            .query_typed(
                "SELECT g.id, g.hgnc_id::text, g.approved_symbol::text,
                        COALESCE(h.annotations ->> 'ensembl_gene_id',
                                 (SELECT min(value) FROM gene_identifiers i
                                   WHERE i.gene_id = g.id AND i.kind = 'ensembl_gene_id')),
                        COALESCE(h.annotations ->> 'ncbi_gene_id',
                                 (SELECT min(value) FROM gene_identifiers i
                                   WHERE i.gene_id = g.id AND i.kind = 'ncbi_gene_id')),
                        s.percentage_score::float8
                   FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n)
                   JOIN genes g ON g.id = t.id
                   LEFT JOIN gene_annotations h ON h.gene_id = g.id AND h.source = 'hgnc'
                   LEFT JOIN gene_scores s ON s.gene_id = g.id
                  ORDER BY t.n",
                &[(&gene_ids, Type::INT8_ARRAY)],
            )
            .await
            .map_err(storage)?;
        Ok(rows
            .iter()
            .map(|r| GeneRow {
                gene_id: r.get(0),
                hgnc_id: r.get(1),
                symbol: r.get(2),
                ensembl_gene_id: r.get(3),
                ncbi_gene_id: r.get(4),
                percentage_score: r.get(5),
            })
            .collect())
    }

    /// Records the chunk's end. False when it was already finished (a concurrent redelivery
    /// got there first; its result stands).
    pub async fn finish_chunk(
        &self,
        job: AnnotationJob,
        status: ChunkStatus,
        result: &ChunkResult,
    ) -> Result<bool, RunError> {
        let client = self.pool.get().await.map_err(storage)?;
        let status = match status {
            ChunkStatus::Done => "done",
            ChunkStatus::Failed => "failed",
        };
        let error = result.error.as_deref().map(|e| truncate(e, 2000));
        let n = client
            .execute_typed(
                "UPDATE annotation_run_chunks
                    SET status = $3, records = $4, inserted = $5, updated = $6, unchanged = $7,
                        not_found = $8, gene_failures = $9, identifiers_changed = $10,
                        misses = $11, millis = $12, error = $13, updated_at = now()
                  WHERE run_id = $1 AND chunk_no = $2 AND status IN ('pending', 'queued')",
                &[
                    (&job.run_id, Type::INT8),
                    (&job.chunk_no, Type::INT4),
                    (&status, Type::TEXT),
                    (&result.records, Type::INT4),
                    (&result.inserted, Type::INT4),
                    (&result.updated, Type::INT4),
                    (&result.unchanged, Type::INT4),
                    (&result.not_found, Type::INT4),
                    (&result.gene_failures, Type::INT4),
                    (&result.identifiers_changed, Type::INT4),
                    (&result.misses, Type::JSONB),
                    (&result.millis, Type::INT4),
                    (&error, Type::TEXT),
                ],
            )
            .await
            .map_err(storage)?;
        Ok(n == 1)
    }

    /// After a chunk ends: switch to phase 2 when hgnc is over (sending its chunks), and
    /// complete the run when no chunk is open. Each step is claimed by one conditional UPDATE,
    /// so concurrent workers do it once.
    pub async fn advance(&self, run_id: i64, sender: &dyn JobSender) -> Result<Advance, RunError> {
        let client = self.pool.get().await.map_err(storage)?;
        let switched = client
            .execute_typed(
                "UPDATE annotation_runs r SET phase = 2, updated_at = now()
                  WHERE id = $1 AND phase = 1 AND status = 'running'
                    AND NOT EXISTS (SELECT 1 FROM annotation_run_chunks c
                                     WHERE c.run_id = r.id AND c.phase = 1
                                       AND c.status IN ('pending', 'queued'))",
                &[(&run_id, Type::INT8)],
            )
            .await
            .map_err(storage)?;
        let mut sent = 0;
        if switched == 1 {
            sent = self.send_pending(run_id, sender).await?;
        }
        let claimed = client
            .query_typed_opt(
                "UPDATE annotation_runs r SET status = 'completing', updated_at = now()
                  WHERE id = $1 AND status = 'running' AND phase = 2
                    AND NOT EXISTS (SELECT 1 FROM annotation_run_chunks c
                                     WHERE c.run_id = r.id AND c.status IN ('pending', 'queued'))
                 RETURNING (SELECT count(*) FILTER (WHERE c.status = 'done')
                              FROM annotation_run_chunks c WHERE c.run_id = r.id),
                           (SELECT COALESCE(sum(c.inserted + c.updated + c.identifiers_changed), 0)
                              FROM annotation_run_chunks c WHERE c.run_id = r.id AND c.status = 'done')",
                &[(&run_id, Type::INT8)],
            )
            .await
            .map_err(storage)?;
        drop(client);
        let Some(row) = claimed else {
            return Ok(if switched == 1 {
                Advance::PhaseTwo { jobs_sent: sent }
            } else {
                Advance::Nothing
            });
        };
        let done: i64 = row.get(0);
        let changed: i64 = row.get(1);
        self.complete(run_id, done, changed).await
    }

    async fn complete(&self, run_id: i64, done: i64, changed: i64) -> Result<Advance, RunError> {
        let mut client = self.pool.get().await.map_err(storage)?;
        if done == 0 {
            client
                .execute_typed(
                    "UPDATE annotation_runs SET status = 'failed', completed_at = now(),
                            updated_at = now(), error = 'every chunk failed; stored annotations unchanged'
                      WHERE id = $1",
                    &[(&run_id, Type::INT8)],
                )
                .await
                .map_err(storage)?;
            tracing::warn!(run_id, "annotation run failed: every chunk failed");
            return Ok(Advance::Failed);
        }
        // Nothing changed (a re-run over unchanged data): no refresh, caches stay valid.
        let data_version = if changed > 0 {
            match kgdb_store::refresh::refresh_all(&mut client).await {
                Ok(report) => Some(report.data_version),
                Err(e) => {
                    // Back to running: the next sweep claims the completion again.
                    let _ = client
                        .execute_typed(
                            "UPDATE annotation_runs SET status = 'running', error = $2, updated_at = now()
                              WHERE id = $1",
                            &[(&run_id, Type::INT8), (&truncate(&e.to_string(), 2000), Type::TEXT)],
                        )
                        .await;
                    return Err(storage(format!("refresh after run {run_id}: {e}")));
                }
            }
        } else {
            None
        };
        client
            .execute_typed(
                "UPDATE annotation_runs SET status = 'completed', completed_at = now(),
                        updated_at = now(), data_version = $2, error = NULL
                  WHERE id = $1",
                &[(&run_id, Type::INT8), (&data_version, Type::INT8)],
            )
            .await
            .map_err(storage)?;
        tracing::info!(run_id, ?data_version, changed, "annotation run completed");
        Ok(Advance::Completed { data_version })
    }

    /// Closes what crashes left open, on every scheduler tick: a completion claimed by a worker
    /// that died is claimed again; a chunk queued longer than `lost_after` (its message exhausted
    /// its deliveries without a worker recording an end) is failed; pending chunks are sent.
    pub async fn sweep(
        &self,
        sender: &dyn JobSender,
        lost_after: Duration,
    ) -> Result<SweepReport, RunError> {
        let mut report = SweepReport::default();
        let lost_secs = lost_after.as_secs_f64();
        let runs: Vec<i64> = {
            let client = self.pool.get().await.map_err(storage)?;
            client
                .execute_typed(
                    "UPDATE annotation_runs SET status = 'running', updated_at = now()
                      WHERE status = 'completing' AND updated_at < now() - interval '15 minutes'",
                    &[],
                )
                .await
                .map_err(storage)?;
            report.chunks_lost = client
                .execute_typed(
                    "UPDATE annotation_run_chunks c
                        SET status = 'failed', updated_at = now(),
                            error = 'lost: no worker recorded an end (its message went to the dead-letter queue)'
                      FROM annotation_runs r
                     WHERE r.id = c.run_id AND r.status = 'running' AND c.status = 'queued'
                       AND c.updated_at < now() - make_interval(secs => $1)",
                    &[(&lost_secs, Type::FLOAT8)],
                )
                .await
                .map_err(storage)?;
            client
                .query_typed(
                    "SELECT id FROM annotation_runs WHERE status = 'running' ORDER BY id",
                    &[],
                )
                .await
                .map_err(storage)?
                .iter()
                .map(|r| r.get(0))
                .collect()
        };
        for run_id in runs {
            report.runs += 1;
            report.jobs_resent += self.send_pending(run_id, sender).await?;
            if let Advance::Completed { .. } | Advance::Failed =
                self.advance(run_id, sender).await?
            {
                report.completed += 1;
            }
        }
        Ok(report)
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
