//! `kgdb-bench`: load generator for the local gateway (a benchmark, not a test).
//!
//! For each scenario it runs, over N keep-alive HTTP/1.1 connections:
//! * closed loop: every connection sends its next request as soon as the previous answer
//!   arrives: the maximum throughput, with latency at saturation (which, by Little's law, is
//!   about connections / throughput);
//! * open loop: requests are scheduled at a fixed offered rate and latency is measured from the
//!   scheduled time whenever the generator is behind, so queueing is not hidden (no coordinated
//!   omission).
//!
//! Results print as a Markdown table and, with `--readme`, replace the README's benchmark block.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

struct Scenario {
    id: &'static str,
    name: &'static str,
    path: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "health",
        name: "`/health` (database ping)",
        path: "/health",
    },
    Scenario {
        id: "genes",
        name: "`/api/genes/` default parameters",
        path: "/api/genes/",
    },
    Scenario {
        id: "genes-filtered",
        name: "`/api/genes/` filtered + sorted",
        path: "/api/genes/?filter%5Btier%5D=comprehensive_support,multi_source_support&filter%5Bmin_score%5D=30&filter%5Bsource%5D=ClinGen&sort=-evidence_count,approved_symbol&page%5Bsize%5D=50",
    },
    Scenario {
        id: "detail",
        name: "`/api/genes/PKD1` gene detail",
        path: "/api/genes/PKD1",
    },
    Scenario {
        id: "annotations",
        name: "`/api/annotations/genes/PKD1/annotations`",
        path: "/api/annotations/genes/PKD1/annotations",
    },
    Scenario {
        id: "annotation-summary",
        name: "`/api/annotations/genes/PKD1/annotations/summary`",
        path: "/api/annotations/genes/PKD1/annotations/summary",
    },
    Scenario {
        id: "annotation-sources",
        name: "`/api/annotations/sources`",
        path: "/api/annotations/sources",
    },
    Scenario {
        id: "annotation-statistics",
        name: "`/api/annotations/statistics`",
        path: "/api/annotations/statistics",
    },
    Scenario {
        id: "pipeline-status",
        name: "`/api/annotations/pipeline/status` (never in the function's cache)",
        path: "/api/annotations/pipeline/status",
    },
];

#[derive(Default)]
struct Run {
    latencies_us: Vec<u64>,
    /// Answers that arrived inside the measurement window (the achieved rate's numerator).
    completed_in_window: u64,
    /// Failed answers and requests (503s included).
    errors: u64,
    /// 503s: load shed because no database connection was free in time.
    shed: u64,
    elapsed: Duration,
}

impl Run {
    /// Counts one answered request if it belongs to the measured window: its latency since
    /// `from`, and whether it arrived before the window's `end`.
    fn record(&mut self, sent: Sent, measured: bool, from: Instant, end: Instant) {
        if !measured {
            return;
        }
        if sent == Sent::Shed {
            self.shed += 1;
        }
        let ok = sent == Sent::Ok;
        if ok {
            self.latencies_us.push(from.elapsed().as_micros() as u64);
            self.completed_in_window += u64::from(Instant::now() <= end);
        } else {
            self.errors += 1;
        }
    }

    fn rate(&self) -> f64 {
        self.completed_in_window as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

type Sender = http1::SendRequest<Empty<Bytes>>;

/// How long an overloaded open-loop run may run past its window.
const GRACE: Duration = Duration::from_secs(2);

async fn connect(authority: &str) -> Result<Sender, String> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Replaces a connection that failed; false when no new one can be opened.
async fn reconnect(sender: &mut Sender, authority: &str) -> bool {
    match connect(authority).await {
        Ok(fresh) => {
            *sender = fresh;
            true
        }
        Err(_) => false,
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Ok,
    /// 503: the gateway shed the request (database pool exhausted or down).
    Shed,
    /// Any other status, or no answer (the connection is then replaced).
    Failed,
}

async fn send(sender: &mut Sender, authority: &str, path: &str) -> Sent {
    if sender.ready().await.is_err() {
        return Sent::Failed;
    }
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new());
    let Ok(req) = req else { return Sent::Failed };
    match sender.send_request(req).await {
        Ok(response) => {
            let status = response.status();
            if response.into_body().collect().await.is_err() {
                Sent::Failed
            } else if status.is_success() {
                Sent::Ok
            } else if status == hyper::StatusCode::SERVICE_UNAVAILABLE {
                Sent::Shed
            } else {
                Sent::Failed
            }
        }
        Err(_) => Sent::Failed,
    }
}

/// Closed loop for `duration` (after `warmup`).
async fn closed_loop(
    authority: &str,
    path: &str,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Run {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let authority = authority.to_string();
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            let Ok(mut sender) = connect(&authority).await else {
                run.errors += 1;
                return run;
            };
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let sent = send(&mut sender, &authority, &path).await;
                run.record(sent, t0 >= measure_from, t0, end);
                if sent == Sent::Failed && !reconnect(&mut sender, &authority).await {
                    break;
                }
            }
            run
        }));
    }
    merge(tasks, duration).await
}

/// Open loop at `rate` requests per second spread over the connections; request `i` asks for
/// `paths[i % paths.len()]` (one path, or a mixed trace).
async fn open_loop(
    authority: &str,
    paths: Arc<Vec<String>>,
    connections: usize,
    rate: f64,
    warmup: Duration,
    duration: Duration,
) -> Run {
    let start = Instant::now() + Duration::from_millis(50);
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let counter = Arc::new(AtomicU64::new(0));
    let interval = 1.0 / rate;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let authority = authority.to_string();
        let paths = paths.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            let Ok(mut sender) = connect(&authority).await else {
                run.errors += 1;
                return run;
            };
            loop {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let scheduled = start + Duration::from_secs_f64(i as f64 * interval);
                let now = Instant::now();
                // Overloaded: stop a bounded time after the window instead of draining the backlog.
                if scheduled >= end || now > end + GRACE {
                    break;
                }
                // Behind schedule: the wait is the server's doing, count it. Ahead: sleep, and
                // measure from the actual send (timer slack is the generator's, not the server's).
                let from = if now >= scheduled {
                    scheduled
                } else {
                    tokio::time::sleep_until(scheduled.into()).await;
                    Instant::now()
                };
                let path = &paths[i as usize % paths.len()];
                let sent = send(&mut sender, &authority, path).await;
                run.record(sent, scheduled >= measure_from, from, end);
                if sent == Sent::Failed && !reconnect(&mut sender, &authority).await {
                    break;
                }
            }
            run
        }));
    }
    merge(tasks, duration).await
}

async fn merge(tasks: Vec<tokio::task::JoinHandle<Run>>, duration: Duration) -> Run {
    let mut total = Run {
        elapsed: duration,
        ..Run::default()
    };
    for t in tasks {
        if let Ok(run) = t.await {
            total.latencies_us.extend(run.latencies_us);
            total.completed_in_window += run.completed_in_window;
            total.errors += run.errors;
            total.shed += run.shed;
        }
    }
    total
}

fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// `--name value` options after the subcommand.
struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }
    fn num(&self, name: &str, default: f64) -> Result<f64, String> {
        self.get(name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{name} must be a number"))
        })
    }
}

const USAGE: &str = "usage:
  kgdb-bench run    --url URL --mode LABEL [--scenarios health,genes,genes-filtered,detail] [--connections 50]
                    [--seconds 5] [--rate 5000] [--gateway-pid PID] [--out FILE]
  kgdb-bench trace  --url URL --admin-token TOKEN [--requests 20000] [--connections 50] [--out FILE]
  kgdb-bench load   --url URL --admin-token TOKEN [--rate 2000] [--connections 100] [--seconds 60]
                    [--path P --label TEXT] [--out FILE]
  kgdb-bench load-readme --from FILE --readme README.md [--note TEXT]
  kgdb-bench compression --url URL [--readme README.md] [--note TEXT]
  kgdb-bench readme --from FILE --readme README.md [--note TEXT]
  kgdb-bench dynamo-rtt --endpoint URL --table NAME [--out FILE]";

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let args = Args(rest.to_vec());
    // One core for the generator: the gateway and Postgres share the rest of the machine.
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("cannot start a tokio runtime");
        std::process::exit(1);
    };
    let result = match command.as_str() {
        "run" => runtime.block_on(run(&args)),
        "trace" => runtime.block_on(trace(&args)),
        "load" => runtime.block_on(load(&args)),
        "load-readme" => load_readme(&args),
        "compression" => runtime.block_on(compression(&args)),
        "readme" => readme(&args),
        "dynamo-rtt" => runtime.block_on(dynamo_rtt(&args)),
        _ => Err(USAGE.to_string()),
    };
    if let Err(e) = result {
        eprintln!("kgdb-bench: {e}");
        std::process::exit(1);
    }
}

fn authority(args: &Args) -> String {
    args.get("--url")
        .unwrap_or("http://127.0.0.1:3000")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

fn append(args: &Args, line: &str) -> Result<(), String> {
    println!("{line}");
    if let Some(out) = args.get("--out") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)
            .map_err(|e| e.to_string())?;
        writeln!(f, "{line}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs the scenarios in closed and open loop; one table row each (tagged with `--mode`).
async fn run(args: &Args) -> Result<(), String> {
    let authority = authority(args);
    let mode = args.get("--mode").unwrap_or("uncached").to_string();
    let connections = args.num("--connections", 50.0)? as usize;
    let rate = args.num("--rate", 5000.0)?;
    let duration = Duration::from_secs_f64(args.num("--seconds", 5.0)?);
    let warmup = Duration::from_secs(1);
    let wanted: Vec<&str> = args.get("--scenarios").map_or_else(
        || SCENARIOS.iter().map(|s| s.id).collect(),
        |s| s.split(',').collect(),
    );
    for s in SCENARIOS.iter().filter(|s| wanted.contains(&s.id)) {
        eprintln!("==> [{mode}] {} ({})", s.name, s.path);
        let mut closed = closed_loop(&authority, s.path, connections, warmup, duration).await;
        let one = Arc::new(vec![s.path.to_string()]);
        let mut open = open_loop(&authority, one, connections, rate, warmup, duration).await;
        if closed.latencies_us.is_empty() {
            return Err(format!("{}: no successful request", s.path));
        }
        append(
            args,
            &format!(
                "| {} | {mode} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | {} |",
                s.name,
                closed.rate(),
                closed.percentile_ms(0.50),
                closed.percentile_ms(0.99),
                open.rate(),
                open.percentile_ms(0.50),
                open.percentile_ms(0.99),
                closed.errors + open.errors,
            ),
        )?;
    }
    if let Some(mb) = args
        .get("--gateway-pid")
        .and_then(|p| p.parse().ok())
        .and_then(peak_rss_mb)
    {
        append(args, &format!("<!-- rss {mode} {mb:.1} -->"))?;
    }
    Ok(())
}

/// A realistic mixed request trace: gene pages and filters, details and evidence of real
/// genes with a skewed popularity (a few genes are looked up far more often), statistics,
/// data sources, resolves. Deterministic, so runs are comparable.
fn trace_paths(symbols: &[String], n: usize) -> Vec<String> {
    let mut seed: u64 = 0x6b67_6462;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tiers = [
        "comprehensive_support",
        "multi_source_support",
        "established_support",
        "preliminary_evidence",
        "minimal_evidence",
    ];
    let sources = [
        "PanelApp",
        "ClinGen",
        "GenCC",
        "HPO",
        "PubTator",
        "DiagnosticPanels",
        "Literature",
    ];
    let stats = [
        "summary",
        "source-overlaps",
        "source-distributions",
        "evidence-composition",
    ];
    (0..n)
        .map(|_| {
            // Zipf-like: the square of a uniform index favours the first (highest-scored) genes.
            let u = (next() % 10_000) as f64 / 10_000.0;
            let gene = &symbols[((u * u) * symbols.len() as f64) as usize % symbols.len()];
            match next() % 100 {
                0..=34 => format!("/api/genes/{gene}"),
                35..=44 => format!("/api/genes/{gene}/evidence"),
                45..=59 => format!("/api/genes/?page%5Bnumber%5D={}", 1 + next() % 5),
                60..=69 => format!(
                    "/api/genes/?filter%5Btier%5D={}&sort=-evidence_score",
                    tiers[(next() % 5) as usize]
                ),
                70..=74 => format!(
                    "/api/genes/?filter%5Bsource%5D={}&page%5Bsize%5D=50",
                    sources[(next() % 7) as usize]
                ),
                75..=79 => format!(
                    "/api/genes/?filter%5Bsearch%5D={}",
                    &gene[..gene.len().min(3)]
                ),
                80..=89 => format!("/api/statistics/{}", stats[(next() % 4) as usize]),
                90..=94 => "/api/datasources/".to_string(),
                _ => format!("/api/genes/resolve?query={gene}"),
            }
        })
        .collect()
}

async fn fetch(
    authority: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> Result<serde_json::Value, String> {
    let mut sender = connect(authority).await?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, authority);
    if let Some(t) = token {
        req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req.body(Empty::<Bytes>::new()).map_err(|e| e.to_string())?;
    let response = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

/// The first 1,000 genes by score: the population the mixed trace draws from.
async fn trace_symbols(authority: &str) -> Result<Vec<String>, String> {
    let mut symbols = Vec::new();
    for page in 1..=10 {
        let list = fetch(authority, "GET", &format!("/api/genes/?page%5Bsize%5D=100&page%5Bnumber%5D={page}&filter%5Bhide_zero_scores%5D=false"), None).await?;
        for g in list["data"].as_array().into_iter().flatten() {
            if let Some(s) = g["attributes"]["approved_symbol"].as_str() {
                symbols.push(s.to_string());
            }
        }
    }
    if symbols.is_empty() {
        return Err("no genes to build the trace from".into());
    }
    Ok(symbols)
}

/// Load test: the mixed trace in open loop at a fixed offered rate over many connections for a
/// long window, starting from a flushed cache. Writes a README block (`--readme`).
async fn load(args: &Args) -> Result<(), String> {
    let authority = authority(args);
    let token = args
        .get("--admin-token")
        .ok_or("--admin-token is required")?;
    let connections = args.num("--connections", 100.0)? as usize;
    let rate = args.num("--rate", 2000.0)?;
    let seconds = args.num("--seconds", 60.0)?;
    let (label, paths) = match args.get("--path") {
        Some(path) => (
            format!("`{path}` ({})", args.get("--label").unwrap_or("one route")),
            vec![path.to_string()],
        ),
        None => {
            let symbols = trace_symbols(&authority).await?;
            // More distinct requests than the window sends, so the run is not a short loop.
            let n = (rate * (seconds + 5.0)) as usize;
            (
                "mixed trace, from a flushed cache".to_string(),
                trace_paths(&symbols, n),
            )
        }
    };
    fetch(&authority, "POST", "/api/admin/cache/flush", Some(token)).await?;
    eprintln!(
        "==> load: {label}, {rate:.0} req/s offered, {connections} connections, {seconds:.0} s"
    );
    let mut run = open_loop(
        &authority,
        Arc::new(paths),
        connections,
        rate,
        Duration::from_secs(1),
        Duration::from_secs_f64(seconds),
    )
    .await;
    let answered = run.latencies_us.len() as u64 + run.errors;
    append(
        args,
        &format!(
            "| {label} | {rate:.0} | {connections} | {seconds:.0} | {answered} | {:.0} | {:.2} | {:.2} | {:.2} | {} ({:.1} %) | {} |",
            run.rate(),
            run.percentile_ms(0.50),
            run.percentile_ms(0.99),
            run.percentile_ms(0.999),
            run.shed,
            run.shed as f64 * 100.0 / answered.max(1) as f64,
            run.errors - run.shed,
        ),
    )
}

/// Size and CPU time of gzip on real answers: each route's identity body from the gateway,
/// compressed here at level 1 (what the gateway uses) and 6 (zlib's default), best of 50.
async fn compression(args: &Args) -> Result<(), String> {
    use std::io::Write as _;
    let authority = authority(args);
    let routes = [
        "/api/genes/",
        "/api/genes/?page%5Bsize%5D=100",
        "/api/genes/PKD1",
        "/api/genes/PKD1/evidence",
        "/api/statistics/summary",
        "/api/statistics/source-overlaps",
        "/api/datasources/",
        "/api/openapi.json",
    ];
    let mut rows = Vec::new();
    for route in routes {
        let body = serde_json::to_vec(&fetch(&authority, "GET", route, None).await?)
            .map_err(|e| e.to_string())?;
        let mut cells = vec![format!("`{route}`"), body.len().to_string()];
        for level in [1, 6] {
            let mut best = Duration::MAX;
            let mut size = 0;
            for _ in 0..50 {
                let t = Instant::now();
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
                encoder.write_all(&body).map_err(|e| e.to_string())?;
                size = encoder.finish().map_err(|e| e.to_string())?.len();
                best = best.min(t.elapsed());
            }
            cells.push(format!(
                "{size} ({:.0} %)",
                size as f64 * 100.0 / body.len() as f64
            ));
            cells.push(format!("{}", best.as_micros()));
        }
        rows.push(format!("| {} |", cells.join(" | ")));
    }
    let table = format!(
        "| Answer | Bytes | gzip level 1 bytes | µs | gzip level 6 bytes | µs |\n|---|---|---|---|---|---|\n{}\n\n{}\n",
        rows.join("\n"),
        args.get("--note").unwrap_or("")
    );
    println!("{table}");
    if let Some(path) = args.get("--readme") {
        replace_block(
            path,
            "<!-- compression:start -->",
            "<!-- compression:end -->",
            &table,
        )?;
    }
    Ok(())
}

/// Writes the rows of `load` runs into the README's load block.
fn load_readme(args: &Args) -> Result<(), String> {
    let from = args.get("--from").ok_or("--from is required")?;
    let path = args.get("--readme").ok_or("--readme is required")?;
    let collected = std::fs::read_to_string(from).map_err(|e| e.to_string())?;
    let rows: Vec<&str> = collected.lines().filter(|l| l.starts_with("| ")).collect();
    let table = format!(
        "| Load | Offered req/s | Connections | Seconds | Requests | Achieved req/s | p50 ms | p99 ms | p99.9 ms | 503 shed | Other errors |\n|---|---|---|---|---|---|---|---|---|---|---|\n{}\n\n{}\n",
        rows.join("\n"),
        args.get("--note").unwrap_or("")
    );
    replace_block(path, "<!-- load:start -->", "<!-- load:end -->", &table)
}

/// Replaces the text between two markers of a file.
fn replace_block(path: &str, start: &str, end: &str, block: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        return Err(format!("markers {start} / {end} not found in {path}"));
    };
    if b < a {
        return Err("markers out of order".into());
    }
    std::fs::write(
        path,
        format!("{}{start}\n{block}{}", &text[..a], &text[b..]),
    )
    .map_err(|e| e.to_string())?;
    eprintln!("==> wrote the block {start} into {path}");
    Ok(())
}

/// Replays the mixed trace from a flushed (cold) cache and reports the hit rate the gateway saw.
async fn trace(args: &Args) -> Result<(), String> {
    let authority = authority(args);
    let token = args
        .get("--admin-token")
        .ok_or("--admin-token is required")?;
    let n = args.num("--requests", 20_000.0)? as usize;
    let connections = args.num("--connections", 50.0)? as usize;
    let symbols = trace_symbols(&authority).await?;
    let paths = Arc::new(trace_paths(&symbols, n));
    fetch(&authority, "POST", "/api/admin/cache/flush", Some(token)).await?;
    let before = fetch(&authority, "GET", "/api/admin/cache/stats", Some(token)).await?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (authority, paths, next) = (authority.clone(), paths.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut errors = 0u64;
            let Ok(mut sender) = connect(&authority).await else {
                return 1;
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(path) = paths.get(i) else { break };
                if send(&mut sender, &authority, path).await != Sent::Ok {
                    errors += 1;
                    if !reconnect(&mut sender, &authority).await {
                        break;
                    }
                }
            }
            errors
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t.await.unwrap_or(1);
    }
    let elapsed = started.elapsed();
    let after = fetch(&authority, "GET", "/api/admin/cache/stats", Some(token)).await?;
    let count = |v: &serde_json::Value, k: &str| v["data"]["total"][k].as_u64().unwrap_or(0);
    let hits = count(&after, "hits") - count(&before, "hits");
    let misses = count(&after, "misses") - count(&before, "misses");
    let rate = if hits + misses == 0 {
        0.0
    } else {
        hits as f64 / (hits + misses) as f64 * 100.0
    };
    append(
        args,
        &format!(
            "<!-- trace {n} {rate:.1} {hits} {misses} {errors} {:.0} -->",
            n as f64 / elapsed.as_secs_f64()
        ),
    )
}

/// Round trip of one GetItem to the DynamoDB endpoint, without any kgdb work: the part of an
/// L2 hit that is the emulator's (or the network's), not ours.
async fn dynamo_rtt(args: &Args) -> Result<(), String> {
    let mut config = kgdb_web::cache::CacheConfig::from_env();
    config.l2_table = Some(
        args.get("--table")
            .ok_or("--table is required")?
            .to_string(),
    );
    config.l2_endpoint = Some(
        args.get("--endpoint")
            .ok_or("--endpoint is required")?
            .to_string(),
    );
    config.l2_timeout = Duration::from_secs(2);
    let cache = kgdb_web::cache::Cache::new(config);
    let l2 = cache.l2().await.ok_or("L2 not configured")?;
    let mut run = Run::default();
    for i in 0..520 {
        let t = Instant::now();
        l2.client()
            .get_item()
            .table_name(l2.table())
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("rtt-probe-{i}")),
            )
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())?;
        if i >= 20 {
            run.latencies_us.push(t.elapsed().as_micros() as u64);
        }
    }
    append(
        args,
        &format!("<!-- l2rtt {:.2} -->", run.percentile_ms(0.5)),
    )
}

const START: &str = "<!-- bench:start -->";
const END: &str = "<!-- bench:end -->";

/// Builds the README table from the collected rows.
fn readme(args: &Args) -> Result<(), String> {
    let from = args.get("--from").ok_or("--from is required")?;
    let path = args.get("--readme").ok_or("--readme is required")?;
    let collected = std::fs::read_to_string(from).map_err(|e| e.to_string())?;
    let rows: Vec<&str> = collected.lines().filter(|l| l.starts_with("| ")).collect();
    let mut notes = Vec::new();
    for line in collected.lines() {
        let fields: Vec<&str> = line
            .trim_start_matches("<!-- ")
            .trim_end_matches(" -->")
            .split(' ')
            .collect();
        match fields.as_slice() {
            ["rss", mode, mb] => notes.push(format!("Gateway peak RSS ({mode} run): {mb} MB.")),
            ["l2rtt", ms] => notes.push(format!(
                "DynamoDB emulator (moto) round trip of a bare GetItem, p50: {ms} ms; an `l2` row's latency is that plus kgdb's own work."
            )),
            ["trace", n, rate, hits, misses, errors, rps] => notes.push(format!(
                "Mixed trace ({n} requests from a flushed cache: gene details with skewed popularity, evidence, list pages and filters, statistics, data sources, resolves): **hit rate {rate} %** ({hits} hits, {misses} misses, {errors} errors) at {rps} req/s."
            )),
            _ => {}
        }
    }
    let table = format!(
        "| Scenario | Cache | Max req/s (closed loop, 50 conns) | p50 / p99 ms at max | Achieved req/s (open loop, 5,000 offered) | p50 / p99 ms at 5,000 req/s | Errors |\n|---|---|---|---|---|---|---|\n{}\n\n{}\n\n{}",
        rows.join("\n"),
        notes.join("\n"),
        args.get("--note").unwrap_or("")
    );
    replace_block(path, START, END, &format!("{table}\n"))
}
