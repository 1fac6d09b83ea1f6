//! The gnomad fetcher against the scripted server: the v4.1 constraint TSV (trimmed, real
//! header), its failures, and the GraphQL fallback with the server's 400 rate limit.

mod common;

use std::time::Duration;

use common::{assert_accounted, fixture, gene, miss, record, setup, with_ensembl};
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, MissKind};
use kgdb_fetch::mock::MockResponse;
use kgdb_fetch::sources::gnomad::{BULK_URL, GRAPHQL_URL, GnomadFetcher};
use serde_json::json;

fn tsv() -> String {
    fixture("gnomad/gnomad.v4.1.constraint_metrics.tsv")
}

#[tokio::test]
async fn the_constraint_file_gives_each_gene_its_canonical_ensembl_row() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(tsv())]);
    let fetcher = GnomadFetcher::new(client);
    assert_eq!(fetcher.source(), "gnomad");
    assert_eq!(fetcher.ttl_days(), 90);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);
    let genes = [
        // By Ensembl id (versioned), whatever the symbol.
        with_ensembl(gene("HGNC:9008", "PKD1"), "ENSG00000008710.21"),
        gene("HGNC:2207", "COL4A5"),
        gene("HGNC:7908", "NPHS1"),
    ];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert!(outcome.misses.is_empty(), "{:?}", outcome.misses);

    let pkd1 = record(&outcome, "HGNC:9008");
    assert_eq!(pkd1.source, "gnomad");
    assert_eq!(pkd1.version, "v4.1.0");
    assert_eq!(
        pkd1.metadata,
        json!({"origin": BULK_URL, "batch_fetch": true, "retrieved_at": null})
    );
    let a = &pkd1.annotations;
    // The canonical + MANE Ensembl row, not the non-canonical one before it nor the RefSeq
    // row after it (which the original's "last canonical row wins" kept).
    assert_eq!(a["canonical_transcript"], "ENST00000262304");
    assert_eq!(a["pli"], json!(1.0));
    assert!(a.get("pLI").is_none(), "the key is pli, lower case");
    assert_eq!(a["lof_z"], json!(9.9605));
    assert_eq!(a["mis_z"], json!(-4.3234));
    assert_eq!(a["syn_z"], json!(-1.1));
    assert_eq!(a["oe_lof"], json!(0.12051));
    assert_eq!(a["oe_lof_lower"], json!(0.36));
    assert_eq!(a["oe_lof_upper"], json!(0.49));
    assert_eq!(a["oe_mis"], json!(0.84));
    assert_eq!(a["oe_mis_lower"], json!(0.81));
    assert_eq!(a["oe_mis_upper"], json!(0.86));
    assert_eq!(a["oe_syn"], json!(1.05));
    assert_eq!(a["oe_syn_lower"], json!(1.0));
    assert_eq!(a["oe_syn_upper"], json!(1.1));
    assert_eq!(a["obs_lof"], json!(106), "counts are integers");
    assert!(a["obs_lof"].is_u64());
    assert_eq!(a["exp_lof"], json!(251.4));
    assert_eq!(a["obs_mis"], json!(2403));
    assert_eq!(a["exp_syn"], json!(1290.5));
    assert_eq!(a["flags"], json!([]));
    assert_eq!(a["gene_symbol"], "PKD1");
    assert_eq!(a["source_version"], "gnomad_v4.1");

    let col4a5 = &record(&outcome, "HGNC:2207").annotations;
    assert_eq!(col4a5["pli"], json!(1.0));
    assert_eq!(col4a5["lof_z"], json!(6.5869));
    assert_eq!(col4a5["mis_z"], json!(2.4995));
    assert_eq!(col4a5["oe_lof"], json!(0.09686));
    let nphs1 = &record(&outcome, "HGNC:7908").annotations;
    assert_eq!(nphs1["pli"], json!(0.0));
    assert_eq!(nphs1["oe_lof"], json!(0.52087));
    assert_eq!(nphs1["flags"], json!(["no_exp_mis", "outlier_mis"]));
}

#[tokio::test]
async fn absent_genes_are_not_found_and_a_malformed_row_fails_only_its_gene() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::ok(tsv())]);
    let genes = [
        gene("HGNC:9008", "PKD1"),
        gene("HGNC:99999", "NOTAGENE"),
        // Its canonical row has NA for every constraint value.
        gene("HGNC:14825", "OR4F5"),
        // Its pLI is "high".
        gene("HGNC:9009", "PKD2"),
    ];
    let outcome = GnomadFetcher::new(client).fetch(&genes).await.unwrap();
    assert_accounted(&outcome, &genes);
    assert_eq!(record(&outcome, "HGNC:9008").annotations["pli"], 1.0);
    for absent in ["HGNC:99999", "HGNC:14825"] {
        let (kind, why) = miss(&outcome, absent);
        assert_eq!(kind, MissKind::NotFound);
        assert!(why.starts_with("constraint_not_available"), "{why}");
    }
    let (kind, why) = miss(&outcome, "HGNC:9009");
    assert_eq!(kind, MissKind::Failed);
    assert!(why.contains("lof.pLI") && why.contains("high"), "{why}");
}

#[tokio::test]
async fn a_header_without_a_needed_column_fails_the_chunk() {
    let (server, client) = setup().await;
    let broken = tsv().replacen("lof.pLI", "lof.pli_renamed", 1);
    server.script("GET", BULK_URL, vec![MockResponse::ok(broken)]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let fetcher = GnomadFetcher::new(client).with_graphql_fallback_max(0);
    let err = fetcher.fetch(&genes).await.unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("lof.pLI"), "{err}");
    server.script("GET", BULK_URL, vec![MockResponse::ok("")]);
    let err = fetcher.fetch(&genes).await.unwrap_err();
    assert!(err.to_string().contains("empty file"), "{err}");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_file_is_read() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::ok(tsv()),
        ],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = GnomadFetcher::new(client)
        .with_graphql_fallback_max(0)
        .fetch(&genes)
        .await
        .unwrap();
    assert_eq!(outcome.records.len(), 1);
    let log = server.requests_to(BULK_URL);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_502_is_retried_then_the_file_is_read() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![
            MockResponse::new(502, "bad gateway"),
            MockResponse::ok(tsv()),
        ],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let outcome = GnomadFetcher::new(client)
        .with_graphql_fallback_max(0)
        .fetch(&genes)
        .await
        .unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(server.requests_to(BULK_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(500, "boom")]);
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = GnomadFetcher::new(client)
        .with_graphql_fallback_max(0)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert_eq!(server.requests_to(BULK_URL).len(), 4);
    assert!(server.requests_to(GRAPHQL_URL).is_empty());
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        BULK_URL,
        vec![MockResponse::ok(tsv()).delayed(Duration::from_secs(2))],
    );
    let genes = [gene("HGNC:9008", "PKD1")];
    let err = GnomadFetcher::new(client)
        .with_graphql_fallback_max(0)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn a_failed_file_falls_back_to_graphql_for_a_small_chunk() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(500, "boom")]);
    let pkd1 = fixture("gnomad/graphql_pkd1.json");
    let not_found = fixture("gnomad/graphql_not_found.json");
    let no_constraint = fixture("gnomad/graphql_no_constraint.json");
    server.route("POST", GRAPHQL_URL, move |req| {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        let vars = &body["variables"];
        assert_eq!(vars["reference_genome"], "GRCh38");
        assert!(
            body["query"]
                .as_str()
                .unwrap()
                .contains("gnomad_constraint")
        );
        let answer = if vars["gene_id"] == "ENSG00000008710" {
            &pkd1
        } else if vars["gene_symbol"] == "OR4F5" {
            &no_constraint
        } else {
            &not_found
        };
        MockResponse::ok(answer.clone()).header("content-type", "application/json")
    });
    let genes = [
        with_ensembl(gene("HGNC:9008", "PKD1"), "ENSG00000008710.21"),
        gene("HGNC:99999", "NOTAGENE"),
        gene("HGNC:14825", "OR4F5"),
    ];
    let outcome = GnomadFetcher::new(client.clone())
        .fetch(&genes)
        .await
        .unwrap();
    assert_accounted(&outcome, &genes);
    let pkd1 = record(&outcome, "HGNC:9008");
    assert_eq!(
        pkd1.metadata,
        json!({"origin": GRAPHQL_URL, "batch_fetch": false, "retrieved_at": null})
    );
    let a = &pkd1.annotations;
    assert_eq!(a["pli"], json!(0.0));
    assert_eq!(a["oe_lof"], json!(0.42));
    assert_eq!(a["obs_lof"], json!(106));
    assert_eq!(a["canonical_transcript"], "ENST00000262304");
    assert_eq!(a["gene_symbol"], "PKD1");
    assert_eq!(a["flags"], json!([]));
    // The same keys as a bulk row.
    server.script("GET", BULK_URL, vec![MockResponse::ok(tsv())]);
    let bulk = GnomadFetcher::new(client).fetch(&genes[..1]).await.unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(a), keys(&bulk.records[0].annotations));
    for absent in ["HGNC:99999", "HGNC:14825"] {
        let (kind, why) = miss(&outcome, absent);
        assert_eq!(kind, MissKind::NotFound);
        assert!(why.starts_with("constraint_not_available"), "{why}");
    }
    assert_eq!(server.requests_to(GRAPHQL_URL).len(), 3);
}

#[tokio::test]
async fn graphqls_400_rate_limit_is_waited_out_then_retried_and_reported_as_transient() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(503, "down")]);
    let limited = MockResponse::new(400, fixture("gnomad/graphql_rate_limited.json"))
        .header("content-type", "application/json");
    server.script(
        "POST",
        GRAPHQL_URL,
        vec![
            limited.clone(),
            MockResponse::json(
                &serde_json::from_str(&fixture("gnomad/graphql_pkd1.json")).unwrap(),
            ),
        ],
    );
    let genes = [with_ensembl(gene("HGNC:9008", "PKD1"), "ENSG00000008710")];
    let fetcher = GnomadFetcher::new(client).with_rate_limit_wait(Duration::from_millis(200), 2);
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    let log = server.requests_to(GRAPHQL_URL);
    assert_eq!(
        log.len(),
        2,
        "the 400 is not retried by the client, once by the fetcher"
    );
    assert!(log[1].at - log[0].at >= Duration::from_millis(190));

    // Rate limited for good: a transient chunk error (mapped to 429), not a gene "not found".
    server.script("POST", GRAPHQL_URL, vec![limited]);
    server.clear_log();
    let err = fetcher.fetch(&genes).await.unwrap_err();
    assert_eq!(err.status_code(), Some(429), "{err}");
    assert!(err.is_transient());
    assert!(err.to_string().contains("rate limit"), "{err}");
    assert_eq!(server.requests_to(GRAPHQL_URL).len(), 3);
}

#[tokio::test]
async fn a_failed_file_on_a_large_chunk_is_an_error_without_graphql_calls() {
    let (server, client) = setup().await;
    server.script("GET", BULK_URL, vec![MockResponse::new(500, "boom")]);
    let genes = [gene("HGNC:9008", "PKD1"), gene("HGNC:2207", "COL4A5")];
    let err = GnomadFetcher::new(client)
        .with_graphql_fallback_max(1)
        .fetch(&genes)
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert!(server.requests_to(GRAPHQL_URL).is_empty());
}
