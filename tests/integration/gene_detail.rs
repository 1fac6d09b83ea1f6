//! Gene detail, evidence and resolve endpoints on real genes.

use kgdb_tests::{get, loaded_db, loaded_state};

#[tokio::test]
async fn detail_is_case_insensitive_and_complete() {
    let state = loaded_state().await;
    let upper = get(&state, "/api/genes/PKD1").await;
    let lower = get(&state, "/api/genes/pkd1").await;
    assert_eq!(upper.status, 200);
    assert_eq!(upper.body, lower.body);
    let data = &upper.body["data"];
    assert_eq!(data["type"], "genes");
    let attrs = &data["attributes"];
    for key in [
        "hgnc_id",
        "approved_symbol",
        "aliases",
        "created_at",
        "updated_at",
        "evidence_count",
        "evidence_score",
        "evidence_tier",
        "evidence_group",
        "sources",
        "score_breakdown",
        "source_scores",
    ] {
        assert!(attrs.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        attrs["score_breakdown"].as_object().unwrap().len(),
        attrs["sources"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn zero_score_gene_reports_null_score() {
    let state = loaded_state().await;
    let client = loaded_db().client().await;
    let symbol: String = client
        .query_typed_one("SELECT approved_symbol FROM gene_scores WHERE percentage_score = 0 ORDER BY approved_symbol LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    let reply = get(&state, &format!("/api/genes/{symbol}")).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body["data"]["attributes"]["evidence_score"].is_null());
}

#[tokio::test]
async fn evidence_lists_each_source_with_its_normalized_score() {
    let state = loaded_state().await;
    let reply = get(&state, "/api/genes/COL4A5/evidence").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = reply.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 7);
    assert_eq!(reply.body["meta"]["evidence_count"], 7);
    assert_eq!(reply.body["meta"]["gene_symbol"], "COL4A5");
    let detail = get(&state, "/api/genes/COL4A5").await;
    let breakdown = &detail.body["data"]["attributes"]["score_breakdown"];
    for item in data {
        let a = &item["attributes"];
        let source = a["source_name"].as_str().unwrap();
        let score = a["normalized_score"].as_f64().unwrap();
        assert!(
            (score - breakdown[source].as_f64().unwrap()).abs() < 5e-5,
            "{source}"
        );
        assert!(a["evidence_data"].is_object());
        // As in the original: a JSON:API id is a string, meta.gene_id a number.
        assert_eq!(
            item["relationships"]["gene"]["data"]["id"],
            reply.body["meta"]["gene_id"].to_string()
        );
    }
    let panelapp = data
        .iter()
        .find(|i| i["attributes"]["source_name"] == "PanelApp")
        .unwrap();
    let panels = panelapp["attributes"]["evidence_data"]["panels"]
        .as_array()
        .unwrap();
    assert!(
        panels
            .iter()
            .all(|p| p["id"].is_i64() && p["region"].is_string())
    );
}

#[tokio::test]
async fn resolve_by_hgnc_id_symbol_and_alias() {
    let state = loaded_state().await;
    let by_id = get(&state, "/api/genes/resolve?query=hgnc:9008").await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.body["data"]["attributes"]["approved_symbol"], "PKD1");
    assert_eq!(by_id.body["data"]["attributes"]["match_type"], "hgnc_id");
    assert_eq!(by_id.body["meta"]["ambiguous"], false);

    let by_symbol = get(&state, "/api/genes/resolve?query=nphs1").await;
    assert_eq!(by_symbol.body["data"]["attributes"]["hgnc_id"], "HGNC:7908");
    assert_eq!(by_symbol.body["data"]["attributes"]["match_type"], "symbol");

    // An alias recorded from a source's reported symbol.
    let client = loaded_db().client().await;
    let row = client
        .query_typed_one(
            "SELECT a, g.approved_symbol FROM genes g, unnest(g.aliases) a
              WHERE NOT EXISTS (SELECT 1 FROM genes o WHERE upper(o.approved_symbol) = upper(a))
                AND (SELECT count(*) FROM genes o WHERE kgdb_upper_array(o.aliases) @> ARRAY[upper(a)]) = 1
              ORDER BY a LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (alias, symbol): (String, String) = (row.get(0), row.get(1));
    let by_alias = get(
        &state,
        &format!("/api/genes/resolve?query={}", kgdb_tests::encode(&alias)),
    )
    .await;
    assert_eq!(by_alias.status, 200, "{alias}: {}", by_alias.body);
    assert_eq!(
        by_alias.body["data"]["attributes"]["approved_symbol"],
        symbol
    );
    assert_eq!(by_alias.body["data"]["attributes"]["match_type"], "alias");

    // An Ensembl id no gene has is a 404 (the identifier branches: tests/integration/annotations.rs).
    assert_eq!(
        get(&state, "/api/genes/resolve?query=ENSG00000000001")
            .await
            .status,
        404
    );
}
