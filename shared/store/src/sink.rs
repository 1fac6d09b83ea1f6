//! The evidence sink on Postgres: every source, live or offline, writes through here.
//!
//! A run is staged chunk by chunk in `evidence_staging` (a chunk rewritten on redelivery
//! replaces its own rows) and swapped in by [`PgSink::complete`] in one transaction: genes
//! upserted by HGNC id (reported symbols that differ from the approved one become aliases; a
//! renamed gene keeps its old symbol as an alias), evidence upserted by (gene, source) and left
//! untouched when unchanged, and in replace mode the source's rows for genes the run did not
//! produce removed. Nothing reaches `gene_evidence` before completion, so a failed, crashed or
//! empty run leaves the last good data in place. Views are refreshed by the caller
//! ([`crate::refresh::refresh_all`]), once for however many runs it completes.

use std::collections::HashSet;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use kgdb_core::pipeline::{
    ChunkReport, LatestWins, MergeParts, RunId, RunMode, RunReport, RunSpec, Sink, SinkError,
};
use kgdb_core::{EvidenceRecord, SourceName, normalize_hgnc_id};
use serde_json::Value;
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

use crate::db::DbPool;

/// Genes swapped in per statement batch at completion (bounds memory for large runs).
const COMPLETE_BATCH_GENES: i64 = 2000;

fn storage(e: impl std::fmt::Display) -> SinkError {
    SinkError::Storage(e.to_string())
}

/// The Postgres [`Sink`], over the pool (one connection per call; RDS Proxy friendly).
#[derive(Clone)]
pub struct PgSink {
    pool: DbPool,
}

impl PgSink {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// One run holding `records` as its only chunk, completed at once: for writers of finished
    /// records (tests, corrections). In merge mode a gene's new record replaces its stored one.
    pub async fn write_records(
        &self,
        source: SourceName,
        records: &[EvidenceRecord],
        mode: RunMode,
        trigger: &str,
    ) -> Result<RunReport, SinkError> {
        let spec = RunSpec {
            source,
            mode,
            chunks_planned: 1,
            trigger: trigger.to_string(),
        };
        let run = self.start_run(&spec).await?;
        let result = async {
            self.write_chunk(run, "records", records).await?;
            self.complete(run, &LatestWins).await
        }
        .await;
        if let Err(e) = &result {
            self.fail(run, &e.to_string()).await?;
        }
        result
    }

    async fn start(&self, spec: &RunSpec) -> Result<RunId, SinkError> {
        let client = self.pool.get().await.map_err(storage)?;
        let planned = i32::try_from(spec.chunks_planned).map_err(storage)?;
        let (name, mode) = (spec.source.as_str(), spec.mode.as_str());
        let id: i64 = client
            .query_typed_one(
                "INSERT INTO evidence_runs (source_name, mode, chunks_planned, trigger)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    (&name, Type::TEXT),
                    (&mode, Type::TEXT),
                    (&planned, Type::INT4),
                    (&spec.trigger, Type::TEXT),
                ],
            )
            .await
            .map_err(storage)?
            .get(0);
        record_progress(&**client, name, "running", None, None)
            .await
            .map_err(storage)?;
        Ok(RunId(id))
    }

    async fn stage(
        &self,
        run: RunId,
        chunk_key: &str,
        records: &[EvidenceRecord],
    ) -> Result<ChunkReport, SinkError> {
        validate(records)?;
        let mut client = self.pool.get().await.map_err(storage)?;
        let tx = client.transaction().await.map_err(storage)?;
        // FOR SHARE: chunks of one run stage concurrently, completion (FOR UPDATE) waits for them.
        let state = tx
            .query_typed_opt(
                "SELECT status, chunks_planned FROM evidence_runs WHERE id = $1 FOR SHARE",
                &[(&run.0, Type::INT8)],
            )
            .await
            .map_err(storage)?
            .ok_or(SinkError::UnknownRun(run))?;
        let status: String = state.get(0);
        if status != "running" {
            return Err(SinkError::Closed { run, status });
        }
        let planned: i32 = state.get(1);
        tx.execute_typed(
            "DELETE FROM evidence_staging WHERE run_id = $1 AND chunk_key = $2",
            &[(&run.0, Type::INT8), (&chunk_key, Type::TEXT)],
        )
        .await
        .map_err(storage)?;
        let hgnc_ids: Vec<&str> = records.iter().map(|r| r.hgnc_id.as_str()).collect();
        let symbols: Vec<&str> = records.iter().map(|r| r.approved_symbol.as_str()).collect();
        let reported: Vec<Value> = records
            .iter()
            .map(|r| Value::from(r.reported_symbols.clone()))
            .collect();
        let details: Vec<&str> = records.iter().map(|r| r.source_detail.as_str()).collect();
        let data: Vec<&Value> = records.iter().map(|r| &r.evidence_data).collect();
        let dates: Vec<Option<NaiveDate>> = records.iter().map(|r| r.evidence_date).collect();
        tx.execute_typed(
            "INSERT INTO evidence_staging (run_id, chunk_key, hgnc_id, approved_symbol, reported_symbols,
                                           source_detail, evidence_data, evidence_date)
             SELECT $1, $2, t.* FROM unnest($3::text[], $4::text[], $5::jsonb[], $6::text[], $7::jsonb[], $8::date[]) AS t",
            &[
                (&run.0, Type::INT8),
                (&chunk_key, Type::TEXT),
                (&hgnc_ids, Type::TEXT_ARRAY),
                (&symbols, Type::TEXT_ARRAY),
                (&reported, Type::JSONB_ARRAY),
                (&details, Type::TEXT_ARRAY),
                (&data, Type::JSONB_ARRAY),
                (&dates, Type::DATE_ARRAY),
            ],
        )
        .await
        .map_err(storage)?;
        let count = i32::try_from(records.len()).map_err(storage)?;
        tx.execute_typed(
            "INSERT INTO evidence_run_chunks (run_id, chunk_key, records) VALUES ($1, $2, $3)
             ON CONFLICT (run_id, chunk_key) DO UPDATE SET records = EXCLUDED.records, written_at = now()",
            &[(&run.0, Type::INT8), (&chunk_key, Type::TEXT), (&count, Type::INT4)],
        )
        .await
        .map_err(storage)?;
        let written: i64 = tx
            .query_typed_one(
                "SELECT count(*) FROM evidence_run_chunks WHERE run_id = $1",
                &[(&run.0, Type::INT8)],
            )
            .await
            .map_err(storage)?
            .get(0);
        tx.commit().await.map_err(storage)?;
        Ok(ChunkReport {
            records: records.len(),
            chunks_written: usize::try_from(written).unwrap_or(0),
            chunks_planned: usize::try_from(planned).unwrap_or(0),
        })
    }

    async fn finish(&self, run: RunId, merge: &dyn MergeParts) -> Result<RunReport, SinkError> {
        let mut client = self.pool.get().await.map_err(storage)?;
        let tx = client.transaction().await.map_err(storage)?;
        let state = tx
            .query_typed_opt(
                "SELECT source_name, mode, status, chunks_planned, report,
                        (SELECT count(*) FROM evidence_run_chunks c WHERE c.run_id = r.id)
                   FROM evidence_runs r WHERE id = $1 FOR UPDATE",
                &[(&run.0, Type::INT8)],
            )
            .await
            .map_err(storage)?
            .ok_or(SinkError::UnknownRun(run))?;
        let source: String = state.get(0);
        let mode = if state.get::<_, String>(1) == "merge" {
            RunMode::Merge
        } else {
            RunMode::Replace
        };
        let status: String = state.get(2);
        match status.as_str() {
            // A repeated completion (a redelivered last message) changes nothing.
            "completed" => {
                let report: Option<Value> = state.get(4);
                return report
                    .and_then(|r| serde_json::from_value(r).ok())
                    .ok_or_else(|| storage(format!("{run} is completed but has no report")));
            }
            "running" => {}
            _ => return Err(SinkError::Closed { run, status }),
        }
        let planned = usize::try_from(state.get::<_, i32>(3)).unwrap_or(0);
        let written = usize::try_from(state.get::<_, i64>(5)).unwrap_or(0);
        if written < planned {
            return Err(SinkError::Incomplete {
                run,
                written,
                planned,
            });
        }
        let mut report = RunReport {
            source: source.clone(),
            run_id: run.0,
            mode: mode.as_str().to_string(),
            chunks: written,
            ..RunReport::default()
        };
        let mut after = String::new();
        loop {
            let staged = tx
                .query_typed(
                    "SELECT hgnc_id, approved_symbol, reported_symbols, source_detail, evidence_data, evidence_date
                       FROM evidence_staging
                      WHERE run_id = $1
                        AND hgnc_id IN (SELECT DISTINCT hgnc_id FROM evidence_staging
                                         WHERE run_id = $1 AND hgnc_id > $2 ORDER BY hgnc_id LIMIT $3)
                      ORDER BY hgnc_id, chunk_key",
                    &[
                        (&run.0, Type::INT8),
                        (&after, Type::TEXT),
                        (&COMPLETE_BATCH_GENES, Type::INT8),
                    ],
                )
                .await
                .map_err(storage)?;
            let Some(last) = staged.last() else { break };
            after = last.get(0);
            let mut groups: Vec<Vec<EvidenceRecord>> = Vec::new();
            for row in &staged {
                let record = EvidenceRecord {
                    hgnc_id: row.get(0),
                    approved_symbol: row.get(1),
                    reported_symbols: serde_json::from_value(row.get(2)).unwrap_or_default(),
                    source_detail: row.get(3),
                    evidence_data: row.get(4),
                    evidence_date: row.get(5),
                };
                match groups.last_mut() {
                    Some(group) if group[0].hgnc_id == record.hgnc_id => group.push(record),
                    _ => groups.push(vec![record]),
                }
            }
            if mode == RunMode::Merge {
                prepend_stored(&*tx, &source, &mut groups).await?;
            }
            let merged = groups
                .into_iter()
                .map(|parts| merge_gene(merge, parts))
                .collect::<Result<Vec<_>, _>>()?;
            validate(&merged)?;
            let batch = upsert(&*tx, &source, &merged).await.map_err(storage)?;
            report.records += merged.len();
            report.genes_created += batch.genes_created;
            report.evidence_inserted += batch.inserted;
            report.evidence_updated += batch.updated;
        }
        if report.records == 0 {
            return Err(SinkError::EmptyRun(run));
        }
        report.evidence_unchanged =
            report.records as u64 - report.evidence_inserted - report.evidence_updated;
        if mode == RunMode::Replace {
            report.evidence_removed = tx
                .execute_typed(
                    "DELETE FROM gene_evidence e USING genes g
                      WHERE g.id = e.gene_id AND e.source_name = $1
                        AND NOT EXISTS (SELECT 1 FROM evidence_staging s
                                         WHERE s.run_id = $2 AND s.hgnc_id = g.hgnc_id)",
                    &[(&source, Type::TEXT), (&run.0, Type::INT8)],
                )
                .await
                .map_err(storage)?;
        }
        let report_json = serde_json::to_value(&report).map_err(storage)?;
        tx.execute_typed(
            "UPDATE evidence_runs SET status = 'completed', completed_at = now(), report = $2 WHERE id = $1",
            &[(&run.0, Type::INT8), (&report_json, Type::JSONB)],
        )
        .await
        .map_err(storage)?;
        tx.execute_typed(
            "DELETE FROM evidence_staging WHERE run_id = $1",
            &[(&run.0, Type::INT8)],
        )
        .await
        .map_err(storage)?;
        record_progress(&*tx, &source, "completed", Some(&report), None)
            .await
            .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(report)
    }

    async fn mark_failed(&self, run: RunId, error: &str) -> Result<(), SinkError> {
        let mut client = self.pool.get().await.map_err(storage)?;
        let tx = client.transaction().await.map_err(storage)?;
        let source = tx
            .query_typed_opt(
                "UPDATE evidence_runs SET status = 'failed', completed_at = now(), error = $2
                  WHERE id = $1 AND status = 'running' RETURNING source_name",
                &[(&run.0, Type::INT8), (&error, Type::TEXT)],
            )
            .await
            .map_err(storage)?;
        if let Some(row) = source {
            let source: String = row.get(0);
            tx.execute_typed(
                "DELETE FROM evidence_staging WHERE run_id = $1",
                &[(&run.0, Type::INT8)],
            )
            .await
            .map_err(storage)?;
            record_progress(&*tx, &source, "failed", None, Some(error))
                .await
                .map_err(storage)?;
        }
        tx.commit().await.map_err(storage)
    }
}

impl Sink for PgSink {
    fn start_run<'a>(&'a self, spec: &'a RunSpec) -> BoxFuture<'a, Result<RunId, SinkError>> {
        Box::pin(self.start(spec))
    }

    fn write_chunk<'a>(
        &'a self,
        run: RunId,
        chunk_key: &'a str,
        records: &'a [EvidenceRecord],
    ) -> BoxFuture<'a, Result<ChunkReport, SinkError>> {
        Box::pin(self.stage(run, chunk_key, records))
    }

    fn complete<'a>(
        &'a self,
        run: RunId,
        merge: &'a dyn MergeParts,
    ) -> BoxFuture<'a, Result<RunReport, SinkError>> {
        Box::pin(self.finish(run, merge))
    }

    fn fail<'a>(&'a self, run: RunId, error: &'a str) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(self.mark_failed(run, error))
    }
}

/// One gene's record from its parts; a single part is taken as is.
fn merge_gene(
    merge: &dyn MergeParts,
    mut parts: Vec<EvidenceRecord>,
) -> Result<EvidenceRecord, SinkError> {
    if parts.len() == 1 {
        return parts.pop().ok_or_else(|| storage("empty group"));
    }
    Ok(merge.merge(parts)?)
}

/// Merge runs join each gene's stored row in as its first part, so the run's values win.
/// A stored row the source's model cannot read (written by an older version) is left out
/// with a warning rather than failing the run.
async fn prepend_stored(
    client: &impl GenericClient,
    source: &str,
    groups: &mut [Vec<EvidenceRecord>],
) -> Result<(), SinkError> {
    let ids: Vec<&str> = groups.iter().map(|g| g[0].hgnc_id.as_str()).collect();
    let rows = client
        .query_typed(
            "SELECT g.hgnc_id, g.approved_symbol::text, e.source_detail::text, e.evidence_data, e.evidence_date
               FROM gene_evidence e JOIN genes g ON g.id = e.gene_id
              WHERE e.source_name = $1 AND g.hgnc_id = ANY ($2::text[])",
            &[(&source, Type::TEXT), (&ids, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(storage)?;
    let mut stored: std::collections::HashMap<String, EvidenceRecord> = rows
        .iter()
        .map(|row| {
            let hgnc_id: String = row.get(0);
            let record = EvidenceRecord {
                hgnc_id: hgnc_id.clone(),
                approved_symbol: row.get(1),
                reported_symbols: Vec::new(),
                source_detail: row.get::<_, Option<String>>(2).unwrap_or_default(),
                evidence_data: row.get(3),
                evidence_date: row.get(4),
            };
            (hgnc_id, record)
        })
        .collect();
    for group in groups.iter_mut() {
        if let Some(old) = stored.remove(&group[0].hgnc_id) {
            group.insert(0, old);
        }
    }
    Ok(())
}

/// Checks records before anything is written.
fn validate(records: &[EvidenceRecord]) -> Result<(), SinkError> {
    let mut seen = HashSet::with_capacity(records.len());
    for r in records {
        let invalid = |reason: &str| SinkError::Invalid {
            hgnc_id: r.hgnc_id.clone(),
            reason: reason.to_string(),
        };
        if normalize_hgnc_id(&r.hgnc_id).as_deref() != Some(r.hgnc_id.as_str()) {
            return Err(invalid("hgnc_id must look like HGNC:<digits>"));
        }
        let symbol = r.approved_symbol.trim();
        if symbol.is_empty() || symbol.len() > 100 || symbol != r.approved_symbol {
            return Err(invalid(
                "approved_symbol must be 1-100 characters without surrounding spaces",
            ));
        }
        if !r.evidence_data.is_object() {
            return Err(invalid("evidence_data must be a JSON object"));
        }
        if r.source_detail.len() > 255 {
            return Err(invalid("source_detail is longer than 255 characters"));
        }
        if !seen.insert(r.hgnc_id.as_str()) {
            return Err(invalid("gene appears twice in one chunk"));
        }
    }
    Ok(())
}

struct BatchStats {
    genes_created: u64,
    inserted: u64,
    updated: u64,
}

/// Upserts genes, their aliases and their evidence rows for one batch of merged records.
async fn upsert(
    tx: &impl GenericClient,
    source: &str,
    records: &[EvidenceRecord],
) -> Result<BatchStats, tokio_postgres::Error> {
    let hgnc_ids: Vec<&str> = records.iter().map(|r| r.hgnc_id.as_str()).collect();
    let symbols: Vec<&str> = records.iter().map(|r| r.approved_symbol.as_str()).collect();
    let (alias_ids, aliases): (Vec<&str>, Vec<&str>) = records
        .iter()
        .flat_map(|r| {
            r.reported_symbols
                .iter()
                .map(|s| s.trim())
                .filter(|s| {
                    !s.is_empty() && s.len() <= 100 && !s.eq_ignore_ascii_case(&r.approved_symbol)
                })
                .map(|s| (r.hgnc_id.as_str(), s))
        })
        .unzip();
    let details: Vec<&str> = records.iter().map(|r| r.source_detail.as_str()).collect();
    let data: Vec<&Value> = records.iter().map(|r| &r.evidence_data).collect();
    let dates: Vec<Option<NaiveDate>> = records.iter().map(|r| r.evidence_date).collect();

    let genes_created = tx
        .query_typed(
            "INSERT INTO genes AS g (hgnc_id, approved_symbol)
             SELECT h, s FROM unnest($1::text[], $2::text[]) AS t(h, s)
             ON CONFLICT (hgnc_id) DO UPDATE
                SET approved_symbol = EXCLUDED.approved_symbol,
                    aliases = CASE WHEN g.approved_symbol = ANY (g.aliases) THEN g.aliases
                                   ELSE array_append(g.aliases, g.approved_symbol::text) END,
                    updated_at = now()
              WHERE g.approved_symbol IS DISTINCT FROM EXCLUDED.approved_symbol
             RETURNING (xmax = 0) AS inserted",
            &[(&hgnc_ids, Type::TEXT_ARRAY), (&symbols, Type::TEXT_ARRAY)],
        )
        .await?
        .iter()
        .filter(|row| row.get::<_, bool>(0))
        .count() as u64;
    if !aliases.is_empty() {
        tx.execute_typed(
            "UPDATE genes g
                SET aliases = merged.aliases, updated_at = now()
               FROM (SELECT g2.id,
                            ARRAY(SELECT DISTINCT a FROM unnest(g2.aliases || n.new_aliases) AS a
                                   WHERE upper(a) <> upper(g2.approved_symbol) ORDER BY a) AS aliases
                       FROM genes g2
                       JOIN (SELECT h, array_agg(a) AS new_aliases
                               FROM unnest($1::text[], $2::text[]) AS t(h, a) GROUP BY h) n
                         ON n.h = g2.hgnc_id) merged
              WHERE g.id = merged.id AND g.aliases IS DISTINCT FROM merged.aliases",
            &[(&alias_ids, Type::TEXT_ARRAY), (&aliases, Type::TEXT_ARRAY)],
        )
        .await?;
    }
    let written = tx
        .query_typed(
            "INSERT INTO gene_evidence AS e (gene_id, source_name, source_detail, evidence_data, evidence_date)
             SELECT g.id, $1, t.detail, t.data, t.evidence_date
               FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::date[]) AS t(h, detail, data, evidence_date)
               JOIN genes g ON g.hgnc_id = t.h
             ON CONFLICT (gene_id, source_name) DO UPDATE
                SET source_detail = EXCLUDED.source_detail,
                    evidence_data = EXCLUDED.evidence_data,
                    evidence_date = EXCLUDED.evidence_date,
                    updated_at = now()
              WHERE (e.source_detail, e.evidence_data) IS DISTINCT FROM (EXCLUDED.source_detail, EXCLUDED.evidence_data)
             RETURNING (xmax = 0) AS inserted",
            &[
                (&source, Type::TEXT),
                (&hgnc_ids, Type::TEXT_ARRAY),
                (&details, Type::TEXT_ARRAY),
                (&data, Type::JSONB_ARRAY),
                (&dates, Type::DATE_ARRAY),
            ],
        )
        .await?;
    let inserted = written.iter().filter(|row| row.get::<_, bool>(0)).count() as u64;
    Ok(BatchStats {
        genes_created,
        inserted,
        updated: written.len() as u64 - inserted,
    })
}

/// Records a source's last run in `data_source_progress` (what `/api/datasources` reports).
async fn record_progress(
    client: &impl GenericClient,
    source: &str,
    status: &str,
    report: Option<&RunReport>,
    error: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    let as_i32 = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    let (processed, added, updated) = report
        .map(|r| {
            (
                as_i32(r.records as u64),
                as_i32(r.evidence_inserted),
                as_i32(r.evidence_updated),
            )
        })
        .unwrap_or((0, 0, 0));
    let metadata = report.and_then(|r| serde_json::to_value(r).ok());
    client
        .execute_typed(
            "INSERT INTO data_source_progress AS p
                 (source_name, status, items_processed, items_added, items_updated, last_error, metadata,
                  started_at, completed_at, last_update_at)
             VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, '{}'::jsonb), now(),
                     CASE WHEN $2 = 'completed' THEN now() END, now())
             ON CONFLICT (source_name) DO UPDATE
                SET status = EXCLUDED.status,
                    items_processed = CASE WHEN EXCLUDED.status = 'completed' THEN EXCLUDED.items_processed ELSE p.items_processed END,
                    items_added = CASE WHEN EXCLUDED.status = 'completed' THEN EXCLUDED.items_added ELSE p.items_added END,
                    items_updated = CASE WHEN EXCLUDED.status = 'completed' THEN EXCLUDED.items_updated ELSE p.items_updated END,
                    last_error = CASE WHEN EXCLUDED.status = 'running' THEN p.last_error ELSE EXCLUDED.last_error END,
                    metadata = CASE WHEN EXCLUDED.status = 'completed' THEN EXCLUDED.metadata ELSE p.metadata END,
                    started_at = CASE WHEN EXCLUDED.status = 'running' THEN now() ELSE p.started_at END,
                    completed_at = CASE WHEN EXCLUDED.status = 'completed' THEN now() ELSE p.completed_at END,
                    last_update_at = now()",
            &[
                (&source, Type::TEXT),
                (&status, Type::TEXT),
                (&processed, Type::INT4),
                (&added, Type::INT4),
                (&updated, Type::INT4),
                (&error, Type::TEXT),
                (&metadata, Type::JSONB),
            ],
        )
        .await?;
    Ok(())
}

/// The log of whole ingests (`pipeline_runs`; `/api/datasources` reports the newest).
pub async fn log_pipeline_run(
    client: &impl GenericClient,
    kind: &str,
    failed: bool,
    stats: &Value,
) -> Result<(), tokio_postgres::Error> {
    let status = if failed { "failed" } else { "completed" };
    client
        .execute_typed(
            "INSERT INTO pipeline_runs (kind, status, completed_at, stats) VALUES ($1, $2, now(), $3)",
            &[(&kind, Type::TEXT), (&status, Type::TEXT), (&stats, Type::JSONB)],
        )
        .await?;
    Ok(())
}
