//! PanelApp from its REST API (docs/provider-formats.md), one chunk per
//! region as the snapshot:
//!
//! 1. `GET {base}/panels/?name=<keyword>&format=json` for each kidney keyword, following `next`
//!    (the original read only the first page);
//! 2. the panels whose name or description names the kidney ([`KIDNEY_PANEL_TERMS`]);
//! 3. `GET {base}/panels/{id}/?format=json` per selected panel (a 404 skips that panel with a
//!    warning: a panel retired between the list and its detail);
//! 4. its genes rated Green (`confidence_level` `"3"`/`"4"`, or `green`), each resolved to one of
//!    our genes through the [`GeneResolver`] (with PanelApp's HGNC id: it may be withdrawn or
//!    renamed since PanelApp's HGNC release).
//!
//! A gene entry without a symbol, or a panel whose date does not parse, is dropped with a
//! warning; an answer that is not the list or panel JSON, a failure after the client's retries,
//! or a region with no Green gene at all fails the chunk (and so the run: the stored evidence
//! stays). The hosts' rate limit (5/s) is the client's [`kgdb_fetch::DomainLimits`].

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use kgdb_core::SourceName;
use kgdb_core::genes::GeneResolver;
use kgdb_core::pipeline::{Fetcher, SourceError};
use kgdb_fetch::HttpClient;
use serde_json::Value;

use super::{PanelApp, PanelGene, PanelRef, Region, is_green};
use crate::live_support::{
    Resolutions, empty, fetch_error, host_of, iso_date, malformed, with_query,
};

const SOURCE: SourceName = SourceName::PanelApp;

pub const UK_BASE: &str = "https://panelapp.genomicsengland.co.uk/api/v1";
pub const AUSTRALIA_BASE: &str = "https://panelapp-aus.org/api/v1";

/// The original's kidney keywords (`keywords.yaml`), one panel search each.
pub use crate::keywords::KIDNEY_KEYWORDS as SEARCH_KEYWORDS;

/// A panel is a kidney panel when its name or description contains one of these
/// (case-insensitive).
pub const KIDNEY_PANEL_TERMS: [&str; 6] = [
    "kidney",
    "renal",
    "nephro",
    "cakut",
    "tubulopathy",
    "glomerul",
];

/// More pages than this for one keyword is a loop or a changed API, not kidney panels.
pub const DEFAULT_MAX_PAGES: usize = 20;
/// Panel details in flight at once (the domain limit spaces them).
const DETAIL_CONCURRENCY: usize = 4;

#[derive(Debug, Clone)]
pub struct PanelAppLiveConfig {
    pub uk_base: String,
    pub australia_base: String,
    pub search_keywords: Vec<String>,
    pub max_pages: usize,
}

impl Default for PanelAppLiveConfig {
    fn default() -> Self {
        Self {
            uk_base: UK_BASE.to_string(),
            australia_base: AUSTRALIA_BASE.to_string(),
            search_keywords: SEARCH_KEYWORDS.iter().map(|k| k.to_string()).collect(),
            max_pages: DEFAULT_MAX_PAGES,
        }
    }
}

/// Whether a panel is about the kidney, by its name or description.
pub fn is_kidney_panel(name: &str, description: Option<&str>) -> bool {
    let names_kidney = |text: &str| {
        let text = text.to_lowercase();
        KIDNEY_PANEL_TERMS.iter().any(|t| text.contains(t))
    };
    names_kidney(name) || description.is_some_and(names_kidney)
}

/// A panel as the list gives it.
#[derive(Debug, Clone)]
struct PanelSummary {
    id: i64,
    name: String,
    description: Option<String>,
}

/// A gene entry of a panel's detail, rated Green.
#[derive(Debug)]
struct GreenGene {
    symbol: String,
    hgnc_id: Option<String>,
    confidence: String,
    phenotypes: Vec<String>,
    mode_of_inheritance: Option<String>,
}

enum Entry {
    Green(GreenGene),
    NotGreen,
    NotAGene,
}

pub struct PanelAppLive {
    client: HttpClient,
    resolver: Arc<dyn GeneResolver>,
    config: PanelAppLiveConfig,
}

impl PanelAppLive {
    pub fn new(client: HttpClient, resolver: Arc<dyn GeneResolver>) -> Self {
        Self::with_config(client, resolver, PanelAppLiveConfig::default())
    }

    pub fn with_config(
        client: HttpClient,
        resolver: Arc<dyn GeneResolver>,
        config: PanelAppLiveConfig,
    ) -> Self {
        Self {
            client,
            resolver,
            config,
        }
    }

    pub fn base(&self, region: Region) -> &str {
        match region {
            Region::Uk => self.config.uk_base.trim_end_matches('/'),
            Region::Australia => self.config.australia_base.trim_end_matches('/'),
        }
    }

    /// The region's Green genes of kidney panels, resolved.
    pub async fn read(&self, region: Region) -> Result<Vec<PanelGene>, SourceError> {
        let base = self.base(region);
        let panels = self.kidney_panels(base).await?;
        if panels.is_empty() {
            return Err(empty(
                SOURCE,
                format!("no kidney panel in PanelApp {region:?}"),
            ));
        }
        let details: Vec<(PanelSummary, Option<Value>)> =
            futures::stream::iter(panels.into_values())
                .map(|panel| async move {
                    let detail = self.detail(base, panel.id).await?;
                    Ok::<_, SourceError>((panel, detail))
                })
                .buffered(DETAIL_CONCURRENCY)
                .try_collect()
                .await?;

        let mut resolutions = Resolutions::new(SOURCE, self.resolver.clone());
        let mut out = Vec::new();
        let mut dropped = 0usize;
        let mut panels_read = 0usize;
        for (summary, detail) in details {
            let Some(detail) = detail else { continue };
            let Some((panel, date, genes)) = panel_of(region, &summary, &detail)? else {
                dropped += 1;
                continue;
            };
            panels_read += 1;
            for gene in genes {
                let green = match entry(gene) {
                    Ok(Entry::Green(g)) => g,
                    Ok(Entry::NotGreen | Entry::NotAGene) => continue,
                    Err(why) => {
                        tracing::warn!(
                            panel = panel.id,
                            region = region.as_str(),
                            why,
                            "gene entry dropped"
                        );
                        dropped += 1;
                        continue;
                    }
                };
                let Some(resolved) = resolutions
                    .resolve(&green.symbol, green.hgnc_id.as_deref())
                    .await
                else {
                    continue;
                };
                out.push(PanelGene {
                    hgnc_id: resolved.hgnc_id,
                    approved_symbol: resolved.approved_symbol,
                    reported_symbols: vec![green.symbol],
                    panel: panel.clone(),
                    confidence: green.confidence,
                    phenotypes: green.phenotypes,
                    mode_of_inheritance: green.mode_of_inheritance,
                    last_updated: date,
                });
            }
        }
        tracing::info!(
            region = region.as_str(),
            panels = panels_read,
            green_genes = out.len(),
            unresolved = resolutions.unresolved,
            dropped,
            "PanelApp read"
        );
        if out.is_empty() {
            return Err(empty(
                SOURCE,
                format!("no Green gene on PanelApp {region:?}'s kidney panels"),
            ));
        }
        Ok(out)
    }

    /// Every keyword's hits that are kidney panels, by id.
    async fn kidney_panels(&self, base: &str) -> Result<BTreeMap<i64, PanelSummary>, SourceError> {
        let mut panels = BTreeMap::new();
        for keyword in &self.config.search_keywords {
            for panel in self.search(base, keyword).await? {
                if is_kidney_panel(&panel.name, panel.description.as_deref()) {
                    panels.entry(panel.id).or_insert(panel);
                } else {
                    tracing::debug!(
                        id = panel.id,
                        name = panel.name,
                        keyword,
                        "not a kidney panel"
                    );
                }
            }
        }
        Ok(panels)
    }

    /// One keyword's panels, every page.
    async fn search(&self, base: &str, keyword: &str) -> Result<Vec<PanelSummary>, SourceError> {
        let mut url = with_query(
            &format!("{base}/panels/"),
            &[("name", keyword), ("format", "json")],
        );
        let mut visited = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..self.config.max_pages.max(1) {
            visited.insert(url.clone());
            let page: Value = self
                .client
                .get_json(&url)
                .await
                .map_err(|e| fetch_error(SOURCE, e))?;
            let results = page
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed(SOURCE, format!("{url}: no `results` list")))?;
            for item in results {
                match summary(item) {
                    Some(panel) => out.push(panel),
                    None => tracing::warn!(%url, item = %item, "panel without id or name skipped"),
                }
            }
            let next = match page.get("next") {
                None | Some(Value::Null) => return Ok(out),
                Some(Value::String(next)) => next_page(base, next).ok_or_else(|| {
                    malformed(SOURCE, format!("{url}: `next` {next} leaves {base}"))
                })?,
                Some(other) => {
                    return Err(malformed(SOURCE, format!("{url}: `next` is {other}")));
                }
            };
            if visited.contains(&next) {
                return Err(malformed(
                    SOURCE,
                    format!("{url}: `next` loops back to {next}"),
                ));
            }
            url = next;
        }
        Err(malformed(
            SOURCE,
            format!("{keyword:?}: more than {} pages", self.config.max_pages),
        ))
    }

    /// A panel's detail; `None` when PanelApp does not know the id (404).
    async fn detail(&self, base: &str, id: i64) -> Result<Option<Value>, SourceError> {
        let url = with_query(&format!("{base}/panels/{id}/"), &[("format", "json")]);
        match self.client.get_json::<Value>(&url).await {
            Ok(detail) => Ok(Some(detail)),
            Err(e) if e.status_code() == Some(404) => {
                tracing::warn!(%url, "panel not found (404); skipped");
                Ok(None)
            }
            Err(e) => Err(fetch_error(SOURCE, e)),
        }
    }
}

impl Fetcher<PanelApp> for PanelAppLive {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<Region>, SourceError>> {
        Box::pin(async { Ok(Region::ALL.to_vec()) })
    }

    fn fetch<'a>(
        &'a self,
        chunk: &'a Region,
    ) -> BoxFuture<'a, Result<Vec<PanelGene>, SourceError>> {
        Box::pin(self.read(*chunk))
    }
}

/// `next` on the base's host (with the base's scheme and port: a proxy may write `http://`).
fn next_page(base: &str, next: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    let mut next = url::Url::parse(next).ok()?;
    if host_of(base.as_str())? != host_of(next.as_str())? {
        return None;
    }
    next.set_scheme(base.scheme()).ok()?;
    next.set_port(base.port()).ok()?;
    Some(next.to_string())
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn id_of(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn summary(item: &Value) -> Option<PanelSummary> {
    Some(PanelSummary {
        id: id_of(item.get("id"))?,
        name: text(item.get("name"))?,
        description: text(item.get("description")),
    })
}

/// A panel's reference, date and gene entries.
type PanelParts<'a> = (PanelRef, Option<NaiveDate>, &'a [Value]);

/// The panel's reference, date and gene entries; `None` (with a warning) for a panel whose date
/// does not parse; an error for an answer that is not a panel.
fn panel_of<'a>(
    region: Region,
    summary: &PanelSummary,
    detail: &'a Value,
) -> Result<Option<PanelParts<'a>>, SourceError> {
    let genes = detail
        .get("genes")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            malformed(
                SOURCE,
                format!("panel {} ({region:?}): no `genes` list", summary.id),
            )
        })?;
    let date = match text(detail.get("version_created")) {
        None => None,
        Some(raw) => match iso_date(&raw) {
            Some(d) => Some(d),
            None => {
                tracing::warn!(
                    panel = summary.id,
                    raw,
                    "panel date does not parse; panel dropped"
                );
                return Ok(None);
            }
        },
    };
    let panel = PanelRef {
        id: id_of(detail.get("id")).unwrap_or(summary.id),
        name: text(detail.get("name")).unwrap_or_else(|| summary.name.clone()),
        version: text(detail.get("version")).unwrap_or_default(),
        region: region.as_str().to_string(),
    };
    Ok(Some((panel, date, genes)))
}

/// One entry of a panel's `genes`.
fn entry(gene: &Value) -> Result<Entry, String> {
    if text(gene.get("entity_type")).is_some_and(|t| !t.eq_ignore_ascii_case("gene")) {
        return Ok(Entry::NotAGene);
    }
    let confidence = text(gene.get("confidence_level")).ok_or("no confidence_level")?;
    if !is_green(&confidence) {
        return Ok(Entry::NotGreen);
    }
    let data = gene.get("gene_data");
    let symbol = text(data.and_then(|d| d.get("gene_symbol")))
        .or_else(|| text(gene.get("entity_name")))
        .ok_or("no gene symbol")?;
    let phenotypes = gene
        .get("phenotypes")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|p| text(Some(p)))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Ok(Entry::Green(GreenGene {
        hgnc_id: text(data.and_then(|d| d.get("hgnc_id"))),
        symbol,
        confidence,
        phenotypes,
        mode_of_inheritance: text(gene.get("mode_of_inheritance")),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn kidney_panels_by_name_or_description() {
        assert!(is_kidney_panel("Cystic kidney disease", None));
        assert!(is_kidney_panel("Renal superpanel - broad", None));
        assert!(is_kidney_panel(
            "Congenital anomalies of the kidney and urinary tract (CAKUT) Syndromic",
            None
        ));
        assert!(is_kidney_panel(
            "Renal Tubulopathies and related disorders",
            None
        ));
        assert!(!is_kidney_panel(
            "Primary immunodeficiency or monogenic inflammatory bowel disease",
            None
        ));
        assert!(is_kidney_panel(
            "Ciliopathies",
            Some("includes nephronophthisis")
        ));
    }

    #[test]
    fn green_entries_only_and_a_symbol_is_required() {
        let pkd1 = json!({"entity_type": "gene", "entity_name": "PKD1", "confidence_level": "3",
            "mode_of_inheritance": "MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted",
            "phenotypes": ["Polycystic kidney disease 1, OMIM:173900"],
            "gene_data": {"hgnc_id": "HGNC:9008", "gene_symbol": "PKD1"}});
        let Ok(Entry::Green(g)) = entry(&pkd1) else {
            panic!("PKD1 is green")
        };
        assert_eq!(g.symbol, "PKD1");
        assert_eq!(g.hgnc_id.as_deref(), Some("HGNC:9008"));
        assert_eq!(
            g.phenotypes,
            vec!["Polycystic kidney disease 1, OMIM:173900"]
        );
        for level in ["2", "1", "0"] {
            let mut amber = pkd1.clone();
            amber["confidence_level"] = json!(level);
            assert!(matches!(entry(&amber), Ok(Entry::NotGreen)));
        }
        let mut four = pkd1.clone();
        four["confidence_level"] = json!(4);
        assert!(matches!(entry(&four), Ok(Entry::Green(_))));
        let str_entry = json!({"entity_type": "str", "entity_name": "X", "confidence_level": "3"});
        assert!(matches!(entry(&str_entry), Ok(Entry::NotAGene)));
        let nameless = json!({"entity_type": "gene", "confidence_level": "3", "gene_data": {}});
        assert!(entry(&nameless).is_err());
    }

    #[test]
    fn next_stays_on_the_base_host() {
        assert_eq!(
            next_page(
                UK_BASE,
                "http://panelapp.genomicsengland.co.uk/api/v1/panels/?name=kidney&page=2"
            )
            .as_deref(),
            Some("https://panelapp.genomicsengland.co.uk/api/v1/panels/?name=kidney&page=2")
        );
        assert_eq!(
            next_page(UK_BASE, "https://elsewhere.example/panels/?page=2"),
            None
        );
    }

    #[test]
    fn the_default_hosts_have_the_original_rate_limit() {
        let limits = kgdb_fetch::DomainLimits::original();
        for base in [UK_BASE, AUSTRALIA_BASE] {
            let host = host_of(base).unwrap();
            assert_eq!(limits.rate(&host), Some(5.0), "{host}");
        }
    }
}
