//! UpSet data of `GET /api/statistics/source-overlaps`, from the precomputed gene counts per
//! exact source combination (`source_combination_stats`).
//!
//! Restricting to a subset of sources is a projection: a gene whose combination is C counts,
//! for the selection S, in the intersection C ∩ S (and not at all when that is empty), which
//! is what the original got by grouping per-gene bitmasks of the selected sources' rows.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use kgdb_core::vocab::SourceName;
use serde::Serialize;

/// One row of `source_combination_stats` (summed or not over tier buckets).
#[derive(Debug, Clone, PartialEq)]
pub struct CombinationRow {
    pub sources: Vec<String>,
    pub gene_count: i64,
    /// Sorted symbols, only fetched for `detail=true`.
    pub genes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetSize {
    pub name: &'static str,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intersection {
    pub sets: Vec<&'static str>,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlapStatistics {
    pub highest_overlap_count: usize,
    pub genes_in_all_sources: i64,
    pub single_source_combinations: usize,
    pub total_combinations: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlaps {
    pub sets: Vec<SetSize>,
    pub intersections: Vec<Intersection>,
    pub total_unique_genes: i64,
    pub overlap_statistics: OverlapStatistics,
}

impl Overlaps {
    /// Genes found in exactly one of the selected sources (the original reported the number
    /// of one-source combinations here instead; README, deviations).
    pub fn single_source_genes(&self) -> i64 {
        self.intersections
            .iter()
            .filter(|i| i.sets.len() == 1)
            .map(|i| i.size)
            .sum()
    }
}

/// The seven sources in alphabetical (byte) order: bit `i` of a mask is source `i`, and
/// combinations are listed in this order, as the original did.
pub fn alphabetical() -> Vec<SourceName> {
    let mut all = SourceName::ALL.to_vec();
    all.sort_by_key(|s| s.as_str());
    all
}

fn mask_of(names: &[String], order: &[SourceName]) -> u32 {
    names
        .iter()
        .filter_map(|n| order.iter().position(|s| s.as_str() == n))
        .fold(0, |m, i| m | (1 << i))
}

fn indices(mask: u32, n: usize) -> Vec<usize> {
    (0..n).filter(|i| mask & (1 << i) != 0).collect()
}

/// Builds the UpSet data. `selected` empty means every source.
pub fn compute(rows: Vec<CombinationRow>, selected: &[SourceName], detail: bool) -> Overlaps {
    let order = alphabetical();
    let selection: u32 = if selected.is_empty() {
        (1 << order.len()) - 1
    } else {
        selected
            .iter()
            .filter_map(|s| order.iter().position(|o| o == s))
            .fold(0, |m, i| m | (1 << i))
    };

    let mut groups: BTreeMap<u32, (i64, Vec<String>)> = BTreeMap::new();
    for row in rows {
        let mask = mask_of(&row.sources, &order) & selection;
        if mask == 0 || row.gene_count <= 0 {
            continue;
        }
        let entry = groups.entry(mask).or_default();
        entry.0 += row.gene_count;
        if detail {
            entry.1.extend(row.genes.unwrap_or_default());
        }
    }

    let sets: Vec<SetSize> = order
        .iter()
        .enumerate()
        .map(|(i, s)| SetSize {
            name: s.as_str(),
            size: groups
                .iter()
                .filter(|(mask, _)| *mask & (1 << i) != 0)
                .map(|(_, (n, _))| n)
                .sum(),
        })
        .filter(|s| s.size > 0)
        .collect();
    let present: u32 = groups.keys().fold(0, |m, k| m | k);

    let mut keyed: Vec<(u32, Intersection)> = groups
        .into_iter()
        .map(|(mask, (size, mut genes))| {
            let genes = detail.then(|| {
                genes.sort_unstable();
                genes
            });
            let sets = indices(mask, order.len())
                .into_iter()
                .map(|i| order[i].as_str())
                .collect();
            (mask, Intersection { sets, size, genes })
        })
        .collect();
    // Largest first; ties in the order the original generated combinations (by number of
    // sources, then lexicographically), which its stable sort kept.
    keyed.sort_by_key(|(mask, i)| (Reverse(i.size), i.sets.len(), indices(*mask, order.len())));

    let genes_in_all_sources = keyed
        .iter()
        .find(|(mask, _)| *mask == present)
        .map(|(_, i)| i.size)
        .unwrap_or(0);
    let intersections: Vec<Intersection> = keyed.into_iter().map(|(_, i)| i).collect();
    Overlaps {
        total_unique_genes: intersections.iter().map(|i| i.size).sum(),
        overlap_statistics: OverlapStatistics {
            highest_overlap_count: sets.len(),
            genes_in_all_sources,
            single_source_combinations: intersections.iter().filter(|i| i.sets.len() == 1).count(),
            total_combinations: intersections.len(),
        },
        sets,
        intersections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sources: &[&str], n: i64, genes: &[&str]) -> CombinationRow {
        CombinationRow {
            sources: sources.iter().map(|s| s.to_string()).collect(),
            gene_count: n,
            genes: Some(genes.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn sample() -> Vec<CombinationRow> {
        vec![
            row(&["ClinGen", "PanelApp"], 2, &["B", "A"]),
            row(&["PanelApp"], 3, &["C", "D", "E"]),
            row(&["ClinGen"], 1, &["F"]),
            row(&["ClinGen", "PanelApp", "PubTator"], 1, &["G"]),
            // same combination, another tier bucket
            row(&["PanelApp"], 1, &["AA"]),
        ]
    }

    #[test]
    fn all_sources() {
        let o = compute(sample(), &[], true);
        assert_eq!(
            o.sets,
            vec![
                SetSize {
                    name: "ClinGen",
                    size: 4
                },
                SetSize {
                    name: "PanelApp",
                    size: 7
                },
                SetSize {
                    name: "PubTator",
                    size: 1
                },
            ]
        );
        assert_eq!(o.total_unique_genes, 8);
        let sizes: Vec<(Vec<&str>, i64)> = o
            .intersections
            .iter()
            .map(|i| (i.sets.clone(), i.size))
            .collect();
        assert_eq!(
            sizes,
            vec![
                (vec!["PanelApp"], 4),
                (vec!["ClinGen", "PanelApp"], 2),
                (vec!["ClinGen"], 1),
                (vec!["ClinGen", "PanelApp", "PubTator"], 1),
            ]
        );
        assert_eq!(
            o.intersections[0].genes.as_deref(),
            Some(&["AA".to_string(), "C".into(), "D".into(), "E".into()][..])
        );
        assert_eq!(o.overlap_statistics.genes_in_all_sources, 1);
        assert_eq!(o.overlap_statistics.highest_overlap_count, 3);
        assert_eq!(o.overlap_statistics.single_source_combinations, 2);
        assert_eq!(o.overlap_statistics.total_combinations, 4);
        assert_eq!(o.single_source_genes(), 5);
    }

    #[test]
    fn selection_projects_combinations() {
        let o = compute(sample(), &[SourceName::ClinGen], false);
        assert_eq!(
            o.sets,
            vec![SetSize {
                name: "ClinGen",
                size: 4
            }]
        );
        assert_eq!(o.intersections.len(), 1);
        assert_eq!(o.intersections[0].genes, None);
        assert_eq!(o.total_unique_genes, 4);
        assert_eq!(o.overlap_statistics.genes_in_all_sources, 4);

        let o = compute(
            sample(),
            &[SourceName::PanelApp, SourceName::PubTator],
            false,
        );
        assert_eq!(o.total_unique_genes, 7);
        assert_eq!(o.intersections[0].sets, vec!["PanelApp"]);
        assert_eq!(o.intersections[0].size, 6);
        assert_eq!(o.overlap_statistics.genes_in_all_sources, 1);
    }

    #[test]
    fn nothing_selected_is_empty_not_an_error() {
        let o = compute(Vec::new(), &[], false);
        assert!(o.sets.is_empty() && o.intersections.is_empty());
        assert_eq!(o.total_unique_genes, 0);
        assert_eq!(o.overlap_statistics.genes_in_all_sources, 0);
        let o = compute(sample(), &[SourceName::Hpo], false);
        assert_eq!(o.total_unique_genes, 0);
    }

    #[test]
    fn unknown_source_names_in_rows_are_ignored() {
        let o = compute(
            vec![row(&["OMIM"], 5, &[]), row(&["HPO", "OMIM"], 2, &[])],
            &[],
            false,
        );
        assert_eq!(o.total_unique_genes, 2);
        assert_eq!(
            o.sets,
            vec![SetSize {
                name: "HPO",
                size: 2
            }]
        );
    }

    #[test]
    fn alphabetical_bits() {
        let names: Vec<&str> = alphabetical().iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "ClinGen",
                "DiagnosticPanels",
                "GenCC",
                "HPO",
                "Literature",
                "PanelApp",
                "PubTator"
            ]
        );
    }
}
