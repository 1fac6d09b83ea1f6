//! ClinGen's live fetcher against the mock server answering ClinGen's real URLs from the
//! fixtures (`tests/fixtures/clingen/`), through `Source::normalize` as a run does.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestResolver, client, fixture, json_fixture, keys, records, server};
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};
use kgdb_fetch::DomainLimits;
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_sources::clingen::live::{AFFILIATES_URL, CSV_URL, ClinGenLive, KIDNEY_AFFILIATES};
use kgdb_sources::clingen::snapshot::ClinGenSnapshot;
use kgdb_sources::clingen::{ClinGen, ClinGenChunk};
use kgdb_sources::files::SnapshotDir;
use serde_json::json;

fn csv(path: &str) -> MockResponse {
    MockResponse::ok(fixture(path)).header("content-type", "text/csv; charset=utf-8")
}

fn affiliate_url(id: u32) -> String {
    format!("{AFFILIATES_URL}/{id}")
}

/// ClinGen as the fixtures have it: the download, and the affiliates (PKD1 under 40066; 40068
/// unknown to the API; the others empty).
fn install(server: &MockServer) {
    server.script(
        "GET",
        CSV_URL,
        vec![csv("clingen/gene-validity-download.csv")],
    );
    for id in KIDNEY_AFFILIATES {
        let answer = match id {
            40066 => json_fixture("clingen/affiliates_40066.json"),
            40068 => MockResponse::new(404, "Not Found"),
            _ => json_fixture("clingen/affiliates_empty.json"),
        };
        server.script("GET", &affiliate_url(id), vec![answer]);
    }
}

async fn setup() -> (MockServer, ClinGenLive, Arc<TestResolver>) {
    let server = server().await;
    install(&server);
    let resolver = TestResolver::kidney();
    let live = ClinGenLive::new(client(&server, DomainLimits::new([])), resolver.clone());
    (server, live, resolver)
}

fn affiliate_requests(server: &MockServer) -> usize {
    KIDNEY_AFFILIATES
        .iter()
        .map(|id| server.requests_to(&affiliate_url(*id)).len())
        .sum()
}

fn pkd1_evidence() -> serde_json::Value {
    json!({
        "hgnc_id": "HGNC:9008",
        "validities": [{
            "symbol": "PKD1",
            "hgnc_id": "HGNC:9008",
            "disease_name": "polycystic kidney disease",
            "classification": "Definitive",
            "mode_of_inheritance": "AD",
            "expert_panel": "Kidney Cystic and Ciliopathy Disorders Gene Curation Expert Panel",
            "mondo_id": "MONDO:0008263",
            "release_date": "2023-01-15T16:00:00.000Z",
            "submission_id": "https://search.clinicalgenome.org/kb/gene-validity/CGGV:assertion_0b1c…-2023-01-15T160000.000Z",
        }],
        "classifications": ["Definitive"],
        "diseases": ["polycystic kidney disease"],
        "expert_panels": ["Kidney Cystic and Ciliopathy Disorders Gene Curation Expert Panel"],
        "modes_of_inheritance": ["AD"],
        "validity_count": 1,
        "assertion_count": 1,
        "max_classification_score": 1.0,
        "max_classification_weight": 1.0,
        "evidence_score": 100.0,
        "last_updated": "2023-01-15",
    })
}

#[tokio::test]
async fn the_csvs_kidney_curations_through_the_normalizer() {
    let (server, live, resolver) = setup().await;
    assert_eq!(live.plan().await.unwrap(), vec![ClinGenChunk::All]);
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());

    let pkd1 = &genes["PKD1"];
    assert_eq!(pkd1.evidence_data, pkd1_evidence());
    assert_eq!(pkd1.source_detail, "ClinGen: 1 validity (Definitive)");
    assert_eq!(pkd1.evidence_date.unwrap().to_string(), "2023-01-15");

    // By expert panel (CFH's disease names no kidney term), or by disease (COL4A5's panel is
    // not a kidney panel); BRCA1 is neither and never reaches the resolver.
    let mut symbols: Vec<&str> = genes.keys().map(String::as_str).collect();
    symbols.sort();
    assert_eq!(symbols, vec!["APOL1", "CFH", "COL4A5", "NHERF1", "PKD1"]);
    assert_eq!(
        genes["COL4A5"].evidence_data["expert_panels"],
        json!(["Hearing Loss Gene Curation Expert Panel"])
    );
    assert!(!resolver.asked_symbols().contains(&"BRCA1".to_string()));
    assert!(
        resolver
            .asked()
            .iter()
            .all(|a| a.0 == SourceName::ClinGen && a.2.is_some()),
        "ClinGen's HGNC id goes to the resolver"
    );

    // The row without a symbol and APOL1's row with an unreadable date were dropped; the rest
    // of the file was read.
    assert_eq!(genes["APOL1"].evidence_data["validity_count"], 1);
    assert_eq!(
        genes["APOL1"].evidence_data["classifications"],
        json!(["Definitive"])
    );
    assert!(!genes.contains_key("PKHD1"));

    assert_eq!(server.requests_to(CSV_URL).len(), 1);
    assert_eq!(
        affiliate_requests(&server),
        0,
        "no fallback when the CSV reads"
    );
}

#[tokio::test]
async fn the_snapshot_and_the_live_fetch_store_the_same_keys() {
    let (_server, live, _) = setup().await;
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());
    let offline = records(
        &ClinGen,
        ClinGenSnapshot::new(SnapshotDir::in_repo())
            .fetch(&ClinGenChunk::All)
            .await
            .unwrap(),
    );
    let live_pkd1 = &genes["PKD1"].evidence_data;
    let offline_pkd1 = &offline["PKD1"].evidence_data;
    assert_eq!(keys(live_pkd1), keys(offline_pkd1));
    assert_eq!(
        keys(&live_pkd1["validities"][0]),
        keys(&offline_pkd1["validities"][0])
    );
}

#[tokio::test]
async fn a_symbol_the_resolver_cannot_resolve_is_left_out_and_recorded() {
    let (_server, live, resolver) = setup().await;
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());
    assert_eq!(
        resolver.unresolved(),
        vec![(
            SourceName::ClinGen,
            "UMOD".to_string(),
            Some("HGNC:12559".to_string())
        )]
    );
    assert!(genes.values().all(|r| r.hgnc_id != "HGNC:12559"));
}

#[tokio::test]
async fn a_renamed_symbol_becomes_the_resolved_gene() {
    let (_server, live, _) = setup().await;
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());
    let nherf1 = &genes["NHERF1"];
    assert_eq!(nherf1.hgnc_id, "HGNC:11075");
    assert_eq!(nherf1.reported_symbols, vec!["NHERF1", "SLC9A3R1"]);
    assert_eq!(nherf1.evidence_data["validities"][0]["symbol"], "NHERF1");
    assert_eq!(nherf1.evidence_data["classifications"], json!(["Limited"]));
    assert!(!genes.contains_key("SLC9A3R1"));
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_the_csv_is_read() {
    let (server, live, _) = setup().await;
    server.script(
        "GET",
        CSV_URL,
        vec![
            MockResponse::new(429, "Too Many Requests")
                .header("Retry-After", "1")
                .header("X-RateLimit-Limit", "60"),
            csv("clingen/gene-validity-download.csv"),
        ],
    );
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());
    assert_eq!(genes["PKD1"].evidence_data, pkd1_evidence());
    let log = server.requests_to(CSV_URL);
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
    assert_eq!(affiliate_requests(&server), 0);
}

#[tokio::test]
async fn a_5xx_then_success_reads_the_csv() {
    let (server, live, _) = setup().await;
    server.script(
        "GET",
        CSV_URL,
        vec![
            MockResponse::new(502, "Bad Gateway"),
            MockResponse::new(503, "Service Unavailable"),
            csv("clingen/gene-validity-download.csv"),
        ],
    );
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());
    assert_eq!(genes.len(), 5);
    assert_eq!(server.requests_to(CSV_URL).len(), 3);
    assert_eq!(affiliate_requests(&server), 0);
}

#[tokio::test]
async fn a_csv_that_keeps_failing_falls_back_to_the_affiliates() {
    let (server, live, resolver) = setup().await;
    server.script(
        "GET",
        CSV_URL,
        vec![MockResponse::new(500, "Internal Server Error")],
    );
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());
    assert_eq!(
        server.requests_to(CSV_URL).len(),
        4,
        "a try and three retries"
    );
    // Every affiliate asked once (40068's 404 skipped); PKD1 stored as the CSV would store it.
    for id in KIDNEY_AFFILIATES {
        assert_eq!(server.requests_to(&affiliate_url(id)).len(), 1, "{id}");
    }
    assert_eq!(genes.len(), 1);
    assert_eq!(genes["PKD1"].evidence_data, pkd1_evidence());
    assert_eq!(
        resolver.asked(),
        vec![(
            SourceName::ClinGen,
            "PKD1".to_string(),
            Some("HGNC:9008".to_string())
        )]
    );
}

#[tokio::test]
async fn a_5xx_that_persists_everywhere_fails_the_chunk() {
    let (server, live, _) = setup().await;
    server.script(
        "GET",
        CSV_URL,
        vec![MockResponse::new(500, "Internal Server Error")],
    );
    server.script(
        "GET",
        &affiliate_url(40066),
        vec![MockResponse::new(503, "Service Unavailable")],
    );
    let err = live.fetch(&ClinGenChunk::All).await.unwrap_err();
    assert!(matches!(err, SourceError::Fetch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("HTTP 500") && message.contains("HTTP 503"),
        "{message}"
    );
    assert_eq!(server.requests_to(&affiliate_url(40066)).len(), 4);
}

#[tokio::test]
async fn a_csv_without_its_header_is_a_failed_csv() {
    let (server, live, _) = setup().await;
    let maintenance = "<!DOCTYPE html><html><body>ClinGen is down for maintenance</body></html>";
    server.script("GET", CSV_URL, vec![MockResponse::ok(maintenance)]);
    // The affiliates answer: their rows stand in.
    let genes = records(&ClinGen, live.fetch(&ClinGenChunk::All).await.unwrap());
    assert_eq!(genes["PKD1"].evidence_data, pkd1_evidence());

    // They do not either: the chunk fails, naming the missing header.
    server.script(
        "GET",
        &affiliate_url(40066),
        vec![MockResponse::ok("<html>maintenance</html>")],
    );
    let err = live.fetch(&ClinGenChunk::All).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("no header row"), "{message}");
    assert!(message.contains("malformed answer"), "{message}");
    // A malformed answer is not retried.
    assert_eq!(server.requests_to(CSV_URL).len(), 2);
}

#[tokio::test]
async fn an_affiliate_answer_without_rows_fails_the_fallback() {
    let (server, live, _) = setup().await;
    server.script("GET", CSV_URL, vec![MockResponse::new(404, "Not Found")]);
    server.script(
        "GET",
        &affiliate_url(40067),
        vec![MockResponse::json(&json!({"error": "unknown"}))],
    );
    let err = live.fetch(&ClinGenChunk::All).await.unwrap_err();
    assert!(err.to_string().contains("no `rows` list"), "{err}");
}

#[tokio::test]
async fn an_empty_answer_fails_the_chunk() {
    let (server, live, resolver) = setup().await;
    server.script(
        "GET",
        CSV_URL,
        vec![csv("clingen/gene-validity-header-only.csv")],
    );
    server.script(
        "GET",
        &affiliate_url(40066),
        vec![json_fixture("clingen/affiliates_empty.json")],
    );
    let err = live.fetch(&ClinGenChunk::All).await.unwrap_err();
    assert!(err.to_string().contains("empty result"), "{err}");
    assert!(resolver.asked().is_empty());
}

#[tokio::test]
async fn curations_of_unresolvable_genes_only_are_an_empty_result() {
    let server = server().await;
    install(&server);
    let resolver = TestResolver::new(vec![]);
    let live = ClinGenLive::new(client(&server, DomainLimits::new([])), resolver.clone());
    let err = live.fetch(&ClinGenChunk::All).await.unwrap_err();
    assert!(err.to_string().contains("empty result"), "{err}");
    assert_eq!(resolver.unresolved().len(), 6);
}
