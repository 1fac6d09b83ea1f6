//! DiagnosticPanels' `evidence_data`: the keys the original stores, plus `hgnc_id`.

use kgdb_core::pipeline::EvidenceModel;
use kgdb_core::sorted_unique;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticPanelsEvidence {
    pub hgnc_id: String,
    /// `"<provider>: <panel>"`, so equal panel names of different labs stay distinct.
    /// Counted by the score (through `panel_count`).
    pub panels: Vec<String>,
    pub providers: Vec<String>,
    pub panel_count: usize,
    pub provider_count: usize,
    /// The gene's HGNC ids as the labs reported them (one, once normalized).
    #[serde(default)]
    pub hgnc_ids: Vec<String>,
}

impl DiagnosticPanelsEvidence {
    pub fn new(hgnc_id: String, provider: String, panels: &[String]) -> Self {
        let mut evidence = Self {
            hgnc_ids: vec![hgnc_id.clone()],
            hgnc_id,
            panels: panels
                .iter()
                .map(|p| format!("{}: {}", provider, p.trim()))
                .collect(),
            providers: vec![provider],
            panel_count: 0,
            provider_count: 0,
        };
        evidence.derive();
        evidence
    }

    fn derive(&mut self) {
        self.panels = sorted_unique(std::mem::take(&mut self.panels));
        self.providers = sorted_unique(std::mem::take(&mut self.providers));
        self.hgnc_ids = sorted_unique(std::mem::take(&mut self.hgnc_ids));
        self.panel_count = self.panels.len();
        self.provider_count = self.providers.len();
    }
}

impl EvidenceModel for DiagnosticPanelsEvidence {
    fn merge(&mut self, other: Self) {
        self.panels.extend(other.panels);
        self.providers.extend(other.providers);
        self.hgnc_ids.extend(other.hgnc_ids);
        self.derive();
    }

    fn summary(&self) -> String {
        format!(
            "DiagnosticPanels: {} panels from {} providers",
            self.panel_count, self.provider_count
        )
    }
}
