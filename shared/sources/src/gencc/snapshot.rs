//! GenCC from the bundled snapshot: the `gencc_summary` column of the annotated high-evidence
//! table (classification, disease, MONDO id, inheritance; no submitter or date).

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};

use super::{Gencc, GenccChunk, GenccRawData, Submission, SubmissionRow};
use crate::classification::read_annotated_column;
use crate::files::SnapshotDir;

pub struct GenccSnapshot {
    dir: SnapshotDir,
}

impl GenccSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    pub(crate) fn read(&self) -> Result<Vec<SubmissionRow>, SourceError> {
        let path = self
            .dir
            .kidney_genetics("C_high_evidence_annotated_csv_table");
        let date = Some(SnapshotDir::snapshot_date());
        Ok(read_annotated_column(SourceName::GenCC, &path)?
            .into_iter()
            .flat_map(|gene| {
                let (hgnc_id, symbol) = (gene.hgnc_id, gene.approved_symbol);
                gene.assertions.into_iter().map(move |a| {
                    let mondo_id = a.mondo_id.unwrap_or_default();
                    let moi = a.mode_of_inheritance.unwrap_or_default();
                    SubmissionRow {
                        submission: Submission {
                            symbol: symbol.clone(),
                            hgnc_id: hgnc_id.clone(),
                            raw_data: GenccRawData {
                                gene_curie: hgnc_id.clone(),
                                gene_symbol: symbol.clone(),
                                disease_curie: mondo_id.clone(),
                                disease_title: a.disease_name.clone(),
                                classification_title: a.classification.clone(),
                                moi_title: moi.clone(),
                                submitter_title: String::new(),
                                submitted_as_hgnc_id: hgnc_id.clone(),
                                submitted_as_hgnc_symbol: symbol.clone(),
                            },
                            disease_name: a.disease_name,
                            mondo_id,
                            classification: a.classification,
                            submitter: String::new(),
                            mode_of_inheritance: moi,
                            submission_date: String::new(),
                        },
                        date,
                    }
                })
            })
            .collect())
    }
}

impl Fetcher<Gencc> for GenccSnapshot {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<GenccChunk>, SourceError>> {
        Box::pin(async { Ok(vec![GenccChunk::All]) })
    }

    fn fetch<'a>(
        &'a self,
        _chunk: &'a GenccChunk,
    ) -> BoxFuture<'a, Result<Vec<SubmissionRow>, SourceError>> {
        Box::pin(async move { self.read() })
    }
}

#[cfg(test)]
mod tests {
    use kgdb_core::pipeline::Source;

    use super::*;

    #[test]
    fn every_snapshot_summary_parses() {
        let raw = GenccSnapshot::new(SnapshotDir::in_repo()).read().unwrap();
        let genes = Gencc.normalize(raw).unwrap();
        assert_eq!(genes.len(), 566);
        let pkd1 = genes
            .iter()
            .find(|g| g.gene.approved_symbol == "PKD1")
            .unwrap();
        assert_eq!(pkd1.evidence.classifications[0], "Definitive");
        assert_eq!(
            pkd1.evidence.submissions[0].raw_data.gene_curie,
            "HGNC:9008"
        );
    }
}
