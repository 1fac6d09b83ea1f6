//! The hgnc fetcher against the scripted server: the complete-set JSON (trimmed, real shape),
//! its failures, and the per-gene REST fallback.

mod common;

use std::time::Duration;

use common::{assert_accounted, fixture, gene, miss, record, setup};
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, MissKind};
use kgdb_fetch::mock::MockResponse;
use kgdb_fetch::sources::hgnc::{BULK_URL, HgncFetcher};
use serde_json::json;

const REST_9008: &str = "https://rest.genenames.org/fetch/hgnc_id/9008";

fn complete_set() -> String {
    fixture("hgnc/hgnc_complete_set.json")
}

#[tokio::test]
async fn the_complete_set_gives_pkd1_with_the_stored_keys_and_types() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(complete_set())]);
    let fetcher = HgncFetcher::new(client);
    assert_eq!(fetcher.source(), "hgnc");
    assert_eq!(fetcher.ttl_days(), 90);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);
    let genes = [
        gene("HGNC:9008", "PKD1"),
        gene("HGNC:2207", "COL4A5"),
        gene("HGNC:7908", "NPHS1"),
    ];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert!(outcome.misses.is_empty(), "{:?}", outcome.misses);

    let pkd1 = record(&outcome, "HGNC:9008");
    assert_eq!(pkd1.source, "hgnc");
    assert_eq!(pkd1.version, "2024-01-15");
    assert_eq!(
        pkd1.metadata,
        json!({"origin": BULK_URL, "batch_fetch": true, "retrieved_at": null})
    );
    let a = &pkd1.annotations;
    assert_eq!(a["hgnc_id"], "HGNC:9008");
    assert_eq!(a["symbol"], "PKD1");
    assert_eq!(
        a["name"],
        "polycystin 1, transient receptor potential channel interacting"
    );
    assert_eq!(a["status"], "Approved");
    assert_eq!(a["location"], "16p13.3");
    assert_eq!(a["locus_group"], "protein-coding gene");
    assert_eq!(a["locus_type"], "gene with protein product");
    // NCBI id a string (HGNC's `entrez_id`), as the offline rows store it.
    assert_eq!(a["ncbi_gene_id"], json!("5310"));
    assert_eq!(a["ensembl_gene_id"], "ENSG00000008710");
    assert_eq!(a["uniprot_ids"], json!(["P98161"]));
    assert_eq!(a["omim_ids"], json!(["601313"]));
    assert_eq!(a["alias_symbol"], json!(["PBP", "Pc-1", "TRPP1"]));
    assert_eq!(a["prev_symbol"], json!([]));
    assert_eq!(a["alias_name"], json!([]));
    assert_eq!(
        a["mane_select"],
        json!({"ensembl_transcript_id": "ENST00000262304.9", "refseq_transcript_id": "NM_001009944.3"})
    );
    assert_eq!(a["refseq_accession"], json!(["NM_001009944"]));
    // gene_group → gene_family (the original read the old names and stored []).
    assert_eq!(a["gene_family"], json!(["Polycystins"]));
    assert_eq!(a["gene_family_id"], json!(["1234"]));
    assert_eq!(a["pubmed_ids"], json!(["8004675"]));
    assert_eq!(a["orphanet_id"], json!(101234));
    assert_eq!(a["cosmic_id"], json!(null));
    assert!(a.get("_version_").is_none() && a.get("uuid").is_none());

    let col4a5 = &record(&outcome, "HGNC:2207").annotations;
    assert_eq!(col4a5["prev_symbol"], json!(["ASLN", "ATS"]), "sorted");
    assert_eq!(col4a5["ncbi_gene_id"], "1287");
    assert_eq!(col4a5["location"], "Xq22.3");
    assert_eq!(col4a5["uniprot_ids"], json!([]));
    assert_eq!(col4a5["mane_select"], json!(null));
    let nphs1 = &record(&outcome, "HGNC:7908").annotations;
    assert_eq!(nphs1["alias_symbol"], json!(["CNF", "NPHN"]));
    assert_eq!(nphs1["ensembl_gene_id"], "ENSG00000161270");
    assert_eq!(server.requests_to(BULK_URL).len(), 1);
}

#[tokio::test]
async fn a_gene_absent_from_the_set_is_not_found_and_a_malformed_record_fails_only_its_gene() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(complete_set())]);
    let genes = [
        gene("HGNC:9008", "PKD1"),
        gene("HGNC:99999", "NOTAGENE"),
        // The fixture's PKD2 has `entrez_id` as a list, not a string.
        gene("HGNC:9009", "PKD2"),
        gene("HGNC:7908", "NPHS1"),
    ];
    let outcome = HgncFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert_eq!(outcome.records.len(), 2);
    let (kind, why) = miss(&outcome, "HGNC:99999");
    assert_eq!(kind, MissKind::NotFound);
    assert!(why.contains("not in the HGNC complete set"), "{why}");
    let (kind, why) = miss(&outcome, "HGNC:9009");
    assert_eq!(kind, MissKind::Failed);
    assert!(why.contains("entrez_id"), "{why}");
    assert_eq!(
        record(&outcome, "HGNC:7908").annotations["ncbi_gene_id"],
        "4868"
    );
}

#[tokio::test]
async fn a_gene_is_matched_by_hgnc_id_first_then_by_symbol() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(complete_set())]);
    let genes = [
        // Its id is not in the set: the symbol finds HGNC:5.
        gene("HGNC:424242", "a1bg"),
        // A symbol another record now carries: NPHS1's record comes first in the file and
        // matches by symbol, PKD1's record matches by id later and wins.
        gene("HGNC:9008", "NPHS1"),
    ];
    let outcome = HgncFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    let a1bg = record(&outcome, "HGNC:424242");
    assert_eq!(a1bg.annotations["hgnc_id"], "HGNC:5");
    assert_eq!(a1bg.annotations["symbol"], "A1BG");
    assert_eq!(record(&outcome, "HGNC:9008").annotations["symbol"], "PKD1");
}

#[tokio::test]
async fn a_large_complete_set_streams_through_and_keeps_only_our_genes() {
    let (server, client) = setup().await;
    // 40,000 filler records (about 5 MB) around PKD1: many body chunks through the bridge.
    let mut body = String::from("{\"response\":{\"numFound\":40001,\"start\":0,\"docs\":[");
    for i in 0..40_000u32 {
        body.push_str(&format!(
            "{{\"hgnc_id\":\"HGNC:{}\",\"symbol\":\"FILLER{i}\",\"status\":\"Approved\",\"name\":\"filler record {i}\",\"alias_symbol\":[\"F{i}A\",\"F{i}B\"]}},",
            1_000_000 + i
        ));
    }
    let docs: serde_json::Value = serde_json::from_str(&complete_set()).unwrap();
    body.push_str(&docs["response"]["docs"][3].to_string());
    body.push_str("]},\"responseHeader\":{\"status\":0}}");
    assert!(body.len() > 4_000_000);
    server.script("GET", BULK_URL, vec![MockResponse::ok(body)]);
    let genes = [gene("HGNC:9008", "PKD1"), gene("HGNC:1000007", "FILLER7")];
    let outcome = HgncFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert_eq!(outcome.records.len(), 2);
    assert_eq!(
        record(&outcome, "HGNC:9008").annotations["ensembl_gene_id"],
        "ENSG00000008710"
    );
    assert_eq!(
        record(&outcome, "HGNC:1000007").annotations["alias_symbol"],
        json!(["F7A", "F7B"])
    );
}

#[tokio::test]
async fn refetching_unchanged_data_gives_identical_records() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(complete_set())]);
    let fetcher = HgncFetcher::new(client);
    let genes = [gene("HGNC:9008", "PKD1"), gene("HGNC:2207", "COL4A5")];
    let first = fetcher.fetch(&genes).await.unwrap();
    let second = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(first.records, second.records);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_file_is_read() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::ok(complete_set()),
        ],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = HgncFetcher::new(client)
        .with_rest_fallback_max(0)
        .fetch(&genes)
        .await
        .unwrap();
    assert_eq!(outcome.records.len(), 1);
    let log = server.requests_to(BULK_URL);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_503_is_retried_then_the_file_is_read() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![
            MockResponse::new(503, "busy"),
            MockResponse::ok(complete_set()),
        ],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = HgncFetcher::new(client)
        .with_rest_fallback_max(0)
        .fetch(&genes)
        .await
        .unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(server.requests_to(BULK_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk_even_with_the_fallback_down_too() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(500, "boom")]);
    server.script("GET", REST_9008, vec![MockResponse::new(500, "boom")]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = HgncFetcher::new(client).fetch(&genes).await.unwrap_err();
    assert_eq!(err.status_code(), Some(500), "{err}");
    assert_eq!(
        server.requests_to(BULK_URL).len(),
        4,
        "one try, three retries"
    );
    assert_eq!(server.requests_to(REST_9008).len(), 4);
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![MockResponse::ok(complete_set()).delayed(Duration::from_secs(2))],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = HgncFetcher::new(client)
        .with_rest_fallback_max(0)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert_eq!(server.requests_to(BULK_URL).len(), 4);
}

#[tokio::test]
async fn a_truncated_or_garbled_file_fails_the_chunk_never_a_partial_result() {
    let (server, client) = setup().await;
    let full = complete_set();
    // Cut after PKD1's record: every gene asked for has been seen, yet the file is broken.
    let cut = &full[..full.find("HGNC:9009").unwrap()];
    server.script("GET", BULK_URL, vec![MockResponse::ok(cut.to_string())]);
    let fetcher = HgncFetcher::new(client).with_rest_fallback_max(0);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = fetcher.fetch(&genes).await.unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("EOF"), "{err}");

    server.script(
        "GET",
        BULK_URL,
        vec![MockResponse::ok(r#"{"response": {"numFound": 0}}"#)],
    );
    let err = fetcher.fetch(&genes).await.unwrap_err();
    assert!(err.to_string().contains("no response.docs"), "{err}");
    server.script(
        "GET",
        BULK_URL,
        vec![MockResponse::ok("<html>moved</html>")],
    );
    assert!(fetcher.fetch(&genes).await.is_err());
}

#[tokio::test]
async fn a_failed_file_falls_back_to_rest_for_a_small_chunk() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(500, "boom")]);
    server.script(
        "GET",
        REST_9008,
        vec![MockResponse::ok(fixture(
            "hgnc/rest_fetch_hgnc_id_9008.json",
        ))],
    );
    let empty = fixture("hgnc/rest_fetch_empty.json");
    for url in [
        "https://rest.genenames.org/fetch/hgnc_id/99999",
        "https://rest.genenames.org/fetch/symbol/NOTAGENE",
    ] {
        server.script("GET", url, vec![MockResponse::ok(empty.clone())]);
    }
    let genes = [
        gene("HGNC:9008", "PKD1"),
        gene("HGNC:99999", "NOTAGENE"),
        gene("9008x", "BAD"),
    ];
    let outcome = HgncFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    let pkd1 = record(&outcome, "HGNC:9008");
    assert_eq!(pkd1.annotations["ncbi_gene_id"], "5310");
    assert_eq!(pkd1.annotations["uniprot_ids"], json!(["P98161"]));
    assert_eq!(pkd1.version, "2024-01-15");
    assert_eq!(
        pkd1.metadata,
        json!({"origin": REST_9008, "batch_fetch": false, "retrieved_at": null})
    );
    assert_eq!(miss(&outcome, "HGNC:99999").0, MissKind::NotFound);
    assert_eq!(miss(&outcome, "9008x").0, MissKind::Failed);
    assert_eq!(server.requests_to(REST_9008).len(), 1);
}

#[tokio::test]
async fn a_failed_file_on_a_large_chunk_is_an_error_without_rest_calls() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(500, "boom")]);
    let genes = [gene("HGNC:9008", "PKD1"), gene("HGNC:2207", "COL4A5")];
    let err = HgncFetcher::new(client)
        .with_rest_fallback_max(1)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert_eq!(
        server.requests().len(),
        4,
        "only the bulk file's four tries"
    );
}
