//! PanelApp (Genomics England UK and PanelApp Australia): genes rated Green on kidney panels.
//!
//! A run has one chunk per region. Raw items are (gene, panel) pairs as a panel's detail lists
//! them; normalization keeps Green ratings and joins each gene's panels.

pub mod live;
pub mod model;
pub mod snapshot;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError, join_by_gene};
use kgdb_core::{SourceName, normalize_hgnc_id};
use serde::{Deserialize, Serialize};

pub use model::{PanelAppEvidence, PanelRef};

/// A PanelApp instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Region {
    #[serde(rename = "UK")]
    Uk,
    Australia,
}

impl Region {
    pub const ALL: [Region; 2] = [Region::Uk, Region::Australia];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Uk => "UK",
            Region::Australia => "Australia",
        }
    }
}

/// One gene on one panel, with the panel's rating of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelGene {
    pub hgnc_id: String,
    pub approved_symbol: String,
    pub reported_symbols: Vec<String>,
    pub panel: PanelRef,
    /// PanelApp's rating: `green`, `amber`, `red`, or the API's confidence level `0`-`4`.
    pub confidence: String,
    pub phenotypes: Vec<String>,
    pub mode_of_inheritance: Option<String>,
    pub last_updated: Option<NaiveDate>,
}

/// Green in PanelApp's words: `green`, or confidence level 3 or 4 in the API.
pub fn is_green(confidence: &str) -> bool {
    let c = confidence.trim();
    c.eq_ignore_ascii_case("green") || c == "3" || c == "4"
}

pub struct PanelApp;

impl Source for PanelApp {
    type Chunk = Region;
    type Raw = PanelGene;
    type Evidence = PanelAppEvidence;

    fn name(&self) -> SourceName {
        SourceName::PanelApp
    }

    fn normalize(
        &self,
        raw: Vec<PanelGene>,
    ) -> Result<Vec<GeneEvidence<PanelAppEvidence>>, SourceError> {
        Ok(join_by_gene(
            raw.into_iter()
                .filter(|g| is_green(&g.confidence))
                .filter_map(|item| {
                    let hgnc_id = normalize_hgnc_id(&item.hgnc_id)?;
                    Some(GeneEvidence {
                        evidence: PanelAppEvidence::new(
                            hgnc_id.clone(),
                            vec![item.panel],
                            item.phenotypes,
                            item.mode_of_inheritance.into_iter().collect(),
                            item.last_updated,
                        ),
                        gene: GeneRef {
                            hgnc_id,
                            approved_symbol: item.approved_symbol,
                            reported_symbols: item.reported_symbols,
                        },
                        evidence_date: item.last_updated,
                    })
                }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(hgnc: &str, panel: i64, region: &str, confidence: &str) -> PanelGene {
        PanelGene {
            hgnc_id: hgnc.into(),
            approved_symbol: "X".into(),
            reported_symbols: vec!["X".into()],
            panel: PanelRef {
                id: panel,
                name: format!("panel {panel}"),
                version: "1.0".into(),
                region: region.into(),
            },
            confidence: confidence.into(),
            phenotypes: vec![],
            mode_of_inheritance: None,
            last_updated: None,
        }
    }

    #[test]
    fn keeps_green_only_and_joins_a_genes_panels() {
        let out = PanelApp
            .normalize(vec![
                item("HGNC:1", 1, "UK", "Green"),
                item("HGNC:1", 2, "Australia", "3"),
                item("HGNC:1", 3, "UK", "Amber"),
                item("HGNC:2", 1, "UK", "red"),
                item("nope", 1, "UK", "green"),
            ])
            .unwrap();
        assert_eq!(out.len(), 1);
        let e = &out[0].evidence;
        assert_eq!(e.panel_count, 2);
        assert_eq!(e.regions, vec!["Australia", "UK"]);
        assert_eq!(e.evidence_levels, vec!["green"]);
    }
}
