//! A Lambda Runtime API emulator: runs a function binary as a separate process and invokes it
//! the way Lambda does, over the HTTP protocol `lambda_runtime` speaks.
//!
//! The protocol, as `lambda_runtime` 1.5 / `lambda_runtime_api_client` 1.1 implement it:
//! * the runtime reads `AWS_LAMBDA_RUNTIME_API` (`host:port`, no scheme) and the function
//!   config from `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` and
//!   `AWS_LAMBDA_FUNCTION_VERSION` (it panics without them);
//! * `GET /2018-06-01/runtime/invocation/next` long-polls; the answer's body is the event and
//!   its headers carry `Lambda-Runtime-Aws-Request-Id` and `Lambda-Runtime-Deadline-Ms` (both
//!   required: the runtime panics without them), `Lambda-Runtime-Invoked-Function-Arn` and
//!   `Lambda-Runtime-Trace-Id`; a 5xx makes a debug-built runtime exit, so `/next` never
//!   answers with an error, it just waits;
//! * `POST /2018-06-01/runtime/invocation/{id}/response` with the JSON result, or
//!   `POST .../{id}/error` with `{"errorType","errorMessage"}` and
//!   `Lambda-Runtime-Function-Error-Type: unhandled` (handler errors and events that do not
//!   deserialize); both are answered `202 {"status":"OK"}`, an unknown id `400`;
//! * `POST /2018-06-01/runtime/init/error` for a failed initialization.
//!
//! Around that, the Lambda behaviour tests rely on: one invocation at a time per environment,
//! an init budget for the first poll (10 s), a timeout per invocation after which the
//! environment is killed, the 6 MB response limit, and a crash (process exit) reported as such
//! instead of a hang. The child is killed when its [`LambdaProcess`] is dropped.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// Path prefix of every Runtime API route.
pub const API_PREFIX: &str = "/2018-06-01/runtime";
/// Largest synchronous response payload Lambda accepts (6 MB).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
/// Lambda's limit for the init phase of an on-demand environment.
pub const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The account id in the ARNs the emulator hands out (AWS's documentation account).
pub const ACCOUNT_ID: &str = "123456789012";

const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";
/// How often a waiting invoke checks whether the child has exited.
const EXIT_POLL: Duration = Duration::from_millis(5);
/// Lines of function output kept for error reports.
const LOG_TAIL_LINES: usize = 200;
const LOG_LINE_MAX: usize = 4096;

// ---------------------------------------------------------------------------------------------
// Results

/// An error as the runtime reported it (`/invocation/{id}/error` or `/init/error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// `errorType` of the body.
    pub error_type: String,
    /// `errorMessage` of the body.
    pub error_message: String,
    /// `Lambda-Runtime-Function-Error-Type` header (`unhandled`, `Runtime.InitError`, ...).
    pub header_error_type: Option<String>,
}

impl ErrorReport {
    fn from_body(body: &[u8], header_error_type: Option<String>) -> Self {
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let field = |k: &str| {
            parsed[k]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
        };
        ErrorReport {
            error_type: parsed["errorType"]
                .as_str()
                .unwrap_or("Unknown")
                .to_string(),
            error_message: field("errorMessage"),
            header_error_type,
        }
    }
}

/// What the function returned for one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The raw response payload (JSON for `lambda_runtime`).
    Response(Bytes),
    /// A function error: Lambda answers a synchronous invoke with this as `FunctionError`.
    Error(ErrorReport),
}

/// One completed invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From queuing the event to receiving the runtime's answer.
    pub duration: Duration,
    /// Process spawn to this answer, for the first invocation of an environment.
    pub cold_start: Option<Duration>,
}

impl Invocation {
    /// The response payload as JSON; a function error or invalid JSON is an `Err` describing it.
    pub fn response_json(&self) -> Result<Value, String> {
        match &self.outcome {
            Outcome::Response(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| format!("response is not JSON ({e}): {}", lossy(bytes))),
            Outcome::Error(report) => Err(format!(
                "function error {}: {}",
                report.error_type, report.error_message
            )),
        }
    }

    pub fn error(&self) -> Option<&ErrorReport> {
        match &self.outcome {
            Outcome::Error(report) => Some(report),
            Outcome::Response(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot start the Runtime API server: {0}")]
    Server(std::io::Error),
    #[error("cannot spawn {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("the runtime exited ({status}){}; last output:\n{logs}", init_note(.init_error))]
    Exited {
        status: String,
        init_error: Option<ErrorReport>,
        logs: String,
    },
    #[error(
        "no answer within {after:?} ({phase}); the environment was killed; last output:\n{logs}"
    )]
    Timeout {
        after: Duration,
        phase: &'static str,
        logs: String,
    },
    #[error("Runtime API protocol violation: {0}")]
    Protocol(String),
}

fn init_note(init_error: &Option<ErrorReport>) -> String {
    match init_error {
        Some(e) => format!(
            " after reporting an init error {}: {}",
            e.error_type, e.error_message
        ),
        None => String::new(),
    }
}

fn lossy(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut cut: String = text.chars().take(500).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

// ---------------------------------------------------------------------------------------------
// Ids

/// splitmix64 over time, pid and a counter: unique enough for ids, no `rand` dependency.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut z = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A UUID v4, the shape of Lambda's request ids.
fn request_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// An X-Ray trace header: `Root=1-<epoch hex>-<96 bits>;Parent=<64 bits>;Sampled=0`.
fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!(
        "Root=1-{:08x}-{:08x}{:016x};Parent={:016x};Sampled=0",
        secs as u32,
        random_u64() as u32,
        random_u64(),
        random_u64()
    )
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The Runtime API server

struct Queued {
    request_id: String,
    body: Bytes,
    timeout: Duration,
    trace_id: String,
}

struct Shared {
    function_arn: String,
    queue_tx: mpsc::UnboundedSender<Queued>,
    /// One poller at a time, as one environment runs one invocation at a time.
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<ErrorReport>>,
    first_poll: OnceLock<Instant>,
}

/// A submitted invocation: await `outcome` for the runtime's answer.
pub struct Pending {
    pub request_id: String,
    pub outcome: oneshot::Receiver<Outcome>,
}

/// The Runtime API of one execution environment, on 127.0.0.1 with an ephemeral port.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts the server; `function_arn` is what `/next` reports as the invoked function.
    pub async fn start(function_arn: impl Into<String>) -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn: function_arn.into(),
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            in_flight: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            first_poll: OnceLock::new(),
        });
        let server = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(RuntimeApi {
            addr,
            shared,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event; `/next` hands it out with a deadline of `timeout` from that moment.
    pub fn submit(&self, event: Bytes, timeout: Duration) -> Pending {
        let request_id = request_id();
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.in_flight).insert(request_id.clone(), tx);
        let queued = Queued {
            request_id: request_id.clone(),
            body: event,
            timeout,
            trace_id: trace_id(),
        };
        // The receiver lives in `shared`, which we hold, so sending cannot fail.
        let _ = self.shared.queue_tx.send(queued);
        Pending {
            request_id,
            outcome: rx,
        }
    }

    /// Forgets an invocation that will not be answered (its environment is gone).
    pub fn abandon(&self, request_id: &str) {
        lock(&self.shared.in_flight).remove(request_id);
    }

    /// When the runtime first called `/next`: the end of its init phase.
    pub fn first_poll(&self) -> Option<Instant> {
        self.shared.first_poll.get().copied()
    }

    /// What the runtime posted to `/init/error`, if anything.
    pub fn init_error(&self) -> Option<ErrorReport> {
        lock(&self.shared.init_error).clone()
    }
}

/// A poisoned lock only means another thread panicked mid-update of a plain map; keep going.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |req| {
                            let shared = shared.clone();
                            async move { Ok::<_, Infallible>(route(&shared, req).await) }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "runtime API accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn accepted() -> Response<Full<Bytes>> {
    reply(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    reply(
        status,
        serde_json::json!({"errorType": error_type, "errorMessage": message}),
    )
}

async fn route(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return api_error(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    match (req.method(), rest) {
        (&Method::GET, "/invocation/next") => next(shared).await,
        (&Method::POST, "/init/error") => {
            let header = error_type_header(&req);
            let body = read_body(req).await.unwrap_or_default();
            *lock(&shared.init_error) = Some(ErrorReport::from_body(&body, header));
            accepted()
        }
        (&Method::POST, rest) => match rest
            .strip_prefix("/invocation/")
            .and_then(|r| r.rsplit_once('/'))
        {
            Some((id, "response")) => complete(shared, id, false, req).await,
            Some((id, "error")) => complete(shared, id, true, req).await,
            _ => api_error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
        },
        _ => api_error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
    }
}

async fn next(shared: &Arc<Shared>) -> Response<Full<Bytes>> {
    let _ = shared.first_poll.set(Instant::now());
    let queued = {
        let mut rx = shared.queue_rx.lock().await;
        rx.recv().await
    };
    let Some(queued) = queued else {
        // Unreachable while `shared` holds the sender; fail loudly rather than hand out junk.
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "queue closed",
        );
    };
    // Lambda's deadline counts from the start of the invoke phase, i.e. now.
    let deadline = epoch_ms(SystemTime::now() + queued.timeout);
    let mut response = Response::new(Full::new(queued.body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let pairs = [
        ("lambda-runtime-aws-request-id", queued.request_id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            shared.function_arn.clone(),
        ),
        ("lambda-runtime-trace-id", queued.trace_id),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

fn error_type_header(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get(ERROR_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The body, or `None` when it exceeds [`MAX_RESPONSE_BYTES`] (or the connection broke).
async fn read_body(req: Request<Incoming>) -> Option<Bytes> {
    Limited::new(req.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes())
}

async fn complete(
    shared: &Arc<Shared>,
    id: &str,
    is_error: bool,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let Some(sender) = lock(&shared.in_flight).remove(id) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "no invocation in flight with this request id",
        );
    };
    let header = error_type_header(&req);
    let streaming = req
        .headers()
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|v| v == "streaming");
    let Some(body) = read_body(req).await else {
        let _ = sender.send(Outcome::Error(ErrorReport {
            error_type: "Function.ResponseSizeTooLarge".into(),
            error_message: format!("response payload exceeds {MAX_RESPONSE_BYTES} bytes"),
            header_error_type: None,
        }));
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            "response payload too large",
        );
    };
    let outcome = if is_error {
        Outcome::Error(ErrorReport::from_body(&body, header))
    } else if streaming {
        // kgdb's functions are buffered; a streamed answer means the wrong runtime entry point.
        Outcome::Error(ErrorReport {
            error_type: "Emulator.StreamingUnsupported".into(),
            error_message: "response streaming is not emulated".into(),
            header_error_type: None,
        })
    } else {
        Outcome::Response(body)
    };
    // The invoker may have given up (timeout); the answer is then simply dropped.
    let _ = sender.send(outcome);
    accepted()
}

// ---------------------------------------------------------------------------------------------
// A function process

/// How to run one function, as Lambda would configure its environment.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub name: String,
    /// The executable (the `bootstrap` of a `provided.al2023` function).
    pub binary: PathBuf,
    /// Only for stand-in executables in tests; Lambda passes none.
    pub args: Vec<String>,
    pub memory_mb: u32,
    pub timeout: Duration,
    pub init_timeout: Duration,
    pub region: String,
    /// Extra variables (the function's `Environment`), applied after Lambda's own.
    pub env: Vec<(String, String)>,
    /// Copy the function's output to our stderr as it arrives (it is always kept as a tail).
    pub echo_output: bool,
}

impl FunctionConfig {
    /// Lambda's defaults: 128 MB, 3 s.
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> FunctionConfig {
        FunctionConfig {
            name: name.into(),
            binary: binary.into(),
            args: Vec::new(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            init_timeout: DEFAULT_INIT_TIMEOUT,
            region: "eu-central-1".into(),
            env: Vec::new(),
            echo_output: std::env::var_os("KGDB_LAMBDA_ECHO").is_some(),
        }
    }

    /// Memory, timeout and environment variables of `logical_id` in a SAM template
    /// (`Globals.Function`, overridden by the function's `Properties`), with `!Ref` of a
    /// parameter resolved to its default. Values naming deployed resources (`!Sub` of the
    /// proxy endpoint, `!Ref` of a table) have no local value and are left for the caller.
    pub fn from_template(
        template: &serde_yaml::Value,
        logical_id: &str,
        binary: impl Into<PathBuf>,
    ) -> FunctionConfig {
        let mut config = FunctionConfig::new(logical_id, binary);
        let globals = template.get("Globals").and_then(|g| g.get("Function"));
        let own = template
            .get("Resources")
            .and_then(|r| r.get(logical_id))
            .and_then(|r| r.get("Properties"));
        let number = |layer: &serde_yaml::Value, key: &str| {
            layer
                .get(key)
                .and_then(|v| resolve(template, v))
                .and_then(|v| v.parse::<u64>().ok())
        };
        for layer in [globals, own].into_iter().flatten() {
            if let Some(mb) = number(layer, "MemorySize") {
                config.memory_mb = u32::try_from(mb).unwrap_or(u32::MAX);
            }
            if let Some(secs) = number(layer, "Timeout") {
                config.timeout = Duration::from_secs(secs);
            }
            let vars = layer
                .get("Environment")
                .and_then(|e| e.get("Variables"))
                .and_then(serde_yaml::Value::as_mapping);
            for (key, value) in vars.into_iter().flatten() {
                let (Some(key), Some(value)) = (key.as_str(), resolve(template, value)) else {
                    continue;
                };
                config.env.retain(|(k, _)| k != key);
                config.env.push((key.to_string(), value));
            }
        }
        config
    }

    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{ACCOUNT_ID}:function:{}",
            self.region, self.name
        )
    }
}

/// A literal, or `!Ref` of a template parameter (its `Default`); other intrinsics (`!Sub`,
/// `!GetAtt`, `!Ref` of a resource) name deployed resources and have no local value.
fn resolve(template: &serde_yaml::Value, value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::Tagged(tagged) if tagged.tag == "Ref" => {
            let name = tagged.value.as_str()?;
            let default = template.get("Parameters")?.get(name)?.get("Default")?;
            yaml_scalar(default)
        }
        other => yaml_scalar(other),
    }
}

fn yaml_scalar(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The last lines the function wrote to stdout and stderr.
#[derive(Default)]
struct LogTail {
    lines: VecDeque<String>,
}

impl LogTail {
    fn push(&mut self, mut line: String) {
        if line.len() > LOG_LINE_MAX {
            let mut end = LOG_LINE_MAX;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
        }
        if self.lines.len() == LOG_TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

fn drain_output(
    reader: impl Read + Send + 'static,
    tail: Arc<Mutex<LogTail>>,
    prefix: Option<String>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(reader).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if let Some(prefix) = &prefix {
                eprintln!("{prefix} {line}");
            }
            lock(&tail).push(line);
        }
    })
}

/// One execution environment: a function process and its Runtime API.
pub struct LambdaProcess {
    api: RuntimeApi,
    config: FunctionConfig,
    child: Child,
    spawned_at: Instant,
    exit: Option<ExitStatus>,
    /// Set when the environment was killed (timeout) rather than exiting by itself.
    killed: Option<&'static str>,
    cold_start: Option<Duration>,
    tail: Arc<Mutex<LogTail>>,
    output_threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl LambdaProcess {
    /// Starts the Runtime API, then the function with Lambda's environment (and nothing of
    /// ours: the environment is cleared first, as a Lambda sandbox starts clean).
    pub async fn spawn(config: FunctionConfig) -> Result<LambdaProcess, RuntimeError> {
        let api = RuntimeApi::start(config.function_arn())
            .await
            .map_err(RuntimeError::Server)?;
        // Absolute, because the child starts in the binary's directory (as Lambda starts in
        // /var/task) and a relative path would then resolve against that.
        let binary = std::path::absolute(&config.binary).unwrap_or_else(|_| config.binary.clone());
        let task_root = binary
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let log_stream = format!("2026/11/21/[$LATEST]{:032x}", u128::from(random_u64()));
        let mut command = Command::new(&binary);
        command
            .args(&config.args)
            .env_clear()
            .current_dir(&task_root)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .env("LAMBDA_TASK_ROOT", &task_root)
            .env("_HANDLER", "bootstrap")
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", &config.name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                config.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", config.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", log_stream)
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            // Lambda always hands the execution role's credentials to the function; these
            // are AWS's documented example keys (they sign, nothing accepts them).
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )
            .env("AWS_SESSION_TOKEN", "emulated-session-token")
            .env("AWS_REGION", &config.region)
            .env("AWS_DEFAULT_REGION", &config.region)
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawned_at = Instant::now();
        let mut child = command.spawn().map_err(|source| RuntimeError::Spawn {
            binary: config.binary.display().to_string(),
            source,
        })?;
        let tail = Arc::new(Mutex::new(LogTail::default()));
        let prefix = config.echo_output.then(|| format!("[{}]", config.name));
        let mut output_threads = Vec::new();
        if let Some(out) = child.stdout.take() {
            output_threads.push(drain_output(out, tail.clone(), prefix.clone()));
        }
        if let Some(err) = child.stderr.take() {
            output_threads.push(drain_output(err, tail.clone(), prefix));
        }
        Ok(LambdaProcess {
            api,
            config,
            child,
            spawned_at,
            exit: None,
            killed: None,
            cold_start: None,
            tail,
            output_threads,
        })
    }

    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Spawn to the first answer (init, first event, first database connection).
    pub fn cold_start(&self) -> Option<Duration> {
        self.cold_start
    }

    /// Spawn to the first `/next` poll: what Lambda reports as "Init Duration".
    pub fn init_duration(&self) -> Option<Duration> {
        self.api
            .first_poll()
            .map(|t| t.saturating_duration_since(self.spawned_at))
    }

    /// Whether the process is still running (it is reaped if not).
    pub fn is_running(&mut self) -> bool {
        self.check_exit().is_none()
    }

    /// Peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.child.id(), "VmHWM:")
    }

    /// The last lines of the function's output.
    pub fn output_tail(&self) -> String {
        let tail = lock(&self.tail);
        let skip = tail.lines.len().saturating_sub(50);
        tail.lines
            .iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn check_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exit = Some(status);
        }
        self.exit
    }

    /// Waits (briefly) for the output threads, so a crash report includes the last words.
    fn flush_output(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline && self.output_threads.iter().any(|t| !t.is_finished()) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn exited_error(&mut self, status: ExitStatus) -> RuntimeError {
        self.flush_output();
        let status = match self.killed {
            Some(phase) => format!("killed after a timeout in {phase}"),
            None => status.to_string(),
        };
        RuntimeError::Exited {
            status,
            init_error: self.api.init_error(),
            logs: self.output_tail(),
        }
    }

    fn kill(&mut self, phase: &'static str) {
        let _ = self.child.kill();
        if let Ok(status) = self.child.wait() {
            self.exit = Some(status);
        }
        self.killed = Some(phase);
    }

    /// Invokes the function with a JSON event (synchronous invoke, `RequestResponse`).
    pub async fn invoke(&mut self, event: &Value) -> Result<Invocation, RuntimeError> {
        self.invoke_raw(Bytes::from(event.to_string())).await
    }

    /// Invokes the function with a raw payload.
    pub async fn invoke_raw(&mut self, event: Bytes) -> Result<Invocation, RuntimeError> {
        if let Some(status) = self.check_exit() {
            return Err(self.exited_error(status));
        }
        let initialized = self.api.first_poll().is_some();
        let started = Instant::now();
        let Pending {
            request_id,
            mut outcome,
        } = self.api.submit(event, self.config.timeout);
        // Lambda's invoke timeout starts after init; a cold environment gets the init budget
        // on top. A little slack covers the emulator's own scheduling.
        let budget = self.config.timeout
            + Duration::from_millis(250)
            + if initialized {
                Duration::ZERO
            } else {
                self.config.init_timeout
            };
        let deadline = tokio::time::Instant::now() + budget;
        let result = loop {
            tokio::select! {
                biased;
                answer = &mut outcome => break answer.map_err(|_| {
                    RuntimeError::Protocol("the Runtime API dropped the invocation".into())
                }),
                _ = tokio::time::sleep(EXIT_POLL) => {
                    if let Some(status) = self.check_exit() {
                        // The answer may have been posted just before the exit.
                        if let Ok(answer) = outcome.try_recv() {
                            break Ok(answer);
                        }
                        self.api.abandon(&request_id);
                        return Err(self.exited_error(status));
                    }
                    if tokio::time::Instant::now() >= deadline {
                        self.api.abandon(&request_id);
                        let phase = if self.api.first_poll().is_none() {
                            "init (the runtime never polled /next)"
                        } else {
                            "invoke"
                        };
                        self.kill(phase);
                        self.flush_output();
                        return Err(RuntimeError::Timeout {
                            after: budget,
                            phase,
                            logs: self.output_tail(),
                        });
                    }
                }
            }
        };
        let outcome = result?;
        let cold_start = if self.cold_start.is_none() {
            let cold = self.spawned_at.elapsed();
            self.cold_start = Some(cold);
            Some(cold)
        } else {
            None
        };
        Ok(Invocation {
            request_id,
            outcome,
            duration: started.elapsed(),
            cold_start,
        })
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmHWM:`, `VmRSS:`).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Empty;
    use hyper::client::conn::http1 as client;

    async fn send(
        addr: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> (StatusCode, hyper::HeaderMap, Bytes) {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = client::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = sender
            .send_request(req.body(Full::new(body)).unwrap())
            .await
            .unwrap();
        let (parts, body) = res.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }

    async fn poll_next(addr: &str) -> (StatusCode, hyper::HeaderMap, Bytes) {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = client::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        let req = Request::builder()
            .uri(format!("{API_PREFIX}/invocation/next"))
            .header("host", addr)
            .body(Empty::<Bytes>::new())
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        let (parts, body) = res.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }

    #[tokio::test]
    async fn next_long_polls_and_carries_the_invocation_headers() {
        let api = RuntimeApi::start("arn:aws:lambda:eu-central-1:123456789012:function:f")
            .await
            .unwrap();
        let addr = api.address();
        let poll = tokio::spawn({
            let addr = addr.clone();
            async move { poll_next(&addr).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!poll.is_finished(), "/next waits for an event");
        assert!(api.first_poll().is_some());
        let pending = api.submit(Bytes::from_static(b"{\"a\":1}"), Duration::from_secs(3));
        let (status, headers, body) = poll.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(
            headers["lambda-runtime-aws-request-id"],
            pending.request_id.as_str()
        );
        let deadline: u64 = headers["lambda-runtime-deadline-ms"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = epoch_ms(SystemTime::now());
        assert!(
            deadline > now + 2_000 && deadline <= now + 3_000,
            "{deadline} vs {now}"
        );
        assert_eq!(
            headers["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:eu-central-1:123456789012:function:f"
        );
        assert!(
            headers["lambda-runtime-trace-id"]
                .to_str()
                .unwrap()
                .starts_with("Root=1-")
        );
        assert_eq!(pending.request_id.len(), 36);

        let (status, _, body) = send(
            &addr,
            Method::POST,
            &format!("{API_PREFIX}/invocation/{}/response", pending.request_id),
            &[],
            Bytes::from_static(b"{\"ok\":true}"),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(body, Bytes::from_static(b"{\"status\":\"OK\"}"));
        assert_eq!(
            pending.outcome.await.unwrap(),
            Outcome::Response(Bytes::from_static(b"{\"ok\":true}"))
        );
    }

    #[tokio::test]
    async fn errors_unknown_ids_and_oversized_responses() {
        let api = RuntimeApi::start("arn").await.unwrap();
        let addr = api.address();
        let pending = api.submit(Bytes::from_static(b"{}"), Duration::from_secs(3));
        let (_, headers, _) = poll_next(&addr).await;
        let id = headers["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        let error_path = format!("{API_PREFIX}/invocation/{id}/error");
        let (status, _, _) = send(
            &addr,
            Method::POST,
            &error_path,
            &[("lambda-runtime-function-error-type", "unhandled")],
            Bytes::from_static(b"{\"errorType\":\"Boom\",\"errorMessage\":\"it broke\"}"),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(
            pending.outcome.await.unwrap(),
            Outcome::Error(ErrorReport {
                error_type: "Boom".into(),
                error_message: "it broke".into(),
                header_error_type: Some("unhandled".into()),
            })
        );
        // Answered once: the id is no longer in flight.
        let (status, _, _) = send(&addr, Method::POST, &error_path, &[], Bytes::new()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let pending = api.submit(Bytes::from_static(b"{}"), Duration::from_secs(3));
        poll_next(&addr).await;
        let big = Bytes::from(vec![b' '; MAX_RESPONSE_BYTES + 1]);
        let path = format!("{API_PREFIX}/invocation/{}/response", pending.request_id);
        let (status, _, _) = send(&addr, Method::POST, &path, &[], big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        match pending.outcome.await.unwrap() {
            Outcome::Error(e) => assert_eq!(e.error_type, "Function.ResponseSizeTooLarge"),
            other => panic!("{other:?}"),
        }

        let (status, _, _) = send(
            &addr,
            Method::POST,
            &format!("{API_PREFIX}/init/error"),
            &[("lambda-runtime-function-error-type", "Runtime.InitError")],
            Bytes::from_static(b"{\"errorType\":\"Config\",\"errorMessage\":\"bad url\"}"),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(api.init_error().unwrap().error_message, "bad url");
        let (status, _, _) = send(&addr, Method::GET, "/nope", &[], Bytes::new()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_process_that_exits_is_reported_not_awaited() {
        let mut config = FunctionConfig::new("crashy", "/bin/sh");
        config.args = vec!["-c".into(), "echo about to fail; exit 3".into()];
        let mut lambda = LambdaProcess::spawn(config).await.unwrap();
        let started = Instant::now();
        match lambda.invoke(&serde_json::json!({})).await {
            Err(RuntimeError::Exited { status, logs, .. }) => {
                assert!(status.contains('3'), "{status}");
                assert!(logs.contains("about to fail"), "{logs}");
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!lambda.is_running());
        // Later invokes fail the same way instead of waiting.
        assert!(matches!(
            lambda.invoke(&serde_json::json!({})).await,
            Err(RuntimeError::Exited { .. })
        ));
    }

    #[tokio::test]
    async fn a_runtime_that_never_polls_times_out_and_is_killed() {
        let mut config = FunctionConfig::new("stuck", "/bin/sleep");
        config.args = vec!["30".into()];
        config.timeout = Duration::from_millis(100);
        config.init_timeout = Duration::from_millis(200);
        let mut lambda = LambdaProcess::spawn(config).await.unwrap();
        let started = Instant::now();
        let result = lambda.invoke(&serde_json::json!({})).await;
        assert!(
            matches!(result, Err(RuntimeError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!lambda.is_running());
    }

    #[tokio::test]
    async fn a_missing_binary_is_a_spawn_error() {
        let result = LambdaProcess::spawn(FunctionConfig::new("x", "/nonexistent/bootstrap")).await;
        assert!(matches!(result, Err(RuntimeError::Spawn { .. })));
    }

    #[test]
    fn template_config_layers_globals_and_function_properties() {
        let template = crate::template::parse(
            "Parameters:\n  Mem:\n    Type: Number\n    Default: 256\nGlobals:\n  Function:\n    MemorySize: !Ref Mem\n    Timeout: 10\n    Environment:\n      Variables:\n        DATABASE_URL: !Ref Db\n        KGDB_DB_POOL_SIZE: \"1\"\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Timeout: 60\n      Environment:\n        Variables:\n          KGDB_DB_POOL_SIZE: 2\n",
        )
        .unwrap();
        let config = FunctionConfig::from_template(&template, "F", "/bin/true");
        assert_eq!(config.memory_mb, 256);
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert_eq!(
            config.env,
            vec![("KGDB_DB_POOL_SIZE".to_string(), "2".to_string())]
        );
    }

    #[test]
    fn ids_have_lambdas_shapes() {
        let id = request_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert_ne!(request_id(), request_id());
        assert!(trace_id().contains(";Parent="));
    }
}
