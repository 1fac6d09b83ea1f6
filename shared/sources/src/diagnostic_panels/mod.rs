//! DiagnosticPanels (hybrid source): genes on the commercial kidney gene panels of diagnostic
//! labs, from curated lab files (the format the original accepts as uploads).
//!
//! One chunk per lab (provider); a gene listed by several labs is joined when the run completes.

pub mod model;
pub mod snapshot;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError, join_by_gene};
use kgdb_core::{SourceName, normalize_hgnc_id};
use serde::{Deserialize, Serialize};

pub use model::DiagnosticPanelsEvidence;

/// One lab's file, by its stem (`cegat`, `mayo_clinic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider(pub String);

/// A lab file (`diagnostic_panels/<lab>.json`).
#[derive(Debug, Deserialize)]
pub struct LabFile {
    pub provider_id: String,
    pub provider_name: String,
    #[serde(default)]
    pub scraped_at: Option<String>,
    pub genes: Vec<LabGene>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LabGene {
    pub symbol: String,
    #[serde(default)]
    pub hgnc_id: Option<String>,
    #[serde(default)]
    pub panels: Vec<String>,
    #[serde(default)]
    pub reported_as: Option<String>,
}

/// A gene as one lab lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabListing {
    pub provider_name: String,
    pub gene: LabGene,
    pub date: Option<NaiveDate>,
}

pub struct DiagnosticPanels;

impl Source for DiagnosticPanels {
    type Chunk = Provider;
    type Raw = LabListing;
    type Evidence = DiagnosticPanelsEvidence;

    fn name(&self) -> SourceName {
        SourceName::DiagnosticPanels
    }

    fn normalize(
        &self,
        raw: Vec<LabListing>,
    ) -> Result<Vec<GeneEvidence<DiagnosticPanelsEvidence>>, SourceError> {
        let total = raw.len();
        let listed: Vec<GeneEvidence<DiagnosticPanelsEvidence>> = raw
            .into_iter()
            .filter_map(|listing| {
                // The original stages symbols without an HGNC id for curator review; until that
                // queue exists they are counted and logged.
                let hgnc_id = listing
                    .gene
                    .hgnc_id
                    .as_deref()
                    .and_then(normalize_hgnc_id)?;
                Some(GeneEvidence {
                    evidence: DiagnosticPanelsEvidence::new(
                        hgnc_id.clone(),
                        listing.provider_name,
                        &listing.gene.panels,
                    ),
                    gene: GeneRef {
                        hgnc_id,
                        approved_symbol: listing.gene.symbol,
                        reported_symbols: listing.gene.reported_as.into_iter().collect(),
                    },
                    evidence_date: listing.date,
                })
            })
            .collect();
        if listed.len() < total {
            let skipped = total - listed.len();
            tracing::warn!(skipped, "DiagnosticPanels genes without HGNC id skipped");
        }
        Ok(join_by_gene(listed))
    }
}
