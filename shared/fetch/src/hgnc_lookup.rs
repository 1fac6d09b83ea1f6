//! HGNC's REST search as the last step of gene normalization (`kgdb_core::genes::HgncLookup`):
//! `search/symbol/{S}`, then `search/prev_symbol/{S}`, then `search/alias_symbol/{S}` (the
//! original's order), JSON only with `Accept: application/json`. A field that matches exactly
//! one gene answers; several matches (an alias two genes share) are left to a curator, as is
//! an unreachable service (the symbol is then staged and the next run asks again).

use futures::future::BoxFuture;
use kgdb_core::genes::{HgncLookup, ResolvedGene};
use serde::Deserialize;

use crate::HttpClient;

pub const SEARCH_URL: &str = "https://rest.genenames.org/search";

#[derive(Debug, Deserialize)]
struct SearchAnswer {
    response: SearchResponse,
}

#[derive(Debug, Deserialize)]
struct SearchResponse {
    #[serde(rename = "numFound")]
    num_found: u64,
    #[serde(default)]
    docs: Vec<SearchDoc>,
}

#[derive(Debug, Deserialize)]
struct SearchDoc {
    hgnc_id: String,
    symbol: String,
}

pub struct HgncRestLookup {
    client: HttpClient,
    base: String,
}

impl HgncRestLookup {
    pub fn new(client: HttpClient) -> Self {
        Self {
            client,
            base: SEARCH_URL.to_string(),
        }
    }

    async fn search(&self, field: &str, symbol: &str) -> Option<Option<ResolvedGene>> {
        // Symbols are [A-Z0-9-._@] after cleaning; anything else is not asked.
        if symbol.is_empty()
            || !symbol
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '@'))
        {
            return Some(None);
        }
        let url = format!("{}/{field}/{symbol}", self.base);
        let answer: SearchAnswer = match self.client.get_json(&url).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "HGNC search failed");
                return None;
            }
        };
        let response = answer.response;
        match (response.num_found, response.docs.as_slice()) {
            (0, _) => Some(None),
            (1, [doc]) if doc.hgnc_id.starts_with("HGNC:") => Some(Some(ResolvedGene {
                hgnc_id: doc.hgnc_id.clone(),
                approved_symbol: doc.symbol.clone(),
            })),
            // Several genes: a decision for a curator, not for the first hit.
            _ => None,
        }
    }
}

impl HgncLookup for HgncRestLookup {
    fn lookup<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, Option<ResolvedGene>> {
        Box::pin(async move {
            for field in ["symbol", "prev_symbol", "alias_symbol"] {
                match self.search(field, symbol).await {
                    Some(Some(found)) => return Some(found),
                    Some(None) => continue,
                    None => return None,
                }
            }
            None
        })
    }
}
