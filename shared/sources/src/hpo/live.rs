//! HPO live: genes annotated to the kidney phenotypes, from the JAX ontology API
//! `https://ontology.jax.org/api` (docs/provider-formats.md).
//!
//! **Plan**: `GET /hp/terms/HP:0010935/descendants` (a bare JSON array of term objects; the
//! root itself is not in it, and the original did not annotate it either) → the distinct HP
//! ids, sorted, cut into [`HpoChunk::Terms`] batches of at most
//! [`HpoLiveConfig::terms_per_chunk`] terms, balanced (sizes differ by at most one). The chunk
//! carries its term ids, so a worker never re-reads the descendants and a redelivered chunk
//! asks for the same terms.
//!
//! **Fetch** of a chunk: `GET /network/annotation/{hpo_id}` per term (`{genes[], diseases[],
//! ...}`), [`HpoLiveConfig::concurrency`] in flight; the client's per-domain limit spaces them
//! (ontology.jax.org 2 req/s in `DomainLimits::original()`, divided among concurrent workers)
//! and retries 429 / 5xx with backoff, honouring `Retry-After`. Each `genes[]` entry
//! (`{"id": "NCBIGene:5310", "name": "PKD1"}`) is placed by the [`GeneResolver`] (NCBI id +
//! symbol); unresolved genes are left out (the resolver records them). The raw item is one per
//! gene of the chunk: its terms, under [`NO_DISEASE`] — this view does not say through which of
//! the term's diseases a gene is linked, so live records count terms only, as the original's.
//!
//! **Chunk size arithmetic** (a chunk must end well inside a 10-minute Lambda): at `r`
//! requests/s a chunk of `n` terms needs `n / r` seconds of request slots. With `n` = 150:
//! 75 s at the original's 2 req/s, 150 s when two workers share the limit (1 req/s each), 300 s
//! at 0.5 req/s (four workers). That leaves at least 300 s of the 600 s for slow answers and
//! retries (a retried request waits 1, 2, 4, 8 s, or its `Retry-After` up to 120 s, then takes
//! a new slot) and for the resolver. A chunk whose retries run out fails and is redelivered
//! whole; its staged rows are replaced, never added to. HP:0010935 has several hundred
//! descendants: a handful of chunks.
//!
//! Errors: a term whose annotation is 404 (a term the API no longer has) is skipped with a
//! warning; every term of a chunk 404 is an error. Any other failure after the retries, or an
//! answer that is not the documented shape, fails the chunk ([`SourceError`]: the run keeps
//! the last good evidence). No descendants, or a chunk without any gene, is an error too (the
//! original marks an empty run failed).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::genes::GeneResolver;
use kgdb_core::pipeline::{Fetcher, SourceError};
use kgdb_fetch::{FetchError, HttpClient};
use serde_json::Value;

use super::model::NO_DISEASE;
use super::{DiseaseTerms, GeneDiseaseTerms, Hpo, HpoChunk};
use crate::live::{ResolveCache, fetch_error, malformed};

pub const JAX_API_URL: &str = "https://ontology.jax.org/api";
/// "Abnormality of the upper urinary tract".
pub const KIDNEY_ROOT: &str = "HP:0010935";
/// Terms per chunk (module docs: the arithmetic).
pub const TERMS_PER_CHUNK: usize = 150;
/// Annotation requests in flight per chunk; the domain limit spaces them anyway.
pub const CONCURRENCY: usize = 4;

const SOURCE: SourceName = SourceName::Hpo;

#[derive(Debug, Clone)]
pub struct HpoLiveConfig {
    pub api_url: String,
    pub root: String,
    pub terms_per_chunk: usize,
    pub concurrency: usize,
}

impl Default for HpoLiveConfig {
    fn default() -> Self {
        Self {
            api_url: JAX_API_URL.to_string(),
            root: KIDNEY_ROOT.to_string(),
            terms_per_chunk: TERMS_PER_CHUNK,
            concurrency: CONCURRENCY,
        }
    }
}

pub struct HpoLive {
    client: HttpClient,
    resolver: Arc<dyn GeneResolver>,
    config: HpoLiveConfig,
}

/// A gene as a term's annotation lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AnnotatedGene {
    ncbi_gene_id: Option<String>,
    symbol: String,
}

impl HpoLive {
    pub fn new(client: HttpClient, resolver: Arc<dyn GeneResolver>) -> Self {
        Self::with_config(client, resolver, HpoLiveConfig::default())
    }

    pub fn with_config(
        client: HttpClient,
        resolver: Arc<dyn GeneResolver>,
        config: HpoLiveConfig,
    ) -> Self {
        Self {
            client,
            resolver,
            config,
        }
    }

    /// The root's descendants: distinct HP ids, sorted.
    pub async fn descendants(&self) -> Result<Vec<String>, SourceError> {
        let url = format!(
            "{}/hp/terms/{}/descendants",
            self.config.api_url, self.config.root
        );
        let answer: Value = self
            .client
            .get_json(&url)
            .await
            .map_err(|e| fetch_error(SOURCE, e))?;
        let items = answer
            .as_array()
            .ok_or_else(|| malformed(SOURCE, format!("{url}: descendants are not a JSON array")))?;
        let mut terms = BTreeSet::new();
        for item in items {
            match item.get("id").and_then(Value::as_str) {
                Some(id) if is_hpo_id(id) => {
                    terms.insert(id.to_string());
                }
                _ => {
                    return Err(malformed(
                        SOURCE,
                        format!("{url}: a descendant without an HP id: {item}"),
                    ));
                }
            }
        }
        if terms.is_empty() {
            return Err(malformed(
                SOURCE,
                format!("{url}: no descendants; nothing to annotate"),
            ));
        }
        Ok(terms.into_iter().collect())
    }

    /// The genes annotated to `term`; `None` when the API does not know the term (404).
    async fn annotation(&self, term: &str) -> Result<Option<Vec<AnnotatedGene>>, SourceError> {
        let url = format!("{}/network/annotation/{term}", self.config.api_url);
        let answer: Value = match self.client.get_json(&url).await {
            Ok(answer) => answer,
            Err(FetchError::Status { status: 404, .. }) => {
                tracing::warn!(source = %SOURCE, term, "HPO term without annotation (404); skipped");
                return Ok(None);
            }
            Err(e) => return Err(fetch_error(SOURCE, e)),
        };
        let genes = answer
            .get("genes")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(SOURCE, format!("{url}: no genes array in the answer")))?;
        let mut out = Vec::with_capacity(genes.len());
        for gene in genes {
            let symbol = gene
                .get("name")
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or_default();
            if symbol.is_empty() {
                tracing::warn!(source = %SOURCE, term, %gene, "annotated gene without a symbol; skipped");
                continue;
            }
            let ncbi_gene_id = gene
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| id.strip_prefix("NCBIGene:"))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string);
            out.push(AnnotatedGene {
                ncbi_gene_id,
                symbol: symbol.to_string(),
            });
        }
        Ok(Some(out))
    }

    async fn fetch_terms(&self, terms: &[String]) -> Result<Vec<GeneDiseaseTerms>, SourceError> {
        if terms.is_empty() {
            return Err(malformed(SOURCE, "a chunk without terms"));
        }
        if let Some(bad) = terms.iter().find(|t| !is_hpo_id(t)) {
            // Chunks travel in queue messages: only HP ids become URLs.
            return Err(malformed(
                SOURCE,
                format!("a chunk names {bad:?}, not an HP id"),
            ));
        }
        // Boxed with explicit lifetimes: a closure returning an async block here is not
        // general enough for the Send future the Fetcher returns.
        type Answer<'t> = Result<(&'t String, Option<Vec<AnnotatedGene>>), SourceError>;
        let requests: Vec<BoxFuture<'_, Answer<'_>>> = terms
            .iter()
            .map(|term| -> BoxFuture<'_, Answer<'_>> {
                Box::pin(async move { self.annotation(term).await.map(|genes| (term, genes)) })
            })
            .collect();
        let answers: Vec<(&String, Option<Vec<AnnotatedGene>>)> = futures::stream::iter(requests)
            .buffered(self.config.concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let missing = answers.iter().filter(|(_, g)| g.is_none()).count();
        if missing == terms.len() {
            return Err(malformed(
                SOURCE,
                format!(
                    "none of the chunk's {} terms has an annotation (404)",
                    terms.len()
                ),
            ));
        }
        let date = Some(chrono::Utc::now().date_naive());
        let mut resolver = ResolveCache::new(self.resolver.clone(), SOURCE);
        // hgnc_id -> (approved symbol, symbols as reported, terms)
        let mut by_gene: BTreeMap<String, (String, BTreeSet<String>, BTreeSet<String>)> =
            BTreeMap::new();
        for (term, genes) in answers {
            for gene in genes.into_iter().flatten() {
                let Some(resolved) = resolver
                    .resolve(&gene.symbol, gene.ncbi_gene_id.as_deref(), None)
                    .await
                else {
                    continue;
                };
                let entry = by_gene.entry(resolved.hgnc_id).or_default();
                entry.0 = resolved.approved_symbol;
                entry.1.insert(gene.symbol);
                entry.2.insert(term.clone());
            }
        }
        tracing::info!(
            source = %SOURCE,
            terms = terms.len(),
            terms_missing = missing,
            genes = by_gene.len(),
            unresolved_genes = resolver.unresolved(),
            "HPO terms annotated"
        );
        if by_gene.is_empty() {
            return Err(malformed(
                SOURCE,
                format!(
                    "no resolvable gene annotated to any of the chunk's {} terms",
                    terms.len()
                ),
            ));
        }
        Ok(by_gene
            .into_iter()
            .map(
                |(hgnc_id, (approved_symbol, reported, terms))| GeneDiseaseTerms {
                    hgnc_id,
                    approved_symbol,
                    reported_symbols: reported.into_iter().collect(),
                    disease: DiseaseTerms {
                        id: NO_DISEASE.to_string(),
                        hpo_terms: terms.into_iter().collect(),
                    },
                    date,
                },
            )
            .collect())
    }
}

/// `terms` cut into `ceil(n / max)` chunks whose sizes differ by at most one.
pub fn cut_into_chunks(terms: Vec<String>, max: usize) -> Vec<HpoChunk> {
    let max = max.max(1);
    let n = terms.len();
    let parts = n.div_ceil(max);
    let mut rest = terms.into_iter();
    (0..parts)
        .map(|part| {
            let size = n / parts + usize::from(part < n % parts);
            HpoChunk::Terms {
                part,
                parts,
                terms: rest.by_ref().take(size).collect(),
            }
        })
        .collect()
}

impl Fetcher<Hpo> for HpoLive {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<HpoChunk>, SourceError>> {
        Box::pin(async move {
            let terms = self.descendants().await?;
            Ok(cut_into_chunks(terms, self.config.terms_per_chunk))
        })
    }

    fn fetch<'a>(
        &'a self,
        chunk: &'a HpoChunk,
    ) -> BoxFuture<'a, Result<Vec<GeneDiseaseTerms>, SourceError>> {
        Box::pin(async move {
            match chunk {
                HpoChunk::Terms { terms, .. } => self.fetch_terms(terms).await,
                HpoChunk::All => Err(malformed(
                    SOURCE,
                    "the live HPO fetcher reads term batches from its plan; `All` is the snapshot's chunk",
                )),
            }
        })
    }
}

/// `HP:` and seven digits.
pub fn is_hpo_id(id: &str) -> bool {
    id.strip_prefix("HP:")
        .is_some_and(|n| n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("HP:{i:07}")).collect()
    }

    fn sizes(chunks: &[HpoChunk]) -> Vec<usize> {
        chunks
            .iter()
            .map(|c| match c {
                HpoChunk::Terms { terms, .. } => terms.len(),
                HpoChunk::All => 0,
            })
            .collect()
    }

    #[test]
    fn terms_are_cut_into_balanced_chunks_keeping_every_term_once() {
        assert_eq!(sizes(&cut_into_chunks(ids(5), 2)), vec![2, 2, 1]);
        assert_eq!(sizes(&cut_into_chunks(ids(301), 150)), vec![101, 100, 100]);
        assert_eq!(sizes(&cut_into_chunks(ids(150), 150)), vec![150]);
        assert!(cut_into_chunks(Vec::new(), 150).is_empty());
        let chunks = cut_into_chunks(ids(7), 3);
        let all: Vec<String> = chunks
            .iter()
            .flat_map(|c| match c {
                HpoChunk::Terms { terms, .. } => terms.clone(),
                HpoChunk::All => Vec::new(),
            })
            .collect();
        assert_eq!(all, ids(7));
        assert!(matches!(
            &chunks[2],
            HpoChunk::Terms {
                part: 2,
                parts: 3,
                ..
            }
        ));
    }

    #[test]
    fn only_hp_ids_pass() {
        assert!(is_hpo_id("HP:0000107"));
        assert!(!is_hpo_id("HP:000107"));
        assert!(!is_hpo_id("HP:0000107/../x"));
        assert!(!is_hpo_id("OMIM:173900"));
    }
}
