//! Gene detail function: `GET /api/genes/{gene_symbol}` (score breakdown) and
//! `GET /api/genes/{gene_symbol}/evidence` (raw evidence per source).

pub mod detail;
pub mod evidence;

use kgdb_web::cache::Namespace;
use kgdb_web::http::{self, path_param, route_of};
use kgdb_web::{ApiError, AppState};
use lambda_http::{Body, Request, Response};

/// Entry point for every route of this function.
pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match http::require_get(&req) {
        Err(e) => Err(e),
        Ok(()) => match (route_of(&req).as_str(), symbol_param(&req)) {
            (_, Err(e)) => Err(e),
            // Lookups ignore case and the answers carry the approved symbol, not the input, so
            // PKD1 and pkd1 share one cache entry.
            ("/api/genes/{gene_symbol}", Ok(symbol)) => {
                let key = symbol.to_ascii_uppercase();
                let render = || detail::handle(state, &symbol);
                http::cached(&state.cache, &req, Namespace::GeneDetail, &key, render).await
            }
            ("/api/genes/{gene_symbol}/evidence", Ok(symbol)) => {
                let key = symbol.to_ascii_uppercase();
                let render = || evidence::handle(state, &symbol);
                http::cached(&state.cache, &req, Namespace::GeneEvidence, &key, render).await
            }
            (other, _) => Err(ApiError::not_found(format!("no route {other}"))),
        },
    };
    http::finish(&req, result)
}

/// Longest accepted symbol; HGNC symbols are far shorter.
const MAX_SYMBOL_LEN: usize = 64;

/// The `{gene_symbol}` path parameter, checked before it reaches SQL: HGNC symbols are ASCII
/// letters, digits and `-._@` (a non-UTF-8 path arrives here as U+FFFD and is refused).
pub fn symbol_param(req: &Request) -> Result<String, ApiError> {
    let raw = path_param(req, "gene_symbol").unwrap_or("").trim();
    let valid = !raw.is_empty()
        && raw.len() <= MAX_SYMBOL_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'@'));
    if !valid {
        return Err(ApiError::bad_request(
            "gene_symbol must be 1-64 characters of letters, digits and -._@",
        ));
    }
    Ok(raw.to_string())
}
