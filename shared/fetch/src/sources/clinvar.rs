//! `clinvar`: variant counts per clinical significance, review confidence, variant types and
//! consequences of each gene, from ClinVar's `variant_summary.txt.gz` (docs/provider-formats.md).
//!
//! **Bulk** (one chunk of every due gene): the file (about 400 MB gzipped, several GB of text)
//! is streamed once; its header is read by name; only `Assembly = GRCh38` rows of the chunk's
//! genes are kept (the gene by `HGNC_ID`, else `GeneID`, else each of the `;`-joined
//! `GeneSymbol`s). Each gene has a bounded accumulator: counters, at most
//! [`ClinvarConfig::max_variant_details`] protein and genomic variants, at most
//! [`ClinvarConfig::max_traits_tracked`] distinct traits, a few dozen variant types and
//! consequences. A row repeating the gene's previous `VariationID` is counted once.
//!
//! **Fallback** (the bulk file failed: an HTTP error after the retries, a broken stream, a
//! changed header): for a chunk of at most [`ClinvarConfig::fallback_max_genes`] genes (20, the
//! original's `gene_batch_size`), E-utilities `esearch` (`SYM[gene]`, pages of 10,000 ids) and
//! `esummary` (200 ids per POST). NCBI allows 3 requests/s without a key: a typical kidney
//! gene costs 2–20 calls, so 20 genes stay within minutes; the whole gene set (thousands of
//! genes, tens of thousands of calls) would take hours and is left to the queue's retry of the
//! bulk chunk. NCBI's rate-limit answer comes as a 429 (retried by the client, honouring
//! `Retry-After`) or as a 200 with the same JSON body (retried here after a pause).
//!
//! Values (the original's `clinvar_utils.py` rules, restated):
//! - significance by its first `;` component: `Pathogenic…` (including
//!   `Pathogenic/Likely pathogenic`) → pathogenic, `Likely pathogenic…` → likely pathogenic,
//!   `Uncertain significance` → vus, `Benign…` (including `Benign/Likely benign`) → benign,
//!   `Likely benign` → likely benign, `Conflicting…` → conflicting, `not provided` / empty /
//!   `no classification…` → not provided; anything else (risk factor, drug response, …) counts
//!   in `total_count` only;
//! - review confidence 0–4 per the original's YAML (practice guideline and expert panel 4,
//!   multiple submitters without conflicts 3, conflicting or single submitter 2, no assertion
//!   criteria 1, none 0); `high_confidence_count` counts confidence ≥ 3;
//! - consequences inferred from the HGVS `Name` (`p.…fs` frameshift, `p.…Ter`/`*` nonsense,
//!   `p.Met1?` start lost, `p.Xxx12Yyy` missense, `p.…=` synonymous, in-frame del/dup/ins,
//!   `c.N+1/+2` donor, `c.N-1/-2` acceptor, other `c.N±k` intron, `c.-N` / `c.*N` UTR),
//!   E-utilities' own `molecular_consequence_list` when it has one.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::common::{bulk_metadata, field, open, push_record, round_to, split_spans, top_counts};
use crate::annotation::{
    AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey, emit_record,
};
use crate::{FetchError, HttpClient};

pub const SOURCE: &str = "clinvar";
/// The original's source version (the file carries no release inside; `metadata.origin` says
/// which file).
pub const VERSION: &str = "2.0";
pub const TTL_DAYS: i32 = 90;
pub const VARIANT_SUMMARY_URL: &str =
    "https://ftp.ncbi.nlm.nih.gov/pub/clinvar/tab_delimited/variant_summary.txt.gz";
pub const EUTILS_URL: &str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils";

/// Ids per `esearch` page (E-utilities' maximum) and per `esummary` call (the original's).
const ESEARCH_PAGE: usize = 10_000;
const ESUMMARY_BATCH: usize = 200;
/// Distinct variant types and consequence labels kept per gene (ClinVar has about a dozen).
const MAX_KINDS: usize = 64;
const TOP_CONSEQUENCES: usize = 10;
const TOP_TRAITS: usize = 5;
/// `high_confidence_count` counts variants with at least this review confidence.
const HIGH_CONFIDENCE: u8 = 3;

#[derive(Debug, Clone)]
pub struct ClinvarConfig {
    pub variant_summary_url: String,
    pub eutils_url: String,
    /// NCBI's optional key (10 requests/s instead of 3).
    pub api_key: Option<String>,
    /// The E-utilities fallback serves chunks of at most this many genes.
    pub fallback_max_genes: usize,
    /// `protein_variants` and `genomic_variants` keep at most this many each (first in file
    /// order), as the original.
    pub max_variant_details: usize,
    /// Distinct trait names counted per gene (later new names are not counted), so a gene
    /// with thousands of submitted conditions cannot grow without bound.
    pub max_traits_tracked: usize,
    /// Wait before repeating a call NCBI answered with its rate-limit body under HTTP 200.
    pub rate_limit_pause: Duration,
    pub rate_limit_retries: usize,
}

impl Default for ClinvarConfig {
    fn default() -> Self {
        Self {
            variant_summary_url: VARIANT_SUMMARY_URL.to_string(),
            eutils_url: EUTILS_URL.to_string(),
            api_key: None,
            fallback_max_genes: 20,
            max_variant_details: 200,
            max_traits_tracked: 256,
            rate_limit_pause: Duration::from_secs(1),
            rate_limit_retries: 3,
        }
    }
}

pub struct ClinvarFetcher {
    client: HttpClient,
    config: ClinvarConfig,
}

impl ClinvarFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self::with_config(client, ClinvarConfig::default())
    }

    pub fn with_config(client: HttpClient, config: ClinvarConfig) -> Self {
        Self { client, config }
    }

    pub fn config(&self) -> &ClinvarConfig {
        &self.config
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            // Nothing to look for: no multi-gigabyte read for it.
            return Ok(FetchOutcome::default());
        }
        let url = self.config.variant_summary_url.as_str();
        match self.read_bulk(genes).await {
            Ok((accumulators, spill)) => {
                Ok(self.finish(genes, accumulators, &spill, &bulk_metadata(url, &[])))
            }
            Err(bulk_error)
                if !genes.is_empty() && genes.len() <= self.config.fallback_max_genes =>
            {
                tracing::warn!(
                    error = %bulk_error,
                    genes = genes.len(),
                    "clinvar bulk file failed; E-utilities fallback"
                );
                self.fetch_eutils(genes).await
            }
            Err(bulk_error) => Err(bulk_error),
        }
    }

    /// One pass over `variant_summary`, keeping the chunk's GRCh38 rows.
    async fn read_bulk(
        &self,
        genes: &[GeneKey],
    ) -> Result<(Vec<Option<GeneAcc>>, Spill), FetchError> {
        let url = self.config.variant_summary_url.as_str();
        let mut spill = Spill::new().map_err(|e| FetchError::Config(format!("spill file: {e}")))?;
        let index = GeneIndex::new(genes);
        let mut lines = open(&self.client, url).await?;
        let header = lines
            .next_line()
            .await?
            .ok_or_else(|| FetchError::malformed(url, "empty file"))?;
        if !header.starts_with("#AlleleID") {
            return Err(FetchError::malformed(
                url,
                "the first line is not the #AlleleID header",
            ));
        }
        let columns = super::common::Columns::parse(header, '\t');
        let [
            c_type,
            c_name,
            c_gene_id,
            c_symbol,
            c_hgnc,
            c_significance,
            c_phenotypes,
            c_assembly,
            c_chromosome,
            c_start,
            c_stop,
            c_review,
            c_variation,
        ] = columns.require(
            url,
            [
                "Type",
                "Name",
                "GeneID",
                "GeneSymbol",
                "HGNC_ID",
                "ClinicalSignificance",
                "PhenotypeList",
                "Assembly",
                "Chromosome",
                "Start",
                "Stop",
                "ReviewStatus",
                "VariationID",
            ],
        )?;
        let width = columns.len();
        let mut accumulators: Vec<Option<GeneAcc>> = (0..genes.len()).map(|_| None).collect();
        let mut spans = Vec::with_capacity(width);
        let mut ours = Vec::new();
        let mut line_number = 1u64;
        while let Some(line) = lines.next_line().await? {
            line_number += 1;
            if line.is_empty() {
                continue;
            }
            split_spans(line, b'\t', &mut spans);
            let get = |i: usize| field(line, &spans, i).unwrap_or_default();
            genes_of_row(
                &index,
                get(c_hgnc),
                get(c_gene_id),
                get(c_symbol),
                &mut ours,
            );
            if ours.is_empty() {
                continue;
            }
            let parsed = if spans.len() != width {
                Err(format!(
                    "{} fields where the header has {width}",
                    spans.len()
                ))
            } else if get(c_assembly) != "GRCh38" {
                continue;
            } else {
                bulk_variant(
                    get(c_variation),
                    get(c_name),
                    get(c_type),
                    get(c_significance),
                    get(c_review),
                    get(c_phenotypes),
                    get(c_chromosome),
                    get(c_start),
                    get(c_stop),
                )
            };
            for &i in &ours {
                let acc = accumulators[i].get_or_insert_with(GeneAcc::default);
                match &parsed {
                    Ok(variant) => acc.add(variant, &self.config, &mut spill),
                    Err(message) => {
                        acc.fail(format!("variant_summary line {line_number}: {message}"))
                    }
                }
            }
        }
        spill
            .finish_writing()
            .map_err(|e| FetchError::Config(format!("spill file: {e}")))?;
        Ok((accumulators, spill))
    }

    fn finish(
        &self,
        genes: &[GeneKey],
        accumulators: Vec<Option<GeneAcc>>,
        spill: &Spill,
        metadata: &Value,
    ) -> FetchOutcome {
        let mut outcome = FetchOutcome::default();
        for (gene, acc) in genes.iter().zip(accumulators) {
            self.gene_outcome(&mut outcome, gene, acc, spill, metadata);
        }
        outcome
    }

    /// One gene's record (or miss) into `outcome`; its accumulator is consumed.
    fn gene_outcome(
        &self,
        outcome: &mut FetchOutcome,
        gene: &GeneKey,
        acc: Option<GeneAcc>,
        spill: &Spill,
        metadata: &Value,
    ) {
        match acc {
            None => outcome.not_found(gene, "no GRCh38 variant in ClinVar"),
            Some(GeneAcc {
                error: Some(error), ..
            }) => outcome.failed(gene, error),
            Some(acc) if acc.total == 0 => outcome.not_found(gene, "no GRCh38 variant in ClinVar"),
            Some(acc) => match acc.finish(&gene.symbol, spill) {
                Ok(annotation) => {
                    push_record(outcome, gene, SOURCE, VERSION, &annotation, metadata)
                }
                Err(e) => outcome.failed(gene, e),
            },
        }
    }

    /// The bulk path of `fetch_each`: every gene's record built and sent one at a time, so
    /// only the counters, the spilled details' offsets and one record are in memory.
    async fn fetch_each_chunk(
        &self,
        genes: &[GeneKey],
        emit: &tokio::sync::mpsc::Sender<kgdb_core::annotation::AnnotationRecord>,
    ) -> Result<Vec<crate::annotation::GeneMiss>, FetchError> {
        if genes.is_empty() {
            return Ok(Vec::new());
        }
        let url = self.config.variant_summary_url.as_str();
        let (accumulators, spill) = match self.read_bulk(genes).await {
            Ok(read) => read,
            Err(_) if genes.len() <= self.config.fallback_max_genes => {
                let outcome = self.fetch_chunk(genes).await?;
                for record in outcome.records {
                    emit_record(emit, record).await?;
                }
                return Ok(outcome.misses);
            }
            Err(e) => return Err(e),
        };
        let metadata = bulk_metadata(url, &[]);
        let mut misses = Vec::new();
        for (gene, acc) in genes.iter().zip(accumulators) {
            let mut one = FetchOutcome::default();
            self.gene_outcome(&mut one, gene, acc, &spill, &metadata);
            misses.append(&mut one.misses);
            for record in one.records {
                emit_record(emit, record).await?;
            }
        }
        Ok(misses)
    }

    /// The fallback: per gene `esearch` pages then `esummary` batches, sequentially (NCBI's
    /// 3 requests/s is the client's domain limit).
    async fn fetch_eutils(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        let mut spill = Spill::new().map_err(|e| FetchError::Config(format!("spill file: {e}")))?;
        let mut accumulators = Vec::with_capacity(genes.len());
        for gene in genes {
            accumulators.push(self.eutils_gene(gene, &mut spill).await?);
        }
        spill
            .finish_writing()
            .map_err(|e| FetchError::Config(format!("spill file: {e}")))?;
        let summary = format!("{}/esummary.fcgi", self.config.eutils_url);
        let mut metadata = bulk_metadata(&summary, &[]);
        metadata["batch_fetch"] = Value::Bool(false);
        Ok(self.finish(genes, accumulators, &spill, &metadata))
    }

    async fn eutils_gene(
        &self,
        gene: &GeneKey,
        spill: &mut Spill,
    ) -> Result<Option<GeneAcc>, FetchError> {
        let base = self.config.eutils_url.as_str();
        let search = format!("{base}/esearch.fcgi");
        let summary = format!("{base}/esummary.fcgi");
        let term = format!("{}[gene]", gene.symbol);
        let mut acc = GeneAcc::default();
        let mut start = 0usize;
        loop {
            let retmax = ESEARCH_PAGE.to_string();
            let retstart = start.to_string();
            let mut params = vec![
                ("db", "clinvar"),
                ("term", term.as_str()),
                ("retmax", retmax.as_str()),
                ("retstart", retstart.as_str()),
                ("retmode", "json"),
            ];
            if let Some(key) = &self.config.api_key {
                params.push(("api_key", key.as_str()));
            }
            let url = url::Url::parse_with_params(&search, &params)
                .map_err(|e| FetchError::Config(format!("{search}: {e}")))?;
            let answer = self.eutils_json(url.as_str(), None).await?;
            let (count, ids) = match esearch_ids(&answer) {
                Ok(page) => page,
                Err(message) => {
                    acc.fail(format!("esearch {term}: {message}"));
                    return Ok(Some(acc));
                }
            };
            for batch in ids.chunks(ESUMMARY_BATCH) {
                let joined = batch.join(",");
                let mut form = vec![
                    ("db", "clinvar"),
                    ("id", joined.as_str()),
                    ("retmode", "json"),
                ];
                if let Some(key) = &self.config.api_key {
                    form.push(("api_key", key.as_str()));
                }
                let answer = self.eutils_json(&summary, Some(&form)).await?;
                if let Err(message) = esummary_into(&answer, &mut acc, &self.config, spill) {
                    acc.fail(format!("esummary: {message}"));
                    return Ok(Some(acc));
                }
            }
            start += ids.len();
            if ids.is_empty() || start >= count {
                break;
            }
        }
        Ok((acc.total > 0 || acc.error.is_some()).then_some(acc))
    }

    /// A JSON answer of E-utilities; NCBI's rate-limit body under HTTP 200 is retried after a
    /// pause, and after the retries it is the 429 it means.
    async fn eutils_json(
        &self,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Result<Value, FetchError> {
        let mut attempt = 0;
        loop {
            let answer: Value = match form {
                Some(form) => self.client.post_form(url, form).await?,
                None => self.client.get_json(url).await?,
            };
            let Some(message) = rate_limit_message(&answer) else {
                return Ok(answer);
            };
            if attempt >= self.config.rate_limit_retries {
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status: 429,
                    excerpt: message,
                    retry_after: None,
                });
            }
            attempt += 1;
            tracing::warn!(url, %message, attempt, "E-utilities rate limit under HTTP 200");
            tokio::time::sleep(self.config.rate_limit_pause).await;
        }
    }
}

impl AnnotationFetcher for ClinvarFetcher {
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

    fn fetch_each<'a>(
        &'a self,
        genes: &'a [GeneKey],
        emit: &'a tokio::sync::mpsc::Sender<kgdb_core::annotation::AnnotationRecord>,
    ) -> BoxFuture<'a, Result<Vec<crate::annotation::GeneMiss>, FetchError>> {
        Box::pin(self.fetch_each_chunk(genes, emit))
    }
}

/// The chunk's genes a row names: by `HGNC_ID` when it has one, else by `GeneID`, else by each
/// `;`-joined symbol (multi-gene rows have `GeneID -1` and no HGNC id).
fn genes_of_row(index: &GeneIndex, hgnc: &str, gene_id: &str, symbols: &str, out: &mut Vec<usize>) {
    out.clear();
    if hgnc.starts_with("HGNC:") {
        out.extend(index.hgnc(hgnc));
        return;
    }
    if let Some(i) = gene_id
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .and_then(|_| index.ncbi(gene_id))
    {
        out.push(i);
        return;
    }
    for symbol in symbols.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(i) = index.symbol(symbol)
            && !out.contains(&i)
        {
            out.push(i);
        }
    }
}

/// One variant as both paths read it.
#[derive(Debug)]
struct Variant<'a> {
    variation_id: u64,
    title: &'a str,
    variant_type: &'a str,
    significance: &'a str,
    review_status: &'a str,
    traits: Vec<&'a str>,
    consequences: Vec<&'a str>,
    chromosome: Option<&'a str>,
    start: Option<i64>,
    stop: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
fn bulk_variant<'a>(
    variation_id: &'a str,
    name: &'a str,
    variant_type: &'a str,
    significance: &'a str,
    review_status: &'a str,
    phenotypes: &'a str,
    chromosome: &'a str,
    start: &'a str,
    stop: &'a str,
) -> Result<Variant<'a>, String> {
    let variation_id = variation_id
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("VariationID is not an integer: {variation_id:?}"))?;
    let mut traits: Vec<&str> = Vec::new();
    for trait_name in phenotypes.split('|').map(str::trim) {
        if is_trait(trait_name) && !traits.contains(&trait_name) {
            traits.push(trait_name);
        }
    }
    Ok(Variant {
        variation_id,
        title: name,
        variant_type,
        significance,
        review_status,
        traits,
        consequences: vec![infer_consequence(name)],
        chromosome: present(chromosome),
        start: coordinate(start, "Start")?,
        stop: coordinate(stop, "Stop")?,
    })
}

fn is_trait(name: &str) -> bool {
    !matches!(name, "" | "-" | "not provided" | "not specified")
}

fn present(value: &str) -> Option<&str> {
    let v = value.trim();
    (!matches!(v, "" | "-" | "na")).then_some(v)
}

/// A genomic coordinate; `-`, `na`, empty and ClinVar's `-1` mean none.
fn coordinate(raw: &str, column: &str) -> Result<Option<i64>, String> {
    let Some(v) = present(raw) else {
        return Ok(None);
    };
    match v.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        Ok(_) => Ok(None),
        Err(_) => Err(format!("{column} is not a coordinate: {raw:?}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Significance {
    Pathogenic,
    LikelyPathogenic,
    Vus,
    Benign,
    LikelyBenign,
    Conflicting,
    NotProvided,
    Other,
}

impl Significance {
    fn of(raw: &str) -> Self {
        let lower = raw.trim().to_ascii_lowercase();
        let first = lower.split(';').next().unwrap_or_default().trim();
        if first.starts_with("conflicting") {
            Self::Conflicting
        } else if first.starts_with("pathogenic") {
            Self::Pathogenic
        } else if first.starts_with("likely pathogenic") {
            Self::LikelyPathogenic
        } else if first.starts_with("uncertain significance") {
            Self::Vus
        } else if first.starts_with("benign") {
            Self::Benign
        } else if first.starts_with("likely benign") {
            Self::LikelyBenign
        } else if first.is_empty()
            || first == "-"
            || first.starts_with("not provided")
            || first.starts_with("no classification")
        {
            Self::NotProvided
        } else {
            Self::Other
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Pathogenic => "pathogenic",
            Self::LikelyPathogenic => "likely_pathogenic",
            Self::Vus => "vus",
            Self::Benign => "benign",
            Self::LikelyBenign => "likely_benign",
            Self::Conflicting => "conflicting",
            Self::NotProvided => "not_provided",
            Self::Other => "other",
        }
    }
}

/// Review confidence 0–4 (the original's YAML, plus the wordings ClinVar used before 2024).
fn review_confidence(status: &str) -> u8 {
    match status.trim().to_ascii_lowercase().as_str() {
        "practice guideline" | "reviewed by expert panel" => 4,
        "criteria provided, multiple submitters, no conflicts" => 3,
        "criteria provided, conflicting classifications"
        | "criteria provided, conflicting interpretations"
        | "criteria provided, single submitter" => 2,
        "no assertion for the individual variant"
        | "no assertion criteria provided"
        | "no classification for the single variant" => 1,
        _ => 0,
    }
}

/// The eight `consequence_categories`, most severe first.
const CATEGORIES: [&str; 8] = [
    "truncating",
    "splice_region",
    "missense",
    "inframe",
    "regulatory",
    "intronic",
    "synonymous",
    "other",
];

/// The category (index into [`CATEGORIES`]) of a consequence label.
fn category_of(consequence: &str) -> usize {
    let c = consequence.to_ascii_lowercase();
    if matches!(
        c.as_str(),
        "nonsense" | "frameshift variant" | "start lost" | "stop gained"
    ) {
        0
    } else if c.contains("splice") {
        1
    } else if c.contains("missense") {
        2
    } else if c.contains("inframe") {
        3
    } else if c.contains("utr") {
        4
    } else if c.contains("intron") {
        5
    } else if c.contains("synonymous") {
        6
    } else {
        7
    }
}

/// `p.…` inside the HGVS name's parentheses.
fn protein_change(name: &str) -> Option<&str> {
    let start = name.find("(p.")? + 1;
    let len = name[start..].find(')')?;
    Some(&name[start..start + len])
}

/// The first position preceded by a three-letter residue (`p.Gln4228Ter` → 4228).
fn protein_position(protein: &str) -> Option<u32> {
    let b = protein.as_bytes();
    for i in 3..b.len() {
        if b[i].is_ascii_digit()
            && !b[i - 1].is_ascii_digit()
            && b[i - 3..i].iter().all(u8::is_ascii_alphabetic)
        {
            let digits: String = protein[i..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            return digits.parse().ok();
        }
    }
    None
}

fn is_residue(b: &[u8]) -> bool {
    b.len() == 3 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_lowercase)
}

/// `Xxx123Yyy` with two different residues, the second not a stop.
fn is_missense(protein: &str) -> bool {
    let b = protein.as_bytes();
    let mut i = 0;
    while i + 3 < b.len() {
        if is_residue(&b[i..i + 3]) {
            let digits = b[i + 3..].iter().take_while(|c| c.is_ascii_digit()).count();
            let to = i + 3 + digits;
            if digits > 0 && to + 3 <= b.len() && is_residue(&b[to..to + 3]) {
                return b[i..i + 3] != b[to..to + 3] && &b[to..to + 3] != b"Ter";
            }
        }
        i += 1;
    }
    false
}

/// The first `c.` position: a UTR mark (`-` 5', `*` 3') and an intronic offset (`+2`, `-1`).
struct CdnaPosition {
    utr: Option<u8>,
    offset: Option<(u8, u32)>,
}

fn cdna_part(name: &str) -> Option<&str> {
    let start = name
        .find(":c.")
        .map(|i| i + 1)
        .or_else(|| name.starts_with("c.").then_some(0))?;
    let part = &name[start..];
    Some(part.split(" (").next().unwrap_or(part).trim())
}

fn cdna_position(name: &str) -> Option<CdnaPosition> {
    let b = cdna_part(name)?.as_bytes().get(2..)?;
    let mut i = 0;
    let utr = match b.first() {
        Some(m @ (b'-' | b'*')) => {
            i += 1;
            Some(*m)
        }
        _ => None,
    };
    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    i += digits;
    let offset = match b.get(i) {
        Some(sign @ (b'+' | b'-')) => {
            let run: String = b[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .map(|&c| char::from(c))
                .collect();
            run.parse().ok().map(|n| (*sign, n))
        }
        _ => None,
    };
    Some(CdnaPosition { utr, offset })
}

/// The consequence label the HGVS name implies (Sequence Ontology labels as ClinVar writes them).
fn infer_consequence(name: &str) -> &'static str {
    if let Some(p) = protein_change(name) {
        let extension = p.contains("ext");
        if p.contains("fs") {
            return "frameshift variant";
        }
        if extension && p.contains("Ter") {
            return "stop lost";
        }
        if (p.contains("Ter") || p.contains('*')) && !extension {
            return "nonsense";
        }
        if p.starts_with("p.Met1") && !p[6..].starts_with(|c: char| c.is_ascii_digit()) {
            return "start lost";
        }
        if p.ends_with('=') {
            return "synonymous variant";
        }
        if is_missense(p) {
            return "missense variant";
        }
        if p.contains("del") || p.contains("dup") || p.contains("ins") {
            return "inframe_indel";
        }
    }
    if let Some(c) = cdna_position(name) {
        match c.offset {
            Some((b'+', 1..=2)) => return "splice donor variant",
            Some((_, 1..=2)) => return "splice acceptor variant",
            Some(_) => return "intron variant",
            None => {}
        }
        match c.utr {
            Some(b'-') => return "5 prime UTR variant",
            Some(_) => return "3 prime UTR variant",
            None => {}
        }
    }
    "other"
}

#[derive(Debug, Clone, Serialize)]
struct VariantDetail {
    position: Option<u32>,
    protein_change: String,
    cdna_change: String,
    accession: String,
    classification: String,
    category: &'static str,
    effect_category: &'static str,
    review_status: String,
    confidence: u8,
    molecular_consequences: Vec<String>,
    variant_type: String,
    title: String,
    chromosome: Option<String>,
    genomic_start: Option<i64>,
    genomic_end: Option<i64>,
}

/// One gene's running totals: counters and capped lists only.
#[derive(Debug, Default)]
struct GeneAcc {
    total: u64,
    by_significance: [u64; 8],
    high_confidence: u64,
    variant_types: BTreeMap<String, u64>,
    consequences: BTreeMap<String, u64>,
    categories: [u64; 8],
    traits: HashMap<String, u64>,
    /// Offsets of the details in the chunk's spill file.
    protein_variants: Vec<Span>,
    genomic_variants: Vec<Span>,
    last_variation_id: Option<u64>,
    error: Option<String>,
}

impl GeneAcc {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
            // Nothing of a failed gene is stored: free its lists now.
            self.protein_variants = Vec::new();
            self.genomic_variants = Vec::new();
            self.traits = HashMap::new();
        }
    }

    fn add(&mut self, v: &Variant<'_>, config: &ClinvarConfig, spill: &mut Spill) {
        if self.error.is_some() || self.last_variation_id == Some(v.variation_id) {
            return;
        }
        self.last_variation_id = Some(v.variation_id);
        self.total += 1;
        let significance = Significance::of(v.significance);
        self.by_significance[significance as usize] += 1;
        let confidence = review_confidence(v.review_status);
        if confidence >= HIGH_CONFIDENCE {
            self.high_confidence += 1;
        }
        bump(&mut self.variant_types, v.variant_type.trim());
        let mut effect = CATEGORIES.len() - 1;
        for &c in &v.consequences {
            bump(&mut self.consequences, c);
            let category = category_of(c);
            self.categories[category] += 1;
            effect = effect.min(category);
        }
        for &t in &v.traits {
            if let Some(n) = self.traits.get_mut(t) {
                *n += 1;
            } else if self.traits.len() < config.max_traits_tracked {
                self.traits.insert(t.to_string(), 1);
            }
        }
        let max = config.max_variant_details;
        let protein = protein_change(v.title).unwrap_or_default();
        let position = protein_position(protein);
        let wants_protein = position.is_some() && self.protein_variants.len() < max;
        let wants_genomic = v.start.is_some() && self.genomic_variants.len() < max;
        if !(wants_protein || wants_genomic) {
            return;
        }
        let classification = if v.significance.trim().is_empty() {
            "not provided"
        } else {
            v.significance.trim()
        };
        let detail = VariantDetail {
            position,
            protein_change: protein.to_string(),
            cdna_change: cdna_part(v.title).unwrap_or_default().to_string(),
            accession: format!("VCV{:09}", v.variation_id),
            classification: classification.to_string(),
            category: significance.label(),
            effect_category: CATEGORIES[effect],
            review_status: v.review_status.trim().to_string(),
            confidence,
            molecular_consequences: v.consequences.iter().map(|c| c.to_string()).collect(),
            variant_type: v.variant_type.trim().to_string(),
            title: v.title.to_string(),
            chromosome: v.chromosome.map(str::to_string),
            genomic_start: v.start,
            genomic_end: v.stop,
        };
        let span = match spill.push(&detail) {
            Ok(span) => span,
            Err(e) => return self.fail(format!("spill file: {e}")),
        };
        // A variant that is both is written once and listed twice.
        if wants_protein {
            self.protein_variants.push(span);
        }
        if wants_genomic {
            self.genomic_variants.push(span);
        }
    }

    fn finish(self, symbol: &str, spill: &Spill) -> Result<ClinvarAnnotation, String> {
        let protein_variants = spill.read_all(&self.protein_variants)?;
        let genomic_variants = spill.read_all(&self.genomic_variants)?;
        let total = self.total;
        let count = |s: Significance| self.by_significance[s as usize];
        let (p, lp) = (
            count(Significance::Pathogenic),
            count(Significance::LikelyPathogenic),
        );
        let percent = |n: u64| {
            if total == 0 {
                0.0
            } else {
                round_to(n as f64 / total as f64 * 100.0, 1)
            }
        };
        let categories = |name: &str| {
            CATEGORIES
                .iter()
                .position(|c| *c == name)
                .map_or(0, |i| self.categories[i])
        };
        Ok(ClinvarAnnotation {
            gene_symbol: symbol.to_string(),
            total_count: total,
            pathogenic_count: p,
            likely_pathogenic_count: lp,
            vus_count: count(Significance::Vus),
            benign_count: count(Significance::Benign),
            likely_benign_count: count(Significance::LikelyBenign),
            conflicting_count: count(Significance::Conflicting),
            not_provided_count: count(Significance::NotProvided),
            high_confidence_count: self.high_confidence,
            high_confidence_percentage: percent(self.high_confidence),
            pathogenic_percentage: percent(p + lp),
            has_pathogenic: p + lp > 0,
            consequence_categories: ConsequenceCategories {
                truncating: categories("truncating"),
                missense: categories("missense"),
                inframe: categories("inframe"),
                splice_region: categories("splice_region"),
                regulatory: categories("regulatory"),
                intronic: categories("intronic"),
                synonymous: categories("synonymous"),
                other: categories("other"),
            },
            top_molecular_consequences: top_counts(self.consequences.clone(), TOP_CONSEQUENCES)
                .into_iter()
                .map(|(consequence, count)| ConsequenceCount { consequence, count })
                .collect(),
            top_traits: top_counts(self.traits, TOP_TRAITS)
                .into_iter()
                .map(|(name, count)| TraitCount { name, count })
                .collect(),
            variant_type_counts: self.variant_types,
            molecular_consequences: self.consequences,
            protein_variants,
            genomic_variants,
        })
    }
}

/// Where a detail sits in the spill file.
type Span = (u64, u32);

/// The chunk's variant details, written to an unlinked temporary file as they are found
/// (ClinVar lists up to 200 + 200 per gene: ~500 MB of JSON for the kidney genes), so memory
/// holds only their offsets; each gene's are read back when its record is built. Lambda's
/// `/tmp` takes it (512 MB by default).
struct Spill {
    file: std::io::BufWriter<std::fs::File>,
    len: u64,
    buffer: Vec<u8>,
}

impl Spill {
    fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "kgdb-clinvar-{}-{:?}.jsonl",
            std::process::id(),
            std::thread::current().id()
        ));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)?;
        // Unlinked at once: the open file lives until this Spill is dropped, even on a panic.
        std::fs::remove_file(&path)?;
        Ok(Self {
            file: std::io::BufWriter::with_capacity(1 << 16, file),
            len: 0,
            buffer: Vec::with_capacity(1024),
        })
    }

    fn push(&mut self, detail: &VariantDetail) -> Result<Span, String> {
        use std::io::Write;
        self.buffer.clear();
        serde_json::to_writer(&mut self.buffer, detail).map_err(|e| e.to_string())?;
        self.file
            .write_all(&self.buffer)
            .map_err(|e| e.to_string())?;
        let span = (
            self.len,
            u32::try_from(self.buffer.len()).map_err(|e| e.to_string())?,
        );
        self.len += self.buffer.len() as u64;
        Ok(span)
    }

    fn finish_writing(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.file.flush()
    }

    fn read_all(&self, spans: &[Span]) -> Result<Vec<Box<RawValue>>, String> {
        use std::os::unix::fs::FileExt;
        spans
            .iter()
            .map(|&(offset, len)| {
                let mut bytes = vec![0u8; len as usize];
                self.file
                    .get_ref()
                    .read_exact_at(&mut bytes, offset)
                    .map_err(|e| format!("spill file: {e}"))?;
                let text = String::from_utf8(bytes).map_err(|e| format!("spill file: {e}"))?;
                RawValue::from_string(text).map_err(|e| format!("spill file: {e}"))
            })
            .collect()
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < MAX_KINDS {
        map.insert(key.to_string(), 1);
    }
}

#[derive(Debug, Serialize)]
struct ConsequenceCategories {
    truncating: u64,
    missense: u64,
    inframe: u64,
    splice_region: u64,
    regulatory: u64,
    intronic: u64,
    synonymous: u64,
    other: u64,
}

#[derive(Debug, Serialize)]
struct ConsequenceCount {
    consequence: String,
    count: u64,
}

#[derive(Debug, Serialize)]
struct TraitCount {
    #[serde(rename = "trait")]
    name: String,
    count: u64,
}

/// The stored `annotations` (the original's keys, docs/provider-formats.md).
#[derive(Debug, Serialize)]
struct ClinvarAnnotation {
    gene_symbol: String,
    total_count: u64,
    pathogenic_count: u64,
    likely_pathogenic_count: u64,
    vus_count: u64,
    benign_count: u64,
    likely_benign_count: u64,
    conflicting_count: u64,
    not_provided_count: u64,
    high_confidence_count: u64,
    high_confidence_percentage: f64,
    pathogenic_percentage: f64,
    has_pathogenic: bool,
    variant_type_counts: BTreeMap<String, u64>,
    molecular_consequences: BTreeMap<String, u64>,
    consequence_categories: ConsequenceCategories,
    protein_variants: Vec<Box<RawValue>>,
    genomic_variants: Vec<Box<RawValue>>,
    top_molecular_consequences: Vec<ConsequenceCount>,
    top_traits: Vec<TraitCount>,
}

fn rate_limit_message(answer: &Value) -> Option<String> {
    let error = answer.get("error")?.as_str()?;
    error
        .to_ascii_lowercase()
        .contains("rate limit")
        .then(|| answer.to_string())
}

/// `esearchresult.count` and `idlist`.
fn esearch_ids(answer: &Value) -> Result<(usize, Vec<String>), String> {
    let result = answer
        .get("esearchresult")
        .ok_or_else(|| format!("no esearchresult in {}", excerpt(answer)))?;
    let count = match result.get("count") {
        Some(Value::String(s)) => s.parse::<usize>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    }
    .ok_or_else(|| format!("esearchresult.count is not a number: {}", excerpt(answer)))?;
    let ids = result
        .get("idlist")
        .and_then(Value::as_array)
        .ok_or("esearchresult has no idlist")?
        .iter()
        .map(|id| match id {
            Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
                Ok(s.clone())
            }
            other => Err(format!("id is not a number: {other}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((count, ids))
}

fn excerpt(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

/// Adds every record of an `esummary` answer to `acc`.
fn esummary_into(
    answer: &Value,
    acc: &mut GeneAcc,
    config: &ClinvarConfig,
    spill: &mut Spill,
) -> Result<(), String> {
    let result = answer
        .get("result")
        .ok_or_else(|| format!("no result in {}", excerpt(answer)))?;
    let uids = result
        .get("uids")
        .and_then(Value::as_array)
        .ok_or("result has no uids")?;
    for uid in uids {
        let uid = uid
            .as_str()
            .ok_or_else(|| format!("uid is not a string: {uid}"))?;
        let record = result
            .get(uid)
            .ok_or_else(|| format!("result lacks the record of uid {uid}"))?;
        let variant = summary_variant(uid, record).map_err(|e| format!("uid {uid}: {e}"))?;
        acc.add(&variant, config, spill);
    }
    Ok(())
}

fn text<'a>(record: &'a Value, key: &str) -> Result<&'a str, String> {
    match record.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("{key} is not a string: {other}")),
    }
}

/// A coordinate of `esummary` (a string there, a number accepted).
fn json_coordinate(loc: &Value, key: &str) -> Result<Option<i64>, String> {
    match loc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => coordinate(s, key),
        Some(Value::Number(n)) => Ok(n.as_i64().filter(|n| *n >= 0)),
        Some(other) => Err(format!("{key} is not a coordinate: {other}")),
    }
}

fn summary_variant<'a>(uid: &str, record: &'a Value) -> Result<Variant<'a>, String> {
    let variation_id = uid
        .parse::<u64>()
        .map_err(|_| format!("uid is not an integer: {uid:?}"))?;
    let title = text(record, "title")?;
    // `germline_classification` since 2024; `clinical_significance` before.
    let classification = record
        .get("germline_classification")
        .or_else(|| record.get("clinical_significance"))
        .filter(|c| !c.is_null());
    let (significance, review_status, mut traits) = match classification {
        Some(c) if c.is_object() => {
            let mut traits = Vec::new();
            if let Some(set) = c.get("trait_set").and_then(Value::as_array) {
                for t in set {
                    let name = text(t, "trait_name")?.trim();
                    if is_trait(name) && !traits.contains(&name) {
                        traits.push(name);
                    }
                }
            }
            (text(c, "description")?, text(c, "review_status")?, traits)
        }
        Some(other) => return Err(format!("germline_classification is not an object: {other}")),
        None => ("", "", Vec::new()),
    };
    traits.truncate(64);
    let listed: Vec<&str> = match record.get("molecular_consequence_list") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(other) => return Err(format!("molecular_consequence_list is not a list: {other}")),
    };
    let consequences = if listed.is_empty() {
        vec![infer_consequence(title)]
    } else {
        listed
    };
    let location = record
        .get("variation_set")
        .and_then(Value::as_array)
        .and_then(|set| set.first())
        .and_then(|v| v.get("variation_loc"))
        .and_then(Value::as_array)
        .and_then(|locs| {
            locs.iter()
                .find(|l| l.get("assembly_name").and_then(Value::as_str) == Some("GRCh38"))
                .or_else(|| locs.first())
        });
    let (chromosome, start, stop) = match location {
        Some(loc) => (
            present(text(loc, "chr")?),
            json_coordinate(loc, "start")?,
            json_coordinate(loc, "stop")?,
        ),
        None => (None, None, None),
    };
    Ok(Variant {
        variation_id,
        title,
        variant_type: text(record, "obj_type")?,
        significance,
        review_status,
        traits,
        consequences,
        chromosome,
        start,
        stop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consequences_from_hgvs_names() {
        let cases = [
            ("NM_001009944.3(PKD1):c.12682C>T (p.Gln4228Ter)", "nonsense"),
            (
                "NM_001009944.3(PKD1):c.5014_5015del (p.Arg1672fs)",
                "frameshift variant",
            ),
            (
                "NM_001009944.3(PKD1):c.6395T>G (p.Phe2132Cys)",
                "missense variant",
            ),
            (
                "NM_001009944.3(PKD1):c.9201C>T (p.Ser3067=)",
                "synonymous variant",
            ),
            (
                "NM_001009944.3(PKD1):c.2180T>C (p.Leu727Pro)",
                "missense variant",
            ),
            (
                "NM_001009944.3(PKD1):c.7210-1G>A",
                "splice acceptor variant",
            ),
            ("NM_001009944.3(PKD1):c.11017+2T>C", "splice donor variant"),
            ("NM_001009944.3(PKD1):c.11017+10C>T", "intron variant"),
            ("NM_001009944.3(PKD1):c.-12G>A", "5 prime UTR variant"),
            ("NM_001009944.3(PKD1):c.*45A>G", "3 prime UTR variant"),
            ("NM_001009944.3(PKD1):c.3G>A (p.Met1?)", "start lost"),
            (
                "NM_001009944.3(PKD1):c.100_102del (p.Leu34del)",
                "inframe_indel",
            ),
            (
                "NM_001009944.3(PKD1):c.12909A>G (p.Ter4303TrpextTer12)",
                "stop lost",
            ),
            ("GRCh38/hg38 16p13.3(chr16:2038000-2140000)x1", "other"),
        ];
        for (name, expected) in cases {
            assert_eq!(infer_consequence(name), expected, "{name}");
        }
        assert_eq!(category_of("nonsense"), 0);
        assert_eq!(category_of("stop lost"), 7);
        assert_eq!(category_of("5 prime UTR variant"), 4);
        assert_eq!(protein_position("p.Gln4228Ter"), Some(4228));
        assert_eq!(protein_position("p.*12"), None);
        assert_eq!(
            cdna_part("NM_001009944.3(PKD1):c.12682C>T (p.Gln4228Ter)"),
            Some("c.12682C>T")
        );
    }

    #[test]
    fn significance_and_review_status() {
        use Significance::*;
        for (raw, expected) in [
            ("Pathogenic", Pathogenic),
            ("Pathogenic/Likely pathogenic", Pathogenic),
            ("Likely pathogenic; risk factor", LikelyPathogenic),
            ("Uncertain significance", Vus),
            ("Benign/Likely benign", Benign),
            ("Likely benign", LikelyBenign),
            ("Conflicting classifications of pathogenicity", Conflicting),
            ("not provided", NotProvided),
            ("", NotProvided),
            ("drug response", Other),
        ] {
            assert_eq!(Significance::of(raw), expected, "{raw}");
        }
        assert_eq!(review_confidence("reviewed by expert panel"), 4);
        assert_eq!(
            review_confidence("criteria provided, multiple submitters, no conflicts"),
            3
        );
        assert_eq!(review_confidence("something new"), 0);
    }
}
