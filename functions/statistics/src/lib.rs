//! Statistics function: the dashboard's `GET /api/statistics/{source-overlaps,
//! source-distributions, evidence-composition, summary}` (docs/api.md).
//!
//! Nothing is aggregated over evidence per request: every number is a sum over a few hundred
//! rows of the materialized views of migration 0003, selected by tier bucket. The reads of a
//! route are pipelined on one connection.

pub mod composition;
pub mod distributions;
pub mod overlaps;
pub mod params;
pub mod read;

use std::time::Instant;

use kgdb_web::cache::Namespace;
use kgdb_web::http::{self, BodyResult, Query, route_of};
use kgdb_web::{ApiError, AppState};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use params::Filters;

/// Entry point for every route of this function.
pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match http::require_get(&req) {
        Err(e) => Err(e),
        Ok(()) => {
            let route = route_of(&req);
            let route = route.trim_end_matches('/');
            match cache_material(route, &req) {
                Err(e) => Err(e),
                Ok(material) => {
                    let render = || dispatch(state, &req, route);
                    http::cached(&state.cache, &req, Namespace::Statistics, &material, render).await
                }
            }
        }
    };
    http::finish(&req, result)
}

async fn dispatch(state: &AppState, req: &Request, route: &str) -> BodyResult {
    match route {
        "/api/statistics/source-overlaps" => source_overlaps(state, req).await,
        "/api/statistics/source-distributions" => source_distributions(state, req).await,
        "/api/statistics/evidence-composition" => evidence_composition(state, req).await,
        "/api/statistics/summary" => summary(state, req).await,
        _ => Err(ApiError::not_found(format!("no route {route}"))),
    }
}

/// Cache key material: the route and its parsed parameters, with set-like lists sorted so
/// their order does not split entries. Invalid input fails here, before any cache lookup.
fn cache_material(route: &str, req: &Request) -> Result<String, ApiError> {
    let query = Query::of(req);
    let mut filters = Filters::parse(&query)?;
    if let Some(tiers) = filters.tiers.as_mut() {
        tiers.sort_unstable();
    }
    if route != "/api/statistics/source-overlaps" {
        return Ok(format!("{route}|{filters:?}"));
    }
    let mut sources = params::parse_sources(&query.all("sources"))?;
    sources.sort();
    let detail = params::parse_detail(query.last("detail"))?;
    Ok(format!("{route}|{filters:?}|{sources:?}|{detail}"))
}

/// `{data, meta}` with the meta fields every statistics route reports. `data_version` is the
/// database's data version (the original put today's date here, which said nothing about
/// the data).
fn envelope(
    data: impl Serialize,
    description: &str,
    visualization_type: &str,
    started: Instant,
    data_version: String,
    extra: Map<String, Value>,
) -> BodyResult {
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let mut meta = Map::new();
    meta.insert(
        "timestamp".into(),
        json!(
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string()
        ),
    );
    meta.insert("description".into(), json!(description));
    meta.insert(
        "query_duration_ms".into(),
        json!((millis * 100.0).round() / 100.0),
    );
    meta.insert("data_version".into(), json!(data_version));
    meta.insert("visualization_type".into(), json!(visualization_type));
    meta.extend(extra);
    http::json_body(&json!({"data": data, "meta": meta}))
}

async fn source_overlaps(state: &AppState, req: &Request) -> BodyResult {
    let started = Instant::now();
    let query = Query::of(req);
    let filters = Filters::parse(&query)?;
    let selected = params::parse_sources(&query.all("sources"))?;
    let detail = params::parse_detail(query.last("detail"))?;
    let buckets = filters.buckets();
    let client = state.pool.get().await?;
    let (version, rows) = tokio::try_join!(
        read::data_version(&client),
        read::combinations(&client, &buckets, detail),
    )?;
    let data = overlaps::compute(rows, &selected, detail);
    let mut extra = Map::new();
    extra.insert("hide_zero_scores".into(), json!(filters.hide_zero_scores));
    envelope(
        data,
        "Gene intersections between data sources for UpSet plot visualization",
        "upset_plot",
        started,
        version,
        extra,
    )
}

async fn source_distributions(state: &AppState, req: &Request) -> BodyResult {
    let started = Instant::now();
    let filters = Filters::parse(&Query::of(req))?;
    let buckets = filters.buckets();
    let client = state.pool.get().await?;
    let (version, sources, categories) = tokio::try_join!(
        read::data_version(&client),
        read::sources(&client, &buckets),
        read::categories(&client, &buckets),
    )?;
    let present: Vec<String> = sources
        .into_iter()
        .filter(|s| s.gene_count > 0)
        .map(|s| s.source_name)
        .collect();
    let data = distributions::compute(&present, &categories);
    let mut extra = Map::new();
    extra.insert("source_count".into(), json!(data.len()));
    extra.insert("hide_zero_scores".into(), json!(filters.hide_zero_scores));
    envelope(
        data,
        "Source count distributions for bar chart visualization",
        "bar_charts",
        started,
        version,
        extra,
    )
}

async fn evidence_composition(state: &AppState, req: &Request) -> BodyResult {
    let started = Instant::now();
    let filters = Filters::parse(&Query::of(req))?;
    // Composition counts genes of gene_scores only (as the original, which joined it).
    let buckets = filters.scored_buckets();
    let client = state.pool.get().await?;
    let (version, tiers, sources) = tokio::try_join!(
        read::data_version(&client),
        read::tiers(&client, &buckets),
        read::sources(&client, &buckets),
    )?;
    let data = composition::compute(&tiers, &sources);
    let mut extra = Map::new();
    extra.insert("filter_tiers".into(), json!(filters.tiers));
    extra.insert("hide_zero_scores".into(), json!(filters.hide_zero_scores));
    envelope(
        data,
        "Evidence quality and composition analysis using actual evidence tiers",
        "composition_analysis",
        started,
        version,
        extra,
    )
}

#[derive(Serialize)]
struct Overview {
    total_genes: i64,
    active_sources: usize,
    total_intersections: usize,
    genes_in_all_sources: i64,
}

#[derive(Serialize)]
struct Quality {
    avg_sources_per_gene: f64,
    total_evidence_records: i64,
    high_confidence_genes: i64,
}

#[derive(Serialize)]
struct Coverage {
    single_source_genes: i64,
    multi_source_genes: i64,
    source_distribution_variety: usize,
}

#[derive(Serialize)]
struct Summary {
    overview: Overview,
    quality: Quality,
    coverage: Coverage,
    pairwise_overlaps: Vec<read::PairwiseOverlap>,
}

/// The MCP's dashboard summary. It takes the same filters as the other routes (defaults as
/// the original, which took none); the pairwise overlaps are always unfiltered.
async fn summary(state: &AppState, req: &Request) -> BodyResult {
    let started = Instant::now();
    let filters = Filters::parse(&Query::of(req))?;
    let buckets = filters.buckets();
    let scored = filters.scored_buckets();
    let client = state.pool.get().await?;
    let (version, combos, tiers, scored_sources, sources, pairs) = tokio::try_join!(
        read::data_version(&client),
        read::combinations(&client, &buckets, false),
        read::tiers(&client, &scored),
        read::sources(&client, &scored),
        read::sources(&client, &buckets),
        read::pairwise(&client),
    )?;
    let overlaps = overlaps::compute(combos, &[], false);
    let composition = composition::compute(&tiers, &scored_sources);
    let single = overlaps.single_source_genes();
    let data = Summary {
        overview: Overview {
            total_genes: overlaps.total_unique_genes,
            active_sources: overlaps.sets.len(),
            total_intersections: overlaps.intersections.len(),
            genes_in_all_sources: overlaps.overlap_statistics.genes_in_all_sources,
        },
        quality: Quality {
            avg_sources_per_gene: composition.summary_statistics.avg_sources_per_gene,
            total_evidence_records: composition.summary_statistics.total_evidence_records,
            high_confidence_genes: composition.high_confidence_genes(),
        },
        coverage: Coverage {
            single_source_genes: single,
            multi_source_genes: overlaps.total_unique_genes - single,
            source_distribution_variety: sources.iter().filter(|s| s.gene_count > 0).count(),
        },
        pairwise_overlaps: pairs,
    };
    envelope(
        data,
        "Summary statistics for dashboard overview",
        "summary_dashboard",
        started,
        version,
        Map::new(),
    )
}
