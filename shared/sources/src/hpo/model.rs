//! HPO's `evidence_data`: the keys the original stores, plus `hgnc_id`, the diseases that link
//! the gene to each term, and their counts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::sorted_unique;
use serde::{Deserialize, Serialize};

/// A disease (`OMIM:n`, `ORPHA:n`) annotated to the gene and to kidney phenotype terms.
///
/// An empty `id` ([`NO_DISEASE`]) carries terms a source links to the gene without naming the
/// disease (the JAX API's term → genes view, `live.rs`): they count as the gene's terms but are
/// no disease, so they never appear in [`HpoEvidence::diseases`].
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

/// The `id` of [`DiseaseTerms`] whose terms name no disease.
pub const NO_DISEASE: &str = "";

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

    /// One entry per disease (terms joined), then the gene's distinct terms (the diseases'
    /// and those linked without a disease, kept in `hpo_terms`) and the counts.
    fn derive(&mut self) {
        let mut terms = std::mem::take(&mut self.hpo_terms);
        let mut by_disease: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in std::mem::take(&mut self.diseases) {
            if d.id == NO_DISEASE {
                terms.extend(d.hpo_terms);
            } else {
                by_disease.entry(d.id).or_default().extend(d.hpo_terms);
            }
        }
        self.diseases = by_disease
            .into_iter()
            .map(|(id, terms)| DiseaseTerms {
                id,
                hpo_terms: sorted_unique(terms),
            })
            .collect();
        self.hpo_terms = sorted_unique(
            terms.into_iter().chain(
                self.diseases
                    .iter()
                    .flat_map(|d| d.hpo_terms.iter().cloned()),
            ),
        );
        self.term_count = self.hpo_terms.len();
        self.disease_count = self.diseases.len();
        self.evidence_score = (self.term_count as f64 * 20.0).min(100.0);
    }
}

impl EvidenceModel for HpoEvidence {
    fn merge(&mut self, other: Self) {
        self.hpo_terms.extend(other.hpo_terms);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn disease(id: &str, terms: &[&str]) -> DiseaseTerms {
        DiseaseTerms {
            id: id.to_string(),
            hpo_terms: terms.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn terms_without_a_disease_count_as_terms_not_as_a_disease() {
        let live = HpoEvidence::new(
            "HGNC:9008".into(),
            vec![disease(NO_DISEASE, &["HP:0000107", "HP:0000113"])],
            None,
        );
        assert_eq!(live.hpo_terms, vec!["HP:0000107", "HP:0000113"]);
        assert!(live.diseases.is_empty());
        assert_eq!((live.term_count, live.disease_count), (2, 0));

        // Merged with a snapshot-style record (terms through a disease), both ways round and
        // again: a union.
        let snapshot = HpoEvidence::new(
            "HGNC:9008".into(),
            vec![disease("OMIM:173900", &["HP:0000107", "HP:0000083"])],
            None,
        );
        let mut a = live.clone();
        a.merge(snapshot.clone());
        let mut b = snapshot;
        b.merge(live.clone());
        b.merge(live);
        assert_eq!(a, b);
        assert_eq!(a.hpo_terms, vec!["HP:0000083", "HP:0000107", "HP:0000113"]);
        assert_eq!(a.disease_count, 1);
        // The stored JSON parses back to the same record (a merge run reads it).
        let stored: HpoEvidence =
            serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        let mut again = stored.clone();
        again.merge(stored);
        assert_eq!(again, a);
    }
}
