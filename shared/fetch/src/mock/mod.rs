//! A scripted HTTP server on 127.0.0.1 for tests and benchmarks: per path a list of answers
//! given in order (the last repeats), or a function of the request; every request is logged
//! with its arrival time so tests can check retries and rate limits.
//!
//! [`providers`] scripts every endpoint the ten live annotation clients call (their real URLs,
//! answered from the source tests' fixtures): a whole provider world for pipeline runs.

pub mod providers;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct MockResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Wait before answering (a timeout is a delay past the client's).
    pub delay: Duration,
    /// Send only this many bytes of the body, then drop the connection (a download cut short).
    pub cut_after: Option<usize>,
}

impl MockResponse {
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
            cut_after: None,
        }
    }
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Self::new(200, body)
    }
    pub fn json(value: &serde_json::Value) -> Self {
        Self::ok(value.to_string()).header("content-type", "application/json")
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    pub fn cut_after(mut self, bytes: usize) -> Self {
        self.cut_after = Some(bytes);
        self
    }
}

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: Option<String>,
    pub body: Bytes,
    pub at: Instant,
}

type Handler = Arc<dyn Fn(&RecordedRequest) -> MockResponse + Send + Sync>;

enum Route {
    Script(Vec<MockResponse>, usize),
    Func(Handler),
}

#[derive(Default)]
struct State {
    routes: HashMap<(String, String), Route>,
    /// (method, path prefix, handler): paths no exact route takes, longest prefix first.
    prefixes: Vec<(String, String, Handler)>,
    log: Vec<RecordedRequest>,
}

impl State {
    fn prefix_handler(&self, method: &str, path: &str) -> Option<Handler> {
        self.prefixes
            .iter()
            .filter(|(m, prefix, _)| m == method && path.starts_with(prefix.as_str()))
            .max_by_key(|(_, prefix, _)| prefix.len())
            .map(|(_, _, f)| f.clone())
    }
}

#[derive(Clone)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl MockServer {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, state })
    }

    /// `http://127.0.0.1:PORT`, for `Endpoints::local`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers for `method` on the real URL's host + path (`https://host/p` → `/host/p`).
    pub fn script(&self, method: &str, real_url: &str, answers: Vec<MockResponse>) {
        let key = (method.to_string(), local_path(real_url));
        self.lock().routes.insert(key, Route::Script(answers, 0));
    }

    pub fn route(
        &self,
        method: &str,
        real_url: &str,
        f: impl Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
    ) {
        let key = (method.to_string(), local_path(real_url));
        self.lock().routes.insert(key, Route::Func(Arc::new(f)));
    }

    /// A function answering every path under the real URL's (`https://host/p/` → `/host/p/…`)
    /// that no exact route takes: ids in the path (a job's status, a REST lookup). The longest
    /// matching prefix wins.
    pub fn route_prefix(
        &self,
        method: &str,
        real_url_prefix: &str,
        f: impl Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
    ) {
        let prefix = local_path(real_url_prefix);
        let mut state = self.lock();
        state
            .prefixes
            .retain(|(m, p, _)| !(m == method && *p == prefix));
        state
            .prefixes
            .push((method.to_string(), prefix, Arc::new(f)));
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().log.clone()
    }

    /// Requests to the real URL's path.
    pub fn requests_to(&self, real_url: &str) -> Vec<RecordedRequest> {
        let path = local_path(real_url);
        self.lock()
            .log
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    pub fn clear_log(&self) {
        self.lock().log.clear();
    }
}

/// The mock's path for a real URL.
pub fn local_path(real_url: &str) -> String {
    let without_scheme = real_url
        .split_once("://")
        .map_or(real_url, |(_, rest)| rest);
    let without_query = without_scheme.split('?').next().unwrap_or_default();
    format!("/{without_query}")
}

type MockBody = BoxBody<Bytes, std::io::Error>;

async fn answer(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query,
        body,
        at: Instant::now(),
    };
    let planned = {
        let mut s = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.log.push(recorded.clone());
        let prefix = s.prefix_handler(&method, &path);
        match s.routes.get_mut(&(method, path.clone())) {
            Some(Route::Script(answers, next)) => {
                let i = (*next).min(answers.len().saturating_sub(1));
                *next += 1;
                answers.get(i).cloned()
            }
            Some(Route::Func(f)) => Some(f(&recorded)),
            None => prefix.map(|f| f(&recorded)),
        }
    };
    let planned =
        planned.unwrap_or_else(|| MockResponse::new(404, format!("mock: no route for {path}")));
    if !planned.delay.is_zero() {
        tokio::time::sleep(planned.delay).await;
    }
    let mut response = Response::builder().status(planned.status);
    for (k, v) in &planned.headers {
        response = response.header(k, v);
    }
    let body: MockBody = match planned.cut_after {
        None => full(planned.body),
        // The first bytes, a pause (they reach the client), then an error: hyper drops the
        // connection mid-body.
        Some(n) => {
            use futures::StreamExt;
            let head = planned.body.slice(..n.min(planned.body.len()));
            let data = futures::stream::once(async move { Ok(Frame::data(head)) });
            let cut = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "mock: connection cut",
                ))
            });
            BodyExt::boxed(StreamBody::new(data.chain(cut)))
        }
    };
    Ok(response
        .body(body)
        .unwrap_or_else(|_| Response::new(full(Bytes::from_static(b"mock: bad response")))))
}

fn full(bytes: Bytes) -> MockBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}
