//! Gene normalization in Postgres (`kgdb_core::genes::GeneResolver`): a reported symbol becomes
//! one of our genes by, in order, its HGNC id, our approved symbols, an approved curator mapping,
//! the NCBI id, previous and alias symbols of `gene_identifiers` (HGNC/Ensembl data), and
//! finally an optional online lookup (HGNC REST, `HgncLookup`). What stays unresolved is
//! recorded in `gene_normalization_staging` with its source, raw text and run, never dropped.
//! Answers are memoized per resolver: a run reports the same symbols many times.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
pub use kgdb_core::genes::HgncLookup;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution, ResolvedGene, clean_symbol};
use tokio_postgres::types::Type;

use crate::db::DbPool;

/// (upper-case reported text, NCBI id, HGNC id): what a resolution depends on.
type ReportKey = (String, Option<String>, Option<String>);

pub struct PgGeneResolver {
    pool: DbPool,
    online: Option<Arc<dyn HgncLookup>>,
    /// The run these symbols come from (`annotation_runs` / ingest trigger), for the staging rows.
    run: String,
    memo: Mutex<HashMap<ReportKey, Resolution>>,
}

impl PgGeneResolver {
    pub fn new(pool: DbPool, run: impl Into<String>) -> Self {
        Self {
            pool,
            online: None,
            run: run.into(),
            memo: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_online(mut self, lookup: Arc<dyn HgncLookup>) -> Self {
        self.online = Some(lookup);
        self
    }

    async fn resolve_uncached(&self, reported: &ReportedGene<'_>) -> Result<Resolution, String> {
        let client = self.pool.get().await.map_err(|e| e.to_string())?;
        let gene = |row: &tokio_postgres::Row| ResolvedGene {
            hgnc_id: row.get(0),
            approved_symbol: row.get(1),
        };
        if let Some(hgnc_id) = reported.hgnc_id.map(str::trim).filter(|h| !h.is_empty()) {
            let hgnc_id = if hgnc_id.starts_with("HGNC:") {
                hgnc_id.to_string()
            } else {
                format!("HGNC:{hgnc_id}")
            };
            if let Some(row) = client
                .query_typed_opt(
                    "SELECT hgnc_id::text, approved_symbol::text FROM genes
                      WHERE hgnc_id = $1 AND valid_to = 'infinity'",
                    &[(&hgnc_id, Type::TEXT)],
                )
                .await
                .map_err(|e| e.to_string())?
            {
                return Ok(Resolution::Resolved(gene(&row)));
            }
        }
        let symbol = match clean_symbol(reported.symbol) {
            Ok(s) => s,
            Err(reason) => return self.stage(&client, reported, None, &reason).await,
        };
        // Unique matches only: a symbol two genes claim (an old symbol reused) is for a curator.
        let candidates = client
            .query_typed(
                "WITH hits AS (
                     SELECT 1 AS rank, g.id FROM genes g
                      WHERE upper(g.approved_symbol) = $1 AND g.valid_to = 'infinity'
                     UNION ALL
                     SELECT 2, s.gene_id FROM gene_normalization_staging s
                      WHERE s.status = 'approved' AND upper(s.raw_symbol) = upper($3)
                        AND s.gene_id IS NOT NULL
                     UNION ALL
                     SELECT 3, i.gene_id FROM gene_identifiers i
                      WHERE i.kind = 'ncbi_gene_id' AND $2::text IS NOT NULL AND upper(i.value) = $2
                     UNION ALL
                     SELECT 4, i.gene_id FROM gene_identifiers i
                      WHERE i.kind = 'prev_symbol' AND upper(i.value) = $1
                     UNION ALL
                     SELECT 5, i.gene_id FROM gene_identifiers i
                      WHERE i.kind = 'alias_symbol' AND upper(i.value) = $1
                 ),
                 best AS (SELECT min(rank) AS rank FROM hits)
                 SELECT DISTINCT g.hgnc_id::text, g.approved_symbol::text
                   FROM hits h JOIN best b ON h.rank = b.rank
                   JOIN genes g ON g.id = h.id AND g.valid_to = 'infinity'
                  LIMIT 3",
                &[
                    (&symbol, Type::TEXT),
                    (&reported.ncbi_gene_id.map(str::trim), Type::TEXT),
                    (&reported.symbol.trim(), Type::TEXT),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        match candidates.len() {
            1 => return Ok(Resolution::Resolved(gene(&candidates[0]))),
            0 => {}
            n => {
                let reason = format!("{symbol} matches {n} genes");
                return self.stage(&client, reported, Some(&symbol), &reason).await;
            }
        }
        if let Some(online) = &self.online
            && let Some(found) = online.lookup(&symbol).await
        {
            return Ok(Resolution::Resolved(found));
        }
        let reason = format!("{symbol} is not an approved, previous or alias symbol of any gene");
        self.stage(&client, reported, Some(&symbol), &reason).await
    }

    /// Records an unresolved symbol (one pending row per source and text; sightings counted).
    async fn stage(
        &self,
        client: &tokio_postgres::Client,
        reported: &ReportedGene<'_>,
        symbol: Option<&str>,
        reason: &str,
    ) -> Result<Resolution, String> {
        let raw: String = reported.symbol.trim().chars().take(200).collect();
        let raw = if raw.is_empty() {
            "(empty)".to_string()
        } else {
            raw
        };
        client
            .execute_typed(
                "INSERT INTO gene_normalization_staging
                     (source, raw_symbol, symbol, ncbi_gene_id, reported_hgnc_id, reason, last_run)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (source, upper(raw_symbol)) WHERE status = 'pending'
                 DO UPDATE SET occurrences = gene_normalization_staging.occurrences + 1,
                               reason = EXCLUDED.reason, last_run = EXCLUDED.last_run,
                               updated_at = now()",
                &[
                    (&reported.source.as_str(), Type::TEXT),
                    (&raw, Type::TEXT),
                    (&symbol, Type::TEXT),
                    (&reported.ncbi_gene_id, Type::TEXT),
                    (&reported.hgnc_id, Type::TEXT),
                    (&reason, Type::TEXT),
                    (&self.run, Type::TEXT),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(Resolution::Unresolved {
            reason: reason.to_string(),
        })
    }
}

impl GeneResolver for PgGeneResolver {
    fn resolve<'a>(&'a self, reported: ReportedGene<'a>) -> BoxFuture<'a, Resolution> {
        Box::pin(async move {
            let key = (
                reported.symbol.trim().to_uppercase(),
                reported.ncbi_gene_id.map(str::to_string),
                reported.hgnc_id.map(str::to_string),
            );
            if let Some(known) = self
                .memo
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&key)
            {
                return known.clone();
            }
            let resolution = match self.resolve_uncached(&reported).await {
                Ok(r) => r,
                // The database is unreachable: not the symbol's fault, so not staged or memoized.
                Err(e) => {
                    return Resolution::Unresolved {
                        reason: format!("gene lookup failed: {e}"),
                    };
                }
            };
            self.memo
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key, resolution.clone());
            resolution
        })
    }
}
