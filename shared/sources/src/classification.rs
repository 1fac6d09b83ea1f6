//! GenCC and ClinGen: curated gene-disease validity classifications.
//!
//! Both are scored by their best classification (weights in the `kgdb_classification_weight`
//! SQL function; the original took ClinGen's *first* element of an unordered set).
//! GenCC `evidence_data`: `submissions:[{classification, disease_name, mondo_id,
//! mode_of_inheritance, submitter}]`, `classifications[]` (best first), `diseases[]`,
//! `modes_of_inheritance[]`, `submitters[]`, `submission_count`, `max_classification_weight`.
//! ClinGen `evidence_data`: `validities:[...]`, `classifications[]` (best first),
//! `assertion_count`, `validity_count`, `diseases[]`, `modes_of_inheritance[]`, `max_classification_weight`.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::snapshot::{SnapshotDir, read_gz_csv};
use super::{EvidenceRecord, EvidenceSource, SourceError, normalize_hgnc_id, sorted_unique};
use crate::vocab::SourceName;

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assertion {
    pub classification: String,
    pub disease_name: String,
    pub mondo_id: Option<String>,
    pub mode_of_inheritance: Option<String>,
    pub submitter: Option<String>,
}

/// Parses the snapshot's summary column: items joined by ` | `, each
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
                submitter: None,
            });
        }
    }
    Some(out)
}

/// Distinct classifications, strongest first (ties alphabetical).
fn ranked_classifications(source: SourceName, assertions: &[Assertion]) -> Vec<String> {
    let mut classes = sorted_unique(assertions.iter().map(|a| a.classification.clone()));
    classes.sort_by(|a, b| {
        classification_weight(source, b)
            .total_cmp(&classification_weight(source, a))
            .then_with(|| a.cmp(b))
    });
    classes
}

fn max_weight(source: SourceName, assertions: &[Assertion]) -> f64 {
    assertions
        .iter()
        .map(|a| classification_weight(source, &a.classification))
        .fold(0.0, f64::max)
}

pub fn build_gencc_record(
    hgnc_id: String,
    approved_symbol: String,
    assertions: Vec<Assertion>,
    date: Option<chrono::NaiveDate>,
) -> EvidenceRecord {
    let source = SourceName::GenCC;
    let classifications = ranked_classifications(source, &assertions);
    let detail = format!(
        "GenCC: {} submissions ({})",
        assertions.len(),
        classifications
            .first()
            .map(String::as_str)
            .unwrap_or("none")
    );
    EvidenceRecord {
        evidence_data: json!({
            "hgnc_id": hgnc_id,
            "submissions": assertions,
            "classifications": classifications,
            "diseases": sorted_unique(assertions.iter().map(|a| a.disease_name.clone())),
            "modes_of_inheritance": sorted_unique(assertions.iter().filter_map(|a| a.mode_of_inheritance.clone())),
            "submitters": sorted_unique(assertions.iter().filter_map(|a| a.submitter.clone())),
            "submission_count": assertions.len(),
            "max_classification_weight": max_weight(source, &assertions),
            "last_updated": date,
        }),
        hgnc_id,
        reported_symbols: vec![approved_symbol.clone()],
        approved_symbol,
        source_detail: detail,
        evidence_date: date,
    }
}

pub fn build_clingen_record(
    hgnc_id: String,
    approved_symbol: String,
    assertions: Vec<Assertion>,
    date: Option<chrono::NaiveDate>,
) -> EvidenceRecord {
    let source = SourceName::ClinGen;
    let classifications = ranked_classifications(source, &assertions);
    let detail = format!(
        "ClinGen: {} validit{} ({})",
        assertions.len(),
        if assertions.len() == 1 { "y" } else { "ies" },
        classifications
            .first()
            .map(String::as_str)
            .unwrap_or("none")
    );
    EvidenceRecord {
        evidence_data: json!({
            "hgnc_id": hgnc_id,
            "validities": assertions,
            "classifications": classifications,
            "diseases": sorted_unique(assertions.iter().map(|a| a.disease_name.clone())),
            "modes_of_inheritance": sorted_unique(assertions.iter().filter_map(|a| a.mode_of_inheritance.clone())),
            "assertion_count": assertions.len(),
            "validity_count": assertions.len(),
            "max_classification_weight": max_weight(source, &assertions),
            "last_updated": date,
        }),
        hgnc_id,
        reported_symbols: vec![approved_symbol.clone()],
        approved_symbol,
        source_detail: detail,
        evidence_date: date,
    }
}

#[derive(Debug, Deserialize)]
struct AnnotatedRow {
    approved_symbol: String,
    hgnc_id: String,
    gencc_summary: String,
    clingen_summary: String,
}

/// Reads one summary column of the annotated high-evidence table.
fn read_column(dir: &SnapshotDir, source: SourceName) -> Result<Vec<EvidenceRecord>, SourceError> {
    let rows: Vec<AnnotatedRow> = read_gz_csv(
        source,
        &dir.kidney_genetics("C_high_evidence_annotated_csv_table"),
    )?;
    let mut by_gene = BTreeMap::new();
    for row in rows {
        let Some(hgnc_id) = normalize_hgnc_id(&row.hgnc_id) else {
            continue;
        };
        let raw = if source == SourceName::GenCC {
            &row.gencc_summary
        } else {
            &row.clingen_summary
        };
        let assertions = parse_summary(raw).ok_or_else(|| SourceError::Malformed {
            source_name: source,
            message: format!("unparsable summary for {}: {raw:?}", row.approved_symbol),
        })?;
        if assertions.is_empty() {
            continue;
        }
        let date = Some(SnapshotDir::snapshot_date());
        let record = if source == SourceName::GenCC {
            build_gencc_record(hgnc_id.clone(), row.approved_symbol, assertions, date)
        } else {
            build_clingen_record(hgnc_id.clone(), row.approved_symbol, assertions, date)
        };
        by_gene.insert(hgnc_id, record);
    }
    Ok(by_gene.into_values().collect())
}

pub struct GenccSnapshot {
    dir: SnapshotDir,
}

impl GenccSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }
}

impl EvidenceSource for GenccSnapshot {
    fn name(&self) -> SourceName {
        SourceName::GenCC
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Vec<EvidenceRecord>, SourceError>> {
        Box::pin(async move { read_column(&self.dir, SourceName::GenCC) })
    }
}

pub struct ClinGenSnapshot {
    dir: SnapshotDir,
}

impl ClinGenSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }
}

impl EvidenceSource for ClinGenSnapshot {
    fn name(&self) -> SourceName {
        SourceName::ClinGen
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Vec<EvidenceRecord>, SourceError>> {
        Box::pin(async move { read_column(&self.dir, SourceName::ClinGen) })
    }
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
    fn clingen_scores_best_not_first() {
        let a = parse_summary("Limited (a[MONDO:1]-AR) | Definitive (b[MONDO:2]-AD)").unwrap();
        let r = build_clingen_record("HGNC:1".into(), "X".into(), a, None);
        assert_eq!(r.evidence_data["classifications"][0], "Definitive");
        assert_eq!(r.evidence_data["max_classification_weight"], 1.0);
    }

    #[test]
    fn every_snapshot_summary_parses() {
        let dir = SnapshotDir::in_repo();
        let gencc = read_column(&dir, SourceName::GenCC).unwrap();
        let clingen = read_column(&dir, SourceName::ClinGen).unwrap();
        assert_eq!(gencc.len(), 566);
        assert_eq!(clingen.len(), 261);
    }
}
