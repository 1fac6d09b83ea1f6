//! The reads of the statistics routes: each one an indexed scan of a small materialized view
//! of migration 0003 (at most a few hundred rows), filtered by the selected tier buckets.

use serde::Serialize;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use crate::composition::{SourceRow, TierRow};
use crate::distributions::CategoryRow;
use crate::overlaps::CombinationRow;

pub async fn data_version(client: &Client) -> Result<String, tokio_postgres::Error> {
    let row = client
        .query_typed_one("SELECT version::text FROM data_version", &[])
        .await?;
    Ok(row.get(0))
}

/// Gene counts per exact source combination; with `detail`, the symbols too (one row per
/// combination and bucket, merged by the caller), otherwise already summed here.
pub async fn combinations(
    client: &Client,
    buckets: &[&str],
    detail: bool,
) -> Result<Vec<CombinationRow>, tokio_postgres::Error> {
    let sql = if detail {
        "SELECT sources, gene_count::bigint, genes
           FROM source_combination_stats
          WHERE tier_bucket = ANY ($1)"
    } else {
        "SELECT sources, sum(gene_count)::bigint
           FROM source_combination_stats
          WHERE tier_bucket = ANY ($1)
          GROUP BY sources"
    };
    let rows = client
        .query_typed(sql, &[(&buckets, Type::TEXT_ARRAY)])
        .await?;
    Ok(rows
        .iter()
        .map(|r| CombinationRow {
            sources: r.get(0),
            gene_count: r.get(1),
            genes: detail.then(|| r.get(2)),
        })
        .collect())
}

/// Genes and evidence rows per source over the buckets, in name order.
pub async fn sources(
    client: &Client,
    buckets: &[&str],
) -> Result<Vec<SourceRow>, tokio_postgres::Error> {
    let rows = client
        .query_typed(
            "SELECT source_name, sum(gene_count)::bigint, sum(evidence_count)::bigint
               FROM source_tier_stats
              WHERE tier_bucket = ANY ($1)
              GROUP BY source_name
              ORDER BY source_name COLLATE \"C\"",
            &[(&buckets, Type::TEXT_ARRAY)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| SourceRow {
            source_name: r.get(0),
            gene_count: r.get(1),
            evidence_count: r.get(2),
        })
        .collect())
}

/// Scored genes per tier and number of sources.
pub async fn tiers(
    client: &Client,
    buckets: &[&str],
) -> Result<Vec<TierRow>, tokio_postgres::Error> {
    let rows = client
        .query_typed(
            "SELECT evidence_tier, source_count, gene_count::bigint
               FROM evidence_tier_stats
              WHERE evidence_tier = ANY ($1)",
            &[(&buckets, Type::TEXT_ARRAY)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TierRow {
            tier: r.get(0),
            source_count: r.get(1),
            gene_count: r.get(2),
        })
        .collect())
}

/// Distribution categories per source, summed over the buckets, in display order.
pub async fn categories(
    client: &Client,
    buckets: &[&str],
) -> Result<Vec<CategoryRow>, tokio_postgres::Error> {
    let rows = client
        .query_typed(
            "SELECT source_name, category, min(category_value), sum(gene_count)::bigint
               FROM source_distribution_stats
              WHERE tier_bucket = ANY ($1)
              GROUP BY source_name, category
              ORDER BY source_name COLLATE \"C\", min(sort_order), category COLLATE \"C\"",
            &[(&buckets, Type::TEXT_ARRAY)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| CategoryRow {
            source_name: r.get(0),
            category: r.get(1),
            category_value: r.get(2),
            gene_count: r.get(3),
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairwiseOverlap {
    pub source1: String,
    pub source2: String,
    pub overlap_count: i32,
    pub source1_total: i32,
    pub source2_total: i32,
    pub overlap_percentage: Option<f64>,
}

/// Every pair of sources (unfiltered, as the original's matview), largest overlap first.
pub async fn pairwise(client: &Client) -> Result<Vec<PairwiseOverlap>, tokio_postgres::Error> {
    let rows = client
        .query_typed(
            "SELECT source1, source2, overlap_count, source1_total, source2_total, overlap_percentage
               FROM source_overlap_statistics
              ORDER BY overlap_count DESC, source1, source2",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| PairwiseOverlap {
            source1: r.get(0),
            source2: r.get(1),
            overlap_count: r.get(2),
            source1_total: r.get(3),
            source2_total: r.get(4),
            overlap_percentage: r.get(5),
        })
        .collect())
}
