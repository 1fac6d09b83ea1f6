//! Bad input gets a 4xx JSON error in the one error format and changes nothing; never a 5xx.

use kgdb_tests::{assert_error_body, get, loaded_db, loaded_state};

#[tokio::test]
async fn bad_parameters_get_4xx_json_errors() {
    let state = loaded_state().await;
    let long_search = "A".repeat(10 * 1024);
    let cases: Vec<(String, u16)> = vec![
        ("/api/genes/?page[size]=0".into(), 400),
        ("/api/genes/?page[size]=101".into(), 400),
        ("/api/genes/?page[size]=abc".into(), 400),
        ("/api/genes/?page[number]=-1".into(), 400),
        ("/api/genes/?page[number]=0".into(), 400),
        ("/api/genes/?page[number]=99999999999999999999".into(), 400),
        ("/api/genes/?filter[tier]=bogus".into(), 422),
        ("/api/genes/?filter[tier]=no_evidence".into(), 422),
        ("/api/genes/?filter[group]=insufficient".into(), 422),
        ("/api/genes/?filter[min_score]=NaN".into(), 400),
        ("/api/genes/?filter[max_score]=inf".into(), 400),
        ("/api/genes/?filter[min_score]=-1".into(), 400),
        ("/api/genes/?filter[max_score]=101".into(), 400),
        ("/api/genes/?filter[min_count]=x".into(), 400),
        ("/api/genes/?filter[hide_zero_scores]=maybe".into(), 400),
        ("/api/genes/?filter[ids]=1,two".into(), 400),
        ("/api/genes/?sort=;drop%20table%20genes".into(), 400),
        ("/api/genes/?sort=approved_symbol;--".into(), 400),
        (format!("/api/genes/?filter[search]={long_search}"), 400),
        ("/api/genes/resolve".into(), 400),
        ("/api/genes/resolve?query=".into(), 400),
        (format!("/api/genes/resolve?query={long_search}"), 400),
        ("/api/genes/resolve?query=NOT_A_GENE_XYZ".into(), 404),
        ("/api/genes/NOT_A_GENE_XYZ".into(), 404),
        ("/api/genes/NOT_A_GENE_XYZ/evidence".into(), 404),
        ("/api/genes/%FF%FE".into(), 400),
        ("/api/genes/%C3%28/evidence".into(), 400),
        ("/api/genes/PKD1%27%20OR%201=1".into(), 400),
        (format!("/api/genes/{}", "A".repeat(300)), 400),
        // Postgres cannot store NUL in text: refused before any statement (was a 500).
        ("/api/genes/?filter[search]=%00".into(), 400),
        ("/api/genes/?filter[source]=a%00b".into(), 400),
        ("/api/genes/?sort=%00".into(), 400),
        ("/api/genes/resolve?query=%00".into(), 400),
        ("/api/genes/PKD1%00".into(), 400),
        ("/api/genes/PKD1%00/evidence".into(), 400),
        ("/api/statistics/source-overlaps?sources=%00".into(), 400),
        ("/api/statistics/summary?filter[tier]=%00".into(), 400),
        ("/api/datasources/Panel%00App".into(), 400),
        ("/api/genes/?x%00=1".into(), 400),
    ];
    for (path, status) in cases {
        let reply = get(&state, &path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert_error_body(&reply);
        assert_eq!(reply.headers["content-type"], "application/json");
    }
    // Nothing was changed by any of it.
    let client = loaded_db().client().await;
    let genes: i64 = client
        .query_typed_one("SELECT count(*) FROM genes", &[])
        .await
        .unwrap()
        .get(0);
    assert!(genes > 2900);
}

#[tokio::test]
async fn wrong_method_is_405_not_5xx() {
    let state = loaded_state().await;
    let reply = kgdb_tests::invoke(
        &state,
        lambda_http::http::Method::HEAD,
        "/api/genes/?page[size]=1",
    )
    .await;
    assert_eq!(reply.status, 200);
    // A POST never reaches a read handler through the template (no such route), but a handler
    // that receives one anyway refuses it.
    let req = kgdb_tests::apigw_get("/api/genes", "/api/genes", &[], &[]);
    let (mut parts, body) = req.into_parts();
    parts.method = lambda_http::http::Method::POST;
    let response =
        kgdb_fn_genes_handle(&state, lambda_http::Request::from_parts(parts, body)).await;
    assert_eq!(response.status().as_u16(), 405);
    // RFC 9110 requires `Allow` on a 405 (found by schemathesis's unsupported_method check).
    assert_eq!(response.headers()["allow"], "GET, HEAD, OPTIONS");
}

async fn kgdb_fn_genes_handle(
    state: &kgdb_web::AppState,
    req: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    let handler = kgdb_local::functions::handler_for("GenesFunction").unwrap();
    handler(state, req).await
}

#[tokio::test]
async fn database_down_is_503_with_retry_after() {
    // A pool pointing at a port nothing listens on.
    let config = kgdb_store::config::Config::from_env()
        .with_database_url("postgres://postgres@127.0.0.1:1/none")
        .with_pool_size(1);
    let state = kgdb_web::AppState::new(config).unwrap();
    for path in ["/api/genes/", "/api/genes/PKD1", "/health"] {
        let reply = get(&state, path).await;
        assert_eq!(reply.status, 503, "{path}: {}", reply.body);
        assert!(reply.headers.contains_key("retry-after"), "{path}");
    }
}
