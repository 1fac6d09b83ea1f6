//! Literature's `evidence_data`: the keys the original stores, plus `hgnc_id`.

use std::collections::BTreeMap;

use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::sorted_unique;
use serde::{Deserialize, Serialize};

/// What is known of a publication. Missing values are `null`, as in the curated files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicationDetail {
    pub pmid: String,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub journal: Option<String>,
    pub publication_date: Option<String>,
    pub url: Option<String>,
    pub doi: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiteratureEvidence {
    pub hgnc_id: String,
    /// PMIDs; counted by the score (through `publication_count`).
    pub publications: Vec<String>,
    pub publication_details: BTreeMap<String, PublicationDetail>,
    pub publication_count: usize,
    #[serde(default)]
    pub hgnc_ids: Vec<String>,
}

impl LiteratureEvidence {
    pub fn new(hgnc_id: String, detail: PublicationDetail) -> Self {
        let mut evidence = Self {
            hgnc_ids: vec![hgnc_id.clone()],
            hgnc_id,
            publications: Vec::new(),
            publication_details: BTreeMap::from([(detail.pmid.clone(), detail)]),
            publication_count: 0,
        };
        evidence.derive();
        evidence
    }

    fn derive(&mut self) {
        self.publications = self.publication_details.keys().cloned().collect();
        self.publication_count = self.publications.len();
        self.hgnc_ids = sorted_unique(std::mem::take(&mut self.hgnc_ids));
    }
}

impl EvidenceModel for LiteratureEvidence {
    fn merge(&mut self, other: Self) {
        self.publication_details.extend(other.publication_details);
        self.hgnc_ids.extend(other.hgnc_ids);
        self.derive();
    }

    fn summary(&self) -> String {
        format!("Literature: {} publications", self.publication_count)
    }
}
