//! PubTator3: genes co-mentioned with kidney disease and variants in PubMed abstracts
//! (the query is [`kgdb_core::vocab::PUBTATOR_SEARCH_QUERY`]).
//!
//! Raw items are (gene, article) hits; normalization unions each gene's PMIDs and mentions.
//! Two fetchers deliver them: [`snapshot`] (the bundled gene list, one chunk) and [`live`]
//! (PubTator3's search, page ranges).

pub mod live;
pub mod model;
pub mod snapshot;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError, join_by_gene};
use kgdb_core::{SourceName, normalize_hgnc_id};
use serde::{Deserialize, Serialize};

pub use model::{Mention, PubTatorEvidence};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PubTatorChunk {
    /// Everything at once: the bundled snapshot.
    All,
    /// Search result pages `from..=to` (1-based, inclusive): the live fetcher.
    Pages { from: u32, to: u32 },
}

/// An article mentioning a gene.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleHit {
    pub hgnc_id: String,
    pub approved_symbol: String,
    pub reported_symbols: Vec<String>,
    pub pmid: String,
    /// The hit's details, when the search returned them.
    pub mention: Option<Mention>,
    /// PubTator's NCBI gene id for the mention.
    pub ncbi_gene_id: Option<String>,
    pub date: Option<NaiveDate>,
}

pub struct PubTator;

impl Source for PubTator {
    type Chunk = PubTatorChunk;
    type Raw = ArticleHit;
    type Evidence = PubTatorEvidence;

    fn name(&self) -> SourceName {
        SourceName::PubTator
    }

    fn normalize(
        &self,
        raw: Vec<ArticleHit>,
    ) -> Result<Vec<GeneEvidence<PubTatorEvidence>>, SourceError> {
        Ok(join_by_gene(raw.into_iter().filter_map(|hit| {
            let hgnc_id = normalize_hgnc_id(&hit.hgnc_id)?;
            if hit.pmid.is_empty() || !hit.pmid.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(GeneEvidence {
                evidence: PubTatorEvidence::new(
                    hgnc_id.clone(),
                    vec![hit.pmid],
                    hit.mention.into_iter().collect(),
                    hit.ncbi_gene_id.into_iter().collect(),
                    hit.date,
                ),
                gene: GeneRef {
                    hgnc_id,
                    approved_symbol: hit.approved_symbol,
                    reported_symbols: hit.reported_symbols,
                },
                evidence_date: hit.date,
            })
        })))
    }
}
