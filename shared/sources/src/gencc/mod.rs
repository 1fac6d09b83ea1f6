//! GenCC: gene-disease classifications submitted by many curation groups.
//!
//! One chunk per run (the submissions export, or the snapshot's summary column). Raw items are
//! submission rows; normalization groups them by gene.

pub mod model;
pub mod snapshot;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kgdb_core::pipeline::{GeneEvidence, GeneRef, Source, SourceError};
use kgdb_core::{SourceName, normalize_hgnc_id};
use serde::{Deserialize, Serialize};

pub use model::{GenccEvidence, GenccRawData, Submission};

/// GenCC is fetched whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GenccChunk {
    All,
}

/// One submission with the date it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRow {
    pub submission: Submission,
    pub date: Option<NaiveDate>,
}

pub struct Gencc;

impl Source for Gencc {
    type Chunk = GenccChunk;
    type Raw = SubmissionRow;
    type Evidence = GenccEvidence;

    fn name(&self) -> SourceName {
        SourceName::GenCC
    }

    fn normalize(
        &self,
        raw: Vec<SubmissionRow>,
    ) -> Result<Vec<GeneEvidence<GenccEvidence>>, SourceError> {
        let mut by_gene: BTreeMap<String, (String, Vec<Submission>, Option<NaiveDate>)> =
            BTreeMap::new();
        for row in raw {
            let Some(hgnc_id) = normalize_hgnc_id(&row.submission.hgnc_id) else {
                continue;
            };
            let entry = by_gene
                .entry(hgnc_id)
                .or_insert_with(|| (row.submission.symbol.clone(), Vec::new(), None));
            entry.1.push(row.submission);
            entry.2 = entry.2.max(row.date);
        }
        Ok(by_gene
            .into_iter()
            .map(|(hgnc_id, (symbol, submissions, date))| GeneEvidence {
                gene: GeneRef {
                    hgnc_id: hgnc_id.clone(),
                    approved_symbol: symbol.clone(),
                    reported_symbols: vec![symbol],
                },
                evidence: GenccEvidence::new(hgnc_id, submissions, date),
                evidence_date: date,
            })
            .collect())
    }
}
