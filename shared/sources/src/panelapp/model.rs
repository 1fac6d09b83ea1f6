//! PanelApp's `evidence_data`: the keys the original stores, plus `hgnc_id`.

use chrono::NaiveDate;
use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::sorted_unique;
use serde::{Deserialize, Serialize};

/// A panel listing the gene as Green.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PanelRef {
    pub id: i64,
    pub name: String,
    pub version: String,
    /// `UK` or `Australia`: panel ids are per instance, so the region is part of the identity.
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelAppEvidence {
    pub hgnc_id: String,
    /// Counted by the score (`kgdb_source_count`).
    pub panels: Vec<PanelRef>,
    pub regions: Vec<String>,
    /// Phenotypes the panels give for the gene (the snapshot has none: `[]`).
    #[serde(default)]
    pub phenotypes: Vec<String>,
    #[serde(default)]
    pub modes_of_inheritance: Vec<String>,
    /// Always `["green"]`: only Green genes are kept.
    pub evidence_levels: Vec<String>,
    pub panel_count: usize,
    pub last_updated: Option<NaiveDate>,
}

impl PanelAppEvidence {
    pub fn new(
        hgnc_id: String,
        panels: Vec<PanelRef>,
        phenotypes: Vec<String>,
        modes_of_inheritance: Vec<String>,
        last_updated: Option<NaiveDate>,
    ) -> Self {
        let mut evidence = Self {
            hgnc_id,
            panels,
            regions: Vec::new(),
            phenotypes,
            modes_of_inheritance,
            evidence_levels: vec!["green".into()],
            panel_count: 0,
            last_updated,
        };
        evidence.derive();
        evidence
    }

    /// Sorted sets and the counts that follow from them.
    fn derive(&mut self) {
        self.panels.sort();
        self.panels
            .dedup_by(|a, b| a.id == b.id && a.region == b.region);
        self.regions = sorted_unique(self.panels.iter().map(|p| p.region.clone()));
        self.phenotypes = sorted_unique(std::mem::take(&mut self.phenotypes));
        self.modes_of_inheritance = sorted_unique(std::mem::take(&mut self.modes_of_inheritance));
        self.evidence_levels = sorted_unique(std::mem::take(&mut self.evidence_levels));
        self.panel_count = self.panels.len();
    }
}

impl EvidenceModel for PanelAppEvidence {
    fn merge(&mut self, other: Self) {
        self.panels.extend(other.panels);
        self.phenotypes.extend(other.phenotypes);
        self.modes_of_inheritance.extend(other.modes_of_inheritance);
        self.evidence_levels.extend(other.evidence_levels);
        self.last_updated = self.last_updated.max(other.last_updated);
        self.derive();
    }

    fn summary(&self) -> String {
        format!(
            "PanelApp ({}): {} panel{}",
            self.regions.join(", "),
            self.panel_count,
            if self.panel_count == 1 { "" } else { "s" }
        )
    }
}
