//! `hgnc`: nomenclature and cross-references from HGNC's complete set (docs/provider-formats.md).
//!
//! **Bulk (primary)**: [`BULK_URL`], about 40 MB of JSON, `{"response": {"numFound": …,
//! "docs": [...]}}`, read in bounded memory without spooling to disk: the body's chunks go
//! through a channel of [`CHANNEL_CHUNKS`] chunks into a blocking task (`spawn_blocking`; the
//! channel is the sync bridge) where serde_json walks the document with a `DeserializeSeed`:
//! every key but `response.docs` is skipped unparsed, and each element of `docs` is read as one
//! small `Value`, looked up in the chunk's [`GeneIndex`] (by `hgnc_id` first, then `symbol`)
//! and, unless it is one of our genes, dropped at once. A kept doc is normalised immediately,
//! so the task holds one doc plus one annotation per gene of the chunk, whatever the file's
//! size. A truncated body is a JSON syntax error (premature end), a broken connection a
//! transport error: either fails the chunk, never a partial result.
//!
//! **Fallback**: when the bulk file fails (after the client's retries) and the chunk has at
//! most [`DEFAULT_REST_FALLBACK_MAX`] genes (configurable), each gene is fetched from
//! `https://rest.genenames.org/fetch/hgnc_id/{n}` (then `fetch/symbol/{SYMBOL}` when that is
//! empty; not found is a 200 with empty `docs`). At the 5 req/s domain limit 50 genes take
//! about ten seconds (two requests for an unknown gene); a full run (thousands of due genes in
//! one bulk chunk) fails instead and the queue retries the bulk file later.
//!
//! **Keys** (the original's, `docs/annotations.md`): `hgnc_id`, `symbol`, `name`, `status`,
//! `location`, `location_sortable`, `locus_type`, `locus_group`, `ncbi_gene_id` (HGNC's
//! `entrez_id`, a string), `ensembl_gene_id`, `uniprot_ids` (kgdb: every accession, sorted),
//! `omim_ids`, `orphanet_id` (integer, as HGNC sends it), `cosmic_id`, `refseq_accession`,
//! `mane_select {ensembl_transcript_id, refseq_transcript_id}` (or null), `alias_symbol`,
//! `prev_symbol` (sorted), `alias_name`, `prev_name`, `gene_family` / `gene_family_id` (read
//! from the live `gene_group` / `gene_group_id`: the original read the old names and always
//! stored `[]`), `pubmed_ids`, `date_approved_reserved`, `date_modified`, `date_name_changed`,
//! `date_symbol_changed`. Ids that HGNC sends as integers (`pubmed_id`, `gene_group_id`) are
//! stored as strings, the type kgdb's offline rows declare. Multi-valued keys are `[]` when
//! HGNC has none, single values `null`. Solr's `_version_` and `uuid` are not stored (the
//! former changes on every re-index).
//!
//! **Version**: the record's own `date_modified` (`2024-01-15`), which changes exactly when
//! HGNC changes the gene; `hgnc_complete_set` for a record without one.

use std::io::Read;

use bytes::{Buf, Bytes};
use futures::StreamExt;
use futures::future::BoxFuture;
use reqwest::Method;
use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

use super::common::{Slots, metadata, record};
use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{FetchError, HttpClient};

pub const SOURCE: &str = "hgnc";
pub const TTL_DAYS: i32 = 90;
pub const BULK_URL: &str =
    "https://storage.googleapis.com/public-download-files/hgnc/json/json/hgnc_complete_set.json";
/// `…/fetch/hgnc_id/{n}` and `…/fetch/symbol/{SYMBOL}`.
pub const REST_URL: &str = "https://rest.genenames.org/fetch";
/// Largest chunk the per-gene REST fallback serves when the bulk file fails.
pub const DEFAULT_REST_FALLBACK_MAX: usize = 50;
/// Body chunks in flight between the download and the parser (a few hundred KB at most).
pub const CHANNEL_CHUNKS: usize = 8;
const REST_CONCURRENCY: usize = 4;
const UNDATED_VERSION: &str = "hgnc_complete_set";
const RANK_SYMBOL: u8 = 1;
const RANK_HGNC_ID: u8 = 2;

pub struct HgncFetcher {
    client: HttpClient,
    rest_fallback_max: usize,
}

impl HgncFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self {
            client,
            rest_fallback_max: DEFAULT_REST_FALLBACK_MAX,
        }
    }

    /// Chunks of at most `max` genes fall back to the REST API when the bulk file fails
    /// (0 turns the fallback off).
    pub fn with_rest_fallback_max(mut self, max: usize) -> Self {
        self.rest_fallback_max = max;
        self
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            return Ok(FetchOutcome::default());
        }
        match self.bulk(genes).await {
            Ok(outcome) => Ok(outcome),
            Err(e) if genes.len() <= self.rest_fallback_max => {
                tracing::warn!(error = %e, genes = genes.len(), "hgnc bulk file failed: per-gene REST fallback");
                self.rest(genes).await
            }
            Err(e) => Err(e),
        }
    }

    async fn bulk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        let response = self
            .client
            .send(Method::GET, BULK_URL, None, |r| {
                r.header(reqwest::header::ACCEPT, "application/json")
            })
            .await?;
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(CHANNEL_CHUNKS);
        let owned = genes.to_vec();
        let parser = tokio::task::spawn_blocking(move || {
            parse_complete_set(
                ChannelReader {
                    rx,
                    current: Bytes::new(),
                },
                &owned,
            )
        });
        let mut body = response.bytes_stream();
        let mut broken: Option<FetchError> = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    if tx.send(Ok(bytes)).await.is_err() {
                        break; // the parser stopped (its error says why)
                    }
                }
                Err(e) => {
                    broken = Some(body_error(e));
                    let _ = tx
                        .send(Err(std::io::Error::other("body stream broken")))
                        .await;
                    break;
                }
            }
        }
        drop(tx);
        let parsed = parser
            .await
            .map_err(|e| FetchError::malformed(BULK_URL, format!("parser task: {e}")))?;
        if let Some(e) = broken {
            return Err(e);
        }
        let slots = parsed.map_err(|e| FetchError::malformed(BULK_URL, e))?;
        let mut outcome = FetchOutcome::default();
        let meta = metadata(BULK_URL, true);
        for (gene, slot) in genes.iter().zip(slots) {
            match slot {
                Some(Ok(n)) => outcome.records.push(record(
                    gene,
                    SOURCE,
                    &n.version,
                    n.annotations,
                    meta.clone(),
                )),
                Some(Err(e)) => outcome.failed(gene, format!("malformed HGNC record: {e}")),
                None => outcome.not_found(
                    gene,
                    "not in the HGNC complete set (neither its HGNC id nor its symbol)",
                ),
            }
        }
        Ok(outcome)
    }

    async fn rest(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        let mut outcome = FetchOutcome::default();
        // Boxed first: a stream of `async fn` futures over a closure is not `Send` enough for
        // the trait's `BoxFuture` (rustc's higher-ranked lifetime limitation).
        let calls: Vec<BoxFuture<'_, Result<RestAnswer, FetchError>>> = genes
            .iter()
            .map(|g| Box::pin(self.rest_one(g)) as BoxFuture<'_, _>)
            .collect();
        let mut answers = futures::stream::iter(calls).buffered(REST_CONCURRENCY);
        let mut genes_iter = genes.iter();
        while let Some(answer) = answers.next().await {
            let Some(gene) = genes_iter.next() else {
                break;
            };
            match answer {
                Ok(RestAnswer::Doc(url, doc)) => match normalize(&doc) {
                    Ok(n) => outcome.records.push(record(
                        gene,
                        SOURCE,
                        &n.version,
                        n.annotations,
                        metadata(&url, false),
                    )),
                    Err(e) => outcome.failed(gene, format!("malformed HGNC record: {e}")),
                },
                Ok(RestAnswer::Empty) => {
                    outcome.not_found(gene, "HGNC REST knows neither its HGNC id nor its symbol");
                }
                Ok(RestAnswer::BadKey(why)) => outcome.failed(gene, why),
                // The service is down or refusing: the whole chunk is retried later.
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => outcome.failed(gene, e.to_string()),
            }
        }
        Ok(outcome)
    }

    async fn rest_one(&self, gene: &GeneKey) -> Result<RestAnswer, FetchError> {
        let number = gene
            .hgnc_id
            .trim()
            .strip_prefix("HGNC:")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let Some(number) = number else {
            return Ok(RestAnswer::BadKey(format!(
                "not an HGNC id: {:?}",
                gene.hgnc_id
            )));
        };
        let by_id = format!("{REST_URL}/hgnc_id/{number}");
        if let Some(doc) = first_doc(&by_id, self.client.get_json(&by_id).await?)? {
            return Ok(RestAnswer::Doc(by_id, doc));
        }
        let mut by_symbol = url::Url::parse(REST_URL)
            .map_err(|e| FetchError::Config(format!("{REST_URL}: {e}")))?;
        by_symbol
            .path_segments_mut()
            .map_err(|()| FetchError::Config(format!("{REST_URL} cannot take a path")))?
            .push("symbol")
            .push(gene.symbol.trim());
        let by_symbol = by_symbol.to_string();
        match first_doc(&by_symbol, self.client.get_json(&by_symbol).await?)? {
            Some(doc) => Ok(RestAnswer::Doc(by_symbol, doc)),
            None => Ok(RestAnswer::Empty),
        }
    }
}

impl AnnotationFetcher for HgncFetcher {
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

enum RestAnswer {
    Doc(String, Value),
    Empty,
    BadKey(String),
}

/// `response.docs[0]` of a REST answer; `None` for HGNC's "not found" (200, empty `docs`).
fn first_doc(url: &str, answer: Value) -> Result<Option<Value>, FetchError> {
    let docs = answer
        .get("response")
        .and_then(|r| r.get("docs"))
        .and_then(Value::as_array)
        .ok_or_else(|| FetchError::malformed(url, "no response.docs array"))?;
    Ok(docs.first().cloned())
}

/// A body that stops arriving (a reset, the client's read timeout) is a transient transport
/// error: the queue retries the chunk.
fn body_error(e: reqwest::Error) -> FetchError {
    let why = if e.is_timeout() {
        "read timeout"
    } else {
        "connection"
    };
    FetchError::Transport {
        url: BULK_URL.to_string(),
        message: format!("stream broken ({why}): {e}"),
    }
}

/// The blocking side of the bridge: chunks from the channel as a `Read`.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(e),
                Some(Ok(bytes)) => self.current = bytes,
            }
        }
        let n = buf.len().min(self.current.len());
        self.current.copy_to_slice(&mut buf[..n]);
        Ok(n)
    }
}

/// One gene's normalised record.
#[derive(Debug)]
struct Normalized {
    annotations: Value,
    version: String,
}

type Slot = Result<Normalized, String>;

/// Walks the complete set from `reader`, keeping the docs of `genes` (in their order).
fn parse_complete_set(reader: impl Read, genes: &[GeneKey]) -> Result<Vec<Option<Slot>>, String> {
    let mut collector = Collector {
        index: GeneIndex::new(genes),
        slots: Slots::new(genes.len()),
        docs: 0,
        saw_docs: false,
        num_found: None,
    };
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(64 * 1024, reader));
    Root(&mut collector)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| format!("not the HGNC complete set JSON: {e}"))?;
    if !collector.saw_docs {
        return Err("no response.docs array".to_string());
    }
    if let Some(n) = collector.num_found.filter(|n| *n != collector.docs) {
        tracing::warn!(
            num_found = n,
            docs = collector.docs,
            "hgnc complete set: numFound differs from the docs read"
        );
    }
    Ok(collector.slots.into_values().collect())
}

struct Collector {
    index: GeneIndex,
    slots: Slots<Slot>,
    docs: u64,
    saw_docs: bool,
    num_found: Option<u64>,
}

impl Collector {
    fn offer(&mut self, doc: Value) {
        self.docs += 1;
        let by_id = doc
            .get("hgnc_id")
            .and_then(Value::as_str)
            .and_then(|id| self.index.hgnc(id))
            .map(|i| (i, RANK_HGNC_ID));
        let matched = by_id.or_else(|| {
            doc.get("symbol")
                .and_then(Value::as_str)
                .and_then(|s| self.index.symbol(s))
                .map(|i| (i, RANK_SYMBOL))
        });
        if let Some((i, rank)) = matched
            && self.slots.wants(i, rank)
        {
            self.slots.offer(i, rank, normalize(&doc));
        }
    }
}

struct Root<'c>(&'c mut Collector);

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with a response")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let collector = self.0;
        while let Some(key) = map.next_key::<String>()? {
            if key == "response" {
                map.next_value_seed(Response(&mut *collector))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Response<'c>(&'c mut Collector);

impl<'de> DeserializeSeed<'de> for Response<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Response<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a response object with docs")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let collector = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "docs" => map.next_value_seed(Docs(&mut *collector))?,
                // Only logged: a strange value must not fail the file.
                "numFound" => collector.num_found = map.next_value::<Value>()?.as_u64(),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Docs<'c>(&'c mut Collector);

impl<'de> DeserializeSeed<'de> for Docs<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Docs<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of HGNC records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let collector = self.0;
        collector.saw_docs = true;
        while let Some(doc) = seq.next_element::<Value>()? {
            collector.offer(doc);
        }
        Ok(())
    }
}

/// One HGNC record (bulk or REST, the same shape) → the stored annotation and its version.
fn normalize(doc: &Value) -> Result<Normalized, String> {
    let doc = doc
        .as_object()
        .ok_or_else(|| format!("a record is not an object: {doc}"))?;
    let hgnc_id = text(doc, "hgnc_id")?.ok_or("hgnc_id is missing")?;
    if !hgnc_id.starts_with("HGNC:") {
        return Err(format!("hgnc_id is not HGNC:<n>: {hgnc_id:?}"));
    }
    let symbol = text(doc, "symbol")?.ok_or("symbol is missing")?;
    let ncbi_gene_id = identifier(doc, "entrez_id")?;
    let orphanet_id = match identifier(doc, "orphanet")? {
        None => Value::Null,
        Some(n) => n
            .parse::<u64>()
            .map(Value::from)
            .map_err(|_| format!("orphanet is out of range: {n}"))?,
    };
    let date_modified = text(doc, "date_modified")?;
    let version = date_modified
        .as_deref()
        .filter(|d| is_date(d))
        .unwrap_or(UNDATED_VERSION)
        .to_string();
    let annotations = json!({
        "hgnc_id": hgnc_id,
        "symbol": symbol,
        "name": text(doc, "name")?,
        "status": text(doc, "status")?,
        "location": text(doc, "location")?,
        "location_sortable": text(doc, "location_sortable")?,
        "locus_type": text(doc, "locus_type")?,
        "locus_group": text(doc, "locus_group")?,
        "ncbi_gene_id": ncbi_gene_id,
        "ensembl_gene_id": text(doc, "ensembl_gene_id")?,
        "uniprot_ids": sorted(texts(doc, "uniprot_ids")?),
        "omim_ids": texts(doc, "omim_id")?,
        "orphanet_id": orphanet_id,
        "cosmic_id": text(doc, "cosmic")?,
        "refseq_accession": texts(doc, "refseq_accession")?,
        "mane_select": mane_select(&texts(doc, "mane_select")?),
        "alias_symbol": sorted(texts(doc, "alias_symbol")?),
        "alias_name": texts(doc, "alias_name")?,
        "prev_symbol": sorted(texts(doc, "prev_symbol")?),
        "prev_name": texts(doc, "prev_name")?,
        "gene_family": texts(doc, "gene_group")?,
        "gene_family_id": identifiers(doc, "gene_group_id")?,
        "pubmed_ids": identifiers(doc, "pubmed_id")?,
        "date_approved_reserved": text(doc, "date_approved_reserved")?,
        "date_modified": date_modified,
        "date_name_changed": text(doc, "date_name_changed")?,
        "date_symbol_changed": text(doc, "date_symbol_changed")?,
    });
    Ok(Normalized {
        annotations,
        version,
    })
}

/// A single text value: absent, null or blank is `None`; anything but a string is malformed.
fn text(doc: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_string()))
        }
        Some(other) => Err(format!("{key} is not a string: {other}")),
    }
}

/// A multi-valued text field (HGNC omits it when empty).
fn texts(doc: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(format!("{key} holds a non-string: {other}")),
            })
            .filter(|r| r.as_ref().map_or(true, |s| !s.is_empty()))
            .collect(),
        Some(other) => Err(format!("{key} is not a list: {other}")),
    }
}

/// A numeric identifier sent as a digit string or an integer, as a string.
fn numeric_id(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s)
            if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(s.trim().to_string())
        }
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        other => Err(format!("{key} is not a numeric id: {other}")),
    }
}

fn identifier(doc: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => numeric_id(key, v).map(Some),
    }
}

fn identifiers(doc: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|v| numeric_id(key, v)).collect(),
        Some(other) => Err(format!("{key} is not a list: {other}")),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// `["ENST00000262304.9", "NM_001009944.3"]` → the two ids by their prefixes (or null).
fn mane_select(items: &[String]) -> Value {
    let ensembl = items.iter().find(|s| s.starts_with("ENST"));
    let refseq = items
        .iter()
        .find(|s| s.starts_with("NM_") || s.starts_with("NR_"));
    if ensembl.is_none() && refseq.is_none() {
        return Value::Null;
    }
    json!({"ensembl_transcript_id": ensembl, "refseq_transcript_id": refseq})
}

/// `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_wrong_types_is_an_error_not_a_panic() {
        let ok = json!({"hgnc_id": "HGNC:1", "symbol": "A", "pubmed_id": [1, "2"]});
        let n = normalize(&ok).unwrap();
        assert_eq!(n.annotations["pubmed_ids"], json!(["1", "2"]));
        assert_eq!(n.version, UNDATED_VERSION);
        for bad in [
            json!({"hgnc_id": "HGNC:1", "symbol": 7}),
            json!({"hgnc_id": "1", "symbol": "A"}),
            json!({"hgnc_id": "HGNC:1", "symbol": "A", "entrez_id": "53x0"}),
            json!({"hgnc_id": "HGNC:1", "symbol": "A", "pubmed_id": [-1]}),
            json!({"hgnc_id": "HGNC:1", "symbol": "A", "alias_symbol": "X"}),
            json!(["not", "an", "object"]),
        ] {
            assert!(normalize(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_and_mane() {
        assert!(is_date("2024-01-15"));
        assert!(!is_date("2024-1-15x"));
        assert_eq!(mane_select(&[]), Value::Null);
        assert_eq!(
            mane_select(&["NM_1.2".into()]),
            json!({"ensembl_transcript_id": null, "refseq_transcript_id": "NM_1.2"})
        );
    }
}
