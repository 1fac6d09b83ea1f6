//! HPO: genes annotated to kidney phenotypes (descendants of HP:0010935) through diseases.
//!
//! `evidence_data`: `hpo_terms[]` (distinct HP ids), `diseases:[{id, hpo_terms}]`,
//! `disease_count`, `term_count`. The score counts terms + diseases.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::json;

use super::snapshot::{GeneListRow, SnapshotDir, read_gz_csv};
use super::{EvidenceRecord, EvidenceSource, SourceError, normalize_hgnc_id, sorted_unique};
use crate::vocab::SourceName;

const SOURCE: SourceName = SourceName::Hpo;

#[derive(Debug, Clone, PartialEq)]
pub struct DiseasePhenotypes {
    /// `OMIM:n` (or another disease database id).
    pub disease_id: String,
    pub hpo_terms: Vec<String>,
}

pub fn build_record(
    hgnc_id: String,
    approved_symbol: String,
    reported_symbols: Vec<String>,
    diseases: Vec<DiseasePhenotypes>,
    date: Option<chrono::NaiveDate>,
) -> EvidenceRecord {
    let mut by_disease: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in diseases {
        by_disease
            .entry(d.disease_id)
            .or_default()
            .extend(d.hpo_terms);
    }
    let diseases: Vec<_> = by_disease
        .into_iter()
        .map(|(id, terms)| json!({"id": id, "hpo_terms": sorted_unique(terms)}))
        .collect();
    let hpo_terms = sorted_unique(
        diseases
            .iter()
            .flat_map(|d| d["hpo_terms"].as_array().cloned().unwrap_or_default())
            .filter_map(|t| t.as_str().map(str::to_string)),
    );
    let source_detail = format!(
        "HPO: {} phenotype terms, {} diseases",
        hpo_terms.len(),
        diseases.len()
    );
    EvidenceRecord {
        evidence_data: json!({
            "hgnc_id": hgnc_id,
            "hpo_terms": hpo_terms,
            "diseases": diseases,
            "term_count": hpo_terms.len(),
            "disease_count": diseases.len(),
            "last_updated": date,
        }),
        hgnc_id,
        approved_symbol,
        reported_symbols,
        source_detail,
        evidence_date: date,
    }
}

/// `OMIM:264800 (HP:0100817); OMIM:614473 (HP:0000121 | HP:0000123)`
pub fn parse_diseases(raw: &str) -> Vec<DiseasePhenotypes> {
    raw.split("; ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once(" (") {
            Some((id, rest)) => DiseasePhenotypes {
                disease_id: id.trim().to_string(),
                hpo_terms: rest
                    .trim_end_matches(')')
                    .split(" | ")
                    .map(str::trim)
                    .filter(|t| t.starts_with("HP:"))
                    .map(str::to_string)
                    .collect(),
            },
            None => DiseasePhenotypes {
                disease_id: item.to_string(),
                hpo_terms: Vec::new(),
            },
        })
        .collect()
}

pub struct HpoSnapshot {
    dir: SnapshotDir,
}

impl HpoSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self) -> Result<Vec<EvidenceRecord>, SourceError> {
        let rows: Vec<GeneListRow> =
            read_gz_csv(SOURCE, &self.dir.kidney_genetics("04_HPO_genes"))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let hgnc_id = normalize_hgnc_id(&row.hgnc_id)?;
                Some(build_record(
                    hgnc_id,
                    row.approved_symbol.clone(),
                    row.reported_symbols(),
                    parse_diseases(&row.source),
                    Some(SnapshotDir::snapshot_date()),
                ))
            })
            .collect())
    }
}

impl EvidenceSource for HpoSnapshot {
    fn name(&self) -> SourceName {
        SOURCE
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Vec<EvidenceRecord>, SourceError>> {
        Box::pin(async move { self.read() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_diseases_and_terms() {
        let d = parse_diseases("OMIM:264800 (HP:0100817); OMIM:614473 (HP:0000121 | HP:0000123)");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].disease_id, "OMIM:614473");
        assert_eq!(d[1].hpo_terms, vec!["HP:0000121", "HP:0000123"]);
        let r = build_record("HGNC:1".into(), "X".into(), vec![], d, None);
        assert_eq!(r.evidence_data["hpo_terms"].as_array().unwrap().len(), 3);
        assert_eq!(r.evidence_data["diseases"].as_array().unwrap().len(), 2);
    }
}
