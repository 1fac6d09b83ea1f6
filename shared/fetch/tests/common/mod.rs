//! What the source tests share: a mock server, a client with short timeouts and fast retries
//! pointed at it, genes, fixtures and gzip.
#![allow(dead_code)]

use std::io::Write;
use std::time::Duration;

use kgdb_fetch::annotation::{FetchOutcome, GeneKey, MissKind};
use kgdb_fetch::mock::MockServer;
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, HttpClient, RetryPolicy};

/// 300 ms per call and per silent read, three retries 20–100 ms apart.
pub fn fast_config() -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_millis(300),
        read_timeout: Duration::from_millis(300),
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
    let client = HttpClient::new(
        fast_config(),
        DomainLimits::new([]),
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client");
    (server, client)
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

pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).expect("gzip");
    e.finish().expect("gzip")
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

/// The miss of a gene: its kind and reason.
pub fn miss(outcome: &FetchOutcome, hgnc_id: &str) -> (MissKind, String) {
    outcome
        .misses
        .iter()
        .find(|m| m.hgnc_id == hgnc_id)
        .map(|m| (m.kind, m.reason.clone()))
        .unwrap_or_else(|| panic!("no miss for {hgnc_id}: {outcome:#?}"))
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
