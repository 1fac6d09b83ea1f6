//! PubTator's `evidence_data`: the keys the original stores, plus `hgnc_id`, `search_query`
//! and `last_updated`.

use chrono::NaiveDate;
use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::sorted_unique;
use serde::{Deserialize, Serialize};

/// Most mentions kept per gene, and how many of them are `top_mentions` (the original's limits).
pub const MAX_MENTIONS: usize = 20;
pub const MAX_TOP_MENTIONS: usize = 5;

/// A search hit mentioning the gene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub pmid: String,
    pub title: String,
    pub journal: String,
    pub date: String,
    /// PubTator's search score.
    pub score: f64,
    /// The highlighted passage (`text_hl`).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PubTatorEvidence {
    pub hgnc_id: String,
    /// Counted by the score (through `publication_count`).
    pub pmids: Vec<String>,
    pub publication_count: usize,
    /// The best-scored mentions (at most 20) and the first five of them.
    #[serde(default)]
    pub mentions: Vec<Mention>,
    #[serde(default)]
    pub top_mentions: Vec<Mention>,
    /// Publications whose hit carried the gene mention: every PMID when mentions were fetched,
    /// 0 for data without mention text (the bundled snapshot).
    #[serde(default)]
    pub total_mentions: usize,
    /// NCBI gene ids PubTator annotated the gene with.
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Mean search score of the kept mentions (0 without mentions).
    #[serde(default)]
    pub evidence_score: f64,
    pub search_query: String,
    pub last_updated: Option<NaiveDate>,
}

impl PubTatorEvidence {
    pub fn new(
        hgnc_id: String,
        pmids: Vec<String>,
        mentions: Vec<Mention>,
        identifiers: Vec<String>,
        last_updated: Option<NaiveDate>,
    ) -> Self {
        let mut evidence = Self {
            hgnc_id,
            pmids,
            publication_count: 0,
            mentions,
            top_mentions: Vec::new(),
            total_mentions: 0,
            identifiers,
            evidence_score: 0.0,
            search_query: kgdb_core::vocab::PUBTATOR_SEARCH_QUERY.to_string(),
            last_updated,
        };
        evidence.derive();
        evidence
    }

    /// Sets, the best mentions (score, then PMID, so the choice is order-independent) and counts.
    fn derive(&mut self) {
        self.pmids = sorted_unique(std::mem::take(&mut self.pmids));
        self.identifiers = sorted_unique(std::mem::take(&mut self.identifiers));
        self.mentions.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.pmid.cmp(&b.pmid))
        });
        self.mentions.dedup_by(|a, b| a.pmid == b.pmid);
        self.mentions.truncate(MAX_MENTIONS);
        self.top_mentions = self
            .mentions
            .iter()
            .take(MAX_TOP_MENTIONS)
            .cloned()
            .collect();
        self.publication_count = self.pmids.len();
        self.total_mentions = if self.mentions.is_empty() {
            0
        } else {
            self.publication_count
        };
        self.evidence_score = if self.mentions.is_empty() {
            0.0
        } else {
            self.mentions.iter().map(|m| m.score).sum::<f64>() / self.mentions.len() as f64
        };
    }
}

impl EvidenceModel for PubTatorEvidence {
    fn merge(&mut self, other: Self) {
        self.pmids.extend(other.pmids);
        self.mentions.extend(other.mentions);
        self.identifiers.extend(other.identifiers);
        self.last_updated = self.last_updated.max(other.last_updated);
        self.derive();
    }

    fn summary(&self) -> String {
        format!("PubTator: {} publications", self.publication_count)
    }
}
