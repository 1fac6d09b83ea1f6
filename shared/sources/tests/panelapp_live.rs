//! PanelApp's live fetcher against the mock server answering PanelApp's real URLs from the
//! fixtures (`tests/fixtures/panelapp/`), through `Source::normalize` as a run does.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestResolver, client, fixture, json_fixture, keys, query, records, server};
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};
use kgdb_fetch::DomainLimits;
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_sources::files::SnapshotDir;
use kgdb_sources::panelapp::live::{AUSTRALIA_BASE, PanelAppLive, PanelAppLiveConfig, UK_BASE};
use kgdb_sources::panelapp::snapshot::PanelAppSnapshot;
use kgdb_sources::panelapp::{PanelApp, Region};
use serde_json::json;

fn search_url(base: &str) -> String {
    format!("{base}/panels/")
}

fn panel_url(base: &str, id: i64) -> String {
    format!("{base}/panels/{id}/")
}

/// The fixture answering a UK search, by keyword and page; every other keyword finds nothing.
fn uk_search(name: &str, page: Option<&str>) -> MockResponse {
    let file = match (name, page) {
        ("kidney", None) => "uk_search_kidney_page1.json",
        ("kidney", Some("2")) => "uk_search_kidney_page2.json",
        ("renal", None) => "uk_search_renal.json",
        ("cystic kidney", None) => "uk_search_cystic_kidney.json",
        ("complement", None) => "uk_search_complement.json",
        _ => "search_empty.json",
    };
    json_fixture(&format!("panelapp/{file}"))
}

fn au_search(name: &str, page: Option<&str>) -> MockResponse {
    match (name, page) {
        ("kidney", None) => json_fixture("panelapp/au_search_kidney.json"),
        _ => json_fixture("panelapp/search_empty.json"),
    }
}

/// PanelApp UK and Australia as the fixtures have them; panel 521 is gone (404).
fn install(server: &MockServer) {
    server.route("GET", &search_url(UK_BASE), |req| {
        let q = query(req);
        uk_search(
            q.get("name").map_or("", String::as_str),
            q.get("page").map(String::as_str),
        )
    });
    server.route("GET", &search_url(AUSTRALIA_BASE), |req| {
        let q = query(req);
        au_search(
            q.get("name").map_or("", String::as_str),
            q.get("page").map(String::as_str),
        )
    });
    for id in [283, 156, 106, 487] {
        server.script(
            "GET",
            &panel_url(UK_BASE, id),
            vec![json_fixture(&format!("panelapp/uk_panel_{id}.json"))],
        );
    }
    server.script(
        "GET",
        &panel_url(UK_BASE, 521),
        vec![MockResponse::new(404, r#"{"detail":"Not found."}"#)],
    );
    server.script(
        "GET",
        &panel_url(AUSTRALIA_BASE, 275),
        vec![json_fixture("panelapp/au_panel_275.json")],
    );
}

async fn setup() -> (MockServer, PanelAppLive, Arc<TestResolver>) {
    let server = server().await;
    install(&server);
    let resolver = TestResolver::kidney();
    let live = PanelAppLive::new(client(&server, DomainLimits::new([])), resolver.clone());
    (server, live, resolver)
}

fn panel_ids(record: &kgdb_core::EvidenceRecord) -> Vec<(i64, String)> {
    record.evidence_data["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().expect("panel id"),
                p["region"].as_str().expect("panel region").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn uk_kidney_panels_green_genes_through_the_normalizer() {
    let (server, live, resolver) = setup().await;
    let raw = live.fetch(&Region::Uk).await.unwrap();
    let genes = records(&PanelApp, raw);

    let pkd1 = &genes["PKD1"];
    assert_eq!(pkd1.hgnc_id, "HGNC:9008");
    assert_eq!(
        pkd1.evidence_data,
        json!({
            "hgnc_id": "HGNC:9008",
            "panels": [
                {"id": 156, "name": "Unexplained kidney failure in young people", "version": "1.119", "region": "UK"},
                {"id": 283, "name": "Cystic kidney disease", "version": "5.12", "region": "UK"},
                {"id": 487, "name": "Cystic renal disease", "version": "8.7", "region": "UK"},
            ],
            "regions": ["UK"],
            "phenotypes": ["Polycystic kidney disease 1, OMIM:173900"],
            "modes_of_inheritance": ["MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted"],
            "evidence_levels": ["green"],
            "panel_count": 3,
            "last_updated": "2024-05-03",
        })
    );
    assert_eq!(pkd1.source_detail, "PanelApp (UK): 3 panels");
    assert_eq!(pkd1.evidence_date.unwrap().to_string(), "2024-05-03");

    let nphs1 = &genes["NPHS1"];
    assert_eq!(
        panel_ids(nphs1),
        vec![(106, "UK".into()), (156, "UK".into())]
    );
    assert_eq!(
        nphs1.evidence_data["phenotypes"],
        json!(["Nephrotic syndrome, type 1, OMIM:256300"])
    );

    // Red on 283 but Green on 106: only 106 counts. CEP290 is Amber only: no evidence.
    assert_eq!(panel_ids(&genes["COL4A5"]), vec![(106, "UK".into())]);
    assert!(!genes.contains_key("CEP290"), "Amber is not evidence");
    let mut symbols: Vec<&str> = genes.keys().map(String::as_str).collect();
    symbols.sort();
    assert_eq!(symbols, vec!["CILK1", "COL4A4", "COL4A5", "NPHS1", "PKD1"]);

    // Amber and Red genes never reach the resolver; the nameless entry was dropped.
    assert_eq!(
        resolver.asked_symbols(),
        vec!["COL4A4", "COL4A5", "ICK", "NPHS1", "PKD1", "WDR60"]
    );
    let asked = resolver.asked();
    assert_eq!(
        asked.iter().filter(|a| a.1 == "PKD1").count(),
        1,
        "one question per distinct gene of a chunk: {asked:?}"
    );
    assert!(
        asked
            .iter()
            .all(|a| a.0 == SourceName::PanelApp && a.2.is_some()),
        "PanelApp's HGNC id goes to the resolver: {asked:?}"
    );

    // Pagination followed; 283 listed twice, read once; the non-kidney 398 never read.
    let searches = server.requests_to(&search_url(UK_BASE));
    assert!(
        searches
            .iter()
            .any(|r| r.query.as_deref().unwrap_or_default().contains("page=2")),
        "`next` followed"
    );
    assert_eq!(server.requests_to(&panel_url(UK_BASE, 283)).len(), 1);
    assert!(server.requests_to(&panel_url(UK_BASE, 398)).is_empty());
    // The 404 panel was asked once (a 404 is not retried) and skipped.
    assert_eq!(server.requests_to(&panel_url(UK_BASE, 521)).len(), 1);
    assert!(server.requests_to(&search_url(AUSTRALIA_BASE)).is_empty());
}

#[tokio::test]
async fn every_kidney_keyword_is_searched_with_format_json() {
    let (server, live, _) = setup().await;
    live.fetch(&Region::Uk).await.unwrap();
    let names: Vec<String> = server
        .requests_to(&search_url(UK_BASE))
        .iter()
        .filter_map(|r| {
            let q = query(r);
            assert_eq!(q.get("format").map(String::as_str), Some("json"), "{q:?}");
            (!q.contains_key("page")).then(|| q["name"].clone())
        })
        .collect();
    let expected: Vec<String> = kgdb_sources::panelapp::live::SEARCH_KEYWORDS
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn a_symbol_the_resolver_cannot_resolve_is_left_out_and_recorded() {
    let (_server, live, resolver) = setup().await;
    let genes = records(&PanelApp, live.fetch(&Region::Uk).await.unwrap());
    assert_eq!(
        resolver.unresolved(),
        vec![(
            SourceName::PanelApp,
            "WDR60".to_string(),
            Some("HGNC:21862".to_string())
        )]
    );
    assert!(genes.values().all(|r| r.hgnc_id != "HGNC:21862"));
}

#[tokio::test]
async fn a_renamed_symbol_becomes_the_resolved_gene() {
    let (_server, live, resolver) = setup().await;
    let genes = records(&PanelApp, live.fetch(&Region::Uk).await.unwrap());
    let cilk1 = &genes["CILK1"];
    assert_eq!(cilk1.hgnc_id, "HGNC:21219");
    assert_eq!(cilk1.reported_symbols, vec!["ICK"]);
    assert_eq!(cilk1.evidence_data["hgnc_id"], "HGNC:21219");
    assert_eq!(panel_ids(cilk1), vec![(487, "UK".into())]);
    assert!(!genes.contains_key("ICK"));
    assert!(resolver.asked().contains(&(
        SourceName::PanelApp,
        "ICK".to_string(),
        Some("HGNC:21219".to_string())
    )));

    let au = records(&PanelApp, live.fetch(&Region::Australia).await.unwrap());
    assert_eq!(au["MMUT"].reported_symbols, vec!["MUT"]);
    assert!(!au.contains_key("CEP41"), "Amber on 275");
}

#[tokio::test]
async fn both_regions_join_into_one_record_per_gene_with_the_snapshots_keys() {
    let (_server, live, _) = setup().await;
    let chunks = live.plan().await.unwrap();
    assert_eq!(chunks, vec![Region::Uk, Region::Australia]);
    let mut raw = Vec::new();
    for chunk in &chunks {
        raw.extend(live.fetch(chunk).await.unwrap());
    }
    let genes = records(&PanelApp, raw);
    let pkd1 = &genes["PKD1"];
    assert_eq!(pkd1.evidence_data["regions"], json!(["Australia", "UK"]));
    assert_eq!(pkd1.evidence_data["panel_count"], 4);
    assert!(panel_ids(pkd1).contains(&(275, "Australia".into())));
    assert_eq!(pkd1.source_detail, "PanelApp (Australia, UK): 4 panels");

    let snapshot = PanelAppSnapshot::new(SnapshotDir::in_repo());
    let mut offline = snapshot.fetch(&Region::Uk).await.unwrap();
    offline.extend(snapshot.fetch(&Region::Australia).await.unwrap());
    let offline = records(&PanelApp, offline);
    assert_eq!(
        keys(&pkd1.evidence_data),
        keys(&offline["PKD1"].evidence_data)
    );
    assert_eq!(
        keys(&pkd1.evidence_data["panels"][0]),
        keys(&offline["PKD1"].evidence_data["panels"][0])
    );
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_the_panel_is_read() {
    let (server, live, _) = setup().await;
    server.script(
        "GET",
        &panel_url(UK_BASE, 283),
        vec![
            MockResponse::new(429, "Request was throttled.").header("Retry-After", "1"),
            json_fixture("panelapp/uk_panel_283.json"),
        ],
    );
    let genes = records(&PanelApp, live.fetch(&Region::Uk).await.unwrap());
    assert_eq!(genes["PKD1"].evidence_data["panel_count"], 3);
    let log = server.requests_to(&panel_url(UK_BASE, 283));
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[tokio::test]
async fn a_5xx_on_a_search_page_is_retried() {
    let (server, live, _) = setup().await;
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = failures.clone();
    server.route("GET", &search_url(UK_BASE), move |req| {
        let q = query(req);
        let name = q.get("name").map_or("", String::as_str);
        if name == "renal" && seen.fetch_add(1, Ordering::SeqCst) < 2 {
            return MockResponse::new(503, "Service Unavailable");
        }
        uk_search(name, q.get("page").map(String::as_str))
    });
    let genes = records(&PanelApp, live.fetch(&Region::Uk).await.unwrap());
    assert_eq!(
        failures.load(Ordering::SeqCst),
        3,
        "two 503s, then the page"
    );
    assert!(
        genes.contains_key("COL4A4"),
        "106, found by `renal`, was read"
    );
}

#[tokio::test]
async fn a_5xx_that_persists_fails_the_region() {
    let (server, live, _) = setup().await;
    server.script(
        "GET",
        &panel_url(UK_BASE, 106),
        vec![MockResponse::new(500, "Internal Server Error")],
    );
    let err = live.fetch(&Region::Uk).await.unwrap_err();
    assert!(matches!(err, SourceError::Fetch { .. }), "{err}");
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert_eq!(
        server.requests_to(&panel_url(UK_BASE, 106)).len(),
        4,
        "one try and three retries"
    );
}

#[tokio::test]
async fn a_page_that_is_not_json_fails_the_region() {
    let (server, live, _) = setup().await;
    server.route("GET", &search_url(UK_BASE), |req| {
        let q = query(req);
        match (q.get("name").map(String::as_str), q.get("page")) {
            (Some("kidney"), Some(_)) => MockResponse::ok("<html><body>Bad Gateway</body></html>"),
            (name, page) => uk_search(name.unwrap_or_default(), page.map(String::as_str)),
        }
    });
    let err = live.fetch(&Region::Uk).await.unwrap_err();
    assert!(matches!(err, SourceError::Malformed { .. }), "{err}");

    // JSON, but not a panel list.
    server.route("GET", &search_url(UK_BASE), |_| {
        MockResponse::json(&json!({"detail": "Invalid page."}))
    });
    let err = live.fetch(&Region::Uk).await.unwrap_err();
    assert!(err.to_string().contains("no `results` list"), "{err}");

    // A panel detail without its genes.
    install(&server);
    server.script(
        "GET",
        &panel_url(UK_BASE, 156),
        vec![MockResponse::json(
            &json!({"id": 156, "name": "Unexplained kidney failure in young people"}),
        )],
    );
    let err = live.fetch(&Region::Uk).await.unwrap_err();
    assert!(err.to_string().contains("no `genes` list"), "{err}");
}

#[tokio::test]
async fn an_empty_answer_fails_the_region() {
    let (server, live, _) = setup().await;
    server.route("GET", &search_url(UK_BASE), |_| {
        json_fixture("panelapp/search_empty.json")
    });
    let err = live.fetch(&Region::Uk).await.unwrap_err();
    assert!(err.to_string().contains("empty result"), "{err}");

    // Kidney panels listed, but every one of them gone.
    install(&server);
    for id in [283, 156, 106, 487] {
        server.script(
            "GET",
            &panel_url(UK_BASE, id),
            vec![MockResponse::new(404, r#"{"detail":"Not found."}"#)],
        );
    }
    let err = live.fetch(&Region::Uk).await.unwrap_err();
    assert!(err.to_string().contains("empty result"), "{err}");
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let (server, live, _) = setup().await;
    let page1 = fixture("panelapp/uk_search_kidney_page1.json").replace(
        "https://panelapp.genomicsengland.co.uk/",
        "https://elsewhere.example/",
    );
    server.route("GET", &search_url(UK_BASE), move |req| {
        let q = query(req);
        match q.get("name").map(String::as_str) {
            Some("kidney") => MockResponse::ok(page1.clone()),
            name => uk_search(name.unwrap_or_default(), None),
        }
    });
    let err = live.fetch(&Region::Uk).await.unwrap_err();
    assert!(err.to_string().contains("leaves"), "{err}");
}

#[tokio::test]
async fn requests_are_spaced_by_the_original_limit() {
    let server = server().await;
    install(&server);
    let config = PanelAppLiveConfig {
        search_keywords: vec!["kidney".into()],
        ..PanelAppLiveConfig::default()
    };
    let live = PanelAppLive::with_config(
        client(&server, DomainLimits::original()),
        TestResolver::kidney(),
        config,
    );
    live.fetch(&Region::Uk).await.unwrap();
    let mut times: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    times.sort();
    // Two search pages and the details of 283 and 156, at 5/s.
    assert_eq!(times.len(), 4);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(180), "gap {gap:?}");
    }
}
