//! The live HPO fetcher against the mock server: the JAX descendants cut into term chunks, each
//! term's `network/annotation` through `Source::normalize`, and what each failure ends in.

#[path = "live_common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use kgdb_core::pipeline::{Fetcher, Source, SourceError};
use kgdb_fetch::DomainLimits;
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_sources::hpo::live::{HpoLive, HpoLiveConfig, JAX_API_URL};
use kgdb_sources::hpo::{GeneDiseaseTerms, Hpo, HpoChunk};

const TERMS: [&str; 6] = [
    "HP:0000077",
    "HP:0000083",
    "HP:0000100",
    "HP:0000107",
    "HP:0000113",
    "HP:0012211",
];
/// The descendant the API answers 404 (no fixture: a term it no longer annotates).
const GONE: &str = "HP:0012211";

fn descendants_url() -> String {
    format!("{JAX_API_URL}/hp/terms/HP:0010935/descendants")
}

fn annotation_url(term: &str) -> String {
    format!("{JAX_API_URL}/network/annotation/{term}")
}

fn annotation_fixture(term: &str) -> String {
    fixture(&format!("hpo/annotation_{}.json", term.replace(':', "_")))
}

fn json(body: String) -> MockResponse {
    MockResponse::ok(body).header("content-type", "application/json")
}

/// The JAX API of the fixtures: the descendants, each term's annotation, 404 for [`GONE`].
fn serve_jax(server: &MockServer) {
    server.script(
        "GET",
        &descendants_url(),
        vec![json(fixture("hpo/descendants_HP_0010935.json"))],
    );
    for term in TERMS.iter().filter(|t| **t != GONE) {
        server.script(
            "GET",
            &annotation_url(term),
            vec![json(annotation_fixture(term))],
        );
    }
    server.script(
        "GET",
        &annotation_url(GONE),
        vec![MockResponse::new(404, r#"{"message":"Term not found"}"#)],
    );
}

fn config(terms_per_chunk: usize) -> HpoLiveConfig {
    HpoLiveConfig {
        terms_per_chunk,
        ..HpoLiveConfig::default()
    }
}

fn terms_chunk(terms: &[&str]) -> HpoChunk {
    HpoChunk::Terms {
        part: 0,
        parts: 1,
        terms: terms.iter().map(|t| t.to_string()).collect(),
    }
}

/// Every chunk of a plan, fetched.
async fn run(fetcher: &HpoLive) -> Result<Vec<GeneDiseaseTerms>, SourceError> {
    let mut raw = Vec::new();
    for chunk in fetcher.plan().await? {
        raw.extend(fetcher.fetch(&chunk).await?);
    }
    Ok(raw)
}

#[tokio::test]
async fn the_descendants_are_cut_into_balanced_sorted_term_chunks() {
    let (server, client) = setup().await;
    serve_jax(&server);
    let fetcher = HpoLive::with_config(client.clone(), TestResolver::new(), config(4));
    let chunks = fetcher.plan().await.unwrap();
    // Six terms, at most four a chunk: two chunks of three, sorted, each term once.
    assert_eq!(
        chunks,
        vec![
            HpoChunk::Terms {
                part: 0,
                parts: 2,
                terms: TERMS[..3].iter().map(|t| t.to_string()).collect(),
            },
            HpoChunk::Terms {
                part: 1,
                parts: 2,
                terms: TERMS[3..].iter().map(|t| t.to_string()).collect(),
            },
        ]
    );
    assert_eq!(server.requests_to(&descendants_url()).len(), 1);
    // Planning asks for no annotation; a chunk travels as JSON and comes back the same.
    assert_eq!(server.requests().len(), 1);
    let json = serde_json::to_string(&chunks[1]).unwrap();
    assert_eq!(serde_json::from_str::<HpoChunk>(&json).unwrap(), chunks[1]);

    // The default: one chunk of 150 holds them all.
    let default = HpoLive::new(client, TestResolver::new());
    assert_eq!(default.plan().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_run_normalizes_each_gene_with_its_kidney_terms() {
    let (server, client) = setup().await;
    serve_jax(&server);
    let fetcher = HpoLive::with_config(client, TestResolver::new(), config(2));
    let raw = run(&fetcher).await.unwrap();
    // Every term but the 404 one asked once.
    for term in TERMS {
        assert_eq!(server.requests_to(&annotation_url(term)).len(), 1, "{term}");
    }
    let genes = Hpo.normalize(raw).unwrap();
    let symbols: Vec<&str> = genes
        .iter()
        .map(|g| g.gene.approved_symbol.as_str())
        .collect();
    // By HGNC id; COL4A5 and MKKS are unresolved.
    assert_eq!(
        symbols,
        vec!["HNF1B", "UMOD", "NPHS2", "NPHS1", "PKD1", "PKD2", "PKHD1"]
    );

    // PKD1 is annotated to four terms, across three chunks: one record.
    let pkd1 = genes
        .iter()
        .find(|g| g.gene.hgnc_id == "HGNC:9008")
        .unwrap();
    assert_eq!(pkd1.gene.reported_symbols, vec!["PKD1"]);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(pkd1.evidence_date, Some(today));
    let record = pkd1.clone().into_record().unwrap();
    let data = &record.evidence_data;
    let keys: BTreeSet<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "hgnc_id",
            "hpo_terms",
            "diseases",
            "term_count",
            "disease_count",
            "evidence_score",
            "syndromic_assessment",
            "last_updated",
        ])
    );
    assert_eq!(data["hgnc_id"], "HGNC:9008");
    assert_eq!(
        data["hpo_terms"],
        serde_json::json!(["HP:0000077", "HP:0000083", "HP:0000107", "HP:0000113"])
    );
    // The term view names no gene-disease link: terms only, as the original stored.
    assert_eq!(data["diseases"], serde_json::json!([]));
    assert_eq!(data["term_count"], 4);
    assert_eq!(data["disease_count"], 0);
    assert_eq!(data["evidence_score"], 80.0);
    assert_eq!(data["syndromic_assessment"]["is_syndromic"], false);
    assert_eq!(data["last_updated"], today.to_string());
    assert_eq!(record.source_detail, "HPO: 4 phenotype terms, 0 diseases");

    let nphs1 = genes
        .iter()
        .find(|g| g.gene.approved_symbol == "NPHS1")
        .unwrap();
    assert_eq!(nphs1.evidence.hpo_terms, vec!["HP:0000077", "HP:0000100"]);
    assert_eq!(nphs1.evidence.evidence_score, 40.0);
}

#[tokio::test]
async fn a_term_answered_404_is_skipped_and_the_rest_of_its_chunk_kept() {
    let (server, client) = setup().await;
    serve_jax(&server);
    let fetcher = HpoLive::new(client, TestResolver::new());
    let raw = fetcher
        .fetch(&terms_chunk(&["HP:0000100", GONE]))
        .await
        .unwrap();
    let genes: Vec<(&str, &Vec<String>)> = raw
        .iter()
        .map(|r| (r.approved_symbol.as_str(), &r.disease.hpo_terms))
        .collect();
    assert_eq!(
        genes,
        vec![
            ("NPHS2", &vec!["HP:0000100".to_string()]),
            ("NPHS1", &vec!["HP:0000100".to_string()]),
        ]
    );
    // A 404 is final: asked once, not retried.
    assert_eq!(server.requests_to(&annotation_url(GONE)).len(), 1);

    // A chunk whose every term is gone is an error, not an empty success.
    let err = fetcher.fetch(&terms_chunk(&[GONE])).await.unwrap_err();
    assert!(
        err.to_string().contains("none of the chunk's 1 terms"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unresolvable_gene_is_left_out_and_recorded() {
    let (server, client) = setup().await;
    serve_jax(&server);
    let resolver = TestResolver::new();
    let fetcher = HpoLive::new(client, resolver.clone());
    let raw = fetcher
        .fetch(&terms_chunk(&["HP:0000083", "HP:0000107"]))
        .await
        .unwrap();
    let hgnc: BTreeSet<&str> = raw.iter().map(|r| r.hgnc_id.as_str()).collect();
    assert_eq!(
        hgnc,
        BTreeSet::from(["HGNC:9008", "HGNC:9009", "HGNC:11630", "HGNC:12559"])
    );
    let mut unresolved = resolver.unresolved();
    unresolved.sort();
    assert_eq!(unresolved, vec!["COL4A5", "MKKS"]);
    // PKD1 is listed by both terms but resolved once.
    assert_eq!(resolver.calls(), 6);
}

#[tokio::test]
async fn a_429_waits_for_retry_after_and_a_503_is_retried() {
    let (server, client) = setup().await;
    serve_jax(&server);
    server.script(
        "GET",
        &annotation_url("HP:0000107"),
        vec![
            MockResponse::new(429, "Too Many Requests").header("Retry-After", "1"),
            json(annotation_fixture("HP:0000107")),
        ],
    );
    server.script(
        "GET",
        &annotation_url("HP:0000113"),
        vec![
            MockResponse::new(503, "Service Unavailable"),
            json(annotation_fixture("HP:0000113")),
        ],
    );
    let fetcher = HpoLive::new(client, TestResolver::new());
    let raw = fetcher
        .fetch(&terms_chunk(&["HP:0000107", "HP:0000113"]))
        .await
        .unwrap();
    let pkd1 = raw.iter().find(|r| r.approved_symbol == "PKD1").unwrap();
    assert_eq!(pkd1.disease.hpo_terms, vec!["HP:0000107", "HP:0000113"]);
    let log = server.requests_to(&annotation_url("HP:0000107"));
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
    assert_eq!(server.requests_to(&annotation_url("HP:0000113")).len(), 2);
}

#[tokio::test]
async fn a_persistent_5xx_fails_the_plan_or_the_chunk() {
    let (server, client) = setup().await;
    serve_jax(&server);
    server.script(
        "GET",
        &annotation_url("HP:0000107"),
        vec![MockResponse::new(502, "Bad Gateway")],
    );
    let fetcher = HpoLive::new(client, TestResolver::new());
    let err = fetcher
        .fetch(&terms_chunk(&["HP:0000100", "HP:0000107"]))
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Fetch { .. }), "{err}");
    assert!(err.to_string().contains("HTTP 502"), "{err}");
    assert_eq!(server.requests_to(&annotation_url("HP:0000107")).len(), 4);

    server.script(
        "GET",
        &descendants_url(),
        vec![MockResponse::new(500, "boom")],
    );
    let err = fetcher.plan().await.unwrap_err();
    assert!(matches!(err, SourceError::Fetch { .. }), "{err}");
}

#[tokio::test]
async fn broken_answers_are_source_errors() {
    let (server, client) = setup().await;
    serve_jax(&server);
    let fetcher = HpoLive::new(client, TestResolver::new());
    let malformed = |err: SourceError, needle: &str| {
        assert!(matches!(err, SourceError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains(needle), "{needle:?} in {err}");
    };

    // Descendants: an object where the bare array should be, a term without an id, cut JSON.
    for (body, needle) in [
        (r#"{"terms": []}"#, "not a JSON array"),
        (r#"[{"name": "Renal cyst"}]"#, "without an HP id"),
        (r#"[{"id": "HP:0000107", "na"#, "malformed answer"),
    ] {
        server.script("GET", &descendants_url(), vec![json(body.to_string())]);
        malformed(fetcher.plan().await.unwrap_err(), needle);
    }

    // An annotation without its genes array, and one cut short.
    for (body, needle) in [
        (r#"{"message": "upstream error"}"#, "no genes array"),
        (r#"{"genes": [{"id": "NCBIGene:5310", "#, "malformed answer"),
    ] {
        server.script(
            "GET",
            &annotation_url("HP:0000107"),
            vec![json(body.to_string())],
        );
        malformed(
            fetcher
                .fetch(&terms_chunk(&["HP:0000100", "HP:0000107"]))
                .await
                .unwrap_err(),
            needle,
        );
    }
}

#[tokio::test]
async fn no_descendants_or_no_gene_is_an_error() {
    let (server, client) = setup().await;
    serve_jax(&server);
    let fetcher = HpoLive::new(client, TestResolver::new());
    server.script("GET", &descendants_url(), vec![json("[]".into())]);
    let err = fetcher.plan().await.unwrap_err();
    assert!(err.to_string().contains("no descendants"), "{err}");

    server.script(
        "GET",
        &annotation_url("HP:0000107"),
        vec![json(
            r#"{"genes": [], "diseases": [], "medicalActions": [], "assays": []}"#.into(),
        )],
    );
    let err = fetcher
        .fetch(&terms_chunk(&["HP:0000107"]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no resolvable gene"), "{err}");
}

#[tokio::test]
async fn chunks_not_of_hp_ids_are_refused_before_any_request() {
    let (server, client) = setup().await;
    serve_jax(&server);
    let fetcher = HpoLive::new(client, TestResolver::new());
    let err = fetcher
        .fetch(&terms_chunk(&["HP:0000107", "../../admin"]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not an HP id"), "{err}");
    let err = fetcher.fetch(&HpoChunk::All).await.unwrap_err();
    assert!(err.to_string().contains("snapshot's chunk"), "{err}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn annotation_requests_are_spaced_by_the_jax_domain_limit() {
    // 10 per second: the five annotated terms' requests span at least 400 ms, whatever the
    // concurrency.
    let (server, client) = setup_with(DomainLimits::new([("ontology.jax.org", 10.0)])).await;
    serve_jax(&server);
    let fetcher = HpoLive::new(client, TestResolver::new());
    let terms: Vec<&str> = TERMS.iter().copied().filter(|t| *t != GONE).collect();
    fetcher.fetch(&terms_chunk(&terms)).await.unwrap();
    let log = server.requests();
    assert_eq!(log.len(), 5);
    let span = log[4].at - log[0].at;
    assert!(span >= Duration::from_millis(380), "span {span:?}");
    // The original's limit for the host is 2 per second.
    assert_eq!(DomainLimits::original().rate("ontology.jax.org"), Some(2.0));
}
