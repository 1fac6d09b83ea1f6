//! What the live fetcher tests share: a client with short timeouts and retries against the mock
//! server, fixtures, and an in-memory gene resolver that records what it could not place.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution, ResolvedGene};
use kgdb_fetch::mock::MockServer;
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, HttpClient, RetryPolicy};

/// Short timeouts and retries: three retries take well under a second (bar a Retry-After).
pub fn fast_config() -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_millis(500),
        read_timeout: Duration::from_millis(500),
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
    setup_with(DomainLimits::new([])).await
}

pub async fn setup_with(limits: DomainLimits) -> (MockServer, HttpClient) {
    let server = MockServer::start().await.expect("mock server");
    let client = HttpClient::new(
        fast_config(),
        limits,
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client");
    (server, client)
}

pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// (HGNC id, approved symbol, NCBI gene id) of the genes the test resolver knows. COL4A5
/// (HGNC:2207, 1287) and MKKS (8195) are left out on purpose: they stay unresolved.
const GENES: [(&str, &str, &str); 9] = [
    ("HGNC:9008", "PKD1", "5310"),
    ("HGNC:9009", "PKD2", "5311"),
    ("HGNC:9016", "PKHD1", "5314"),
    ("HGNC:11630", "HNF1B", "6928"),
    ("HGNC:7908", "NPHS1", "4868"),
    ("HGNC:13394", "NPHS2", "7827"),
    ("HGNC:12559", "UMOD", "7369"),
    ("HGNC:1100", "BRCA1", "672"),
    ("HGNC:29021", "CEP290", "80184"),
];

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Resolves by HGNC id, else NCBI id, else symbol (case-insensitive); records the unresolved
/// and counts every call.
#[derive(Default)]
pub struct TestResolver {
    pub unresolved: Mutex<Vec<String>>,
    pub calls: Mutex<usize>,
}

impl TestResolver {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn unresolved(&self) -> Vec<String> {
        lock(&self.unresolved).clone()
    }

    pub fn calls(&self) -> usize {
        *lock(&self.calls)
    }
}

impl GeneResolver for TestResolver {
    fn resolve<'a>(&'a self, reported: ReportedGene<'a>) -> BoxFuture<'a, Resolution> {
        Box::pin(async move {
            *lock(&self.calls) += 1;
            let found = GENES.iter().find(|(hgnc, symbol, ncbi)| {
                reported.hgnc_id == Some(*hgnc)
                    || reported.ncbi_gene_id == Some(*ncbi)
                    || reported.symbol.eq_ignore_ascii_case(symbol)
            });
            match found {
                Some((hgnc, symbol, _)) => Resolution::Resolved(ResolvedGene {
                    hgnc_id: hgnc.to_string(),
                    approved_symbol: symbol.to_string(),
                }),
                None => {
                    lock(&self.unresolved).push(reported.symbol.to_string());
                    Resolution::Unresolved {
                        reason: "not in the test's genes".into(),
                    }
                }
            }
        })
    }
}
