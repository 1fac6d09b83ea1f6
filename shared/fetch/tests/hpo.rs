//! The HPO client against the mock server: the kidney descendants from the JAX API once per
//! chunk, `genes_to_phenotype.txt` through its PURL redirect, and what each failure ends in.

mod common;

use std::time::Duration;

use common::*;
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_fetch::sources::hpo::{GENES_TO_PHENOTYPE_URL, HpoConfig, HpoFetcher, KIDNEY_ROOTS};
use serde_json::json;

/// Where the PURL sends the file (illustrative: HPO's release download).
const RELEASE_URL: &str = "https://github.com/obophenotype/human-phenotype-ontology/releases/latest/download/genes_to_phenotype.txt";

fn descendants_url(root: &str) -> String {
    format!("https://ontology.jax.org/api/hp/terms/{root}/descendants")
}

fn serve_ontology(server: &MockServer) {
    for root in KIDNEY_ROOTS {
        let body = fixture(&format!("hpo/descendants_{}.json", root.replace(':', "_")));
        server.script(
            "GET",
            &descendants_url(root),
            vec![MockResponse::ok(body).header("content-type", "application/json")],
        );
    }
}

fn serve_file(server: &MockServer, text: &str) {
    server.script(
        "GET",
        GENES_TO_PHENOTYPE_URL,
        vec![MockResponse::new(302, "").header("Location", RELEASE_URL)],
    );
    server.script("GET", RELEASE_URL, vec![MockResponse::ok(text.to_string())]);
}

fn file() -> String {
    fixture("hpo/genes_to_phenotype.txt")
}

#[tokio::test]
async fn phenotypes_diseases_and_kidney_phenotypes() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    serve_file(&server, &file());
    let fetcher = HpoFetcher::new(client);
    let empty = fetcher.fetch(&[]).await.unwrap();
    assert!(empty.records.is_empty() && empty.misses.is_empty());
    assert!(server.requests().is_empty(), "an empty chunk reads no file");
    assert_eq!(fetcher.source(), "hpo");
    assert_eq!(fetcher.ttl_days(), 90);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);

    let genes = [pkd1(), pkd2(), nphs1(), col4a5()];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 3, "{:?}", outcome.misses);

    let a = annotations(&outcome, "HGNC:9008");
    assert_keys(
        a,
        &[
            ("gene_symbol", "string"),
            ("ncbi_gene_id", "string"),
            ("has_hpo_data", "bool"),
            ("phenotypes", "array"),
            ("phenotype_count", "int"),
            ("diseases", "array"),
            ("disease_count", "int"),
            ("kidney_phenotypes", "array"),
            ("kidney_phenotype_count", "int"),
            ("has_kidney_phenotype", "bool"),
            ("classification", "object"),
        ],
    );
    assert_eq!(a["gene_symbol"], "PKD1");
    assert_eq!(a["ncbi_gene_id"], "5310");
    assert_eq!(a["has_hpo_data"], true);
    assert_eq!(
        a["phenotypes"],
        json!([
            {"id": "HP:0000083", "name": "Renal insufficiency"},
            {"id": "HP:0000107", "name": "Renal cyst"},
            {"id": "HP:0000113", "name": "Polycystic kidney dysplasia"},
            {"id": "HP:0001407", "name": "Hepatic cyst"},
        ])
    );
    assert_eq!(
        a["phenotype_count"], 4,
        "HP:0000107 twice in the file, once here"
    );
    assert_eq!(
        a["diseases"],
        json!([
            {"id": "OMIM:173900", "name": null, "db": "OMIM", "dbId": "173900"},
            {"id": "ORPHA:730", "name": null, "db": "ORPHA", "dbId": "730"},
        ])
    );
    assert_eq!(a["disease_count"], 2);
    // Hepatic cyst is no descendant of the kidney roots.
    let kidney: Vec<_> = a["kidney_phenotypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kidney, ["HP:0000083", "HP:0000107", "HP:0000113"]);
    assert_eq!(a["kidney_phenotype_count"], 3);
    assert_eq!(a["has_kidney_phenotype"], true);
    assert_eq!(
        a["classification"],
        json!({
            "clinical_group": {"primary": null, "scores": null, "supporting_terms": null},
            "onset_group": {"primary": null, "scores": null},
            "syndromic_assessment": {"is_syndromic": null, "syndromic_score": null,
                "category_scores": null, "extra_renal_categories": null,
                "extra_renal_term_counts": null}
        })
    );

    // HP:0000079 is a root itself (no other root's descendant): roots count as kidney terms.
    let b = annotations(&outcome, "HGNC:9009");
    assert_eq!(b["phenotype_count"], 3);
    assert_eq!(b["kidney_phenotype_count"], 2);
    // Proteinuria is under HP:0000079 (the urinary system) only: all four roots count.
    let c = annotations(&outcome, "HGNC:7908");
    assert_eq!(c["kidney_phenotype_count"], 2);
    assert_eq!(c["diseases"][0]["id"], "OMIM:256300");

    assert_eq!(miss(&outcome, "HGNC:2207").0, MissKind::NotFound);
    let record = &outcome.records[0];
    assert_eq!(record.source, "hpo");
    assert_eq!(
        record.metadata,
        json!({"origin": GENES_TO_PHENOTYPE_URL, "batch_fetch": true, "retrieved_at": null})
    );
    // The ontology once per chunk, the file through its redirect.
    for root in KIDNEY_ROOTS {
        assert_eq!(server.requests_to(&descendants_url(root)).len(), 1);
    }
    assert_eq!(server.requests_to(RELEASE_URL).len(), 1);
    let again = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(again.records, outcome.records);
}

#[tokio::test]
async fn a_gene_known_by_symbol_only_and_a_malformed_row() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    let text = file().replace("HP:0000093\tProteinuria", "HP:00OOO93\tProteinuria");
    serve_file(&server, &text);
    let mut pkd2 = pkd2();
    pkd2.ncbi_gene_id = None;
    let outcome = HpoFetcher::new(client)
        .fetch(&[pkd1(), pkd2, nphs1()])
        .await
        .unwrap();
    let (kind, reason) = miss(&outcome, "HGNC:7908");
    assert_eq!(kind, MissKind::Failed);
    assert!(
        reason.contains("line 12") && reason.contains("HP:00OOO93"),
        "{reason}"
    );
    assert_eq!(annotations(&outcome, "HGNC:9008")["phenotype_count"], 4);
    let b = annotations(&outcome, "HGNC:9009");
    assert_eq!(b["ncbi_gene_id"], "5311", "from the file");
    assert_eq!(outcome.records.len(), 2);
}

#[tokio::test]
async fn a_header_without_a_needed_column_fails_the_chunk() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    serve_file(&server, &file().replacen("disease_id", "disease", 1));
    let err = HpoFetcher::new(client).fetch(&[pkd1()]).await.unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("disease_id"), "{err}");
}

#[tokio::test]
async fn an_ontology_answer_that_is_not_an_array_fails_the_chunk() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    serve_file(&server, &file());
    server.script(
        "GET",
        &descendants_url("HP:0012210"),
        vec![MockResponse::json(&json!({"error": "unknown term"}))],
    );
    let err = HpoFetcher::new(client).fetch(&[pkd1()]).await.unwrap_err();
    assert!(err.to_string().contains("not a JSON array"), "{err}");
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    serve_file(&server, &file());
    let url = descendants_url("HP:0000077");
    server.script(
        "GET",
        &url,
        vec![
            MockResponse::new(429, "too many").header("Retry-After", "1"),
            MockResponse::ok(fixture("hpo/descendants_HP_0000077.json")),
        ],
    );
    let outcome = HpoFetcher::new(client).fetch(&[pkd1()]).await.unwrap();
    assert_eq!(
        annotations(&outcome, "HGNC:9008")["kidney_phenotype_count"],
        3
    );
    let log = server.requests_to(&url);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_503_is_retried() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    serve_file(&server, &file());
    server.script(
        "GET",
        RELEASE_URL,
        vec![MockResponse::new(503, "busy"), MockResponse::ok(file())],
    );
    let outcome = HpoFetcher::new(client).fetch(&[pkd1()]).await.unwrap();
    assert_eq!(annotations(&outcome, "HGNC:9008")["phenotype_count"], 4);
    assert_eq!(server.requests_to(RELEASE_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    serve_file(&server, &file());
    server.script("GET", RELEASE_URL, vec![MockResponse::new(500, "boom")]);
    let err = HpoFetcher::new(client).fetch(&[pkd1()]).await.unwrap_err();
    assert_status(&err, 500);
    assert_eq!(server.requests_to(RELEASE_URL).len(), 4);
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    serve_file(&server, &file());
    server.script(
        "GET",
        &descendants_url("HP:0010935"),
        vec![MockResponse::ok("[]").delayed(Duration::from_secs(2))],
    );
    let err = HpoFetcher::new(client).fetch(&[pkd1()]).await.unwrap_err();
    assert_timeout(&err);
}

#[tokio::test]
async fn a_download_cut_short_fails_the_chunk() {
    let (server, client) = setup().await;
    serve_ontology(&server);
    // The real file is plain text: a transfer that stops after PKD1's rows is an error, not a
    // file without the other genes.
    let text = file();
    let cut = text.find("5311\tPKD2").unwrap();
    serve_file(&server, &text);
    server.script(
        "GET",
        RELEASE_URL,
        vec![MockResponse::ok(text.clone()).cut_after(cut)],
    );
    let err = HpoFetcher::new(client.clone())
        .fetch(&[pkd1(), pkd2()])
        .await
        .unwrap_err();
    assert_stream_broken(&err);

    // A gzipped mirror (the URL is configuration) cut short is an error too.
    let mirror = "https://mirror.example.org/hpoa/genes_to_phenotype.txt.gz";
    let mut long = text.clone();
    for _ in 0..500 {
        long.push_str("7369\tUMOD\tHP:0000083\tRenal insufficiency\t-\tOMIM:162000\n");
    }
    server.script(
        "GET",
        mirror,
        vec![MockResponse::ok(truncated(&gzip(&long)))],
    );
    let fetcher = HpoFetcher::with_config(
        client,
        HpoConfig {
            genes_to_phenotype_url: mirror.to_string(),
            ..HpoConfig::default()
        },
    );
    let err = fetcher.fetch(&[pkd1()]).await.unwrap_err();
    assert_stream_broken(&err);
}
