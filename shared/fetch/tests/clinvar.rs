//! The ClinVar client against the mock server: `variant_summary.txt.gz` streamed, its
//! failures, and the E-utilities fallback.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_fetch::sources::clinvar::{
    ClinvarConfig, ClinvarFetcher, EUTILS_URL, VARIANT_SUMMARY_URL,
};
use kgdb_fetch::{FetchError, HttpClient};
use serde_json::json;

const ESEARCH: &str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi";
const ESUMMARY: &str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esummary.fcgi";

fn summary_gz() -> Vec<u8> {
    gzip(&fixture("clinvar/variant_summary.txt"))
}

fn serve_file(server: &MockServer, body: Vec<u8>) {
    server.script("GET", VARIANT_SUMMARY_URL, vec![MockResponse::ok(body)]);
}

/// A fetcher that never falls back (the bulk file's own failures are under test).
fn bulk_only(client: HttpClient) -> ClinvarFetcher {
    ClinvarFetcher::with_config(
        client,
        ClinvarConfig {
            fallback_max_genes: 0,
            ..ClinvarConfig::default()
        },
    )
}

#[tokio::test]
async fn variant_summary_gives_counts_per_gene() {
    let (server, client) = setup().await;
    serve_file(&server, summary_gz());
    let fetcher = ClinvarFetcher::new(client);
    let empty = fetcher.fetch(&[]).await.unwrap();
    assert!(empty.records.is_empty() && empty.misses.is_empty());
    assert!(server.requests().is_empty(), "an empty chunk reads no file");
    assert_eq!(fetcher.source(), "clinvar");
    assert_eq!(fetcher.ttl_days(), 90);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);
    assert_eq!(EUTILS_URL, "https://eutils.ncbi.nlm.nih.gov/entrez/eutils");

    let genes = [pkd1(), pkd2(), nphs1(), col4a5()];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 2, "{:?}", outcome.misses);

    let a = annotations(&outcome, "HGNC:9008");
    assert_keys(
        a,
        &[
            ("gene_symbol", "string"),
            ("total_count", "int"),
            ("pathogenic_count", "int"),
            ("likely_pathogenic_count", "int"),
            ("vus_count", "int"),
            ("benign_count", "int"),
            ("likely_benign_count", "int"),
            ("conflicting_count", "int"),
            ("not_provided_count", "int"),
            ("high_confidence_count", "int"),
            ("high_confidence_percentage", "float"),
            ("pathogenic_percentage", "float"),
            ("has_pathogenic", "bool"),
            ("variant_type_counts", "object"),
            ("molecular_consequences", "object"),
            ("consequence_categories", "object"),
            ("protein_variants", "array"),
            ("genomic_variants", "array"),
            ("top_molecular_consequences", "array"),
            ("top_traits", "array"),
        ],
    );
    // GRCh38 rows only; the two alleles of VariationID 431918 count once; the TSC2;PKD1
    // copy-number loss counts for PKD1.
    assert_eq!(a["gene_symbol"], "PKD1");
    assert_eq!(a["total_count"], 6);
    assert_eq!(a["pathogenic_count"], 3, "P, P/LP and the deletion");
    assert_eq!(a["likely_pathogenic_count"], 1);
    assert_eq!(a["vus_count"], 1);
    assert_eq!(a["benign_count"], 1);
    assert_eq!(a["likely_benign_count"], 0);
    assert_eq!(a["conflicting_count"], 0);
    assert_eq!(a["not_provided_count"], 0);
    assert_eq!(
        a["high_confidence_count"], 3,
        "two multi-submitter, one expert panel"
    );
    assert_eq!(a["high_confidence_percentage"], 50.0);
    assert_eq!(a["pathogenic_percentage"], 66.7);
    assert_eq!(a["has_pathogenic"], true);
    assert_eq!(
        a["variant_type_counts"],
        json!({"single nucleotide variant": 4, "Deletion": 1, "copy number loss": 1})
    );
    assert_eq!(
        a["consequence_categories"],
        json!({"truncating": 2, "missense": 1, "inframe": 0, "splice_region": 0,
               "regulatory": 0, "intronic": 1, "synonymous": 1, "other": 1})
    );
    assert_eq!(a["molecular_consequences"]["nonsense"], 1);
    assert_eq!(a["molecular_consequences"]["frameshift variant"], 1);
    assert_eq!(a["molecular_consequences"]["intron variant"], 1);
    assert_eq!(a["top_molecular_consequences"].as_array().unwrap().len(), 6);
    assert_eq!(
        a["top_traits"][0],
        json!({"trait": "Polycystic kidney disease, adult type", "count": 4})
    );
    assert_eq!(
        a["top_traits"][1],
        json!({"trait": "Tuberous sclerosis 2", "count": 1})
    );
    assert_eq!(
        a["top_traits"].as_array().unwrap().len(),
        2,
        "not provided/specified dropped"
    );

    // Four variants name a protein position, all six a GRCh38 position.
    let protein = a["protein_variants"].as_array().unwrap();
    assert_eq!(protein.len(), 4);
    let first = &protein[0];
    assert_eq!(first["position"], 4228);
    assert_eq!(first["protein_change"], "p.Gln4228Ter");
    assert_eq!(first["cdna_change"], "c.12682C>T");
    assert_eq!(first["accession"], "VCV000431914");
    assert_eq!(first["classification"], "Pathogenic");
    assert_eq!(first["category"], "pathogenic");
    assert_eq!(first["effect_category"], "truncating");
    assert_eq!(first["confidence"], 3);
    assert_eq!(first["molecular_consequences"], json!(["nonsense"]));
    assert_eq!(first["chromosome"], "16");
    assert_eq!(
        first["genomic_start"], 2090000,
        "the GRCh38 row, not GRCh37's 2140002"
    );
    let genomic = a["genomic_variants"].as_array().unwrap();
    assert_eq!(genomic.len(), 6);
    assert_eq!(genomic[5]["variant_type"], "copy number loss");
    assert_eq!(genomic[5]["position"], serde_json::Value::Null);
    assert_eq!(genomic[5]["genomic_end"], 2140000);

    // PKD2: one row by HGNC id, one by GeneID alone.
    let b = annotations(&outcome, "HGNC:9009");
    assert_eq!(b["total_count"], 2);
    assert_eq!(b["pathogenic_count"], 1);
    assert_eq!(b["conflicting_count"], 1);
    assert_eq!(b["pathogenic_percentage"], 50.0);
    assert_eq!(b["high_confidence_count"], 0);

    // NPHS1 has a GRCh37 row only; COL4A5 none.
    for absent in ["HGNC:7908", "HGNC:2207"] {
        assert_eq!(miss(&outcome, absent).0, MissKind::NotFound);
    }

    let record = outcome
        .records
        .iter()
        .find(|r| r.hgnc_id == "HGNC:9008")
        .unwrap();
    assert_eq!(record.source, "clinvar");
    assert!(record.version.len() <= 20);
    assert_eq!(
        record.metadata,
        json!({"origin": VARIANT_SUMMARY_URL, "batch_fetch": true, "retrieved_at": null})
    );

    // Unchanged data, unchanged records: nothing depends on when it was fetched.
    let again = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(again.records, outcome.records);
}

#[tokio::test]
async fn a_malformed_row_fails_only_its_gene() {
    let (server, client) = setup().await;
    let text = fixture("clinvar/variant_summary.txt").replace("\t431920\t", "\t4319x0\t");
    serve_file(&server, gzip(&text));
    let outcome = bulk_only(client).fetch(&[pkd1(), pkd2()]).await.unwrap();
    let (kind, reason) = miss(&outcome, "HGNC:9009");
    assert_eq!(kind, MissKind::Failed);
    assert!(
        reason.contains("VariationID") && reason.contains("4319x0"),
        "{reason}"
    );
    assert!(reason.contains("line "), "{reason}");
    assert_eq!(annotations(&outcome, "HGNC:9008")["total_count"], 6);
    assert_eq!(outcome.records.len(), 1);
}

#[tokio::test]
async fn a_row_with_missing_fields_fails_its_gene() {
    let (server, client) = setup().await;
    let text = fixture("clinvar/variant_summary.txt");
    let cut: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains("(PKD2):c.1445T>G") {
                l.split('\t').take(20).collect::<Vec<_>>().join("\t")
            } else {
                l.to_string()
            }
        })
        .collect();
    serve_file(&server, gzip(&(cut.join("\n") + "\n")));
    let outcome = bulk_only(client).fetch(&[pkd1(), pkd2()]).await.unwrap();
    let (kind, reason) = miss(&outcome, "HGNC:9009");
    assert_eq!(kind, MissKind::Failed);
    assert!(
        reason.contains("20 fields where the header has 43"),
        "{reason}"
    );
    assert_eq!(annotations(&outcome, "HGNC:9008")["total_count"], 6);
}

#[tokio::test]
async fn a_header_without_a_needed_column_fails_the_chunk() {
    let (server, client) = setup().await;
    let text = fixture("clinvar/variant_summary.txt").replacen("ReviewStatus", "Review", 1);
    serve_file(&server, gzip(&text));
    let err = bulk_only(client).fetch(&[pkd1()]).await.unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("ReviewStatus"), "{err}");
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_reads_the_file() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        VARIANT_SUMMARY_URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::ok(summary_gz()),
        ],
    );
    let outcome = bulk_only(client).fetch(&[pkd1()]).await.unwrap();
    assert_eq!(annotations(&outcome, "HGNC:9008")["total_count"], 6);
    let log = server.requests_to(VARIANT_SUMMARY_URL);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_503_is_retried() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        VARIANT_SUMMARY_URL,
        vec![
            MockResponse::new(503, "busy"),
            MockResponse::ok(summary_gz()),
        ],
    );
    let outcome = bulk_only(client).fetch(&[pkd1()]).await.unwrap();
    assert_eq!(annotations(&outcome, "HGNC:9008")["total_count"], 6);
    assert_eq!(server.requests_to(VARIANT_SUMMARY_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        VARIANT_SUMMARY_URL,
        vec![MockResponse::new(500, "boom")],
    );
    // A chunk above the fallback's cut-off: no E-utilities call.
    let fetcher = ClinvarFetcher::with_config(
        client.clone(),
        ClinvarConfig {
            fallback_max_genes: 1,
            ..ClinvarConfig::default()
        },
    );
    let err = fetcher.fetch(&[pkd1(), pkd2()]).await.unwrap_err();
    assert_status(&err, 500);
    assert_eq!(server.requests_to(VARIANT_SUMMARY_URL).len(), 4);
    assert!(server.requests_to(ESEARCH).is_empty());

    // A small chunk falls back, and E-utilities failing too fails it.
    server.script("GET", ESEARCH, vec![MockResponse::new(502, "bad gateway")]);
    let err = fetcher.fetch(&[pkd1()]).await.unwrap_err();
    assert_status(&err, 502);
    assert_eq!(server.requests_to(ESEARCH).len(), 4);
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        VARIANT_SUMMARY_URL,
        vec![MockResponse::ok(summary_gz()).delayed(Duration::from_secs(2))],
    );
    let err = bulk_only(client).fetch(&[pkd1()]).await.unwrap_err();
    assert_timeout(&err);
}

#[tokio::test]
async fn a_truncated_gzip_fails_the_chunk() {
    let (server, client) = setup().await;
    // Enough rows that half of the stream holds complete PKD1 lines: still no partial result.
    let mut text = fixture("clinvar/variant_summary.txt");
    let rows: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
    for _ in 0..300 {
        for row in &rows {
            text.push_str(row);
            text.push('\n');
        }
    }
    serve_file(&server, truncated(&gzip(&text)));
    let err = bulk_only(client).fetch(&[pkd1()]).await.unwrap_err();
    assert_stream_broken(&err);
}

#[tokio::test]
async fn the_eutils_fallback_serves_a_small_chunk_through_rate_limits() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        VARIANT_SUMMARY_URL,
        vec![MockResponse::new(500, "boom")],
    );
    let rate_limit = fixture("clinvar/rate_limit.json");
    let searches = Arc::new(AtomicUsize::new(0));
    let (calls, body) = (searches.clone(), rate_limit.clone());
    server.route("GET", ESEARCH, move |req| {
        let query = req.query.clone().unwrap_or_default();
        if !(query.contains("db=clinvar") && query.contains("retmode=json")) {
            return MockResponse::new(400, format!("unexpected query {query}"));
        }
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            // NCBI's 429, with its JSON body.
            return MockResponse::new(429, body.clone())
                .header("content-type", "application/json")
                .header("Retry-After", "1");
        }
        if query.contains("term=PKD1%5Bgene%5D") {
            MockResponse::json(&json_fixture("clinvar/esearch_pkd1.json"))
        } else {
            MockResponse::json(&json_fixture("clinvar/esearch_empty.json"))
        }
    });
    // The same rate-limit body under HTTP 200, then the summary.
    server.script(
        "POST",
        ESUMMARY,
        vec![
            MockResponse::ok(rate_limit).header("content-type", "application/json"),
            MockResponse::json(&json_fixture("clinvar/esummary_pkd1.json")),
        ],
    );
    let fetcher = ClinvarFetcher::with_config(
        client,
        ClinvarConfig {
            rate_limit_pause: Duration::from_millis(50),
            ..ClinvarConfig::default()
        },
    );
    let outcome = fetcher.fetch(&[pkd1(), col4a5()]).await.unwrap();
    let a = annotations(&outcome, "HGNC:9008");
    assert_eq!(a["total_count"], 1);
    assert_eq!(a["pathogenic_count"], 1);
    assert_eq!(a["high_confidence_count"], 1);
    assert_eq!(a["has_pathogenic"], true);
    assert_eq!(a["molecular_consequences"], json!({"nonsense": 1}));
    assert_eq!(
        a["top_traits"],
        json!([{"trait": "Polycystic kidney disease, adult type", "count": 1}])
    );
    let variant = &a["genomic_variants"][0];
    assert_eq!(
        variant["genomic_start"], 2090001,
        "esummary's GRCh38 location"
    );
    assert_eq!(variant["accession"], "VCV000431914");
    assert_eq!(a["protein_variants"][0]["position"], 4228);
    assert_eq!(miss(&outcome, "HGNC:2207").0, MissKind::NotFound);
    let record = &outcome.records[0];
    assert_eq!(record.metadata["origin"], ESUMMARY);
    assert_eq!(record.metadata["batch_fetch"], false);

    let search_log = server.requests_to(ESEARCH);
    assert_eq!(search_log.len(), 3, "429, PKD1, COL4A5");
    assert!(search_log[1].at - search_log[0].at >= Duration::from_millis(950));
    let summary_log = server.requests_to(ESUMMARY);
    assert_eq!(summary_log.len(), 2, "the 200 rate-limit body was repeated");
    let form = String::from_utf8_lossy(&summary_log[1].body).to_string();
    assert!(
        form.contains("id=431914") && form.contains("db=clinvar"),
        "{form}"
    );
}

#[tokio::test]
async fn a_malformed_esummary_record_fails_its_gene() {
    let (server, client) = setup().await;
    server.script(
        "GET",
        VARIANT_SUMMARY_URL,
        vec![MockResponse::new(404, "gone")],
    );
    server.script(
        "GET",
        ESEARCH,
        vec![MockResponse::json(&json_fixture(
            "clinvar/esearch_pkd1.json",
        ))],
    );
    let mut summary = json_fixture("clinvar/esummary_pkd1.json");
    summary["result"]["431914"]["variation_set"][0]["variation_loc"][0]["start"] = json!("2O90001");
    server.script("POST", ESUMMARY, vec![MockResponse::json(&summary)]);
    let outcome = ClinvarFetcher::new(client).fetch(&[pkd1()]).await.unwrap();
    let (kind, reason) = miss(&outcome, "HGNC:9008");
    assert_eq!(kind, MissKind::Failed);
    assert!(
        reason.contains("431914") && reason.contains("start"),
        "{reason}"
    );
    assert!(outcome.records.is_empty());
}

#[tokio::test]
async fn fetch_each_hands_over_the_same_records_one_at_a_time() {
    let (server, client) = setup().await;
    serve_file(&server, summary_gz());
    let fetcher = ClinvarFetcher::new(client);
    let genes = [pkd1(), pkd2(), nphs1(), col4a5()];
    let collected = fetcher.fetch(&genes).await.unwrap();
    // A channel of one: the fetcher waits for each record to be taken before building the next.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let taker = tokio::spawn(async move {
        let mut records = Vec::new();
        while let Some(record) = rx.recv().await {
            records.push(record);
        }
        records
    });
    let misses = fetcher.fetch_each(&genes, &tx).await.unwrap();
    drop(tx);
    let streamed = taker.await.unwrap();
    assert_eq!(
        streamed, collected.records,
        "the variant details read back from the spill file"
    );
    assert_eq!(misses, collected.misses);
    assert!(
        streamed.iter().any(|r| r.annotations["protein_variants"]
            .as_array()
            .is_some_and(|v| !v.is_empty())),
        "the fixture has variant details"
    );
    // A writer that stopped ends the fetch with an error, not a hang.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    drop(rx);
    assert!(fetcher.fetch_each(&genes, &tx).await.is_err());
}
