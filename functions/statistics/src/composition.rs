//! `GET /api/statistics/evidence-composition`, from `evidence_tier_stats` (scored genes per
//! tier and number of sources) and `source_tier_stats` (evidence rows per source).

use std::collections::BTreeMap;

use serde::Serialize;

/// Display order, label and colour of each tier (the original's `tier_config_map`).
pub const TIERS: [(&str, &str, &str); 6] = [
    ("comprehensive_support", "Comprehensive Support", "#4CAF50"),
    ("multi_source_support", "Multi-Source Support", "#2196F3"),
    ("established_support", "Established Support", "#1976D2"),
    ("preliminary_evidence", "Preliminary Evidence", "#FFC107"),
    ("minimal_evidence", "Minimal Evidence", "#9E9E9E"),
    ("no_evidence", "Insufficient Evidence", "#BDBDBD"),
];

/// Tiers the summary calls high confidence.
pub const HIGH_CONFIDENCE_TIERS: [&str; 2] = ["comprehensive_support", "multi_source_support"];

#[derive(Debug, Clone, PartialEq)]
pub struct TierRow {
    pub tier: String,
    pub source_count: i32,
    pub gene_count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub source_name: String,
    pub gene_count: i64,
    pub evidence_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierShare {
    pub tier: String,
    pub tier_label: String,
    pub gene_count: i64,
    pub percentage: f64,
    pub color: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageShare {
    pub source_count: i32,
    pub gene_count: i64,
    pub percentage: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryStatistics {
    pub total_genes: i64,
    pub total_evidence_records: i64,
    pub active_sources: usize,
    pub avg_sources_per_gene: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composition {
    pub evidence_tier_distribution: Vec<TierShare>,
    /// The original's older name of the same list, kept for its clients.
    pub evidence_quality_distribution: Vec<TierShare>,
    pub source_contribution_weights: BTreeMap<String, f64>,
    pub source_coverage_distribution: Vec<CoverageShare>,
    pub summary_statistics: SummaryStatistics,
}

impl Composition {
    pub fn high_confidence_genes(&self) -> i64 {
        self.evidence_tier_distribution
            .iter()
            .filter(|t| HIGH_CONFIDENCE_TIERS.contains(&t.tier.as_str()))
            .map(|t| t.gene_count)
            .sum()
    }
}

/// `round(part * 100 / total, 2)` as Postgres rounds numerics (half away from zero), exactly.
pub fn percentage(part: i64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    let hundredths = (i128::from(part) * 20_000 + i128::from(total)) / (2 * i128::from(total));
    hundredths as f64 / 100.0
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

pub fn compute(tier_rows: &[TierRow], source_rows: &[SourceRow]) -> Composition {
    let total_genes: i64 = tier_rows.iter().map(|r| r.gene_count).sum();
    let evidence_tier_distribution: Vec<TierShare> = TIERS
        .iter()
        .filter_map(|(tier, label, color)| {
            let count: i64 = tier_rows
                .iter()
                .filter(|r| r.tier == *tier)
                .map(|r| r.gene_count)
                .sum();
            (count > 0).then(|| TierShare {
                tier: tier.to_string(),
                tier_label: label.to_string(),
                gene_count: count,
                percentage: percentage(count, total_genes),
                color,
            })
        })
        .collect();

    let mut by_count: BTreeMap<i32, i64> = BTreeMap::new();
    for r in tier_rows {
        *by_count.entry(r.source_count).or_default() += r.gene_count;
    }
    let source_coverage_distribution: Vec<CoverageShare> = by_count
        .iter()
        .rev()
        .filter(|(_, n)| **n > 0)
        .map(|(sc, n)| CoverageShare {
            source_count: *sc,
            gene_count: *n,
            percentage: percentage(*n, total_genes),
        })
        .collect();
    let weighted: i64 = by_count.iter().map(|(sc, n)| i64::from(*sc) * n).sum();
    let avg_sources_per_gene = if total_genes > 0 {
        round_to(weighted as f64 / total_genes as f64, 2)
    } else {
        0.0
    };

    let active: Vec<&SourceRow> = source_rows
        .iter()
        .filter(|r| r.evidence_count > 0)
        .collect();
    let total_evidence: i64 = active.iter().map(|r| r.evidence_count).sum();
    let source_contribution_weights = active
        .iter()
        .map(|r| {
            (
                r.source_name.clone(),
                round_to(r.evidence_count as f64 / total_evidence as f64, 3),
            )
        })
        .collect();

    Composition {
        evidence_quality_distribution: evidence_tier_distribution.clone(),
        evidence_tier_distribution,
        source_contribution_weights,
        source_coverage_distribution,
        summary_statistics: SummaryStatistics {
            total_genes,
            total_evidence_records: total_evidence,
            active_sources: active.len(),
            avg_sources_per_gene,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(t: &str, sc: i32, n: i64) -> TierRow {
        TierRow {
            tier: t.into(),
            source_count: sc,
            gene_count: n,
        }
    }

    #[test]
    fn percentages_round_half_away_from_zero() {
        assert_eq!(percentage(1, 3), 33.33);
        assert_eq!(percentage(2, 3), 66.67);
        assert_eq!(percentage(1, 8), 12.5);
        assert_eq!(percentage(1, 800), 0.13); // 0.125 -> 0.13
        assert_eq!(percentage(5, 0), 0.0);
    }

    #[test]
    fn composition() {
        let c = compute(
            &[
                tier("minimal_evidence", 1, 3),
                tier("comprehensive_support", 5, 1),
                tier("comprehensive_support", 4, 1),
                tier("multi_source_support", 3, 1),
            ],
            &[
                SourceRow {
                    source_name: "PanelApp".into(),
                    gene_count: 3,
                    evidence_count: 3,
                },
                SourceRow {
                    source_name: "HPO".into(),
                    gene_count: 1,
                    evidence_count: 1,
                },
            ],
        );
        let tiers: Vec<(&str, i64)> = c
            .evidence_tier_distribution
            .iter()
            .map(|t| (t.tier.as_str(), t.gene_count))
            .collect();
        assert_eq!(
            tiers,
            vec![
                ("comprehensive_support", 2),
                ("multi_source_support", 1),
                ("minimal_evidence", 3)
            ]
        );
        assert_eq!(c.evidence_tier_distribution[0].percentage, 33.33);
        assert_eq!(c.evidence_tier_distribution[0].color, "#4CAF50");
        assert_eq!(
            c.evidence_quality_distribution,
            c.evidence_tier_distribution
        );
        let cov: Vec<(i32, i64)> = c
            .source_coverage_distribution
            .iter()
            .map(|s| (s.source_count, s.gene_count))
            .collect();
        assert_eq!(cov, vec![(5, 1), (4, 1), (3, 1), (1, 3)]);
        assert_eq!(c.summary_statistics.total_genes, 6);
        assert_eq!(c.summary_statistics.avg_sources_per_gene, 2.5);
        assert_eq!(c.summary_statistics.total_evidence_records, 4);
        assert_eq!(c.summary_statistics.active_sources, 2);
        assert_eq!(c.source_contribution_weights["PanelApp"], 0.75);
        assert_eq!(c.high_confidence_genes(), 3);
    }

    #[test]
    fn empty() {
        let c = compute(&[], &[]);
        assert!(c.evidence_tier_distribution.is_empty());
        assert_eq!(c.summary_statistics.avg_sources_per_gene, 0.0);
        assert!(c.source_contribution_weights.is_empty());
    }
}
