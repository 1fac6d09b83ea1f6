//! HPO: genes annotated, through diseases, to kidney phenotypes (descendants of HP:0010935
//! "Abnormality of the upper urinary tract").
//!
//! Raw items are (gene, disease, terms) annotations; normalization joins them per gene. The
//! snapshot names each gene's diseases; the live fetcher (`live.rs`, the JAX API's term → genes
//! view) links genes to terms without a disease ([`model::NO_DISEASE`]).

pub mod live;
pub mod model;
pub mod snapshot;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError, join_by_gene};
use kgdb_core::{SourceName, normalize_hgnc_id};
use serde::{Deserialize, Serialize};

pub use model::{DiseaseTerms, HpoEvidence, SyndromicAssessment};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HpoChunk {
    /// The snapshot, whole.
    All,
    /// A batch of the kidney terms, as the live fetcher's plan cut them (`live.rs`): part
    /// `part` (from 0) of `parts`, its HPO ids.
    Terms {
        part: usize,
        parts: usize,
        terms: Vec<String>,
    },
}

/// A gene's annotation to a disease and the kidney terms that disease carries.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneDiseaseTerms {
    pub hgnc_id: String,
    pub approved_symbol: String,
    pub reported_symbols: Vec<String>,
    pub disease: DiseaseTerms,
    pub date: Option<NaiveDate>,
}

pub struct Hpo;

impl Source for Hpo {
    type Chunk = HpoChunk;
    type Raw = GeneDiseaseTerms;
    type Evidence = HpoEvidence;

    fn name(&self) -> SourceName {
        SourceName::Hpo
    }

    fn normalize(
        &self,
        raw: Vec<GeneDiseaseTerms>,
    ) -> Result<Vec<GeneEvidence<HpoEvidence>>, SourceError> {
        Ok(join_by_gene(raw.into_iter().filter_map(|item| {
            let hgnc_id = normalize_hgnc_id(&item.hgnc_id)?;
            Some(GeneEvidence {
                evidence: HpoEvidence::new(hgnc_id.clone(), vec![item.disease], item.date),
                gene: GeneRef {
                    hgnc_id,
                    approved_symbol: item.approved_symbol,
                    reported_symbols: item.reported_symbols,
                },
                evidence_date: item.date,
            })
        })))
    }
}
