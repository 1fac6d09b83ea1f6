//! `hpo`: each gene's HPO phenotypes and diseases, and which phenotypes concern the kidney,
//! from HPO's `genes_to_phenotype.txt` and the JAX ontology API (docs/provider-formats.md).
//!
//! **Bulk** (one chunk of every due gene): once per chunk the descendants of the four kidney
//! roots (HP:0010935, HP:0000077, HP:0012210, HP:0000079, roots included) come from
//! `https://ontology.jax.org/api/hp/terms/{id}/descendants` (a bare JSON array; several MB for
//! broad roots, read whole). Then `genes_to_phenotype.txt` (a PURL that redirects; about 20 MB,
//! plain text) is streamed once; its header is read by name (it has no `#`, so the original's
//! positional parser stored the header as a gene called `gene_symbol`; here it is the header).
//! A row is the chunk's gene by `ncbi_gene_id`, else by `gene_symbol` when the gene's NCBI id
//! is unknown. Per gene: distinct phenotypes and diseases (bounded by the ontology, not by
//! the file).
//!
//! `diseases[].name` is `null`: the file names diseases by id only (the original stored `null`
//! too). The `classification` block keeps the original's shape, with every value `null`: its
//! clinical groups (cakut, complement, cyst_cilio, glomerulopathy, nephrolithiasis,
//! tubulopathy: signature HPO terms and weights), onset groups and extra-renal categories come
//! from the original's configuration, which the original's
//! documentation does not give; inventing term lists would store a made-up classification.
//! A gene the file lacks is `not_found` (the original stored `has_hpo_data: false` rows).

use std::collections::{BTreeMap, HashSet};

use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use super::common::{Columns, bulk_metadata, field, open, push_record, split_spans};
use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{FetchError, HttpClient};

pub const SOURCE: &str = "hpo";
/// The original's source version (the file carries no release line).
pub const VERSION: &str = "1.0";
pub const TTL_DAYS: i32 = 90;
pub const GENES_TO_PHENOTYPE_URL: &str =
    "http://purl.obolibrary.org/obo/hp/hpoa/genes_to_phenotype.txt";
pub const JAX_API_URL: &str = "https://ontology.jax.org/api";
/// The configured kidney roots: the upper urinary tract, the kidney, renal morphology, the
/// urinary system.
pub const KIDNEY_ROOTS: [&str; 4] = ["HP:0010935", "HP:0000077", "HP:0012210", "HP:0000079"];

#[derive(Debug, Clone)]
pub struct HpoConfig {
    pub genes_to_phenotype_url: String,
    pub jax_api_url: String,
    pub kidney_roots: Vec<String>,
}

impl Default for HpoConfig {
    fn default() -> Self {
        Self {
            genes_to_phenotype_url: GENES_TO_PHENOTYPE_URL.to_string(),
            jax_api_url: JAX_API_URL.to_string(),
            kidney_roots: KIDNEY_ROOTS.iter().map(|r| r.to_string()).collect(),
        }
    }
}

pub struct HpoFetcher {
    client: HttpClient,
    config: HpoConfig,
}

impl HpoFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self::with_config(client, HpoConfig::default())
    }

    pub fn with_config(client: HttpClient, config: HpoConfig) -> Self {
        Self { client, config }
    }

    /// Every descendant of the kidney roots, roots included. A failed or malformed answer
    /// fails the chunk: without it `has_kidney_phenotype` would be a silent `false`.
    pub async fn kidney_terms(&self) -> Result<HashSet<String>, FetchError> {
        let mut terms = HashSet::new();
        for root in &self.config.kidney_roots {
            let url = format!("{}/hp/terms/{root}/descendants", self.config.jax_api_url);
            let answer: Value = self.client.get_json(&url).await?;
            let items = answer
                .as_array()
                .ok_or_else(|| FetchError::malformed(&url, "descendants are not a JSON array"))?;
            terms.insert(root.clone());
            for item in items {
                match item.get("id").and_then(Value::as_str) {
                    Some(id) if is_hpo_id(id) => {
                        terms.insert(id.to_string());
                    }
                    _ => {
                        return Err(FetchError::malformed(
                            &url,
                            format!("a descendant without an HP id: {item}"),
                        ));
                    }
                }
            }
        }
        Ok(terms)
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            // Nothing to look for: no multi-gigabyte read for it.
            return Ok(FetchOutcome::default());
        }
        let kidney = self.kidney_terms().await?;
        let accumulators = self.read_file(genes).await?;
        let metadata = bulk_metadata(&self.config.genes_to_phenotype_url, &[]);
        let mut outcome = FetchOutcome::default();
        for (gene, acc) in genes.iter().zip(accumulators) {
            match acc {
                None => outcome.not_found(gene, "not in HPO's genes_to_phenotype"),
                Some(GeneAcc {
                    error: Some(error), ..
                }) => outcome.failed(gene, error),
                Some(acc) => push_record(
                    &mut outcome,
                    gene,
                    SOURCE,
                    VERSION,
                    &acc.finish(gene, &kidney),
                    &metadata,
                ),
            }
        }
        Ok(outcome)
    }

    async fn read_file(&self, genes: &[GeneKey]) -> Result<Vec<Option<GeneAcc>>, FetchError> {
        let url = self.config.genes_to_phenotype_url.as_str();
        let index = GeneIndex::new(genes);
        let mut lines = open(&self.client, url).await?;
        let header = lines
            .next_line()
            .await?
            .ok_or_else(|| FetchError::malformed(url, "empty file"))?;
        let columns = Columns::parse(header, '\t');
        let [c_ncbi, c_symbol, c_hpo, c_name, c_disease] = columns.require(
            url,
            [
                "ncbi_gene_id",
                "gene_symbol",
                "hpo_id",
                "hpo_name",
                "disease_id",
            ],
        )?;
        let width = columns.len();
        let mut accumulators: Vec<Option<GeneAcc>> = (0..genes.len()).map(|_| None).collect();
        let mut spans = Vec::with_capacity(width);
        let mut line_number = 1u64;
        while let Some(line) = lines.next_line().await? {
            line_number += 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            split_spans(line, b'\t', &mut spans);
            let get = |i: usize| field(line, &spans, i).unwrap_or_default().trim();
            let ncbi = get(c_ncbi);
            let Some(i) = index.ncbi(ncbi).or_else(|| {
                index
                    .symbol(get(c_symbol))
                    .filter(|&i| genes[i].ncbi_gene_id.is_none())
            }) else {
                continue;
            };
            let acc = accumulators[i].get_or_insert_with(GeneAcc::default);
            if acc.error.is_some() {
                continue;
            }
            let row = if spans.len() != width {
                Err(format!(
                    "{} fields where the header has {width}",
                    spans.len()
                ))
            } else {
                parse_row(ncbi, get(c_hpo), get(c_name), get(c_disease))
            };
            match row {
                Ok(row) => acc.add(row),
                Err(e) => acc.fail(format!("genes_to_phenotype line {line_number}: {e}")),
            }
        }
        Ok(accumulators)
    }
}

impl AnnotationFetcher for HpoFetcher {
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

/// `HP:` and seven digits.
fn is_hpo_id(id: &str) -> bool {
    id.strip_prefix("HP:")
        .is_some_and(|n| n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()))
}

struct Row<'a> {
    ncbi: &'a str,
    hpo_id: &'a str,
    hpo_name: &'a str,
    /// `(id, db, dbId)`, or none for `-`.
    disease: Option<(&'a str, &'a str, &'a str)>,
}

fn parse_row<'a>(
    ncbi: &'a str,
    hpo_id: &'a str,
    hpo_name: &'a str,
    disease: &'a str,
) -> Result<Row<'a>, String> {
    if ncbi.is_empty() || !ncbi.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("ncbi_gene_id is not a number: {ncbi:?}"));
    }
    if !is_hpo_id(hpo_id) {
        return Err(format!("hpo_id is not an HP id: {hpo_id:?}"));
    }
    let disease = match disease {
        "" | "-" => None,
        id => match id.split_once(':') {
            Some((db, db_id)) if !db.is_empty() && !db_id.is_empty() => Some((id, db, db_id)),
            _ => return Err(format!("disease_id is not DB:id: {id:?}")),
        },
    };
    Ok(Row {
        ncbi,
        hpo_id,
        hpo_name,
        disease,
    })
}

#[derive(Debug, Default)]
struct GeneAcc {
    ncbi_gene_id: Option<String>,
    /// HP id → name.
    phenotypes: BTreeMap<String, String>,
    /// Disease id → (db, dbId).
    diseases: BTreeMap<String, (String, String)>,
    error: Option<String>,
}

impl GeneAcc {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
            self.phenotypes = BTreeMap::new();
            self.diseases = BTreeMap::new();
        }
    }

    fn add(&mut self, row: Row<'_>) {
        if self.ncbi_gene_id.is_none() {
            self.ncbi_gene_id = Some(row.ncbi.to_string());
        }
        if !self.phenotypes.contains_key(row.hpo_id) {
            self.phenotypes
                .insert(row.hpo_id.to_string(), row.hpo_name.to_string());
        }
        if let Some((id, db, db_id)) = row.disease
            && !self.diseases.contains_key(id)
        {
            self.diseases
                .insert(id.to_string(), (db.to_string(), db_id.to_string()));
        }
    }

    fn finish(self, gene: &GeneKey, kidney: &HashSet<String>) -> HpoAnnotation {
        let phenotypes: Vec<Term> = self
            .phenotypes
            .into_iter()
            .map(|(id, name)| Term { id, name })
            .collect();
        let kidney_phenotypes: Vec<Term> = phenotypes
            .iter()
            .filter(|t| kidney.contains(&t.id))
            .cloned()
            .collect();
        let diseases: Vec<Disease> = self
            .diseases
            .into_iter()
            .map(|(id, (db, db_id))| Disease {
                id,
                name: None,
                db,
                db_id,
            })
            .collect();
        HpoAnnotation {
            gene_symbol: gene.symbol.clone(),
            ncbi_gene_id: self.ncbi_gene_id.or_else(|| gene.ncbi_gene_id.clone()),
            has_hpo_data: true,
            phenotype_count: phenotypes.len(),
            phenotypes,
            disease_count: diseases.len(),
            diseases,
            kidney_phenotype_count: kidney_phenotypes.len(),
            has_kidney_phenotype: !kidney_phenotypes.is_empty(),
            kidney_phenotypes,
            classification: Classification::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Term {
    id: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct Disease {
    id: String,
    /// The file names diseases by id only.
    name: Option<String>,
    db: String,
    #[serde(rename = "dbId")]
    db_id: String,
}

/// The original's classification shape; every value `null` (see the module docs).
#[derive(Debug, Default, Serialize)]
struct Classification {
    clinical_group: ClinicalGroup,
    onset_group: OnsetGroup,
    syndromic_assessment: SyndromicAssessment,
}

#[derive(Debug, Default, Serialize)]
struct ClinicalGroup {
    primary: Option<String>,
    scores: Option<BTreeMap<String, f64>>,
    supporting_terms: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize)]
struct OnsetGroup {
    primary: Option<String>,
    scores: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Serialize)]
struct SyndromicAssessment {
    is_syndromic: Option<bool>,
    syndromic_score: Option<f64>,
    category_scores: Option<BTreeMap<String, f64>>,
    extra_renal_categories: Option<Vec<String>>,
    extra_renal_term_counts: Option<BTreeMap<String, u64>>,
}

/// The stored `annotations` (the original's keys, docs/provider-formats.md).
#[derive(Debug, Serialize)]
struct HpoAnnotation {
    gene_symbol: String,
    ncbi_gene_id: Option<String>,
    has_hpo_data: bool,
    phenotypes: Vec<Term>,
    phenotype_count: usize,
    diseases: Vec<Disease>,
    disease_count: usize,
    kidney_phenotypes: Vec<Term>,
    kidney_phenotype_count: usize,
    has_kidney_phenotype: bool,
    classification: Classification,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_ids() {
        assert!(is_hpo_id("HP:0000107"));
        assert!(!is_hpo_id("HP:000107"));
        assert!(!is_hpo_id("MP:0000107"));
        let row = parse_row("5310", "HP:0000107", "Renal cyst", "OMIM:173900").unwrap();
        assert_eq!(row.disease, Some(("OMIM:173900", "OMIM", "173900")));
        assert!(
            parse_row("5310", "HP:0000107", "x", "-")
                .unwrap()
                .disease
                .is_none()
        );
        assert!(parse_row("5310", "HP:0000107", "x", "OMIM").is_err());
        assert!(parse_row("53x0", "HP:0000107", "x", "-").is_err());
    }
}
