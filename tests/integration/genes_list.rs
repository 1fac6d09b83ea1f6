//! `GET /api/genes/`: every filter narrows, every sort orders, paging and meta/links follow the
//! contract (docs/api.md). Expected numbers come from SQL over the base tables.

use std::collections::HashSet;

use kgdb_tests::{Reply, get, loaded_db, loaded_state};
use serde_json::Value;

async fn count(sql: &str) -> i64 {
    let client = loaded_db().client().await;
    client.query_typed_one(sql, &[]).await.unwrap().get(0)
}

fn genes(reply: &Reply) -> &Vec<Value> {
    reply.body["data"].as_array().expect("data array")
}

fn attr<'a>(gene: &'a Value, key: &str) -> &'a Value {
    &gene["attributes"][key]
}

#[tokio::test]
async fn totals_for_hide_zero_scores_on_and_off() {
    let state = loaded_state().await;
    let all = count("SELECT count(*) FROM genes").await;
    let scored = count("SELECT count(*) FROM gene_scores WHERE percentage_score > 0").await;
    assert!((2900..=3100).contains(&all), "about 3,000 genes: {all}");

    let off = get(
        &state,
        "/api/genes/?filter[hide_zero_scores]=false&page[size]=1",
    )
    .await;
    assert_eq!(off.status, 200);
    assert_eq!(off.body["meta"]["total"], all);
    assert_eq!(off.body["meta"]["total_genes"], all);
    assert_eq!(off.body["meta"]["hidden_zero_scores"], 0);
    assert_eq!(off.body["meta"]["page_count"], all);

    let on = get(&state, "/api/genes/").await;
    assert_eq!(on.body["meta"]["total"], scored);
    assert_eq!(on.body["meta"]["total_genes"], all);
    assert_eq!(on.body["meta"]["hidden_zero_scores"], all - scored);
    assert_eq!(on.body["meta"]["per_page"], 20);
    assert_eq!(genes(&on).len(), 20);
    assert!(
        genes(&on)
            .iter()
            .all(|g| attr(g, "evidence_score").as_f64().unwrap() > 0.0)
    );
}

#[tokio::test]
async fn both_list_paths_answer_the_same() {
    let state = loaded_state().await;
    let a = get(&state, "/api/genes?page[size]=3").await;
    let b = get(&state, "/api/genes/?page[size]=3").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"], b.body["data"]);
}

#[tokio::test]
async fn meta_and_links_follow_the_contract() {
    let state = loaded_state().await;
    let scored = count("SELECT count(*) FROM gene_scores WHERE percentage_score > 0").await;
    let size = 25;
    let page_count = (scored + size - 1) / size;
    let reply = get(
        &state,
        &format!(
            "/api/genes/?page[size]={size}&page[number]=2&filter[source]=PanelApp&sort=symbol"
        ),
    )
    .await;
    let filtered_total = reply.body["meta"]["total"].as_i64().unwrap();
    let links = &reply.body["links"];
    // Links keep only the page parameters.
    let base = "http://kgdb.test/api/genes/";
    assert_eq!(
        links["self"],
        format!("{base}?page[number]=2&page[size]={size}")
    );
    assert_eq!(
        links["first"],
        format!("{base}?page[number]=1&page[size]={size}")
    );
    assert_eq!(
        links["prev"],
        format!("{base}?page[number]=1&page[size]={size}")
    );
    let filtered_pages = (filtered_total + size - 1) / size;
    assert_eq!(
        links["last"],
        format!("{base}?page[number]={filtered_pages}&page[size]={size}")
    );
    assert_eq!(reply.body["meta"]["page"], 2);

    let last = get(
        &state,
        &format!("/api/genes/?page[size]={size}&page[number]={page_count}"),
    )
    .await;
    assert_eq!(last.body["meta"]["page_count"], page_count);
    assert!(last.body["links"]["next"].is_null());
    assert_eq!(genes(&last).len() as i64, scored - (page_count - 1) * size);
    let first = get(&state, &format!("/api/genes/?page[size]={size}")).await;
    assert!(first.body["links"]["prev"].is_null());
    assert_eq!(
        first.body["links"]["next"],
        format!("{base}?page[number]=2&page[size]={size}")
    );

    let beyond = get(&state, "/api/genes/?page[number]=100000").await;
    assert_eq!(beyond.status, 200);
    assert!(genes(&beyond).is_empty());

    let empty = get(&state, "/api/genes/?filter[search]=NO_SUCH_GENE_ANYWHERE").await;
    assert_eq!(empty.body["meta"]["total"], 0);
    assert_eq!(empty.body["meta"]["page_count"], 0);
    assert_eq!(
        empty.body["links"]["last"],
        format!("{base}?page[number]=1&page[size]=20")
    );

    let meta = &reply.body["meta"];
    assert_eq!(meta["valid_tiers"].as_array().unwrap().len(), 5);
    assert_eq!(
        meta["valid_groups"],
        serde_json::json!(["well_supported", "emerging_evidence"])
    );
    assert_eq!(
        meta["filters"]["available_sources"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(meta["filters"]["evidence_count"]["max"], 7);
    assert_eq!(
        meta["filters"]["evidence_score"],
        serde_json::json!({"min": 0, "max": 100})
    );
    let well =
        count("SELECT count(*) FROM gene_scores WHERE evidence_group = 'well_supported'").await;
    let emerging =
        count("SELECT count(*) FROM gene_scores WHERE evidence_group = 'emerging_evidence'").await;
    assert_eq!(meta["evidence_tiers"]["well_supported"]["total"], well);
    assert_eq!(
        meta["evidence_tiers"]["emerging_evidence"]["total"],
        emerging
    );
    let comprehensive =
        count("SELECT count(*) FROM gene_scores WHERE evidence_tier = 'comprehensive_support'")
            .await;
    assert_eq!(
        meta["evidence_tiers"]["well_supported"]["comprehensive_support"],
        comprehensive
    );
}

#[tokio::test]
async fn paging_visits_every_gene_exactly_once() {
    let state = loaded_state().await;
    let all = count("SELECT count(*) FROM genes").await;
    let mut seen = HashSet::new();
    let mut page = 1;
    loop {
        let reply = get(
            &state,
            &format!(
                "/api/genes/?filter[hide_zero_scores]=false&page[size]=100&page[number]={page}"
            ),
        )
        .await;
        let data = genes(&reply);
        if data.is_empty() {
            break;
        }
        for g in data {
            assert!(
                seen.insert(g["id"].as_str().unwrap().to_string()),
                "gene {} on two pages",
                g["id"]
            );
        }
        page += 1;
    }
    assert_eq!(seen.len() as i64, all);
}

#[tokio::test]
async fn every_filter_narrows_to_exactly_the_matching_genes() {
    let state = loaded_state().await;
    let cases: Vec<(&str, String)> = vec![
        ("filter[min_score]=50", "SELECT count(*) FROM gene_scores WHERE percentage_score >= 50".into()),
        ("filter[max_score]=20", "SELECT count(*) FROM gene_scores WHERE percentage_score > 0 AND percentage_score <= 20".into()),
        ("filter[min_count]=5", "SELECT count(*) FROM gene_scores WHERE percentage_score > 0 AND source_count >= 5".into()),
        ("filter[max_count]=1&filter[hide_zero_scores]=false", "SELECT count(*) FROM genes g LEFT JOIN gene_scores s ON s.gene_id = g.id WHERE s.source_count <= 1".into()),
        ("filter[source]=ClinGen", "SELECT count(*) FROM gene_evidence e JOIN gene_scores s USING (gene_id) WHERE e.source_name = 'ClinGen' AND s.percentage_score > 0".into()),
        ("filter[tier]=comprehensive_support,minimal_evidence", "SELECT count(*) FROM gene_scores WHERE evidence_tier IN ('comprehensive_support','minimal_evidence')".into()),
        ("filter[group]=well_supported", "SELECT count(*) FROM gene_scores WHERE evidence_group = 'well_supported'".into()),
        ("filter[search]=pkd", "SELECT count(*) FROM gene_scores WHERE percentage_score > 0 AND (approved_symbol ILIKE '%pkd%' OR hgnc_id ILIKE '%pkd%')".into()),
        ("filter[search]=established", "SELECT count(*) FROM gene_scores WHERE evidence_tier = 'established_support'".into()),
        ("filter[source]=NoSuchSource", "SELECT 0::bigint".into()),
    ];
    for (query, sql) in cases {
        let reply = get(&state, &format!("/api/genes/?{query}&page[size]=100")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        let want = count(&sql).await;
        assert_eq!(reply.body["meta"]["total"], want, "{query}");
        for g in genes(&reply) {
            let score = attr(g, "evidence_score").as_f64().unwrap_or(0.0);
            let sources: Vec<&str> = attr(g, "sources")
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            let tier = attr(g, "evidence_tier").as_str().unwrap_or("");
            match query {
                q if q.starts_with("filter[min_score]") => assert!(score >= 50.0),
                q if q.starts_with("filter[max_score]") => assert!(score > 0.0 && score <= 20.0),
                q if q.starts_with("filter[min_count]") => assert!(sources.len() >= 5),
                q if q.starts_with("filter[max_count]") => assert!(sources.len() <= 1),
                q if q.starts_with("filter[source]=ClinGen") => {
                    assert!(sources.contains(&"ClinGen"))
                }
                q if q.starts_with("filter[tier]") => {
                    assert!(tier == "comprehensive_support" || tier == "minimal_evidence")
                }
                q if q.starts_with("filter[group]") => {
                    assert_eq!(attr(g, "evidence_group"), "well_supported")
                }
                q if q.starts_with("filter[search]=pkd") => {
                    let text = format!("{} {}", attr(g, "approved_symbol"), attr(g, "hgnc_id"))
                        .to_lowercase();
                    assert!(text.contains("pkd"), "{text}");
                }
                _ => {}
            }
        }
    }
    // LIKE wildcards in the search text are literal.
    let wildcard = get(&state, "/api/genes/?filter[search]=PKD_").await;
    assert_eq!(wildcard.body["meta"]["total"], 0);
    // filter[ids] returns exactly those genes.
    let ids = count("SELECT id FROM genes WHERE approved_symbol = 'PKD1'").await;
    let ids2 = count("SELECT id FROM genes WHERE approved_symbol = 'ABCG2'").await;
    let reply = get(
        &state,
        &format!("/api/genes/?filter[ids]={ids},{ids2}&filter[hide_zero_scores]=false"),
    )
    .await;
    let got: HashSet<&str> = genes(&reply)
        .iter()
        .map(|g| attr(g, "approved_symbol").as_str().unwrap())
        .collect();
    assert_eq!(got, HashSet::from(["PKD1", "ABCG2"]));
}

fn assert_ordered<T: PartialOrd + std::fmt::Debug>(values: &[T], descending: bool, what: &str) {
    for pair in values.windows(2) {
        let ok = if descending {
            pair[0] >= pair[1]
        } else {
            pair[0] <= pair[1]
        };
        assert!(ok, "{what}: {:?} then {:?}", pair[0], pair[1]);
    }
}

#[tokio::test]
async fn every_sort_field_orders_results() {
    let state = loaded_state().await;
    let tier_rank = |t: &Value| match t.as_str() {
        Some("comprehensive_support") => 1,
        Some("multi_source_support") => 2,
        Some("established_support") => 3,
        Some("preliminary_evidence") => 4,
        Some("minimal_evidence") => 5,
        _ => 999,
    };
    for (sort, descending) in [
        ("symbol", false),
        ("-approved_symbol", true),
        ("score", false),
        ("-evidence_score", true),
        ("count", false),
        ("-evidence_count", true),
        ("hgnc_id", false),
        ("-id", true),
        ("created_at", false),
        ("-updated_at", true),
        ("evidence_tier", false),
        ("-evidence_group", true),
    ] {
        let reply = get(
            &state,
            &format!("/api/genes/?sort={sort}&page[size]=100&page[number]=3"),
        )
        .await;
        assert_eq!(reply.status, 200, "{sort}: {}", reply.body);
        let data = genes(&reply);
        assert_eq!(data.len(), 100);
        let field = sort.trim_start_matches('-');
        match field {
            "symbol" | "approved_symbol" | "hgnc_id" | "created_at" | "updated_at" => {
                let key = if field == "symbol" {
                    "approved_symbol"
                } else {
                    field
                };
                let v: Vec<String> = data
                    .iter()
                    .map(|g| attr(g, key).as_str().unwrap().to_string())
                    .collect();
                // hgnc_id sorts as text, as in the original.
                assert_ordered(&v, descending, sort);
            }
            "score" | "evidence_score" => {
                let v: Vec<f64> = data
                    .iter()
                    .map(|g| attr(g, "evidence_score").as_f64().unwrap())
                    .collect();
                assert_ordered(&v, descending, sort);
            }
            "count" | "evidence_count" => {
                let v: Vec<usize> = data
                    .iter()
                    .map(|g| attr(g, "sources").as_array().unwrap().len())
                    .collect();
                assert_ordered(&v, descending, sort);
            }
            "id" => {
                let v: Vec<i64> = data
                    .iter()
                    .map(|g| g["id"].as_str().unwrap().parse().unwrap())
                    .collect();
                assert_ordered(&v, descending, sort);
            }
            "evidence_tier" => {
                let v: Vec<i32> = data
                    .iter()
                    .map(|g| tier_rank(attr(g, "evidence_tier")))
                    .collect();
                assert_ordered(&v, descending, sort);
            }
            "evidence_group" => {
                let v: Vec<i32> = data
                    .iter()
                    .map(|g| match attr(g, "evidence_group").as_str() {
                        Some("well_supported") => 1,
                        Some("emerging_evidence") => 2,
                        _ => 999,
                    })
                    .collect();
                assert_ordered(&v, descending, sort);
            }
            other => panic!("untested sort {other}"),
        }
    }
    // Default: -evidence_score, then approved_symbol.
    let reply = get(&state, "/api/genes/?page[size]=100").await;
    let pairs: Vec<(f64, String)> = genes(&reply)
        .iter()
        .map(|g| {
            (
                attr(g, "evidence_score").as_f64().unwrap(),
                attr(g, "approved_symbol").as_str().unwrap().to_string(),
            )
        })
        .collect();
    for w in pairs.windows(2) {
        assert!(
            w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 <= w[1].1),
            "{:?} then {:?}",
            w[0],
            w[1]
        );
    }
}
