//! GenCC's `evidence_data`: the keys the original stores, plus `hgnc_id` and
//! `max_classification_weight`.

use chrono::NaiveDate;
use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::{SourceName, sorted_unique};
use serde::{Deserialize, Serialize};

use crate::classification::{max_weight, ranked};

/// The columns of the submissions export kept per submission (the original's `raw_data`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GenccRawData {
    pub gene_curie: String,
    pub gene_symbol: String,
    pub disease_curie: String,
    pub disease_title: String,
    pub classification_title: String,
    pub moi_title: String,
    pub submitter_title: String,
    pub submitted_as_hgnc_id: String,
    pub submitted_as_hgnc_symbol: String,
}

/// One submitter's classification of a gene-disease pair. Missing values are empty strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Submission {
    pub symbol: String,
    pub hgnc_id: String,
    pub disease_name: String,
    pub mondo_id: String,
    pub classification: String,
    pub submitter: String,
    pub mode_of_inheritance: String,
    pub submission_date: String,
    pub raw_data: GenccRawData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenccEvidence {
    pub hgnc_id: String,
    pub submissions: Vec<Submission>,
    /// Distinct classifications, best first; the score takes the best, and counts them.
    pub classifications: Vec<String>,
    pub diseases: Vec<String>,
    pub submitters: Vec<String>,
    pub modes_of_inheritance: Vec<String>,
    pub submission_count: usize,
    /// Best classification's scoring weight (informational, as the original's).
    pub evidence_score: f64,
    pub max_classification_weight: f64,
    pub last_updated: Option<NaiveDate>,
}

impl GenccEvidence {
    pub fn new(
        hgnc_id: String,
        submissions: Vec<Submission>,
        last_updated: Option<NaiveDate>,
    ) -> Self {
        let mut evidence = Self {
            hgnc_id,
            submissions,
            classifications: Vec::new(),
            diseases: Vec::new(),
            submitters: Vec::new(),
            modes_of_inheritance: Vec::new(),
            submission_count: 0,
            evidence_score: 0.0,
            max_classification_weight: 0.0,
            last_updated,
        };
        evidence.derive();
        evidence
    }

    fn derive(&mut self) {
        let non_empty = |s: &String| !s.is_empty();
        let s = &self.submissions;
        self.classifications = ranked(
            SourceName::GenCC,
            s.iter().map(|s| s.classification.as_str()),
        );
        self.diseases = sorted_unique(s.iter().map(|s| s.disease_name.clone()).filter(non_empty));
        self.submitters = sorted_unique(s.iter().map(|s| s.submitter.clone()).filter(non_empty));
        self.modes_of_inheritance = sorted_unique(
            s.iter()
                .map(|s| s.mode_of_inheritance.clone())
                .filter(non_empty),
        );
        self.submission_count = s.len();
        let best = max_weight(
            SourceName::GenCC,
            s.iter().map(|s| s.classification.as_str()),
        );
        self.evidence_score = best;
        self.max_classification_weight = best;
    }
}

impl EvidenceModel for GenccEvidence {
    fn merge(&mut self, other: Self) {
        self.submissions.extend(other.submissions);
        self.submissions.sort();
        self.submissions.dedup();
        self.last_updated = self.last_updated.max(other.last_updated);
        self.derive();
    }

    fn summary(&self) -> String {
        format!(
            "GenCC: {} submissions ({})",
            self.submission_count,
            self.classifications
                .first()
                .map(String::as_str)
                .unwrap_or("none")
        )
    }
}
