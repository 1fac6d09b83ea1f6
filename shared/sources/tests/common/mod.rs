//! What the live-source tests share: a client with short timeouts and retries against the mock
//! server, the fixtures, and a small in-memory gene resolver that records what it was asked and
//! what it could not resolve.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution, ResolvedGene};
use kgdb_core::pipeline::{GeneEvidence, Source};
use kgdb_core::{EvidenceRecord, SourceName};
use kgdb_fetch::mock::{MockResponse, MockServer, RecordedRequest};
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, HttpClient, RetryPolicy};

/// Short timeouts and retries: three retries take well under a second.
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

pub async fn server() -> MockServer {
    MockServer::start().await.expect("mock server")
}

pub fn client(server: &MockServer, limits: DomainLimits) -> HttpClient {
    HttpClient::new(
        fast_config(),
        limits,
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client")
}

pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn json_fixture(path: &str) -> MockResponse {
    let text = fixture(path);
    serde_json::from_str::<serde_json::Value>(&text).expect("fixture JSON");
    MockResponse::ok(text).header("content-type", "application/json")
}

/// The request's query as pairs.
pub fn query(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// What the resolver was asked: (source, symbol, HGNC id).
pub type Asked = (SourceName, String, Option<String>);

/// Our genes: `HGNC:<n>`, approved symbol, previous symbols. Resolves by HGNC id first, then by
/// approved or previous symbol; records every question and every gene it could not resolve.
pub struct TestResolver {
    genes: Vec<(&'static str, &'static str, Vec<&'static str>)>,
    pub asked: Mutex<Vec<Asked>>,
    pub unresolved: Mutex<Vec<Asked>>,
}

impl TestResolver {
    pub fn new(genes: Vec<(&'static str, &'static str, Vec<&'static str>)>) -> Arc<Self> {
        Arc::new(Self {
            genes,
            asked: Mutex::new(Vec::new()),
            unresolved: Mutex::new(Vec::new()),
        })
    }

    /// The kidney genes of the fixtures, minus DYNC2I1 (WDR60) and UMOD: this resolver's world
    /// does not know them.
    pub fn kidney() -> Arc<Self> {
        Self::new(vec![
            ("HGNC:9008", "PKD1", vec![]),
            ("HGNC:7908", "NPHS1", vec![]),
            ("HGNC:2207", "COL4A5", vec![]),
            ("HGNC:2206", "COL4A4", vec![]),
            ("HGNC:29021", "CEP290", vec![]),
            ("HGNC:12370", "CEP41", vec![]),
            ("HGNC:21219", "CILK1", vec!["ICK"]),
            ("HGNC:7526", "MMUT", vec!["MUT"]),
            ("HGNC:618", "APOL1", vec![]),
            ("HGNC:4883", "CFH", vec![]),
            ("HGNC:1100", "BRCA1", vec![]),
            ("HGNC:9016", "PKHD1", vec![]),
            ("HGNC:11075", "NHERF1", vec!["SLC9A3R1"]),
        ])
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().expect("resolver log").clone()
    }

    pub fn unresolved(&self) -> Vec<Asked> {
        self.unresolved.lock().expect("resolver log").clone()
    }

    pub fn asked_symbols(&self) -> Vec<String> {
        let mut s: Vec<String> = self.asked().into_iter().map(|a| a.1).collect();
        s.sort();
        s.dedup();
        s
    }

    fn find(&self, symbol: &str, hgnc_id: Option<&str>) -> Option<ResolvedGene> {
        let by_id = hgnc_id.and_then(|id| self.genes.iter().find(|g| g.0 == id));
        let by_symbol = || {
            let s = symbol.trim().to_uppercase();
            self.genes
                .iter()
                .find(|g| g.1 == s || g.2.iter().any(|p| *p == s))
        };
        by_id.or_else(by_symbol).map(|g| ResolvedGene {
            hgnc_id: g.0.to_string(),
            approved_symbol: g.1.to_string(),
        })
    }
}

impl GeneResolver for TestResolver {
    fn resolve<'a>(&'a self, reported: ReportedGene<'a>) -> BoxFuture<'a, Resolution> {
        Box::pin(async move {
            let asked = (
                reported.source,
                reported.symbol.to_string(),
                reported.hgnc_id.map(str::to_string),
            );
            self.asked.lock().expect("resolver log").push(asked.clone());
            match self.find(reported.symbol, reported.hgnc_id) {
                Some(gene) => Resolution::Resolved(gene),
                None => {
                    self.unresolved.lock().expect("resolver log").push(asked);
                    Resolution::Unresolved {
                        reason: "not in the test resolver".into(),
                    }
                }
            }
        })
    }
}

/// Normalized records by approved symbol.
pub fn records<S: Source>(source: &S, raw: Vec<S::Raw>) -> HashMap<String, EvidenceRecord> {
    source
        .normalize(raw)
        .expect("normalize")
        .into_iter()
        .map(GeneEvidence::into_record)
        .map(|r| {
            let r = r.expect("record");
            (r.approved_symbol.clone(), r)
        })
        .collect()
}

/// The sorted keys of an object.
pub fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}
