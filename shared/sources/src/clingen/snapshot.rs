//! ClinGen from the bundled snapshot: the `clingen_summary` column of the annotated
//! high-evidence table (classification, disease, MONDO id, inheritance; no panel or date).

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};

use super::{ClinGen, ClinGenChunk, Validity, ValidityRow};
use crate::classification::read_annotated_column;
use crate::files::SnapshotDir;

pub struct ClinGenSnapshot {
    dir: SnapshotDir,
}

impl ClinGenSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    pub(crate) fn read(&self) -> Result<Vec<ValidityRow>, SourceError> {
        let path = self
            .dir
            .kidney_genetics("C_high_evidence_annotated_csv_table");
        let date = Some(SnapshotDir::snapshot_date());
        Ok(read_annotated_column(SourceName::ClinGen, &path)?
            .into_iter()
            .flat_map(|gene| {
                let (hgnc_id, symbol) = (gene.hgnc_id, gene.approved_symbol);
                gene.assertions.into_iter().map(move |a| ValidityRow {
                    validity: Validity {
                        symbol: symbol.clone(),
                        hgnc_id: hgnc_id.clone(),
                        disease_name: a.disease_name,
                        classification: a.classification,
                        mode_of_inheritance: a.mode_of_inheritance.unwrap_or_default(),
                        expert_panel: String::new(),
                        mondo_id: a.mondo_id.unwrap_or_default(),
                        release_date: String::new(),
                        submission_id: String::new(),
                    },
                    date,
                    reported_symbol: None,
                })
            })
            .collect())
    }
}

impl Fetcher<ClinGen> for ClinGenSnapshot {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<ClinGenChunk>, SourceError>> {
        Box::pin(async { Ok(vec![ClinGenChunk::All]) })
    }

    fn fetch<'a>(
        &'a self,
        _chunk: &'a ClinGenChunk,
    ) -> BoxFuture<'a, Result<Vec<ValidityRow>, SourceError>> {
        Box::pin(async move { self.read() })
    }
}

#[cfg(test)]
mod tests {
    use kgdb_core::pipeline::Source;

    use super::*;

    #[test]
    fn every_snapshot_summary_parses() {
        let raw = ClinGenSnapshot::new(SnapshotDir::in_repo()).read().unwrap();
        assert_eq!(ClinGen.normalize(raw).unwrap().len(), 261);
    }
}
