//! `uniprot`: protein names, lengths, functions, domains and Pfam/InterPro references of the
//! reviewed (Swiss-Prot) human entry of each gene (docs/provider-formats.md).
//!
//! Primary path, one ID-mapping job per chunk:
//! 1. `POST https://rest.uniprot.org/idmapping/run`, form `from=Gene_Name&to=UniProtKB&
//!    taxId=9606&ids=PKD1,PKD2,…` → `{"jobId": …}`.
//! 2. `GET https://rest.uniprot.org/idmapping/status/{jobId}` every
//!    [`UniprotConfig::poll_interval`], at most [`UniprotConfig::max_polls`] times (the
//!    original's 3 s × 40 = 120 s): `{"jobStatus": "NEW"|"RUNNING"}` polls again; a 303 to the
//!    results (followed by the client), results inline or `FINISHED` end the wait; any other
//!    `jobStatus` (`ERROR`, …) fails the job.
//! 3. `GET https://rest.uniprot.org/idmapping/uniprotkb/results/{jobId}?fields=…&query=
//!    (reviewed:true)&format=json&size=500` and every further page named by `Link: <…>;
//!    rel="next"` (the original asked `size=max(n, 500)` and never paged; `size` above 500 is a
//!    400). `{from, to}` results name the gene; `failedIds` are genes UniProt does not know.
//!
//! Fallback, when any step of the job fails (after the client's retries): `GET
//! https://rest.uniprot.org/uniprotkb/search?query=((gene_exact:PKD1) OR …) AND
//! (organism_id:9606) AND (reviewed:true)&fields=…&format=json&size=500`, at most
//! [`UniprotConfig::search_batch`] (100) symbols per query (`:` `(` `)` backslash-escaped),
//! paged the same way; entries are matched back through `genes[].geneName.value`, ignoring case.
//! If the fallback fails too, the chunk is an `Err` (the queue retries it; stored rows stay).
//!
//! Several reviewed entries for one gene (`PKD1` also maps to PRKD1's Q15139, which lists PKD1
//! as a synonym): the entry whose primary gene name (`genes[0].geneName.value`) is the symbol
//! wins, the lowest accession among several; with no primary match a single entry is taken,
//! several are ambiguous (not found). Entries marked unreviewed are never used.
//!
//! Stored keys (docs/provider-formats.md): `accession`, `entry_name`, `gene_symbol` (ours),
//! `protein_name`, `length`, `organism`, `function` (the first FUNCTION comment),
//! `domains[{type, description, start, end, length, evidence_code?}]` for Domain, Region,
//! Motif, Transmembrane, Signal (`Signal` and the original's `Signal peptide`), Propeptide and
//! Chain features with known positions, sorted by start; `domain_count`, `pfam_refs`,
//! `interpro_refs` (`[{id, database, <property key in snake case>: value}]`),
//! `has_transmembrane`, `has_signal_peptide`.
//!
//! Chunk size: UniProt is limited to 5 req/s. A chunk of 100 genes is 1 submission + a few
//! polls + the followed redirect + 1 results page (100 ≤ 500) ≈ 6 requests, typically well
//! under 30 s. The worst case waits the whole 120 s of polling, then runs the fallback: one
//! OR-query of 100 symbols (1 page, rarely 2) ≈ 45 requests over ≈ 130 s, inside a 5-minute
//! Lambda with room for retries. Bigger chunks would grow the response pages (full features
//! and cross-references of each entry) and the fallback's query count, not save time.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;
use kgdb_core::annotation::AnnotationRecord;
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{FetchError, HttpClient};

pub const RUN_URL: &str = "https://rest.uniprot.org/idmapping/run";
/// `{jobId}` is appended.
pub const STATUS_URL: &str = "https://rest.uniprot.org/idmapping/status/";
/// `{jobId}` is appended.
pub const RESULTS_URL: &str = "https://rest.uniprot.org/idmapping/uniprotkb/results/";
pub const SEARCH_URL: &str = "https://rest.uniprot.org/uniprotkb/search";
/// The fields the original requests.
pub const FIELDS: &str = "accession,id,gene_names,protein_name,length,organism_name,cc_function,cc_subcellular_location,ft_domain,ft_region,ft_motif,ft_transmem,ft_signal,ft_propep,ft_chain,xref_pfam,xref_interpro";
/// UniProt's largest page.
pub const MAX_PAGE_SIZE: usize = 500;
/// The original's version string for this source.
pub const VERSION: &str = "1.0";

const SOURCE: &str = "uniprot";
const HOST: &str = "rest.uniprot.org";

#[derive(Debug, Clone)]
pub struct UniprotConfig {
    /// Genes per queue message (see the module doc for the arithmetic).
    pub chunk_genes: usize,
    /// Entries per results page, at most [`MAX_PAGE_SIZE`].
    pub page_size: usize,
    pub poll_interval: Duration,
    pub max_polls: usize,
    /// Symbols per fallback OR-query.
    pub search_batch: usize,
    /// More pages than this for one query is a loop, not data.
    pub max_pages: usize,
}

impl Default for UniprotConfig {
    fn default() -> Self {
        Self {
            chunk_genes: 100,
            page_size: MAX_PAGE_SIZE,
            poll_interval: Duration::from_secs(3),
            max_polls: 40,
            search_batch: 100,
            max_pages: 20,
        }
    }
}

pub struct UniprotFetcher {
    client: HttpClient,
    config: UniprotConfig,
}

/// Per gene of the chunk: the entries that may be its protein.
#[derive(Debug)]
struct Found {
    candidates: Vec<Vec<Value>>,
    /// In the job's `failedIds`.
    unknown: Vec<bool>,
}

impl Found {
    fn new(n: usize) -> Self {
        Self {
            candidates: vec![Vec::new(); n],
            unknown: vec![false; n],
        }
    }
}

impl UniprotFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self::with_config(client, UniprotConfig::default())
    }

    pub fn with_config(client: HttpClient, config: UniprotConfig) -> Self {
        Self { client, config }
    }

    pub fn config(&self) -> &UniprotConfig {
        &self.config
    }

    fn page_size(&self) -> String {
        self.config.page_size.clamp(1, MAX_PAGE_SIZE).to_string()
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        let mut outcome = FetchOutcome::default();
        if genes.is_empty() {
            return Ok(outcome);
        }
        let index = GeneIndex::new(genes);
        let found = match self.id_mapping(genes, &index).await {
            Ok(found) => found,
            Err(job_error) => {
                tracing::warn!(error = %job_error, genes = genes.len(),
                    "UniProt ID mapping failed: falling back to uniprotkb/search");
                self.search(genes, &index).await?
            }
        };
        for (i, gene) in genes.iter().enumerate() {
            let candidates: Vec<&Value> = found.candidates[i]
                .iter()
                .filter(|e| is_reviewed(e))
                .collect();
            if candidates.is_empty() {
                let why = if found.unknown[i] {
                    format!(
                        "UniProt ID mapping knows no entry for {} (failedIds)",
                        gene.symbol
                    )
                } else {
                    format!("no reviewed (Swiss-Prot) human entry for {}", gene.symbol)
                };
                outcome.not_found(gene, why);
                continue;
            }
            let entry = match choose(&gene.symbol, &candidates) {
                Ok(entry) => entry,
                Err(why) => {
                    outcome.not_found(gene, why);
                    continue;
                }
            };
            match parse_entry(&gene.symbol, entry)
                .and_then(|a| serde_json::to_value(&a).map_err(|e| format!("serialising: {e}")))
            {
                Ok(annotations) => outcome.records.push(AnnotationRecord {
                    hgnc_id: gene.hgnc_id.clone(),
                    source: SOURCE,
                    version: VERSION.to_string(),
                    annotations,
                    metadata: metadata(),
                }),
                Err(why) => outcome.failed(
                    gene,
                    format!(
                        "uniprot {}: malformed entry {}: {why}",
                        gene.symbol,
                        accession_of(entry)
                    ),
                ),
            }
        }
        Ok(outcome)
    }

    /// Submit, wait, read every results page.
    async fn id_mapping(&self, genes: &[GeneKey], index: &GeneIndex) -> Result<Found, FetchError> {
        let ids: Vec<&str> = genes.iter().map(|g| g.symbol.as_str()).collect();
        let ids = ids.join(",");
        let submitted: Value = self
            .client
            .post_form(
                RUN_URL,
                &[
                    ("from", "Gene_Name"),
                    ("to", "UniProtKB"),
                    ("taxId", "9606"),
                    ("ids", &ids),
                ],
            )
            .await?;
        let job = submitted
            .get("jobId")
            .and_then(Value::as_str)
            .filter(|j| {
                !j.is_empty()
                    && j.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .ok_or_else(|| {
                FetchError::malformed(RUN_URL, format!("no usable jobId in {submitted}"))
            })?
            .to_string();
        self.wait_for(&job).await?;

        let url = with_params(
            &format!("{RESULTS_URL}{job}"),
            &[
                ("fields", FIELDS),
                ("query", "(reviewed:true)"),
                ("format", "json"),
                ("size", &self.page_size()),
            ],
        )?;
        let mut found = Found::new(genes.len());
        self.pages(url, |url, page| {
            let results = page
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| FetchError::malformed(url, "results page without `results`"))?;
            for result in results {
                let Some(from) = result.get("from").and_then(Value::as_str) else {
                    tracing::warn!(%result, "ID-mapping result without `from`: skipped");
                    continue;
                };
                match index.symbol(from) {
                    Some(i) => {
                        found.candidates[i].push(result.get("to").cloned().unwrap_or(Value::Null))
                    }
                    None => {
                        tracing::debug!(%from, "ID-mapping result for a symbol not in the chunk")
                    }
                }
            }
            if let Some(failed) = page.get("failedIds").and_then(Value::as_array) {
                for id in failed.iter().filter_map(Value::as_str) {
                    if let Some(i) = index.symbol(id) {
                        found.unknown[i] = true;
                    }
                }
            }
            Ok(())
        })
        .await?;
        Ok(found)
    }

    async fn wait_for(&self, job: &str) -> Result<(), FetchError> {
        let url = format!("{STATUS_URL}{job}");
        for _ in 0..self.config.max_polls {
            tokio::time::sleep(self.config.poll_interval).await;
            // A finished job answers 303 to its results, which the client follows.
            let status: Value = self.client.get_json(&url).await?;
            match status.get("jobStatus").and_then(Value::as_str) {
                Some("NEW" | "RUNNING" | "QUEUED") => continue,
                Some("FINISHED") => return Ok(()),
                Some(other) => {
                    let messages = status.get("messages").cloned().unwrap_or(Value::Null);
                    return Err(FetchError::malformed(
                        &url,
                        format!("ID-mapping job {job} ended {other}: {messages}"),
                    ));
                }
                None if status.get("results").is_some() || status.get("failedIds").is_some() => {
                    return Ok(());
                }
                None => {
                    return Err(FetchError::malformed(
                        &url,
                        "status answer with neither jobStatus nor results",
                    ));
                }
            }
        }
        Err(FetchError::Timeout {
            url,
            after: self
                .config
                .poll_interval
                .checked_mul(self.config.max_polls.try_into().unwrap_or(u32::MAX))
                .unwrap_or(Duration::MAX),
        })
    }

    /// The OR-query fallback.
    async fn search(&self, genes: &[GeneKey], index: &GeneIndex) -> Result<Found, FetchError> {
        let mut found = Found::new(genes.len());
        for batch in genes.chunks(self.config.search_batch.max(1)) {
            let terms: Vec<String> = batch
                .iter()
                .map(|g| format!("(gene_exact:{})", escape_query(&g.symbol)))
                .collect();
            let query = format!(
                "({}) AND (organism_id:9606) AND (reviewed:true)",
                terms.join(" OR ")
            );
            let url = with_params(
                SEARCH_URL,
                &[
                    ("query", &query),
                    ("format", "json"),
                    ("fields", FIELDS),
                    ("size", &self.page_size()),
                ],
            )?;
            self.pages(url, |url, page| {
                let results = page
                    .get("results")
                    .and_then(Value::as_array)
                    .ok_or_else(|| FetchError::malformed(url, "search page without `results`"))?;
                for entry in results {
                    let genes_of_entry: BTreeSet<usize> = gene_names(entry)
                        .filter_map(|name| index.symbol(name))
                        .collect();
                    for i in genes_of_entry {
                        found.candidates[i].push(entry.clone());
                    }
                }
                Ok(())
            })
            .await?;
        }
        Ok(found)
    }

    /// Reads `first` and every page its `Link: rel="next"` headers name.
    async fn pages(
        &self,
        first: String,
        mut each: impl FnMut(&str, &Value) -> Result<(), FetchError> + Send,
    ) -> Result<(), FetchError> {
        let timeout = self.client.config().request_timeout;
        let mut next = Some(first);
        let mut count = 0;
        while let Some(url) = next.take() {
            count += 1;
            if count > self.config.max_pages {
                return Err(FetchError::malformed(
                    &url,
                    format!("more than {} pages", self.config.max_pages),
                ));
            }
            let response = self
                .client
                .send(Method::GET, &url, Some(timeout), |r| {
                    r.header(reqwest::header::ACCEPT, "application/json")
                })
                .await?;
            let link = response
                .headers()
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_link)
                .map(str::to_string);
            let body = response.bytes().await.map_err(|e| {
                if e.is_timeout() {
                    FetchError::Timeout {
                        url: url.clone(),
                        after: timeout,
                    }
                } else {
                    FetchError::Transport {
                        url: url.clone(),
                        message: e.to_string(),
                    }
                }
            })?;
            let page: Value =
                serde_json::from_slice(&body).map_err(|e| FetchError::malformed(&url, e))?;
            each(&url, &page)?;
            next = link.map(|l| next_url(&url, &l)).transpose()?;
        }
        Ok(())
    }
}

impl AnnotationFetcher for UniprotFetcher {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn ttl_days(&self) -> i32 {
        30
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

/// The `rel="next"` target of a `Link` header (`<https://…&cursor=…>; rel="next"`). The URLs
/// hold commas (`fields=accession,id,…`), so links are split at `<`, not at `,`.
pub fn next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close..].find('<').map_or(after.len(), |p| close + p);
        let params = &after[close + 1..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.strip_prefix("rel=")
                .map(|v| v.trim_matches('"').split_whitespace().any(|r| r == "next"))
                .unwrap_or(false)
        });
        if is_next {
            return Some(target);
        }
        rest = &after[params_end..];
    }
    None
}

fn next_url(current: &str, link: &str) -> Result<String, FetchError> {
    let base =
        url::Url::parse(current).map_err(|e| FetchError::malformed(current, format!("{e}")))?;
    let next = base
        .join(link)
        .map_err(|e| FetchError::malformed(current, format!("Link {link}: {e}")))?;
    if next.host_str() != Some(HOST) {
        return Err(FetchError::malformed(
            current,
            format!("Link to another host: {next}"),
        ));
    }
    Ok(next.to_string())
}

/// `:` `(` `)` backslash-escaped for UniProt's query syntax, as the original.
pub fn escape_query(symbol: &str) -> String {
    let mut out = String::with_capacity(symbol.len());
    for c in symbol.chars() {
        if matches!(c, ':' | '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn with_params(base: &str, params: &[(&str, &str)]) -> Result<String, FetchError> {
    let mut url =
        url::Url::parse(base).map_err(|e| FetchError::Config(format!("url {base}: {e}")))?;
    url.query_pairs_mut().extend_pairs(params);
    Ok(url.to_string())
}

fn is_reviewed(entry: &Value) -> bool {
    match entry.get("entryType").and_then(Value::as_str) {
        // The results were asked with `reviewed:true`; an entry without a type is one of them.
        None => entry.is_object(),
        Some(t) => {
            let t = t.to_ascii_lowercase();
            !t.contains("unreviewed") && !t.contains("trembl") && !t.contains("inactive")
        }
    }
}

fn gene_names(entry: &Value) -> impl Iterator<Item = &str> {
    entry
        .get("genes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.pointer("/geneName/value").and_then(Value::as_str))
}

fn primary_gene_name(entry: &Value) -> Option<&str> {
    entry
        .pointer("/genes/0/geneName/value")
        .and_then(Value::as_str)
}

fn accession_of(entry: &Value) -> &str {
    entry
        .get("primaryAccession")
        .and_then(Value::as_str)
        .unwrap_or("(no accession)")
}

/// The gene's entry among several, or why none is.
fn choose<'v>(symbol: &str, candidates: &[&'v Value]) -> Result<&'v Value, String> {
    let primary = candidates
        .iter()
        .copied()
        .filter(|e| primary_gene_name(e).is_some_and(|n| n.eq_ignore_ascii_case(symbol)))
        .min_by(|a, b| accession_of(a).cmp(accession_of(b)));
    if let Some(entry) = primary {
        return Ok(entry);
    }
    match candidates {
        [only] => Ok(only),
        _ => {
            let accessions: Vec<&str> = candidates.iter().map(|e| accession_of(e)).collect();
            Err(format!(
                "{} reviewed entries name {symbol} only as a secondary gene name ({}): ambiguous",
                candidates.len(),
                accessions.join(", ")
            ))
        }
    }
}

#[derive(Debug, Serialize)]
struct Domain {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    start: i64,
    end: i64,
    length: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence_code: Option<String>,
}

#[derive(Debug, Serialize)]
struct UniprotAnnotation {
    accession: String,
    entry_name: Option<String>,
    gene_symbol: String,
    protein_name: String,
    length: u64,
    organism: String,
    function: String,
    domains: Vec<Domain>,
    domain_count: usize,
    pfam_refs: Vec<Map<String, Value>>,
    interpro_refs: Vec<Map<String, Value>>,
    has_transmembrane: bool,
    has_signal_peptide: bool,
}

/// A string at `pointer`, `None` when absent or null, an error when of another type.
fn opt_str<'v>(entry: &'v Value, pointer: &str) -> Result<Option<&'v str>, String> {
    match entry.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{pointer} is not text: {other}")),
    }
}

fn array<'v>(entry: &'v Value, key: &str) -> Result<&'v [Value], String> {
    match entry.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("{key} is not a list: {other}")),
    }
}

/// The feature types kept, with the name stored.
fn domain_type(feature_type: &str) -> Option<&'static str> {
    Some(match feature_type {
        "Domain" => "Domain",
        "Region" => "Region",
        "Motif" => "Motif",
        "Transmembrane" => "Transmembrane",
        "Signal" | "Signal peptide" => "Signal",
        "Propeptide" => "Propeptide",
        "Chain" => "Chain",
        _ => return None,
    })
}

fn position(feature: &Value, pointer: &str) -> Result<Option<i64>, String> {
    match feature.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("feature position {pointer} is not a number: {v}")),
    }
}

fn parse_entry(symbol: &str, entry: &Value) -> Result<UniprotAnnotation, String> {
    if !entry.is_object() {
        return Err(format!("entry is not an object: {entry}"));
    }
    let accession = opt_str(entry, "/primaryAccession")?
        .filter(|a| !a.is_empty())
        .ok_or("no primaryAccession")?;
    let length = match entry.pointer("/sequence/length") {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("sequence.length is not a number: {v}"))?,
        None => return Err("no sequence.length".into()),
    };
    let mut function = String::new();
    for comment in array(entry, "comments")? {
        if comment.get("commentType").and_then(Value::as_str) == Some("FUNCTION")
            && let Some(text) = opt_str(comment, "/texts/0/value")?
        {
            function = text.to_string();
            break;
        }
    }
    let mut domains = Vec::new();
    for feature in array(entry, "features")? {
        let Some(kind) = feature
            .get("type")
            .and_then(Value::as_str)
            .and_then(domain_type)
        else {
            continue;
        };
        let (Some(start), Some(end)) = (
            position(feature, "/location/start/value")?,
            position(feature, "/location/end/value")?,
        ) else {
            // An unknown position (`modifier: UNKNOWN`) is no interval to draw.
            continue;
        };
        if end < start {
            return Err(format!(
                "{kind} feature ends ({end}) before it starts ({start})"
            ));
        }
        domains.push(Domain {
            kind,
            description: opt_str(feature, "/description")?
                .unwrap_or_default()
                .to_string(),
            start,
            end,
            length: end - start + 1,
            evidence_code: opt_str(feature, "/evidences/0/evidenceCode")?.map(str::to_string),
        });
    }
    domains.sort_by_key(|d| d.start);
    let (mut pfam_refs, mut interpro_refs) = (Vec::new(), Vec::new());
    for xref in array(entry, "uniProtKBCrossReferences")? {
        let target = match xref.get("database").and_then(Value::as_str) {
            Some("Pfam") => &mut pfam_refs,
            Some("InterPro") => &mut interpro_refs,
            _ => continue,
        };
        target.push(cross_reference(xref)?);
    }
    Ok(UniprotAnnotation {
        accession: accession.to_string(),
        entry_name: opt_str(entry, "/uniProtkbId")?.map(str::to_string),
        gene_symbol: symbol.to_string(),
        protein_name: opt_str(entry, "/proteinDescription/recommendedName/fullName/value")?
            .unwrap_or_default()
            .to_string(),
        length,
        organism: opt_str(entry, "/organism/scientificName")?
            .unwrap_or_default()
            .to_string(),
        function,
        domain_count: domains.len(),
        has_transmembrane: domains.iter().any(|d| d.kind == "Transmembrane"),
        has_signal_peptide: domains.iter().any(|d| d.kind == "Signal"),
        domains,
        pfam_refs,
        interpro_refs,
    })
}

/// `{id, database, entryname: …, …}`: the original's shape (property keys in snake case).
fn cross_reference(xref: &Value) -> Result<Map<String, Value>, String> {
    let database = opt_str(xref, "/database")?.unwrap_or_default();
    let id = opt_str(xref, "/id")?
        .filter(|id| !id.is_empty())
        .ok_or_else(|| format!("{database} cross-reference without an id: {xref}"))?;
    let mut out = Map::new();
    out.insert("id".into(), Value::from(id));
    out.insert("database".into(), Value::from(database));
    for property in array(xref, "properties")? {
        let Some(key) = property.get("key").and_then(Value::as_str) else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase().replace(' ', "_");
        if key.is_empty() || key == "id" || key == "database" {
            continue;
        }
        out.insert(key, property.get("value").cloned().unwrap_or(Value::Null));
    }
    Ok(out)
}

/// Deterministic: where the values come from, never when.
fn metadata() -> Value {
    json!({
        "batch_fetch": true,
        "origin": "UniProt REST",
        "endpoint": "https://rest.uniprot.org",
        "reviewed_only": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_links_whose_urls_hold_commas() {
        let h = "<https://rest.uniprot.org/uniprotkb/search?fields=accession,id&cursor=abc&size=500>; rel=\"next\"";
        assert_eq!(
            next_link(h),
            Some(
                "https://rest.uniprot.org/uniprotkb/search?fields=accession,id&cursor=abc&size=500"
            )
        );
        let two = "<https://x.org/a?f=1,2>; rel=\"prev\", <https://x.org/b?f=1,2>; rel=\"next\"";
        assert_eq!(next_link(two), Some("https://x.org/b?f=1,2"));
        assert_eq!(next_link("<https://x.org/a>; rel=\"prev\""), None);
        assert_eq!(next_link("garbage"), None);
        assert!(next_url("https://rest.uniprot.org/a", "https://evil.example/b").is_err());
        assert_eq!(
            next_url("https://rest.uniprot.org/a?x=1", "/b?cursor=2").unwrap(),
            "https://rest.uniprot.org/b?cursor=2"
        );
    }

    #[test]
    fn query_syntax_is_escaped() {
        assert_eq!(escape_query("PKD1"), "PKD1");
        assert_eq!(escape_query("A:B(C)"), "A\\:B\\(C\\)");
    }

    #[test]
    fn the_primary_gene_name_wins_over_a_synonym() {
        let pkd1 =
            json!({"primaryAccession": "P98161", "genes": [{"geneName": {"value": "PKD1"}}]});
        let prkd1 =
            json!({"primaryAccession": "Q15139", "genes": [{"geneName": {"value": "PRKD1"}}]});
        assert_eq!(
            accession_of(choose("pkd1", &[&prkd1, &pkd1]).unwrap()),
            "P98161"
        );
        assert_eq!(accession_of(choose("PKD1", &[&prkd1]).unwrap()), "Q15139");
        let other = json!({"primaryAccession": "Q00000", "genes": [{"geneName": {"value": "X"}}]});
        assert!(choose("PKD1", &[&prkd1, &other]).is_err());
    }

    #[test]
    fn a_feature_position_of_the_wrong_type_is_an_error_an_unknown_one_is_skipped() {
        let entry = json!({
            "primaryAccession": "P98161", "sequence": {"length": 4303},
            "features": [
                {"type": "Domain", "description": "PKD 1", "location": {"start": {"value": null, "modifier": "UNKNOWN"}, "end": {"value": 355}}}
            ]
        });
        assert_eq!(parse_entry("PKD1", &entry).unwrap().domain_count, 0);
        let bad = json!({
            "primaryAccession": "P98161", "sequence": {"length": 4303},
            "features": [{"type": "Domain", "location": {"start": {"value": "268"}, "end": {"value": 355}}}]
        });
        assert!(
            parse_entry("PKD1", &bad)
                .unwrap_err()
                .contains("not a number")
        );
    }
}
