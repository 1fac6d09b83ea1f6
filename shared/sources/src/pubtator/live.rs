//! PubTator live: PubTator3's search (`GET {SEARCH_URL}?text=<query>&page=N&sort=score desc&
//! filters={}`, 10 articles a page, `total_pages` on every page) walked page by page. Genes come
//! from each article's `text_hl` with the original's pattern
//! `@GENE_(\w+)\s+@GENE_(\d+)\s+@@@([^@]+)@@@` (symbol, NCBI gene id, surface text), after
//! the `<m>…</m>` query-hit markup is removed, so a highlighted gene (`@<m>GENE_PKD1</m>`) is not
//! missed as it was in the original. Every gene goes through the [`GeneResolver`]; unresolved
//! ones are left out (the resolver has recorded them). Hits are the snapshot's [`ArticleHit`]s,
//! with the mention details (`pmid, title, journal, date, score, text`) the snapshot lacks.
//!
//! # Chunks
//!
//! [`Fetcher::plan`] asks page 1 for `total_pages` and cuts `1..=total_pages` into
//! [`PubTatorChunk::Pages`] of [`PubTatorConfig::pages_per_chunk`] pages (500). Each chunk runs
//! in one 10-minute (600 s) Lambda. NCBI allows 3 requests/s (`DomainLimits::original()` limits
//! `www.ncbi.nlm.nih.gov` to 3/s), so 500 pages take 500 / 3 ≈ 167 s of request slots. Up to
//! [`PubTatorConfig::pages_in_flight`] (3) pages are requested at once, so answers slower than
//! the slots (up to 1 s each) do not slow the walk. The remaining ≈ 430 s cover retries: a
//! page's retries back off 1, 2, 4, 8 s (with jitter), and a `Retry-After` is capped at 120 s.
//! A full run of about 5,700 pages (57,031 articles when the docs were written: 5,704 pages) is
//! 12 chunks: 11 × 500 pages and one of 204. The limit holds per process: chunks in concurrent
//! workers share NCBI's 3/s only when PubTator's worker concurrency is 1 or the limits are
//! `DomainLimits::shared_by(workers)`.
//!
//! # Pages
//!
//! A page that does not parse (not JSON, no `results`, a result without a PMID) fails its
//! chunk, as does a request whose retries ran out: the queue retries the chunk. A 404, an empty
//! `results`, or the page `total_pages` names ends the chunk: the search has fewer pages than
//! planned. An empty (or missing) page 1 is an error, in `plan()` and in the first chunk: an
//! empty run is a failed run, as in the original.
//!
//! # Smart and full mode
//!
//! [`UpdateMode::Full`] walks every page and replaces the stored evidence (the original's full
//! update deletes all rows first); [`UpdateMode::Smart`] is an incremental run that merges with
//! the stored rows (a union of PMIDs, see [`UpdateMode::run_mode`]). In smart mode the stored
//! PMIDs are given with [`PubTatorLive::with_known_pmids`]: their hits are skipped, and a page
//! is *stale* when more than [`PubTatorConfig::stale_share`] (90 %) of its articles are known.
//! A chunk stops early once [`PubTatorConfig::stale_pages_to_stop`] consecutive pages were stale
//! (101: the original stops after more than 100). A page with something new resets the count.
//! The count is per chunk: each chunk starts at zero and decides alone (chunks run in separate
//! messages, in any order), so a smart run costs at least `stale_pages_to_stop` pages per chunk
//! even when nothing is new. The search is sorted by score, not date, so new articles can sit on
//! any page; stopping early trades completeness for time, as the original does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use chrono::NaiveDate;
use futures::StreamExt;
use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution};
use kgdb_core::pipeline::{Fetcher, RunMode, SourceError};
use kgdb_core::vocab::PUBTATOR_SEARCH_QUERY;
use kgdb_fetch::{FetchError, HttpClient};
use serde::{Deserialize, Serialize};

use super::{ArticleHit, Mention, PubTator, PubTatorChunk};

/// PubTator3's search endpoint (docs/provider-formats.md; the original's config still names the
/// retired `pubtator-api`).
pub const SEARCH_URL: &str = "https://www.ncbi.nlm.nih.gov/research/pubtator3-api/search/";

/// The original's sort of the search.
pub const SORT: &str = "score desc";

/// The gene mention pattern of the original, applied after `<m>` tags are removed.
static GENE_PATTERN: LazyLock<regex_lite::Regex> = LazyLock::new(|| {
    regex_lite::Regex::new(r"@GENE_(\w+)\s+@GENE_(\d+)\s+@@@([^@]+)@@@")
        .unwrap_or_else(|e| panic!("the gene pattern is a valid regex: {e}"))
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// Incremental: known PMIDs skipped, early stop on stale pages, merged with stored rows.
    Smart,
    /// Every page; the run replaces the stored evidence.
    Full,
}

impl UpdateMode {
    /// How the run meets the stored rows: smart runs merge (union of PMIDs), full runs replace.
    pub fn run_mode(self) -> RunMode {
        match self {
            UpdateMode::Smart => RunMode::Merge,
            UpdateMode::Full => RunMode::Replace,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PubTatorConfig {
    /// The real search URL ([`SEARCH_URL`]); `Endpoints` sends it to a mock in tests.
    pub search_url: String,
    /// The original's query ([`PUBTATOR_SEARCH_QUERY`]).
    pub query: String,
    /// Pages per chunk (500: about 167 s of a 600 s Lambda at 3 req/s, see the module doc).
    pub pages_per_chunk: u32,
    /// Pages requested at once within a chunk (the domain limit still spaces them).
    pub pages_in_flight: usize,
    pub mode: UpdateMode,
    /// Smart mode: consecutive stale pages after which a chunk stops (the original: > 100).
    pub stale_pages_to_stop: u32,
    /// Smart mode: a page is stale when more than this share of its articles is known.
    pub stale_share: f64,
    /// The hits' date (`last_updated`); today (UTC) when unset.
    pub as_of: Option<NaiveDate>,
}

impl Default for PubTatorConfig {
    fn default() -> Self {
        Self {
            search_url: SEARCH_URL.to_string(),
            query: PUBTATOR_SEARCH_QUERY.to_string(),
            pages_per_chunk: 500,
            pages_in_flight: 3,
            mode: UpdateMode::Smart,
            stale_pages_to_stop: 101,
            stale_share: 0.9,
            as_of: None,
        }
    }
}

pub struct PubTatorLive {
    client: HttpClient,
    resolver: Arc<dyn GeneResolver>,
    config: PubTatorConfig,
    known_pmids: HashSet<String>,
}

impl PubTatorLive {
    pub fn new(client: HttpClient, resolver: Arc<dyn GeneResolver>) -> Self {
        Self::with_config(client, resolver, PubTatorConfig::default())
    }

    pub fn with_config(
        client: HttpClient,
        resolver: Arc<dyn GeneResolver>,
        config: PubTatorConfig,
    ) -> Self {
        Self {
            client,
            resolver,
            config,
            known_pmids: HashSet::new(),
        }
    }

    /// The stored PMIDs, for smart mode (ignored in full mode).
    pub fn with_known_pmids(mut self, pmids: impl IntoIterator<Item = String>) -> Self {
        self.known_pmids = pmids.into_iter().collect();
        self
    }

    pub fn config(&self) -> &PubTatorConfig {
        &self.config
    }

    /// The run mode of this fetcher's runs.
    pub fn run_mode(&self) -> RunMode {
        self.config.mode.run_mode()
    }

    fn page_url(&self, page: u32) -> Result<String, SourceError> {
        let page = page.to_string();
        url::Url::parse_with_params(
            &self.config.search_url,
            [
                ("text", self.config.query.as_str()),
                ("page", page.as_str()),
                ("sort", SORT),
                ("filters", "{}"),
            ],
        )
        .map(String::from)
        .map_err(|e| fetch_error(format!("search URL {}: {e}", self.config.search_url)))
    }

    /// One page; `None` when PubTator answers 404 (no such page).
    async fn page(&self, page: u32) -> Result<Option<SearchPage>, SourceError> {
        let url = self.page_url(page)?;
        match self.client.get_json::<SearchPage>(&url).await {
            Ok(answer) => Ok(Some(answer)),
            Err(e) if e.status_code() == Some(404) => Ok(None),
            Err(e @ FetchError::Malformed { .. }) => Err(malformed(format!("page {page}: {e}"))),
            Err(e) => Err(fetch_error(format!("page {page}: {e}"))),
        }
    }

    async fn plan_chunks(&self) -> Result<Vec<PubTatorChunk>, SourceError> {
        let first = self
            .page(1)
            .await?
            .filter(|p| !p.results.is_empty())
            .ok_or_else(|| fetch_error(empty_first_page()))?;
        let total = first
            .total_pages
            .filter(|&t| t >= 1)
            .ok_or_else(|| malformed("page 1 has results but no total_pages"))?;
        let total = u32::try_from(total)
            .map_err(|_| malformed(format!("page 1: total_pages {total} is out of range")))?;
        let chunks = chunks_of(total, self.config.pages_per_chunk);
        tracing::info!(
            total_pages = total,
            chunks = chunks.len(),
            "PubTator3 run planned"
        );
        Ok(chunks)
    }

    /// Pages `from..=to`, in order, up to the end of the results or (smart mode) a stale streak.
    async fn walk(&self, from: u32, to: u32) -> Result<Vec<ArticleHit>, SourceError> {
        if from == 0 || from > to {
            return Err(fetch_error(format!("invalid page range {from}..={to}")));
        }
        let smart = self.config.mode == UpdateMode::Smart;
        let date = self
            .config
            .as_of
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let mut pages = futures::stream::iter(from..=to)
            .map(|n| async move { (n, self.page(n).await) })
            .buffered(self.config.pages_in_flight.max(1));
        let mut hits = Vec::new();
        let mut resolved = HashMap::new();
        let mut stale_streak = 0u32;
        let mut walked = 0u32;
        let mut stop = "the chunk's last page";
        while let Some((n, answer)) = pages.next().await {
            let Some(page) = answer?.filter(|p| !p.results.is_empty()) else {
                if n == 1 {
                    return Err(fetch_error(empty_first_page()));
                }
                stop = "the end of the results";
                break;
            };
            walked += 1;
            let articles = page.results.len();
            let mut known = 0usize;
            for result in page.results {
                let pmid = result.pmid(n)?;
                if smart && self.known_pmids.contains(&pmid) {
                    known += 1;
                    continue;
                }
                self.hits_of(result, pmid, date, &mut resolved, &mut hits)
                    .await;
            }
            if smart {
                if known as f64 > self.config.stale_share * articles as f64 {
                    stale_streak += 1;
                } else {
                    stale_streak = 0;
                }
                if stale_streak >= self.config.stale_pages_to_stop {
                    stop = "a streak of stale pages";
                    break;
                }
            }
            if page.total_pages.is_some_and(|total| u64::from(n) >= total) {
                stop = "the last page (total_pages)";
                break;
            }
        }
        tracing::info!(
            from,
            to,
            walked,
            hits = hits.len(),
            stop,
            "PubTator3 chunk walked"
        );
        Ok(hits)
    }

    /// The hits of one article: one per resolved gene (and NCBI id) it mentions.
    async fn hits_of(
        &self,
        result: SearchResult,
        pmid: String,
        date: NaiveDate,
        resolved: &mut HashMap<(String, String), Resolution>,
        hits: &mut Vec<ArticleHit>,
    ) {
        let text = result.text_hl.unwrap_or_default();
        // (hgnc id, NCBI id) -> (approved symbol, symbols as written)
        let mut genes: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
        for mention in genes_in(&text) {
            let key = (mention.symbol.clone(), mention.ncbi_gene_id.clone());
            let resolution = match resolved.get(&key) {
                Some(r) => r.clone(),
                None => {
                    let r = self
                        .resolver
                        .resolve(ReportedGene {
                            source: SourceName::PubTator,
                            symbol: &mention.symbol,
                            ncbi_gene_id: Some(&mention.ncbi_gene_id),
                            hgnc_id: None,
                        })
                        .await;
                    resolved.insert(key, r.clone());
                    r
                }
            };
            let Resolution::Resolved(gene) = resolution else {
                continue;
            };
            let entry = genes
                .entry((gene.hgnc_id, mention.ncbi_gene_id))
                .or_insert_with(|| (gene.approved_symbol, Vec::new()));
            if !entry.1.contains(&mention.symbol) {
                entry.1.push(mention.symbol);
            }
        }
        if genes.is_empty() {
            return;
        }
        let details = Mention {
            pmid: pmid.clone(),
            title: result.title.unwrap_or_default(),
            journal: result.journal.unwrap_or_default(),
            date: result.date.unwrap_or_default(),
            score: result.score.unwrap_or(0.0),
            text,
        };
        for ((hgnc_id, ncbi_gene_id), (approved_symbol, reported_symbols)) in genes {
            hits.push(ArticleHit {
                hgnc_id,
                approved_symbol,
                reported_symbols,
                pmid: pmid.clone(),
                mention: Some(details.clone()),
                ncbi_gene_id: Some(ncbi_gene_id),
                date: Some(date),
            });
        }
    }
}

impl Fetcher<PubTator> for PubTatorLive {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<PubTatorChunk>, SourceError>> {
        Box::pin(self.plan_chunks())
    }

    fn fetch<'a>(
        &'a self,
        chunk: &'a PubTatorChunk,
    ) -> BoxFuture<'a, Result<Vec<ArticleHit>, SourceError>> {
        Box::pin(async move {
            match *chunk {
                PubTatorChunk::Pages { from, to } => self.walk(from, to).await,
                PubTatorChunk::All => Err(fetch_error(
                    "the live fetcher walks page ranges (plan() cuts them), not `All`",
                )),
            }
        })
    }
}

/// `1..=total_pages` cut into ranges of `pages_per_chunk` (the last one shorter).
pub fn chunks_of(total_pages: u32, pages_per_chunk: u32) -> Vec<PubTatorChunk> {
    let size = pages_per_chunk.max(1);
    let mut chunks = Vec::new();
    let mut from = 1u32;
    while from <= total_pages {
        let to = from.saturating_add(size - 1).min(total_pages);
        chunks.push(PubTatorChunk::Pages { from, to });
        match to.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
    chunks
}

/// A gene as `text_hl` marks it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneMention {
    /// `PKD1` of `@GENE_PKD1`.
    pub symbol: String,
    /// `5310` of `@GENE_5310`.
    pub ncbi_gene_id: String,
    /// The surface text between `@@@`.
    pub text: String,
}

/// The genes a `text_hl` mentions, in order: the original's pattern over the text without its
/// `<m>`/`</m>` query-hit tags (which may wrap a token, `@<m>GENE_PKD1</m>`, or the surface text).
pub fn genes_in(text_hl: &str) -> Vec<GeneMention> {
    let plain = text_hl.replace("<m>", "").replace("</m>", "");
    GENE_PATTERN
        .captures_iter(&plain)
        .map(|c| GeneMention {
            symbol: c[1].to_string(),
            ncbi_gene_id: c[2].to_string(),
            text: c[3].trim().to_string(),
        })
        .collect()
}

/// A search page, as far as it is read (docs/provider-formats.md).
#[derive(Debug, Deserialize)]
struct SearchPage {
    results: Vec<SearchResult>,
    #[serde(default)]
    total_pages: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct SearchResult {
    pmid: Option<Pmid>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    journal: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    score: Option<f64>,
    #[serde(default)]
    text_hl: Option<String>,
}

/// PubTator sends a number; a string of digits is accepted too.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Pmid {
    Number(u64),
    Text(String),
}

impl SearchResult {
    fn pmid(&self, page: u32) -> Result<String, SourceError> {
        let pmid = match &self.pmid {
            Some(Pmid::Number(n)) => n.to_string(),
            Some(Pmid::Text(s)) => s.trim().to_string(),
            None => String::new(),
        };
        if pmid.is_empty() || !pmid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed(format!(
                "page {page}: a result without a PMID ({:?})",
                self.pmid
            )));
        }
        Ok(pmid)
    }
}

fn empty_first_page() -> String {
    "PubTator3 returned no results on page 1: an empty run is a failed run".to_string()
}

fn fetch_error(message: impl Into<String>) -> SourceError {
    SourceError::Fetch {
        source_name: Some(SourceName::PubTator),
        message: message.into(),
    }
}

fn malformed(message: impl Into<String>) -> SourceError {
    SourceError::Malformed {
        source_name: Some(SourceName::PubTator),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_run_of_the_documented_size_is_twelve_chunks() {
        let chunks = chunks_of(5704, 500);
        assert_eq!(chunks.len(), 12);
        assert_eq!(chunks[0], PubTatorChunk::Pages { from: 1, to: 500 });
        assert_eq!(
            chunks[11],
            PubTatorChunk::Pages {
                from: 5501,
                to: 5704
            }
        );
        assert_eq!(chunks_of(500, 500).len(), 1);
        assert_eq!(chunks_of(501, 500).len(), 2);
        assert!(chunks_of(0, 500).is_empty());
        assert_eq!(
            chunks_of(u32::MAX, u32::MAX),
            vec![PubTatorChunk::Pages {
                from: 1,
                to: u32::MAX
            }]
        );
    }

    #[test]
    fn genes_are_read_with_and_without_the_query_markup() {
        let doc = "Truncating variants in @GENE_PKD1 @GENE_5310 @@@PKD1@@@ cause \
                   @DISEASE_Polycystic_Kidney_Diseases @DISEASE_MESH:D007690 \
                   @@@<m>polycystic kidney disease</m>@@@";
        assert_eq!(
            genes_in(doc),
            vec![GeneMention {
                symbol: "PKD1".into(),
                ncbi_gene_id: "5310".into(),
                text: "PKD1".into()
            }]
        );
        let wrapped =
            "@<m>GENE_PKD1</m> @GENE_5310 @@@<m>PKD1</m>@@@ and @GENE_PKD2 @GENE_5311 @@@PKD2@@@";
        let genes = genes_in(wrapped);
        assert_eq!(genes.len(), 2);
        assert_eq!(genes[0].symbol, "PKD1");
        assert_eq!(genes[0].text, "PKD1");
        assert_eq!(genes[1].ncbi_gene_id, "5311");
        assert!(genes_in("no gene @DISEASE_X @DISEASE_MESH:D1 @@@x@@@").is_empty());
    }

    #[test]
    fn a_page_range_chunk_has_a_stable_key() {
        let chunk = PubTatorChunk::Pages {
            from: 501,
            to: 1000,
        };
        let key = kgdb_core::pipeline::chunk_key(&chunk);
        assert_eq!(key, r#"{"Pages":{"from":501,"to":1000}}"#);
        assert_eq!(serde_json::from_str::<PubTatorChunk>(&key).unwrap(), chunk);
        assert_eq!(
            kgdb_core::pipeline::chunk_key(&PubTatorChunk::All),
            r#""All""#
        );
    }
}
