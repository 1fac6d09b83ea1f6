//! The cache's lookup/store flow against a fake data-version port (L1 only, no AWS).

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use version::tests::FakeVersion;

/// L1 only, version re-read on every lookup (a bump elsewhere is seen at once).
fn cache(enabled: bool) -> (Cache, Arc<FakeVersion>) {
    let port = Arc::new(FakeVersion::default());
    port.version.store(1, Ordering::SeqCst);
    let config = CacheConfig {
        enabled,
        version_check_interval: Duration::ZERO,
        ..CacheConfig::from_vars(|_| None)
    };
    (Cache::with_version(config, port.clone()), port)
}

/// Renders `{"n":<call number>}` and counts the calls.
async fn lookup(cache: &Cache, renders: &AtomicUsize) -> Cached {
    let n = renders.fetch_add(1, Ordering::SeqCst);
    let render = || async move { Ok::<_, ApiError>(format!("{{\"n\":{n}}}")) };
    match cache
        .get_or_render(Namespace::GeneDetail, "PKD1", render)
        .await
    {
        Ok(cached) => cached,
        Err(e) => panic!("render failed: {e}"),
    }
}

#[tokio::test]
async fn a_miss_then_an_l1_hit() {
    let (cache, _) = cache(true);
    let renders = AtomicUsize::new(0);
    let first = lookup(&cache, &renders).await;
    let second = lookup(&cache, &renders).await;
    assert_eq!(first.outcome, CacheOutcome::Miss);
    assert_eq!(second.outcome, CacheOutcome::HitL1);
    assert_eq!(first.value.body, second.value.body);
    assert_eq!(first.value.etag, etag_of(r#"{"n":0}"#));
    assert_eq!(first.value.etag, second.value.etag);
    let stats = cache.stats().await;
    assert_eq!(stats.namespaces["gene_detail"]["misses"], 1);
    assert_eq!(stats.namespaces["gene_detail"]["l1_hits"], 1);
    assert_eq!(stats.data_version, Some(1));
    assert_eq!(stats.l1.entries, 1);
}

#[tokio::test]
async fn a_version_bump_makes_the_next_lookup_a_miss() {
    let (cache, port) = cache(true);
    let renders = AtomicUsize::new(0);
    lookup(&cache, &renders).await;
    assert_eq!(lookup(&cache, &renders).await.outcome, CacheOutcome::HitL1);
    // Another container bumps the shared version.
    port.version.fetch_add(1, Ordering::SeqCst);
    let after = lookup(&cache, &renders).await;
    assert_eq!(after.outcome, CacheOutcome::Miss);
    assert_eq!(&*after.value.body, r#"{"n":2}"#);
    // A flush here bumps it through the port too.
    assert_eq!(cache.flush().await.ok(), Some(3));
    assert_eq!(lookup(&cache, &renders).await.outcome, CacheOutcome::Miss);
    assert_eq!(lookup(&cache, &renders).await.outcome, CacheOutcome::HitL1);
    assert_eq!(
        Cache::key(Namespace::GeneDetail, 3, "PKD1")
            .split(':')
            .nth(1),
        Some("v3")
    );
}

#[tokio::test]
async fn a_disabled_cache_or_an_unknown_version_bypasses() {
    let (cache, port) = cache(false);
    let renders = AtomicUsize::new(0);
    for _ in 0..2 {
        let cached = lookup(&cache, &renders).await;
        assert_eq!(cached.outcome, CacheOutcome::Bypass);
        assert!(!cached.value.etag.is_empty());
    }
    assert_eq!(renders.load(Ordering::SeqCst), 2);
    assert_eq!(
        port.reads.load(Ordering::SeqCst),
        0,
        "a disabled cache never reads it"
    );

    let unversioned = Cache::new(CacheConfig::from_vars(|_| None));
    assert_eq!(
        lookup(&unversioned, &renders).await.outcome,
        CacheOutcome::Bypass
    );
    assert_eq!(
        lookup(&unversioned, &renders).await.outcome,
        CacheOutcome::Bypass
    );
}

#[tokio::test]
async fn a_render_error_is_returned_and_not_stored() {
    let (cache, _) = cache(true);
    let failed = cache
        .get_or_render(Namespace::GeneList, "x", || async {
            Err::<String, _>(ApiError::not_found("no"))
        })
        .await;
    assert_eq!(failed.err().map(|e| e.status.as_u16()), Some(404));
    let ok = cache
        .get_or_render(Namespace::GeneList, "x", || async {
            Ok::<_, ApiError>("[]".to_string())
        })
        .await;
    assert_eq!(
        ok.ok().map(|c| c.outcome),
        Some(CacheOutcome::Miss),
        "nothing was stored"
    );
}

#[tokio::test]
async fn stats_keep_their_json_shape() {
    let (cache, _) = cache(true);
    let json = serde_json::to_value(cache.stats().await).unwrap_or_default();
    for key in [
        "enabled",
        "data_version",
        "version_check_interval_ms",
        "l1",
        "l2",
        "total",
        "namespaces",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in ["entries", "bytes", "max_bytes"] {
        assert!(json["l1"].get(key).is_some(), "l1.{key}");
    }
    assert_eq!(
        json["l2"],
        serde_json::json!({"enabled": false, "table": null})
    );
    assert_eq!(json["total"], json["namespaces"]["gene_list"]);
    assert_eq!(
        json["namespaces"].as_object().map(|o| o.len()),
        Some(Namespace::ALL.len())
    );
}
