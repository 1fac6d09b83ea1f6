//! `gnomad`: loss-of-function and missense constraint from gnomAD v4.1 (docs/provider-formats.md).
//!
//! **Bulk (primary)**: [`BULK_URL`], about 96 MB of uncompressed TSV, one row per transcript
//! (Ensembl `ENST…` rows with `gene_id` = `ENSG…`, RefSeq `NM_…` rows with the NCBI number).
//! Streamed line by line; the header names the columns (a missing one fails the chunk). Only
//! canonical or MANE Select rows are candidates, and per gene the best candidate is kept: a row
//! matched by the gene's Ensembl (or NCBI) id beats one matched by symbol only, then an Ensembl
//! transcript beats a RefSeq one, then MANE beats canonical only; of equals the first wins. (The
//! original kept the *last* canonical row by symbol, so a RefSeq row could replace the Ensembl
//! one.) A gene without a candidate, or whose row has none of pLI, LoF z and LOEUF, is
//! `not_found` with `constraint_not_available`; a malformed value (a pLI of `high`) fails that
//! gene only.
//!
//! **Fallback**: when the bulk file fails and the chunk has at most
//! [`DEFAULT_GRAPHQL_FALLBACK_MAX`] genes (configurable), each gene is asked of the GraphQL API
//! [`GRAPHQL_URL`] (POST, by Ensembl id when known, else by symbol; GRCh38) one after another.
//! The server allows 30 requests a minute per IP (the `gnomad.broadinstitute.org` domain limit
//! of `DomainLimits::original` spaces requests 2 s apart), so 30 genes take about a minute; a
//! larger chunk fails instead and the queue retries the bulk file. An unknown gene is a 200
//! with `errors` ("Gene not found"): `not_found`. The server's rate limit is a **400** with
//! `errors` ("Query rate limit exceeded…") and no `Retry-After`, which the client treats as
//! final; this module waits for the next one-minute bucket (configurable) and asks again a few
//! times, then fails the chunk with the error mapped to a 429 (transient, so the queue retries).
//!
//! **Keys**: `gene_symbol` (the data's), `canonical_transcript`, `source_version`
//! (`gnomad_v4.1`), `pli` (lower case: the original's summary read `pLI`), `lof_z`, `mis_z`,
//! `syn_z`, `oe_lof`, `oe_lof_lower`, `oe_lof_upper`, `oe_mis(_lower/_upper)`,
//! `oe_syn(_lower/_upper)` (numbers or null), `obs_lof/mis/syn` (integers), `exp_lof/mis/syn`
//! (numbers), `flags` (list of strings). Version `v4.1.0`.

use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::common::{Slots, columns, count, metadata, number, present, record};
use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{Compression, FetchError, HttpClient};

pub const SOURCE: &str = "gnomad";
pub const TTL_DAYS: i32 = 90;
pub const VERSION: &str = "v4.1.0";
pub const SOURCE_VERSION: &str = "gnomad_v4.1";
pub const BULK_URL: &str = "https://storage.googleapis.com/gcp-public-data--gnomad/release/4.1/constraint/gnomad.v4.1.constraint_metrics.tsv";
pub const GRAPHQL_URL: &str = "https://gnomad.broadinstitute.org/api";
/// Largest chunk the GraphQL fallback serves (one minute of the server's 30 requests/minute).
pub const DEFAULT_GRAPHQL_FALLBACK_MAX: usize = 30;
/// The server's rate-limit buckets are one minute long.
pub const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
pub const DEFAULT_RATE_LIMIT_RETRIES: usize = 2;
const NOT_AVAILABLE: &str = "constraint_not_available";

/// TSV column → stored key, numbers (f64).
const NUMBERS: [(&str, &str); 16] = [
    ("lof.pLI", "pli"),
    ("lof.z_score", "lof_z"),
    ("mis.z_score", "mis_z"),
    ("syn.z_score", "syn_z"),
    ("lof.oe", "oe_lof"),
    ("lof.oe_ci.lower", "oe_lof_lower"),
    ("lof.oe_ci.upper", "oe_lof_upper"),
    ("mis.oe", "oe_mis"),
    ("mis.oe_ci.lower", "oe_mis_lower"),
    ("mis.oe_ci.upper", "oe_mis_upper"),
    ("syn.oe", "oe_syn"),
    ("syn.oe_ci.lower", "oe_syn_lower"),
    ("syn.oe_ci.upper", "oe_syn_upper"),
    ("lof.exp", "exp_lof"),
    ("mis.exp", "exp_mis"),
    ("syn.exp", "exp_syn"),
];
/// TSV column → stored key, counts (integers).
const COUNTS: [(&str, &str); 3] = [
    ("lof.obs", "obs_lof"),
    ("mis.obs", "obs_mis"),
    ("syn.obs", "obs_syn"),
];

const GRAPHQL_QUERY: &str = "query KgdbConstraint($gene_id: String, $gene_symbol: String, $reference_genome: ReferenceGenomeId!) {
  gene(gene_id: $gene_id, gene_symbol: $gene_symbol, reference_genome: $reference_genome) {
    gene_id
    symbol
    canonical_transcript_id
    gnomad_constraint {
      exp_lof exp_mis exp_syn obs_lof obs_mis obs_syn
      oe_lof oe_lof_lower oe_lof_upper oe_mis oe_mis_lower oe_mis_upper
      oe_syn oe_syn_lower oe_syn_upper lof_z mis_z syn_z pli flags
    }
  }
}";

pub struct GnomadFetcher {
    client: HttpClient,
    graphql_fallback_max: usize,
    rate_limit_wait: Duration,
    rate_limit_retries: usize,
}

impl GnomadFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self {
            client,
            graphql_fallback_max: DEFAULT_GRAPHQL_FALLBACK_MAX,
            rate_limit_wait: DEFAULT_RATE_LIMIT_WAIT,
            rate_limit_retries: DEFAULT_RATE_LIMIT_RETRIES,
        }
    }

    /// Chunks of at most `max` genes fall back to GraphQL when the bulk file fails (0: never).
    pub fn with_graphql_fallback_max(mut self, max: usize) -> Self {
        self.graphql_fallback_max = max;
        self
    }

    /// How long to wait after the server's rate-limit answer, and how often to ask again.
    pub fn with_rate_limit_wait(mut self, wait: Duration, retries: usize) -> Self {
        self.rate_limit_wait = wait;
        self.rate_limit_retries = retries;
        self
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            return Ok(FetchOutcome::default());
        }
        match self.bulk(genes).await {
            Ok(outcome) => Ok(outcome),
            Err(e) if genes.len() <= self.graphql_fallback_max => {
                tracing::warn!(error = %e, genes = genes.len(), "gnomad bulk file failed: GraphQL fallback");
                self.graphql(genes).await
            }
            Err(e) => Err(e),
        }
    }

    async fn bulk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        let mut lines = self
            .client
            .lines(BULK_URL, Compression::of(BULK_URL))
            .await?;
        let header: Vec<String> = match lines.next_line().await? {
            Some(h) => h.split('\t').map(str::to_string).collect(),
            None => return Err(FetchError::malformed(BULK_URL, "empty file")),
        };
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let [
            gene_col,
            gene_id_col,
            transcript_col,
            canonical_col,
            flags_col,
        ] = columns(
            BULK_URL,
            &header,
            [
                "gene",
                "gene_id",
                "transcript",
                "canonical",
                "constraint_flags",
            ],
        )?;
        let mane_col = header.iter().position(|h| h.trim() == "mane_select");
        let number_cols = columns(BULK_URL, &header, NUMBERS.map(|(c, _)| c))?;
        let count_cols = columns(BULK_URL, &header, COUNTS.map(|(c, _)| c))?;
        let layout = Layout {
            width: header.len(),
            gene: gene_col,
            transcript: transcript_col,
            flags: flags_col,
            numbers: number_cols,
            counts: count_cols,
        };

        let index = GeneIndex::new(genes);
        let mut slots: Slots<Result<Option<Value>, String>> = Slots::new(genes.len());
        while let Some(line) = lines.next_line().await? {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let cell = |i: usize| fields.get(i).map_or("", |s| s.trim());
            let canonical = cell(canonical_col) == "true";
            let mane = mane_col.is_some_and(|c| cell(c) == "true");
            if !canonical && !mane {
                continue;
            }
            let gene_id = cell(gene_id_col);
            let by_id = if gene_id.starts_with("ENSG") {
                index.ensembl(gene_id)
            } else if !gene_id.is_empty() && gene_id.bytes().all(|b| b.is_ascii_digit()) {
                index.ncbi(gene_id)
            } else {
                None
            };
            let Some((i, by_id)) = by_id
                .map(|i| (i, true))
                .or_else(|| index.symbol(cell(gene_col)).map(|i| (i, false)))
            else {
                continue;
            };
            let rank = (u8::from(by_id) << 3)
                | (u8::from(cell(transcript_col).starts_with("ENST")) << 2)
                | (u8::from(mane) << 1)
                | u8::from(canonical);
            if slots.wants(i, rank) {
                slots.offer(i, rank, layout.annotation(&fields));
            }
        }

        let mut outcome = FetchOutcome::default();
        let meta = metadata(BULK_URL, true);
        for (gene, slot) in genes.iter().zip(slots.into_values()) {
            match slot {
                Some(Ok(Some(annotations))) => {
                    outcome
                        .records
                        .push(record(gene, SOURCE, VERSION, annotations, meta.clone()))
                }
                Some(Ok(None)) => outcome.not_found(
                    gene,
                    format!("{NOT_AVAILABLE}: the canonical row has no pLI, LoF z or LOEUF"),
                ),
                Some(Err(e)) => outcome.failed(gene, format!("malformed gnomAD row: {e}")),
                None => outcome.not_found(
                    gene,
                    format!("{NOT_AVAILABLE}: no canonical row in the gnomAD v4.1 constraint file"),
                ),
            }
        }
        Ok(outcome)
    }

    async fn graphql(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        let mut outcome = FetchOutcome::default();
        let meta = metadata(GRAPHQL_URL, false);
        for gene in genes {
            match self.graphql_one(gene).await? {
                Answer::Constraint(annotations) => {
                    outcome
                        .records
                        .push(record(gene, SOURCE, VERSION, annotations, meta.clone()))
                }
                Answer::NotFound(why) => outcome.not_found(gene, format!("{NOT_AVAILABLE}: {why}")),
                // graphql_one waits out or returns rate limits; never one here.
                Answer::Failed(why) | Answer::RateLimited(why) => outcome.failed(gene, why),
            }
        }
        Ok(outcome)
    }

    async fn graphql_one(&self, gene: &GeneKey) -> Result<Answer, FetchError> {
        let variables = match &gene.ensembl_gene_id {
            Some(id) => {
                json!({"gene_id": crate::annotation::strip_version(id.trim()), "reference_genome": "GRCh38"})
            }
            None => json!({"gene_symbol": gene.symbol.trim(), "reference_genome": "GRCh38"}),
        };
        let body = json!({"query": GRAPHQL_QUERY, "variables": variables});
        let mut waits = 0;
        loop {
            let answer = match self.client.post_json::<Value>(GRAPHQL_URL, &body).await {
                Ok(v) => read_graphql(&v),
                Err(e) if e.status_code() == Some(400) && is_rate_limit(&e.to_string()) => {
                    Answer::RateLimited(e.to_string())
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => Answer::Failed(format!("gnomAD GraphQL: {e}")),
            };
            let message = match answer {
                Answer::RateLimited(m) => m,
                other => return Ok(other),
            };
            if waits >= self.rate_limit_retries {
                return Err(FetchError::Status {
                    url: GRAPHQL_URL.to_string(),
                    status: 429,
                    excerpt: format!(
                        "gnomAD GraphQL rate limit (sent as HTTP 400 or errors): {message}"
                    ),
                    retry_after: Some(self.rate_limit_wait),
                });
            }
            waits += 1;
            tracing::warn!(gene = %gene.symbol, wait = ?self.rate_limit_wait, "gnomad GraphQL rate limit: waiting for the next bucket");
            tokio::time::sleep(self.rate_limit_wait).await;
        }
    }
}

impl AnnotationFetcher for GnomadFetcher {
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

/// Where the stored values are in a row of the TSV.
struct Layout {
    width: usize,
    gene: usize,
    transcript: usize,
    flags: usize,
    numbers: [usize; NUMBERS.len()],
    counts: [usize; COUNTS.len()],
}

impl Layout {
    /// The stored annotation of a row, `None` when it carries no constraint at all.
    fn annotation(&self, fields: &[&str]) -> Result<Option<Value>, String> {
        if fields.len() != self.width {
            return Err(format!(
                "row has {} columns, the header {}",
                fields.len(),
                self.width
            ));
        }
        let cell = |i: usize| fields.get(i).copied().unwrap_or_default();
        let mut out = Map::new();
        for ((column, key), i) in NUMBERS.iter().zip(self.numbers) {
            out.insert((*key).to_string(), json!(number(cell(i), column)?));
        }
        for ((column, key), i) in COUNTS.iter().zip(self.counts) {
            out.insert((*key).to_string(), json!(count(cell(i), column)?));
        }
        complete(
            out,
            present(cell(self.gene)),
            present(cell(self.transcript)),
            flags(cell(self.flags)),
        )
    }
}

/// The metrics plus the identifying keys; `None` when neither pLI, LoF z nor LOEUF is there.
fn complete(
    mut out: Map<String, Value>,
    gene_symbol: Option<&str>,
    canonical_transcript: Option<&str>,
    flags: Vec<String>,
) -> Result<Option<Value>, String> {
    if let Some(pli) = out.get("pli").and_then(Value::as_f64)
        && !(0.0..=1.0).contains(&pli)
    {
        return Err(format!("pLI is a probability, not {pli}"));
    }
    if ["pli", "lof_z", "oe_lof"]
        .iter()
        .all(|k| out.get(*k).is_none_or(Value::is_null))
    {
        return Ok(None);
    }
    out.insert("gene_symbol".into(), json!(gene_symbol));
    out.insert("canonical_transcript".into(), json!(canonical_transcript));
    out.insert("flags".into(), json!(flags));
    out.insert("source_version".into(), json!(SOURCE_VERSION));
    Ok(Some(Value::Object(out)))
}

/// `[]`, `['no_variants', 'outlier_mis']`, `["a"]` or `NA` → the flags.
fn flags(raw: &str) -> Vec<String> {
    let Some(raw) = present(raw) else {
        return Vec::new();
    };
    let inner = raw
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(raw);
    inner
        .split(',')
        .map(|f| f.trim().trim_matches(['\'', '"']).trim().to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

fn is_rate_limit(message: &str) -> bool {
    message.to_ascii_lowercase().contains("rate limit")
}

enum Answer {
    Constraint(Value),
    NotFound(String),
    Failed(String),
    RateLimited(String),
}

/// A 200 answer of the GraphQL API → what it says about the gene.
fn read_graphql(v: &Value) -> Answer {
    let messages: Vec<String> = v
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e.get("message")
                        .and_then(Value::as_str)
                        .map_or_else(|| e.to_string(), str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(m) = messages.iter().find(|m| is_rate_limit(m)) {
        return Answer::RateLimited(m.clone());
    }
    let gene = v
        .get("data")
        .and_then(|d| d.get("gene"))
        .filter(|g| !g.is_null());
    let Some(gene) = gene else {
        if messages.is_empty() || messages.iter().any(|m| m.contains("not found")) {
            return Answer::NotFound("gnomAD does not know the gene".to_string());
        }
        return Answer::Failed(format!("gnomAD GraphQL errors: {}", messages.join("; ")));
    };
    let constraint = gene.get("gnomad_constraint").filter(|c| !c.is_null());
    let Some(constraint) = constraint else {
        return Answer::NotFound("gnomAD has no constraint for the gene".to_string());
    };
    match graphql_annotation(gene, constraint) {
        Ok(Some(a)) => Answer::Constraint(a),
        Ok(None) => Answer::NotFound("gnomAD's constraint has no pLI, LoF z or LOEUF".to_string()),
        Err(e) => Answer::Failed(format!("malformed gnomAD constraint: {e}")),
    }
}

fn graphql_annotation(gene: &Value, c: &Value) -> Result<Option<Value>, String> {
    let mut out = Map::new();
    for (_, key) in NUMBERS {
        // `pLI` is the deprecated alias the original asked for.
        let value = c
            .get(key)
            .filter(|v| !v.is_null())
            .or_else(|| (key == "pli").then(|| c.get("pLI")).flatten());
        let n = match value {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("{key} is not finite"))?,
            ),
            Some(other) => return Err(format!("{key} is not a number: {other}")),
        };
        out.insert(key.to_string(), json!(n));
    }
    for (_, key) in COUNTS {
        let n: Option<u64> = match c.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(u) => Some(u),
                None => count(&n.to_string(), key)?,
            },
            Some(other) => return Err(format!("{key} is not a count: {other}")),
        };
        out.insert(key.to_string(), json!(n));
    }
    let flags = match c.get("flags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|f| {
                f.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("flags holds a non-string: {f}"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("flags is not a list: {other}")),
    };
    let text = |key: &str| gene.get(key).and_then(Value::as_str);
    complete(out, text("symbol"), text("canonical_transcript_id"), flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_every_quoting() {
        assert!(flags("[]").is_empty());
        assert!(flags("NA").is_empty());
        assert_eq!(
            flags("['no_variants', \"outlier_mis\"]"),
            ["no_variants", "outlier_mis"]
        );
        assert_eq!(flags("a,b"), ["a", "b"]);
    }

    #[test]
    fn graphql_answers() {
        assert!(matches!(
            read_graphql(
                &json!({"errors": [{"message": "Gene not found"}], "data": {"gene": null}})
            ),
            Answer::NotFound(_)
        ));
        assert!(matches!(
            read_graphql(
                &json!({"errors": [{"message": "Query rate limit exceeded. Please try again in a few minutes."}]})
            ),
            Answer::RateLimited(_)
        ));
        assert!(matches!(
            read_graphql(
                &json!({"errors": [{"message": "Internal error"}], "data": {"gene": null}})
            ),
            Answer::Failed(_)
        ));
        let ok = json!({"data": {"gene": {"symbol": "X", "gnomad_constraint": {"pLI": 0.5, "obs_lof": 3, "flags": ["f"]}}}});
        let Answer::Constraint(a) = read_graphql(&ok) else {
            panic!("not a constraint");
        };
        assert_eq!(a["pli"], 0.5);
        assert_eq!(a["obs_lof"], 3);
        assert_eq!(a["flags"], json!(["f"]));
        let bad = json!({"data": {"gene": {"symbol": "X", "gnomad_constraint": {"pli": "high"}}}});
        assert!(matches!(read_graphql(&bad), Answer::Failed(_)));
    }
}
