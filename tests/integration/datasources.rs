//! `/api/datasources` against the real data: counts and metadata checked against SQL written
//! here over `gene_evidence`, `gene_scores` and `pipeline_runs`.

use kgdb_core::vocab::SourceName;
use kgdb_tests::{apigw_get, body_json, loaded_state, scalar};
use serde_json::Value;

const DETAIL: &str = "/api/datasources/{source_name}";

async fn call(resource: &str, path: &str, path_params: &[(&str, &str)]) -> (u16, Value) {
    let state = loaded_state().await;
    let response =
        kgdb_fn_datasources::handle(&state, apigw_get(resource, path, &[], path_params)).await;
    (response.status().as_u16(), body_json(&response))
}

async fn detail(name: &str) -> (u16, Value) {
    call(
        DETAIL,
        &format!("/api/datasources/{name}"),
        &[("source_name", name)],
    )
    .await
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[tokio::test]
async fn list_counts_match_evidence() {
    let (status, body) = call("/api/datasources/", "/api/datasources/", &[]).await;
    assert_eq!(status, 200, "{body}");
    let (status, without_slash) = call("/api/datasources", "/api/datasources", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        without_slash["data"], body["data"],
        "both spellings answer the same"
    );
    assert!(
        body["meta"]["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let data = &body["data"];
    let sources = data["sources"].as_array().unwrap();
    let names: Vec<&str> = sources
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "PanelApp",
            "PubTator",
            "ClinGen",
            "GenCC",
            "HPO",
            "DiagnosticPanels",
            "Literature"
        ]
    );
    for source in sources {
        let name = source["name"].as_str().unwrap();
        assert_eq!(source["status"], "active", "{name}");
        assert!(source["display_name"].is_string() && source["description"].is_string());
        assert!(source.get("url").is_some() && source.get("documentation_url").is_some());
        let stats = &source["stats"];
        let genes: i64 = scalar(
            "SELECT count(DISTINCT e.gene_id) FROM gene_evidence e
               JOIN gene_scores s ON s.gene_id = e.gene_id
              WHERE e.source_name = $1 AND s.percentage_score > 0",
            &[name],
        )
        .await;
        assert!(genes > 0, "{name}");
        assert_eq!(i(&stats["gene_count"]), genes, "{name}");
        assert_eq!(
            i(&stats["evidence_count"]),
            genes,
            "{name}: one row per gene and source"
        );
        assert!(stats["last_updated"].is_string(), "{name}");
        assert!(stats["metadata"]["type"].is_string(), "{name}");
    }
    let by_name =
        |n: &str| sources.iter().find(|s| s["name"] == n).unwrap()["stats"]["metadata"].clone();

    let pmids: i64 = scalar(
        "SELECT count(DISTINCT p) FROM gene_evidence, jsonb_array_elements_text(evidence_data -> 'pmids') p
          WHERE source_name = 'PubTator'",
        &[],
    )
    .await;
    let pubtator = by_name("PubTator");
    assert_eq!(i(&pubtator["publications"]), pmids);
    assert_eq!(
        pubtator["search_query"],
        kgdb_core::vocab::PUBTATOR_SEARCH_QUERY
    );
    let terms: i64 = scalar(
        "SELECT count(DISTINCT t) FROM gene_evidence, jsonb_array_elements_text(evidence_data -> 'hpo_terms') t
          WHERE source_name = 'HPO'",
        &[],
    )
    .await;
    assert_eq!(i(&by_name("HPO")["phenotype_terms"]), terms);
    let providers: Vec<String> = scalar(
        "SELECT array_agg(DISTINCT p ORDER BY p) FROM gene_evidence,
                jsonb_array_elements_text(evidence_data -> 'providers') p
          WHERE source_name = 'DiagnosticPanels'",
        &[],
    )
    .await;
    let diagnostic = by_name("DiagnosticPanels");
    let listed: Vec<String> = diagnostic["provider_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, {
        let mut p = providers.clone();
        p.sort();
        p
    });
    assert_eq!(i(&diagnostic["providers"]), providers.len() as i64);
    assert_eq!(diagnostic["upload_type"], "manual");
    let panelapp = by_name("PanelApp");
    assert_eq!(i(&panelapp["regions"]), 2);
    assert_eq!(
        panelapp["region_names"],
        serde_json::json!(["Australia", "UK"])
    );
    let submissions: i64 = scalar(
        "SELECT count(*) FROM gene_evidence, jsonb_array_elements(evidence_data -> 'submissions')
          WHERE source_name = 'GenCC'",
        &[],
    )
    .await;
    assert_eq!(i(&by_name("GenCC")["submissions"]), submissions);
    assert!(
        by_name("ClinGen")["classifications"]
            .as_i64()
            .is_some_and(|n| n > 0)
    );

    let scored: i64 = scalar(
        "SELECT count(DISTINCT e.gene_id) FROM gene_evidence e
           JOIN gene_scores s ON s.gene_id = e.gene_id WHERE s.percentage_score > 0",
        &[],
    )
    .await;
    assert_eq!(i(&data["total_unique_genes"]), scored);
    let rows: i64 = scalar("SELECT count(*) FROM gene_evidence", &[]).await;
    assert_eq!(i(&data["total_evidence_records"]), rows);
    let orphans: i64 = scalar(
        "SELECT count(*) FROM genes g WHERE NOT EXISTS (SELECT 1 FROM gene_evidence e WHERE e.gene_id = g.id)",
        &[],
    )
    .await;
    assert_eq!(i(&data["orphaned_genes"]), orphans);
    assert_eq!(i(&data["total_active"]), 7);
    assert_eq!(i(&data["total_sources"]), 7);

    let last_run = data["last_pipeline_run"]
        .as_str()
        .expect("the load was a completed run");
    let same: bool = scalar(
        "SELECT max(completed_at) = $1::timestamptz FROM pipeline_runs WHERE status = 'completed'",
        &[last_run],
    )
    .await;
    assert!(same, "last_pipeline_run {last_run}");
    let last_update = data["last_data_update"].as_str().expect("last_data_update");
    let same: bool = scalar(
        "SELECT max(updated_at) = $1::timestamptz FROM gene_evidence",
        &[last_update],
    )
    .await;
    assert!(same, "last_data_update {last_update}");

    let explanations = data["explanations"].as_object().unwrap();
    for key in [
        "active_sources",
        "unique_genes",
        "source_coverage",
        "providers",
    ] {
        assert!(explanations[key].is_string(), "{key}");
    }
}

#[tokio::test]
async fn detail_reports_stats_and_top_genes() {
    for source in SourceName::ALL {
        let name = source.as_str();
        let (status, body) = detail(name).await;
        assert_eq!(status, 200, "{name}: {body}");
        let data = &body["data"];
        assert_eq!(data["name"], name);
        assert_eq!(data["status"], "active");
        let rows: i64 = scalar(
            "SELECT count(*) FROM gene_evidence WHERE source_name = $1",
            &[name],
        )
        .await;
        assert_eq!(
            i(&data["stats"]["gene_count"]),
            rows,
            "{name}: all of the source's genes"
        );
        assert_eq!(i(&data["stats"]["evidence_count"]), rows, "{name}");

        let top = data["top_genes"].as_array().unwrap();
        assert_eq!(top.len(), 10, "{name}");
        let scores: Vec<f64> = top.iter().map(|t| t["score"].as_f64().unwrap()).collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "{name}: best first"
        );
        let best: f64 = scalar(
            "SELECT round(max(source_score)::numeric, 4)::float8 FROM gene_source_scores WHERE source_name = $1",
            &[name],
        )
        .await;
        assert_eq!(scores[0], best, "{name}");
        // the top gene really has that score for that source
        let symbol = top[0]["symbol"].as_str().unwrap();
        let its_score: f64 = scalar(
            "SELECT round(s.source_score::numeric, 4)::float8 FROM gene_source_scores s
               JOIN genes g ON g.id = s.gene_id WHERE s.source_name = $1 AND g.approved_symbol = $2",
            &[name, symbol],
        )
        .await;
        assert_eq!(its_score, best, "{name} {symbol}");
    }

    // PanelApp's count is the gene's number of panels.
    let (_, body) = detail("PanelApp").await;
    for gene in body["data"]["top_genes"].as_array().unwrap() {
        let symbol = gene["symbol"].as_str().unwrap();
        let panels: i32 = scalar(
            "SELECT jsonb_array_length(e.evidence_data -> 'panels') FROM gene_evidence e
               JOIN genes g ON g.id = e.gene_id WHERE e.source_name = 'PanelApp' AND g.approved_symbol = $1",
            &[symbol],
        )
        .await;
        assert_eq!(gene["count"].as_i64(), Some(i64::from(panels)), "{symbol}");
    }
}

#[tokio::test]
async fn unknown_source_is_404_json() {
    for name in [
        "Nope",
        "panelapp",
        "PANELAPP",
        "PanelApp ",
        "..%2F..",
        "'; DROP TABLE genes; --",
    ] {
        let (status, body) = detail(name).await;
        assert_eq!(status, 404, "{name:?}: {body}");
        assert_eq!(body["error"]["type"], "not_found", "{body}");
        assert!(body["error"]["error_id"].is_string());
    }
    let (status, _) = call("/api/nothing", "/api/nothing", &[]).await;
    assert_eq!(status, 404);
}
