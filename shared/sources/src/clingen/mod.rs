//! ClinGen gene-disease validity curations.
//!
//! One chunk per run (the bulk validity download, or the snapshot's summary column). Raw items
//! are validity rows; normalization groups them by gene.

pub mod live;
pub mod model;
pub mod snapshot;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, Source, SourceError};
use kgdb_core::{SourceName, normalize_hgnc_id, sorted_unique};
use serde::{Deserialize, Serialize};

use crate::classification::group_classifications;

pub use model::{ClinGenEvidence, Validity};

/// ClinGen is fetched whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClinGenChunk {
    All,
}

pub struct ClinGen;

/// One validity row with the date it was read. `validity.symbol` is the gene's approved symbol;
/// `reported_symbol` what ClinGen wrote when it differs or is known (a live fetch), which
/// becomes one of the gene's reported symbols.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidityRow {
    pub validity: Validity,
    pub date: Option<NaiveDate>,
    pub reported_symbol: Option<String>,
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
        let mut reported: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &raw {
            if let (Some(id), Some(symbol)) = (
                normalize_hgnc_id(&row.validity.hgnc_id),
                &row.reported_symbol,
            ) {
                reported.entry(id).or_default().push(symbol.clone());
            }
        }
        let mut genes = group_classifications(
            raw.into_iter().map(|row| (row.validity, row.date)),
            |r| (r.hgnc_id.as_str(), r.symbol.as_str()),
            ClinGenEvidence::new,
        );
        for gene in &mut genes {
            if let Some(symbols) = reported.remove(&gene.gene.hgnc_id) {
                let known = std::mem::take(&mut gene.gene.reported_symbols);
                gene.gene.reported_symbols = sorted_unique(known.into_iter().chain(symbols));
            }
        }
        Ok(genes)
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
            date: None,
            reported_symbol: None,
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

    #[test]
    fn a_reported_symbol_joins_the_genes_reported_symbols() {
        let mut renamed = row("Limited", "a");
        renamed.reported_symbol = Some("OLD".into());
        let out = ClinGen
            .normalize(vec![renamed, row("Definitive", "b")])
            .unwrap();
        assert_eq!(out[0].gene.approved_symbol, "X");
        assert_eq!(out[0].gene.reported_symbols, vec!["OLD", "X"]);
    }
}
