//! The one writer of evidence: every source, live or offline, goes through here.
//!
//! A batch is written in one transaction: genes are upserted by HGNC id (reported symbols that
//! differ from the approved one become aliases; a renamed gene keeps its old symbol as an
//! alias), evidence rows are upserted by (gene, source) and left untouched when unchanged, so a
//! retried batch is a no-op. An empty or invalid batch is refused before anything is written:
//! a source that failed or returned nothing never wipes the last good data.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use super::{EvidenceRecord, EvidenceSource, SourceError};
use crate::refresh::{RefreshReport, refresh_all};
use crate::vocab::SourceName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The batch is the source's complete current state: its rows for genes not in the batch
    /// are removed (in the same transaction).
    Replace,
    /// Only the genes in the batch are touched (incremental updates, uploads in merge mode).
    Upsert,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WriteStats {
    pub source: String,
    pub records: usize,
    pub genes_created: u64,
    pub evidence_inserted: u64,
    pub evidence_updated: u64,
    pub evidence_unchanged: u64,
    pub evidence_removed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}: refusing to write an empty batch (the last good data stays)")]
    Empty(SourceName),
    #[error("{source_name}: invalid record for {hgnc_id}: {reason}")]
    Invalid {
        source_name: SourceName,
        hgnc_id: String,
        reason: String,
    },
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
}

fn validate(source: SourceName, records: &[EvidenceRecord]) -> Result<(), WriteError> {
    if records.is_empty() {
        return Err(WriteError::Empty(source));
    }
    let mut seen = HashSet::with_capacity(records.len());
    for r in records {
        let invalid = |reason: &str| WriteError::Invalid {
            source_name: source,
            hgnc_id: r.hgnc_id.clone(),
            reason: reason.to_string(),
        };
        if super::normalize_hgnc_id(&r.hgnc_id).as_deref() != Some(r.hgnc_id.as_str()) {
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
            return Err(invalid("gene appears twice in one batch"));
        }
    }
    Ok(())
}

/// Writes one source's batch transactionally. Does not refresh the views: callers writing
/// several sources refresh once at the end (see [`ingest`]).
pub async fn write_source(
    client: &mut Client,
    source: SourceName,
    records: &[EvidenceRecord],
    mode: WriteMode,
) -> Result<WriteStats, WriteError> {
    validate(source, records)?;
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
    let data: Vec<&serde_json::Value> = records.iter().map(|r| &r.evidence_data).collect();
    let dates: Vec<Option<NaiveDate>> = records.iter().map(|r| r.evidence_date).collect();
    let source_name = source.as_str();

    let tx = client.transaction().await?;
    let created = tx
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
                (&source_name, Type::TEXT),
                (&hgnc_ids, Type::TEXT_ARRAY),
                (&details, Type::TEXT_ARRAY),
                (&data, Type::JSONB_ARRAY),
                (&dates, Type::DATE_ARRAY),
            ],
        )
        .await?;
    let inserted = written.iter().filter(|row| row.get::<_, bool>(0)).count() as u64;
    let updated = written.len() as u64 - inserted;
    let removed = if mode == WriteMode::Replace {
        tx.execute_typed(
            "DELETE FROM gene_evidence e
              WHERE e.source_name = $1
                AND NOT EXISTS (SELECT 1 FROM genes g WHERE g.id = e.gene_id AND g.hgnc_id = ANY ($2::text[]))",
            &[(&source_name, Type::TEXT), (&hgnc_ids, Type::TEXT_ARRAY)],
        )
        .await?
    } else {
        0
    };
    let stats = WriteStats {
        source: source_name.to_string(),
        records: records.len(),
        genes_created: created,
        evidence_inserted: inserted,
        evidence_updated: updated,
        evidence_unchanged: records.len() as u64 - inserted - updated,
        evidence_removed: removed,
    };
    record_progress(&tx, source, "completed", Some(&stats), None).await?;
    tx.commit().await?;
    Ok(stats)
}

/// Records a source's last run in `data_source_progress`.
async fn record_progress(
    client: &impl tokio_postgres::GenericClient,
    source: SourceName,
    status: &str,
    stats: Option<&WriteStats>,
    error: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    let (processed, added, updated) = stats
        .map(|s| {
            (
                s.records as i32,
                s.evidence_inserted as i32,
                s.evidence_updated as i32,
            )
        })
        .unwrap_or((0, 0, 0));
    let metadata = serde_json::to_value(stats).unwrap_or(serde_json::Value::Null);
    let name = source.as_str();
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
                    last_error = EXCLUDED.last_error,
                    metadata = CASE WHEN EXCLUDED.status = 'completed' THEN EXCLUDED.metadata ELSE p.metadata END,
                    completed_at = CASE WHEN EXCLUDED.status = 'completed' THEN now() ELSE p.completed_at END,
                    last_update_at = now()",
            &[
                (&name, Type::TEXT),
                (&status, Type::TEXT),
                (&processed, Type::INT4),
                (&added, Type::INT4),
                (&updated, Type::INT4),
                (&error, Type::TEXT),
                (&(stats.is_some().then_some(metadata)), Type::JSONB),
            ],
        )
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceOutcome {
    pub source: String,
    pub stats: Option<WriteStats>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub sources: Vec<SourceOutcome>,
    pub refresh: Option<RefreshReport>,
}

impl IngestReport {
    pub fn failed(&self) -> impl Iterator<Item = &SourceOutcome> {
        self.sources.iter().filter(|s| s.error.is_some())
    }
}

/// Fetches and writes every source, then refreshes the views once (and bumps the data version).
/// A failing source is recorded as failed and keeps its previous rows; the others still land.
pub async fn ingest(
    client: &mut Client,
    sources: &[Box<dyn EvidenceSource>],
    mode: WriteMode,
) -> Result<IngestReport, tokio_postgres::Error> {
    let run_id: i64 = client
        .query_typed_one(
            "INSERT INTO pipeline_runs (kind, status) VALUES ('evidence_ingest', 'running') RETURNING id",
            &[],
        )
        .await?
        .get(0);
    let mut outcomes = Vec::with_capacity(sources.len());
    for source in sources {
        let name = source.name();
        let result = match source.fetch().await {
            Ok(records) => write_source(client, name, &records, mode).await,
            Err(e) => Err(WriteError::Source(e)),
        };
        match result {
            Ok(stats) => {
                tracing::debug!(source = %name, records = stats.records, inserted = stats.evidence_inserted,
                    updated = stats.evidence_updated, removed = stats.evidence_removed, "source written");
                outcomes.push(SourceOutcome {
                    source: name.to_string(),
                    stats: Some(stats),
                    error: None,
                });
            }
            Err(WriteError::Db(e)) => return Err(e),
            Err(e) => {
                tracing::error!(source = %name, error = %e, "source failed; its previous data stays");
                let message = e.to_string();
                record_progress(&*client, name, "failed", None, Some(&message)).await?;
                outcomes.push(SourceOutcome {
                    source: name.to_string(),
                    stats: None,
                    error: Some(message),
                });
            }
        }
    }
    let refresh = refresh_all(client).await?;
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let stats = serde_json::json!({"sources": outcomes, "refresh": refresh});
    let status = if failed == 0 { "completed" } else { "failed" };
    client
        .execute_typed(
            "UPDATE pipeline_runs SET status = $2, completed_at = now(), stats = $3 WHERE id = $1",
            &[
                (&run_id, Type::INT8),
                (&status, Type::TEXT),
                (&stats, Type::JSONB),
            ],
        )
        .await?;
    Ok(IngestReport {
        sources: outcomes,
        refresh: Some(refresh),
    })
}
