//! Literature (hybrid source): genes reported in curated kidney-genetics publications, from
//! curated publication files (the original's upload format).
//!
//! One chunk per publication; a gene named by several publications is joined when the run
//! completes.

pub mod model;
pub mod snapshot;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError, join_by_gene};
use kgdb_core::{SourceName, normalize_hgnc_id};
use serde::{Deserialize, Serialize};

pub use model::{LiteratureEvidence, PublicationDetail};

/// One publication's file, by its stem (`literature_pmid_26862157`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication(pub String);

/// A publication file (`literature/literature_pmid_<n>.json`).
#[derive(Debug, Deserialize)]
pub struct PublicationFile {
    pub pmid: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub journal: Option<String>,
    #[serde(default)]
    pub publication_date: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub doi: Option<String>,
    #[serde(default)]
    pub extraction_timestamp: Option<String>,
    pub genes: Vec<PublicationGene>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublicationGene {
    pub symbol: String,
    #[serde(default)]
    pub hgnc_id: Option<String>,
    #[serde(default)]
    pub reported_as: Option<String>,
}

/// A gene as one publication reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneInPublication {
    pub publication: PublicationDetail,
    pub gene: PublicationGene,
    pub date: Option<NaiveDate>,
}

pub struct Literature;

impl Source for Literature {
    type Chunk = Publication;
    type Raw = GeneInPublication;
    type Evidence = LiteratureEvidence;

    fn name(&self) -> SourceName {
        SourceName::Literature
    }

    fn normalize(
        &self,
        raw: Vec<GeneInPublication>,
    ) -> Result<Vec<GeneEvidence<LiteratureEvidence>>, SourceError> {
        let total = raw.len();
        let reported: Vec<GeneEvidence<LiteratureEvidence>> = raw
            .into_iter()
            .filter_map(|item| {
                let hgnc_id = item.gene.hgnc_id.as_deref().and_then(normalize_hgnc_id)?;
                Some(GeneEvidence {
                    evidence: LiteratureEvidence::new(hgnc_id.clone(), item.publication),
                    gene: GeneRef {
                        hgnc_id,
                        approved_symbol: item.gene.symbol,
                        reported_symbols: item.gene.reported_as.into_iter().collect(),
                    },
                    evidence_date: item.date,
                })
            })
            .collect();
        if reported.len() < total {
            let skipped = total - reported.len();
            tracing::warn!(skipped, "Literature genes without HGNC id skipped");
        }
        Ok(join_by_gene(reported))
    }
}
