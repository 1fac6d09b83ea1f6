//! System function: `GET /health` (database reachable?), `GET /version`, and the API's own
//! description: `/` (service, version, where the docs are, as the original), the OpenAPI 3.1
//! document at `/api/openapi.json` (and `/openapi.json`, the original's path) and `/docs`, a
//! page that renders it.

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
            "/" => Ok(root()),
            "/api/openapi.json" | "/openapi.json" => Ok(openapi_document()),
            "/docs" => Ok(docs_page()),
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

/// The OpenAPI document, checked against the template's routes and the handlers' answers by
/// the test suite (`tests/integration/openapi.rs`), and fuzzed by `infra/fuzz.sh`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Self-contained (inline script and style, no CDN), so it works offline and under a strict CSP.
pub const DOCS_HTML: &str = include_str!("../docs.html");

/// Static answers change only with a deployment: a day in shared caches is safe.
const STATIC_CACHE_CONTROL: &str = "public, max-age=86400";

/// The original's `service` value at `/`, kept for clients that show it.
const ROOT_SERVICE_NAME: &str = "Kidney Genetics Database API";

fn root() -> Response<Body> {
    http::json(&json!({
        "service": ROOT_SERVICE_NAME,
        "version": VERSION,
        "documentation": "/docs",
    }))
}

fn openapi_document() -> Response<Body> {
    let mut response = http::json_body_response(StatusCode::OK, OPENAPI_JSON.to_string());
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(STATIC_CACHE_CONTROL),
    );
    response
}

fn docs_page() -> Response<Body> {
    let mut response = http::json_body_response(StatusCode::OK, DOCS_HTML.to_string());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The page only runs its own inline script and fetches the document from this origin; it
    // writes every text of the document through textContent, never as HTML.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(STATIC_CACHE_CONTROL),
    );
    response
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
