//! Support for kgdb's integration tests: a fresh Postgres database per test run (never shared
//! between runs, dropped afterwards by the next run), loaded through the real migrations and the
//! real ingest; requests built by the same API Gateway conversion the local gateway uses and
//! dispatched by the template's route table.

// Test support: a failed set-up step should stop the test loudly.
#![allow(clippy::unwrap_used)]

pub mod private_pg;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use kgdb_local::apigw::{IncomingRequest, to_lambda_request, to_proxy_event};
use kgdb_local::database::{connect, drop_database, ensure_database};
use kgdb_local::functions::handler_for;
use kgdb_local::ingest::ingest_snapshot;
use kgdb_local::router::{Match, Router};
use kgdb_local::template;
use kgdb_sources::files::SnapshotDir;
use kgdb_store::config::Config;
use kgdb_web::AppState;
use lambda_http::http::{HeaderMap, Method};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

/// Server-level URL used to create and drop test databases.
pub fn admin_url() -> String {
    std::env::var("KGDB_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL of database `name` on the server of `url`.
fn sibling_url(url: &str, name: &str) -> String {
    match url.rfind('/') {
        Some(i) => format!("{}/{name}", &url[..i]),
        None => format!("{url}/{name}"),
    }
}

#[derive(Debug, Clone)]
pub struct TestDb {
    pub name: String,
    pub url: String,
}

fn blocking<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Drops test databases left by runs whose process is gone (a run cannot drop its own at exit).
async fn drop_stale_databases() {
    let Ok(client) = connect(&admin_url()).await else {
        return;
    };
    let Ok(rows) = client
        .query_typed(
            "SELECT datname FROM pg_database WHERE datname LIKE 'kgdb\\_test\\_%'",
            &[],
        )
        .await
    else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = drop_database(&admin_url(), &name).await;
        }
    }
}

impl TestDb {
    /// A new, empty, migrated database named after this process and `label`.
    pub async fn fresh(label: &str) -> TestDb {
        drop_stale_databases().await;
        Self::fresh_on(&admin_url(), label).await
    }

    /// As `fresh`, on the server of `admin_url` (a URL of any database there), e.g. a private
    /// instance a test starts and stops itself (`PrivatePostgres`).
    pub async fn fresh_on(admin_url: &str, label: &str) -> TestDb {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("kgdb_test_{}_{label}_{nanos}", std::process::id());
        let url = sibling_url(admin_url, &name);
        ensure_database(&url)
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"));
        let mut client = connect(&url).await.expect("connect to test database");
        kgdb_store::migrate::run(&mut client)
            .await
            .expect("migrations");
        TestDb { name, url }
    }

    /// A fresh database loaded with the bundled real data through the real ingest.
    pub async fn fresh_loaded(label: &str) -> TestDb {
        Self::fresh(label).await.loaded().await
    }

    /// As `fresh_loaded`, on the server of `admin_url`.
    pub async fn fresh_loaded_on(admin_url: &str, label: &str) -> TestDb {
        Self::fresh_on(admin_url, label).await.loaded().await
    }

    async fn loaded(self) -> TestDb {
        let report = ingest_snapshot(&self.url, &SnapshotDir::in_repo().root)
            .await
            .expect("ingest");
        assert_eq!(report.failed().count(), 0, "every snapshot source ingests");
        self
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await.expect("connect")
    }

    /// The evidence sink on this database.
    pub fn sink(&self) -> kgdb_store::sink::PgSink {
        let config = Config::from_env()
            .with_database_url(self.url.clone())
            .with_pool_size(2);
        kgdb_store::sink::PgSink::new(kgdb_store::db::build_pool(&config).expect("pool"))
    }

    /// State without a cache: every request reaches Postgres.
    pub fn state(&self) -> AppState {
        self.state_with_cache(kgdb_web::cache::CacheConfig::disabled())
    }

    /// State of one "container" with the given cache configuration.
    pub fn state_with_cache(&self, cache: kgdb_web::cache::CacheConfig) -> AppState {
        let config = Config::from_env()
            .with_database_url(self.url.clone())
            .with_pool_size(4);
        AppState::with_cache(config, cache).expect("state")
    }
}

/// The loaded database shared by the read-only tests of this run (created once, on its own
/// thread so it outlives any single test's runtime).
pub fn loaded_db() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        std::thread::spawn(|| blocking(TestDb::fresh_loaded("shared")))
            .join()
            .expect("loading the shared test database")
    })
}

/// State of a function on the shared loaded database.
pub async fn loaded_state() -> AppState {
    loaded_db().state()
}

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let template = template::load(&template::repo_template_path()).expect("template.yaml");
        Router::new(template::routes(&template).expect("routes"))
    })
}

/// Builds the Lambda request API Gateway would send for `GET <path_and_query>` and the
/// template function that would receive it.
pub fn apigw_request(method: Method, path_and_query: &str) -> Option<(String, Request)> {
    apigw_request_with_body(method, path_and_query, b"")
}

/// As `apigw_request`, with a JSON request body.
pub fn apigw_request_with_body(
    method: Method,
    path_and_query: &str,
    body: &[u8],
) -> Option<(String, Request)> {
    let (raw_path, raw_query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let (route, params) = match router().find(method.as_str(), raw_path) {
        Match::Found { route, params } => (route, params),
        _ => return None,
    };
    let event = to_proxy_event(
        IncomingRequest {
            method,
            raw_path,
            raw_query,
            headers: {
                let mut headers = HeaderMap::new();
                if !body.is_empty() {
                    headers.insert(
                        lambda_http::http::header::CONTENT_TYPE,
                        lambda_http::http::HeaderValue::from_static("application/json"),
                    );
                }
                headers
            },
            body: body.to_vec(),
            source_ip: Some("127.0.0.1".into()),
            resource: &route.spec.path,
            path_params: params,
            domain_name: "kgdb.test",
        },
        "test-request".into(),
    );
    Some((route.spec.function.clone(), to_lambda_request(event)))
}

/// `apigw_get("/api/genes/{gene_symbol}", "/api/genes/PKD1", &[], &[("gene_symbol","PKD1")])`:
/// a request for an explicit resource (for tests of a single handler).
pub fn apigw_get(
    resource: &str,
    path: &str,
    query: &[(&str, &str)],
    path_params: &[(&str, &str)],
) -> Request {
    let raw_query: String = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let event = to_proxy_event(
        IncomingRequest {
            method: Method::GET,
            raw_path: path,
            raw_query: (!raw_query.is_empty()).then_some(raw_query.as_str()),
            headers: HeaderMap::new(),
            body: Vec::new(),
            source_ip: Some("127.0.0.1".into()),
            resource,
            path_params: path_params
                .iter()
                .map(|(k, v)| (k.to_string(), encode(v)))
                .collect(),
            domain_name: "kgdb.test",
        },
        "test-request".into(),
    );
    to_lambda_request(event)
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(raw: &str) -> String {
    kgdb_store::rds_iam::uri_encode(raw)
}

/// A response: status and parsed JSON body.
pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

pub fn body_json(response: &Response<Body>) -> Value {
    let bytes: &[u8] = match response.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// Invokes the function the template routes `GET path_and_query` to, in process.
pub async fn get(state: &AppState, path_and_query: &str) -> Reply {
    invoke(state, Method::GET, path_and_query).await
}

pub async fn invoke(state: &AppState, method: Method, path_and_query: &str) -> Reply {
    invoke_with_body(state, method, path_and_query, b"").await
}

/// Invokes the function the template routes `method path_and_query` to, with a JSON body.
pub async fn invoke_with_body(
    state: &AppState,
    method: Method,
    path_and_query: &str,
    body: &[u8],
) -> Reply {
    let (function, request) = apigw_request_with_body(method, path_and_query, body)
        .unwrap_or_else(|| panic!("no template route for {path_and_query}"));
    let handler = handler_for(&function).unwrap_or_else(|| panic!("no handler for {function}"));
    let response = handler(state, request).await;
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: body_json(&response),
    }
}

/// Serves `state` behind the local gateway (the template's routes) on a free loopback port,
/// until the test's runtime ends.
pub async fn serve_gateway(state: AppState) -> SocketAddr {
    serve_gateway_with(state, kgdb_local::gateway::guard::Limits::default()).await
}

/// `serve_gateway` with other request limits (short timeouts for tests of slow clients).
pub async fn serve_gateway_with(
    state: AppState,
    limits: kgdb_local::gateway::guard::Limits,
) -> SocketAddr {
    use kgdb_local::gateway::{Gateway, serve};
    let routes =
        template::routes(&template::load(&template::repo_template_path()).unwrap()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gateway = Arc::new(
        Gateway::new(routes, state, addr.to_string())
            .unwrap()
            .with_limits(limits),
    );
    tokio::spawn(serve(listener, gateway, std::future::pending()));
    addr
}

/// One answer over HTTP: status (0 when the exchange failed or timed out), lower-cased
/// headers, body.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The body as JSON (`None` when it is not JSON).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// `GET target` over a new connection (`Connection: close`), given up after `limit`.
pub async fn http_get(addr: SocketAddr, target: &str, limit: std::time::Duration) -> HttpReply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let failed = HttpReply {
        status: 0,
        headers: HashMap::new(),
        body: Vec::new(),
    };
    let Ok(Ok(raw)) = tokio::time::timeout(limit, exchange).await else {
        return failed;
    };
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return failed;
    };
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpReply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Asserts the one error format: `{"error":{"type","message","error_id"}}`.
pub fn assert_error_body(reply: &Reply) {
    let error = &reply.body["error"];
    assert!(error["type"].is_string(), "error.type in {}", reply.body);
    assert!(
        error["message"].is_string(),
        "error.message in {}",
        reply.body
    );
    assert!(
        error["error_id"].as_str().is_some_and(|s| !s.is_empty()),
        "error.error_id in {}",
        reply.body
    );
    // The keys a client of the original's validation errors parses.
    assert_eq!(
        error["status"],
        reply.status.to_string(),
        "error.status in {}",
        reply.body
    );
    for key in ["code", "title", "detail"] {
        assert!(error[key].is_string(), "error.{key} in {}", reply.body);
    }
}

/// Raw rows of a gzipped snapshot CSV as header -> value maps (the tests' own reader, independent
/// of the ingest code).
pub fn snapshot_csv(stem: &str) -> Vec<HashMap<String, String>> {
    use std::io::Read;
    let path = SnapshotDir::in_repo().kidney_genetics(stem);
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("snapshot file"))
        .read_to_string(&mut text)
        .expect("gunzip");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Raw JSON files of a curated snapshot folder.
pub fn snapshot_json_files(sub: &str) -> Vec<Value> {
    let dir = SnapshotDir::in_repo().curated(sub);
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("curated dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json"))
        .collect()
}

/// DynamoDB emulator (moto) started by the test command; the cache tests need it.
pub fn dynamodb_url() -> String {
    std::env::var("KGDB_TEST_DYNAMODB_URL").unwrap_or_else(|_| {
        panic!("KGDB_TEST_DYNAMODB_URL is not set: run ./infra/test.sh, which starts moto_server on 127.0.0.1")
    })
}

/// Cache configuration with an L2 table in the emulator (created here, unique per call).
pub async fn cache_with_l2(label: &str) -> kgdb_web::cache::CacheConfig {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let table = format!("kgdb-cache-{label}-{}-{nanos}", std::process::id());
    let mut config = kgdb_web::cache::CacheConfig::from_env();
    config.enabled = true;
    config.l2_table = Some(table.clone());
    config.l2_endpoint = Some(dynamodb_url());
    config.l2_timeout = std::time::Duration::from_millis(500);
    let probe = kgdb_web::cache::Cache::new(config.clone());
    let l2 = probe.l2().await.expect("l2 configured");
    l2.client()
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create cache table in moto");
    config
}

/// One value from SQL with text parameters, on the shared loaded database.
pub async fn scalar<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    sql: &str,
    params: &[&str],
) -> T {
    use tokio_postgres::types::{ToSql, Type};
    let client = loaded_db().client().await;
    let typed: Vec<(&(dyn ToSql + Sync), Type)> = params
        .iter()
        .map(|p| (p as &(dyn ToSql + Sync), Type::TEXT))
        .collect();
    client
        .query_typed_one(sql, &typed)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// A job queue that keeps what is sent (tests deliver the jobs by hand).
#[derive(Default)]
pub struct Outbox(std::sync::Mutex<Vec<kgdb_core::jobs::AnnotationJob>>);

impl kgdb_core::jobs::JobSender for Outbox {
    fn send<'a>(
        &'a self,
        jobs: &'a [kgdb_core::jobs::AnnotationJob],
    ) -> futures::future::BoxFuture<'a, Result<(), String>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(jobs);
        Box::pin(async { Ok(()) })
    }
    fn kind(&self) -> &'static str {
        "outbox"
    }
}

impl Outbox {
    /// The jobs sent since the last call.
    pub fn take(&self) -> Vec<kgdb_core::jobs::AnnotationJob> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}
