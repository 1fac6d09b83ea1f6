//! The two-level cache against real Postgres and DynamoDB (moto): miss -> L2 hit -> L1 hit,
//! expired items, data-version invalidation, key normalization, degradation, HTTP validators.

use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use kgdb_tests::{Reply, TestDb, cache_with_l2, get, invoke, loaded_db};
use kgdb_web::cache::{Cache, CacheConfig, Namespace};
use lambda_http::http::Method;

fn x_cache(reply: &Reply) -> &str {
    reply
        .headers
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Waits (bounded) until the background L2 write of `key` has landed.
async fn wait_for_item(config: &CacheConfig, key: &str) {
    let cache = Cache::new(config.clone());
    let l2 = cache.l2().await.unwrap();
    for _ in 0..100 {
        let item = l2
            .client()
            .get_item()
            .table_name(l2.table())
            .key("pk", AttributeValue::S(key.to_string()))
            .send()
            .await
            .unwrap();
        if item.item.is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("L2 item {key} never written");
}

#[tokio::test]
async fn miss_then_l2_hit_then_l1_hit() {
    let config = cache_with_l2("levels").await;
    let db = loaded_db();
    let first = db.state_with_cache(config.clone());
    let miss = get(&first, "/api/genes/PKD1").await;
    assert_eq!((miss.status, x_cache(&miss)), (200, "miss"));
    let version = kgdb_store::refresh::current_data_version(&db.client().await)
        .await
        .unwrap();
    wait_for_item(&config, &Cache::key(Namespace::GeneDetail, version, "PKD1")).await;

    // Another container: empty L1, same L2.
    let second = db.state_with_cache(config.clone());
    let l2_hit = get(&second, "/api/genes/pkd1").await;
    assert_eq!((l2_hit.status, x_cache(&l2_hit)), (200, "hit-l2"));
    let l1_hit = get(&second, "/api/genes/PKD1").await;
    assert_eq!(x_cache(&l1_hit), "hit-l1");
    assert_eq!(miss.body, l2_hit.body);
    assert_eq!(l2_hit.body, l1_hit.body);
    assert_eq!(miss.headers["etag"], l1_hit.headers["etag"]);

    let stats = second.cache.stats().await;
    let detail = &stats.namespaces["gene_detail"];
    assert_eq!(
        (
            detail["l2_hits"].as_u64(),
            detail["l1_hits"].as_u64(),
            detail["misses"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
}

#[tokio::test]
async fn an_expired_l2_item_is_a_miss() {
    let config = cache_with_l2("expired").await;
    let db = loaded_db();
    let version = kgdb_store::refresh::current_data_version(&db.client().await)
        .await
        .unwrap();
    let key = Cache::key(Namespace::GeneDetail, version, "PKD2");
    // An item DynamoDB has not deleted yet although its TTL passed (moto never deletes).
    let cache = Cache::new(config.clone());
    let l2 = cache.l2().await.unwrap();
    l2.client()
        .put_item()
        .table_name(l2.table())
        .item("pk", AttributeValue::S(key))
        .item(
            "body",
            AttributeValue::B(Blob::new(b"{\"stale\":true}".to_vec())),
        )
        .item("gz", AttributeValue::Bool(false))
        .item("etag", AttributeValue::S("\"stale\"".into()))
        .item(
            "expires_at",
            AttributeValue::N((chrono::Utc::now().timestamp() - 10).to_string()),
        )
        .send()
        .await
        .unwrap();
    let state = db.state_with_cache(config);
    let reply = get(&state, "/api/genes/PKD2").await;
    assert_eq!((reply.status, x_cache(&reply)), (200, "miss"));
    assert_eq!(reply.body["data"]["attributes"]["approved_symbol"], "PKD2");
    let stats = state.cache.stats().await;
    assert_eq!(stats.namespaces["gene_detail"]["l2_expired"], 1);
}

#[tokio::test]
async fn a_data_version_bump_makes_every_read_fresh() {
    let db = TestDb::fresh_loaded("cache_version").await;
    let mut config = cache_with_l2("version").await;
    config.version_check_interval = Duration::from_millis(100);
    let reader = db.state_with_cache(config.clone());
    let before = get(&reader, "/api/genes/resolve?query=NEWALIAS1").await;
    assert_eq!(before.status, 404);
    let detail_before = get(&reader, "/api/genes/PKD1").await;
    assert!(get(&reader, "/api/genes/PKD1").await.headers["x-cache"] == "hit-l1");

    // A write path: new alias, views refreshed, data version bumped.
    let mut client = db.client().await;
    client
        .execute("UPDATE genes SET aliases = array_append(aliases, 'NEWALIAS1') WHERE approved_symbol = 'PKD1'", &[])
        .await
        .unwrap();
    kgdb_store::refresh::refresh_all(&mut client).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;

    let detail_after = get(&reader, "/api/genes/PKD1").await;
    assert_eq!(x_cache(&detail_after), "miss", "new version, new key");
    assert_ne!(
        detail_before.body["data"]["attributes"]["aliases"],
        detail_after.body["data"]["attributes"]["aliases"]
    );
    let resolved = get(&reader, "/api/genes/resolve?query=NEWALIAS1").await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);

    // An admin flush on one container reaches another through the shared version.
    let other = db.state_with_cache(config);
    let cached = get(&other, "/api/genes/PKD1").await;
    assert_ne!(x_cache(&cached), "miss");
    let new_version = reader.cache.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(x_cache(&get(&other, "/api/genes/PKD1").await), "miss");
    assert_eq!(other.cache.data_version().get().await, Some(new_version));
}

#[tokio::test]
async fn parameter_order_and_defaults_share_a_key_different_filters_never_do() {
    let state = loaded_db().state_with_cache(CacheConfig {
        enabled: true,
        l2_table: None,
        ..CacheConfig::from_env()
    });
    let a = get(&state, "/api/genes/?page[size]=5&filter[tier]=comprehensive_support,minimal_evidence&sort=-evidence_score").await;
    assert_eq!(x_cache(&a), "miss");
    for same in [
        "/api/genes/?filter[tier]=minimal_evidence,comprehensive_support&page[size]=5&sort=-evidence_score",
        "/api/genes/?sort=-evidence_score&filter[tier]=comprehensive_support,minimal_evidence,minimal_evidence&page[size]=5&page[number]=1",
        "/api/genes/?page[size]=5&filter[tier]=comprehensive_support,minimal_evidence&sort=-evidence_score&filter[hide_zero_scores]=true",
    ] {
        let b = get(&state, same).await;
        assert_eq!(x_cache(&b), "hit-l1", "{same}");
        assert_eq!(a.body, b.body);
    }
    let default = get(&state, "/api/genes/").await;
    assert_eq!(x_cache(&default), "miss");
    assert_eq!(
        x_cache(
            &get(
                &state,
                "/api/genes/?page[number]=1&page[size]=20&sort=-evidence_score,approved_symbol"
            )
            .await
        ),
        "hit-l1"
    );
    // Search ignores case in SQL, so in the key too.
    get(&state, "/api/genes/?filter[search]=PKD").await;
    assert_eq!(
        x_cache(&get(&state, "/api/genes/?filter[search]=pkd").await),
        "hit-l1"
    );

    let mut bodies = Vec::new();
    for different in [
        "/api/genes/?filter[min_score]=10",
        "/api/genes/?filter[min_score]=20",
        "/api/genes/?filter[max_score]=20",
        "/api/genes/?sort=symbol",
        "/api/genes/?page[number]=2",
    ] {
        let r = get(&state, different).await;
        assert_eq!(x_cache(&r), "miss", "{different}");
        bodies.push(r.body);
    }
    for i in 0..bodies.len() {
        for j in i + 1..bodies.len() {
            assert_ne!(bodies[i], bodies[j]);
        }
    }
    // Statistics: the order of repeated sources does not matter either.
    let s1 = get(
        &state,
        "/api/statistics/source-overlaps?sources=PanelApp&sources=HPO",
    )
    .await;
    let s2 = get(
        &state,
        "/api/statistics/source-overlaps?sources=HPO&sources=PanelApp",
    )
    .await;
    assert_eq!((x_cache(&s1), x_cache(&s2)), ("miss", "hit-l1"));
}

#[tokio::test]
async fn dynamodb_unreachable_still_answers_correctly() {
    let db = loaded_db();
    let mut config = CacheConfig::from_env();
    config.enabled = true;
    config.l2_table = Some("kgdb-cache-nowhere".into());
    config.l2_endpoint = Some("http://127.0.0.1:9".into());
    config.l2_timeout = Duration::from_millis(50);
    let broken = db.state_with_cache(config);
    let plain = db.state();
    for path in [
        "/api/genes/",
        "/api/genes/PKD1",
        "/api/genes/PKD1/evidence",
        "/api/statistics/summary",
        "/api/datasources/",
    ] {
        let reply = get(&broken, path).await;
        let truth = get(&plain, path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let strip = |mut v: serde_json::Value| {
            // Timestamps and durations of the envelope differ between two computations.
            if let Some(meta) = v.get_mut("meta").and_then(|m| m.as_object_mut()) {
                meta.remove("timestamp");
                meta.remove("query_duration_ms");
            }
            v
        };
        assert_eq!(strip(reply.body), strip(truth.body), "{path}");
        // Served from L1 the second time, still without DynamoDB.
        assert_eq!(x_cache(&get(&broken, path).await), "hit-l1");
    }
    let stats = broken.cache.stats().await;
    assert!(stats.total.l2_errors >= 5);
}

#[tokio::test]
async fn etag_and_if_none_match() {
    let state = loaded_db().state_with_cache(CacheConfig {
        enabled: true,
        l2_table: None,
        ..CacheConfig::from_env()
    });
    let first = get(&state, "/api/genes/COL4A5").await;
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    assert!(
        first.headers["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
    let (_, mut req) = kgdb_tests::apigw_request(Method::GET, "/api/genes/COL4A5").unwrap();
    req.headers_mut()
        .insert("if-none-match", etag.parse().unwrap());
    let handler = kgdb_local::functions::handler_for("GeneDetailFunction").unwrap();
    let response = handler(&state, req).await;
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"].to_str().unwrap(), etag);
    // Even with caching off, answers carry validators.
    let plain = get(&loaded_db().state(), "/api/genes/COL4A5").await;
    assert_eq!(plain.headers["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn admin_routes_need_credentials() {
    let state = loaded_db().state_with_cache(CacheConfig {
        enabled: true,
        l2_table: None,
        ..CacheConfig::from_env()
    });
    // No IAM caller and no bearer token configured for this process -> refused.
    let reply = invoke(&state, Method::GET, "/api/admin/cache/stats").await;
    assert!(
        reply.status == 401 || reply.status == 403,
        "{}",
        reply.status
    );
    let reply = invoke(&state, Method::POST, "/api/admin/cache/flush").await;
    assert!(reply.status == 401 || reply.status == 403);
    // An IAM-signed call (API Gateway puts the caller into the request context).
    let (_, mut req) = kgdb_tests::apigw_request(Method::GET, "/api/admin/cache/stats").unwrap();
    if let Some(lambda_http::request::RequestContext::ApiGatewayV1(ctx)) =
        req.extensions_mut()
            .get_mut::<lambda_http::request::RequestContext>()
    {
        ctx.identity.user_arn = Some("arn:aws:iam::123456789012:user/admin".into());
    }
    let handler = kgdb_local::functions::handler_for("AdminFunction").unwrap();
    get(&state, "/api/genes/PKD1").await;
    get(&state, "/api/genes/PKD1").await;
    let response = handler(&state, req).await;
    assert_eq!(response.status(), 200);
    let body = kgdb_tests::body_json(&response);
    assert_eq!(body["data"]["namespaces"]["gene_detail"]["l1_hits"], 1);
    assert_eq!(body["data"]["namespaces"]["gene_detail"]["misses"], 1);
    assert_eq!(body["data"]["namespaces"]["gene_detail"]["hit_rate"], 0.5);
    assert!(body["data"]["l1"]["bytes"].as_u64().unwrap() > 0);
}
