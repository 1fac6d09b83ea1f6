//! `mpo_mgi`: kidney phenotypes of the mouse orthologues of our genes, live from MouseMine
//! (docs/provider-formats.md).
//!
//! Per chunk:
//! 1. **Kidney MP terms**: the descendants of MP:0005367 "renal/urinary system phenotype". The
//!    original ships them as a static list (661 ids) because JAX's `treeChildren` endpoint is
//!    behind reCAPTCHA; we have no copy of that list, so we ask MouseMine itself, once per
//!    chunk, with an InterMine path query on its copy of the MP ontology:
//!    `GET https://www.mousemine.org/mousemine/service/query/results?format=json&query=<query
//!    model="genomic" view="OntologyTerm.identifier OntologyTerm.name"><constraint
//!    path="OntologyTerm.parents.identifier" op="=" value="MP:0005367"/></query>`.
//!    InterMine's `OntologyTerm.parents` is the transitive closure of a term's ancestors (its
//!    "term [and children of this term]" templates constrain on it), so this is the whole
//!    subtree in one request, from the same MouseMine release the phenotype rows come from.
//!    The root is added if the answer omits it. An answer with fewer than
//!    [`MpoMgiConfig::min_kidney_terms`] ids fails the chunk: filtering against a truncated
//!    set would store `has_kidney_phenotype: false` for genes that have one (and should a mine
//!    hold only direct parents there, the dozen-odd children of the root would trip it too).
//!    [inf] `parents` may also follow MP's few non-is-a edges, which the original's
//!    `edgeType=is-a` tree walk did not.
//! 2. **Human gene → mouse phenotypes**: template `HGene_MPhenotype`, a bulk `LOOKUP` of the
//!    chunk's symbols (`value1=PKD1,PKD2,…`, `extra1=H. sapiens`, no `size`), rows
//!    `[human id, human symbol, human organism, MGI id, mouse symbol, mouse organism, MP id, MP
//!    name]`. A gene without rows has no mouse orthologue with phenotype annotations: not
//!    found. Whether `LOOKUP` accepts a comma list is unverified [inf]: when a chunk of several
//!    genes gets no row at all, each gene is looked up alone (`size=10000`) before any is
//!    called not found.
//! 3. **Zygosity**: template `_Genotype_Phenotype`, one request per mouse orthologue
//!    (`constraint1=OntologyAnnotation.subject.symbol&op1=CONTAINS&value1=Pkd1&size=10000`; the
//!    comma-joined bulk form is suspect), rows `[genotype id, genotype symbol, background,
//!    zygosity, MP id, MP name]`. `CONTAINS` also matches `Pkd1l2<…>/Pkd1l2<…>`, so a row
//!    counts only if one allele of its genotype is of the orthologue itself. At most
//!    [`MpoMgiConfig::max_orthologs_per_gene`] orthologues (alphabetical) are queried per gene.
//!
//! Stored keys (the bundled rows' names, docs/annotations.md): `gene_symbol` (ours),
//! `has_kidney_phenotype` (any kidney phenotype), `mouse_orthologs[]`, `phenotypes[{term,name}]`
//! (kidney terms from the gene's rows and its genotypes', sorted by term), `phenotype_count`,
//! `mpo_terms_searched` (size of the kidney term set), `zygosity_analysis{homozygous,
//! heterozygous, conditional: {has_kidney_phenotype, phenotype_count, phenotypes}, summary}`.
//! A zygosity without any genotype row has `has_kidney_phenotype: null` and shows as `NA` in
//! `summary` (`hm (true); ht (NA)`), as in the bundled rows.
//!
//! Chunk size: MouseMine is limited to 2 req/s. A chunk of 50 genes costs 1 term query + 1
//! bulk lookup + about one zygosity query per gene ≈ 52 requests ≈ 26 s; the worst case (bulk
//! form answering nothing → 50 single lookups, and 3 orthologues per gene → 150 zygosity
//! queries) is 202 requests ≈ 101 s, well inside a 5-minute Lambda with room for retries.
//!
//! Outcomes: a gene without rows → not found; a row of one gene that does not have the
//! template's shape, or a per-gene query refused (a non-transient 4xx, a `wasSuccessful:
//! false`) → that gene failed; MouseMine failing after the client's retries → `Err` for the
//! chunk.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use kgdb_core::annotation::AnnotationRecord;
use serde::Serialize;
use serde_json::{Value, json};

use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{FetchError, HttpClient};

/// InterMine template results (HGene_MPhenotype, _Genotype_Phenotype).
pub const TEMPLATE_RESULTS_URL: &str =
    "https://www.mousemine.org/mousemine/service/template/results";
/// InterMine path-query results (the kidney MP subtree).
pub const QUERY_RESULTS_URL: &str = "https://www.mousemine.org/mousemine/service/query/results";
/// MP:0005367 "renal/urinary system phenotype".
pub const KIDNEY_ROOT_TERM: &str = "MP:0005367";
/// The original's version string for this source.
pub const VERSION: &str = "1.0";

const SOURCE: &str = "mpo_mgi";
const HGENE_TEMPLATE: &str = "HGene_MPhenotype";
const GENOTYPE_TEMPLATE: &str = "_Genotype_Phenotype";

#[derive(Debug, Clone)]
pub struct MpoMgiConfig {
    /// Genes per queue message (see the module doc for the arithmetic).
    pub chunk_genes: usize,
    /// Symbols per bulk `LOOKUP` (the original's 100).
    pub lookup_batch: usize,
    /// Orthologues queried for zygosity per gene.
    pub max_orthologs_per_gene: usize,
    /// Zygosity queries in flight (the domain limit spaces them; this overlaps latency).
    pub concurrency: usize,
    /// Fewer kidney MP terms than this is a broken answer (the original's list has 661).
    pub min_kidney_terms: usize,
}

impl Default for MpoMgiConfig {
    fn default() -> Self {
        Self {
            chunk_genes: 50,
            lookup_batch: 100,
            max_orthologs_per_gene: 3,
            concurrency: 4,
            min_kidney_terms: 100,
        }
    }
}

pub struct MpoMgiFetcher {
    client: HttpClient,
    config: MpoMgiConfig,
}

impl MpoMgiFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self::with_config(client, MpoMgiConfig::default())
    }

    pub fn with_config(client: HttpClient, config: MpoMgiConfig) -> Self {
        Self { client, config }
    }

    pub fn config(&self) -> &MpoMgiConfig {
        &self.config
    }

    /// The kidney MP subtree (ids), root included.
    pub async fn kidney_terms(&self) -> Result<BTreeSet<String>, FetchError> {
        let query = format!(
            "<query model=\"genomic\" view=\"OntologyTerm.identifier OntologyTerm.name\" \
             sortOrder=\"OntologyTerm.identifier asc\">\
             <constraint path=\"OntologyTerm.parents.identifier\" op=\"=\" value=\"{KIDNEY_ROOT_TERM}\"/>\
             </query>"
        );
        let url = with_params(QUERY_RESULTS_URL, &[("query", &query), ("format", "json")])?;
        let body: Value = self.client.get_json(&url).await?;
        let rows = envelope_rows(&url, &body)?;
        let mut terms = BTreeSet::new();
        for row in rows {
            let id = row
                .as_array()
                .and_then(|cells| cells.first())
                .and_then(Value::as_str)
                .filter(|id| is_mp_id(id))
                .ok_or_else(|| {
                    FetchError::malformed(&url, format!("MP term row is not [MP id, name]: {row}"))
                })?;
            terms.insert(id.to_string());
        }
        terms.insert(KIDNEY_ROOT_TERM.to_string());
        if terms.len() < self.config.min_kidney_terms {
            return Err(FetchError::malformed(
                &url,
                format!(
                    "only {} descendants of {KIDNEY_ROOT_TERM} (expected at least {}): \
                     refusing to classify phenotypes against a truncated set",
                    terms.len(),
                    self.config.min_kidney_terms
                ),
            ));
        }
        Ok(terms)
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        let mut outcome = FetchOutcome::default();
        if genes.is_empty() {
            return Ok(outcome);
        }
        let terms = self.kidney_terms().await?;
        let index = GeneIndex::new(genes);
        let mut hits: Vec<GeneHits> = genes.iter().map(|_| GeneHits::default()).collect();

        // Human gene → orthologues and phenotypes, in bulk.
        for batch in chunk_indices(genes.len(), self.config.lookup_batch.max(1)) {
            let symbols: Vec<&str> = batch.iter().map(|&i| genes[i].symbol.as_str()).collect();
            let rows = self.hgene_rows(&symbols.join(","), false).await?;
            if rows.is_empty() && batch.len() > 1 {
                tracing::info!(
                    genes = batch.len(),
                    "MouseMine's bulk LOOKUP answered no row: looking the genes up one by one"
                );
                for &i in &batch {
                    match self.hgene_rows(&genes[i].symbol, true).await {
                        Ok(rows) => apply_hgene_rows(&rows, &index, &terms, &mut hits),
                        Err(e) if e.is_transient() => return Err(e),
                        Err(e) => hits[i].error = Some(format!("MouseMine lookup refused: {e}")),
                    }
                }
            } else {
                apply_hgene_rows(&rows, &index, &terms, &mut hits);
            }
        }

        // Zygosity, once per distinct orthologue.
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for h in hits.iter_mut().filter(|h| h.error.is_none()) {
            h.queried = h
                .orthologs
                .iter()
                .take(self.config.max_orthologs_per_gene)
                .cloned()
                .collect();
            wanted.extend(h.queried.iter().cloned());
        }
        let genotypes: HashMap<String, Result<Vec<GenotypeRow>, String>> =
            futures::stream::iter(wanted.into_iter().map(|mouse| async move {
                let rows = self.genotype_rows(&mouse).await;
                (mouse, rows)
            }))
            .buffer_unordered(self.config.concurrency.max(1))
            .map(|(mouse, rows)| match rows {
                Err(e) if e.is_transient() => Err(e),
                Err(e) => Ok((mouse, Err(format!("MouseMine genotype query refused: {e}")))),
                Ok(Err(why)) => Ok((mouse, Err(why))),
                Ok(Ok(rows)) => Ok((mouse, Ok(rows))),
            })
            .try_collect()
            .await?;

        for (gene, h) in genes.iter().zip(hits) {
            if let Some(why) = h.error {
                outcome.failed(gene, format!("mpo_mgi {}: {why}", gene.symbol));
                continue;
            }
            if h.orthologs.is_empty() {
                outcome.not_found(
                    gene,
                    format!(
                        "MouseMine has no mouse orthologue with phenotype annotations for {}",
                        gene.symbol
                    ),
                );
                continue;
            }
            let mut zygosity = Zygosities::default();
            let mut failure = None;
            for mouse in &h.queried {
                match genotypes.get(mouse) {
                    Some(Ok(rows)) => zygosity.add(rows, &terms),
                    Some(Err(why)) => {
                        failure = Some(format!("orthologue {mouse}: {why}"));
                        break;
                    }
                    None => {
                        failure = Some(format!("orthologue {mouse} was not queried"));
                        break;
                    }
                }
            }
            if let Some(why) = failure {
                outcome.failed(gene, format!("mpo_mgi {}: {why}", gene.symbol));
                continue;
            }
            let annotation = build_annotation(gene, &h.orthologs, h.phenotypes, zygosity, &terms);
            match serde_json::to_value(&annotation) {
                Ok(annotations) => outcome.records.push(AnnotationRecord {
                    hgnc_id: gene.hgnc_id.clone(),
                    source: SOURCE,
                    version: VERSION.to_string(),
                    annotations,
                    metadata: metadata(),
                }),
                Err(e) => outcome.failed(gene, format!("mpo_mgi {}: {e}", gene.symbol)),
            }
        }
        Ok(outcome)
    }

    /// HGene_MPhenotype rows for one symbol or a comma list.
    async fn hgene_rows(&self, value: &str, single: bool) -> Result<Vec<Value>, FetchError> {
        let mut params = vec![
            ("name", HGENE_TEMPLATE),
            ("constraint1", "Gene"),
            ("op1", "LOOKUP"),
            ("value1", value),
            ("extra1", "H. sapiens"),
            ("format", "json"),
        ];
        // The bulk form omits `size`; a single gene asks for all its rows.
        if single {
            params.push(("size", "10000"));
        }
        let url = with_params(TEMPLATE_RESULTS_URL, &params)?;
        let body: Value = self.client.get_json(&url).await?;
        envelope_rows(&url, &body).map(<[Value]>::to_vec)
    }

    /// `_Genotype_Phenotype` rows of one mouse gene's genotypes. The outer error is the
    /// request's; the inner one a malformed answer (the genes of this orthologue fail).
    async fn genotype_rows(
        &self,
        mouse_symbol: &str,
    ) -> Result<Result<Vec<GenotypeRow>, String>, FetchError> {
        let url = with_params(
            TEMPLATE_RESULTS_URL,
            &[
                ("name", GENOTYPE_TEMPLATE),
                ("constraint1", "OntologyAnnotation.subject.symbol"),
                ("op1", "CONTAINS"),
                ("value1", mouse_symbol),
                ("format", "json"),
                ("size", "10000"),
            ],
        )?;
        let body: Value = self.client.get_json(&url).await?;
        let rows = match envelope_rows(&url, &body) {
            Ok(rows) => rows,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut parsed = Vec::new();
        for row in rows {
            match parse_genotype_row(row) {
                Ok(r) if genotype_involves(&r.genotype_symbol, mouse_symbol) => parsed.push(r),
                Ok(_) => {}
                Err(why) => return Ok(Err(why)),
            }
        }
        Ok(Ok(parsed))
    }
}

impl AnnotationFetcher for MpoMgiFetcher {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn ttl_days(&self) -> i32 {
        90
    }

    fn chunking(&self) -> Chunking {
        Chunking::Genes(self.config.chunk_genes.max(1))
    }

    fn fetch<'a>(
        &'a self,
        genes: &'a [GeneKey],
    ) -> BoxFuture<'a, Result<FetchOutcome, FetchError>> {
        Box::pin(self.fetch_chunk(genes))
    }
}

/// What the bulk lookup found for one gene of the chunk.
#[derive(Debug, Default)]
struct GeneHits {
    orthologs: BTreeSet<String>,
    /// Kidney phenotypes of the gene-level rows, by MP id.
    phenotypes: BTreeMap<String, String>,
    /// The orthologues whose genotypes are queried.
    queried: Vec<String>,
    error: Option<String>,
}

fn apply_hgene_rows(
    rows: &[Value],
    index: &GeneIndex,
    terms: &BTreeSet<String>,
    hits: &mut [GeneHits],
) {
    for row in rows {
        match parse_hgene_row(row) {
            Ok(r) => {
                let Some(i) = index.symbol(&r.human_symbol) else {
                    tracing::debug!(symbol = %r.human_symbol, "MouseMine row for a gene not in the chunk");
                    continue;
                };
                let h = &mut hits[i];
                h.orthologs.insert(r.mouse_symbol);
                if terms.contains(&r.mp_id) {
                    h.phenotypes.entry(r.mp_id).or_insert(r.mp_name);
                }
            }
            Err(RowError::Gene(symbol, why)) => match index.symbol(&symbol) {
                Some(i) => {
                    hits[i].error.get_or_insert(why);
                }
                None => tracing::warn!(%symbol, %why, "malformed MouseMine row of another gene"),
            },
            Err(RowError::Unattributable(why)) => {
                tracing::warn!(%why, "malformed MouseMine row without a gene symbol: skipped");
            }
        }
    }
}

#[derive(Debug)]
struct HGeneRow {
    human_symbol: String,
    mouse_symbol: String,
    mp_id: String,
    mp_name: String,
}

#[derive(Debug)]
enum RowError {
    /// The row names a human gene: that gene fails.
    Gene(String, String),
    Unattributable(String),
}

fn parse_hgene_row(row: &Value) -> Result<HGeneRow, RowError> {
    let Some(cells) = row.as_array() else {
        return Err(RowError::Unattributable(format!(
            "{HGENE_TEMPLATE} row is not an array: {row}"
        )));
    };
    let Some(human_symbol) = cells.get(1).and_then(Value::as_str).map(str::trim) else {
        return Err(RowError::Unattributable(format!(
            "{HGENE_TEMPLATE} row without a human symbol: {row}"
        )));
    };
    let bad = |why: String| RowError::Gene(human_symbol.to_string(), why);
    if cells.len() < 8 {
        return Err(bad(format!(
            "{HGENE_TEMPLATE} row has {} cells, expected 8: {row}",
            cells.len()
        )));
    }
    let mouse_symbol = text(&cells[4])
        .ok_or_else(|| bad(format!("mouse symbol (cell 4) is not a symbol: {row}")))?;
    let mp_id = cells[6]
        .as_str()
        .map(str::trim)
        .filter(|id| is_mp_id(id))
        .ok_or_else(|| bad(format!("cell 6 is not an MP id: {row}")))?;
    let mp_name =
        text(&cells[7]).ok_or_else(|| bad(format!("MP term name (cell 7) is not text: {row}")))?;
    Ok(HGeneRow {
        human_symbol: human_symbol.to_string(),
        mouse_symbol: mouse_symbol.to_string(),
        mp_id: mp_id.to_string(),
        mp_name: mp_name.to_string(),
    })
}

#[derive(Debug)]
struct GenotypeRow {
    genotype_symbol: String,
    zygosity: Option<String>,
    mp_id: String,
    mp_name: String,
}

fn parse_genotype_row(row: &Value) -> Result<GenotypeRow, String> {
    let cells = row
        .as_array()
        .filter(|c| c.len() >= 6)
        .ok_or_else(|| format!("{GENOTYPE_TEMPLATE} row is not an array of 6 cells: {row}"))?;
    let genotype_symbol =
        text(&cells[1]).ok_or_else(|| format!("genotype symbol (cell 1) is not text: {row}"))?;
    let zygosity = match &cells[3] {
        Value::Null => None,
        Value::String(z) => Some(z.trim().to_string()),
        _ => return Err(format!("zygosity (cell 3) is not text: {row}")),
    };
    let mp_id = cells[4]
        .as_str()
        .map(str::trim)
        .filter(|id| is_mp_id(id))
        .ok_or_else(|| format!("cell 4 is not an MP id: {row}"))?;
    let mp_name =
        text(&cells[5]).ok_or_else(|| format!("MP term name (cell 5) is not text: {row}"))?;
    Ok(GenotypeRow {
        genotype_symbol: genotype_symbol.to_string(),
        zygosity,
        mp_id: mp_id.to_string(),
        mp_name: mp_name.to_string(),
    })
}

/// Whether an allele of the genotype (`Pkd1<tm1Jzh>/Pkd1<+> Tg(Cdh16-cre)91Igr/0`) belongs to
/// `mouse_symbol` (`Pkd1`, not `Pkd1l2`).
pub fn genotype_involves(genotype: &str, mouse_symbol: &str) -> bool {
    genotype
        .split(|c: char| c.is_whitespace() || c == '/' || c == ',')
        .filter_map(|allele| allele.split('<').next())
        .any(|gene| gene == mouse_symbol)
}

/// Kidney phenotypes per zygosity; `seen` says whether any genotype of that zygosity exists.
#[derive(Debug, Default)]
struct Zygosities {
    homozygous: Group,
    heterozygous: Group,
    conditional: Group,
}

#[derive(Debug, Default)]
struct Group {
    seen: bool,
    kidney: BTreeMap<String, String>,
}

impl Zygosities {
    fn add(&mut self, rows: &[GenotypeRow], terms: &BTreeSet<String>) {
        for r in rows {
            let group = match r.zygosity.as_deref() {
                Some("hm") => &mut self.homozygous,
                Some("ht") => &mut self.heterozygous,
                Some("cn") => &mut self.conditional,
                _ => continue,
            };
            group.seen = true;
            if terms.contains(&r.mp_id) {
                group
                    .kidney
                    .entry(r.mp_id.clone())
                    .or_insert_with(|| r.mp_name.clone());
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct Phenotype {
    term: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct ZygosityGroup {
    has_kidney_phenotype: Option<bool>,
    phenotype_count: usize,
    phenotypes: Vec<Phenotype>,
}

#[derive(Debug, Serialize)]
struct ZygosityAnalysis {
    homozygous: ZygosityGroup,
    heterozygous: ZygosityGroup,
    conditional: ZygosityGroup,
    summary: String,
}

#[derive(Debug, Serialize)]
struct MpoMgiAnnotation {
    gene_symbol: String,
    has_kidney_phenotype: bool,
    mouse_orthologs: Vec<String>,
    phenotypes: Vec<Phenotype>,
    phenotype_count: usize,
    mpo_terms_searched: usize,
    zygosity_analysis: ZygosityAnalysis,
}

fn phenotype_list(map: &BTreeMap<String, String>) -> Vec<Phenotype> {
    map.iter()
        .map(|(term, name)| Phenotype {
            term: term.clone(),
            name: name.clone(),
        })
        .collect()
}

fn group(g: &Group) -> ZygosityGroup {
    ZygosityGroup {
        has_kidney_phenotype: g.seen.then_some(!g.kidney.is_empty()),
        phenotype_count: g.kidney.len(),
        phenotypes: phenotype_list(&g.kidney),
    }
}

fn summary_value(g: &ZygosityGroup) -> &'static str {
    match g.has_kidney_phenotype {
        Some(true) => "true",
        Some(false) => "false",
        None => "NA",
    }
}

fn build_annotation(
    gene: &GeneKey,
    orthologs: &BTreeSet<String>,
    mut phenotypes: BTreeMap<String, String>,
    zygosity: Zygosities,
    terms: &BTreeSet<String>,
) -> MpoMgiAnnotation {
    for g in [
        &zygosity.homozygous,
        &zygosity.heterozygous,
        &zygosity.conditional,
    ] {
        for (term, name) in &g.kidney {
            phenotypes
                .entry(term.clone())
                .or_insert_with(|| name.clone());
        }
    }
    let (homozygous, heterozygous, conditional) = (
        group(&zygosity.homozygous),
        group(&zygosity.heterozygous),
        group(&zygosity.conditional),
    );
    let summary = format!(
        "hm ({}); ht ({})",
        summary_value(&homozygous),
        summary_value(&heterozygous)
    );
    MpoMgiAnnotation {
        gene_symbol: gene.symbol.clone(),
        has_kidney_phenotype: !phenotypes.is_empty(),
        mouse_orthologs: orthologs.iter().cloned().collect(),
        phenotype_count: phenotypes.len(),
        phenotypes: phenotype_list(&phenotypes),
        mpo_terms_searched: terms.len(),
        zygosity_analysis: ZygosityAnalysis {
            homozygous,
            heterozygous,
            conditional,
            summary,
        },
    }
}

/// Deterministic: where the values come from, never when.
fn metadata() -> Value {
    json!({
        "batch_fetch": true,
        "origin": "MouseMine",
        "endpoint": TEMPLATE_RESULTS_URL,
        "templates": [HGENE_TEMPLATE, GENOTYPE_TEMPLATE],
        "kidney_root_term": KIDNEY_ROOT_TERM,
    })
}

/// The `results` rows of an InterMine answer (`wasSuccessful`, `error`, `results`).
fn envelope_rows<'v>(url: &str, body: &'v Value) -> Result<&'v [Value], FetchError> {
    if body.get("wasSuccessful").and_then(Value::as_bool) == Some(false) {
        let error = body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no error message");
        return Err(FetchError::malformed(
            url,
            format!("MouseMine wasSuccessful=false: {error}"),
        ));
    }
    body.get("results")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| FetchError::malformed(url, "InterMine answer without a `results` array"))
}

fn with_params(base: &str, params: &[(&str, &str)]) -> Result<String, FetchError> {
    let mut url =
        url::Url::parse(base).map_err(|e| FetchError::Config(format!("url {base}: {e}")))?;
    url.query_pairs_mut().extend_pairs(params);
    Ok(url.to_string())
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn is_mp_id(id: &str) -> bool {
    id.strip_prefix("MP:")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn chunk_indices(len: usize, size: usize) -> Vec<Vec<usize>> {
    (0..len)
        .collect::<Vec<_>>()
        .chunks(size)
        .map(<[usize]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_genotype_involves_the_gene_of_one_of_its_alleles() {
        assert!(genotype_involves("Pkd1<tm1Jzh>/Pkd1<tm1Jzh>", "Pkd1"));
        assert!(genotype_involves(
            "Pkd1<tm2Ggg>/Pkd1<tm2Ggg> Tg(Cdh16-cre)91Igr/0",
            "Pkd1"
        ));
        assert!(genotype_involves("Pkd2<tm2Som>/Pkd2<+>", "Pkd2"));
        assert!(!genotype_involves("Pkd1l2<tm1Lex>/Pkd1l2<tm1Lex>", "Pkd1"));
        assert!(!genotype_involves(
            "Gt(ROSA)26Sor<tm1(cre/ERT2)Tyj>/Gt(ROSA)26Sor<+>",
            "ERT2"
        ));
    }

    #[test]
    fn rows_of_the_wrong_shape_name_their_gene_when_they_can() {
        let short = json!(["5310", "PKD1", "H. sapiens", "MGI:97603"]);
        assert!(matches!(parse_hgene_row(&short), Err(RowError::Gene(s, _)) if s == "PKD1"));
        let not_mp = json!([
            "5310",
            "PKD1",
            "H. sapiens",
            "MGI:97603",
            "Pkd1",
            "M. musculus",
            42,
            "kidney cysts"
        ]);
        assert!(matches!(parse_hgene_row(&not_mp), Err(RowError::Gene(s, _)) if s == "PKD1"));
        assert!(matches!(
            parse_hgene_row(&json!({"symbol": "PKD1"})),
            Err(RowError::Unattributable(_))
        ));
        assert!(is_mp_id("MP:0005367"));
        assert!(!is_mp_id("MP:"));
        assert!(!is_mp_id("HP:0000077"));
    }

    #[test]
    fn a_zygosity_without_genotypes_is_na_in_the_summary() {
        let terms: BTreeSet<String> = ["MP:0003675".to_string()].into();
        let mut z = Zygosities::default();
        let row = |zyg: &str, term: &str| GenotypeRow {
            genotype_symbol: "Pkd1<tm1Jzh>/Pkd1<tm1Jzh>".into(),
            zygosity: Some(zyg.into()),
            mp_id: term.into(),
            mp_name: "x".into(),
        };
        z.add(&[row("hm", "MP:0003675"), row("cn", "MP:0002083")], &terms);
        let gene = GeneKey {
            hgnc_id: "HGNC:9008".into(),
            symbol: "PKD1".into(),
            ensembl_gene_id: None,
            ncbi_gene_id: None,
            percentage_score: None,
        };
        let a = build_annotation(&gene, &BTreeSet::new(), BTreeMap::new(), z, &terms);
        assert_eq!(a.zygosity_analysis.summary, "hm (true); ht (NA)");
        assert_eq!(
            a.zygosity_analysis.conditional.has_kidney_phenotype,
            Some(false)
        );
        assert_eq!(a.zygosity_analysis.heterozygous.has_kidney_phenotype, None);
        assert!(a.has_kidney_phenotype);
        assert_eq!(a.phenotype_count, 1);
    }
}
