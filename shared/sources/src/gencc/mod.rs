//! GenCC: gene-disease classifications submitted by many curation groups.
//!
//! One chunk per run (the submissions export, or the snapshot's summary column). Raw items are
//! submission rows; normalization groups them by gene. The live fetcher (`live.rs`) reads the
//! XLSX export and keeps the rows [`is_kidney_text`] selects; the snapshot is already selected.

pub mod live;
pub mod model;
pub mod snapshot;

use chrono::NaiveDate;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{GeneEvidence, Source, SourceError};
use serde::{Deserialize, Serialize};

use crate::classification::group_classifications;
use kgdb_core::sorted_unique;

pub use model::{GenccEvidence, GenccRawData, Submission};

pub use crate::keywords::{KIDNEY_KEYWORDS, is_kidney_text};

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
        let mut genes = group_classifications(
            raw.into_iter().map(|row| (row.submission, row.date)),
            |r| (r.hgnc_id.as_str(), r.symbol.as_str()),
            GenccEvidence::new,
        );
        // The symbols the submitters wrote (kept in raw_data) become the gene's aliases where
        // they differ from the approved one.
        for gene in &mut genes {
            let written = gene.evidence.submissions.iter().flat_map(|s| {
                [
                    &s.raw_data.gene_symbol,
                    &s.raw_data.submitted_as_hgnc_symbol,
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .cloned()
            });
            let reported = std::mem::take(&mut gene.gene.reported_symbols);
            gene.gene.reported_symbols = sorted_unique(reported.into_iter().chain(written));
        }
        Ok(genes)
    }
}
