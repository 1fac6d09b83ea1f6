//! HGNC's REST search as normalization's last step, against the mock server.

mod common;

use kgdb_core::genes::HgncLookup;
use kgdb_fetch::hgnc_lookup::{HgncRestLookup, SEARCH_URL};
use kgdb_fetch::mock::MockResponse;
use serde_json::json;

fn answer(docs: serde_json::Value) -> MockResponse {
    let n = docs.as_array().map_or(0, Vec::len);
    MockResponse::json(&json!({"responseHeader": {"status": 0, "QTime": 1},
        "response": {"numFound": n, "start": 0, "maxScore": 1.0, "docs": docs}}))
}

#[tokio::test]
async fn symbol_then_previous_then_alias_and_only_unique_matches() {
    let (server, client) = common::setup().await;
    let empty = || answer(json!([]));
    // PKD1 is an approved symbol.
    server.script(
        "GET",
        &format!("{SEARCH_URL}/symbol/PKD1"),
        vec![answer(
            json!([{"hgnc_id": "HGNC:9008", "symbol": "PKD1", "score": 1.0}]),
        )],
    );
    // TCF2 was HNF1B's symbol.
    server.script("GET", &format!("{SEARCH_URL}/symbol/TCF2"), vec![empty()]);
    server.script(
        "GET",
        &format!("{SEARCH_URL}/prev_symbol/TCF2"),
        vec![answer(
            json!([{"hgnc_id": "HGNC:11630", "symbol": "HNF1B", "score": 1.0}]),
        )],
    );
    // TRPP1 is an alias of PKD1 (the fetch example's alias_symbol).
    for field in ["symbol", "prev_symbol"] {
        server.script("GET", &format!("{SEARCH_URL}/{field}/TRPP1"), vec![empty()]);
    }
    server.script(
        "GET",
        &format!("{SEARCH_URL}/alias_symbol/TRPP1"),
        vec![answer(
            json!([{"hgnc_id": "HGNC:9008", "symbol": "PKD1", "score": 1.0}]),
        )],
    );
    // An alias two genes share.
    for field in ["symbol", "prev_symbol"] {
        server.script("GET", &format!("{SEARCH_URL}/{field}/PBP"), vec![empty()]);
    }
    server.script(
        "GET",
        &format!("{SEARCH_URL}/alias_symbol/PBP"),
        vec![answer(json!([
        {"hgnc_id": "HGNC:9008", "symbol": "PKD1", "score": 1.0},
        {"hgnc_id": "HGNC:8630", "symbol": "PEBP1", "score": 1.0}]))],
    );
    for field in ["symbol", "prev_symbol", "alias_symbol"] {
        server.script(
            "GET",
            &format!("{SEARCH_URL}/{field}/NOSUCHGENE"),
            vec![empty()],
        );
    }
    let lookup = HgncRestLookup::new(client);
    let symbol = |s: &str| s.to_string();
    assert_eq!(
        lookup.lookup("PKD1").await.map(|g| g.hgnc_id),
        Some(symbol("HGNC:9008"))
    );
    assert_eq!(
        lookup.lookup("TCF2").await.map(|g| g.approved_symbol),
        Some(symbol("HNF1B"))
    );
    assert_eq!(
        lookup.lookup("TRPP1").await.map(|g| g.approved_symbol),
        Some(symbol("PKD1"))
    );
    assert_eq!(
        lookup.lookup("PBP").await,
        None,
        "ambiguous: left to a curator"
    );
    assert_eq!(lookup.lookup("NOSUCHGENE").await, None);
    assert_eq!(
        lookup.lookup("A B/../x").await,
        None,
        "never put into a URL"
    );
    let asked: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        asked
            .iter()
            .all(|p| !p.contains("A%20B") && !p.contains("..")),
        "{asked:?}"
    );
    assert_eq!(
        server
            .requests_to(&format!("{SEARCH_URL}/prev_symbol/PKD1"))
            .len(),
        0,
        "stops at the first field that answers"
    );
}

#[tokio::test]
async fn an_unreachable_service_answers_nothing_without_asking_further() {
    let (server, client) = common::setup().await;
    server.script(
        "GET",
        &format!("{SEARCH_URL}/symbol/PKD1"),
        vec![MockResponse::new(503, "busy")],
    );
    let lookup = HgncRestLookup::new(client);
    assert_eq!(lookup.lookup("PKD1").await, None);
    assert_eq!(
        server
            .requests_to(&format!("{SEARCH_URL}/prev_symbol/PKD1"))
            .len(),
        0
    );
}
