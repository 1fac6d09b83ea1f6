//! `kgdb-lambda-bench`: what each function binary costs as a Lambda (a benchmark, not a test).
//!
//! For every function of `template.yaml` it takes the already built binary from `--target-dir`
//! (it builds nothing) and runs it as Lambda would, under the Runtime API emulator
//! (`kgdb_local::runtime_api`) against `DATABASE_URL`:
//! * binary size (the release profile strips symbols, so this is what gets zipped);
//! * cold start: process spawn to the first answer, which includes the runtime's init and the
//!   first database connection (the pool connects lazily), median over `--cold` fresh processes;
//! * warm invoke: median and p99 over `--warm` invokes of one process, measured from queuing the
//!   event to the runtime posting its answer;
//! * peak RSS (`VmHWM`) of that process after the warm loop.
//!
//! Results print as a Markdown table and, with `--readme`, replace the README block between
//! `<!-- lambda-bench:start -->` and `<!-- lambda-bench:end -->`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kgdb_local::runtime_api::{FunctionConfig, Invocation, LambdaProcess, Outcome};
use kgdb_local::template;
use serde_json::Value;

const START: &str = "<!-- lambda-bench:start -->";
const END: &str = "<!-- lambda-bench:end -->";
const USAGE: &str = "usage: kgdb-lambda-bench [--target-dir target/release] [--arm64-dir target/lambda] [--cold 10] [--warm 500] [--readme README.md] [--note TEXT]
Environment: DATABASE_URL (a database loaded with `kgdb-local setup`).";

/// A refresh rewrites every view, seconds of work: a handful of warm runs says enough.
const SCHEDULED_WARM_MAX: usize = 5;
/// The sample each API function is measured with, when the template routes it there.
const PREFERRED_EVENTS: &[&str] = &[
    "genes-list-default.json",
    "gene-detail-pkd1.json",
    "statistics-summary.json",
    "datasources-list.json",
    "health.json",
];

struct Options {
    target_dir: PathBuf,
    /// `cargo lambda build --release --arm64` output (`<dir>/<binary>/bootstrap`): the
    /// deployed artifacts, whose size is what the 10 MB budget is about.
    arm64_dir: PathBuf,
    cold: usize,
    warm: usize,
    readme: Option<PathBuf>,
    note: String,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        target_dir: PathBuf::from("target/release"),
        arm64_dir: PathBuf::from("target/lambda"),
        cold: 10,
        warm: 500,
        readme: None,
        note: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--target-dir" => o.target_dir = v()?.into(),
            "--arm64-dir" => o.arm64_dir = v()?.into(),
            "--cold" => o.cold = v()?.parse().map_err(|_| "bad --cold")?,
            "--warm" => o.warm = v()?.parse().map_err(|_| "bad --warm")?,
            "--readme" => o.readme = Some(v()?.into()),
            "--note" => o.note = v()?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.cold == 0 || o.warm == 0 {
        return Err("--cold and --warm must be at least 1".into());
    }
    Ok(o)
}

fn main() {
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    // Checked first, so a run is not wasted on a README that cannot take the table.
    if let Some(path) = &options.readme
        && let Err(e) = check_markers(path)
    {
        eprintln!("kgdb-lambda-bench: {}: {e}", path.display());
        std::process::exit(1);
    }
    // One thread for the emulator: the function processes and Postgres share the rest.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let Ok(runtime) = runtime else {
        eprintln!("cannot start a tokio runtime");
        std::process::exit(1);
    };
    match runtime.block_on(run(options)) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("kgdb-lambda-bench: {e}");
            std::process::exit(1);
        }
    }
}

/// The event a function is measured with, and how many warm invokes it gets.
struct Workload {
    label: String,
    event: Value,
    warm: usize,
}

fn events_dir() -> PathBuf {
    template::repo_template_path()
        .parent()
        .map(|p| p.join("events"))
        .unwrap_or_else(|| PathBuf::from("events"))
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("expected.json"))
        .collect();
    files.sort();
    Ok(files)
}

fn workload(
    template: &serde_yaml::Value,
    routes: &[template::RouteSpec],
    logical_id: &str,
    warm: usize,
) -> Result<Option<Workload>, String> {
    let triggers: Vec<&str> = template["Resources"][logical_id]["Properties"]["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(_, e)| e.get("Type")?.as_str())
        .collect();
    if triggers
        .iter()
        .any(|t| matches!(*t, "Schedule" | "ScheduleV2" | "EventBridgeRule"))
    {
        let file = json_files(&events_dir().join("schedule"))?
            .into_iter()
            .next()
            .ok_or("events/schedule has no sample")?;
        return Ok(Some(Workload {
            label: format!("`{}`", file_name(&file)),
            event: read_json(&file)?,
            warm: warm.min(SCHEDULED_WARM_MAX),
        }));
    }
    if triggers.is_empty() {
        // Invoked by hand (`aws lambda invoke` with `{}`).
        return Ok(Some(Workload {
            label: "`{}` (manual invoke)".into(),
            event: serde_json::json!({}),
            warm,
        }));
    }
    let api = events_dir().join("api");
    let expected = read_json(&api.join("expected.json"))?;
    let mut candidates = Vec::new();
    for file in json_files(&api)? {
        let name = file_name(&file);
        if expected[name.as_str()]["status"] != 200 {
            continue;
        }
        let event = read_json(&file)?;
        let routed = routes.iter().any(|r| {
            r.function == logical_id
                && Some(r.path.as_str()) == event["resource"].as_str()
                && Some(r.method.as_str()) == event["httpMethod"].as_str()
        });
        if routed {
            candidates.push((name, event));
        }
    }
    let pick = candidates
        .iter()
        .position(|(n, _)| PREFERRED_EVENTS.contains(&n.as_str()))
        .unwrap_or(0);
    if candidates.is_empty() {
        return Ok(None);
    }
    let (name, event) = candidates.swap_remove(pick);
    Ok(Some(Workload {
        label: format!("`{name}`"),
        event,
        warm,
    }))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A success: an API answer below 400, or any non-error answer of an event function.
fn check(invocation: &Invocation) -> Result<(), String> {
    match &invocation.outcome {
        Outcome::Error(e) => Err(format!("{}: {}", e.error_type, e.error_message)),
        Outcome::Response(_) => {
            let body = invocation.response_json()?;
            match body.get("statusCode").and_then(Value::as_u64) {
                Some(status) if status >= 400 => Err(format!("status {status}")),
                _ => Ok(()),
            }
        }
    }
}

fn percentile_ms(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1000.0
}

struct Row {
    function: String,
    binary: String,
    size_mib: f64,
    arm64_mib: Option<f64>,
    cold_ms: f64,
    init_ms: f64,
    cached: (f64, f64),
    uncached: (f64, f64),
    warm_n: usize,
    rss_mib: f64,
    event: String,
}

struct Measured {
    cold_ms: f64,
    init_ms: f64,
    cached: (f64, f64),
    uncached: (f64, f64),
    rss_mib: f64,
}

/// One warm environment: a first (cold) invoke, then `work.warm` timed ones; returns p50/p99
/// and the peak RSS afterwards.
async fn warm_loop(config: FunctionConfig, work: &Workload) -> Result<((f64, f64), f64), String> {
    let name = config.name.clone();
    let mut lambda = LambdaProcess::spawn(config)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let first = lambda
        .invoke(&work.event)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    check(&first).map_err(|e| format!("{name}: {e}"))?;
    let mut warm = Vec::with_capacity(work.warm);
    for _ in 0..work.warm {
        let invocation = lambda
            .invoke(&work.event)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        check(&invocation).map_err(|e| format!("{name} warm invoke: {e}"))?;
        warm.push(invocation.duration);
    }
    let rss_mib = lambda.peak_rss_kib().unwrap_or_default() as f64 / 1024.0;
    Ok((
        (
            percentile_ms(&mut warm, 0.5),
            percentile_ms(&mut warm, 0.99),
        ),
        rss_mib,
    ))
}

async fn measure(
    config: &FunctionConfig,
    work: &Workload,
    cold_runs: usize,
) -> Result<Measured, String> {
    let name = &config.name;
    let mut cold = Vec::with_capacity(cold_runs);
    let mut init = Vec::with_capacity(cold_runs);
    for _ in 0..cold_runs {
        let mut lambda = LambdaProcess::spawn(config.clone())
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        let invocation = lambda
            .invoke(&work.event)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        check(&invocation).map_err(|e| format!("{name} cold start: {e}"))?;
        cold.extend(invocation.cold_start);
        init.extend(lambda.init_duration());
    }
    // As deployed: a repeated request is answered from the in-process L1 cache.
    let (cached, rss_mib) = warm_loop(config.clone(), work).await?;
    // Every invoke reads Postgres: the cost of a cache miss.
    let (uncached, _) = warm_loop(config.clone().with_env("KGDB_CACHE", "off"), work).await?;
    Ok(Measured {
        cold_ms: percentile_ms(&mut cold, 0.5),
        init_ms: percentile_ms(&mut init, 0.5),
        cached,
        uncached,
        rss_mib,
    })
}

async fn run(o: Options) -> Result<(), String> {
    let template_path = template::repo_template_path();
    let template = template::load(&template_path).map_err(|e| e.to_string())?;
    let routes = template::routes(&template).map_err(|e| e.to_string())?;
    let database_url = std::env::var("DATABASE_URL")
        .map_err(|_| "DATABASE_URL must name a database loaded by `kgdb-local setup`")?;
    let mut rows = Vec::new();
    for (id, binary) in template::functions(&template) {
        let binary = binary.ok_or(format!("{id}: no Metadata.BuildProperties.Binary"))?;
        let path = o.target_dir.join(&binary);
        let size = std::fs::metadata(&path)
            .map_err(|e| {
                format!(
                    "{}: {e} (build first: cargo build --release --workspace --bins)",
                    path.display()
                )
            })?
            .len();
        let arm64_mib = std::fs::metadata(o.arm64_dir.join(&binary).join("bootstrap"))
            .ok()
            .map(|m| m.len() as f64 / (1024.0 * 1024.0));
        let Some(work) = workload(&template, &routes, &id, o.warm)? else {
            // API routes but no 200 sample to replay: report the size, measure nothing.
            eprintln!("==> {id}: no 200 sample in events/api reaches it; size only");
            rows.push(format!(
                "| {id} (`{binary}`) | {} | {:.1} | – | – | – | – | 0 | – | no sample event |",
                arm64_mib.map_or("–".to_string(), |m| format!("{m:.1}")),
                size as f64 / (1024.0 * 1024.0)
            ));
            continue;
        };
        let config = FunctionConfig::from_template(&template, &id, &path)
            .with_env("DATABASE_URL", database_url.clone())
            // The local server authenticates with the URL's credentials, not RDS IAM tokens.
            .with_env("KGDB_DB_IAM_AUTH", "false")
            // No DynamoDB here: with a table name the L2 cache would call AWS itself (the
            // Lambda environment says it runs in AWS).
            .with_env("KGDB_CACHE_TABLE", "")
            .with_env("KGDB_ENV", "bench");
        eprintln!("==> {id} ({binary}, {})", work.label);
        let m = measure(&config, &work, o.cold).await?;
        let row = Row {
            function: id,
            binary,
            size_mib: size as f64 / (1024.0 * 1024.0),
            arm64_mib,
            cold_ms: m.cold_ms,
            init_ms: m.init_ms,
            cached: m.cached,
            uncached: m.uncached,
            warm_n: work.warm,
            rss_mib: m.rss_mib,
            event: work.label,
        };
        let row = format_row(&row);
        eprintln!("    {row}");
        rows.push(row);
    }
    let profile = o
        .target_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let table = format!(
        "| Function | arm64 bootstrap, stripped (MiB) | Local binary (MiB) | Cold start p50 (ms) | of which init p50 (ms) | Warm p50 / p99 (ms), L1 cache on | Warm p50 / p99 (ms), `KGDB_CACHE=off` | Warm invokes | Peak RSS (MiB) | Event |\n|---|---|---|---|---|---|---|---|---|---|\n{}\n\n\
         `{profile}` binaries run as separate processes under the Runtime API emulator \
         (`infra/local/src/runtime_api/`), {cores} cores shared with Postgres. Cold start = \
         process spawn to first answer, including init and the first database connection \
         (median of {} spawns); init = spawn to the first `/next` poll. Warm = event queued to \
         answer posted, one process repeating one event: with the L1 cache on (as deployed) \
         repeats are cache hits, with it off every invoke reads Postgres. Peak RSS = `VmHWM` \
         after the cached warm loop. No DynamoDB (L2) locally. {}",
        rows.join("\n"),
        o.cold,
        o.note,
    );
    println!("{table}");
    if let Some(path) = &o.readme {
        write_readme(path, &table)?;
        eprintln!("==> wrote the table into {}", path.display());
    }
    Ok(())
}

fn format_row(r: &Row) -> String {
    format!(
        "| {} (`{}`) | {} | {:.1} | {:.1} | {:.1} | {:.2} / {:.2} | {:.2} / {:.2} | {} | {:.1} | {} |",
        r.function,
        r.binary,
        r.arm64_mib.map_or("–".to_string(), |m| format!("{m:.1}")),
        r.size_mib,
        r.cold_ms,
        r.init_ms,
        r.cached.0,
        r.cached.1,
        r.uncached.0,
        r.uncached.1,
        r.warm_n,
        r.rss_mib,
        r.event,
    )
}

fn marker_span(text: &str) -> Result<(usize, usize), String> {
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        return Err(format!("markers {START} / {END} not found"));
    };
    if b < a {
        return Err("lambda-bench markers out of order".into());
    }
    Ok((a, b))
}

fn check_markers(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    marker_span(&text).map(|_| ())
}

fn write_readme(path: &Path, table: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (a, b) = marker_span(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let updated = format!("{}{START}\n{table}\n{}", &text[..a], &text[b..]);
    std::fs::write(path, updated).map_err(|e| format!("{}: {e}", path.display()))
}
