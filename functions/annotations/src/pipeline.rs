//! `GET /api/annotations/pipeline/status`: per source whether an update is due (the original's
//! shape, with `annotation_count`), whether a run can start now, and (kgdb) the latest run with
//! its chunks, so a curator sees a run progress without reading logs.
//!
//! Not in the function's L1/L2 cache: a run moves without a data-version bump until it
//! completes. The stage caches it for 10 s (template).

use chrono::{DateTime, Utc};
use kgdb_web::AppState;
use kgdb_web::http::{self, HandlerResult};
use lambda_http::http::{HeaderValue, header};
use serde_json::{Value, json};

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(http::iso_utc(t)))
}

pub async fn status(state: &AppState) -> HandlerResult {
    let client = state.pool.get().await?;
    let (sources, run) = futures::try_join!(
        client.query_typed(
            "SELECT s.source_name, s.display_name, s.is_active, s.last_update, s.next_update,
                    (s.next_update IS NULL OR s.next_update <= now()) AS due,
                    s.update_frequency, COALESCE(st.annotation_count, 0)
               FROM annotation_sources s
               LEFT JOIN annotation_source_stats st ON st.source = s.source_name
              ORDER BY s.priority DESC, s.source_name",
            &[],
        ),
        client.query_typed_opt(
            "SELECT r.id, r.status, r.strategy, r.sources, r.trigger, r.phase, r.chunks_planned,
                    r.genes_planned, r.data_version, r.error, r.created_at, r.completed_at,
                    c.pending, c.queued, c.done, c.failed, c.records, c.not_found, c.gene_failures
               FROM (SELECT * FROM annotation_runs ORDER BY id DESC LIMIT 1) r
               -- Only the latest run's chunks are counted (annotation_run_chunks' key).
               CROSS JOIN LATERAL (
                    SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
                           count(*) FILTER (WHERE status = 'queued') AS queued,
                           count(*) FILTER (WHERE status = 'done') AS done,
                           count(*) FILTER (WHERE status = 'failed') AS failed,
                           COALESCE(sum(records), 0)::bigint AS records,
                           COALESCE(sum(not_found), 0)::bigint AS not_found,
                           COALESCE(sum(gene_failures), 0)::bigint AS gene_failures
                      FROM annotation_run_chunks WHERE run_id = r.id) c",
            &[],
        ),
    )?;
    let mut updates_due = Vec::new();
    let sources: Vec<Value> = sources
        .iter()
        .map(|r| {
            let name: String = r.get(0);
            let active: bool = r.get(2);
            let due: bool = r.get(5);
            if active && due {
                updates_due.push(name.clone());
            }
            json!({
                "source": name,
                "display_name": r.get::<_, String>(1),
                "is_active": active,
                "last_update": time(r.get(3)),
                "next_update": time(r.get(4)),
                "update_due": due,
                "update_frequency": r.get::<_, Option<String>>(6),
                "annotation_count": r.get::<_, i64>(7),
            })
        })
        .collect();
    let in_flight = run
        .as_ref()
        .is_some_and(|r| matches!(r.get::<_, &str>(1), "running" | "completing"));
    let latest_run = run.map(|r| {
        json!({
            "id": r.get::<_, i64>(0),
            "status": r.get::<_, String>(1),
            "strategy": r.get::<_, String>(2),
            "sources": r.get::<_, Vec<String>>(3),
            "trigger": r.get::<_, String>(4),
            "phase": r.get::<_, i16>(5),
            "chunks": {
                "planned": r.get::<_, i32>(6),
                "pending": r.get::<_, i64>(12),
                "queued": r.get::<_, i64>(13),
                "done": r.get::<_, i64>(14),
                "failed": r.get::<_, i64>(15),
            },
            "genes_planned": r.get::<_, i32>(7),
            "records": r.get::<_, i64>(16),
            "genes_not_found": r.get::<_, i64>(17),
            "gene_failures": r.get::<_, i64>(18),
            "data_version": r.get::<_, Option<i64>>(8),
            "error": r.get::<_, Option<String>>(9),
            "created_at": time(r.get(10)),
            "completed_at": time(r.get(11)),
        })
    });
    let mut response = http::json(&json!({
        "sources": sources,
        // A run can start now (none in flight: runs never overlap).
        "pipeline_ready": !in_flight,
        "updates_due": updates_due,
        "latest_run": latest_run,
    }));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=10"),
    );
    response
        .headers_mut()
        .insert("x-cache", HeaderValue::from_static("bypass"));
    Ok(response)
}
