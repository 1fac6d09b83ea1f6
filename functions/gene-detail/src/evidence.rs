//! `GET /api/genes/{gene_symbol}/evidence`: the raw evidence rows with their normalized score
//! (read from the `gene_source_scores` materialized view, never recomputed per request).

use kgdb_web::http::{self, BodyResult};
use kgdb_web::{ApiError, AppState};
use serde_json::{Value, json};
use tokio_postgres::types::Type;

pub async fn handle(state: &AppState, symbol: &str) -> BodyResult {
    let client = state.pool.get().await?;
    // One round trip: the gene, then its evidence rows (none -> one row with NULL evidence).
    let rows = client
        .query_typed(
            "WITH gene AS (
                 SELECT id, approved_symbol FROM gene_list WHERE symbol_upper = upper($1) ORDER BY id LIMIT 1)
             SELECT gene.id, gene.approved_symbol, e.id, e.source_name, e.source_detail, e.evidence_data,
                    e.evidence_date, e.created_at, COALESCE(s.source_score, 0.0)
               FROM gene
               LEFT JOIN gene_evidence e ON e.gene_id = gene.id
               LEFT JOIN gene_source_scores s ON s.gene_id = e.gene_id AND s.source_name = e.source_name
              ORDER BY e.source_name",
            &[(&symbol, Type::TEXT)],
        )
        .await?;
    let first = rows
        .first()
        .ok_or_else(|| ApiError::not_found(format!("Gene '{symbol}' not found")))?;
    let gene_id: i64 = first.get(0);
    let gene_symbol: String = first.get(1);
    let data: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let evidence_id: Option<i64> = row.get(2);
            Some(json!({
                "type": "evidence",
                "id": evidence_id?.to_string(),
                "attributes": {
                    "source_name": row.get::<_, String>(3),
                    "source_detail": row.get::<_, Option<String>>(4),
                    "evidence_data": row.get::<_, Value>(5),
                    "evidence_date": row.get::<_, Option<chrono::NaiveDate>>(6),
                    "created_at": http::iso_utc(row.get(7)),
                    "normalized_score": row.get::<_, f64>(8),
                },
                "relationships": {"gene": {"data": {"type": "genes", "id": gene_id.to_string()}}}
            }))
        })
        .collect();
    http::json_body(&json!({
        "data": data,
        "meta": {"gene_symbol": gene_symbol, "gene_id": gene_id, "evidence_count": data.len()}
    }))
}
