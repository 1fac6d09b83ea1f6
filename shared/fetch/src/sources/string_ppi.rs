//! `string_ppi`: each kidney gene's physical protein interactions with other kidney genes,
//! weighted by the partners' evidence, from STRING v12.0's bulk files (docs/provider-formats.md).
//!
//! **Bulk**: the chunk is the whole kidney gene set (partners must be in it). Two files are
//! streamed, `protein.info` first (STRING protein id → symbol, only the chunk's genes kept),
//! then `protein.physical.links` (space-separated `protein1 protein2 combined_score`): a link
//! is kept when both proteins are the chunk's genes with `percentage_score > 0` and
//! `combined_score ≥ 400`; each pair counts in both directions, once per partner gene (the
//! highest score when several proteins or both directions list it). Memory is bounded by the
//! chunk's genes and their kidney partners, not by the 1.5 M links.
//!
//! Per gene with a partner (the original's rounding, so the values match its rows):
//! `weighted_score = round(string_score/1000 × partner percentage_score, 2)`,
//! `weighted_sum = Σ weighted_score`, `ppi_score = round(weighted_sum / sqrt(degree), 2)`,
//! `partner_evidence` the partner's score to one decimal; `interactions` the 30 highest
//! weighted scores. `ppi_percentile` is the PERCENT_RANK of `ppi_score` among the chunk's genes
//! with `ppi_score > 0` (3 decimals; 0 when there is one), which is the original's global
//! `string_ppi_percentiles` view because the chunk is every kidney gene; a gene whose
//! `ppi_score` rounds to 0 gets `null`, as the view leaves it out. (The original wrote `null`
//! after a first run: a bug of its percentile cache.)
//!
//! Not found: a gene without `percentage_score > 0` (not in the kidney network), without a
//! STRING protein, or without a kept link (the offline rows also exist only for genes with
//! interactions).

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde::Serialize;

use super::common::{Columns, bulk_metadata, field, open, push_record, round_to, split_spans};
use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{FetchError, HttpClient};

pub const SOURCE: &str = "string_ppi";
pub const TTL_DAYS: i32 = 30;
pub const PROTEIN_INFO_URL: &str =
    "https://stringdb-downloads.org/download/protein.info.v12.0/9606.protein.info.v12.0.txt.gz";
pub const PHYSICAL_LINKS_URL: &str = "https://stringdb-downloads.org/download/protein.physical.links.v12.0/9606.protein.physical.links.v12.0.txt.gz";
/// The stored version when the file names carry none.
const FALLBACK_VERSION: &str = "12.0";
const MAX_INTERACTIONS: usize = 30;
/// A score above this is a strong interaction.
const STRONG_SCORE: u16 = 800;

#[derive(Debug, Clone)]
pub struct StringPpiConfig {
    pub protein_info_url: String,
    pub physical_links_url: String,
    /// Links below this `combined_score` are dropped (the original's 400).
    pub min_score: u16,
}

impl Default for StringPpiConfig {
    fn default() -> Self {
        Self {
            protein_info_url: PROTEIN_INFO_URL.to_string(),
            physical_links_url: PHYSICAL_LINKS_URL.to_string(),
            min_score: 400,
        }
    }
}

pub struct StringPpiFetcher {
    client: HttpClient,
    config: StringPpiConfig,
}

impl StringPpiFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self::with_config(client, StringPpiConfig::default())
    }

    pub fn with_config(client: HttpClient, config: StringPpiConfig) -> Self {
        Self { client, config }
    }

    /// The stored `version`: STRING's release in the links file's name (`12.0`).
    pub fn version(&self) -> String {
        super::common::version_in(&self.config.physical_links_url, ".v")
            .unwrap_or_else(|| FALLBACK_VERSION.into())
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            // Nothing to look for: no multi-gigabyte read for it.
            return Ok(FetchOutcome::default());
        }
        let evidence: Vec<Option<f64>> = genes
            .iter()
            .map(|g| g.percentage_score.filter(|s| s.is_finite() && *s > 0.0))
            .collect();
        let mut state: Vec<GeneState> = (0..genes.len()).map(|_| GeneState::default()).collect();
        let proteins = self.read_info(genes, &evidence, &mut state).await?;
        self.read_links(&proteins, &mut state).await?;

        let mut computed: Vec<(usize, StringPpiAnnotation)> = Vec::new();
        let mut outcome = FetchOutcome::default();
        for (i, gene) in genes.iter().enumerate() {
            let s = &state[i];
            if evidence[i].is_none() {
                outcome.not_found(
                    gene,
                    "no percentage_score above 0: not in the kidney gene network",
                );
            } else if let Some(error) = &s.error {
                outcome.failed(gene, error.clone());
            } else if s.string_id.is_none() {
                outcome.not_found(
                    gene,
                    format!("no STRING protein named {} in protein.info", gene.symbol),
                );
            } else if s.partners.is_empty() {
                outcome.not_found(
                    gene,
                    format!(
                        "no physical STRING link scored {} or more to another kidney gene",
                        self.config.min_score
                    ),
                );
            } else {
                computed.push((i, annotate(i, genes, &evidence, &state)));
            }
        }
        assign_percentiles(&mut computed);
        let metadata = bulk_metadata(
            &self.config.physical_links_url,
            &[&self.config.protein_info_url],
        );
        let version = self.version();
        for (i, model) in computed {
            push_record(&mut outcome, &genes[i], SOURCE, &version, &model, &metadata);
        }
        Ok(outcome)
    }

    /// STRING protein id → gene, for the chunk's genes in the kidney network.
    async fn read_info(
        &self,
        genes: &[GeneKey],
        evidence: &[Option<f64>],
        state: &mut [GeneState],
    ) -> Result<HashMap<String, usize>, FetchError> {
        let url = self.config.protein_info_url.as_str();
        let index = GeneIndex::new(genes);
        let mut lines = open(&self.client, url).await?;
        let header = lines
            .next_line()
            .await?
            .ok_or_else(|| FetchError::malformed(url, "empty file"))?;
        let columns = Columns::parse(header, '\t');
        let [c_id, c_name] = columns.require(url, ["string_protein_id", "preferred_name"])?;
        let width = columns.len();
        let mut proteins = HashMap::new();
        let mut spans = Vec::with_capacity(width);
        let mut line_number = 1u64;
        while let Some(line) = lines.next_line().await? {
            line_number += 1;
            if line.is_empty() {
                continue;
            }
            split_spans(line, b'\t', &mut spans);
            let get = |i: usize| field(line, &spans, i).unwrap_or_default().trim();
            let Some(i) = index.symbol(get(c_name)).filter(|&i| evidence[i].is_some()) else {
                continue;
            };
            let id = get(c_id);
            if spans.len() != width {
                state[i].fail(format!(
                    "protein.info line {line_number}: {} fields where the header has {width}",
                    spans.len()
                ));
            } else if !id.starts_with("9606.") {
                state[i].fail(format!(
                    "protein.info line {line_number}: not a human STRING protein: {id:?}"
                ));
            } else {
                state[i].string_id.get_or_insert_with(|| id.to_string());
                proteins.insert(id.to_string(), i);
            }
        }
        Ok(proteins)
    }

    async fn read_links(
        &self,
        proteins: &HashMap<String, usize>,
        state: &mut [GeneState],
    ) -> Result<(), FetchError> {
        let url = self.config.physical_links_url.as_str();
        let mut lines = open(&self.client, url).await?;
        let header = lines
            .next_line()
            .await?
            .ok_or_else(|| FetchError::malformed(url, "empty file"))?;
        let columns = Columns::parse(header, ' ');
        let [c_a, c_b, c_score] =
            columns.require(url, ["protein1", "protein2", "combined_score"])?;
        let width = columns.len();
        let mut spans = Vec::with_capacity(width);
        let mut line_number = 1u64;
        while let Some(line) = lines.next_line().await? {
            line_number += 1;
            if line.is_empty() {
                continue;
            }
            split_spans(line, b' ', &mut spans);
            let get = |i: usize| field(line, &spans, i).unwrap_or_default();
            let (a, b) = (proteins.get(get(c_a)), proteins.get(get(c_b)));
            if spans.len() != width {
                // A broken line naming one of ours fails that gene; others are not ours.
                for &i in [a, b].into_iter().flatten() {
                    state[i].fail(format!(
                        "physical.links line {line_number}: {} fields where the header has {width}",
                        spans.len()
                    ));
                }
                continue;
            }
            let (Some(&a), Some(&b)) = (a, b) else {
                continue;
            };
            if a == b {
                continue;
            }
            let raw = get(c_score);
            let Some(score) = raw.parse::<u16>().ok().filter(|s| *s <= 1000) else {
                let message = format!(
                    "physical.links line {line_number}: combined_score is not 0-1000: {raw:?}"
                );
                state[a].fail(message.clone());
                state[b].fail(message);
                continue;
            };
            if score < self.config.min_score {
                continue;
            }
            for (from, to) in [(a, b), (b, a)] {
                let best = state[from].partners.entry(to).or_insert(score);
                *best = (*best).max(score);
            }
        }
        Ok(())
    }
}

impl AnnotationFetcher for StringPpiFetcher {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn ttl_days(&self) -> i32 {
        TTL_DAYS
    }

    fn chunking(&self) -> Chunking {
        Chunking::Bulk
    }

    fn fetch<'a>(
        &'a self,
        genes: &'a [GeneKey],
    ) -> BoxFuture<'a, Result<FetchOutcome, FetchError>> {
        Box::pin(self.fetch_chunk(genes))
    }
}

#[derive(Debug, Default)]
struct GeneState {
    /// The gene's (first) STRING protein.
    string_id: Option<String>,
    /// Partner gene → best `combined_score`.
    partners: HashMap<usize, u16>,
    error: Option<String>,
}

impl GeneState {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }
}

fn annotate(
    i: usize,
    genes: &[GeneKey],
    evidence: &[Option<f64>],
    state: &[GeneState],
) -> StringPpiAnnotation {
    let mut interactions: Vec<Interaction> = state[i]
        .partners
        .iter()
        .map(|(&j, &score)| {
            let partner_evidence = evidence[j].unwrap_or_default();
            Interaction {
                partner_symbol: genes[j].symbol.clone(),
                partner_string_id: state[j].string_id.clone().unwrap_or_default(),
                string_score: score,
                partner_evidence: round_to(partner_evidence, 1),
                weighted_score: round_to(f64::from(score) / 1000.0 * partner_evidence, 2),
            }
        })
        .collect();
    interactions.sort_by(|a, b| {
        b.weighted_score
            .total_cmp(&a.weighted_score)
            .then_with(|| b.string_score.cmp(&a.string_score))
            .then_with(|| a.partner_symbol.cmp(&b.partner_symbol))
    });
    let degree = interactions.len();
    let weighted_sum: f64 = interactions.iter().map(|x| x.weighted_score).sum();
    let raw_sum: u64 = interactions.iter().map(|x| u64::from(x.string_score)).sum();
    let summary = Summary {
        total_interactions: degree,
        raw_sum,
        weighted_sum: round_to(weighted_sum, 2),
        avg_string_score: round_to(raw_sum as f64 / degree.max(1) as f64, 2),
        strong_interactions: interactions
            .iter()
            .filter(|x| x.string_score > STRONG_SCORE)
            .count(),
    };
    interactions.truncate(MAX_INTERACTIONS);
    StringPpiAnnotation {
        ppi_score: round_to(weighted_sum / (degree.max(1) as f64).sqrt(), 2),
        ppi_degree: degree,
        ppi_percentile: None,
        interactions,
        summary,
    }
}

/// PERCENT_RANK of `ppi_score` among the scores above 0: `(rank - 1) / (n - 1)`, ties sharing
/// the lowest rank, 0 when n = 1.
fn assign_percentiles(computed: &mut [(usize, StringPpiAnnotation)]) {
    let mut scores: Vec<f64> = computed
        .iter()
        .map(|(_, a)| a.ppi_score)
        .filter(|s| *s > 0.0)
        .collect();
    scores.sort_by(f64::total_cmp);
    let n = scores.len();
    for (_, a) in computed.iter_mut() {
        if a.ppi_score > 0.0 {
            let below = scores.partition_point(|s| *s < a.ppi_score);
            let rank = if n > 1 {
                below as f64 / (n - 1) as f64
            } else {
                0.0
            };
            a.ppi_percentile = Some(round_to(rank, 3));
        }
    }
}

#[derive(Debug, Serialize)]
struct Interaction {
    partner_symbol: String,
    /// kgdb's (the offline rows have it too): the partner's STRING protein.
    partner_string_id: String,
    string_score: u16,
    partner_evidence: f64,
    weighted_score: f64,
}

#[derive(Debug, Serialize)]
struct Summary {
    total_interactions: usize,
    raw_sum: u64,
    weighted_sum: f64,
    avg_string_score: f64,
    strong_interactions: usize,
}

/// The stored `annotations` (the original's keys, docs/provider-formats.md).
#[derive(Debug, Serialize)]
struct StringPpiAnnotation {
    ppi_score: f64,
    ppi_degree: usize,
    ppi_percentile: Option<f64>,
    interactions: Vec<Interaction>,
    summary: Summary,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotation(score: f64) -> StringPpiAnnotation {
        StringPpiAnnotation {
            ppi_score: score,
            ppi_degree: 1,
            ppi_percentile: None,
            interactions: Vec::new(),
            summary: Summary {
                total_interactions: 1,
                raw_sum: 0,
                weighted_sum: 0.0,
                avg_string_score: 0.0,
                strong_interactions: 0,
            },
        }
    }

    #[test]
    fn percent_rank_with_ties_and_zeros() {
        let mut c: Vec<_> = [10.0, 30.0, 20.0, 20.0, 0.0]
            .into_iter()
            .map(annotation)
            .enumerate()
            .collect();
        assign_percentiles(&mut c);
        let p: Vec<_> = c.iter().map(|(_, a)| a.ppi_percentile).collect();
        assert_eq!(p, [Some(0.0), Some(1.0), Some(0.333), Some(0.333), None]);
        let mut one = vec![(0, annotation(5.0))];
        assign_percentiles(&mut one);
        assert_eq!(one[0].1.ppi_percentile, Some(0.0));
    }
}
