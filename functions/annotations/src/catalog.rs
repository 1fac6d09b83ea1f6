//! The annotation source catalog (`annotation_sources`, ten rows) and the annotation
//! statistics (the `annotation_source_stats` / `annotation_totals` views, refreshed with the
//! others), in the original's shapes.

use chrono::{DateTime, Utc};
use kgdb_web::AppState;
use kgdb_web::http::{self, BodyResult};
use serde_json::{Value, json};
use tokio_postgres::types::Type;

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(http::iso_utc(t)))
}

/// `GET /api/annotations/sources[?active_only=]`: a bare list, by priority (highest first),
/// then name.
pub async fn sources(state: &AppState, active_only: bool) -> BodyResult {
    let client = state.pool.get().await?;
    let rows = client
        .query_typed(
            "SELECT source_name, display_name, version, description, url, base_url, is_active,
                    priority, update_frequency, last_update, next_update, created_at, updated_at
               FROM annotation_sources
              WHERE is_active OR NOT $1
              ORDER BY priority DESC, source_name",
            &[(&active_only, Type::BOOL)],
        )
        .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "source_name": r.get::<_, String>(0),
                "display_name": r.get::<_, String>(1),
                "version": r.get::<_, String>(2),
                "description": r.get::<_, Option<String>>(3),
                "url": r.get::<_, Option<String>>(4),
                "base_url": r.get::<_, Option<String>>(5),
                "is_active": r.get::<_, bool>(6),
                "priority": r.get::<_, i32>(7),
                "update_frequency": r.get::<_, Option<String>>(8),
                "last_update": time(r.get(9)),
                "next_update": time(r.get(10)),
                "created_at": time(r.get(11)),
                "updated_at": time(r.get(12)),
            })
        })
        .collect();
    http::json_body(&list)
}

/// `GET /api/annotations/statistics`.
pub async fn statistics(state: &AppState) -> BodyResult {
    let client = state.pool.get().await?;
    let totals = client
        .query_typed_opt(
            "SELECT total_genes_with_annotations, genes_with_both_sources FROM annotation_totals",
            &[],
        )
        .await?;
    let (total, both) = totals.map_or((0, 0), |r| (r.get::<_, i64>(0), r.get::<_, i64>(1)));
    let rows = client
        .query_typed(
            "SELECT source, gene_count, annotation_count, last_update
               FROM annotation_source_stats ORDER BY source",
            &[],
        )
        .await?;
    let sources: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "source": r.get::<_, String>(0),
                "gene_count": r.get::<_, i64>(1),
                "annotation_count": r.get::<_, i64>(2),
                "last_update": time(r.get(3)),
            })
        })
        .collect();
    http::json_body(&json!({
        "total_genes_with_annotations": total,
        "genes_with_both_sources": both,
        "sources": sources,
        "materialized_view": {
            "name": "annotation_source_stats",
            "description": "Per-source annotation counts, refreshed with the other read models after every write",
        },
    }))
}
