//! GenCC: gene-disease classifications submitted by many curation groups.
//!
//! One chunk per run (the submissions export, or the snapshot's summary column). Raw items are
//! submission rows; normalization groups them by gene.

pub mod model;
pub mod snapshot;

use chrono::NaiveDate;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{GeneEvidence, Source, SourceError};
use serde::{Deserialize, Serialize};

use crate::classification::group_classifications;

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
        Ok(group_classifications(
            raw.into_iter().map(|row| (row.submission, row.date)),
            |r| (r.hgnc_id.as_str(), r.symbol.as_str()),
            GenccEvidence::new,
        ))
    }
}
