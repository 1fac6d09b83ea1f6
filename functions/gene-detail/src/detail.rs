//! `GET /api/genes/{gene_symbol}`: one row of the `gene_list` materialized view.

use kgdb::http::{self, HandlerResult};
use kgdb::{ApiError, AppState};
use serde_json::{Map, Value, json};
use tokio_postgres::types::Type;

pub async fn handle(state: &AppState, symbol: &str) -> HandlerResult {
    let client = state.pool.get().await?;
    let row = client
        .query_typed_opt(
            "SELECT id, hgnc_id, approved_symbol, aliases, created_at, updated_at, sources,
                    percentage_score, evidence_tier, evidence_group, source_scores
               FROM gene_list WHERE symbol_upper = upper($1) ORDER BY id LIMIT 1",
            &[(&symbol, Type::TEXT)],
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Gene '{symbol}' not found")))?;
    let id: i64 = row.get(0);
    let sources: Vec<String> = row.get(6);
    let score: Option<f64> = row.get(7);
    let source_scores: Option<Value> = row.get(10);
    let source_scores = source_scores.unwrap_or_else(|| Value::Object(Map::new()));
    // Same numbers as source_scores (per-source score rounded to 4), as floats.
    let breakdown: Map<String, Value> = source_scores
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), json!(v.as_f64().unwrap_or(0.0))))
                .collect()
        })
        .unwrap_or_default();
    Ok(http::json(&json!({
        "data": {
            "type": "genes",
            "id": id.to_string(),
            "attributes": {
                "hgnc_id": row.get::<_, String>(1),
                "approved_symbol": row.get::<_, String>(2),
                "aliases": row.get::<_, Vec<String>>(3),
                "created_at": http::iso_utc(row.get(4)),
                "updated_at": http::iso_utc(row.get(5)),
                "evidence_count": sources.len(),
                "evidence_score": score.filter(|s| *s > 0.0),
                "evidence_tier": row.get::<_, Option<String>>(8),
                "evidence_group": row.get::<_, Option<String>>(9),
                "sources": sources,
                "score_breakdown": breakdown,
                "source_scores": source_scores,
            }
        }
    })))
}
