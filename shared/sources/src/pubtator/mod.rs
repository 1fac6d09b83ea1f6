//! PubTator3: genes co-mentioned with kidney disease and variants in PubMed abstracts
//! (the query is [`kgdb_core::vocab::PUBTATOR_SEARCH_QUERY`]).
//!
//! Raw items are (gene, article) hits; normalization unions each gene's PMIDs and mentions.

pub mod model;
pub mod snapshot;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError};
use kgdb_core::{SourceName, normalize_hgnc_id, sorted_unique};
use serde::{Deserialize, Serialize};

pub use model::{Mention, PubTatorEvidence};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PubTatorChunk {
    All,
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
        struct Acc {
            symbol: String,
            reported: Vec<String>,
            pmids: Vec<String>,
            mentions: Vec<Mention>,
            identifiers: Vec<String>,
            date: Option<NaiveDate>,
        }
        let mut by_gene: BTreeMap<String, Acc> = BTreeMap::new();
        for hit in raw {
            let Some(hgnc_id) = normalize_hgnc_id(&hit.hgnc_id) else {
                continue;
            };
            if hit.pmid.is_empty() || !hit.pmid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let acc = by_gene.entry(hgnc_id).or_insert_with(|| Acc {
                symbol: hit.approved_symbol.clone(),
                reported: Vec::new(),
                pmids: Vec::new(),
                mentions: Vec::new(),
                identifiers: Vec::new(),
                date: None,
            });
            acc.reported.extend(hit.reported_symbols);
            acc.pmids.push(hit.pmid);
            acc.mentions.extend(hit.mention);
            acc.identifiers.extend(hit.ncbi_gene_id);
            acc.date = acc.date.max(hit.date);
        }
        Ok(by_gene
            .into_iter()
            .map(|(hgnc_id, acc)| GeneEvidence {
                gene: GeneRef {
                    hgnc_id: hgnc_id.clone(),
                    approved_symbol: acc.symbol,
                    reported_symbols: sorted_unique(acc.reported),
                },
                evidence: PubTatorEvidence::new(
                    hgnc_id,
                    acc.pmids,
                    acc.mentions,
                    acc.identifiers,
                    acc.date,
                ),
                evidence_date: acc.date,
            })
            .collect())
    }
}
