//! Security checks: admin credentials (a configured token, compared exactly), no secret in any
//! log line, and the security headers on every kind of answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kgdb_local::functions::handler_for;
use kgdb_store::Config;
use kgdb_store::config::AdminToken;
use kgdb_tests::{apigw_request, http_get, loaded_db, serve_gateway};
use kgdb_web::AppState;
use kgdb_web::cache::CacheConfig;
use lambda_http::http::{HeaderValue, Method, header};

const TOKEN: &str = "kgdb-test-admin-token-7f3a9c2e51";

fn state_with_token(token: &str) -> AppState {
    let config = Config::from_env()
        .with_database_url(loaded_db().url.clone())
        .with_pool_size(2)
        .with_admin_token(AdminToken::new(token));
    AppState::with_cache(config, CacheConfig::disabled()).unwrap()
}

async fn admin_call(state: &AppState, method: Method, path: &str, auth: Option<&str>) -> u16 {
    let (function, mut req) = apigw_request(method, path).unwrap();
    if let Some(auth) = auth {
        req.headers_mut()
            .insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
    }
    handler_for(&function).unwrap()(state, req)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn admin_routes_refuse_missing_and_wrong_credentials() {
    let state = state_with_token(TOKEN);
    let almost = &TOKEN[..TOKEN.len() - 1];
    let cases: Vec<(Option<String>, u16)> = vec![
        (None, 401),
        (Some(format!("Basic {TOKEN}")), 401),
        (Some(format!("bearer{TOKEN}")), 401),
        (Some("Bearer wrong".into()), 403),
        (Some(format!("Bearer {almost}")), 403),
        (Some(format!("Bearer {TOKEN}x")), 403),
        (Some(format!("Bearer {}", TOKEN.to_uppercase())), 403),
        (Some(format!("Bearer {TOKEN}")), 200),
    ];
    for (auth, status) in &cases {
        for (method, path) in [
            (Method::GET, "/api/admin/cache/stats"),
            (Method::POST, "/api/admin/cache/flush"),
        ] {
            let got = admin_call(&state, method.clone(), path, auth.as_deref()).await;
            assert_eq!(got, *status, "{method} {path} with {auth:?}");
        }
    }
    // A configured token that is too short is no token: every call is refused.
    let weak = state_with_token("short-token");
    let got = admin_call(
        &weak,
        Method::GET,
        "/api/admin/cache/stats",
        Some("Bearer short-token"),
    )
    .await;
    assert_eq!(got, 403);
}

/// A `MakeWriter` that keeps everything logged in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_secret_reaches_a_log() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .finish();
    // The test runtime is single-threaded, so every task of this test logs through it.
    let _guard = tracing::subscriber::set_default(subscriber);

    let state = state_with_token(TOKEN);
    let wrong = "Bearer wrong-guess-of-the-admin-token";
    for auth in [
        Some(format!("Bearer {TOKEN}")),
        Some(wrong.to_string()),
        None,
    ] {
        admin_call(
            &state,
            Method::GET,
            "/api/admin/cache/stats",
            auth.as_deref(),
        )
        .await;
        admin_call(
            &state,
            Method::POST,
            "/api/admin/cache/flush",
            auth.as_deref(),
        )
        .await;
    }
    let with_password = Config::from_env()
        .with_database_url("postgres://kgdb:db-password-1234@db.example:5432/kgdb")
        .with_admin_token(AdminToken::new(TOKEN));
    tracing::info!(config = ?with_password, "configuration");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("cache flushed by an admin") && text.contains("configuration"),
        "the capture works: {text}"
    );
    for secret in [TOKEN, "wrong-guess-of-the-admin-token", "db-password-1234"] {
        assert!(!text.contains(secret), "{secret} was logged:\n{text}");
    }
    assert!(text.contains("kgdb:***@db.example") && text.contains("AdminToken(<redacted>)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_answer_carries_the_security_headers() {
    let addr = serve_gateway(loaded_db().state()).await;
    let limit = Duration::from_secs(20);
    let long = format!("/api/genes?q={}", "a".repeat(9_000));
    for target in [
        "/api/genes?page[size]=2",
        "/api/genes/PKD1",
        "/api/genes/NOSUCHGENE",
        "/api/genes?page[size]=101",
        "/api/genes?filter[tier]=bogus",
        "/no/such/route",
        "/docs",
        "/api/openapi.json",
        "/health",
        long.as_str(),
    ] {
        let reply = http_get(addr, target, limit).await;
        assert!(reply.status >= 200, "{target:.60}: no answer");
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
        ] {
            assert_eq!(
                reply.header(name),
                Some(value),
                "{target:.60} ({}): {name}",
                reply.status
            );
        }
        assert!(
            reply.header("permissions-policy").is_some()
                && reply.header("strict-transport-security").is_some(),
            "{target:.60}"
        );
    }
    // Public answers may be read by any origin (no credentials); admin answers may not.
    let public = http_get(addr, "/api/genes/PKD1", limit).await;
    assert_eq!(public.header("access-control-allow-origin"), Some("*"));
    let admin = http_get(addr, "/api/admin/cache/stats", limit).await;
    assert!(admin.status == 401 || admin.status == 403);
    assert_eq!(admin.header("access-control-allow-origin"), None);
    assert_eq!(admin.header("cache-control"), Some("no-store"));
}
