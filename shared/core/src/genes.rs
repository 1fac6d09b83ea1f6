//! Gene normalization as the live evidence fetchers see it: a symbol a provider reports (with
//! its NCBI gene id when the provider gives one) becomes one of our genes, or is unresolved.
//! Implementations (`kgdb-store`, tests) decide where they look — our genes, the bundled
//! HGNC/Ensembl table, HGNC's REST API — and record every unresolved symbol with its source,
//! raw text and run in the staging table, so nothing is dropped silently.

use futures::future::BoxFuture;
use serde::Serialize;

use crate::SourceName;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedGene {
    /// `HGNC:<n>`.
    pub hgnc_id: String,
    pub approved_symbol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Resolution {
    Resolved(ResolvedGene),
    /// Not found anywhere (or ambiguous); already recorded for review by the resolver.
    Unresolved {
        reason: String,
    },
}

/// What one reported gene looked like at the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedGene<'a> {
    pub source: SourceName,
    /// As the provider wrote it (`PKD1`, `GENE:pkd1`, `TCF2`).
    pub symbol: &'a str,
    pub ncbi_gene_id: Option<&'a str>,
    pub hgnc_id: Option<&'a str>,
}

pub trait GeneResolver: Send + Sync {
    fn resolve<'a>(&'a self, reported: ReportedGene<'a>) -> BoxFuture<'a, Resolution>;
}
