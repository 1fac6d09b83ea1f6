//! ClinGen's `evidence_data`: the keys the original stores, plus `hgnc_id`, `assertion_count`
//! and `max_classification_weight`.

use chrono::NaiveDate;
use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::{SourceName, sorted_unique};
use serde::{Deserialize, Serialize};

use crate::classification::{max_weight, ranked};

/// One gene-disease validity curation. Missing values are empty strings, as the original stores.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Validity {
    pub symbol: String,
    pub hgnc_id: String,
    pub disease_name: String,
    pub classification: String,
    pub mode_of_inheritance: String,
    /// The gene curation expert panel (GCEP).
    pub expert_panel: String,
    pub mondo_id: String,
    pub release_date: String,
    pub submission_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClinGenEvidence {
    pub hgnc_id: String,
    pub validities: Vec<Validity>,
    /// Distinct classifications, best first (the score takes the best).
    pub classifications: Vec<String>,
    pub diseases: Vec<String>,
    pub expert_panels: Vec<String>,
    pub modes_of_inheritance: Vec<String>,
    pub validity_count: usize,
    /// Same as `validity_count`; kept for readers of earlier kgdb rows.
    pub assertion_count: usize,
    /// Best classification's weight (the scoring weights, so it agrees with the score).
    pub max_classification_score: f64,
    pub max_classification_weight: f64,
    /// `max_classification_score` × 100 (informational).
    pub evidence_score: f64,
    pub last_updated: Option<NaiveDate>,
}

impl ClinGenEvidence {
    pub fn new(
        hgnc_id: String,
        validities: Vec<Validity>,
        last_updated: Option<NaiveDate>,
    ) -> Self {
        let mut evidence = Self {
            hgnc_id,
            validities,
            classifications: Vec::new(),
            diseases: Vec::new(),
            expert_panels: Vec::new(),
            modes_of_inheritance: Vec::new(),
            validity_count: 0,
            assertion_count: 0,
            max_classification_score: 0.0,
            max_classification_weight: 0.0,
            evidence_score: 0.0,
            last_updated,
        };
        evidence.derive();
        evidence
    }

    fn derive(&mut self) {
        let non_empty = |s: &String| !s.is_empty();
        let v = &self.validities;
        self.classifications = ranked(
            SourceName::ClinGen,
            v.iter().map(|v| v.classification.as_str()),
        );
        self.diseases = sorted_unique(v.iter().map(|v| v.disease_name.clone()).filter(non_empty));
        self.expert_panels =
            sorted_unique(v.iter().map(|v| v.expert_panel.clone()).filter(non_empty));
        self.modes_of_inheritance = sorted_unique(
            v.iter()
                .map(|v| v.mode_of_inheritance.clone())
                .filter(non_empty),
        );
        self.validity_count = v.len();
        self.assertion_count = v.len();
        let best = max_weight(
            SourceName::ClinGen,
            v.iter().map(|v| v.classification.as_str()),
        );
        self.max_classification_score = best;
        self.max_classification_weight = best;
        self.evidence_score = best * 100.0;
    }
}

impl EvidenceModel for ClinGenEvidence {
    fn merge(&mut self, other: Self) {
        self.validities.extend(other.validities);
        self.validities.sort();
        self.validities.dedup();
        self.last_updated = self.last_updated.max(other.last_updated);
        self.derive();
    }

    fn summary(&self) -> String {
        format!(
            "ClinGen: {} validit{} ({})",
            self.validity_count,
            if self.validity_count == 1 { "y" } else { "ies" },
            self.classifications
                .first()
                .map(String::as_str)
                .unwrap_or("none")
        )
    }
}
