//! HPO's `evidence_data`: the keys the original stores, plus `hgnc_id`, the diseases that link
//! the gene to each term, and their counts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::sorted_unique;
use serde::{Deserialize, Serialize};

/// A disease (`OMIM:n`, `ORPHA:n`) annotated to the gene and to kidney phenotype terms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DiseaseTerms {
    pub id: String,
    pub hpo_terms: Vec<String>,
}

/// Whether the gene's phenotypes reach beyond the kidney. The original defines the shape but
/// stores it empty; so does kgdb until the ontology's categories are loaded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyndromicAssessment {
    pub is_syndromic: bool,
    pub category_scores: BTreeMap<String, f64>,
    pub syndromic_score: i64,
    pub extra_renal_categories: Vec<String>,
    pub extra_renal_term_counts: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpoEvidence {
    pub hgnc_id: String,
    /// Distinct kidney phenotype terms; counted by the score together with `diseases`.
    pub hpo_terms: Vec<String>,
    pub diseases: Vec<DiseaseTerms>,
    pub term_count: usize,
    pub disease_count: usize,
    /// 20 per term, at most 100 (informational, the original's rule).
    pub evidence_score: f64,
    #[serde(default)]
    pub syndromic_assessment: SyndromicAssessment,
    pub last_updated: Option<NaiveDate>,
}

impl HpoEvidence {
    pub fn new(
        hgnc_id: String,
        diseases: Vec<DiseaseTerms>,
        last_updated: Option<NaiveDate>,
    ) -> Self {
        let mut evidence = Self {
            hgnc_id,
            hpo_terms: Vec::new(),
            diseases,
            term_count: 0,
            disease_count: 0,
            evidence_score: 0.0,
            syndromic_assessment: SyndromicAssessment::default(),
            last_updated,
        };
        evidence.derive();
        evidence
    }

    /// One entry per disease (terms joined), then the gene's distinct terms and the counts.
    fn derive(&mut self) {
        let mut by_disease: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in std::mem::take(&mut self.diseases) {
            by_disease.entry(d.id).or_default().extend(d.hpo_terms);
        }
        self.diseases = by_disease
            .into_iter()
            .map(|(id, terms)| DiseaseTerms {
                id,
                hpo_terms: sorted_unique(terms),
            })
            .collect();
        self.hpo_terms = sorted_unique(
            self.diseases
                .iter()
                .flat_map(|d| d.hpo_terms.iter().cloned()),
        );
        self.term_count = self.hpo_terms.len();
        self.disease_count = self.diseases.len();
        self.evidence_score = (self.term_count as f64 * 20.0).min(100.0);
    }
}

impl EvidenceModel for HpoEvidence {
    fn merge(&mut self, other: Self) {
        self.diseases.extend(other.diseases);
        self.last_updated = self.last_updated.max(other.last_updated);
        self.derive();
    }

    fn summary(&self) -> String {
        format!(
            "HPO: {} phenotype terms, {} diseases",
            self.term_count, self.disease_count
        )
    }
}
