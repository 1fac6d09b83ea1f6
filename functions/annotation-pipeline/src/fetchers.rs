use std::collections::BTreeMap;
use std::sync::Arc;

use kgdb_fetch::annotation::AnnotationFetcher;

/// The fetcher of each source the worker can run.
#[derive(Clone, Default)]
pub struct Fetchers {
    by_source: BTreeMap<&'static str, Arc<dyn AnnotationFetcher>>,
}

impl Fetchers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, fetcher: impl AnnotationFetcher + 'static) -> Self {
        self.by_source.insert(fetcher.source(), Arc::new(fetcher));
        self
    }

    pub fn get(&self, source: &str) -> Option<&Arc<dyn AnnotationFetcher>> {
        self.by_source.get(source)
    }

    pub fn sources(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_source.keys().copied()
    }
}

impl Fetchers {
    /// The ten live clients, sharing one HTTP client (its connection pool and domain limits).
    pub fn live(client: &kgdb_fetch::HttpClient) -> Self {
        use kgdb_fetch::sources::*;
        Self::new()
            .with(hgnc::HgncFetcher::new(client.clone()))
            .with(gnomad::GnomadFetcher::new(client.clone()))
            .with(clinvar::ClinvarFetcher::new(client.clone()))
            .with(hpo::HpoFetcher::new(client.clone()))
            .with(mpo_mgi::MpoMgiFetcher::new(client.clone()))
            .with(gtex::GtexFetcher::new(client.clone()))
            .with(descartes::DescartesFetcher::new(client.clone()))
            .with(string_ppi::StringPpiFetcher::new(client.clone()))
            .with(ensembl::EnsemblFetcher::new(client.clone()))
            .with(uniprot::UniprotFetcher::new(client.clone()))
    }

    /// The live clients on the environment's endpoints (`KGDB_FETCH_ORIGIN` sends every host to
    /// one local origin) with the original's per-domain limits, shared among
    /// `KGDB_WORKER_CONCURRENCY` concurrent workers (the event source's maximum concurrency).
    pub fn from_env() -> Result<Self, kgdb_fetch::FetchError> {
        let workers = std::env::var("KGDB_WORKER_CONCURRENCY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let client = kgdb_fetch::HttpClient::new(
            kgdb_fetch::ClientConfig::default(),
            kgdb_fetch::DomainLimits::original().shared_by(workers),
            kgdb_fetch::Endpoints::from_env()?,
        )?;
        Ok(Self::live(&client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kgdb_fetch::annotation::Chunking;
    use kgdb_pipeline::ChunkSize;

    #[test]
    fn every_source_has_a_live_client_chunked_as_the_planner_cuts_it() {
        let client = kgdb_fetch::HttpClient::new(
            kgdb_fetch::ClientConfig::default(),
            kgdb_fetch::DomainLimits::new([]),
            kgdb_fetch::Endpoints::real(),
        )
        .unwrap();
        let fetchers = Fetchers::live(&client);
        let mut sources: Vec<&str> = fetchers.sources().collect();
        let mut catalog = kgdb_core::annotation::ANNOTATION_SOURCES.to_vec();
        sources.sort_unstable();
        catalog.sort_unstable();
        assert_eq!(sources, catalog);
        for source in catalog {
            let fetcher = fetchers.get(source).unwrap();
            let planned = match kgdb_pipeline::plan::chunk_size(source) {
                ChunkSize::Bulk => Chunking::Bulk,
                ChunkSize::Genes(n) => Chunking::Genes(n),
            };
            assert_eq!(fetcher.chunking(), planned, "{source}");
            assert!(fetcher.ttl_days() > 0);
        }
    }
}
