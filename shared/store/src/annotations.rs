//! The annotation writer: upserts `gene_annotations` (one row per gene × source) and replaces
//! each gene's `gene_identifiers`, idempotently: writing the same values again changes no row,
//! so `updated_at` and `next_update` move only when a value does.
//!
//! Records name genes by HGNC id; a gene that is not in `genes` is skipped and counted (the
//! annotations describe the kidney genes the evidence brought in, they never add genes).

use std::collections::BTreeSet;

use kgdb_core::annotation::{AnnotationRecord, GeneIdentifiers, is_annotation_source};
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::types::Type;

use crate::db::DbPool;

/// Rows per statement: bounds the size of one statement's array parameters.
const BATCH: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AnnotationWriteError {
    #[error("{0} is not an annotation source")]
    UnknownSource(String),
    #[error("annotation storage: {0}")]
    Storage(String),
}

fn storage(e: impl std::fmt::Display) -> AnnotationWriteError {
    AnnotationWriteError::Storage(e.to_string())
}

/// What writing one source's records changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnnotationWriteReport {
    pub source: String,
    pub records: usize,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Records of genes that are not in `genes` (skipped).
    pub unknown_genes: usize,
}

/// What replacing identifiers changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdentifierWriteReport {
    pub genes: usize,
    pub identifiers: usize,
    pub inserted: u64,
    pub removed: u64,
    /// Values longer than 100 characters or empty, left out.
    pub skipped_values: usize,
}

/// Writes annotations and identifiers through the pool (one connection per call).
#[derive(Clone)]
pub struct AnnotationWriter {
    pool: DbPool,
}

impl AnnotationWriter {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// `(hgnc_id, approved_symbol)` of every gene: sources that name genes by symbol join here.
    pub async fn known_genes(&self) -> Result<Vec<(String, String)>, AnnotationWriteError> {
        let client = self.pool.get().await.map_err(storage)?;
        let rows = client
            .query_typed(
                "SELECT hgnc_id, approved_symbol::text FROM genes ORDER BY id",
                &[],
            )
            .await
            .map_err(storage)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Upserts the records of one source in one transaction. Rows whose version, annotations and
    /// metadata are unchanged are not touched; inserted or changed rows get
    /// `next_update = now() + ttl_days`. When anything changed (or the source was never marked),
    /// the source's `last_update` / `next_update` in `annotation_sources` follow.
    pub async fn write(
        &self,
        source: &str,
        records: &[AnnotationRecord],
        ttl_days: i32,
    ) -> Result<AnnotationWriteReport, AnnotationWriteError> {
        if !is_annotation_source(source) {
            return Err(AnnotationWriteError::UnknownSource(source.to_string()));
        }
        if let Some(other) = records.iter().find(|r| r.source != source) {
            return Err(AnnotationWriteError::UnknownSource(format!(
                "{} (a record of {} in a {source} write)",
                other.source, other.hgnc_id
            )));
        }
        let mut report = AnnotationWriteReport {
            source: source.to_string(),
            records: records.len(),
            ..Default::default()
        };
        let mut client = self.pool.get().await.map_err(storage)?;
        let tx = client.transaction().await.map_err(storage)?;
        for batch in records.chunks(BATCH) {
            let hgnc_ids: Vec<&str> = batch.iter().map(|r| r.hgnc_id.as_str()).collect();
            let versions: Vec<&str> = batch.iter().map(|r| r.version.as_str()).collect();
            let data: Vec<&Value> = batch.iter().map(|r| &r.annotations).collect();
            let metadata: Vec<&Value> = batch.iter().map(|r| &r.metadata).collect();
            let known: i64 = tx
                .query_typed_one(
                    "SELECT count(*) FROM unnest($1::text[]) AS t(h) JOIN genes g ON g.hgnc_id = t.h",
                    &[(&hgnc_ids, Type::TEXT_ARRAY)],
                )
                .await
                .map_err(storage)?
                .get(0);
            report.unknown_genes += batch.len() - usize::try_from(known).unwrap_or(0);
            let written = tx
                .query_typed(
                    "INSERT INTO gene_annotations AS a
                         (gene_id, source, version, annotations, source_metadata, next_update)
                     SELECT g.id, $1, t.version, t.annotations, t.metadata,
                            now() + make_interval(days => $6)
                       FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[])
                            AS t(h, version, annotations, metadata)
                       JOIN genes g ON g.hgnc_id = t.h
                     ON CONFLICT (gene_id, source) DO UPDATE
                        SET version = EXCLUDED.version,
                            annotations = EXCLUDED.annotations,
                            source_metadata = EXCLUDED.source_metadata,
                            next_update = EXCLUDED.next_update,
                            updated_at = now()
                      WHERE (a.version, a.annotations, a.source_metadata)
                            IS DISTINCT FROM (EXCLUDED.version, EXCLUDED.annotations, EXCLUDED.source_metadata)
                     RETURNING (xmax = 0) AS inserted",
                    &[
                        (&source, Type::TEXT),
                        (&hgnc_ids, Type::TEXT_ARRAY),
                        (&versions, Type::TEXT_ARRAY),
                        (&data, Type::JSONB_ARRAY),
                        (&metadata, Type::JSONB_ARRAY),
                        (&ttl_days, Type::INT4),
                    ],
                )
                .await
                .map_err(storage)?;
            let inserted = written.iter().filter(|r| r.get::<_, bool>(0)).count() as u64;
            report.inserted += inserted;
            report.updated += written.len() as u64 - inserted;
        }
        let stored = (report.records - report.unknown_genes) as u64;
        report.unchanged = stored.saturating_sub(report.inserted + report.updated);
        let changed = report.inserted + report.updated > 0;
        tx.execute_typed(
            "UPDATE annotation_sources
                SET last_update = now(), next_update = now() + make_interval(days => $2), updated_at = now()
              WHERE source_name = $1 AND ($3 OR last_update IS NULL)",
            &[
                (&source, Type::TEXT),
                (&ttl_days, Type::INT4),
                (&changed, Type::BOOL),
            ],
        )
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(report)
    }

    /// Makes each listed gene's identifiers exactly the given set, in one transaction: missing
    /// ones are inserted, stored ones no longer listed are removed, the rest stay untouched.
    pub async fn write_identifiers(
        &self,
        genes: &[GeneIdentifiers],
    ) -> Result<IdentifierWriteReport, AnnotationWriteError> {
        let mut report = IdentifierWriteReport {
            genes: genes.len(),
            ..Default::default()
        };
        let mut client = self.pool.get().await.map_err(storage)?;
        let tx = client.transaction().await.map_err(storage)?;
        for batch in genes.chunks(BATCH) {
            let mut rows: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
            for gene in batch {
                for (kind, value) in &gene.ids {
                    let value = value.trim();
                    if value.is_empty() || value.chars().count() > 100 {
                        report.skipped_values += 1;
                        continue;
                    }
                    rows.insert((gene.hgnc_id.as_str(), kind.as_str(), value));
                }
            }
            report.identifiers += rows.len();
            let batch_genes: Vec<&str> = batch.iter().map(|g| g.hgnc_id.as_str()).collect();
            let hs: Vec<&str> = rows.iter().map(|r| r.0).collect();
            let kinds: Vec<&str> = rows.iter().map(|r| r.1).collect();
            let values: Vec<&str> = rows.iter().map(|r| r.2).collect();
            report.removed += tx
                .execute_typed(
                    "DELETE FROM gene_identifiers i USING genes g
                      WHERE g.id = i.gene_id AND g.hgnc_id = ANY ($1::text[])
                        AND NOT EXISTS (
                            SELECT 1 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(h, kind, value)
                             WHERE t.h = g.hgnc_id AND t.kind = i.kind AND t.value = i.value)",
                    &[
                        (&batch_genes, Type::TEXT_ARRAY),
                        (&hs, Type::TEXT_ARRAY),
                        (&kinds, Type::TEXT_ARRAY),
                        (&values, Type::TEXT_ARRAY),
                    ],
                )
                .await
                .map_err(storage)?;
            report.inserted += tx
                .execute_typed(
                    "INSERT INTO gene_identifiers (gene_id, kind, value)
                     SELECT g.id, t.kind, t.value
                       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(h, kind, value)
                       JOIN genes g ON g.hgnc_id = t.h
                     ON CONFLICT DO NOTHING",
                    &[
                        (&hs, Type::TEXT_ARRAY),
                        (&kinds, Type::TEXT_ARRAY),
                        (&values, Type::TEXT_ARRAY),
                    ],
                )
                .await
                .map_err(storage)?;
        }
        tx.commit().await.map_err(storage)?;
        Ok(report)
    }
}
