//! `POST /api/annotations/pipeline/update?strategy=&sources=&gene_ids=`: plans an annotation
//! run and sends its first phase to the queue (202). The original's parameters: `strategy`
//! (incremental, full, forced, selective; plus missing), `sources` and `gene_ids` (repeated or
//! comma-separated). Everything is checked before anything is written.

use kgdb_pipeline::{RunError, RunRequest, RunStore};
use kgdb_web::http::{self, HandlerResult, Query};
use kgdb_web::{ApiError, AppState};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde_json::json;

pub async fn start_run(state: &AppState, req: &Request) -> HandlerResult {
    let query = Query::of(req);
    let request = RunRequest::from_query(
        query.last("strategy"),
        &query.all("sources"),
        &query.all("gene_ids"),
        "admin",
    )
    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let Some(jobs) = state.jobs.as_ref() else {
        return Err(ApiError::unavailable(
            "the annotation queue is not configured (KGDB_ANNOTATION_QUEUE_URL)",
        ));
    };
    let runs = RunStore::new(state.pool.clone());
    match runs.start(&request, jobs.as_ref()).await {
        Ok(run) => {
            tracing::warn!(
                run_id = run.run_id,
                strategy = run.strategy,
                "annotation run started by an admin"
            );
            Ok(http::json_status(
                StatusCode::ACCEPTED,
                &json!({
                    "data": run,
                    "meta": {
                        "queue": jobs.kind(),
                        "status_url": "/api/annotations/pipeline/status",
                    }
                }),
            ))
        }
        Err(e @ RunError::AlreadyRunning { .. }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            e.to_string(),
        )),
        Err(e @ RunError::InactiveSource(_)) => Err(ApiError::unprocessable(e.to_string())),
        // As everywhere in the API, an unknown gene is a 404.
        Err(e @ RunError::UnknownGenes(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e) => {
            tracing::error!(error = %e, "annotation run could not start");
            Err(ApiError::unavailable(
                "annotation runs are unavailable; retry later",
            ))
        }
    }
}
