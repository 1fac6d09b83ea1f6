//! HPO from the bundled snapshot: `04_HPO_genes`, whose `source` column lists each gene's
//! diseases with their kidney terms (`OMIM:264800 (HP:0100817); OMIM:614473 (HP:0000121 | ...)`).

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};

use super::{DiseaseTerms, GeneDiseaseTerms, Hpo, HpoChunk};
use crate::files::{GeneListRow, SnapshotDir, for_each_gz_csv_row};

pub fn parse_diseases(raw: &str) -> Vec<DiseaseTerms> {
    raw.split("; ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once(" (") {
            Some((id, rest)) => DiseaseTerms {
                id: id.trim().to_string(),
                hpo_terms: rest
                    .trim_end_matches(')')
                    .split(" | ")
                    .map(str::trim)
                    .filter(|t| t.starts_with("HP:"))
                    .map(str::to_string)
                    .collect(),
            },
            None => DiseaseTerms {
                id: item.to_string(),
                hpo_terms: Vec::new(),
            },
        })
        .collect()
}

pub struct HpoSnapshot {
    dir: SnapshotDir,
}

impl HpoSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self) -> Result<Vec<GeneDiseaseTerms>, SourceError> {
        let date = Some(SnapshotDir::snapshot_date());
        let mut out = Vec::new();
        let path = self.dir.kidney_genetics("04_HPO_genes");
        for_each_gz_csv_row(SourceName::Hpo, &path, |row: GeneListRow| {
            let reported = row.reported_symbols();
            for disease in parse_diseases(&row.source) {
                out.push(GeneDiseaseTerms {
                    hgnc_id: row.hgnc_id.clone(),
                    approved_symbol: row.approved_symbol.clone(),
                    reported_symbols: reported.clone(),
                    disease,
                    date,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }
}

impl Fetcher<Hpo> for HpoSnapshot {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<HpoChunk>, SourceError>> {
        Box::pin(async { Ok(vec![HpoChunk::All]) })
    }

    fn fetch<'a>(
        &'a self,
        _chunk: &'a HpoChunk,
    ) -> BoxFuture<'a, Result<Vec<GeneDiseaseTerms>, SourceError>> {
        Box::pin(async move { self.read() })
    }
}

#[cfg(test)]
mod tests {
    use kgdb_core::pipeline::Source;

    use super::*;

    #[test]
    fn parses_diseases_and_terms() {
        let d = parse_diseases("OMIM:264800 (HP:0100817); OMIM:614473 (HP:0000121 | HP:0000123)");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].id, "OMIM:614473");
        assert_eq!(d[1].hpo_terms, vec!["HP:0000121", "HP:0000123"]);
    }

    #[test]
    fn snapshot_genes_join_their_diseases() {
        let raw = HpoSnapshot::new(SnapshotDir::in_repo()).read().unwrap();
        let genes = Hpo.normalize(raw).unwrap();
        assert_eq!(genes.len(), 806);
        let e = &genes[0].evidence;
        assert_eq!(e.term_count, e.hpo_terms.len());
        assert_eq!(e.evidence_score, (e.term_count as f64 * 20.0).min(100.0));
    }
}
