//! Admin function: `GET /api/admin/cache/stats`, `POST /api/admin/cache/flush`, and
//! `POST /api/annotations/pipeline/update` (start an annotation run; the original's path).
//!
//! Never public. Deployed, API Gateway admits only IAM-signed requests (`AWS_IAM` in the
//! template), which arrive with the caller in the request context. Locally there is no IAM,
//! so a bearer token from `KGDB_ADMIN_TOKEN` (`Config::admin_token`, compared in constant time)
//! is required; with neither, every call is refused. The token is never logged.

pub mod pipeline;

use kgdb_web::http::{self, HandlerResult, route_of};
use kgdb_web::{ApiError, AppState};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match authorize(state, &req) {
        Err(e) => Err(e),
        Ok(()) => match (req.method().clone(), route_of(&req).as_str()) {
            (Method::GET | Method::HEAD, "/api/admin/cache/stats") => stats(state).await,
            (Method::POST, "/api/admin/cache/flush") => flush(state).await,
            (Method::POST, "/api/annotations/pipeline/update") => {
                pipeline::start_run(state, &req).await
            }
            (_, "/api/admin/cache/stats") => Err(ApiError::method_not_allowed("GET, HEAD")),
            (_, "/api/annotations/pipeline/update") => Err(ApiError::method_not_allowed("POST")),
            (_, "/api/admin/cache/flush") => Err(ApiError::method_not_allowed("POST")),
            (_, other) => Err(ApiError::not_found(format!("no route {other}"))),
        },
    };
    let mut response = http::finish(&req, result);
    // Not for browsers: admin callers are IAM-signed (deployed) or hold a local token.
    http::remove_cors_headers(response.headers_mut());
    // Per-caller answers must never land in a shared cache.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// IAM caller in the request context (set by API Gateway after SigV4 verification).
fn iam_caller(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx
            .identity
            .user_arn
            .clone()
            .or_else(|| ctx.identity.caller.clone()),
        _ => None,
    }
}

fn authorize(state: &AppState, req: &Request) -> Result<(), ApiError> {
    if let Some(caller) = iam_caller(req) {
        tracing::info!(caller = %caller, "admin call");
        return Ok(());
    }
    let Some(expected) = state.config.admin_token.as_ref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "admin routes need IAM auth (deployed) or KGDB_ADMIN_TOKEN of at least 16 characters (local)",
        ));
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(token) if expected.matches(token) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "invalid admin token",
        )),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authorization: Bearer <token> required",
        )),
    }
}

async fn stats(state: &AppState) -> HandlerResult {
    let stats = state.cache.stats().await;
    Ok(http::json(&json!({
        "data": stats,
        "meta": {
            "scope": "this process: on Lambda one container of the admin function; locally every function",
        }
    })))
}

async fn flush(state: &AppState) -> HandlerResult {
    let version = state.cache.flush().await?;
    tracing::warn!(data_version = version, "cache flushed by an admin");
    Ok(http::json(&json!({
        "data": {"data_version": version, "flushed": true},
        "meta": {"note": "every container picks up the new version within its version check interval"}
    })))
}
