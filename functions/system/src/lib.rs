//! System function: `GET /health` (database reachable?) and `GET /version`.

use kgdb_web::http::{self, HandlerResult, route_of};
use kgdb_web::{ApiError, AppState, SERVICE_NAME, VERSION};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// Entry point for every route of this function.
pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match http::require_get(&req) {
        Err(e) => Err(e),
        Ok(()) => match route_of(&req).as_str() {
            "/health" => Ok(health(state).await),
            "/version" => version(state).await,
            other => Err(ApiError::not_found(format!("no route {other}"))),
        },
    };
    http::finish(&req, result)
}

/// 200 when the database answers, 503 (with `Retry-After`) when it does not.
async fn health(state: &AppState) -> Response<Body> {
    let database = match state.pool.get().await {
        Ok(client) => match client.query_typed("SELECT 1", &[]).await {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    match database {
        Ok(()) => http::json(&json!({
            "status": "healthy",
            "service": SERVICE_NAME,
            "version": VERSION,
            "database": "healthy",
        })),
        Err(message) => {
            tracing::warn!(error = %message, "health check: database unreachable");
            let mut response = http::json_status(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({
                    "status": "unhealthy",
                    "service": SERVICE_NAME,
                    "version": VERSION,
                    "database": "error: database unreachable",
                }),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(ApiError::RETRY_AFTER_SECS),
            );
            response
        }
    }
}

async fn version(state: &AppState) -> HandlerResult {
    let client = state.pool.get().await?;
    let row = client
        .query_typed_one(
            "SELECT m.version, m.name, m.applied_at, d.version, d.updated_at
               FROM schema_migrations m CROSS JOIN data_version d
              ORDER BY m.version DESC LIMIT 1",
            &[],
        )
        .await?;
    let schema_version: i32 = row.get(0);
    let applied_at: chrono::DateTime<chrono::Utc> = row.get(2);
    let data_version: i64 = row.get(3);
    let data_updated_at: chrono::DateTime<chrono::Utc> = row.get(4);
    Ok(http::json(&json!({
        "backend": {"version": VERSION, "name": SERVICE_NAME, "type": "Rust/AWS Lambda"},
        "database": {
            "version": schema_version.to_string(),
            "migration": row.get::<_, String>(1),
            "description": "schema migrations applied by kgdb migrate",
            "applied_at": applied_at,
            "data_version": data_version,
            "data_updated_at": data_updated_at,
        },
        "environment": state.config.environment,
        "timestamp": chrono::Utc::now(),
    })))
}
