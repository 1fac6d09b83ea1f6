//! `GET /api/statistics/source-distributions`, from `source_distribution_stats` (categories per
//! source, summed over the selected tier buckets).

use std::collections::BTreeMap;

use kgdb_core::vocab::SourceName;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// One category of one source, already summed over buckets and in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRow {
    pub source_name: String,
    pub category: String,
    /// Set for count histograms, whose categories the API returns as numbers.
    pub category_value: Option<i32>,
    pub gene_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub category: Value,
    pub gene_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceDistribution {
    pub distribution: Vec<Category>,
    pub metadata: Map<String, Value>,
}

/// The chart each source is drawn as, and the name of its "largest category" field.
fn chart(source: &str) -> Option<(&'static str, Option<&'static str>)> {
    let chart = SourceName::parse(source)?.info().chart;
    Some((chart.visualization, chart.max_field))
}

/// `present`: the sources with at least one selected gene, in name order; `rows`: their
/// categories in display order.
pub fn compute(present: &[String], rows: &[CategoryRow]) -> BTreeMap<String, SourceDistribution> {
    present
        .iter()
        .map(|source| {
            let mine: Vec<&CategoryRow> =
                rows.iter().filter(|r| &r.source_name == source).collect();
            let total_genes: i64 = mine.iter().map(|r| r.gene_count).sum();
            let mut metadata = Map::new();
            let distribution = match chart(source) {
                None => {
                    metadata.insert("note".into(), json!("No distribution available"));
                    Vec::new()
                }
                Some((visualization, max_field)) => {
                    match max_field {
                        Some(field) => {
                            let max = mine.iter().filter_map(|r| r.category_value).max();
                            metadata.insert(field.into(), json!(max.unwrap_or(0)));
                        }
                        None => {
                            let key = if visualization == "hpo_term_histogram" {
                                "total_ranges"
                            } else {
                                "total_classifications"
                            };
                            metadata.insert(key.into(), json!(mine.len()));
                        }
                    }
                    metadata.insert("total_genes".into(), json!(total_genes));
                    metadata.insert("visualization_type".into(), json!(visualization));
                    mine.iter()
                        .map(|r| Category {
                            category: r
                                .category_value
                                .map(Value::from)
                                .unwrap_or_else(|| Value::from(r.category.clone())),
                            gene_count: r.gene_count,
                        })
                        .collect()
                }
            };
            (
                source.clone(),
                SourceDistribution {
                    distribution,
                    metadata,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(source: &str, category: &str, value: Option<i32>, n: i64) -> CategoryRow {
        CategoryRow {
            source_name: source.into(),
            category: category.into(),
            category_value: value,
            gene_count: n,
        }
    }

    #[test]
    fn histograms_and_donuts() {
        let d = compute(
            &["ClinGen".into(), "PanelApp".into(), "Unknown".into()],
            &[
                row("ClinGen", "Definitive", None, 5),
                row("ClinGen", "Limited", None, 2),
                row("PanelApp", "1", Some(1), 10),
                row("PanelApp", "4", Some(4), 2),
                row("HPO", "1-5", None, 3),
            ],
        );
        assert_eq!(d.len(), 3);
        let p = &d["PanelApp"];
        assert_eq!(p.distribution[1].category, json!(4));
        assert_eq!(p.metadata["max_panels"], json!(4));
        assert_eq!(p.metadata["visualization_type"], json!("panel_histogram"));
        assert_eq!(p.metadata["total_genes"], json!(12));
        let c = &d["ClinGen"];
        assert_eq!(c.distribution[0].category, json!("Definitive"));
        assert_eq!(c.metadata["total_classifications"], json!(2));
        assert_eq!(
            c.metadata["visualization_type"],
            json!("classification_donut")
        );
        assert!(d["Unknown"].distribution.is_empty());
        assert!(
            !d.contains_key("HPO"),
            "HPO is not present in the selection"
        );
    }
}
