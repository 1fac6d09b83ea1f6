//! The STRING client against the mock server: protein.info then the physical links streamed,
//! PKD1's `ppi_score` as the original computed it, and what each failure ends in.

mod common;

use std::time::Duration;

use common::*;
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, GeneKey, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_fetch::sources::string_ppi::{PHYSICAL_LINKS_URL, PROTEIN_INFO_URL, StringPpiFetcher};
use serde_json::json;

fn info() -> String {
    fixture("string_ppi/9606.protein.info.v12.0.txt")
}

fn links() -> String {
    fixture("string_ppi/9606.protein.physical.links.v12.0.txt")
}

fn serve(server: &MockServer, info: &str, links: &str) {
    server.script("GET", PROTEIN_INFO_URL, vec![MockResponse::ok(gzip(info))]);
    server.script(
        "GET",
        PHYSICAL_LINKS_URL,
        vec![MockResponse::ok(gzip(links))],
    );
}

fn kidney(hgnc: &str, symbol: &str, score: f64) -> GeneKey {
    GeneKey {
        hgnc_id: hgnc.to_string(),
        symbol: symbol.to_string(),
        ensembl_gene_id: None,
        ncbi_gene_id: None,
        percentage_score: Some(score),
    }
}

/// The kidney genes of the fixtures with evidence scores that reproduce the partner
/// evidence of the original's PKD1 row (PKHD1 98.5, TSC2 90.1, NPHP1 98.9, FN1 75.7, STK11 40.0).
fn chunk() -> Vec<GeneKey> {
    vec![
        kidney("HGNC:9008", "PKD1", 96.1),
        kidney("HGNC:9009", "PKD2", 93.7),
        kidney("HGNC:9016", "PKHD1", 98.4626),
        kidney("HGNC:12363", "TSC2", 90.075),
        kidney("HGNC:7905", "NPHP1", 98.948),
        kidney("HGNC:3778", "FN1", 75.66),
        kidney("HGNC:11389", "STK11", 40.0),
        kidney("HGNC:7908", "NPHS1", 88.0),
        kidney("HGNC:13394", "NPHS2", 72.42),
        kidney("HGNC:12559", "UMOD", 0.0),
        kidney("HGNC:2207", "COL4A5", 92.6),
    ]
}

#[tokio::test]
async fn ppi_scores_of_the_kidney_network() {
    let (server, client) = setup().await;
    serve(&server, &info(), &links());
    let fetcher = StringPpiFetcher::new(client);
    let empty = fetcher.fetch(&[]).await.unwrap();
    assert!(empty.records.is_empty() && empty.misses.is_empty());
    assert!(server.requests().is_empty(), "an empty chunk reads no file");
    assert_eq!(fetcher.source(), "string_ppi");
    assert_eq!(fetcher.ttl_days(), 30);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);
    assert_eq!(fetcher.version(), "12.0");

    let genes = chunk();
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 9, "{:?}", outcome.misses);

    // PKD1: the original's stored row, value for value.
    let a = annotations(&outcome, "HGNC:9008");
    assert_keys(
        a,
        &[
            ("ppi_score", "float"),
            ("ppi_degree", "int"),
            ("ppi_percentile", "float"),
            ("interactions", "array"),
            ("summary", "object"),
        ],
    );
    assert_eq!(a["ppi_score"], 141.89);
    assert_eq!(
        a["ppi_degree"], 6,
        "UMOD has no evidence score, TP53 is no kidney gene"
    );
    assert_eq!(
        a["summary"],
        json!({"total_interactions": 6, "raw_sum": 3997, "weighted_sum": 347.56,
               "avg_string_score": 666.17, "strong_interactions": 1})
    );
    let expected = [
        ("PKD2", 999, 93.7, 93.61),
        ("PKHD1", 735, 98.5, 72.37),
        ("TSC2", 795, 90.1, 71.61),
        ("NPHP1", 599, 98.9, 59.27),
        ("FN1", 447, 75.7, 33.82),
        ("STK11", 422, 40.0, 16.88),
    ];
    let interactions = a["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 6);
    assert_keys(
        &interactions[1],
        &[
            ("partner_symbol", "string"),
            ("partner_string_id", "string"),
            ("string_score", "int"),
            ("partner_evidence", "float"),
            ("weighted_score", "float"),
        ],
    );
    for (got, (symbol, score, evidence, weighted)) in interactions.iter().zip(expected) {
        assert_eq!(got["partner_symbol"], symbol);
        assert_eq!(got["string_score"], score);
        assert_eq!(got["partner_evidence"], evidence);
        assert_eq!(got["weighted_score"], weighted, "{symbol}");
    }
    assert_eq!(interactions[2]["partner_string_id"], "9606.ENSP00000219476");

    let b = annotations(&outcome, "HGNC:9009");
    assert_eq!(b["ppi_score"], 126.3);
    assert_eq!(b["summary"]["weighted_sum"], 178.61);
    let nphs1 = annotations(&outcome, "HGNC:7908");
    assert_eq!(
        nphs1["interactions"][0]["weighted_score"], 71.48,
        "as the original's NPHS1 row"
    );

    // PERCENT_RANK among the nine scores.
    let percentile = |hgnc: &str| annotations(&outcome, hgnc)["ppi_percentile"].clone();
    assert_eq!(percentile("HGNC:9008"), json!(1.0));
    assert_eq!(percentile("HGNC:9009"), json!(0.875));
    assert_eq!(percentile("HGNC:13394"), json!(0.625));
    assert_eq!(percentile("HGNC:11389"), json!(0.0));

    let (kind, reason) = miss(&outcome, "HGNC:12559");
    assert_eq!(kind, MissKind::NotFound);
    assert!(reason.contains("percentage_score"), "{reason}");
    let (kind, reason) = miss(&outcome, "HGNC:2207");
    assert_eq!(kind, MissKind::NotFound);
    assert!(reason.contains("no STRING protein"), "{reason}");

    let record = &outcome.records[0];
    assert_eq!(record.source, "string_ppi");
    assert_eq!(record.version, "12.0");
    assert_eq!(
        record.metadata,
        json!({"origin": PHYSICAL_LINKS_URL, "files": [PHYSICAL_LINKS_URL, PROTEIN_INFO_URL],
               "batch_fetch": true, "retrieved_at": null})
    );
    let again = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(again.records, outcome.records);

    // Partners must be in the chunk: without PKD1, TSC2 has no kidney partner.
    let small = [genes[3].clone(), genes[7].clone(), genes[8].clone()];
    let outcome = fetcher.fetch(&small).await.unwrap();
    let (kind, reason) = miss(&outcome, "HGNC:12363");
    assert_eq!(kind, MissKind::NotFound);
    assert!(
        reason.contains("no physical STRING link scored 400"),
        "{reason}"
    );
    assert_eq!(outcome.records.len(), 2);
}

#[tokio::test]
async fn a_malformed_link_fails_only_its_genes() {
    let (server, client) = setup().await;
    let broken = links().replace(
        "9606.ENSP00000237596 9606.ENSP00000262304 999",
        "9606.ENSP00000237596 9606.ENSP00000262304 99x",
    );
    serve(&server, &info(), &broken);
    let outcome = StringPpiFetcher::new(client).fetch(&chunk()).await.unwrap();
    for gene in ["HGNC:9008", "HGNC:9009"] {
        let (kind, reason) = miss(&outcome, gene);
        assert_eq!(kind, MissKind::Failed);
        assert!(
            reason.contains("combined_score") && reason.contains("99x"),
            "{reason}"
        );
    }
    assert_eq!(annotations(&outcome, "HGNC:7908")["ppi_degree"], 1);
    // PKD1's other links are sound: its partners keep it.
    assert_eq!(annotations(&outcome, "HGNC:12363")["ppi_degree"], 1);
}

#[tokio::test]
async fn a_links_header_without_a_needed_column_fails_the_chunk() {
    let (server, client) = setup().await;
    serve(
        &server,
        &info(),
        &links().replacen("combined_score", "score", 1),
    );
    let err = StringPpiFetcher::new(client)
        .fetch(&chunk())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("combined_score"), "{err}");
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let (server, client) = setup().await;
    serve(&server, &info(), &links());
    server.script(
        "GET",
        PROTEIN_INFO_URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::ok(gzip(&info())),
        ],
    );
    let outcome = StringPpiFetcher::new(client).fetch(&chunk()).await.unwrap();
    assert_eq!(annotations(&outcome, "HGNC:9008")["ppi_score"], 141.89);
    let log = server.requests_to(PROTEIN_INFO_URL);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_503_is_retried() {
    let (server, client) = setup().await;
    serve(&server, &info(), &links());
    server.script(
        "GET",
        PHYSICAL_LINKS_URL,
        vec![
            MockResponse::new(503, "busy"),
            MockResponse::ok(gzip(&links())),
        ],
    );
    let outcome = StringPpiFetcher::new(client).fetch(&chunk()).await.unwrap();
    assert_eq!(annotations(&outcome, "HGNC:9008")["ppi_degree"], 6);
    assert_eq!(server.requests_to(PHYSICAL_LINKS_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk() {
    let (server, client) = setup().await;
    serve(&server, &info(), &links());
    server.script(
        "GET",
        PHYSICAL_LINKS_URL,
        vec![MockResponse::new(500, "boom")],
    );
    let err = StringPpiFetcher::new(client)
        .fetch(&chunk())
        .await
        .unwrap_err();
    assert_status(&err, 500);
    assert_eq!(server.requests_to(PHYSICAL_LINKS_URL).len(), 4);
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    serve(&server, &info(), &links());
    server.script(
        "GET",
        PROTEIN_INFO_URL,
        vec![MockResponse::ok(gzip(&info())).delayed(Duration::from_secs(2))],
    );
    let err = StringPpiFetcher::new(client)
        .fetch(&chunk())
        .await
        .unwrap_err();
    assert_timeout(&err);
}

#[tokio::test]
async fn a_truncated_gzip_fails_the_chunk() {
    let (server, client) = setup().await;
    let mut text = links();
    let rows: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
    for _ in 0..2000 {
        for row in &rows {
            text.push_str(row);
            text.push('\n');
        }
    }
    serve(&server, &info(), &text);
    server.script(
        "GET",
        PHYSICAL_LINKS_URL,
        vec![MockResponse::ok(truncated(&gzip(&text)))],
    );
    let err = StringPpiFetcher::new(client)
        .fetch(&chunk())
        .await
        .unwrap_err();
    assert_stream_broken(&err);
}
