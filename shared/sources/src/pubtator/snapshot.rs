//! PubTator from the bundled snapshot: `05_PubTator_genes`, one row per gene with its PMIDs
//! (`PMID_33107589 | PMID_30624993`); no mention text.

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};

use super::{ArticleHit, PubTator, PubTatorChunk};
use crate::files::{GeneListRow, SnapshotDir, for_each_gz_csv_row, split_list};

/// `PMID_1 | PMID_2` -> `["1", "2"]`
pub fn parse_pmids(raw: &str) -> Vec<String> {
    split_list(raw, " | ")
        .into_iter()
        .map(|p| {
            p.trim_start_matches("PMID_")
                .trim_start_matches("PMID:")
                .to_string()
        })
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

pub struct PubTatorSnapshot {
    dir: SnapshotDir,
}

impl PubTatorSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self) -> Result<Vec<ArticleHit>, SourceError> {
        let date = Some(SnapshotDir::snapshot_date());
        let mut out = Vec::new();
        let path = self.dir.kidney_genetics("05_PubTator_genes");
        for_each_gz_csv_row(SourceName::PubTator, &path, |row: GeneListRow| {
            let reported = row.reported_symbols();
            for pmid in parse_pmids(&row.source) {
                out.push(ArticleHit {
                    hgnc_id: row.hgnc_id.clone(),
                    approved_symbol: row.approved_symbol.clone(),
                    reported_symbols: reported.clone(),
                    pmid,
                    mention: None,
                    ncbi_gene_id: None,
                    date,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }
}

impl Fetcher<PubTator> for PubTatorSnapshot {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<PubTatorChunk>, SourceError>> {
        Box::pin(async { Ok(vec![PubTatorChunk::All]) })
    }

    fn fetch<'a>(
        &'a self,
        _chunk: &'a PubTatorChunk,
    ) -> BoxFuture<'a, Result<Vec<ArticleHit>, SourceError>> {
        Box::pin(async move { self.read() })
    }
}

#[cfg(test)]
mod tests {
    use kgdb_core::pipeline::Source;

    use super::*;

    #[test]
    fn pmids() {
        assert_eq!(
            parse_pmids("PMID_33107589 | PMID_30624993"),
            vec!["33107589", "30624993"]
        );
    }

    #[test]
    fn snapshot_genes_have_deduplicated_pmids_and_no_mentions() {
        let raw = PubTatorSnapshot::new(SnapshotDir::in_repo())
            .read()
            .unwrap();
        let genes = PubTator.normalize(raw).unwrap();
        assert_eq!(genes.len(), 2165);
        let a2m = genes
            .iter()
            .find(|g| g.gene.approved_symbol == "A2M")
            .unwrap();
        assert_eq!(a2m.evidence.publication_count, 2);
        assert_eq!(a2m.evidence.total_mentions, 0);
        assert_eq!(a2m.evidence.evidence_score, 0.0);
    }
}
