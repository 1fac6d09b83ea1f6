//! DiagnosticPanels from the bundled curated lab files (`kgdb-curated-2025/diagnostic_panels`).

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};

use super::{DiagnosticPanels, LabFile, LabListing, Provider};
use crate::files::{SnapshotDir, checked_stem, iso_date, json_stems, read_json};

const SOURCE: SourceName = SourceName::DiagnosticPanels;

pub struct DiagnosticPanelsSnapshot {
    dir: SnapshotDir,
}

impl DiagnosticPanelsSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self, provider: &Provider) -> Result<Vec<LabListing>, SourceError> {
        let stem = checked_stem(SOURCE, &provider.0)?;
        let path = self
            .dir
            .curated("diagnostic_panels")
            .join(format!("{stem}.json"));
        let lab: LabFile = read_json(SOURCE, &path)?;
        let date = iso_date(lab.scraped_at.as_deref());
        Ok(lab
            .genes
            .into_iter()
            .map(|gene| LabListing {
                provider_name: lab.provider_name.clone(),
                gene,
                date,
            })
            .collect())
    }
}

impl Fetcher<DiagnosticPanels> for DiagnosticPanelsSnapshot {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<Provider>, SourceError>> {
        Box::pin(async {
            let stems = json_stems(SOURCE, &self.dir.curated("diagnostic_panels"))?;
            Ok(stems.into_iter().map(Provider).collect())
        })
    }

    fn fetch<'a>(
        &'a self,
        chunk: &'a Provider,
    ) -> BoxFuture<'a, Result<Vec<LabListing>, SourceError>> {
        Box::pin(async move { self.read(chunk) })
    }
}

#[cfg(test)]
mod tests {
    use kgdb_core::pipeline::Source;

    use super::*;

    #[tokio::test]
    async fn plans_one_chunk_per_lab_and_refuses_paths() {
        let fetcher = DiagnosticPanelsSnapshot::new(SnapshotDir::in_repo());
        let plan = fetcher.plan().await.unwrap();
        assert_eq!(plan.len(), 9);
        let cegat = fetcher.fetch(&Provider("cegat".into())).await.unwrap();
        assert!(!DiagnosticPanels.normalize(cegat).unwrap().is_empty());
        assert!(
            fetcher
                .fetch(&Provider("../../etc/passwd".into()))
                .await
                .is_err()
        );
    }
}
