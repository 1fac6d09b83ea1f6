//! The live PubTator3 fetcher against the scripted local server (`fixtures/pubtator/`, the
//! format of docs/provider-formats.md): how a run is cut, what a chunk walks and what its hits
//! normalize to, smart mode's early stop, and what each provider failure ends in.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution, ResolvedGene};
use kgdb_core::pipeline::{Fetcher, RunMode, Source, SourceError};
use kgdb_core::vocab::PUBTATOR_SEARCH_QUERY;
use kgdb_fetch::mock::{MockResponse, MockServer, RecordedRequest};
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, HttpClient, RetryPolicy};
use kgdb_sources::pubtator::live::{PubTatorConfig, PubTatorLive, SEARCH_URL, UpdateMode};
use kgdb_sources::pubtator::{ArticleHit, PubTator, PubTatorChunk};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Fixtures, the mock and the resolver

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/pubtator/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture JSON")
}

/// The fixture pages: 1–3 with articles, then an empty page.
fn standard_page(page: u32) -> MockResponse {
    let name = match page {
        1 => "search_page1.json",
        2 => "search_page2.json",
        3 => "search_page3.json",
        _ => "search_past_end.json",
    };
    MockResponse::ok(fixture(name)).header("content-type", "application/json")
}

fn query_of(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn page_of(req: &RecordedRequest) -> u32 {
    query_of(req)
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a request without a page: {req:?}"))
}

/// Serves the search by page: `answer(page, attempt)`, attempts of each page counted from 0.
fn serve(server: &MockServer, answer: impl Fn(u32, usize) -> MockResponse + Send + Sync + 'static) {
    let attempts: Mutex<HashMap<u32, usize>> = Mutex::new(HashMap::new());
    server.route("GET", SEARCH_URL, move |req| {
        let page = page_of(req);
        let attempt = {
            let mut seen = attempts.lock().expect("attempts");
            let n = seen.entry(page).or_insert(0);
            *n += 1;
            *n - 1
        };
        answer(page, attempt)
    });
}

/// The pages requested, in order.
fn pages_requested(server: &MockServer) -> Vec<u32> {
    server.requests_to(SEARCH_URL).iter().map(page_of).collect()
}

/// Short timeouts and retries (as shared/fetch/tests/client.rs).
fn fast_config() -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_millis(400),
        read_timeout: Duration::from_millis(400),
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        ..ClientConfig::default()
    }
}

/// Knows PKD1, PKD2 and NPHS1 (by NCBI id, else by exact symbol); records what it cannot resolve.
#[derive(Default)]
struct TestResolver {
    unresolved: Mutex<Vec<(String, Option<String>)>>,
    calls: Mutex<usize>,
}

const GENES: &[(&str, &str, &str)] = &[
    ("HGNC:9008", "PKD1", "5310"),
    ("HGNC:9009", "PKD2", "5311"),
    ("HGNC:7908", "NPHS1", "4868"),
];

impl GeneResolver for TestResolver {
    fn resolve<'a>(&'a self, reported: ReportedGene<'a>) -> BoxFuture<'a, Resolution> {
        Box::pin(async move {
            assert_eq!(reported.source, kgdb_core::SourceName::PubTator);
            *self.calls.lock().expect("calls") += 1;
            let found = GENES
                .iter()
                .find(|(_, _, ncbi)| reported.ncbi_gene_id == Some(*ncbi))
                .or_else(|| GENES.iter().find(|(_, sym, _)| *sym == reported.symbol));
            match found {
                Some((hgnc, symbol, _)) => Resolution::Resolved(ResolvedGene {
                    hgnc_id: hgnc.to_string(),
                    approved_symbol: symbol.to_string(),
                }),
                None => {
                    self.unresolved.lock().expect("unresolved").push((
                        reported.symbol.to_string(),
                        reported.ncbi_gene_id.map(str::to_string),
                    ));
                    Resolution::Unresolved {
                        reason: format!("no gene {}", reported.symbol),
                    }
                }
            }
        })
    }
}

const AS_OF: &str = "2026-01-15";

fn full_mode() -> PubTatorConfig {
    PubTatorConfig {
        mode: UpdateMode::Full,
        as_of: Some(AS_OF.parse::<NaiveDate>().expect("a date")),
        ..PubTatorConfig::default()
    }
}

struct Setup {
    server: MockServer,
    resolver: Arc<TestResolver>,
    fetcher: PubTatorLive,
}

async fn setup_with(config: PubTatorConfig, limits: DomainLimits) -> Setup {
    let server = MockServer::start().await.expect("mock server");
    let client = HttpClient::new(
        fast_config(),
        limits,
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client");
    let resolver = Arc::new(TestResolver::default());
    let fetcher = PubTatorLive::with_config(client, resolver.clone(), config);
    Setup {
        server,
        resolver,
        fetcher,
    }
}

async fn setup(config: PubTatorConfig) -> Setup {
    setup_with(config, DomainLimits::new([])).await
}

const FIRST_CHUNK: PubTatorChunk = PubTatorChunk::Pages { from: 1, to: 500 };

fn pmids(hits: &[ArticleHit]) -> BTreeSet<String> {
    hits.iter().map(|h| h.pmid.clone()).collect()
}

/// The mention of `pmid` as the fixture `page` carries it.
fn mention_from_fixture(page: &str, pmid: u64) -> Value {
    let fixture = json_fixture(page);
    let article = fixture["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|a| a["pmid"] == pmid)
        .unwrap_or_else(|| panic!("{pmid} is not in {page}"))
        .clone();
    json!({
        "pmid": pmid.to_string(),
        "title": article["title"],
        "journal": article["journal"],
        "date": article["date"],
        "score": article["score"],
        "text": article["text_hl"],
    })
}

// ---------------------------------------------------------------------------------------------
// Planning

#[tokio::test]
async fn plan_cuts_the_pages_of_page_one_into_chunks() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| standard_page(page));
    let chunks = s.fetcher.plan().await.unwrap();

    // The document's page 1 says 5,704 pages: 11 chunks of 500 and one of 204.
    assert_eq!(chunks.len(), 12);
    let mut next = 1;
    for chunk in &chunks {
        let PubTatorChunk::Pages { from, to } = *chunk else {
            panic!("{chunk:?}")
        };
        assert_eq!(from, next, "{chunks:?}");
        assert!(to >= from && to - from < 500, "{chunk:?}");
        next = to + 1;
    }
    assert_eq!(next, 5705);
    assert_eq!(
        chunks[11],
        PubTatorChunk::Pages {
            from: 5501,
            to: 5704
        }
    );

    // One request, page 1, with the original's query.
    let requests = s.server.requests_to(SEARCH_URL);
    assert_eq!(requests.len(), 1);
    let query = query_of(&requests[0]);
    assert_eq!(query["text"], PUBTATOR_SEARCH_QUERY);
    assert_eq!(query["page"], "1");
    assert_eq!(query["sort"], "score desc");
    assert_eq!(query["filters"], "{}");

    let wider = setup(PubTatorConfig {
        pages_per_chunk: 2000,
        ..full_mode()
    })
    .await;
    serve(&wider.server, |page, _| standard_page(page));
    let chunks = wider.fetcher.plan().await.unwrap();
    assert_eq!(
        chunks,
        vec![
            PubTatorChunk::Pages { from: 1, to: 2000 },
            PubTatorChunk::Pages {
                from: 2001,
                to: 4000
            },
            PubTatorChunk::Pages {
                from: 4001,
                to: 5704
            },
        ]
    );
    assert_eq!(wider.fetcher.run_mode(), RunMode::Replace);
    assert_eq!(UpdateMode::Smart.run_mode(), RunMode::Merge);
}

// ---------------------------------------------------------------------------------------------
// A chunk's walk and its evidence

#[tokio::test]
async fn a_chunk_walks_its_pages_and_the_hits_normalize_to_each_genes_evidence() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| standard_page(page));
    let hits = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap();

    // Pages 1-3, then the empty page 4 ends the chunk (at most the pages in flight beyond it).
    let requested: BTreeSet<u32> = pages_requested(&s.server).into_iter().collect();
    assert!(
        requested.is_superset(&BTreeSet::from([1, 2, 3, 4])),
        "{requested:?}"
    );
    let in_flight = s.fetcher.config().pages_in_flight as u32;
    assert!(*requested.last().unwrap() < 4 + in_flight, "{requested:?}");

    // Every article with a resolvable gene; not the one without gene markup (38012347) nor
    // the mouse gene's (38012350).
    assert_eq!(
        pmids(&hits),
        BTreeSet::from(["38012345", "38012346", "38012348", "38012349"].map(String::from))
    );
    // The two-gene article is two hits.
    assert_eq!(hits.iter().filter(|h| h.pmid == "38012346").count(), 2);

    let genes = PubTator.normalize(hits).unwrap();
    let ids: Vec<&str> = genes.iter().map(|g| g.gene.hgnc_id.as_str()).collect();
    assert_eq!(ids, ["HGNC:7908", "HGNC:9008", "HGNC:9009"]);

    let pkd1 = genes
        .into_iter()
        .find(|g| g.gene.hgnc_id == "HGNC:9008")
        .unwrap()
        .into_record()
        .unwrap();
    assert_eq!(pkd1.approved_symbol, "PKD1");
    assert_eq!(pkd1.reported_symbols, vec!["PKD1"]);
    assert_eq!(pkd1.source_detail, "PubTator: 3 publications");
    assert_eq!(pkd1.evidence_date, Some(AS_OF.parse().unwrap()));
    // The document's article, written out; the derived ones as their fixtures carry them.
    let doc_article = json!({
        "pmid": "38012345",
        "title": "Genotype-phenotype correlations in ADPKD",
        "journal": "Kidney Int",
        "date": "2024-01-01T00:00:00Z",
        "score": 265.7,
        "text": "Truncating variants in @GENE_PKD1 @GENE_5310 @@@PKD1@@@ cause @DISEASE_Polycystic_Kidney_Diseases @DISEASE_MESH:D007690 @@@<m>polycystic kidney disease</m>@@@",
    });
    let mentions = json!([
        doc_article,
        mention_from_fixture("search_page2.json", 38012346),
        mention_from_fixture("search_page3.json", 38012349),
    ]);
    assert_eq!(
        pkd1.evidence_data,
        json!({
            "hgnc_id": "HGNC:9008",
            "pmids": ["38012345", "38012346", "38012349"],
            "publication_count": 3,
            "mentions": mentions,
            "top_mentions": mentions,
            "total_mentions": 3,
            "identifiers": ["5310"],
            "evidence_score": (265.7 + 262.4 + 250.2) / 3.0,
            "search_query": PUBTATOR_SEARCH_QUERY,
            "last_updated": AS_OF,
        })
    );
}

#[tokio::test]
async fn a_gene_wrapped_in_query_markup_is_found() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| standard_page(page));
    let hits = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap();

    let text = mention_from_fixture("search_page3.json", 38012349)["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("@<m>GENE_PKD1</m> @GENE_5310 @@@<m>PKD1</m>@@@"));
    // The original's pattern over the raw text misses it...
    let original = regex_lite::Regex::new(r"@GENE_(\w+)\s+@GENE_(\d+)\s+@@@([^@]+)@@@").unwrap();
    assert!(!original.is_match(&text));
    // ... the fetcher does not, and keeps the highlighted passage as it came.
    let hit = hits.iter().find(|h| h.pmid == "38012349").expect("a hit");
    assert_eq!(hit.hgnc_id, "HGNC:9008");
    assert_eq!(hit.reported_symbols, vec!["PKD1"]);
    assert_eq!(hit.ncbi_gene_id.as_deref(), Some("5310"));
    assert_eq!(hit.mention.as_ref().unwrap().text, text);
}

#[tokio::test]
async fn an_unresolvable_gene_is_left_out_and_recorded() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| standard_page(page));
    let hits = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap();

    assert!(hits.iter().all(|h| h.pmid != "38012350"), "{hits:#?}");
    assert_eq!(
        *s.resolver.unresolved.lock().unwrap(),
        vec![("Pkd1".to_string(), Some("18763".to_string()))]
    );
    // One call per distinct gene of the chunk: PKD1, PKD2, NPHS1, Pkd1.
    assert_eq!(*s.resolver.calls.lock().unwrap(), 4);
}

#[tokio::test]
async fn a_404_past_the_end_ends_the_chunk() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| match page {
        1..=3 => standard_page(page),
        _ => MockResponse::new(404, "Not Found"),
    });
    let hits = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap();
    assert_eq!(pmids(&hits).len(), 4);
    // A 404 is final: asked once.
    assert_eq!(
        pages_requested(&s.server)
            .iter()
            .filter(|&&p| p == 4)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_chunk_ends_at_the_page_total_pages_names() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| {
        let mut body = json_fixture(match page {
            1 => "search_page1.json",
            _ => "search_page2.json",
        });
        body["total_pages"] = json!(2);
        MockResponse::json(&body)
    });
    let hits = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap();
    assert_eq!(pmids(&hits).len(), 3);
    let requested = pages_requested(&s.server);
    assert!(
        requested.contains(&2) && requested.iter().all(|&p| p <= 2 + 2),
        "{requested:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Smart mode

#[tokio::test]
async fn smart_mode_stops_a_chunk_after_a_streak_of_stale_pages() {
    // Page 3 has new articles; every other page repeats page 1 or 2, whose PMIDs are stored.
    let answer = |page: u32, _| match page {
        3 => standard_page(3),
        p if p % 2 == 1 => standard_page(1),
        _ => standard_page(2),
    };
    let known = ["38012345", "38012346", "38012347", "38012348"].map(String::from);
    let smart = PubTatorConfig {
        mode: UpdateMode::Smart,
        stale_pages_to_stop: 3,
        ..full_mode()
    };
    let s = setup(smart.clone()).await;
    serve(&s.server, answer);
    let live = s.fetcher.with_known_pmids(known.clone());
    let hits = live
        .fetch(&PubTatorChunk::Pages { from: 1, to: 50 })
        .await
        .unwrap();
    // Pages 1, 2 stale; 3 new (the streak restarts); 4, 5, 6 stale: the chunk stops there.
    // Only the new article's hit: known PMIDs are skipped.
    assert_eq!(pmids(&hits), BTreeSet::from(["38012349".to_string()]));
    let last = *pages_requested(&s.server).iter().max().unwrap();
    let in_flight = smart.pages_in_flight as u32;
    assert!(
        (6..=6 + in_flight - 1).contains(&last),
        "last page asked: {last}"
    );
    assert_eq!(live.run_mode(), RunMode::Merge);

    // The same pages in full mode: every page, known articles included.
    let s = setup(PubTatorConfig {
        mode: UpdateMode::Full,
        stale_pages_to_stop: 3,
        ..full_mode()
    })
    .await;
    serve(&s.server, answer);
    let live = s.fetcher.with_known_pmids(known);
    let hits = live
        .fetch(&PubTatorChunk::Pages { from: 1, to: 50 })
        .await
        .unwrap();
    assert_eq!(pages_requested(&s.server).len(), 50);
    assert_eq!(pmids(&hits).len(), 4);
}

#[tokio::test]
async fn smart_mode_with_new_articles_on_every_page_walks_the_whole_chunk() {
    let s = setup(PubTatorConfig {
        mode: UpdateMode::Smart,
        stale_pages_to_stop: 2,
        ..full_mode()
    })
    .await;
    serve(&s.server, |page, _| match page {
        3 => standard_page(3),
        p if p % 2 == 1 => standard_page(1),
        _ => standard_page(2),
    });
    // Only page 1's article is stored: page 2 (3 articles, none known) is never stale, so
    // the streak never reaches 2.
    let live = s.fetcher.with_known_pmids(["38012345".to_string()]);
    let hits = live
        .fetch(&PubTatorChunk::Pages { from: 1, to: 12 })
        .await
        .unwrap();
    assert_eq!(pages_requested(&s.server).len(), 12);
    assert!(pmids(&hits).contains("38012346"));
    assert!(!pmids(&hits).contains("38012345"));
}

// ---------------------------------------------------------------------------------------------
// Provider failures

#[tokio::test]
async fn a_429_waits_for_retry_after_then_the_page_is_read() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, attempt| match (page, attempt) {
        (2, 0) => MockResponse::new(429, "Too Many Requests").header("Retry-After", "1"),
        _ => standard_page(page),
    });
    let hits = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap();
    assert_eq!(pmids(&hits).len(), 4);
    let page2: Vec<_> = s
        .server
        .requests_to(SEARCH_URL)
        .into_iter()
        .filter(|r| page_of(r) == 2)
        .collect();
    assert_eq!(page2.len(), 2);
    let waited = page2[1].at - page2[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[tokio::test]
async fn a_5xx_is_retried_then_the_page_is_read() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, attempt| match (page, attempt) {
        (3, 0) => MockResponse::new(503, "Service Unavailable"),
        (3, 1) => MockResponse::new(502, "Bad Gateway"),
        _ => standard_page(page),
    });
    let hits = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap();
    assert!(pmids(&hits).contains("38012349"));
    assert_eq!(
        pages_requested(&s.server)
            .iter()
            .filter(|&&p| p == 3)
            .count(),
        3
    );
}

#[tokio::test]
async fn a_5xx_that_persists_fails_the_chunk() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| match page {
        2 => MockResponse::new(500, "Internal Server Error"),
        _ => standard_page(page),
    });
    let err = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap_err();
    assert!(matches!(err, SourceError::Fetch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("page 2") && message.contains("500"),
        "{message}"
    );
    // One try and three retries.
    assert_eq!(
        pages_requested(&s.server)
            .iter()
            .filter(|&&p| p == 2)
            .count(),
        4
    );
}

#[tokio::test]
async fn a_malformed_page_fails_the_chunk() {
    let truncated = fixture("search_page2.json")[..200].to_string();
    let mut no_pmid = json_fixture("search_page2.json");
    no_pmid["results"][1]
        .as_object_mut()
        .unwrap()
        .remove("pmid");
    let mut no_results = json_fixture("search_page2.json");
    no_results.as_object_mut().unwrap().remove("results");
    for (what, body) in [
        ("truncated JSON", truncated),
        ("a result without a PMID", no_pmid.to_string()),
        ("no results key", no_results.to_string()),
    ] {
        let s = setup(full_mode()).await;
        serve(&s.server, move |page, _| match page {
            2 => MockResponse::ok(body.clone()),
            _ => standard_page(page),
        });
        let err = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap_err();
        assert!(
            matches!(err, SourceError::Malformed { .. }),
            "{what}: {err}"
        );
        assert!(err.to_string().contains("page 2"), "{what}: {err}");
        // Not retried: a garbled page is the chunk's failure, for the queue to retry.
        assert_eq!(
            pages_requested(&s.server)
                .iter()
                .filter(|&&p| p == 2)
                .count(),
            1,
            "{what}"
        );
    }
}

#[tokio::test]
async fn an_empty_first_page_fails_the_plan_and_the_first_chunk() {
    let s = setup(full_mode()).await;
    serve(&s.server, |_, _| {
        MockResponse::ok(fixture("search_no_results.json"))
            .header("content-type", "application/json")
    });
    let err = s.fetcher.plan().await.unwrap_err();
    assert!(err.to_string().contains("no results on page 1"), "{err}");
    let err = s.fetcher.fetch(&FIRST_CHUNK).await.unwrap_err();
    assert!(err.to_string().contains("no results on page 1"), "{err}");
    // A later chunk whose first page is empty: the results ended before it, nothing to add.
    let hits = s
        .fetcher
        .fetch(&PubTatorChunk::Pages {
            from: 501,
            to: 1000,
        })
        .await
        .unwrap();
    assert!(hits.is_empty());

    let s = setup(full_mode()).await;
    serve(&s.server, |_, _| MockResponse::new(404, "Not Found"));
    assert!(s.fetcher.plan().await.is_err());
    assert!(s.fetcher.fetch(&FIRST_CHUNK).await.is_err());
}

#[tokio::test]
async fn the_snapshot_chunk_is_not_the_live_fetchers() {
    let s = setup(full_mode()).await;
    serve(&s.server, |page, _| standard_page(page));
    assert!(s.fetcher.fetch(&PubTatorChunk::All).await.is_err());
    assert!(
        s.fetcher
            .fetch(&PubTatorChunk::Pages { from: 5, to: 4 })
            .await
            .is_err()
    );
    assert!(s.server.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// The rate limit

#[tokio::test]
async fn the_walk_keeps_to_ncbis_three_requests_per_second() {
    let s = setup_with(full_mode(), DomainLimits::original()).await;
    assert_eq!(
        s.fetcher.config().search_url,
        "https://www.ncbi.nlm.nih.gov/research/pubtator3-api/search/"
    );
    // Page 1, then page 2's articles served as pages 2-16.
    serve(&s.server, |page, _| match page {
        1 => standard_page(1),
        _ => standard_page(2),
    });
    // plan() opens the connection; the walk's requests are then measured alone.
    s.fetcher.plan().await.unwrap();
    s.server.clear_log();
    let pages = 15u32;
    let hits = s
        .fetcher
        .fetch(&PubTatorChunk::Pages { from: 1, to: pages })
        .await
        .unwrap();
    assert_eq!(pmids(&hits).len(), 3);
    let log = s.server.requests_to(SEARCH_URL);
    assert_eq!(log.len(), pages as usize);
    let span = (log.last().unwrap().at - log[0].at).as_secs_f64();
    let rate = f64::from(pages - 1) / span;
    let limit = DomainLimits::original()
        .rate("www.ncbi.nlm.nih.gov")
        .unwrap();
    assert_eq!(limit, 3.0);
    // At least 90 % of the limit; at most the limit, give or take the arrival-time jitter of
    // local requests (a few ms over the ~4.7 s measured: 1 %).
    assert!(rate >= 0.9 * limit, "{rate:.3} req/s");
    assert!(rate <= limit * 1.01, "{rate:.3} req/s");
}
