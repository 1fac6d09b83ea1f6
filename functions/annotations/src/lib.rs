//! Annotations function (`docs/api.md`, `docs/annotations.md`): the read routes of the
//! original's annotation API over `gene_annotations` and its small read models.
//!
//! - `GET /api/annotations/genes/{gene_id}/annotations[?source=]` (gene.rs)
//! - `GET /api/annotations/genes/{gene_id}/annotations/summary` (gene.rs)
//! - `GET /api/annotations/sources[?active_only=]`, `GET /api/annotations/statistics` (catalog.rs)
//! - `POST /api/annotations/batch` (batch.rs): read-only, ≤ 100 gene ids in a JSON array.
//! - `GET /api/annotations/pipeline/status` (pipeline.rs): due sources and the latest run.

pub mod batch;
pub mod catalog;
pub mod gene;
pub mod pipeline;

use kgdb_web::cache::Namespace;
use kgdb_web::http::{self, Query, route_of};
use kgdb_web::jsonapi::{clip, parse_bool};
use kgdb_web::{ApiError, AppState};
use lambda_http::{Body, Request, Response};

/// Entry point for every route of this function.
pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let route = route_of(&req);
    let result = if route == "/api/annotations/batch" {
        batch::handle(state, &req).await
    } else {
        match http::require_get(&req) {
            Err(e) => Err(e),
            Ok(()) => get(state, &req, &route).await,
        }
    };
    http::finish(&req, result)
}

async fn get(state: &AppState, req: &Request, route: &str) -> http::HandlerResult {
    let ns = Namespace::Annotations;
    match route {
        "/api/annotations/genes/{gene_id}/annotations" => {
            let gene = gene::GeneKey::from_request(req)?;
            let source = source_param(req)?;
            let key = format!("gene|{}|{}", gene.cache_key(), source.unwrap_or("all"));
            let render = || gene::annotations(state, &gene, source);
            http::cached(&state.cache, req, ns, &key, render).await
        }
        "/api/annotations/genes/{gene_id}/annotations/summary" => {
            let gene = gene::GeneKey::from_request(req)?;
            let key = format!("summary|{}", gene.cache_key());
            let render = || gene::summary(state, &gene);
            http::cached(&state.cache, req, ns, &key, render).await
        }
        "/api/annotations/sources" => {
            let active_only = match Query::of(req).last("active_only") {
                Some(raw) => parse_bool(raw, "active_only")?,
                None => true,
            };
            let key = format!("sources|{active_only}");
            let render = || catalog::sources(state, active_only);
            http::cached(&state.cache, req, ns, &key, render).await
        }
        "/api/annotations/statistics" => {
            let render = || catalog::statistics(state);
            http::cached(&state.cache, req, ns, "statistics", render).await
        }
        "/api/annotations/pipeline/status" => pipeline::status(state).await,
        other => Err(ApiError::not_found(format!("no route {other}"))),
    }
}

/// `?source=`: one annotation source by its name (`hgnc`, `gnomad`, ...); a name outside the
/// catalog is a 422, as the other vocabularies of the API.
fn source_param(req: &Request) -> Result<Option<&'static str>, ApiError> {
    // Exact values only (the document's enum): whitespace is not "no filter".
    match Query::of(req).last("source") {
        None | Some("") => Ok(None),
        Some(raw) => known_source(raw).map(Some),
    }
}

/// The catalog's spelling of an annotation source name (exact, lower case as the original).
pub fn known_source(raw: &str) -> Result<&'static str, ApiError> {
    kgdb_core::annotation::ANNOTATION_SOURCES
        .iter()
        .copied()
        .find(|s| *s == raw)
        .ok_or_else(|| {
            ApiError::unprocessable(format!(
                "unknown annotation source {:?}; one of {}",
                clip(raw),
                kgdb_core::annotation::ANNOTATION_SOURCES.join(", ")
            ))
        })
}
