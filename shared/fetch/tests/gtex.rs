//! The gtex fetcher against the scripted server: the v8 median-TPM GCT (trimmed to six tissues,
//! gzipped here from the text fixture) and its failures.

mod common;

use std::time::Duration;

use common::{assert_accounted, fixture, gene, gzip, miss, record, setup, with_ensembl};
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, MissKind};
use kgdb_fetch::mock::MockResponse;
use kgdb_fetch::sources::gtex::{BULK_URL, GtexFetcher};
use serde_json::json;

fn gct() -> String {
    fixture("gtex/GTEx_Analysis_2017-06-05_v8_RNASeQCv1.1.9_gene_median_tpm.gct")
}

/// The fixture with `extra` filler rows appended (and the dimensions line to match).
fn gct_with_filler(extra: usize) -> String {
    let text = gct();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rows = lines.len() - 3 + extra;
    lines[1] = format!("{rows}\t6");
    for i in 0..extra {
        lines.push(format!(
            "ENSG9{i:010}.1\tFILLER{i}\t1.5\t2.5\t0.5\t{}.25\t3\t0.1",
            i % 97
        ));
    }
    lines.join("\n") + "\n"
}

#[tokio::test]
async fn the_gct_gives_every_tissue_with_api_ids_and_the_stored_keys() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(gzip(&gct()))]);
    let fetcher = GtexFetcher::new(client);
    assert_eq!(fetcher.source(), "gtex");
    assert_eq!(fetcher.ttl_days(), 90);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);
    let genes = [
        with_ensembl(gene("HGNC:9008", "PKD1"), "ENSG00000008710"),
        gene("HGNC:2207", "COL4A5"),
        gene("HGNC:7908", "NPHS1"),
    ];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert!(outcome.misses.is_empty(), "{:?}", outcome.misses);

    let pkd1 = record(&outcome, "HGNC:9008");
    assert_eq!(pkd1.source, "gtex");
    assert_eq!(pkd1.version, "gtex_v8");
    assert_eq!(
        pkd1.metadata,
        json!({"origin": BULK_URL, "batch_fetch": true, "retrieved_at": null})
    );
    let a = &pkd1.annotations;
    assert_eq!(a["dataset_version"], "gtex_v8");
    assert_eq!(a["gencode_id"], "ENSG00000008710.19");
    assert_eq!(a["gene_symbol"], "PKD1");
    assert_eq!(
        a["tissues"]["Kidney_Cortex"],
        json!({"median_tpm": 8.34398, "unit": "TPM"})
    );
    assert_eq!(
        a["tissues"]["Kidney_Medulla"],
        json!({"median_tpm": 12.0618, "unit": "TPM"})
    );
    let mut ids: Vec<&String> = a["tissues"].as_object().unwrap().keys().collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "Adipose_Subcutaneous",
            "Adipose_Visceral_Omentum",
            "Brain_Anterior_cingulate_cortex_BA24",
            "Kidney_Cortex",
            "Kidney_Medulla",
            "Whole_Blood"
        ]
    );
    let col4a5 = &record(&outcome, "HGNC:2207").annotations;
    assert_eq!(col4a5["tissues"]["Kidney_Cortex"]["median_tpm"], 7.02759);
    assert_eq!(col4a5["tissues"]["Kidney_Medulla"]["median_tpm"], 14.0055);
    let nphs1 = &record(&outcome, "HGNC:7908").annotations;
    assert_eq!(nphs1["tissues"]["Kidney_Cortex"]["median_tpm"], 36.7847);
    assert_eq!(nphs1["tissues"]["Whole_Blood"]["median_tpm"], json!(0.0));
}

#[tokio::test]
async fn rows_match_by_ensembl_id_before_symbol() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(gzip(&gct()))]);
    let genes = [
        // The A1BG row matches by symbol first; COL4A5's row matches the id later and wins.
        with_ensembl(gene("HGNC:1", "A1BG"), "ENSG00000188153.13"),
        // PKD1's row matches the id; NPHS1's row later matches the symbol only.
        with_ensembl(gene("HGNC:2", "NPHS1"), "ENSG00000008710"),
    ];
    let outcome = GtexFetcher::new(client).fetch(&genes).await.unwrap();
    assert_eq!(
        record(&outcome, "HGNC:1").annotations["gene_symbol"],
        "COL4A5"
    );
    assert_eq!(
        record(&outcome, "HGNC:2").annotations["gene_symbol"],
        "PKD1"
    );
}

#[tokio::test]
async fn an_absent_gene_is_not_found_and_a_malformed_row_fails_only_its_gene() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(gzip(&gct()))]);
    let genes = [
        gene("HGNC:9008", "PKD1"),
        gene("HGNC:99999", "NOTAGENE"),
        // Its Kidney - Cortex cell is "abc".
        gene("HGNC:9009", "PKD2"),
    ];
    let outcome = GtexFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert_eq!(outcome.records.len(), 1);
    let (kind, why) = miss(&outcome, "HGNC:99999");
    assert_eq!(kind, MissKind::NotFound);
    assert!(why.contains("GTEx"), "{why}");
    let (kind, why) = miss(&outcome, "HGNC:9009");
    assert_eq!(kind, MissKind::Failed);
    assert!(
        why.contains("Kidney_Cortex") && why.contains("abc"),
        "{why}"
    );
}

#[tokio::test]
async fn a_truncated_gzip_stream_fails_the_chunk_never_a_partial_result() {
    let (server, client) = setup().await;
    let gz = gzip(&gct_with_filler(50_000));
    // Our genes are in the first rows, read before the cut: still an error.
    server.script(
        "GET",
        BULK_URL,
        vec![MockResponse::ok(gz[..gz.len() / 2].to_vec())],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = GtexFetcher::new(client).fetch(&genes).await.unwrap_err();
    assert!(err.to_string().contains("stream broken"), "{err}");
}

#[tokio::test]
async fn a_file_that_disagrees_with_its_dimensions_or_is_not_gct_fails_the_chunk() {
    let (server, client) = setup().await;
    let fetcher = GtexFetcher::new(client);
    let genes = [gene("HGNC:9008", "PKD1")];
    // Cut at a line boundary (the gzip stream itself intact): the row count gives it away.
    let text = gct();
    let short: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
    for (body, expect) in [
        (short, "2 gene rows, the dimensions line says 5"),
        (text.replacen("#1.2", "#1.3", 1), "not a GCT 1.2 file"),
        (text.replacen("5\t6", "5\t7", 1), "6 tissue columns"),
        (
            text.replacen("Description", "Symbol", 1),
            "Name, Description",
        ),
    ] {
        server.script("GET", BULK_URL, vec![MockResponse::ok(gzip(&body))]);
        let err = fetcher.fetch(&genes).await.unwrap_err();
        assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains(expect), "{err}");
    }
}

#[tokio::test]
async fn a_large_file_streams_through() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![MockResponse::ok(gzip(&gct_with_filler(60_000)))],
    );
    let genes = [gene("HGNC:9008", "PKD1"), gene("HGNC:3", "FILLER59999")];
    let outcome = GtexFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert_eq!(
        record(&outcome, "HGNC:3").annotations["tissues"]["Kidney_Cortex"]["median_tpm"],
        json!(53.25) // 59999 % 97 = 53
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_file_is_read() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::ok(gzip(&gct())),
        ],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = GtexFetcher::new(client).fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    let log = server.requests_to(BULK_URL);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_504_is_retried_then_the_file_is_read() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![
            MockResponse::new(504, "gateway timeout"),
            MockResponse::ok(gzip(&gct())),
        ],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = GtexFetcher::new(client).fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(server.requests_to(BULK_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(500, "boom")]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = GtexFetcher::new(client).fetch(&genes).await.unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert_eq!(server.requests_to(BULK_URL).len(), 4);
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![MockResponse::ok(gzip(&gct())).delayed(Duration::from_secs(2))],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = GtexFetcher::new(client).fetch(&genes).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
}
