//! What ClinGen and GenCC share: classification weights, their ranking, and the snapshot's
//! summary-column format.
//!
//! Both are scored by their best classification; the weights mirror
//! `kgdb_classification_weight` in SQL (a test in this crate checks the ranking, the integration
//! tests check SQL against these weights). The original took ClinGen's *first* element of an
//! unordered set.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, SourceError};
use kgdb_core::{SourceName, normalize_hgnc_id, sorted_unique};
use serde::Deserialize;

use crate::files::for_each_gz_csv_row;

/// Scoring weight of a classification; mirrors `kgdb_classification_weight` in SQL.
pub fn classification_weight(source: SourceName, classification: &str) -> f64 {
    let c = classification
        .trim_matches(|ch| ch == '"' || ch == ' ')
        .to_lowercase();
    match (source, c.as_str()) {
        (_, "definitive") => 1.0,
        (_, "strong") => 0.8,
        (_, "moderate") => 0.6,
        (SourceName::GenCC, "supportive") => 0.5,
        (_, "limited") => 0.4,
        (SourceName::GenCC, "disputed evidence") => 0.2,
        (SourceName::ClinGen, "disputed") => 0.2,
        _ => 0.0,
    }
}

/// Distinct classifications, strongest first (ties alphabetical).
pub fn ranked<'a>(source: SourceName, classes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut classes = sorted_unique(classes.into_iter().map(str::to_string));
    classes.sort_by(|a, b| {
        classification_weight(source, b)
            .total_cmp(&classification_weight(source, a))
            .then_with(|| a.cmp(b))
    });
    classes
}

/// The best weight among classifications (0 for none).
pub fn max_weight<'a>(source: SourceName, classes: impl IntoIterator<Item = &'a str>) -> f64 {
    classes
        .into_iter()
        .map(|c| classification_weight(source, c))
        .fold(0.0, f64::max)
}

/// Groups classification rows by gene into one record each. The rows stay a list, not a set:
/// each row the source delivers is one assertion, even where two look alike (merging records
/// of several chunks is where duplicates go, in the models' `merge`). `gene` gives a row's
/// HGNC id and symbol; rows without a valid HGNC id are dropped.
pub fn group_classifications<T, E>(
    rows: impl IntoIterator<Item = (T, Option<NaiveDate>)>,
    gene: impl Fn(&T) -> (&str, &str),
    build: impl Fn(String, Vec<T>, Option<NaiveDate>) -> E,
) -> Vec<GeneEvidence<E>> {
    let mut by_gene: BTreeMap<String, (String, Vec<T>, Option<NaiveDate>)> = BTreeMap::new();
    for (row, date) in rows {
        let (raw_id, symbol) = gene(&row);
        let Some(hgnc_id) = normalize_hgnc_id(raw_id) else {
            continue;
        };
        let symbol = symbol.to_string();
        let entry = by_gene
            .entry(hgnc_id)
            .or_insert_with(|| (symbol, Vec::new(), None));
        entry.1.push(row);
        entry.2 = entry.2.max(date);
    }
    by_gene
        .into_iter()
        .map(|(hgnc_id, (symbol, rows, date))| GeneEvidence {
            gene: GeneRef {
                hgnc_id: hgnc_id.clone(),
                approved_symbol: symbol.clone(),
                reported_symbols: vec![symbol],
            },
            evidence: build(hgnc_id, rows, date),
            evidence_date: date,
        })
        .collect()
}

/// One gene-disease assertion of the snapshot's summary columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub classification: String,
    pub disease_name: String,
    pub mondo_id: Option<String>,
    pub mode_of_inheritance: Option<String>,
}

/// Parses a summary column: items joined by ` | `, each
/// `Class[, Class...] (disease name[MONDO:n]-inheritance)`; one assertion per class.
pub fn parse_summary(raw: &str) -> Option<Vec<Assertion>> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "NULL" {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    for item in raw.split(" | ") {
        let (classes, rest) = item.split_once(" (")?;
        let rest = rest.strip_suffix(')')?;
        let (disease_name, mondo_id, moi) = match rest.rfind("[MONDO:") {
            Some(open) => {
                let close = open + rest[open..].find(']')?;
                let moi = rest[close + 1..]
                    .strip_prefix('-')
                    .unwrap_or(&rest[close + 1..]);
                (&rest[..open], Some(rest[open + 1..close].to_string()), moi)
            }
            None => match rest.rsplit_once('-') {
                Some((d, m)) => (d, None, m),
                None => (rest, None, ""),
            },
        };
        for class in classes.split(", ").map(str::trim).filter(|c| !c.is_empty()) {
            out.push(Assertion {
                classification: class.to_string(),
                disease_name: disease_name.trim().to_string(),
                mondo_id: mondo_id.clone(),
                mode_of_inheritance: Some(moi.trim())
                    .filter(|m| !m.is_empty())
                    .map(str::to_string),
            });
        }
    }
    Some(out)
}

/// A gene of the annotated high-evidence table with its parsed assertions.
pub struct AnnotatedGene {
    pub hgnc_id: String,
    pub approved_symbol: String,
    pub assertions: Vec<Assertion>,
}

#[derive(Debug, Deserialize)]
struct AnnotatedRow {
    approved_symbol: String,
    hgnc_id: String,
    gencc_summary: String,
    clingen_summary: String,
}

/// Reads ClinGen's or GenCC's summary column of `C_high_evidence_annotated_csv_table`
/// (genes without an assertion are left out; one entry per gene).
pub fn read_annotated_column(
    source: SourceName,
    path: &Path,
) -> Result<Vec<AnnotatedGene>, SourceError> {
    let mut by_gene = BTreeMap::new();
    for_each_gz_csv_row(source, path, |row: AnnotatedRow| {
        let Some(hgnc_id) = normalize_hgnc_id(&row.hgnc_id) else {
            return Ok(());
        };
        let raw = if source == SourceName::GenCC {
            &row.gencc_summary
        } else {
            &row.clingen_summary
        };
        let assertions = parse_summary(raw).ok_or_else(|| SourceError::Malformed {
            source_name: Some(source),
            message: format!("unparsable summary for {}: {raw:?}", row.approved_symbol),
        })?;
        if !assertions.is_empty() {
            by_gene.insert(
                hgnc_id.clone(),
                AnnotatedGene {
                    hgnc_id,
                    approved_symbol: row.approved_symbol,
                    assertions,
                },
            );
        }
        Ok(())
    })?;
    Ok(by_gene.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multi_class_items_with_commas_in_names() {
        let a = parse_summary(
            "Strong, Limited (hypercalciuria, absorptive, 2[MONDO:0007748]-Autosomal dominant) | Supportive (x (y)[MONDO:1]-Unknown)",
        )
        .unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].classification, "Strong");
        assert_eq!(a[1].classification, "Limited");
        assert_eq!(a[0].disease_name, "hypercalciuria, absorptive, 2");
        assert_eq!(a[0].mondo_id.as_deref(), Some("MONDO:0007748"));
        assert_eq!(
            a[0].mode_of_inheritance.as_deref(),
            Some("Autosomal dominant")
        );
        assert_eq!(a[2].disease_name, "x (y)");
        assert_eq!(parse_summary("NULL").unwrap().len(), 0);
    }

    #[test]
    fn ranks_best_first() {
        assert_eq!(
            ranked(SourceName::ClinGen, ["Limited", "Definitive", "Limited"]),
            vec!["Definitive", "Limited"]
        );
        assert_eq!(
            max_weight(SourceName::GenCC, ["Supportive", "Limited"]),
            0.5
        );
        assert_eq!(max_weight(SourceName::GenCC, []), 0.0);
    }
}
