//! Genes function: `GET /api/genes` (and `/api/genes/`) and `GET /api/genes/resolve`.

pub mod list;
pub mod resolve;

use kgdb_web::http::{self, route_of};
use kgdb_web::{ApiError, AppState};
use lambda_http::{Body, Request, Response};

/// Entry point for every route of this function.
pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match http::require_get(&req) {
        Err(e) => Err(e),
        Ok(()) => match route_of(&req).as_str() {
            "/api/genes" | "/api/genes/" => list::handle(state, &req).await,
            "/api/genes/resolve" => resolve::handle(state, &req).await,
            other => Err(ApiError::not_found(format!("no route {other}"))),
        },
    };
    http::finish(&req, result)
}
