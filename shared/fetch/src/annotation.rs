//! The seam of the annotation pipeline: a fetcher takes a chunk of genes and returns their
//! records, plus per gene why it has none. A chunk-level error (the provider down, a broken
//! bulk file) fails the whole chunk: the queue retries it and the stored rows stay as they are.

use futures::future::BoxFuture;
use kgdb_core::annotation::AnnotationRecord;
use serde::{Deserialize, Serialize};

use crate::FetchError;

/// A gene as the fetchers need it: HGNC id and symbol always, the Ensembl and NCBI ids when
/// the hgnc source has stored them (it runs first for that reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneKey {
    pub hgnc_id: String,
    pub symbol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensembl_gene_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ncbi_gene_id: Option<String>,
    /// The gene's evidence score in percent (STRING's `ppi_score` weighs partners by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage_score: Option<f64>,
}

/// The chunk's genes by every key a provider may name them by (case-insensitive symbol, HGNC
/// id, Ensembl id without version, NCBI id), so a bulk parser keeps only our rows in O(1) per line.
#[derive(Debug, Default)]
pub struct GeneIndex {
    by_symbol: std::collections::HashMap<String, usize>,
    by_hgnc: std::collections::HashMap<String, usize>,
    by_ensembl: std::collections::HashMap<String, usize>,
    by_ncbi: std::collections::HashMap<String, usize>,
}

impl GeneIndex {
    pub fn new(genes: &[GeneKey]) -> Self {
        let mut index = Self::default();
        for (i, g) in genes.iter().enumerate() {
            index
                .by_symbol
                .entry(g.symbol.to_ascii_uppercase())
                .or_insert(i);
            index.by_hgnc.entry(g.hgnc_id.clone()).or_insert(i);
            if let Some(e) = &g.ensembl_gene_id {
                index
                    .by_ensembl
                    .entry(strip_version(e).to_string())
                    .or_insert(i);
            }
            if let Some(n) = &g.ncbi_gene_id {
                index.by_ncbi.entry(n.clone()).or_insert(i);
            }
        }
        index
    }

    pub fn symbol(&self, symbol: &str) -> Option<usize> {
        self.by_symbol
            .get(&symbol.trim().to_ascii_uppercase())
            .copied()
    }

    /// `HGNC:1234` or the bare number.
    pub fn hgnc(&self, id: &str) -> Option<usize> {
        let id = id.trim();
        if id.starts_with("HGNC:") {
            self.by_hgnc.get(id).copied()
        } else {
            self.by_hgnc.get(&format!("HGNC:{id}")).copied()
        }
    }

    /// `ENSG…` with or without its `.version`.
    pub fn ensembl(&self, id: &str) -> Option<usize> {
        self.by_ensembl.get(strip_version(id.trim())).copied()
    }

    pub fn ncbi(&self, id: &str) -> Option<usize> {
        self.by_ncbi.get(id.trim()).copied()
    }
}

/// `ENSG00000008710.20` → `ENSG00000008710`.
pub fn strip_version(id: &str) -> &str {
    id.split_once('.').map_or(id, |(base, _)| base)
}

/// Why a gene of the chunk got no record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneMiss {
    pub hgnc_id: String,
    /// `not_found` (the source has nothing for it: not an error) or `failed`.
    pub kind: MissKind,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissKind {
    NotFound,
    Failed,
}

#[derive(Debug, Default)]
pub struct FetchOutcome {
    pub records: Vec<AnnotationRecord>,
    pub misses: Vec<GeneMiss>,
}

impl FetchOutcome {
    pub fn not_found(&mut self, gene: &GeneKey, reason: impl Into<String>) {
        self.misses.push(GeneMiss {
            hgnc_id: gene.hgnc_id.clone(),
            kind: MissKind::NotFound,
            reason: reason.into(),
        });
    }

    pub fn failed(&mut self, gene: &GeneKey, reason: impl Into<String>) {
        self.misses.push(GeneMiss {
            hgnc_id: gene.hgnc_id.clone(),
            kind: MissKind::Failed,
            reason: reason.into(),
        });
    }
}

/// How a source is cut into queue messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// One bulk file streamed once: every due gene in one chunk.
    Bulk,
    /// Per-gene or batched API calls: this many genes per chunk.
    Genes(usize),
}

pub trait AnnotationFetcher: Send + Sync {
    /// One of `kgdb_core::annotation::ANNOTATION_SOURCES`.
    fn source(&self) -> &'static str;
    /// Days until a stored row is due again (the original's `cache_ttl_days`).
    fn ttl_days(&self) -> i32;
    fn chunking(&self) -> Chunking;
    fn fetch<'a>(&'a self, genes: &'a [GeneKey])
    -> BoxFuture<'a, Result<FetchOutcome, FetchError>>;

    /// As `fetch`, but hands each record to `emit` as soon as it is built, so the worker writes
    /// them in batches while the rest are built: a source whose records are large (ClinVar's
    /// variant lists) never holds them all. Returns the misses. Records are emitted only once
    /// the source has read everything it needs, so a failed fetch writes nothing.
    fn fetch_each<'a>(
        &'a self,
        genes: &'a [GeneKey],
        emit: &'a tokio::sync::mpsc::Sender<AnnotationRecord>,
    ) -> BoxFuture<'a, Result<Vec<GeneMiss>, FetchError>> {
        Box::pin(async move {
            let outcome = self.fetch(genes).await?;
            for record in outcome.records {
                emit_record(emit, record).await?;
            }
            Ok(outcome.misses)
        })
    }
}

/// Sends a record to the worker's writer; a writer that stopped (it failed) ends the fetch.
pub async fn emit_record(
    emit: &tokio::sync::mpsc::Sender<AnnotationRecord>,
    record: AnnotationRecord,
) -> Result<(), FetchError> {
    emit.send(record)
        .await
        .map_err(|_| FetchError::Config("the annotation writer stopped".into()))
}
