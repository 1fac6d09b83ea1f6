//! Data sources function: `GET /api/datasources/` (also `/api/datasources`) and
//! `GET /api/datasources/{source_name}` (docs/api.md).
//!
//! Counts, metadata and top genes are precomputed per source by migration 0003
//! (`datasource_stats`, `datasource_totals`, `datasource_top_genes`); a request reads at most
//! a handful of rows by key. An unknown source is a 404 (the original answered 500).

use chrono::{DateTime, Utc};
use kgdb_web::cache::Namespace;
use kgdb_web::http::{self, BodyResult, path_param, route_of};
use kgdb_web::jsonapi::clip;
use kgdb_web::{ApiError, AppState};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use kgdb_core::vocab::{SourceInfo, SourceName};

/// Entry point for every route of this function.
pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match http::require_get(&req) {
        Err(e) => Err(e),
        Ok(()) => match route_of(&req).as_str() {
            "/api/datasources" | "/api/datasources/" => {
                let render = || list(state);
                http::cached(&state.cache, &req, Namespace::Datasources, "list", render).await
            }
            "/api/datasources/{source_name}" => {
                let name = path_param(&req, "source_name").unwrap_or_default();
                let key = format!("detail|{name}");
                let render = || detail(state, name);
                http::cached(&state.cache, &req, Namespace::Datasources, &key, render).await
            }
            other => Err(ApiError::not_found(format!("no route {other}"))),
        },
    };
    http::finish(&req, result)
}

/// `ResponseBuilder.build_success_response` of the original: `{data, meta:{timestamp}}`.
fn envelope(data: impl Serialize) -> BodyResult {
    let timestamp = Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    http::json_body(&json!({"data": data, "meta": {"timestamp": timestamp}}))
}

/// One row of `datasource_stats`.
#[derive(Debug, Clone)]
struct StatsRow {
    source_name: String,
    gene_count: i32,
    evidence_count: i32,
    last_updated: Option<DateTime<Utc>>,
    scored_gene_count: i32,
    scored_evidence_count: i32,
    scored_last_updated: Option<DateTime<Utc>>,
    metadata: Value,
}

const STATS_COLUMNS: &str = "source_name, gene_count, evidence_count, last_updated, \
     scored_gene_count, scored_evidence_count, scored_last_updated, metadata";

fn stats_row(r: &tokio_postgres::Row) -> StatsRow {
    StatsRow {
        source_name: r.get(0),
        gene_count: r.get(1),
        evidence_count: r.get(2),
        last_updated: r.get(3),
        scored_gene_count: r.get(4),
        scored_evidence_count: r.get(5),
        scored_last_updated: r.get(6),
        metadata: r.get(7),
    }
}

#[derive(Debug, Clone, Default)]
struct Totals {
    scored_genes: i64,
    genes_with_evidence: i64,
    orphaned_genes: i64,
    total_evidence_records: i64,
    last_data_update: Option<DateTime<Utc>>,
}

async fn all_stats(client: &Client) -> Result<Vec<StatsRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {STATS_COLUMNS} FROM datasource_stats");
    Ok(client
        .query_typed(&sql, &[])
        .await?
        .iter()
        .map(stats_row)
        .collect())
}

async fn totals(client: &Client) -> Result<Totals, tokio_postgres::Error> {
    let row = client
        .query_typed_opt(
            "SELECT scored_genes, genes_with_evidence, orphaned_genes, total_evidence_records,
                    last_data_update
               FROM datasource_totals WHERE id = 1",
            &[],
        )
        .await?;
    Ok(row
        .map(|r| Totals {
            scored_genes: r.get(0),
            genes_with_evidence: r.get(1),
            orphaned_genes: r.get(2),
            total_evidence_records: r.get(3),
            last_data_update: r.get(4),
        })
        .unwrap_or_default())
}

/// Read from the table, not a view: an ingest completes its run after the refresh.
async fn last_pipeline_run(
    client: &Client,
) -> Result<Option<DateTime<Utc>>, tokio_postgres::Error> {
    Ok(client
        .query_typed_opt(
            "SELECT completed_at FROM pipeline_runs
              WHERE status = 'completed' AND completed_at IS NOT NULL
              ORDER BY completed_at DESC LIMIT 1",
            &[],
        )
        .await?
        .map(|r| r.get(0)))
}

#[derive(Debug, Serialize)]
struct SourceStats {
    gene_count: i64,
    evidence_count: i64,
    last_updated: Option<DateTime<Utc>>,
    metadata: Map<String, Value>,
}

#[derive(Debug, Serialize)]
struct SourceEntry {
    name: &'static str,
    display_name: &'static str,
    description: &'static str,
    status: &'static str,
    stats: Option<SourceStats>,
    url: Option<&'static str>,
    documentation_url: Option<&'static str>,
}

/// Metadata of an active source: the computed values plus the static labels.
fn metadata(info: &SourceInfo, computed: &Value) -> Map<String, Value> {
    let mut map = computed.as_object().cloned().unwrap_or_default();
    map.insert("type".into(), json!(info.kind));
    match info.source {
        kgdb_core::vocab::SourceName::PubTator => {
            map.insert(
                "search_query".into(),
                json!(kgdb_core::vocab::PUBTATOR_SEARCH_QUERY),
            );
        }
        _ if info.hybrid => {
            map.insert("upload_type".into(), json!("manual"));
        }
        _ => {}
    }
    map
}

fn entry(info: &SourceInfo, row: Option<&StatsRow>, scored: bool) -> SourceEntry {
    let counts = row.map(|r| {
        if scored {
            (
                r.scored_gene_count,
                r.scored_evidence_count,
                r.scored_last_updated,
            )
        } else {
            (r.gene_count, r.evidence_count, r.last_updated)
        }
    });
    let (status, stats) = match (row, counts) {
        (Some(row), Some((genes, evidence, updated))) if genes > 0 => (
            "active",
            Some(SourceStats {
                gene_count: genes.into(),
                evidence_count: evidence.into(),
                last_updated: updated,
                metadata: metadata(info, &row.metadata),
            }),
        ),
        _ if info.hybrid => {
            let mut meta = Map::new();
            meta.insert("upload_type".into(), json!("manual"));
            meta.insert(
                "supported_formats".into(),
                json!(["json", "csv", "tsv", "xlsx", "xls"]),
            );
            meta.insert(
                "message".into(),
                json!(if info.source == kgdb_core::vocab::SourceName::Literature {
                    "Upload literature files via the API"
                } else {
                    "Upload diagnostic panel files via the API"
                }),
            );
            (
                "ready_for_upload",
                Some(SourceStats {
                    gene_count: 0,
                    evidence_count: 0,
                    last_updated: None,
                    metadata: meta,
                }),
            )
        }
        _ => ("inactive", None),
    };
    SourceEntry {
        name: info.source.as_str(),
        display_name: info.display_name,
        description: info.description,
        status,
        stats,
        url: info.url,
        documentation_url: info.documentation_url,
    }
}

/// `1439` -> `1,439`, as Python's `{:,}`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The original's `min(round(evidence / genes / 6 * 100), 100)` (Python rounds half to even).
fn source_coverage(unique_genes: i64, total_evidence: i64) -> i64 {
    if unique_genes <= 0 {
        return 0;
    }
    let avg = total_evidence as f64 / unique_genes as f64;
    ((avg / 6.0 * 100.0).round_ties_even() as i64).min(100)
}

/// The original's tooltip texts.
fn explanations(unique_genes: i64, total_evidence: i64) -> Map<String, Value> {
    let coverage = source_coverage(unique_genes, total_evidence);
    let per_gene = if unique_genes > 0 {
        format!("{:.1}", total_evidence as f64 / unique_genes as f64)
    } else {
        "0".to_string()
    };
    let mut e = Map::new();
    let mut put = |k: &str, v: String| {
        e.insert(k.to_string(), Value::String(v));
    };
    put(
        "active_sources",
        "Number of data sources currently integrated and providing gene evidence".into(),
    );
    put(
        "unique_genes",
        format!(
            "Total number of distinct genes across all sources ({} genes with kidney disease associations)",
            thousands(unique_genes)
        ),
    );
    put(
        "source_coverage",
        format!(
            "Average overlap between sources ({coverage}%). Each gene appears in ~{per_gene} sources on average. Higher coverage indicates stronger validation across multiple sources."
        ),
    );
    put(
        "last_updated",
        "Most recent data update from any source. Updates occur when sources are refreshed or new data is uploaded.".into(),
    );
    put(
        "expert_panels",
        "Number of clinical expert panels that have reviewed and validated gene-disease relationships".into(),
    );
    put(
        "classifications",
        "Different levels of gene-disease validity (Definitive, Strong, Moderate, Limited, Disputed, Refuted)".into(),
    );
    put(
        "submissions",
        "Individual gene-disease relationship submissions from consortium members".into(),
    );
    put(
        "submitters",
        "Number of organizations contributing gene-disease validity assessments".into(),
    );
    put(
        "phenotypes",
        "Distinct Human Phenotype Ontology terms associated with kidney/urinary system abnormalities".into(),
    );
    put(
        "publications",
        "Unique PubMed articles mentioning kidney disease genes identified through text mining"
            .into(),
    );
    put(
        "panels",
        "Clinical or diagnostic gene panels for kidney disease testing".into(),
    );
    put(
        "regions",
        "Geographic regions or organizations maintaining the gene panels".into(),
    );
    put(
        "providers",
        "Commercial diagnostic laboratories offering kidney genetic testing panels".into(),
    );
    e
}

async fn list(state: &AppState) -> BodyResult {
    let client = state.pool.get().await?;
    let (stats, totals, last_run) = tokio::try_join!(
        all_stats(&client),
        totals(&client),
        last_pipeline_run(&client),
    )?;
    // As the original: counts are over scored genes, unless nothing is scored (views not yet
    // refreshed after a first ingest), then over all evidence.
    let scored = stats.iter().any(|r| r.scored_gene_count > 0);
    let sources: Vec<SourceEntry> = SourceName::catalog()
        .iter()
        .map(|info| {
            let row = stats.iter().find(|r| r.source_name == info.source.as_str());
            entry(info, row, scored)
        })
        .collect();
    let unique_genes = if totals.scored_genes > 0 {
        totals.scored_genes
    } else {
        totals.genes_with_evidence
    };
    let explanations = explanations(unique_genes, totals.total_evidence_records);
    envelope(json!({
        "sources": sources,
        "total_active": sources.iter().filter(|s| s.status == "active").count(),
        "total_sources": sources.len(),
        "last_pipeline_run": last_run,
        "total_unique_genes": unique_genes,
        "orphaned_genes": totals.orphaned_genes,
        "total_evidence_records": totals.total_evidence_records,
        "last_data_update": totals.last_data_update,
        "explanations": explanations,
    }))
}

#[derive(Debug, Serialize)]
struct TopGene {
    symbol: String,
    score: f64,
    count: i32,
}

async fn detail(state: &AppState, name: &str) -> BodyResult {
    let info = SourceName::parse(name)
        .map(SourceName::info)
        .ok_or_else(|| ApiError::not_found(format!("Data source '{}' not found", clip(name))))?;
    let source = info.source.as_str();
    let client = state.pool.get().await?;
    let stats_sql = format!("SELECT {STATS_COLUMNS} FROM datasource_stats WHERE source_name = $1");
    let params = [(
        &source as &(dyn tokio_postgres::types::ToSql + Sync),
        Type::TEXT,
    )];
    let (row, top) = tokio::try_join!(
        client.query_typed_opt(&stats_sql, &params),
        client.query_typed(
            "SELECT approved_symbol, score, evidence_count FROM datasource_top_genes
              WHERE source_name = $1 ORDER BY rank",
            &params,
        ),
    )?;
    let row = row.as_ref().map(stats_row).filter(|r| r.gene_count > 0);
    let base = json!({
        "name": source,
        "display_name": info.display_name,
        "description": info.description,
        "url": info.url,
        "documentation_url": info.documentation_url,
    });
    let mut data = base.as_object().cloned().unwrap_or_default();
    match row {
        // Detail counts are over all of the source's evidence, as in the original.
        Some(r) => {
            let top_genes: Vec<TopGene> = top
                .iter()
                .map(|t| TopGene {
                    symbol: t.get(0),
                    score: t.get::<_, Option<f64>>(1).unwrap_or(0.0),
                    count: t.get(2),
                })
                .collect();
            data.insert("status".into(), json!("active"));
            data.insert(
                "stats".into(),
                json!({
                    "gene_count": r.gene_count,
                    "evidence_count": r.evidence_count,
                    "last_updated": r.last_updated,
                }),
            );
            data.insert("top_genes".into(), json!(top_genes));
        }
        None => {
            // The original reported an empty HPO as an error (its fetch is the fragile one).
            let status = if info.source == kgdb_core::vocab::SourceName::Hpo {
                "error"
            } else {
                "inactive"
            };
            data.insert("status".into(), json!(status));
            data.insert("stats".into(), Value::Null);
            data.insert("message".into(), json!("No data available for this source"));
        }
    }
    envelope(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1439), "1,439");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
    }

    #[test]
    fn coverage_formula() {
        // 5960 rows over 1439 genes: 4.14 per gene, 69 % of 6
        assert_eq!(source_coverage(1439, 5960), 69);
        let e = explanations(1439, 5960);
        assert!(
            e["source_coverage"]
                .as_str()
                .unwrap()
                .contains("~4.1 sources")
        );
        assert!(e["unique_genes"].as_str().unwrap().contains("(1,439 genes"));
        assert_eq!(source_coverage(10, 100), 100);
        assert_eq!(source_coverage(0, 0), 0);
        assert_eq!(source_coverage(12, 1), 1); // 1.39 %
        assert_eq!(source_coverage(1, 3), 50);
    }

    #[test]
    fn entries_by_status() {
        let info = &SourceName::DiagnosticPanels.info();
        let e = entry(info, None, true);
        assert_eq!(e.status, "ready_for_upload");
        assert_eq!(e.stats.as_ref().map(|s| s.gene_count), Some(0));
        let info = &SourceName::Hpo.info();
        assert_eq!(entry(info, None, true).status, "inactive");
        let row = StatsRow {
            source_name: "HPO".into(),
            gene_count: 10,
            evidence_count: 10,
            last_updated: None,
            scored_gene_count: 0,
            scored_evidence_count: 0,
            scored_last_updated: None,
            metadata: json!({"phenotype_terms": 3}),
        };
        // every gene scored 0: not active while other sources are scored
        assert_eq!(entry(info, Some(&row), true).status, "inactive");
        let e = entry(info, Some(&row), false);
        assert_eq!(e.status, "active");
        let meta = &e.stats.as_ref().unwrap().metadata;
        assert_eq!(meta["phenotype_terms"], json!(3));
        assert_eq!(meta["type"], json!("Phenotype Ontology"));
    }

    #[test]
    fn pubtator_metadata_carries_the_query() {
        let info = &SourceName::PubTator.info();
        let m = metadata(info, &json!({"publications": 2}));
        assert_eq!(
            m["search_query"],
            json!(kgdb_core::vocab::PUBTATOR_SEARCH_QUERY)
        );
        let info = &SourceName::Literature.info();
        assert_eq!(metadata(info, &Value::Null)["upload_type"], json!("manual"));
    }
}
