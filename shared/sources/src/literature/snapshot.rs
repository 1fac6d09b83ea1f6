//! Literature from the bundled curated publication files (`kgdb-curated-2025/literature`).

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};

use super::{GeneInPublication, Literature, Publication, PublicationDetail, PublicationFile};
use crate::files::{SnapshotDir, checked_stem, iso_date, json_stems, read_json};

const SOURCE: SourceName = SourceName::Literature;

pub struct LiteratureSnapshot {
    dir: SnapshotDir,
}

impl LiteratureSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self, publication: &Publication) -> Result<Vec<GeneInPublication>, SourceError> {
        let stem = checked_stem(SOURCE, &publication.0)?;
        let path = self.dir.curated("literature").join(format!("{stem}.json"));
        let file: PublicationFile = read_json(SOURCE, &path)?;
        let detail = PublicationDetail {
            pmid: file.pmid,
            title: file.title,
            authors: file.authors,
            journal: file.journal,
            publication_date: file.publication_date,
            url: file.url,
            doi: file.doi,
        };
        let date = iso_date(file.extraction_timestamp.as_deref());
        Ok(file
            .genes
            .into_iter()
            .map(|gene| GeneInPublication {
                publication: detail.clone(),
                gene,
                date,
            })
            .collect())
    }
}

impl Fetcher<Literature> for LiteratureSnapshot {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<Publication>, SourceError>> {
        Box::pin(async {
            let stems = json_stems(SOURCE, &self.dir.curated("literature"))?;
            Ok(stems.into_iter().map(Publication).collect())
        })
    }

    fn fetch<'a>(
        &'a self,
        chunk: &'a Publication,
    ) -> BoxFuture<'a, Result<Vec<GeneInPublication>, SourceError>> {
        Box::pin(async move { self.read(chunk) })
    }
}

#[cfg(test)]
mod tests {
    use kgdb_core::pipeline::Source;

    use super::*;

    #[tokio::test]
    async fn plans_one_chunk_per_publication() {
        let fetcher = LiteratureSnapshot::new(SnapshotDir::in_repo());
        let plan = fetcher.plan().await.unwrap();
        assert_eq!(plan.len(), 12);
        let raw = fetcher.fetch(&plan[0]).await.unwrap();
        let genes = Literature.normalize(raw).unwrap();
        assert!(genes.iter().all(|g| g.evidence.publication_count == 1));
        assert!(
            genes[0]
                .evidence
                .publication_details
                .values()
                .all(|d| !d.pmid.is_empty())
        );
    }
}
