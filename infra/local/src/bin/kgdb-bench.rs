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

struct Options {
    base: String,
    connections: usize,
    seconds: f64,
    rate: f64,
    readme: Option<String>,
    gateway_pid: Option<u32>,
    note: String,
}

struct Scenario {
    name: &'static str,
    path: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "`/health` (database ping)",
        path: "/health",
    },
    Scenario {
        name: "`/api/genes/` default parameters",
        path: "/api/genes/",
    },
    Scenario {
        name: "`/api/genes/` filtered + sorted",
        path: "/api/genes/?filter%5Btier%5D=comprehensive_support,multi_source_support&filter%5Bmin_score%5D=30&filter%5Bsource%5D=ClinGen&sort=-evidence_count,approved_symbol&page%5Bsize%5D=50",
    },
    Scenario {
        name: "`/api/genes/PKD1` gene detail",
        path: "/api/genes/PKD1",
    },
];

#[derive(Default)]
struct Run {
    latencies_us: Vec<u64>,
    /// Answers that arrived inside the measurement window (the achieved rate's numerator).
    completed_in_window: u64,
    errors: u64,
    elapsed: Duration,
}

impl Run {
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

async fn send(sender: &mut Sender, authority: &str, path: &str) -> bool {
    if sender.ready().await.is_err() {
        return false;
    }
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new());
    let Ok(req) = req else { return false };
    match sender.send_request(req).await {
        Ok(response) => {
            let ok = response.status().is_success();
            ok && response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
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
                let ok = send(&mut sender, &authority, &path).await;
                if t0 >= measure_from {
                    if ok {
                        run.latencies_us.push(t0.elapsed().as_micros() as u64);
                        run.completed_in_window += u64::from(Instant::now() <= end);
                    } else {
                        run.errors += 1;
                    }
                }
                if !ok {
                    match connect(&authority).await {
                        Ok(s) => sender = s,
                        Err(_) => break,
                    }
                }
            }
            run
        }));
    }
    merge(tasks, duration).await
}

/// Open loop at `rate` requests per second spread over the connections.
async fn open_loop(
    authority: &str,
    path: &str,
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
        let path = path.to_string();
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
                let ok = send(&mut sender, &authority, &path).await;
                if scheduled >= measure_from {
                    if ok {
                        run.latencies_us.push(from.elapsed().as_micros() as u64);
                        run.completed_in_window += u64::from(Instant::now() <= end);
                    } else {
                        run.errors += 1;
                    }
                }
                if !ok {
                    match connect(&authority).await {
                        Ok(s) => sender = s,
                        Err(_) => break,
                    }
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

fn parse() -> Result<Options, String> {
    let mut o = Options {
        base: "http://127.0.0.1:3000".into(),
        connections: 50,
        seconds: 5.0,
        rate: 5000.0,
        readme: None,
        gateway_pid: None,
        note: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => o.base = v()?,
            "--connections" => o.connections = v()?.parse().map_err(|_| "bad --connections")?,
            "--seconds" => o.seconds = v()?.parse().map_err(|_| "bad --seconds")?,
            "--rate" => o.rate = v()?.parse().map_err(|_| "bad --rate")?,
            "--readme" => o.readme = Some(v()?),
            "--gateway-pid" => o.gateway_pid = Some(v()?.parse().map_err(|_| "bad --gateway-pid")?),
            "--note" => o.note = v()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

fn main() {
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: kgdb-bench [--url http://127.0.0.1:3000] [--connections 50] [--seconds 5] [--rate 5000] [--readme README.md] [--gateway-pid PID] [--note TEXT]"
            );
            std::process::exit(2);
        }
    };
    // One core for the generator: the gateway and Postgres share the rest of the machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let Ok(runtime) = runtime else {
        eprintln!("cannot start a tokio runtime");
        std::process::exit(1);
    };
    let code = runtime.block_on(run(options));
    std::process::exit(code);
}

async fn run(o: Options) -> i32 {
    let authority = o
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let warmup = Duration::from_secs(1);
    let duration = Duration::from_secs_f64(o.seconds);
    let mut rows = Vec::new();
    let mut failed = false;
    for s in SCENARIOS {
        eprintln!("==> {} ({})", s.name, s.path);
        let mut closed = closed_loop(&authority, s.path, o.connections, warmup, duration).await;
        let mut open = open_loop(&authority, s.path, o.connections, o.rate, warmup, duration).await;
        let row = format!(
            "| {} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | {} |",
            s.name,
            closed.rate(),
            closed.percentile_ms(0.50),
            closed.percentile_ms(0.99),
            open.rate(),
            open.percentile_ms(0.50),
            open.percentile_ms(0.99),
            closed.errors + open.errors,
        );
        eprintln!("    {row}");
        failed |= closed.latencies_us.is_empty();
        rows.push(row);
    }
    let rss = o
        .gateway_pid
        .and_then(peak_rss_mb)
        .map(|mb| format!("Gateway peak RSS over the whole run: {mb:.1} MB. "))
        .unwrap_or_default();
    let table = format!(
        "| Scenario | Max req/s (closed loop, {c} conns) | p50 / p99 ms at max | Achieved req/s (open loop, {r:.0} offered) | p50 / p99 ms at {r:.0} req/s | Errors |\n|---|---|---|---|---|---|\n{rows}\n\n{rss}{note}",
        c = o.connections,
        r = o.rate,
        rows = rows.join("\n"),
        note = o.note,
    );
    println!("{table}");
    if let Some(path) = &o.readme {
        if let Err(e) = write_readme(path, &table) {
            eprintln!("could not update {path}: {e}");
            return 1;
        }
        eprintln!("==> wrote the table into {path}");
    }
    if failed { 1 } else { 0 }
}

const START: &str = "<!-- bench:start -->";
const END: &str = "<!-- bench:end -->";

fn write_readme(path: &str, table: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        return Err(format!("markers {START} / {END} not found"));
    };
    if b < a {
        return Err("benchmark markers out of order".into());
    }
    let updated = format!("{}{START}\n{table}\n{}", &text[..a], &text[b..]);
    std::fs::write(path, updated).map_err(|e| e.to_string())
}
