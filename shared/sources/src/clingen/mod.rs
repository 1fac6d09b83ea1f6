//! ClinGen gene-disease validity curations.
//!
//! One chunk per run (the bulk validity download, or the snapshot's summary column). Raw items
//! are validity rows; normalization groups them by gene.

pub mod model;
pub mod snapshot;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError};
use kgdb_core::{SourceName, normalize_hgnc_id};
use serde::{Deserialize, Serialize};

pub use model::{ClinGenEvidence, Validity};

/// ClinGen is fetched whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClinGenChunk {
    All,
}

pub struct ClinGen;

/// One validity row with the date it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidityRow {
    pub validity: Validity,
    pub reported_symbol: String,
    pub date: Option<NaiveDate>,
}

impl Source for ClinGen {
    type Chunk = ClinGenChunk;
    type Raw = ValidityRow;
    type Evidence = ClinGenEvidence;

    fn name(&self) -> SourceName {
        SourceName::ClinGen
    }

    fn normalize(
        &self,
        raw: Vec<ValidityRow>,
    ) -> Result<Vec<GeneEvidence<ClinGenEvidence>>, SourceError> {
        let mut by_gene: BTreeMap<String, (String, Vec<Validity>, Option<NaiveDate>)> =
            BTreeMap::new();
        for row in raw {
            let Some(hgnc_id) = normalize_hgnc_id(&row.validity.hgnc_id) else {
                continue;
            };
            let entry = by_gene
                .entry(hgnc_id)
                .or_insert_with(|| (row.reported_symbol.clone(), Vec::new(), None));
            entry.1.push(row.validity);
            entry.2 = entry.2.max(row.date);
        }
        Ok(by_gene
            .into_iter()
            .map(|(hgnc_id, (symbol, validities, date))| GeneEvidence {
                gene: GeneRef {
                    hgnc_id: hgnc_id.clone(),
                    approved_symbol: symbol.clone(),
                    reported_symbols: vec![symbol],
                },
                evidence: ClinGenEvidence::new(hgnc_id, validities, date),
                evidence_date: date,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(class: &str, disease: &str) -> ValidityRow {
        ValidityRow {
            validity: Validity {
                symbol: "X".into(),
                hgnc_id: "HGNC:1".into(),
                disease_name: disease.into(),
                classification: class.into(),
                mode_of_inheritance: String::new(),
                expert_panel: String::new(),
                mondo_id: String::new(),
                release_date: String::new(),
                submission_id: String::new(),
            },
            reported_symbol: "X".into(),
            date: None,
        }
    }

    #[test]
    fn scores_best_not_first() {
        let out = ClinGen
            .normalize(vec![row("Limited", "a"), row("Definitive", "b")])
            .unwrap();
        let e = &out[0].evidence;
        assert_eq!(e.classifications, vec!["Definitive", "Limited"]);
        assert_eq!(e.max_classification_score, 1.0);
        assert_eq!(e.evidence_score, 100.0);
        assert_eq!(e.validity_count, 2);
        assert!(e.expert_panels.is_empty());
    }
}
