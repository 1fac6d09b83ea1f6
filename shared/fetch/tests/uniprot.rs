//! The uniprot fetcher against the scripted local server: the ID-mapping job (RUNNING → 303 →
//! results paged by `Link`), `failedIds`, reviewed-entry choice, a malformed entry, the
//! OR-query fallback, and what each provider failure ends in.

use std::collections::HashMap;
use std::time::Duration;

use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, GeneKey, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer, RecordedRequest};
use kgdb_fetch::sources::uniprot::{
    FIELDS, RESULTS_URL, RUN_URL, SEARCH_URL, STATUS_URL, UniprotConfig, UniprotFetcher,
};
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, FetchError, HttpClient, RetryPolicy};
use serde_json::{Value, json};

const JOB: &str = "5b0c0e4f7a2d9c1e3b6a8f0d2c4e6a8b0d2f4a6c";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/uniprot/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

fn fast_client() -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        ..ClientConfig::default()
    }
}

async fn setup() -> (MockServer, UniprotFetcher) {
    let server = MockServer::start().await.expect("mock server");
    let client = HttpClient::new(
        fast_client(),
        DomainLimits::new([]),
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client");
    let config = UniprotConfig {
        poll_interval: Duration::from_millis(10),
        max_polls: 5,
        ..UniprotConfig::default()
    };
    (server, UniprotFetcher::with_config(client, config))
}

fn gene(hgnc_id: &str, symbol: &str) -> GeneKey {
    GeneKey {
        hgnc_id: hgnc_id.into(),
        symbol: symbol.into(),
        ensembl_gene_id: None,
        ncbi_gene_id: None,
        percentage_score: None,
    }
}

fn pkd1() -> GeneKey {
    gene("HGNC:9008", "PKD1")
}
fn pkd2() -> GeneKey {
    gene("HGNC:9009", "PKD2")
}
/// Not a gene: UniProt lists it in `failedIds` (the document's example).
fn notagene() -> GeneKey {
    gene("HGNC:99999", "NOTAGENE")
}

fn status_url() -> String {
    format!("{STATUS_URL}{JOB}")
}
fn results_url() -> String {
    format!("{RESULTS_URL}{JOB}")
}

fn query_of(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn form_of(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

/// PKD1 as stored, from the document's P98161 entry.
fn pkd1_annotation() -> Value {
    json!({
        "accession": "P98161",
        "entry_name": "PKD1_HUMAN",
        "gene_symbol": "PKD1",
        "protein_name": "Polycystin-1",
        "length": 4303,
        "organism": "Homo sapiens",
        "function": "Component of a heteromeric calcium-permeable channel …",
        "domains": [
            {"type": "Signal", "description": "", "start": 1, "end": 23, "length": 23},
            {"type": "Domain", "description": "PKD 1", "start": 268, "end": 355, "length": 88,
             "evidence_code": "ECO:0000255"},
            {"type": "Transmembrane", "description": "Helical", "start": 3074, "end": 3094, "length": 21}
        ],
        "domain_count": 3,
        "pfam_refs": [{"id": "PF00801", "database": "Pfam", "entryname": "PKD"}],
        "interpro_refs": [{"id": "IPR000601", "database": "InterPro", "entryname": "PKD_dom"}],
        "has_transmembrane": true,
        "has_signal_peptide": true
    })
}

fn script_submission(server: &MockServer) {
    server.script(
        "POST",
        RUN_URL,
        vec![MockResponse::json(&fixture("run.json"))],
    );
}

/// One results page (no `Link`) for every results request.
fn script_single_page(server: &MockServer, page: Value) {
    server.script("GET", &results_url(), vec![MockResponse::json(&page)]);
}

#[tokio::test]
async fn a_running_job_redirects_to_results_read_over_two_linked_pages() {
    let (server, fetcher) = setup().await;
    assert_eq!(fetcher.source(), "uniprot");
    assert_eq!(fetcher.ttl_days(), 30);
    assert_eq!(fetcher.chunking(), Chunking::Genes(100));

    script_submission(&server);
    server.script(
        "GET",
        &status_url(),
        vec![
            MockResponse::json(&fixture("status_running.json")),
            MockResponse::json(&fixture("status_running.json")),
            MockResponse::new(303, "").header("Location", &results_url()),
        ],
    );
    let (page1, page2) = (fixture("results_page1.json"), fixture("results_page2.json"));
    let next = format!(
        "<{}?fields={FIELDS}&query=%28reviewed%3Atrue%29&format=json&size=500&cursor=c2>; rel=\"next\"",
        results_url()
    );
    server.route("GET", &results_url(), move |req| {
        if query_of(req).get("cursor").map(String::as_str) == Some("c2") {
            MockResponse::json(&page2)
        } else {
            MockResponse::json(&page1).header("Link", &next)
        }
    });

    let genes = [pkd1(), pkd2(), notagene()];
    let outcome = fetcher.fetch(&genes).await.unwrap();

    // PKD1 maps to P98161 and to PRKD1's Q15139 (PKD1 is its synonym): the primary name wins.
    assert_eq!(outcome.records.len(), 2, "{:?}", outcome.misses);
    let r = &outcome.records[0];
    assert_eq!(r.hgnc_id, "HGNC:9008");
    assert_eq!(r.source, "uniprot");
    assert_eq!(r.version, "1.0");
    assert!(r.version.len() <= 20);
    assert_eq!(r.annotations, pkd1_annotation());
    assert!(r.annotations["length"].is_u64());
    assert_eq!(
        r.metadata,
        json!({"batch_fetch": true, "origin": "UniProt REST",
               "endpoint": "https://rest.uniprot.org", "reviewed_only": true})
    );
    // PKD2 came from the second page.
    let r = &outcome.records[1];
    assert_eq!(r.hgnc_id, "HGNC:9009");
    assert_eq!(r.annotations["accession"], "Q13563");
    assert_eq!(r.annotations["entry_name"], "PKD2_HUMAN");
    assert_eq!(r.annotations["protein_name"], "Polycystin-2");
    assert_eq!(r.annotations["length"], 968);
    assert_eq!(r.annotations["domains"], json!([]));
    assert_eq!(r.annotations["domain_count"], 0);
    assert_eq!(r.annotations["function"], "");
    assert_eq!(r.annotations["has_transmembrane"], false);
    // failedIds → not found.
    assert_eq!(outcome.misses.len(), 1);
    assert_eq!(outcome.misses[0].hgnc_id, "HGNC:99999");
    assert_eq!(outcome.misses[0].kind, MissKind::NotFound);
    assert!(outcome.misses[0].reason.contains("failedIds"));

    let run = server.requests_to(RUN_URL);
    assert_eq!(run.len(), 1);
    let form = form_of(&run[0]);
    assert_eq!(form["from"], "Gene_Name");
    assert_eq!(form["to"], "UniProtKB");
    assert_eq!(form["taxId"], "9606");
    assert_eq!(form["ids"], "PKD1,PKD2,NOTAGENE");
    assert_eq!(server.requests_to(&status_url()).len(), 3);
    // The followed redirect, then our two pages.
    let results = server.requests_to(&results_url());
    assert_eq!(results.len(), 3);
    let first = query_of(&results[1]);
    assert_eq!(first["fields"], FIELDS);
    assert_eq!(first["query"], "(reviewed:true)");
    assert_eq!(first["format"], "json");
    assert_eq!(first["size"], "500");
    assert_eq!(query_of(&results[2])["cursor"], "c2");
    assert!(server.requests_to(SEARCH_URL).is_empty());
}

#[tokio::test]
async fn a_malformed_entry_fails_its_gene_and_the_others_are_stored() {
    let (server, fetcher) = setup().await;
    script_submission(&server);
    server.script(
        "GET",
        &status_url(),
        vec![MockResponse::json(&json!({"jobStatus": "FINISHED"}))],
    );
    let mut broken = fixture("results_page2.json")["results"][0].clone();
    broken["to"]["sequence"]["length"] = json!("968");
    let fine = fixture("results_page1.json")["results"][0].clone();
    script_single_page(&server, json!({"results": [fine, broken]}));

    let genes = [pkd1(), pkd2(), notagene()];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0].annotations, pkd1_annotation());
    let miss = |hgnc: &str| {
        outcome
            .misses
            .iter()
            .find(|m| m.hgnc_id == hgnc)
            .unwrap_or_else(|| panic!("no miss for {hgnc}: {:?}", outcome.misses))
    };
    assert_eq!(miss("HGNC:9009").kind, MissKind::Failed);
    assert!(
        miss("HGNC:9009").reason.contains("sequence.length"),
        "{}",
        miss("HGNC:9009").reason
    );
    assert!(miss("HGNC:9009").reason.contains("Q13563"));
    // Not in failedIds this time, and no entry: not found all the same.
    assert_eq!(miss("HGNC:99999").kind, MissKind::NotFound);
}

#[tokio::test]
async fn a_failed_job_falls_back_to_the_or_query_search() {
    let (server, fetcher) = setup().await;
    script_submission(&server);
    server.script(
        "GET",
        &status_url(),
        vec![MockResponse::json(
            &json!({"jobStatus": "ERROR", "messages": ["Internal error"]}),
        )],
    );
    server.script(
        "GET",
        SEARCH_URL,
        vec![MockResponse::json(&fixture("search_pkd1.json"))],
    );

    let genes = [pkd1(), pkd2()];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    // The search also returns PRKD1 (PKD1 is its synonym); it is matched by gene name, not taken.
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0].hgnc_id, "HGNC:9008");
    assert_eq!(outcome.records[0].annotations, pkd1_annotation());
    assert_eq!(outcome.misses.len(), 1);
    assert_eq!(outcome.misses[0].hgnc_id, "HGNC:9009");
    assert_eq!(outcome.misses[0].kind, MissKind::NotFound);

    let search = server.requests_to(SEARCH_URL);
    assert_eq!(search.len(), 1);
    let q = query_of(&search[0]);
    assert_eq!(
        q["query"],
        "((gene_exact:PKD1) OR (gene_exact:PKD2)) AND (organism_id:9606) AND (reviewed:true)"
    );
    assert_eq!(q["fields"], FIELDS);
    assert_eq!(q["format"], "json");
    assert_eq!(q["size"], "500");
    assert!(server.requests_to(&results_url()).is_empty());
}

#[tokio::test]
async fn polling_stops_after_max_polls_and_the_search_answers() {
    let (server, fetcher) = setup().await;
    script_submission(&server);
    server.script(
        "GET",
        &status_url(),
        vec![MockResponse::json(&fixture("status_running.json"))],
    );
    server.script(
        "GET",
        SEARCH_URL,
        vec![MockResponse::json(&fixture("search_pkd1.json"))],
    );
    let outcome = fetcher.fetch(&[pkd1()]).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(server.requests_to(&status_url()).len(), 5);
    assert_eq!(server.requests_to(SEARCH_URL).len(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_job_runs() {
    let (server, fetcher) = setup().await;
    server.script(
        "POST",
        RUN_URL,
        vec![
            MockResponse::new(429, "Too many requests").header("Retry-After", "1"),
            MockResponse::json(&fixture("run.json")),
        ],
    );
    server.script(
        "GET",
        &status_url(),
        vec![MockResponse::json(&json!({"jobStatus": "FINISHED"}))],
    );
    script_single_page(&server, fixture("results_page2.json"));

    let outcome = fetcher.fetch(&[pkd2()]).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0].annotations["accession"], "Q13563");
    let run = server.requests_to(RUN_URL);
    assert_eq!(run.len(), 2);
    let waited = run[1].at - run[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
    assert!(server.requests_to(SEARCH_URL).is_empty());
}

#[tokio::test]
async fn a_503_while_polling_is_retried() {
    let (server, fetcher) = setup().await;
    script_submission(&server);
    server.script(
        "GET",
        &status_url(),
        vec![
            MockResponse::new(503, "Service Unavailable"),
            MockResponse::json(&json!({"jobStatus": "FINISHED"})),
        ],
    );
    script_single_page(&server, fixture("results_page2.json"));
    let outcome = fetcher.fetch(&[pkd2()]).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(server.requests_to(&status_url()).len(), 2);
    assert!(server.requests_to(SEARCH_URL).is_empty());
}

#[tokio::test]
async fn a_provider_that_keeps_failing_is_an_error_for_the_chunk() {
    let (server, fetcher) = setup().await;
    server.script("POST", RUN_URL, vec![MockResponse::new(500, "boom")]);
    server.script("GET", SEARCH_URL, vec![MockResponse::new(500, "boom")]);
    let err = fetcher.fetch(&[pkd1(), pkd2()]).await.unwrap_err();
    assert_eq!(err.status_code(), Some(500), "{err}");
    // One try and three retries on each path.
    assert_eq!(server.requests_to(RUN_URL).len(), 4);
    assert_eq!(server.requests_to(SEARCH_URL).len(), 4);
}

#[tokio::test]
async fn a_provider_that_does_not_answer_in_time_is_an_error_for_the_chunk() {
    let (server, fetcher) = setup().await;
    let late = |v: Value| MockResponse::json(&v).delayed(Duration::from_secs(2));
    server.script("POST", RUN_URL, vec![late(fixture("run.json"))]);
    server.script("GET", SEARCH_URL, vec![late(fixture("search_pkd1.json"))]);
    let err = fetcher.fetch(&[pkd1()]).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert_eq!(server.requests_to(SEARCH_URL).len(), 4);
}
