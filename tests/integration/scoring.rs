//! The score of every gene, recomputed here from the raw snapshot rows by the documented
//! formula (docs/scoring.md, with ClinGen scored by its best classification), must
//! equal what the views compute and the API reports.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kgdb_tests::{get, loaded_db, loaded_state, snapshot_csv, snapshot_json_files};

type Counts = HashMap<String, f64>;

fn hgnc(raw: &str) -> String {
    format!("HGNC:{}", raw.trim().trim_start_matches("HGNC:"))
}

/// PanelApp: number of Green panels per gene.
fn panelapp_counts() -> Counts {
    snapshot_csv("01_PanelApp_genes")
        .iter()
        .filter_map(|row| {
            let green = row["source"]
                .split(" | ")
                .filter(|i| i.contains("confidence=Green"))
                .count();
            (green > 0).then(|| (hgnc(&row["hgnc_id"]), green as f64))
        })
        .collect()
}

/// HPO: distinct HP terms + distinct diseases.
fn hpo_counts() -> Counts {
    snapshot_csv("04_HPO_genes")
        .iter()
        .map(|row| {
            let diseases: BTreeSet<&str> = row["source"]
                .split("; ")
                .map(|i| i.split(" (").next().unwrap_or(i))
                .collect();
            let terms: BTreeSet<&str> = row["source"]
                .split(['(', ')', '|', ';', ' '])
                .filter(|t| t.starts_with("HP:"))
                .collect();
            (hgnc(&row["hgnc_id"]), (diseases.len() + terms.len()) as f64)
        })
        .collect()
}

/// PubTator: distinct PMIDs.
fn pubtator_counts() -> Counts {
    snapshot_csv("05_PubTator_genes")
        .iter()
        .map(|row| {
            let pmids: BTreeSet<&str> = row["source"].split(" | ").collect();
            (hgnc(&row["hgnc_id"]), pmids.len() as f64)
        })
        .collect()
}

/// DiagnosticPanels: distinct (lab, panel) pairs across the nine lab files.
fn diagnostic_panel_counts() -> Counts {
    let mut pairs: HashMap<String, BTreeSet<(String, String)>> = HashMap::new();
    for lab in snapshot_json_files("diagnostic_panels") {
        let provider = lab["provider_name"].as_str().unwrap().to_string();
        for gene in lab["genes"].as_array().unwrap() {
            let Some(id) = gene["hgnc_id"].as_str() else {
                continue;
            };
            for panel in gene["panels"].as_array().unwrap() {
                pairs
                    .entry(hgnc(id))
                    .or_default()
                    .insert((provider.clone(), panel.as_str().unwrap().trim().to_string()));
            }
        }
    }
    pairs
        .into_iter()
        .map(|(k, v)| (k, v.len() as f64))
        .collect()
}

/// Literature: distinct publications.
fn literature_counts() -> Counts {
    let mut pubs: HashMap<String, BTreeSet<String>> = HashMap::new();
    for paper in snapshot_json_files("literature") {
        let pmid = paper["pmid"].as_str().unwrap().to_string();
        for gene in paper["genes"].as_array().unwrap() {
            if let Some(id) = gene["hgnc_id"].as_str() {
                pubs.entry(hgnc(id)).or_default().insert(pmid.clone());
            }
        }
    }
    pubs.into_iter().map(|(k, v)| (k, v.len() as f64)).collect()
}

/// Best classification weight of the annotated table's GenCC or ClinGen summary column.
fn classification_scores(column: &str, weights: &[(&str, f64)]) -> Counts {
    snapshot_csv("C_high_evidence_annotated_csv_table")
        .iter()
        .filter(|row| row[column] != "NULL")
        .map(|row| {
            let best = row[column]
                .split(" | ")
                .flat_map(|item| item.split(" (").next().unwrap_or("").split(", "))
                .map(|c| {
                    weights
                        .iter()
                        .find(|(w, _)| w.eq_ignore_ascii_case(c))
                        .map_or(0.0, |(_, v)| *v)
                })
                .fold(0.0, f64::max);
            (hgnc(&row["hgnc_id"]), best)
        })
        .collect()
}

/// percent_rank over counts > 0: (number of strictly smaller counts) / (n - 1), 0 when n = 1.
fn percent_rank(counts: &Counts) -> Counts {
    let positive: Vec<(&String, f64)> = counts
        .iter()
        .filter(|(_, c)| **c > 0.0)
        .map(|(k, c)| (k, *c))
        .collect();
    let n = positive.len();
    positive
        .iter()
        .map(|(gene, c)| {
            let smaller = positive.iter().filter(|(_, o)| o < c).count();
            let rank = if n > 1 {
                smaller as f64 / (n - 1) as f64
            } else {
                0.0
            };
            ((*gene).clone(), rank)
        })
        .collect()
}

/// Expected percentage score and source count of every gene, from the raw snapshot.
fn expected_scores() -> BTreeMap<String, (f64, usize)> {
    let gencc = [
        ("definitive", 1.0),
        ("strong", 0.8),
        ("moderate", 0.6),
        ("supportive", 0.5),
        ("limited", 0.4),
        ("disputed evidence", 0.2),
    ];
    let clingen = [
        ("definitive", 1.0),
        ("strong", 0.8),
        ("moderate", 0.6),
        ("limited", 0.4),
        ("disputed", 0.2),
    ];
    let per_source: Vec<Counts> = vec![
        percent_rank(&panelapp_counts()),
        percent_rank(&hpo_counts()),
        percent_rank(&pubtator_counts()),
        percent_rank(&diagnostic_panel_counts()),
        percent_rank(&literature_counts()),
        classification_scores("gencc_summary", &gencc),
        classification_scores("clingen_summary", &clingen),
    ];
    let active_sources = per_source.iter().filter(|s| !s.is_empty()).count() as f64;
    assert_eq!(active_sources, 7.0);
    let mut totals: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for source in &per_source {
        for (gene, score) in source {
            let entry = totals.entry(gene.clone()).or_default();
            entry.0 += score;
            entry.1 += 1;
        }
    }
    totals
        .into_iter()
        .map(|(gene, (sum, n))| (gene, (sum / active_sources * 100.0, n)))
        .collect()
}

#[tokio::test]
async fn every_gene_score_matches_the_formula_recomputed_from_raw_rows() {
    let expected = expected_scores();
    assert!(
        expected.len() > 2900,
        "about 3,000 genes in the snapshot, got {}",
        expected.len()
    );
    let client = loaded_db().client().await;
    let rows = client
        .query_typed("SELECT hgnc_id, percentage_score, source_count, evidence_tier, evidence_group FROM gene_scores", &[])
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        expected.len(),
        "every gene with evidence has a score row"
    );
    for row in rows {
        let id: String = row.get(0);
        let score: f64 = row.get(1);
        let count: i32 = row.get(2);
        let (want, want_count) = expected
            .get(&id)
            .unwrap_or_else(|| panic!("{id} not expected"));
        assert!(
            (score - want).abs() < 1e-9,
            "{id}: view says {score}, formula says {want}"
        );
        assert_eq!(count as usize, *want_count, "{id}: source count");
        let tier: String = row.get(3);
        let group: String = row.get(4);
        assert_eq!(
            tier,
            kgdb_core::vocab::tier_for(count.into(), score),
            "{id}: tier"
        );
        assert_eq!(
            group,
            kgdb_core::vocab::group_for(count.into(), score),
            "{id}: group"
        );
    }
}

#[tokio::test]
async fn key_kidney_genes_come_back_from_the_api_with_recomputed_scores() {
    let expected = expected_scores();
    let state = loaded_state().await;
    for (symbol, hgnc_id) in [
        ("PKD1", "HGNC:9008"),
        ("PKD2", "HGNC:9009"),
        ("COL4A5", "HGNC:2207"),
        ("NPHS1", "HGNC:7908"),
    ] {
        let reply = get(&state, &format!("/api/genes/{symbol}")).await;
        assert_eq!(reply.status, 200, "{symbol}: {}", reply.body);
        let attrs = &reply.body["data"]["attributes"];
        assert_eq!(attrs["hgnc_id"], hgnc_id);
        let (want, count) = expected[hgnc_id];
        let got = attrs["evidence_score"].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-9,
            "{symbol}: API {got} vs formula {want}"
        );
        assert!(count >= 5, "{symbol} has evidence from several sources");
        assert_eq!(attrs["evidence_count"], count);
        assert_eq!(attrs["sources"].as_array().unwrap().len(), count);
        assert_eq!(
            attrs["evidence_tier"],
            kgdb_core::vocab::tier_for(count as i64, want)
        );
        assert_eq!(
            attrs["evidence_group"],
            kgdb_core::vocab::group_for(count as i64, want)
        );
        // The breakdown adds up to the score.
        let breakdown: f64 = attrs["score_breakdown"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!(
            (breakdown / 7.0 * 100.0 - want).abs() < 0.01,
            "{symbol}: breakdown sums to the score"
        );
    }
}

#[tokio::test]
async fn clingen_is_scored_by_its_best_classification() {
    let client = loaded_db().client().await;
    // A gene whose ClinGen validities include a weaker classification before a stronger one.
    let rows = client
        .query_typed(
            "SELECT e.evidence_data, s.source_score FROM gene_evidence e
               JOIN gene_source_scores s ON s.gene_id = e.gene_id AND s.source_name = e.source_name
              WHERE e.source_name = 'ClinGen' AND jsonb_array_length(e.evidence_data -> 'classifications') > 1",
            &[],
        )
        .await
        .unwrap();
    assert!(
        !rows.is_empty(),
        "the snapshot has genes with several ClinGen classifications"
    );
    for row in rows {
        let data: serde_json::Value = row.get(0);
        let score: f64 = row.get(1);
        let best = data["validities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                kgdb_sources::classification::classification_weight(
                    kgdb_core::vocab::SourceName::ClinGen,
                    v["classification"].as_str().unwrap(),
                )
            })
            .fold(0.0, f64::max);
        assert_eq!(score, best, "{data}");
    }
}
