//! What the live fetchers (`<source>/live.rs`) share: how a failed HTTP call becomes a
//! [`SourceError`], and a per-fetch cache in front of the [`GeneResolver`] (a provider names
//! the same gene in many rows; the resolver is asked once per distinct reported gene).

use std::collections::HashMap;
use std::sync::Arc;

use kgdb_core::SourceName;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution, ResolvedGene};
use kgdb_core::pipeline::SourceError;
use kgdb_fetch::FetchError;

/// A call that failed after the client's retries: a malformed answer is `Malformed`, anything
/// else (status, timeout, transport) is `Fetch`. Either fails the chunk; the stored evidence stays.
pub fn fetch_error(source: SourceName, e: FetchError) -> SourceError {
    match e {
        FetchError::Malformed { .. } => SourceError::Malformed {
            source_name: Some(source),
            message: e.to_string(),
        },
        other => SourceError::Fetch {
            source_name: Some(source),
            message: other.to_string(),
        },
    }
}

pub fn malformed(source: SourceName, message: impl Into<String>) -> SourceError {
    SourceError::Malformed {
        source_name: Some(source),
        message: message.into(),
    }
}

/// Key of a reported gene: (symbol, NCBI id, HGNC id) as the provider wrote them.
type Reported = (String, Option<String>, Option<String>);

/// Resolves each distinct reported gene once per fetch. Unresolved genes are recorded by the
/// resolver itself; the fetcher leaves their rows out and counts them here.
pub struct ResolveCache {
    resolver: Arc<dyn GeneResolver>,
    source: SourceName,
    cache: HashMap<Reported, Option<ResolvedGene>>,
}

impl ResolveCache {
    pub fn new(resolver: Arc<dyn GeneResolver>, source: SourceName) -> Self {
        Self {
            resolver,
            source,
            cache: HashMap::new(),
        }
    }

    pub async fn resolve(
        &mut self,
        symbol: &str,
        ncbi_gene_id: Option<&str>,
        hgnc_id: Option<&str>,
    ) -> Option<ResolvedGene> {
        let key = (
            symbol.to_string(),
            ncbi_gene_id.map(str::to_string),
            hgnc_id.map(str::to_string),
        );
        if let Some(known) = self.cache.get(&key) {
            return known.clone();
        }
        let resolution = self
            .resolver
            .resolve(ReportedGene {
                source: self.source,
                symbol,
                ncbi_gene_id,
                hgnc_id,
            })
            .await;
        let resolved = match resolution {
            Resolution::Resolved(gene) => Some(gene),
            Resolution::Unresolved { reason } => {
                tracing::debug!(source = %self.source, symbol, ?ncbi_gene_id, ?hgnc_id, %reason, "gene unresolved; its rows are left out");
                None
            }
        };
        self.cache.insert(key, resolved.clone());
        resolved
    }

    /// Distinct reported genes the resolver could not place.
    pub fn unresolved(&self) -> usize {
        self.cache.values().filter(|r| r.is_none()).count()
    }
}
