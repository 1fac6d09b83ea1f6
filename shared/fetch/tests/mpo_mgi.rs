//! The mpo_mgi fetcher against the scripted local server: the kidney MP subtree query, the bulk
//! HGene_MPhenotype lookup, per-orthologue _Genotype_Phenotype zygosity, genes without an
//! orthologue, a malformed row, and what each provider failure ends in.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, GeneKey, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer, RecordedRequest};
use kgdb_fetch::sources::mpo_mgi::{
    MpoMgiConfig, MpoMgiFetcher, QUERY_RESULTS_URL, TEMPLATE_RESULTS_URL,
};
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, FetchError, HttpClient, RetryPolicy};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/mpo_mgi/{name}",
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

/// The fixture's kidney subtree has 5 terms, not MGI's hundreds.
fn test_config() -> MpoMgiConfig {
    MpoMgiConfig {
        min_kidney_terms: 3,
        ..MpoMgiConfig::default()
    }
}

async fn setup(config: MpoMgiConfig) -> (MockServer, MpoMgiFetcher) {
    let server = MockServer::start().await.expect("mock server");
    let client = HttpClient::new(
        fast_client(),
        DomainLimits::new([]),
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client");
    (server, MpoMgiFetcher::with_config(client, config))
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

/// PKD1, PKD2, and a gene MouseMine has no orthologue for.
fn chunk() -> Vec<GeneKey> {
    vec![
        gene("HGNC:9008", "PKD1"),
        gene("HGNC:9009", "PKD2"),
        gene("HGNC:99999", "NOTAGENE"),
    ]
}

fn params(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn template_requests(server: &MockServer, template: &str) -> Vec<HashMap<String, String>> {
    server
        .requests_to(TEMPLATE_RESULTS_URL)
        .iter()
        .map(params)
        .filter(|p| p.get("name").map(String::as_str) == Some(template))
        .collect()
}

fn empty() -> Value {
    fixture("empty.json")
}

fn script_terms(server: &MockServer) {
    server.script(
        "GET",
        QUERY_RESULTS_URL,
        vec![MockResponse::json(&fixture("kidney_terms.json"))],
    );
}

/// Template answers by template and value: the bulk lookup answers `hgene`; genotypes by
/// mouse symbol (Pkd1, Pkd2); anything else an empty result.
fn route_templates(server: &MockServer, hgene: Value) {
    let (pkd1, pkd2) = (
        fixture("genotype_phenotype_pkd1.json"),
        fixture("genotype_phenotype_pkd2.json"),
    );
    server.route("GET", TEMPLATE_RESULTS_URL, move |req| {
        let p = params(req);
        let value = p.get("value1").map(String::as_str).unwrap_or_default();
        match (p.get("name").map(String::as_str), value) {
            (Some("HGene_MPhenotype"), _) => MockResponse::json(&hgene),
            (Some("_Genotype_Phenotype"), "Pkd1") => MockResponse::json(&pkd1),
            (Some("_Genotype_Phenotype"), "Pkd2") => MockResponse::json(&pkd2),
            _ => MockResponse::json(&empty()),
        }
    });
}

#[tokio::test]
async fn orthologue_phenotypes_are_filtered_to_the_kidney_subtree_and_split_by_zygosity() {
    let (server, fetcher) = setup(test_config()).await;
    assert_eq!(fetcher.source(), "mpo_mgi");
    assert_eq!(fetcher.ttl_days(), 90);
    assert_eq!(fetcher.chunking(), Chunking::Genes(50));
    script_terms(&server);
    route_templates(&server, fixture("hgene_mphenotype.json"));

    let genes = chunk();
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 2, "{:?}", outcome.misses);

    let pkd1 = &outcome.records[0];
    assert_eq!(pkd1.hgnc_id, "HGNC:9008");
    assert_eq!(pkd1.source, "mpo_mgi");
    assert_eq!(pkd1.version, "1.0");
    // premature death is no kidney term; Pkd1l2's hydronephrosis is another gene's genotype.
    let kidney_cysts = json!([{"term": "MP:0003675", "name": "kidney cysts"}]);
    assert_eq!(
        pkd1.annotations,
        json!({
            "gene_symbol": "PKD1",
            "has_kidney_phenotype": true,
            "mouse_orthologs": ["Pkd1"],
            "phenotypes": kidney_cysts,
            "phenotype_count": 1,
            "mpo_terms_searched": 5,
            "zygosity_analysis": {
                "homozygous": {"has_kidney_phenotype": true, "phenotype_count": 1, "phenotypes": kidney_cysts},
                "heterozygous": {"has_kidney_phenotype": false, "phenotype_count": 0, "phenotypes": []},
                "conditional": {"has_kidney_phenotype": null, "phenotype_count": 0, "phenotypes": []},
                "summary": "hm (true); ht (false)"
            }
        })
    );
    assert_eq!(
        pkd1.metadata,
        json!({
            "batch_fetch": true,
            "origin": "MouseMine",
            "endpoint": TEMPLATE_RESULTS_URL,
            "templates": ["HGene_MPhenotype", "_Genotype_Phenotype"],
            "kidney_root_term": "MP:0005367"
        })
    );

    let pkd2 = &outcome.records[1];
    assert_eq!(pkd2.hgnc_id, "HGNC:9009");
    let z = &pkd2.annotations["zygosity_analysis"];
    assert_eq!(z["summary"], "hm (NA); ht (true)");
    assert_eq!(z["homozygous"]["has_kidney_phenotype"], Value::Null);
    assert_eq!(z["heterozygous"]["phenotypes"], kidney_cysts);
    assert_eq!(pkd2.annotations["mouse_orthologs"], json!(["Pkd2"]));
    assert_eq!(pkd2.annotations["has_kidney_phenotype"], true);

    assert_eq!(outcome.misses.len(), 1);
    assert_eq!(outcome.misses[0].hgnc_id, "HGNC:99999");
    assert_eq!(outcome.misses[0].kind, MissKind::NotFound);

    // One subtree query, one bulk lookup, one genotype query per orthologue.
    let terms = server.requests_to(QUERY_RESULTS_URL);
    assert_eq!(terms.len(), 1);
    let q = params(&terms[0]);
    assert_eq!(q["format"], "json");
    assert!(
        q["query"].contains(
            "<constraint path=\"OntologyTerm.parents.identifier\" op=\"=\" value=\"MP:0005367\"/>"
        ),
        "{}",
        q["query"]
    );
    let hgene = template_requests(&server, "HGene_MPhenotype");
    assert_eq!(hgene.len(), 1);
    assert_eq!(hgene[0]["constraint1"], "Gene");
    assert_eq!(hgene[0]["op1"], "LOOKUP");
    assert_eq!(hgene[0]["value1"], "PKD1,PKD2,NOTAGENE");
    assert_eq!(hgene[0]["extra1"], "H. sapiens");
    assert_eq!(hgene[0]["format"], "json");
    assert!(
        !hgene[0].contains_key("size"),
        "size=0 would return no rows"
    );
    let mut genotype = template_requests(&server, "_Genotype_Phenotype");
    genotype.sort_by(|a, b| a["value1"].cmp(&b["value1"]));
    assert_eq!(genotype.len(), 2);
    assert_eq!(genotype[0]["value1"], "Pkd1");
    assert_eq!(genotype[1]["value1"], "Pkd2");
    assert_eq!(
        genotype[0]["constraint1"],
        "OntologyAnnotation.subject.symbol"
    );
    assert_eq!(genotype[0]["op1"], "CONTAINS");
    assert_eq!(genotype[0]["size"], "10000");
}

#[tokio::test]
async fn a_malformed_row_fails_its_gene_and_the_others_are_stored() {
    let (server, fetcher) = setup(test_config()).await;
    script_terms(&server);
    let mut hgene = fixture("hgene_mphenotype.json");
    // PKD2's row: the MP id cell holds a number.
    hgene["results"][2][6] = json!(3675);
    route_templates(&server, hgene);

    let outcome = fetcher.fetch(&chunk()).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0].hgnc_id, "HGNC:9008");
    let pkd2 = outcome
        .misses
        .iter()
        .find(|m| m.hgnc_id == "HGNC:9009")
        .unwrap();
    assert_eq!(pkd2.kind, MissKind::Failed);
    assert!(pkd2.reason.contains("not an MP id"), "{}", pkd2.reason);
    // The failed gene's orthologue is not queried.
    let genotype = template_requests(&server, "_Genotype_Phenotype");
    assert_eq!(genotype.len(), 1);
    assert_eq!(genotype[0]["value1"], "Pkd1");
}

#[tokio::test]
async fn a_malformed_genotype_answer_fails_the_genes_of_that_orthologue() {
    let (server, fetcher) = setup(test_config()).await;
    script_terms(&server);
    let (hgene, pkd1) = (
        fixture("hgene_mphenotype.json"),
        fixture("genotype_phenotype_pkd1.json"),
    );
    server.route("GET", TEMPLATE_RESULTS_URL, move |req| {
        let p = params(req);
        match (p["name"].as_str(), p["value1"].as_str()) {
            ("HGene_MPhenotype", _) => MockResponse::json(&hgene),
            (_, "Pkd1") => MockResponse::json(&pkd1),
            _ => MockResponse::json(&json!({"results": [["MGI:2174706", "Pkd2<tm2Som>/Pkd2<+>"]],
                                             "wasSuccessful": true, "error": null, "statusCode": 200})),
        }
    });
    let outcome = fetcher.fetch(&chunk()[..2]).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0].hgnc_id, "HGNC:9008");
    assert_eq!(outcome.misses.len(), 1);
    assert_eq!(outcome.misses[0].kind, MissKind::Failed);
    assert!(
        outcome.misses[0].reason.contains("Pkd2"),
        "{}",
        outcome.misses[0].reason
    );
}

#[tokio::test]
async fn when_the_bulk_lookup_answers_nothing_each_gene_is_looked_up_alone() {
    let (server, fetcher) = setup(test_config()).await;
    script_terms(&server);
    let hgene = fixture("hgene_mphenotype.json");
    let pkd1_rows = json!({"results": [hgene["results"][0].clone()], "wasSuccessful": true,
                           "error": null, "statusCode": 200});
    let pkd1_genotypes = fixture("genotype_phenotype_pkd1.json");
    server.route("GET", TEMPLATE_RESULTS_URL, move |req| {
        let p = params(req);
        match (p["name"].as_str(), p["value1"].as_str()) {
            ("HGene_MPhenotype", "PKD1") => MockResponse::json(&pkd1_rows),
            ("_Genotype_Phenotype", "Pkd1") => MockResponse::json(&pkd1_genotypes),
            _ => MockResponse::json(&empty()),
        }
    });
    let genes = vec![gene("HGNC:9008", "PKD1"), gene("HGNC:99999", "NOTAGENE")];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(
        outcome.records[0].annotations["mouse_orthologs"],
        json!(["Pkd1"])
    );
    assert_eq!(outcome.misses.len(), 1);
    assert_eq!(outcome.misses[0].kind, MissKind::NotFound);
    let hgene = template_requests(&server, "HGene_MPhenotype");
    assert_eq!(hgene.len(), 3, "one bulk lookup, then one per gene");
    assert_eq!(hgene[0]["value1"], "PKD1,NOTAGENE");
    assert_eq!(hgene[1]["size"], "10000");
}

#[tokio::test]
async fn a_kidney_subtree_smaller_than_the_floor_fails_the_chunk() {
    // Default floor: 100 terms; the fixture has 5.
    let (server, fetcher) = setup(MpoMgiConfig::default()).await;
    script_terms(&server);
    route_templates(&server, fixture("hgene_mphenotype.json"));
    let err = fetcher.fetch(&chunk()).await.unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("MP:0005367"), "{err}");
    assert!(server.requests_to(TEMPLATE_RESULTS_URL).is_empty());
}

#[tokio::test]
async fn an_unsuccessful_intermine_answer_fails_the_chunk() {
    let (server, fetcher) = setup(test_config()).await;
    script_terms(&server);
    server.script(
        "GET",
        TEMPLATE_RESULTS_URL,
        vec![MockResponse::json(
            &json!({"results": [], "wasSuccessful": false,
            "error": "There is no template called HGene_MPhenotype", "statusCode": 200}),
        )],
    );
    let err = fetcher.fetch(&chunk()).await.unwrap_err();
    assert!(err.to_string().contains("wasSuccessful=false"), "{err}");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let (server, fetcher) = setup(test_config()).await;
    server.script(
        "GET",
        QUERY_RESULTS_URL,
        vec![
            MockResponse::new(429, "Too Many Requests").header("Retry-After", "1"),
            MockResponse::json(&fixture("kidney_terms.json")),
        ],
    );
    route_templates(&server, fixture("hgene_mphenotype.json"));
    let outcome = fetcher.fetch(&chunk()).await.unwrap();
    assert_eq!(outcome.records.len(), 2);
    let terms = server.requests_to(QUERY_RESULTS_URL);
    assert_eq!(terms.len(), 2);
    let waited = terms[1].at - terms[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[tokio::test]
async fn a_503_is_retried() {
    let (server, fetcher) = setup(test_config()).await;
    script_terms(&server);
    let (hgene, calls) = (
        fixture("hgene_mphenotype.json"),
        Arc::new(AtomicUsize::new(0)),
    );
    let genotypes = fixture("genotype_phenotype_pkd1.json");
    let seen = calls.clone();
    server.route("GET", TEMPLATE_RESULTS_URL, move |req| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return MockResponse::new(503, "Service Unavailable");
        }
        match params(req)["name"].as_str() {
            "HGene_MPhenotype" => MockResponse::json(&hgene),
            _ => MockResponse::json(&genotypes),
        }
    });
    let outcome = fetcher.fetch(&chunk()[..1]).await.unwrap();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(
        outcome.records[0].annotations["zygosity_analysis"]["summary"],
        "hm (true); ht (false)"
    );
    // The 503, its retry, the genotype query.
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_provider_that_keeps_failing_is_an_error_for_the_chunk() {
    let (server, fetcher) = setup(test_config()).await;
    script_terms(&server);
    server.script(
        "GET",
        TEMPLATE_RESULTS_URL,
        vec![MockResponse::new(500, "Internal Server Error")],
    );
    let err = fetcher.fetch(&chunk()).await.unwrap_err();
    assert_eq!(err.status_code(), Some(500), "{err}");
    assert_eq!(server.requests_to(TEMPLATE_RESULTS_URL).len(), 4);
}

#[tokio::test]
async fn a_failing_genotype_query_is_an_error_for_the_chunk() {
    let (server, fetcher) = setup(test_config()).await;
    script_terms(&server);
    let hgene = fixture("hgene_mphenotype.json");
    server.route("GET", TEMPLATE_RESULTS_URL, move |req| {
        match params(req)["name"].as_str() {
            "HGene_MPhenotype" => MockResponse::json(&hgene),
            _ => MockResponse::new(502, "Bad Gateway"),
        }
    });
    let err = fetcher.fetch(&chunk()).await.unwrap_err();
    assert_eq!(err.status_code(), Some(502), "{err}");
}

#[tokio::test]
async fn a_provider_that_does_not_answer_in_time_is_an_error_for_the_chunk() {
    let (server, fetcher) = setup(test_config()).await;
    server.script(
        "GET",
        QUERY_RESULTS_URL,
        vec![MockResponse::json(&fixture("kidney_terms.json")).delayed(Duration::from_secs(2))],
    );
    let err = fetcher.fetch(&chunk()).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert_eq!(server.requests_to(QUERY_RESULTS_URL).len(), 4);
}
