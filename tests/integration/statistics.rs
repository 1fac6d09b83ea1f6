//! `/api/statistics/*` against the real data: every number is checked against SQL written here
//! over `gene_evidence` and `gene_scores`, independent of the views the handlers read.

use kgdb_core::vocab::VALID_TIERS;
use kgdb_tests::{apigw_get, body_json, loaded_db, loaded_state};
use serde_json::Value;

const OVERLAPS: &str = "/api/statistics/source-overlaps";
const DISTRIBUTIONS: &str = "/api/statistics/source-distributions";
const COMPOSITION: &str = "/api/statistics/evidence-composition";
const SUMMARY: &str = "/api/statistics/summary";

async fn call(resource: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let state = loaded_state().await;
    let response =
        kgdb_fn_statistics::handle(&state, apigw_get(resource, resource, query, &[])).await;
    (response.status().as_u16(), body_json(&response))
}

async fn ok(resource: &str, query: &[(&str, &str)]) -> Value {
    let (status, body) = call(resource, query).await;
    assert_eq!(status, 200, "{resource} {query:?}: {body}");
    body
}

/// One bigint from SQL with text parameters.
async fn count(sql: &str, params: &[&str]) -> i64 {
    kgdb_tests::scalar(sql, params).await
}

/// Genes with evidence and a score > 0 (what hide_zero_scores keeps).
const SCORED_EVIDENCE: &str = "SELECT e.gene_id, e.source_name FROM gene_evidence e
     JOIN gene_scores s ON s.gene_id = e.gene_id WHERE s.percentage_score > 0";

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn names(sets: &Value) -> Vec<String> {
    sets.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn overlaps_partition_the_scored_genes() {
    let body = ok(OVERLAPS, &[]).await;
    let data = &body["data"];
    let total = i(&data["total_unique_genes"]);
    let scored = count(
        &format!("SELECT count(DISTINCT gene_id) FROM ({SCORED_EVIDENCE}) x"),
        &[],
    )
    .await;
    assert_eq!(total, scored);
    assert!(
        total > 1000,
        "the real data has well over a thousand scored genes"
    );

    let intersections = data["intersections"].as_array().unwrap();
    let sizes: Vec<i64> = intersections.iter().map(|x| i(&x["size"])).collect();
    assert_eq!(
        sizes.iter().sum::<i64>(),
        total,
        "every gene is in exactly one intersection"
    );
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first");
    assert!(
        intersections.iter().all(|x| x.get("genes").is_none()),
        "no genes without detail"
    );

    let sets = data["sets"].as_array().unwrap();
    let set_names: Vec<&str> = sets.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        set_names,
        [
            "ClinGen",
            "DiagnosticPanels",
            "GenCC",
            "HPO",
            "Literature",
            "PanelApp",
            "PubTator"
        ]
    );
    for set in sets {
        let name = set["name"].as_str().unwrap();
        let expected = count(
            &format!(
                "SELECT count(DISTINCT gene_id) FROM ({SCORED_EVIDENCE}) x WHERE source_name = $1"
            ),
            &[name],
        )
        .await;
        assert_eq!(i(&set["size"]), expected, "{name}");
        // a set is the sum of the intersections containing it
        let from_intersections: i64 = intersections
            .iter()
            .filter(|x| names(&x["sets"]).iter().any(|n| n == name))
            .map(|x| i(&x["size"]))
            .sum();
        assert_eq!(from_intersections, expected, "{name}");
    }

    let stats = &data["overlap_statistics"];
    assert_eq!(i(&stats["highest_overlap_count"]), 7);
    assert_eq!(
        i(&stats["total_combinations"]) as usize,
        intersections.len()
    );
    assert_eq!(
        i(&stats["single_source_combinations"]) as usize,
        intersections
            .iter()
            .filter(|x| x["sets"].as_array().unwrap().len() == 1)
            .count()
    );
    let in_all = count(
        &format!(
            "SELECT count(*) FROM (SELECT gene_id FROM ({SCORED_EVIDENCE}) x GROUP BY gene_id
              HAVING count(DISTINCT source_name) = 7) y"
        ),
        &[],
    )
    .await;
    assert_eq!(i(&stats["genes_in_all_sources"]), in_all);

    let meta = &body["meta"];
    let version = count("SELECT version FROM data_version", &[]).await;
    assert_eq!(meta["data_version"], Value::String(version.to_string()));
    assert_eq!(meta["visualization_type"], "upset_plot");
    assert_eq!(meta["hide_zero_scores"], true);
    assert!(meta["query_duration_ms"].is_number());
    assert!(meta["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn overlaps_of_two_sources_match_sql() {
    let body = ok(OVERLAPS, &[("sources", "PanelApp"), ("sources", "ClinGen")]).await;
    let data = &body["data"];
    let both = count(
        &format!(
            "SELECT count(*) FROM (SELECT gene_id FROM ({SCORED_EVIDENCE}) x
              WHERE source_name IN ($1, $2) GROUP BY gene_id HAVING count(DISTINCT source_name) = 2) y"
        ),
        &["PanelApp", "ClinGen"],
    )
    .await;
    let either = count(
        &format!("SELECT count(DISTINCT gene_id) FROM ({SCORED_EVIDENCE}) x WHERE source_name IN ($1, $2)"),
        &["PanelApp", "ClinGen"],
    )
    .await;
    assert!(both > 0);
    assert_eq!(i(&data["total_unique_genes"]), either);
    assert_eq!(i(&data["overlap_statistics"]["genes_in_all_sources"]), both);
    let sets: Vec<&str> = data["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(sets, ["ClinGen", "PanelApp"]);
    let intersections = data["intersections"].as_array().unwrap();
    assert_eq!(intersections.len(), 3);
    let size_of = |wanted: &[&str]| -> i64 {
        intersections
            .iter()
            .find(|x| names(&x["sets"]) == wanted)
            .map(|x| i(&x["size"]))
            .unwrap_or(0)
    };
    assert_eq!(size_of(&["ClinGen", "PanelApp"]), both);
    let panelapp_only = count(
        &format!(
            "SELECT count(DISTINCT gene_id) FROM ({SCORED_EVIDENCE}) x WHERE source_name = 'PanelApp'
               AND gene_id NOT IN (SELECT gene_id FROM gene_evidence WHERE source_name = 'ClinGen')"
        ),
        &[],
    )
    .await;
    assert_eq!(size_of(&["PanelApp"]), panelapp_only);
}

#[tokio::test]
async fn overlaps_detail_lists_every_gene_once() {
    let body = ok(
        OVERLAPS,
        &[("detail", "true"), ("filter[hide_zero_scores]", "false")],
    )
    .await;
    let data = &body["data"];
    let mut all: Vec<String> = Vec::new();
    for x in data["intersections"].as_array().unwrap() {
        let genes: Vec<String> = x["genes"]
            .as_array()
            .unwrap_or_else(|| panic!("genes missing in {x}"))
            .iter()
            .map(|g| g.as_str().unwrap().to_string())
            .collect();
        assert_eq!(genes.len() as i64, i(&x["size"]));
        assert!(genes.windows(2).all(|w| w[0] <= w[1]), "sorted symbols");
        all.extend(genes);
    }
    let with_evidence = count("SELECT count(DISTINCT gene_id) FROM gene_evidence", &[]).await;
    assert_eq!(all.len() as i64, with_evidence);
    assert_eq!(i(&data["total_unique_genes"]), with_evidence);
    all.sort();
    all.dedup();
    assert_eq!(
        all.len() as i64,
        with_evidence,
        "no gene in two intersections"
    );

    // PKD1 sits in the intersection of exactly its sources.
    let client = loaded_db().client().await;
    let row = client
        .query_typed_one(
            "SELECT array_agg(e.source_name::text ORDER BY e.source_name::text COLLATE \"C\")
               FROM gene_evidence e JOIN genes g ON g.id = e.gene_id WHERE g.approved_symbol = 'PKD1'",
            &[],
        )
        .await
        .unwrap();
    let pkd1_sources: Vec<String> = row.get(0);
    let holder = data["intersections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["genes"].as_array().unwrap().iter().any(|g| g == "PKD1"))
        .expect("PKD1 listed");
    assert_eq!(names(&holder["sets"]), pkd1_sources);
}

#[tokio::test]
async fn tier_filter_narrows_every_route() {
    let all = i(&ok(OVERLAPS, &[]).await["data"]["total_unique_genes"]);
    let mut sum = 0;
    for tier in VALID_TIERS {
        let expected = count(
            "SELECT count(*) FROM gene_scores s WHERE s.evidence_tier = $1
                AND EXISTS (SELECT 1 FROM gene_evidence e WHERE e.gene_id = s.gene_id)",
            &[tier],
        )
        .await;
        let overlaps = ok(OVERLAPS, &[("filter[tier]", tier)]).await;
        assert_eq!(
            i(&overlaps["data"]["total_unique_genes"]),
            expected,
            "{tier}"
        );
        let composition = ok(COMPOSITION, &[("filter[tier]", tier)]).await;
        assert_eq!(
            i(&composition["data"]["summary_statistics"]["total_genes"]),
            expected,
            "{tier}"
        );
        let tiers = composition["data"]["evidence_tier_distribution"]
            .as_array()
            .unwrap();
        assert!(tiers.iter().all(|t| t["tier"] == tier));
        assert_eq!(
            composition["meta"]["filter_tiers"],
            serde_json::json!([tier])
        );
        sum += expected;
    }
    assert_eq!(sum, all, "the five tiers partition the scored genes");

    let two = ok(
        OVERLAPS,
        &[(
            "filter[tier]",
            "comprehensive_support, multi_source_support",
        )],
    )
    .await;
    let top = count(
        "SELECT count(*) FROM gene_scores WHERE evidence_tier IN ('comprehensive_support', 'multi_source_support')",
        &[],
    )
    .await;
    assert_eq!(i(&two["data"]["total_unique_genes"]), top);
    assert!(top < all);

    let unfiltered = ok(DISTRIBUTIONS, &[]).await;
    let narrowed = ok(DISTRIBUTIONS, &[("filter[tier]", "comprehensive_support")]).await;
    let mut narrower = false;
    for (source, dist) in narrowed["data"].as_object().unwrap() {
        let n = i(&dist["metadata"]["total_genes"]);
        let m = i(&unfiltered["data"][source]["metadata"]["total_genes"]);
        assert!(n <= m, "{source}: {n} > {m}");
        narrower |= n < m;
    }
    assert!(narrower);
}

#[tokio::test]
async fn showing_zero_scores_counts_every_gene() {
    let overlaps = ok(OVERLAPS, &[("filter[hide_zero_scores]", "false")]).await;
    let with_evidence = count("SELECT count(DISTINCT gene_id) FROM gene_evidence", &[]).await;
    assert_eq!(i(&overlaps["data"]["total_unique_genes"]), with_evidence);
    assert_eq!(overlaps["meta"]["hide_zero_scores"], false);

    let composition = ok(COMPOSITION, &[("filter[hide_zero_scores]", "false")]).await;
    let scored_rows = count("SELECT count(*) FROM gene_scores", &[]).await;
    assert_eq!(
        i(&composition["data"]["summary_statistics"]["total_genes"]),
        scored_rows
    );
    let zero = count(
        "SELECT count(*) FROM gene_scores WHERE evidence_tier = 'no_evidence'",
        &[],
    )
    .await;
    let listed = composition["data"]["evidence_tier_distribution"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == "no_evidence")
        .map(|t| i(&t["gene_count"]))
        .unwrap_or(0);
    assert_eq!(listed, zero);
}

#[tokio::test]
async fn composition_matches_gene_scores() {
    let body = ok(COMPOSITION, &[]).await;
    let data = &body["data"];
    let tiers = data["evidence_tier_distribution"].as_array().unwrap();
    let order: Vec<&str> = tiers.iter().map(|t| t["tier"].as_str().unwrap()).collect();
    assert_eq!(order, VALID_TIERS, "every scored tier, strongest first");
    for t in tiers {
        let tier = t["tier"].as_str().unwrap();
        let expected = count(
            "SELECT count(*) FROM gene_scores WHERE evidence_tier = $1 AND percentage_score > 0",
            &[tier],
        )
        .await;
        assert_eq!(i(&t["gene_count"]), expected, "{tier}");
        assert!(t["color"].as_str().unwrap().starts_with('#'));
        assert!(t["tier_label"].is_string());
    }
    let pct: f64 = tiers
        .iter()
        .map(|t| t["percentage"].as_f64().unwrap())
        .sum();
    assert!((pct - 100.0).abs() < 0.05, "{pct}");
    assert_eq!(
        data["evidence_quality_distribution"],
        data["evidence_tier_distribution"]
    );

    let total = count(
        "SELECT count(*) FROM gene_scores WHERE percentage_score > 0",
        &[],
    )
    .await;
    let summary = &data["summary_statistics"];
    assert_eq!(i(&summary["total_genes"]), total);
    let coverage = data["source_coverage_distribution"].as_array().unwrap();
    assert_eq!(
        coverage.iter().map(|c| i(&c["gene_count"])).sum::<i64>(),
        total
    );
    let counts: Vec<i64> = coverage.iter().map(|c| i(&c["source_count"])).collect();
    assert!(counts.windows(2).all(|w| w[0] > w[1]), "most sources first");
    let rows = count(&format!("SELECT count(*) FROM ({SCORED_EVIDENCE}) x"), &[]).await;
    assert_eq!(i(&summary["total_evidence_records"]), rows);
    assert_eq!(i(&summary["active_sources"]), 7);
    let client = loaded_db().client().await;
    let avg: f64 = client
        .query_typed_one(
            "SELECT round(avg(source_count), 2)::float8 FROM gene_scores WHERE percentage_score > 0",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(summary["avg_sources_per_gene"].as_f64(), Some(avg));
    let weights: f64 = data["source_contribution_weights"]
        .as_object()
        .unwrap()
        .values()
        .map(|w| w.as_f64().unwrap())
        .sum();
    assert!((weights - 1.0).abs() < 0.01, "{weights}");
    assert_eq!(body["meta"]["visualization_type"], "composition_analysis");
}

#[tokio::test]
async fn distributions_match_evidence() {
    let body = ok(DISTRIBUTIONS, &[]).await;
    let data = body["data"].as_object().unwrap();
    assert_eq!(data.len(), 7);
    assert_eq!(body["meta"]["source_count"], 7);

    // PanelApp: genes per number of panels.
    let panelapp = &data["PanelApp"];
    assert_eq!(
        panelapp["metadata"]["visualization_type"],
        "panel_histogram"
    );
    for cat in panelapp["distribution"].as_array().unwrap() {
        let n = cat["category"].as_i64().expect("numeric category");
        let expected = count(
            "SELECT count(*) FROM gene_evidence e JOIN gene_scores s ON s.gene_id = e.gene_id
              WHERE s.percentage_score > 0 AND e.source_name = 'PanelApp'
                AND jsonb_array_length(e.evidence_data -> 'panels') = $1::int",
            &[n.to_string().as_str()],
        )
        .await;
        assert_eq!(i(&cat["gene_count"]), expected, "PanelApp {n} panels");
    }
    for (source, dist) in data {
        let expected = count(
            &format!(
                "SELECT count(DISTINCT gene_id) FROM ({SCORED_EVIDENCE}) x WHERE source_name = $1"
            ),
            &[source.as_str()],
        )
        .await;
        let total: i64 = dist["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| i(&c["gene_count"]))
            .sum();
        if source == "ClinGen" || source == "GenCC" {
            // a gene counts once per classification it has
            assert!(total >= expected, "{source}");
        } else {
            assert_eq!(total, expected, "{source}");
        }
        assert_eq!(i(&dist["metadata"]["total_genes"]), total, "{source}");
    }

    // ClinGen: genes per classification, strongest first.
    let clingen = data["ClinGen"]["distribution"].as_array().unwrap();
    assert_eq!(clingen[0]["category"], "Definitive");
    let definitive = count(
        "SELECT count(*) FROM gene_evidence e JOIN gene_scores s ON s.gene_id = e.gene_id
          WHERE s.percentage_score > 0 AND e.source_name = 'ClinGen'
            AND e.evidence_data -> 'classifications' ? 'Definitive'",
        &[],
    )
    .await;
    assert_eq!(i(&clingen[0]["gene_count"]), definitive);
    assert_eq!(
        data["GenCC"]["metadata"]["visualization_type"],
        "classification_donut"
    );

    let bins = ["0", "1-5", "6-10", "11-20", "21-50", "50+"];
    let hpo: Vec<&str> = data["HPO"]["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert!(!hpo.is_empty());
    let positions: Vec<usize> = hpo
        .iter()
        .map(|c| bins.iter().position(|b| b == c).expect("known bin"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "bins in order");
    assert_eq!(
        data["DiagnosticPanels"]["metadata"]["visualization_type"],
        "provider_histogram"
    );
    assert_eq!(
        data["Literature"]["metadata"]["visualization_type"],
        "publication_histogram"
    );
}

#[tokio::test]
async fn summary_counts_genes_not_combinations() {
    let body = ok(SUMMARY, &[]).await;
    let data = &body["data"];
    let total = i(&data["overview"]["total_genes"]);
    let single = i(&data["coverage"]["single_source_genes"]);
    let multi = i(&data["coverage"]["multi_source_genes"]);
    assert_eq!(single + multi, total);
    let per_gene = format!("SELECT gene_id FROM ({SCORED_EVIDENCE}) x GROUP BY gene_id");
    assert_eq!(
        single,
        count(
            &format!("SELECT count(*) FROM ({per_gene} HAVING count(*) = 1) y"),
            &[]
        )
        .await
    );
    assert_eq!(
        multi,
        count(
            &format!("SELECT count(*) FROM ({per_gene} HAVING count(*) >= 2) y"),
            &[]
        )
        .await
    );
    assert!(
        single > 7,
        "genes, not the number of one-source combinations"
    );

    let overlaps = ok(OVERLAPS, &[]).await;
    assert_eq!(total, i(&overlaps["data"]["total_unique_genes"]));
    assert_eq!(
        data["overview"]["genes_in_all_sources"],
        overlaps["data"]["overlap_statistics"]["genes_in_all_sources"]
    );
    assert_eq!(
        i(&data["overview"]["total_intersections"]) as usize,
        overlaps["data"]["intersections"].as_array().unwrap().len()
    );
    assert_eq!(i(&data["overview"]["active_sources"]), 7);
    assert_eq!(i(&data["coverage"]["source_distribution_variety"]), 7);
    let high = count(
        "SELECT count(*) FROM gene_scores
          WHERE evidence_tier IN ('comprehensive_support', 'multi_source_support')",
        &[],
    )
    .await;
    assert_eq!(i(&data["quality"]["high_confidence_genes"]), high);

    // Pairwise overlaps: unfiltered, every pair once, largest first.
    let pairs = data["pairwise_overlaps"].as_array().unwrap();
    assert_eq!(pairs.len(), 21);
    let overlaps: Vec<i64> = pairs.iter().map(|p| i(&p["overlap_count"])).collect();
    assert!(overlaps.windows(2).all(|w| w[0] >= w[1]));
    let pair = pairs
        .iter()
        .find(|p| p["source1"] == "ClinGen" && p["source2"] == "PanelApp")
        .expect("ClinGen/PanelApp pair");
    let both = count(
        "SELECT count(*) FROM gene_evidence a JOIN gene_evidence b ON b.gene_id = a.gene_id
          WHERE a.source_name = 'PanelApp' AND b.source_name = 'ClinGen'",
        &[],
    )
    .await;
    assert_eq!(i(&pair["overlap_count"]), both);
    let clingen = count(
        "SELECT count(*) FROM gene_evidence WHERE source_name = 'ClinGen'",
        &[],
    )
    .await;
    assert_eq!(i(&pair["source1_total"]), clingen);
    let expected_pct = (both as f64 * 10000.0 / clingen as f64).round() / 100.0;
    assert_eq!(pair["overlap_percentage"].as_f64(), Some(expected_pct));
    for p in pairs {
        assert!(p["source1"].as_str() < p["source2"].as_str(), "{p}");
    }
    assert_eq!(body["meta"]["visualization_type"], "summary_dashboard");
}

#[tokio::test]
async fn bad_input_is_4xx_json() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16);
    let cases: &[Case] = &[
        (OVERLAPS, &[("filter[tier]", "bogus")], 422),
        (
            OVERLAPS,
            &[("filter[tier]", "comprehensive_support,no_evidence")],
            422,
        ),
        (
            OVERLAPS,
            &[("sources", "PanelApp"), ("sources", "Nope")],
            422,
        ),
        (OVERLAPS, &[("sources", "panelapp")], 422),
        (OVERLAPS, &[("sources", "")], 422),
        (OVERLAPS, &[("detail", "maybe")], 400),
        (OVERLAPS, &[("filter[hide_zero_scores]", "2")], 400),
        (
            DISTRIBUTIONS,
            &[("filter[tier]", "'; DROP TABLE genes; --")],
            422,
        ),
        (DISTRIBUTIONS, &[("filter[hide_zero_scores]", "")], 400),
        (COMPOSITION, &[("filter[tier]", "minimal_evidence,x")], 422),
        (SUMMARY, &[("filter[tier]", "x")], 422),
        ("/api/statistics/nothing", &[], 404),
    ];
    for (resource, query, status) in cases {
        let (got, body) = call(resource, query).await;
        assert_eq!(got, *status, "{resource} {query:?}: {body}");
        assert!(body["error"]["type"].is_string(), "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    // Empty tier lists are no filter, as in the original.
    let (status, _) = call(OVERLAPS, &[("filter[tier]", " , ")]).await;
    assert_eq!(status, 200);
}

/// The read models exist on a freshly migrated database (the original created one of them only from code nobody called) and each
/// has the unique index REFRESH ... CONCURRENTLY needs.
#[tokio::test]
async fn views_exist_and_refresh_concurrently() {
    for view in [
        "gene_source_membership",
        "source_combination_stats",
        "source_tier_stats",
        "source_distribution_stats",
        "evidence_tier_stats",
        "source_overlap_statistics",
        "datasource_stats",
        "datasource_totals",
        "datasource_top_genes",
    ] {
        assert!(
            kgdb_store::refresh::MATERIALIZED_VIEWS.contains(&view),
            "{view} is refreshed"
        );
        let unique = count(
            "SELECT count(*) FROM pg_indexes i JOIN pg_matviews m ON m.matviewname = i.tablename
              WHERE m.matviewname = $1 AND i.indexdef LIKE 'CREATE UNIQUE INDEX%'",
            &[view],
        )
        .await;
        assert!(unique >= 1, "{view} has a unique index");
    }
}
