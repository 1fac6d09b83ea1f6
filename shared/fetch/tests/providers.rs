//! The ten live fetchers against the mock provider world (`mock::providers::install_all`):
//! every endpoint they call answers under its real URL, PKD1 gets a record from every source,
//! an unknown gene is not found everywhere; and the fallbacks (HGNC REST, gnomAD GraphQL,
//! E-utilities, UniProt search) answer consistently when the primary endpoints fail.

mod common;

use std::time::Duration;

use common::*;
use kgdb_fetch::HttpClient;
use kgdb_fetch::annotation::{AnnotationFetcher, FetchOutcome, GeneKey, MissKind};
use kgdb_fetch::mock::providers::{MPO_KIDNEY_TERM_COUNT, install_all};
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_fetch::sources::*;
use serde_json::json;

fn unknown() -> GeneKey {
    GeneKey {
        hgnc_id: "HGNC:99999".into(),
        symbol: "NOTAGENE".into(),
        ensembl_gene_id: Some("ENSG00000999999".into()),
        ncbi_gene_id: Some("99999999".into()),
        percentage_score: None,
    }
}

/// PKD2 too: STRING keeps only links between the chunk's genes (PKD1's partners are PKD2,
/// TSC2, PKHD1, …), and its fixture rows are the deliberately malformed ones of several sources.
fn genes() -> Vec<GeneKey> {
    vec![pkd1(), pkd2(), nphs1(), col4a5(), unknown()]
}

/// The fetchers as `Fetchers::live` builds them (default configurations).
fn live(client: &HttpClient) -> Vec<Box<dyn AnnotationFetcher>> {
    vec![
        Box::new(hgnc::HgncFetcher::new(client.clone())),
        Box::new(gnomad::GnomadFetcher::new(client.clone())),
        Box::new(clinvar::ClinvarFetcher::new(client.clone())),
        Box::new(hpo::HpoFetcher::new(client.clone())),
        Box::new(mpo_mgi::MpoMgiFetcher::new(client.clone())),
        Box::new(gtex::GtexFetcher::new(client.clone())),
        Box::new(descartes::DescartesFetcher::new(client.clone())),
        Box::new(string_ppi::StringPpiFetcher::new(client.clone())),
        Box::new(ensembl::EnsemblFetcher::new(client.clone())),
        Box::new(uniprot::UniprotFetcher::new(client.clone())),
    ]
}

async fn world() -> (MockServer, HttpClient) {
    let (server, client) = setup().await;
    install_all(&server);
    (server, client)
}

/// PKD1's values in each source, as the fixtures give them.
fn check_pkd1(source: &str, outcome: &FetchOutcome) {
    let a = annotations(outcome, "HGNC:9008");
    match source {
        "hgnc" => {
            assert_eq!(a["ensembl_gene_id"], "ENSG00000008710");
            assert_eq!(a["ncbi_gene_id"], "5310");
        }
        "gnomad" => {
            assert_eq!(a["pli"], json!(1.0));
            assert_eq!(a["lof_z"], json!(9.9605));
        }
        "clinvar" => {
            assert_eq!(a["total_count"], 6);
            assert_eq!(a["pathogenic_count"], 3);
        }
        "hpo" => {
            assert_eq!(a["gene_symbol"], "PKD1");
            assert_eq!(a["has_kidney_phenotype"], true);
        }
        "mpo_mgi" => {
            assert_eq!(a["mouse_orthologs"], json!(["Pkd1"]));
            assert_eq!(a["mpo_terms_searched"], json!(MPO_KIDNEY_TERM_COUNT));
            assert_eq!(a["has_kidney_phenotype"], true);
        }
        "gtex" => assert_eq!(a["tissues"]["Kidney_Cortex"]["median_tpm"], json!(8.34398)),
        "descartes" => assert_eq!(a["kidney_tpm"], json!(85.3475340076503)),
        "string_ppi" => assert_eq!(a["ppi_degree"], 1, "PKD2, the chunk's only partner"),
        "ensembl" => assert_eq!(a["chromosome"], "16"),
        "uniprot" => {
            assert_eq!(a["accession"], "P98161");
            assert_eq!(a["length"], 4303);
        }
        other => panic!("unexpected source {other}"),
    }
}

#[tokio::test]
async fn every_live_fetcher_gets_pkd1_and_misses_an_unknown_gene() {
    let (_server, client) = world().await;
    let genes = genes();
    let fetchers = live(&client);
    assert_eq!(fetchers.len(), 10);
    for fetcher in &fetchers {
        let source = fetcher.source();
        let outcome = fetcher
            .fetch(&genes)
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_accounted(&outcome, &genes);
        check_pkd1(source, &outcome);
        let (kind, why) = miss(&outcome, "HGNC:99999");
        assert_eq!(kind, MissKind::NotFound, "{source}: {why}");
        // Only PKD2's malformed fixture rows fail a gene.
        assert!(
            outcome
                .misses
                .iter()
                .all(|m| m.kind == MissKind::NotFound || m.hgnc_id == "HGNC:9009"),
            "{source}: {:?}",
            outcome.misses
        );
    }
}

#[tokio::test]
async fn fixture_genes_beyond_pkd1_come_through_too() {
    let (_server, client) = world().await;
    let genes = genes();
    let gnomad = gnomad::GnomadFetcher::new(client.clone())
        .fetch(&genes)
        .await
        .unwrap();
    assert_eq!(annotations(&gnomad, "HGNC:7908")["oe_lof"], json!(0.52087));
    let gtex = gtex::GtexFetcher::new(client.clone())
        .fetch(&genes)
        .await
        .unwrap();
    assert_eq!(
        annotations(&gtex, "HGNC:2207")["tissues"]["Kidney_Cortex"]["median_tpm"],
        json!(7.02759)
    );
    let hpo = hpo::HpoFetcher::new(client.clone())
        .fetch(&genes)
        .await
        .unwrap();
    assert_eq!(annotations(&hpo, "HGNC:7908")["gene_symbol"], "NPHS1");
    // MouseMine has PKD2 (a fixture gene) and looks the others up one by one after an empty
    // bulk answer.
    let mpo = mpo_mgi::MpoMgiFetcher::new(client.clone())
        .fetch(&[pkd2(), nphs1()])
        .await
        .unwrap();
    assert_eq!(
        annotations(&mpo, "HGNC:9009")["mouse_orthologs"],
        json!(["Pkd2"])
    );
    assert_eq!(miss(&mpo, "HGNC:7908").0, MissKind::NotFound);
}

#[tokio::test]
async fn the_fallbacks_answer_from_the_same_fixtures_when_the_primary_endpoints_fail() {
    let (server, client) = world().await;
    for (method, url) in [
        ("GET", hgnc::BULK_URL),
        ("GET", gnomad::BULK_URL),
        ("GET", clinvar::VARIANT_SUMMARY_URL),
        ("POST", uniprot::RUN_URL),
    ] {
        server.script(method, url, vec![MockResponse::new(500, "down")]);
    }
    let genes = genes();

    let hgnc = hgnc::HgncFetcher::new(client.clone())
        .fetch(&genes)
        .await
        .unwrap();
    assert_accounted(&hgnc, &genes);
    let pkd1 = record(&hgnc, "HGNC:9008");
    assert_eq!(
        pkd1.metadata["origin"],
        "https://rest.genenames.org/fetch/hgnc_id/9008"
    );
    assert_eq!(pkd1.annotations["ensembl_gene_id"], "ENSG00000008710");
    assert_eq!(annotations(&hgnc, "HGNC:2207")["location"], "Xq22.3");
    assert_eq!(miss(&hgnc, "HGNC:99999").0, MissKind::NotFound);

    let gnomad = gnomad::GnomadFetcher::new(client.clone())
        .fetch(&genes)
        .await
        .unwrap();
    assert_accounted(&gnomad, &genes);
    let pkd1 = record(&gnomad, "HGNC:9008");
    assert_eq!(pkd1.metadata["origin"], gnomad::GRAPHQL_URL);
    // graphql_pkd1.json's own values.
    assert_eq!(pkd1.annotations["oe_lof"], json!(0.42));
    assert_eq!(annotations(&gnomad, "HGNC:7908")["oe_lof"], json!(0.52087));
    assert_eq!(miss(&gnomad, "HGNC:99999").0, MissKind::NotFound);

    let clinvar = clinvar::ClinvarFetcher::new(client.clone())
        .fetch(&genes)
        .await
        .unwrap();
    assert_accounted(&clinvar, &genes);
    let a = annotations(&clinvar, "HGNC:9008");
    assert_eq!(a["total_count"], 1);
    assert_eq!(a["molecular_consequences"], json!({"nonsense": 1}));
    assert_eq!(miss(&clinvar, "HGNC:7908").0, MissKind::NotFound);

    let fast = uniprot::UniprotConfig {
        poll_interval: Duration::from_millis(10),
        ..uniprot::UniprotConfig::default()
    };
    let uniprot = uniprot::UniprotFetcher::with_config(client.clone(), fast)
        .fetch(&genes)
        .await
        .unwrap();
    assert_accounted(&uniprot, &genes);
    assert_eq!(annotations(&uniprot, "HGNC:9008")["accession"], "P98161");
    assert_eq!(server.requests_to(uniprot::SEARCH_URL).len(), 1);
}

#[tokio::test]
async fn a_uniprot_job_runs_then_redirects_and_its_results_page_by_link() {
    let (server, client) = world().await;
    let config = uniprot::UniprotConfig {
        poll_interval: Duration::from_millis(10),
        page_size: 1,
        ..uniprot::UniprotConfig::default()
    };
    let genes = [pkd1(), pkd2(), unknown()];
    let outcome = uniprot::UniprotFetcher::with_config(client, config)
        .fetch(&genes)
        .await
        .unwrap();
    assert_accounted(&outcome, &genes);
    assert_eq!(annotations(&outcome, "HGNC:9008")["accession"], "P98161");
    assert_eq!(annotations(&outcome, "HGNC:9009")["accession"], "Q13563");
    let (kind, why) = miss(&outcome, "HGNC:99999");
    assert_eq!(kind, MissKind::NotFound);
    assert!(why.contains("failedIds"), "{why}");
    let status: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/idmapping/status/"))
        .collect();
    assert_eq!(status.len(), 2, "RUNNING, then the 303");
    let results: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/idmapping/uniprotkb/results/"))
        .collect();
    // The followed redirect, then one page per entry (PKD1 → P98161 and Q15139, PKD2).
    assert_eq!(results.len(), 4);
    assert!(results[3].query.as_deref().unwrap().contains("cursor=2"));
}
