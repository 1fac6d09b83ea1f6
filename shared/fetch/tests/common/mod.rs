//! What the source tests share: a client with short timeouts and retries against the mock
//! server, gzip, fixtures, genes (PKD1 HGNC:9008, ENSG00000008710, 5310, ...), assertions.
#![allow(dead_code)]

use std::io::Write;
use std::time::Duration;

use kgdb_fetch::annotation::{FetchOutcome, GeneKey, MissKind};
use kgdb_fetch::mock::MockServer;
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, FetchError, HttpClient, RetryPolicy};

/// Short timeouts and retries: a 2 s delay is a timeout, three retries take well under a second.
pub fn fast_config() -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_millis(400),
        read_timeout: Duration::from_millis(400),
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        ..ClientConfig::default()
    }
}

pub async fn setup() -> (MockServer, HttpClient) {
    let server = MockServer::start().await.expect("mock server");
    let client = client_for(&server);
    (server, client)
}

/// A new client (its own connection pool) to `server`.
pub fn client_for(server: &MockServer) -> HttpClient {
    HttpClient::new(
        fast_config(),
        DomainLimits::new([]),
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client")
}

pub fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).expect("gzip");
    e.finish().expect("gzip")
}

/// The first half of a gzip stream: what a dropped download leaves.
pub fn truncated(gz: &[u8]) -> Vec<u8> {
    gz[..gz.len() / 2].to_vec()
}

pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn json_fixture(path: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(path)).expect("fixture JSON")
}

fn full_gene(
    hgnc: &str,
    symbol: &str,
    ensembl: &str,
    ncbi: &str,
    percentage_score: Option<f64>,
) -> GeneKey {
    GeneKey {
        hgnc_id: hgnc.to_string(),
        symbol: symbol.to_string(),
        ensembl_gene_id: Some(ensembl.to_string()),
        ncbi_gene_id: Some(ncbi.to_string()),
        percentage_score,
    }
}

pub fn pkd1() -> GeneKey {
    full_gene("HGNC:9008", "PKD1", "ENSG00000008710", "5310", Some(93.7))
}

pub fn pkd2() -> GeneKey {
    full_gene("HGNC:9009", "PKD2", "ENSG00000118762", "5311", Some(93.7))
}

pub fn nphs1() -> GeneKey {
    full_gene("HGNC:7908", "NPHS1", "ENSG00000161270", "4868", Some(88.0))
}

pub fn col4a5() -> GeneKey {
    full_gene("HGNC:2207", "COL4A5", "ENSG00000188153", "1287", Some(92.6))
}

/// The record of `hgnc_id`'s annotations, or a panic naming what the outcome holds.
pub fn annotations<'a>(outcome: &'a FetchOutcome, hgnc_id: &str) -> &'a serde_json::Value {
    &outcome
        .records
        .iter()
        .find(|r| r.hgnc_id == hgnc_id)
        .unwrap_or_else(|| panic!("no record of {hgnc_id}: {:?}", outcome.misses))
        .annotations
}

/// The miss of `hgnc_id`: its kind and reason.
pub fn miss(outcome: &FetchOutcome, hgnc_id: &str) -> (MissKind, String) {
    let m = outcome
        .misses
        .iter()
        .find(|m| m.hgnc_id == hgnc_id)
        .unwrap_or_else(|| panic!("no miss of {hgnc_id}: {:?}", outcome.misses));
    (m.kind, m.reason.clone())
}

/// Every key of `value` (an object) with its JSON type, for checking names and types at once.
pub fn key_types(value: &serde_json::Value) -> Vec<(String, &'static str)> {
    let object = value.as_object().expect("an object");
    object
        .iter()
        .map(|(k, v)| {
            let kind = match v {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "bool",
                serde_json::Value::Number(n) if n.is_f64() => "float",
                serde_json::Value::Number(_) => "int",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Array(_) => "array",
                serde_json::Value::Object(_) => "object",
            };
            (k.clone(), kind)
        })
        .collect()
}

/// `expected` `(key, type)` pairs are exactly the object's keys and types.
pub fn assert_keys(value: &serde_json::Value, expected: &[(&str, &str)]) {
    let mut got = key_types(value);
    got.sort();
    let mut want: Vec<(String, &str)> = expected.iter().map(|(k, t)| (k.to_string(), *t)).collect();
    want.sort();
    let got: Vec<(String, &str)> = got.into_iter().collect();
    assert_eq!(got, want, "keys and JSON types of {value}");
}

pub fn assert_status(err: &FetchError, status: u16) {
    assert_eq!(err.status_code(), Some(status), "{err}");
}

pub fn assert_timeout(err: &FetchError) {
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
}

pub fn assert_stream_broken(err: &FetchError) {
    assert!(err.to_string().contains("stream broken"), "{err}");
}

pub fn gene(hgnc_id: &str, symbol: &str) -> GeneKey {
    GeneKey {
        hgnc_id: hgnc_id.to_string(),
        symbol: symbol.to_string(),
        ensembl_gene_id: None,
        ncbi_gene_id: None,
        percentage_score: None,
    }
}

pub fn with_ensembl(mut g: GeneKey, ensembl: &str) -> GeneKey {
    g.ensembl_gene_id = Some(ensembl.to_string());
    g
}

/// The record of a gene, by HGNC id.
pub fn record<'a>(
    outcome: &'a FetchOutcome,
    hgnc_id: &str,
) -> &'a kgdb_core::annotation::AnnotationRecord {
    outcome
        .records
        .iter()
        .find(|r| r.hgnc_id == hgnc_id)
        .unwrap_or_else(|| panic!("no record for {hgnc_id}: {outcome:#?}"))
}

/// Every gene of the chunk is either a record or a miss, never both, never neither.
pub fn assert_accounted(outcome: &FetchOutcome, genes: &[GeneKey]) {
    for g in genes {
        let records = outcome
            .records
            .iter()
            .filter(|r| r.hgnc_id == g.hgnc_id)
            .count();
        let misses = outcome
            .misses
            .iter()
            .filter(|m| m.hgnc_id == g.hgnc_id)
            .count();
        assert_eq!(records + misses, 1, "{} in {outcome:#?}", g.hgnc_id);
    }
    assert_eq!(outcome.records.len() + outcome.misses.len(), genes.len());
}
