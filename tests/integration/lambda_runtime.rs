//! Every function binary of `template.yaml`, run the way Lambda runs it: its own process, a
//! clean Lambda environment, events delivered over the Runtime API (`kgdb_local::runtime_api`),
//! against a fresh database loaded with the real data. API functions get every `events/api`
//! sample the template routes to them, schedule-triggered functions (and the refresh binary,
//! until the template declares it) get `events/schedule`.
//!
//! Binaries are built with `cargo build --bin <binary>` before use (a no-op when fresh), so a
//! stale binary is never what gets tested (binary names are unique in the workspace).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kgdb_local::runtime_api::{FunctionConfig, Invocation, LambdaProcess, RuntimeError};
use kgdb_local::template;
use kgdb_store::refresh::{MATERIALIZED_VIEWS, current_data_version};
use kgdb_tests::TestDb;
use serde_json::{Value, json};

const REFRESH_BINARY: &str = "kgdb-fn-refresh";
/// The annotation pipeline's functions: their events (SQS, schedules with `Input`) are
/// replayed by `annotation_events.rs`.
pub(crate) const PIPELINE_BINARIES: &[&str] =
    &["kgdb-fn-annotation-worker", "kgdb-fn-annotation-scheduler"];
const SCHEDULE_TRIGGERS: &[&str] = &[
    "Schedule",
    "ScheduleV2",
    "EventBridgeRule",
    "CloudWatchEvent",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/<profile>` of this test executable (`target/<profile>/deps/integration-<hash>`).
fn profile_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| repo().join("target/debug"))
}

/// The function binary, built first (serialized: tests run on parallel threads).
pub(crate) fn binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let path = profile_dir().join(name);
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(repo())
            .args(["build", "--quiet", "--bin", name]);
        if profile_dir().file_name().is_some_and(|n| n == "release") {
            command.arg("--release");
        }
        let output = command.output().expect("run cargo");
        assert!(
            output.status.success(),
            "cargo build --bin {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        built.push(name.to_string());
    }
    assert!(path.is_file(), "{} missing after the build", path.display());
    path
}

pub(crate) fn template() -> serde_yaml::Value {
    template::load(&template::repo_template_path()).expect("template.yaml")
}

/// `(file name, event)` of every JSON file of `events/<dir>` but `expected.json`, sorted.
pub(crate) fn samples(dir: &str) -> Vec<(String, Value)> {
    let dir = repo().join("events").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("expected.json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(p).unwrap();
            let event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, event)
        })
        .collect()
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join("events/api/expected.json")).unwrap())
        .unwrap()
}

/// `Type` of every event of a function in the template.
fn trigger_types(template: &serde_yaml::Value, logical_id: &str) -> Vec<String> {
    template["Resources"][logical_id]["Properties"]["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(_, e)| e.get("Type")?.as_str().map(str::to_string))
        .collect()
}

/// Functions a schedule invokes to refresh the views (the annotation scheduler has its own
/// tests), with the refresh binary added while the template lacks it.
fn scheduled_functions(template: &serde_yaml::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = template::functions(template)
        .into_iter()
        .filter(|(_, bin)| {
            !bin.as_deref()
                .is_some_and(|b| PIPELINE_BINARIES.contains(&b))
        })
        .filter(|(id, _)| {
            trigger_types(template, id)
                .iter()
                .any(|t| SCHEDULE_TRIGGERS.contains(&t.as_str()))
        })
        .map(|(id, bin)| {
            let bin = bin.unwrap_or_else(|| panic!("{id}: no Metadata.BuildProperties.Binary"));
            (id, bin)
        })
        .collect();
    if !out.iter().any(|(_, bin)| bin == REFRESH_BINARY) {
        out.push(("RefreshFunction".into(), REFRESH_BINARY.into()));
    }
    out
}

/// The function as Lambda would configure it (memory, timeout, literal variables from the
/// template), on `database_url`.
pub(crate) fn config(
    template: &serde_yaml::Value,
    logical_id: &str,
    bin: &str,
    database_url: &str,
) -> FunctionConfig {
    let mut config = FunctionConfig::from_template(template, logical_id, binary(bin))
        .with_env("DATABASE_URL", database_url)
        // The local server authenticates with the URL's credentials, not RDS IAM tokens.
        .with_env("KGDB_DB_IAM_AUTH", "false")
        // No DynamoDB here: with a table name the L2 cache would call AWS itself (the Lambda
        // environment says it runs in AWS).
        .with_env("KGDB_CACHE_TABLE", "")
        .with_env("KGDB_ENV", "lambda-test");
    if template["Resources"].get(logical_id).is_none() {
        // Not declared yet: a refresh of every view needs more than the API's 10 s default.
        config = config.with_timeout(Duration::from_secs(120));
        config.memory_mb = 256;
    }
    config
}

pub(crate) async fn spawn(config: FunctionConfig) -> LambdaProcess {
    let name = config.name.clone();
    LambdaProcess::spawn(config)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(crate) async fn invoke(lambda: &mut LambdaProcess, what: &str, event: &Value) -> Invocation {
    lambda
        .invoke(event)
        .await
        .unwrap_or_else(|e| panic!("{} / {what}: {e}", lambda.config().name))
}

/// An API Gateway proxy response: its status and parsed JSON body, with the envelope checked.
fn proxy_response(file: &str, invocation: &Invocation) -> Result<(u64, Value, Value), String> {
    let response = invocation
        .response_json()
        .map_err(|e| format!("{file}: {e}"))?;
    let status = response["statusCode"]
        .as_u64()
        .ok_or_else(|| format!("{file}: no statusCode in {response}"))?;
    if !response["headers"].is_object() || !response["multiValueHeaders"].is_object() {
        return Err(format!(
            "{file}: headers/multiValueHeaders missing in {response}"
        ));
    }
    if response["isBase64Encoded"] != json!(false) {
        return Err(format!("{file}: JSON answers are not base64 ({response})"));
    }
    let body = response["body"]
        .as_str()
        .ok_or_else(|| format!("{file}: body is not a string"))?;
    let body: Value = serde_json::from_str(body)
        .map_err(|e| format!("{file}: body is not JSON ({e}): {body}"))?;
    // API Gateway merges both maps; lambda_http puts everything in multiValueHeaders and
    // leaves headers empty (so nothing is sent twice).
    let mut headers = serde_json::Map::new();
    for (name, values) in response["multiValueHeaders"]
        .as_object()
        .into_iter()
        .flatten()
    {
        headers.insert(name.to_ascii_lowercase(), values[0].clone());
    }
    for (name, value) in response["headers"].as_object().into_iter().flatten() {
        headers.insert(name.to_ascii_lowercase(), value.clone());
    }
    Ok((status, Value::Object(headers), body))
}

/// Replays every API sample of one function; returns the failures.
async fn exercise_api(
    lambda: &mut LambdaProcess,
    events: &[(String, Value)],
    expected: &Value,
) -> Vec<String> {
    let mut failures = Vec::new();
    let name = lambda.config().name.clone();
    let good = events
        .iter()
        .find(|(file, _)| expected[file.as_str()]["status"] == 200)
        .unwrap_or_else(|| panic!("{name}: no sample with status 200 to follow a bad one"))
        .clone();
    for (file, event) in events {
        let want = &expected[file.as_str()];
        let invocation = invoke(lambda, file, event).await;
        let (status, headers, body) = match proxy_response(file, &invocation) {
            Ok(r) => r,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        if Some(status) != want["status"].as_u64() {
            failures.push(format!(
                "{name} {file}: status {status}, want {} ({body})",
                want["status"]
            ));
        }
        for (pointer, value) in want["checks"].as_object().into_iter().flatten() {
            if body.pointer(pointer) != Some(value) {
                failures.push(format!(
                    "{name} {file}: {pointer} = {:?}, want {value}",
                    body.pointer(pointer)
                ));
            }
        }
        if !headers["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("application/json"))
        {
            failures.push(format!(
                "{name} {file}: content-type {}",
                headers["content-type"]
            ));
        }
        if headers["x-request-id"] != event["requestContext"]["requestId"] {
            failures.push(format!(
                "{name} {file}: x-request-id {} is not the API request id",
                headers["x-request-id"]
            ));
        }
        if (400..500).contains(&status) {
            let error = &body["error"];
            if !(error["type"].is_string()
                && error["message"].is_string()
                && error["error_id"].is_string())
            {
                failures.push(format!("{name} {file}: error body {body}"));
            }
            // A bad request must leave the environment serving: the next good one succeeds.
            if !lambda.is_running() {
                failures.push(format!("{name} {file}: the runtime died after a 4xx"));
                return failures;
            }
            let after = invoke(lambda, &good.0, &good.1).await;
            match proxy_response(&good.0, &after) {
                Ok((200, _, _)) => {}
                other => failures.push(format!("{name}: {} after {file} gave {other:?}", good.0)),
            }
        }
    }
    // Not an API Gateway event at all: lambda_http cannot deserialize it, the runtime posts a
    // function error (the handler is not called) and keeps serving.
    let invocation = invoke(lambda, "non-event payload", &json!([1, 2, 3])).await;
    if invocation.error().is_none() {
        failures.push(format!(
            "{name}: a non-event payload gave {:?}",
            invocation.outcome
        ));
    }
    let after = invoke(lambda, &good.0, &good.1).await;
    if !matches!(proxy_response(&good.0, &after), Ok((200, _, _))) || !lambda.is_running() {
        failures.push(format!("{name}: not serving after a non-event payload"));
    }
    failures
}

#[tokio::test]
async fn every_function_binary_answers_its_sample_events_over_the_runtime_api() {
    let template = template();
    let routes = template::routes(&template).unwrap();
    let expected = expected();
    let api_samples = samples("api");
    let scheduled: Vec<String> = scheduled_functions(&template)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let db = TestDb::fresh_loaded("lambda").await;
    let mut failures = Vec::new();
    let mut api_functions = 0;
    for (id, bin) in template::functions(&template) {
        let bin = bin.unwrap_or_else(|| panic!("{id}: no Metadata.BuildProperties.Binary"));
        let events: Vec<(String, Value)> = api_samples
            .iter()
            .filter(|(_, e)| {
                routes.iter().any(|r| {
                    r.function == id
                        && Some(r.path.as_str()) == e["resource"].as_str()
                        && Some(r.method.as_str()) == e["httpMethod"].as_str()
                })
            })
            .cloned()
            .collect();
        if scheduled.contains(&id) || PIPELINE_BINARIES.contains(&bin.as_str()) {
            // Exercised with events/schedule by the refresh tests below, and with
            // events/annotation by annotation_events.rs.
            continue;
        }
        let mut lambda = spawn(config(&template, &id, &bin, &db.url)).await;
        if events.is_empty() && !trigger_types(&template, &id).is_empty() {
            // A coverage hole: still check that it starts and survives a payload it cannot
            // parse, but fail until a sample (and its expected.json entry) exists.
            failures.push(format!(
                "{id}: has triggers but no sample event in events/ reaches it"
            ));
            let invocation = invoke(&mut lambda, "non-event payload", &json!([1, 2, 3])).await;
            if invocation.error().is_none() || !lambda.is_running() {
                failures.push(format!(
                    "{id}: a non-event payload gave {:?}",
                    invocation.outcome
                ));
            }
        } else if events.is_empty() {
            // Invoked by hand (`aws lambda invoke`): any payload, answered twice the same way.
            for attempt in 0..2 {
                match invoke(&mut lambda, "manual invoke", &json!({}))
                    .await
                    .response_json()
                {
                    Ok(report) => eprintln!("{id}: manual invoke {attempt}: {report}"),
                    Err(e) => failures.push(format!("{id}: manual invoke {attempt}: {e}")),
                }
            }
        } else {
            api_functions += 1;
            failures.extend(exercise_api(&mut lambda, &events, &expected).await);
        }
        let rss_kib = lambda.peak_rss_kib().unwrap_or_default();
        let memory_kib = u64::from(lambda.config().memory_mb) * 1024;
        if rss_kib == 0 || rss_kib > memory_kib {
            failures.push(format!(
                "{id}: peak RSS {rss_kib} KiB vs MemorySize {memory_kib} KiB"
            ));
        }
        assert!(lambda.cold_start().is_some() && lambda.init_duration().is_some());
        eprintln!(
            "{id}: {} sample events, init {:?}, cold start {:?}, peak RSS {} KiB",
            events.len(),
            lambda.init_duration().unwrap_or_default(),
            lambda.cold_start().unwrap_or_default(),
            rss_kib
        );
    }
    assert!(
        api_functions >= 1,
        "the template routes API events to no function"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn data_version(db: &TestDb) -> i64 {
    current_data_version(&db.client().await).await.unwrap()
}

async fn scalar_text(db: &TestDb, sql: &str) -> Option<String> {
    db.client()
        .await
        .query_typed(sql, &[])
        .await
        .unwrap()
        .first()
        .map(|r| r.get(0))
}

#[tokio::test]
async fn scheduled_functions_refresh_every_view_and_bump_the_data_version() {
    let template = template();
    let schedule = samples("schedule");
    assert!(!schedule.is_empty(), "events/schedule has no sample");
    for (id, bin) in scheduled_functions(&template) {
        let db = TestDb::fresh_loaded("refresh").await;
        let mut lambda = spawn(config(&template, &id, &bin, &db.url)).await;
        for (file, event) in &schedule {
            // A change only a refresh can make visible, in the first view that reads genes and
            // in the last view of the chain.
            let symbol = scalar_text(&db, "SELECT approved_symbol FROM datasource_top_genes WHERE rank = 1 ORDER BY source_name LIMIT 1")
                .await
                .expect("a top gene");
            let renamed = format!("{symbol}_R{}", data_version(&db).await);
            db.client()
                .await
                .execute(&format!("UPDATE genes SET approved_symbol = '{renamed}' WHERE approved_symbol = '{symbol}'"), &[])
                .await
                .unwrap();
            let before = data_version(&db).await;
            let invocation = invoke(&mut lambda, file, event).await;
            let report = invocation
                .response_json()
                .unwrap_or_else(|e| panic!("{id} {file}: {e}"));
            let views: Vec<&str> = report["views"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["view"].as_str().unwrap())
                .collect();
            assert_eq!(
                views, MATERIALIZED_VIEWS,
                "{id} {file}: every view, in dependency order"
            );
            assert!(
                report["views"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|v| v["millis"].is_u64())
            );
            assert_eq!(report["data_version"], before + 1, "{id} {file}: {report}");
            assert_eq!(data_version(&db).await, before + 1);
            assert_eq!(report["event_id"], event["id"]);
            assert!(report["total_millis"].is_u64());
            for view in ["gene_list", "datasource_top_genes"] {
                let seen = scalar_text(&db, &format!("SELECT approved_symbol::text FROM {view} WHERE approved_symbol = '{renamed}' LIMIT 1")).await;
                assert_eq!(
                    seen.as_deref(),
                    Some(renamed.as_str()),
                    "{id} {file}: {view} refreshed"
                );
            }
        }
        // A rule with `Input` would deliver just that JSON: refused as a Lambda error (the
        // handler never runs), the version untouched, the environment still serving.
        let before = data_version(&db).await;
        let invocation = invoke(
            &mut lambda,
            "rule input payload",
            &json!({"action": "refresh"}),
        )
        .await;
        let error = invocation
            .error()
            .unwrap_or_else(|| panic!("{id}: an Input payload was accepted"));
        assert!(
            error.error_message.contains("detail-type"),
            "{id}: {error:?}"
        );
        assert_eq!(data_version(&db).await, before);
        assert!(lambda.is_running());
        let invocation = invoke(&mut lambda, "schedule after input", &schedule[0].1).await;
        assert_eq!(
            invocation.response_json().unwrap()["data_version"],
            before + 1
        );
        eprintln!(
            "{id}: init {:?}, cold start {:?}, peak RSS {} KiB",
            lambda.init_duration().unwrap_or_default(),
            lambda.cold_start().unwrap_or_default(),
            lambda.peak_rss_kib().unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn refresh_reports_an_unreachable_database_as_a_lambda_error_and_keeps_serving() {
    let template = template();
    let (id, bin) = scheduled_functions(&template)
        .into_iter()
        .find(|(_, b)| b == REFRESH_BINARY)
        .unwrap();
    // Port 1 on loopback: nothing listens, the connect fails at once.
    let config = config(&template, &id, &bin, "postgres://postgres@127.0.0.1:1/kgdb")
        .with_env("KGDB_DB_CONNECT_TIMEOUT_MS", "1000");
    let mut lambda = spawn(config).await;
    let event = &samples("schedule")[0].1;
    for _ in 0..2 {
        let invocation = invoke(&mut lambda, "refresh without database", event).await;
        let error = invocation.error().unwrap_or_else(|| {
            panic!(
                "refresh without a database succeeded: {:?}",
                invocation.outcome
            )
        });
        assert_eq!(error.error_type, "Refresh.DatabaseUnavailable", "{error:?}");
        assert_eq!(error.header_error_type.as_deref(), Some("unhandled"));
        assert!(lambda.is_running(), "an error is returned, never a crash");
    }
}

#[tokio::test]
async fn a_function_that_cannot_initialize_is_reported_as_exited() {
    let template = template();
    let (id, bin) = template::functions(&template)
        .into_iter()
        .find(|(id, _)| id == "SystemFunction")
        .expect("SystemFunction in template.yaml");
    let bin = bin.expect("SystemFunction binary");
    let config = config(
        &template,
        &id,
        &bin,
        "postgres://postgres@127.0.0.1:notaport/kgdb",
    );
    let mut lambda = spawn(config).await;
    let started = Instant::now();
    match lambda
        .invoke(
            &samples("api")
                .into_iter()
                .find(|(f, _)| f == "health.json")
                .unwrap()
                .1,
        )
        .await
    {
        Err(RuntimeError::Exited { logs, .. }) => assert!(logs.contains("invalid"), "{logs}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refreshes_under_concurrent_reads_fail_no_request() {
    const REFRESHES: i64 = 3;
    let template = template();
    let (id, bin) = scheduled_functions(&template)
        .into_iter()
        .find(|(_, b)| b == REFRESH_BINARY)
        .unwrap();
    let db = TestDb::fresh_loaded("refreshload").await;
    let mut lambda = spawn(config(&template, &id, &bin, &db.url)).await;
    let state = db.state();
    let stop = Arc::new(AtomicBool::new(false));
    let paths = [
        "/api/genes/?page[size]=20",
        "/api/genes/?filter[tier]=comprehensive_support,multi_source_support&sort=-evidence_count,approved_symbol&page[size]=50",
        "/api/genes/?filter[search]=PKD&filter[hide_zero_scores]=false",
        "/api/genes/resolve?query=HGNC:9008",
    ];
    let mut readers = Vec::new();
    for worker in 0..4 {
        let (state, stop) = (state.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut seen: Vec<(Instant, Instant, u16, String)> = Vec::new();
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                let path = paths[i % paths.len()];
                let started = Instant::now();
                let reply = kgdb_tests::get(&state, path).await;
                seen.push((started, Instant::now(), reply.status, path.to_string()));
                i += 1;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = data_version(&db).await;
    let event = &samples("schedule")[0].1;
    let mut windows = Vec::new();
    for _ in 0..REFRESHES {
        let started = Instant::now();
        let invocation = invoke(&mut lambda, "refresh under load", event).await;
        invocation
            .response_json()
            .unwrap_or_else(|e| panic!("refresh under load: {e}"));
        windows.push((started, Instant::now()));
    }
    stop.store(true, Ordering::Relaxed);
    let mut requests = Vec::new();
    for reader in readers {
        requests.extend(reader.await.unwrap());
    }
    let failed: Vec<_> = requests
        .iter()
        .filter(|(_, _, status, _)| *status != 200)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} reads failed during refreshes: {:?}",
        failed.len(),
        requests.len(),
        &failed[..failed.len().min(5)]
    );
    let during = requests
        .iter()
        .filter(|(start, end, _, _)| windows.iter().any(|(a, b)| start < b && end > a))
        .count();
    assert!(during >= 10, "only {during} reads overlapped the refreshes");
    assert_eq!(data_version(&db).await, before + REFRESHES);
    eprintln!(
        "{} reads ({during} during {REFRESHES} refreshes of {:?}), none failed",
        requests.len(),
        windows
            .iter()
            .map(|(a, b)| b.duration_since(*a))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn migrate_function_migrates_an_empty_database_once() {
    let template = template();
    let Some((id, Some(bin))) = template::functions(&template)
        .into_iter()
        .find(|(id, _)| id == "MigrateFunction")
    else {
        return;
    };
    // Named like TestDb's databases, so a crashed run's leftover is dropped by the next run.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("kgdb_test_{}_migrate_{nanos}", std::process::id());
    let admin = kgdb_tests::admin_url();
    let url = format!("{}/{name}", &admin[..admin.rfind('/').unwrap()]);
    kgdb_local::database::ensure_database(&url).await.unwrap();
    let mut lambda = spawn(config(&template, &id, &bin, &url)).await;
    let first = invoke(&mut lambda, "first migrate", &json!({}))
        .await
        .response_json()
        .unwrap();
    let all = kgdb_store::migrate::MIGRATIONS.len();
    assert_eq!(
        first["applied"].as_array().map(Vec::len),
        Some(all),
        "{first}"
    );
    let again = invoke(&mut lambda, "second migrate", &json!({}))
        .await
        .response_json()
        .unwrap();
    assert_eq!(again["applied"], json!([]), "{again}");
    drop(lambda);
    let _ = kgdb_local::database::drop_database(&admin, &name).await;
}
