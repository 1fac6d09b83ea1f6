//! The descartes fetcher against the scripted server: the two kidney tables (`SYMBOL,value`),
//! CloudFront's 403, the usual failures, and a gzipped mirror.

mod common;

use std::time::Duration;

use common::{assert_accounted, fixture, gene, gzip, miss, record, setup};
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_fetch::sources::descartes::{DescartesFetcher, PERCENTAGE_URL, TPM_URL};
use serde_json::json;

fn tpm() -> String {
    fixture("descartes/tissue_tpm_kidney.csv")
}

fn percentage() -> String {
    fixture("descartes/tissue_percentage_kidney.csv")
}

fn serve_both(server: &MockServer) {
    server.script("GET", TPM_URL, vec![MockResponse::ok(tpm())]);
    server.script("GET", PERCENTAGE_URL, vec![MockResponse::ok(percentage())]);
}

#[tokio::test]
async fn the_two_tables_give_kidney_tpm_and_percentage_with_the_stored_keys() {
    let (server, client) = setup().await;
    serve_both(&server);
    let fetcher = DescartesFetcher::new(client);
    assert_eq!(fetcher.source(), "descartes");
    assert_eq!(fetcher.ttl_days(), 90);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);
    let genes = [
        gene("HGNC:9008", "PKD1"),
        // In the TPM table only.
        gene("HGNC:2207", "COL4A5"),
        gene("HGNC:7908", "nphs1"),
    ];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert!(outcome.misses.is_empty(), "{:?}", outcome.misses);
    let pkd1 = record(&outcome, "HGNC:9008");
    assert_eq!(pkd1.source, "descartes");
    assert_eq!(pkd1.version, "human_gtex");
    assert_eq!(
        pkd1.metadata,
        json!({"origin": TPM_URL, "percentage_origin": PERCENTAGE_URL, "batch_fetch": true, "retrieved_at": null})
    );
    assert_eq!(
        pkd1.annotations,
        json!({
            "kidney_tpm": 85.3475340076503,
            "kidney_percentage": 41.7,
            "cell_type": "kidney",
            "dataset_version": "human_gtex",
            "gene_symbol": "PKD1",
        })
    );
    let col4a5 = &record(&outcome, "HGNC:2207").annotations;
    assert_eq!(col4a5["kidney_tpm"], 144.127674077727);
    assert_eq!(col4a5["kidney_percentage"], json!(null));
    let nphs1 = &record(&outcome, "HGNC:7908").annotations;
    assert_eq!(nphs1["kidney_tpm"], 72.932035279674);
    assert_eq!(nphs1["gene_symbol"], "nphs1", "our symbol");
}

#[tokio::test]
async fn an_absent_gene_is_not_found_and_a_malformed_value_fails_only_its_gene() {
    let (server, client) = setup().await;
    serve_both(&server);
    let genes = [
        gene("HGNC:9008", "PKD1"),
        gene("HGNC:99999", "NOTAGENE"),
        // Its TPM is "abc".
        gene("HGNC:9009", "PKD2"),
    ];
    let outcome = DescartesFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert_eq!(outcome.records.len(), 1);
    let (kind, why) = miss(&outcome, "HGNC:99999");
    assert_eq!(kind, MissKind::NotFound);
    assert!(why.contains("Descartes"), "{why}");
    let (kind, why) = miss(&outcome, "HGNC:9009");
    assert_eq!(kind, MissKind::Failed);
    assert!(why.contains("abc"), "{why}");
}

#[tokio::test]
async fn a_header_line_is_skipped() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        TPM_URL,
        vec![MockResponse::ok(format!(
            "gene_short_name,kidney\n{}",
            tpm()
        ))],
    );
    server.script("GET", PERCENTAGE_URL, vec![MockResponse::ok(percentage())]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = DescartesFetcher::new(client).fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
}

#[tokio::test]
async fn cloudfronts_403_is_one_request_and_a_clear_chunk_error() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        TPM_URL,
        vec![MockResponse::new(
            403,
            "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>",
        )],
    );
    server.script("GET", PERCENTAGE_URL, vec![MockResponse::ok(percentage())]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = DescartesFetcher::new(client)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(403));
    assert!(!err.is_transient());
    let message = err.to_string();
    assert!(
        message.contains("CloudFront") && message.contains("with_urls"),
        "{message}"
    );
    assert_eq!(server.requests_to(TPM_URL).len(), 1, "no retry storm");
    assert!(server.requests_to(PERCENTAGE_URL).is_empty());
}

#[tokio::test]
async fn a_mirror_serves_both_tables_and_a_truncated_gzip_mirror_fails_the_chunk() {
    let (server, client) = setup().await;
    let tpm_mirror = "https://mirror.example.org/descartes/tissue_tpm/kidney.csv.gz";
    let pct_mirror = "https://mirror.example.org/descartes/tissue_percentage/kidney.csv.gz";
    server.script("GET", tpm_mirror, vec![MockResponse::ok(gzip(&tpm()))]);
    server.script(
        "GET",
        pct_mirror,
        vec![MockResponse::ok(gzip(&percentage()))],
    );
    let fetcher = DescartesFetcher::new(client).with_urls(tpm_mirror, pct_mirror);
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    let pkd1 = record(&outcome, "HGNC:9008");
    assert_eq!(pkd1.annotations["kidney_percentage"], 41.7);
    assert_eq!(pkd1.metadata["origin"], tpm_mirror);
    assert!(server.requests_to(TPM_URL).is_empty());

    let big: String = (0..40_000).map(|i| format!("FILLER{i},{i}.5\n")).collect();
    let gz = gzip(&format!("{}{big}", tpm()));
    server.script(
        "GET",
        tpm_mirror,
        vec![MockResponse::ok(gz[..gz.len() / 2].to_vec())],
    );
    let err = fetcher.fetch(&genes).await.unwrap_err();
    assert!(err.to_string().contains("stream broken"), "{err}");
}

#[tokio::test]
async fn an_empty_table_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script("GET", TPM_URL, vec![MockResponse::ok(tpm())]);
    server.script("GET", PERCENTAGE_URL, vec![MockResponse::ok("\n")]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = DescartesFetcher::new(client)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_tables_are_read() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        TPM_URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::ok(tpm()),
        ],
    );
    server.script("GET", PERCENTAGE_URL, vec![MockResponse::ok(percentage())]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = DescartesFetcher::new(client).fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    let log = server.requests_to(TPM_URL);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_503_is_retried_then_the_tables_are_read() {
    let (server, client) = setup().await;
    server.script("GET", TPM_URL, vec![MockResponse::ok(tpm())]);
    server.script(
        "GET",
        PERCENTAGE_URL,
        vec![
            MockResponse::new(503, "busy"),
            MockResponse::ok(percentage()),
        ],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = DescartesFetcher::new(client).fetch(&genes).await.unwrap();
    assert_eq!(
        record(&outcome, "HGNC:9008").annotations["kidney_percentage"],
        41.7
    );
    assert_eq!(server.requests_to(PERCENTAGE_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script("GET", TPM_URL, vec![MockResponse::ok(tpm())]);
    server.script("GET", PERCENTAGE_URL, vec![MockResponse::new(500, "boom")]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = DescartesFetcher::new(client)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert_eq!(server.requests_to(PERCENTAGE_URL).len(), 4);
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        TPM_URL,
        vec![MockResponse::ok(tpm()).delayed(Duration::from_secs(2))],
    );
    server.script("GET", PERCENTAGE_URL, vec![MockResponse::ok(percentage())]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = DescartesFetcher::new(client)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
}
