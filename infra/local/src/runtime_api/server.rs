//! The Runtime API of one execution environment: the HTTP server a function's runtime polls
//! for events and posts answers to, with the queue of submitted invocations.
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
//! A response over Lambda's 6 MB limit is refused and becomes a function error.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
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

use super::ids::{request_id, trace_id};
use super::invocation::{ErrorReport, Outcome};
use super::lock;

/// Path prefix of every Runtime API route.
pub const API_PREFIX: &str = "/2018-06-01/runtime";
/// Largest synchronous response payload Lambda accepts (6 MB).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

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
}
