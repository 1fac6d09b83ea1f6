//! Faults of what the service depends on, provoked for real on the local stack: Postgres going
//! away under load and coming back, DynamoDB (the L2 cache) unreachable or too slow, and a view
//! refresh failing partway. docs/reliability.md says what each does to the service.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kgdb_store::config::Config;
use kgdb_store::refresh::{
    MATERIALIZED_VIEWS, current_data_version, refresh_all, refresh_all_until,
};
use kgdb_tests::private_pg::{PrivatePostgres, free_port};
use kgdb_tests::{HttpReply, TestDb, encode, get, http_get, loaded_db, serve_gateway};
use kgdb_web::AppState;
use kgdb_web::cache::CacheConfig;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longest wait for any single answer before it counts as a hang.
const HANG: Duration = Duration::from_secs(10);

/// An L1-only cache (no DynamoDB), re-reading the data version often so that reads of it keep
/// failing while Postgres is down.
fn l1_only() -> CacheConfig {
    CacheConfig {
        enabled: true,
        l2_table: None,
        l2_endpoint: None,
        version_check_interval: Duration::from_millis(250),
        ..CacheConfig::from_env()
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Postgres stopped mid-load and restarted
// ---------------------------------------------------------------------------------------------

/// Warmed before the fault: these must keep answering 200 from L1 while Postgres is down.
const CACHED: &[&str] = &[
    "/api/genes/?page[size]=5",
    "/api/genes/PKD1",
    "/api/statistics/summary",
    "/api/datasources/",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Cached,
    Uncached,
    Health,
}

#[derive(Debug)]
struct Sample {
    kind: Kind,
    target: String,
    sent: Instant,
    done: Instant,
    reply: HttpReply,
}

impl Sample {
    fn took(&self) -> Duration {
        self.done - self.sent
    }
}

/// Gene targets never asked before (each index once): a detail or an evidence page, so an
/// answer can only come from Postgres.
struct Uncached {
    symbols: Vec<String>,
    next: AtomicUsize,
}

impl Uncached {
    fn target(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let symbol = encode(&self.symbols[(n / 2) % self.symbols.len()]);
        if n.is_multiple_of(2) {
            format!("/api/genes/{symbol}")
        } else {
            format!("/api/genes/{symbol}/evidence")
        }
    }
}

async fn fetch(addr: SocketAddr, kind: Kind, target: String) -> Sample {
    let sent = Instant::now();
    let reply = http_get(addr, &target, HANG).await;
    Sample {
        kind,
        target,
        sent,
        done: Instant::now(),
        reply,
    }
}

/// One load client: cached, uncached and health requests in turn until `stop` (or its request
/// budget) runs out, paced so a run asks a few hundred distinct genes at most.
async fn load_client(
    addr: SocketAddr,
    id: usize,
    stop: Arc<AtomicBool>,
    uncached: Arc<Uncached>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut i = id;
    while !stop.load(Ordering::Relaxed) && samples.len() < 600 {
        let (kind, target) = match i % 3 {
            0 => (Kind::Cached, CACHED[(i / 3) % CACHED.len()].to_string()),
            1 => (Kind::Uncached, uncached.target()),
            _ => (Kind::Health, "/health".to_string()),
        };
        samples.push(fetch(addr, kind, target).await);
        i += 1;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    samples
}

/// Every answer, whenever it came: 200 or 503 only, a JSON body, 503 with `Retry-After` and
/// the error (or health) shape, never a hang.
fn check_any(s: &Sample) {
    let what = format!("{:?} {} after {:?}", s.kind, s.target, s.took());
    assert!(
        s.reply.status == 200 || s.reply.status == 503,
        "{what}: status {} ({})",
        s.reply.status,
        String::from_utf8_lossy(&s.reply.body)
    );
    let body = s
        .reply
        .json()
        .unwrap_or_else(|| panic!("{what}: body is not JSON"));
    if s.reply.status == 503 {
        assert!(
            s.reply
                .header("retry-after")
                .is_some_and(|v| v.parse::<u32>().is_ok()),
            "{what}: 503 without Retry-After"
        );
        if s.kind == Kind::Health {
            assert_eq!(body["status"], "unhealthy", "{what}");
        } else {
            assert_eq!(
                body["error"]["type"], "service_unavailable",
                "{what}: {body}"
            );
        }
    }
}

fn percentile(mut times: Vec<Duration>, p: f64) -> Duration {
    times.sort();
    let i = ((times.len() as f64 - 1.0) * p).round() as usize;
    times.get(i).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_load_answers_503_fast_then_recovers() {
    let server = match PrivatePostgres::start() {
        Ok(Some(server)) => server,
        Ok(None) => {
            eprintln!(
                "SKIPPED postgres_stopped_mid_load_answers_503_fast_then_recovers: no Postgres \
                 server binaries (initdb, pg_ctl, postgres) on this machine; install PostgreSQL \
                 or set KGDB_TEST_PG_BINDIR"
            );
            return;
        }
        Err(e) => panic!("private Postgres: {e}"),
    };
    let db = TestDb::fresh_loaded_on(&server.url("postgres"), "fault_pg").await;
    let symbols: Vec<String> = db
        .client()
        .await
        .query(
            "SELECT approved_symbol::text FROM gene_list WHERE approved_symbol::text NOT IN ('PKD1')
              ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(symbols.len() > 1000, "{} genes", symbols.len());
    // The defaults a deployment runs with (connect and wait timeouts), on this server.
    let config = Config::from_env()
        .with_database_url(db.url.clone())
        .with_pool_size(4);
    let state = AppState::with_cache(config, l1_only()).unwrap();
    let addr = serve_gateway(state).await;

    for target in CACHED {
        let warm = http_get(addr, target, HANG).await;
        assert_eq!(warm.status, 200, "{target}");
        let again = http_get(addr, target, HANG).await;
        assert_eq!(again.header("x-cache"), Some("hit-l1"), "{target}");
    }

    let stop = Arc::new(AtomicBool::new(false));
    let uncached = Arc::new(Uncached {
        symbols,
        next: AtomicUsize::new(0),
    });
    let clients: Vec<_> = (0..4)
        .map(|id| tokio::spawn(load_client(addr, id, stop.clone(), uncached.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Down, mid-load.
    let stopping = Instant::now();
    let stopper = Arc::new(server);
    let s = stopper.clone();
    tokio::task::spawn_blocking(move || s.stop_fast())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("pg_ctl stop: {e}"));
    let stopped = Instant::now();
    let mut probes = Vec::new();
    for _ in 0..5 {
        probes.push(fetch(addr, Kind::Uncached, uncached.target()).await);
        probes.push(fetch(addr, Kind::Health, "/health".into()).await);
        probes.push(fetch(addr, Kind::Cached, CACHED[1].into()).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Back, same port, same gateway and pool.
    let restarting = Instant::now();
    let s = stopper.clone();
    tokio::task::spawn_blocking(move || s.start_again())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("pg_ctl start: {e}"));
    let started = Instant::now();
    let recovered = loop {
        let a = fetch(addr, Kind::Uncached, uncached.target()).await;
        let b = fetch(addr, Kind::Health, "/health".into()).await;
        let ok = a.reply.status == 200 && b.reply.status == 200;
        probes.push(a);
        probes.push(b);
        if ok {
            break Instant::now();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no recovery 20 s after the restart; server log:\n{}",
            stopper.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = probes;
    for client in clients {
        samples.extend(client.await.unwrap());
    }

    for s in &samples {
        check_any(s);
    }
    let mut down: HashMap<Kind, Vec<&Sample>> = HashMap::new();
    for s in samples
        .iter()
        .filter(|s| s.sent >= stopped && s.done <= restarting)
    {
        down.entry(s.kind).or_default().push(s);
    }
    for kind in [Kind::Cached, Kind::Uncached, Kind::Health] {
        assert!(
            down.get(&kind).is_some_and(|v| v.len() >= 3),
            "too few {kind:?} answers while down"
        );
    }
    for s in down.values().flatten() {
        let what = format!("down: {:?} {}", s.kind, s.target);
        match s.kind {
            Kind::Cached => {
                assert_eq!(s.reply.status, 200, "{what}");
                assert_eq!(s.reply.header("x-cache"), Some("hit-l1"), "{what}");
            }
            Kind::Uncached | Kind::Health => assert_eq!(s.reply.status, 503, "{what}"),
        }
    }
    let failures: Vec<Duration> = samples
        .iter()
        .filter(|s| s.reply.status == 503)
        .map(Sample::took)
        .collect();
    let slowest_503 = failures.iter().max().copied().unwrap_or_default();
    // Postgres refuses connections at once when down: a 503 must not wait for a pool timeout.
    assert!(
        slowest_503 < Duration::from_millis(2500),
        "slowest 503 took {slowest_503:?}"
    );
    for s in samples
        .iter()
        .filter(|s| s.done <= stopping || s.sent >= recovered)
    {
        assert_eq!(
            s.reply.status, 200,
            "{:?} {} while Postgres was up",
            s.kind, s.target
        );
    }
    let after = samples.iter().filter(|s| s.sent >= recovered).count();
    assert!(after >= 10, "only {after} answers after the recovery");
    eprintln!(
        "postgres fault: {} answers, {} of them 503 (median {:?}, slowest {:?}); stop took {:?}; \
         recovered {:?} after the server accepted connections again",
        samples.len(),
        failures.len(),
        percentile(failures.clone(), 0.5),
        slowest_503,
        stopped - stopping,
        recovered - started
    );
}

// ---------------------------------------------------------------------------------------------
// 2. DynamoDB unreachable or slow
// ---------------------------------------------------------------------------------------------

/// Reads one HTTP request (head and `content-length` body) from `stream`, bounded in size.
async fn read_request(stream: &mut tokio::net::TcpStream) -> bool {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut buf).await else {
            return false;
        };
        if n == 0 || raw.len() > 1 << 20 {
            return false;
        }
        raw.extend_from_slice(&buf[..n]);
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .filter_map(|l| l.strip_prefix("content-length:"))
            .find_map(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if raw.len() >= end + 4 + length {
            return true;
        }
    }
}

#[derive(Clone, Copy)]
enum FakeDynamo {
    /// Accepts and reads the request, then says nothing for longer than any timeout.
    Silent,
    /// Answers every request at once with DynamoDB's internal server error.
    Failing,
}

/// A DynamoDB stand-in on a loopback port; returns its URL and a count of requests it read.
/// It ends with the test's runtime, and in any case after a minute.
async fn fake_dynamo(mode: FakeDynamo) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    tokio::spawn(tokio::time::timeout(Duration::from_secs(60), async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                while read_request(&mut stream).await {
                    seen.fetch_add(1, Ordering::Relaxed);
                    match mode {
                        FakeDynamo::Silent => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                        FakeDynamo::Failing => {
                            let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected fault"}"#;
                            let answer = format!(
                                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if stream.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    }));
    (url, requests)
}

/// Routes of every cached namespace.
const L2_ROUTES: &[&str] = &[
    "/api/genes/?page[size]=5",
    "/api/genes/PKD1",
    "/api/genes/PKD1/evidence",
    "/api/genes/resolve?query=PKD1",
    "/api/statistics/summary",
    "/api/datasources/",
];

/// What does not depend on when or where an answer was computed.
fn comparable(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.remove("links");
        if let Some(meta) = o.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("timestamp");
            meta.remove("query_duration_ms");
        }
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_unreachable_or_slow_degrades_to_postgres_in_bounded_time() {
    let db = loaded_db();
    let truth = db.state();
    let (silent, silent_requests) = fake_dynamo(FakeDynamo::Silent).await;
    let (failing, failing_requests) = fake_dynamo(FakeDynamo::Failing).await;
    let closed = format!("http://127.0.0.1:{}", free_port().unwrap());
    // The budget a deployment uses by default (README: KGDB_CACHE_L2_TIMEOUT_MS).
    let budget = CacheConfig::from_vars(|_| None).l2_timeout;
    for (name, endpoint) in [
        ("closed port", closed),
        ("silent", silent),
        ("failing", failing),
    ] {
        let cache = CacheConfig {
            enabled: true,
            l2_table: Some("kgdb-cache-fault".into()),
            l2_endpoint: Some(endpoint),
            l2_timeout: budget,
            ..CacheConfig::from_env()
        };
        let state = db.state_with_cache(cache);
        let addr = serve_gateway(state.clone()).await;
        let mut times = Vec::new();
        for target in L2_ROUTES {
            let started = Instant::now();
            let reply = http_get(addr, target, HANG).await;
            let took = started.elapsed();
            times.push(took);
            assert_eq!(reply.status, 200, "{name} {target}");
            assert_eq!(reply.header("x-cache"), Some("miss"), "{name} {target}");
            // The silent fake holds its answer 30 s: only the L2 timeout explains a fast 200.
            assert!(took < Duration::from_secs(3), "{name} {target}: {took:?}");
            let expected = get(&truth, target).await;
            assert_eq!(
                comparable(reply.json().unwrap()),
                comparable(expected.body),
                "{name} {target}"
            );
            let again = http_get(addr, target, HANG).await;
            assert_eq!(again.header("x-cache"), Some("hit-l1"), "{name} {target}");
        }
        let stats = state.cache.stats().await;
        let n = L2_ROUTES.len() as u64;
        assert_eq!(
            (
                stats.total.misses,
                stats.total.l2_errors,
                stats.total.l1_hits
            ),
            (n, n, n),
            "{name}: every miss's L2 lookup failed and was counted"
        );
        eprintln!(
            "L2 {name}: misses answered in median {:?}, slowest {:?} (L2 budget {budget:?})",
            percentile(times.clone(), 0.5),
            percentile(times, 1.0)
        );
    }
    assert!(silent_requests.load(Ordering::Relaxed) >= L2_ROUTES.len());
    assert!(failing_requests.load(Ordering::Relaxed) >= L2_ROUTES.len());
}

// ---------------------------------------------------------------------------------------------
// 3. A refresh failing halfway
// ---------------------------------------------------------------------------------------------

/// Routes that read only materialized views (and the data version).
const VIEW_ROUTES: &[&str] = &[
    "/api/genes/?page[size]=50&filter[hide_zero_scores]=false",
    "/api/genes/PKD1",
    "/api/statistics/summary",
    "/api/statistics/source-distributions",
    "/api/datasources/HPO",
];

async fn answers(state: &AppState) -> Vec<Value> {
    let mut out = Vec::new();
    for target in VIEW_ROUTES {
        let reply = get(state, target).await;
        assert_eq!(reply.status, 200, "{target}: {}", reply.body);
        out.push(comparable(reply.body));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_failing_halfway_keeps_the_previous_views_and_version() {
    let db = TestDb::fresh_loaded("fault_refresh").await;
    let state = db.state();
    let admin = db.client().await;
    let before = answers(&state).await;
    let version = current_data_version(&admin).await.unwrap();

    // Evidence changes that only a refresh makes visible (scores, statistics, top genes).
    let removed = admin
        .execute(
            "DELETE FROM gene_evidence WHERE source_name = 'HPO'
                AND gene_id IN (SELECT id FROM genes WHERE approved_symbol IN ('PKD1', 'PKD2'))",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(removed, 2);

    // An index build on the last view, not yet committed: it holds a SHARE lock there, which
    // lets reads pass but makes a refresh wait; the database gives up on locks after a while,
    // as operators set it.
    let last = MATERIALIZED_VIEWS[MATERIALIZED_VIEWS.len() - 1];
    let locker = db.client().await;
    locker
        .batch_execute(&format!(
            "BEGIN; CREATE INDEX fault_probe ON {last} (evidence_count)"
        ))
        .await
        .unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET lock_timeout = '3s'",
            db.name
        ))
        .await
        .unwrap();
    let mut refresher = db.client().await;
    let pid: i32 = refresher
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let attempt = tokio::spawn(async move { refresh_all(&mut refresher).await });

    // While it waits on the last view, every earlier one is refreshed inside its transaction.
    let mut during = None;
    let waiting_since = Instant::now();
    while !attempt.is_finished() && waiting_since.elapsed() < Duration::from_secs(120) {
        let row = admin
            .query_one(
                "SELECT count(*) FILTER (WHERE NOT granted AND relation = $2::text::regclass),
                        count(DISTINCT relation) FILTER (WHERE granted AND mode = 'ExclusiveLock'
                                                   AND relation::regclass::text = ANY($3::text[]))
                   FROM pg_locks WHERE pid = $1 AND locktype = 'relation'",
                &[
                    &pid,
                    &last,
                    &&MATERIALIZED_VIEWS[..MATERIALIZED_VIEWS.len() - 1],
                ],
            )
            .await
            .unwrap();
        let (blocked, refreshed): (i64, i64) = (row.get(0), row.get(1));
        if blocked > 0 {
            assert_eq!(refreshed as usize, MATERIALIZED_VIEWS.len() - 1);
            // Readers are not blocked meanwhile, and see the old views.
            during = Some(answers(&state).await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let error = attempt
        .await
        .unwrap()
        .expect_err("the refresh cannot lock the last view");
    assert_eq!(
        error.code(),
        Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE),
        "{error}"
    );
    let during = during.expect("the refresh was seen waiting on the last view");

    let after = answers(&state).await;
    for (i, target) in VIEW_ROUTES.iter().enumerate() {
        assert_eq!(during[i], before[i], "{target} during the attempt");
        assert_eq!(after[i], before[i], "{target} after the failed attempt");
    }
    assert_eq!(current_data_version(&admin).await.unwrap(), version);

    // The lock goes; the next refresh publishes everything and bumps the version once.
    locker.batch_execute("ROLLBACK").await.unwrap();
    let report = refresh_all(&mut db.client().await).await.unwrap();
    assert_eq!(report.data_version, version + 1);
    assert_eq!(current_data_version(&admin).await.unwrap(), version + 1);
    let refreshed = answers(&state).await;
    for (i, target) in VIEW_ROUTES.iter().enumerate() {
        assert_ne!(refreshed[i], before[i], "{target} shows the change");
    }
}

/// A refresh past its deadline is ended by Postgres itself (statement and lock timeouts set to
/// the time left), so a caller that gives up leaves no server process holding the refresh lock.
#[tokio::test]
async fn a_refresh_past_its_deadline_is_cancelled_on_the_server() {
    let db = TestDb::fresh("fault_deadline").await;
    let admin = db.client().await;
    let last = MATERIALIZED_VIEWS[MATERIALIZED_VIEWS.len() - 1];
    let locker = db.client().await;
    locker
        .batch_execute(&format!(
            "BEGIN; CREATE INDEX deadline_probe ON {last} (evidence_count)"
        ))
        .await
        .unwrap();
    let version = current_data_version(&admin).await.unwrap();

    let mut refresher = db.client().await;
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_millis(800);
    // Without the server-side bound the refresh would wait on the lock indefinitely.
    let error = tokio::time::timeout(
        Duration::from_secs(10),
        refresh_all_until(&mut refresher, Some(deadline)),
    )
    .await
    .expect("Postgres ends the refresh at its deadline")
    .expect_err("the last view stays locked past the deadline");
    let took = started.elapsed();
    assert!(
        error.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
            || error.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED),
        "{error}"
    );
    assert!(took < Duration::from_secs(5), "gave up after {took:?}");
    // Nothing of the attempt is left on the server: no refresh lock, no waiting statement.
    drop(refresher);
    let held: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
              WHERE l.locktype = 'advisory' AND d.datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(held, 0);
    assert_eq!(current_data_version(&admin).await.unwrap(), version);

    locker.batch_execute("ROLLBACK").await.unwrap();
    let mut again = db.client().await;
    let report = refresh_all(&mut again).await.unwrap();
    assert_eq!(report.data_version, version + 1);
}
