//! The local API gateway: an HTTP/1.1 server on localhost that routes by the template's route
//! table and invokes each function's handler in process with an API Gateway REST proxy event.
//!
//! What API Gateway rejects before a function runs is rejected here too, always as JSON: heads
//! that are malformed, too long or too slow ([`guard`]), too many query parameters, bodies that
//! are too large or too slow.

pub mod compression;
pub mod guard;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::FutureExt;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kgdb_web::{ApiError, AppState};
use lambda_http::Body;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use self::guard::{GuardedStream, Limits, closing_response_bytes};
use crate::apigw::{IncomingRequest, to_lambda_request, to_proxy_event};
use crate::functions::{Handler, handler_for};
use crate::router::{Match, Router};
use crate::template::RouteSpec;

/// More query parameters than any route reads, by far; a request with more is a mistake or an
/// attack, and is refused before its event is built.
const MAX_QUERY_PARAMETERS: usize = 256;

/// A body announced by `Content-Length` must arrive within this time.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Gateway {
    router: Router,
    handlers: HashMap<String, Handler>,
    state: AppState,
    domain_name: String,
    next_request: AtomicU64,
    limits: Limits,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "route {path} names function {function}, which has no handler in infra/local/src/functions.rs"
)]
pub struct UnknownFunction {
    pub function: String,
    pub path: String,
}

impl Gateway {
    /// Fails if a template route names a function the registry does not know.
    pub fn new(
        routes: Vec<RouteSpec>,
        state: AppState,
        domain_name: String,
    ) -> Result<Self, UnknownFunction> {
        let mut handlers = HashMap::new();
        for route in &routes {
            let handler = handler_for(&route.function).ok_or_else(|| UnknownFunction {
                function: route.function.clone(),
                path: route.path.clone(),
            })?;
            handlers.insert(route.function.clone(), handler);
        }
        Ok(Self {
            router: Router::new(routes),
            handlers,
            state,
            domain_name,
            next_request: AtomicU64::new(1),
            limits: Limits::default(),
        })
    }

    pub fn routes(&self) -> impl Iterator<Item = &RouteSpec> {
        self.router.routes()
    }

    /// Tighter or looser limits (tests use short timeouts).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    async fn respond(
        &self,
        req: hyper::Request<Incoming>,
        peer: SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let method = req.method().clone();
        let uri = req.uri().clone();
        let raw_path = uri.path();
        let (route, params) = match self.router.find(method.as_str(), raw_path) {
            Match::Found { route, params } => (route, params),
            Match::MethodNotAllowed { allowed, public } if method == hyper::Method::OPTIONS => {
                return preflight(&allowed, public);
            }
            Match::MethodNotAllowed { allowed, .. } => {
                return to_hyper(ApiError::method_not_allowed(allowed).into_response(), false);
            }
            Match::NotFound => {
                return to_hyper(
                    ApiError::not_found(format!("no route for {raw_path}")).into_response(),
                    false,
                );
            }
        };
        let parameters = uri
            .query()
            .map_or(0, |q| q.split('&').filter(|p| !p.is_empty()).count());
        if parameters > MAX_QUERY_PARAMETERS {
            let e = ApiError::bad_request(format!(
                "too many query parameters ({parameters}; at most {MAX_QUERY_PARAMETERS})"
            ));
            return to_hyper(e.into_response(), false);
        }
        let accepts_gzip = compression::accepts_gzip(req.headers());
        let (mut parts, body) = req.into_parts();
        let asked_for_gzip_tag = compression::strip_gzip_tags(&mut parts.headers);
        // The guard has already refused a Content-Length above the limit; `Limited` is the
        // second line for anything it let through.
        let max_body = usize::try_from(self.limits.max_body_bytes).unwrap_or(usize::MAX);
        let collected =
            tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, max_body).collect()).await;
        let body = match collected {
            Ok(Ok(collected)) => collected.to_bytes().to_vec(),
            Ok(Err(_)) => {
                let e = ApiError::new(
                    lambda_http::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body is too large",
                );
                return to_hyper(e.into_response(), false);
            }
            Err(_) => {
                let e = ApiError::new(
                    lambda_http::http::StatusCode::REQUEST_TIMEOUT,
                    "request_timeout",
                    format!(
                        "the request body did not arrive within {} s",
                        BODY_TIMEOUT.as_secs()
                    ),
                );
                return to_hyper(e.into_response(), true);
            }
        };
        let request_id = format!(
            "local-{}",
            self.next_request.fetch_add(1, Ordering::Relaxed)
        );
        let event = to_proxy_event(
            IncomingRequest {
                method: method.clone(),
                raw_path,
                raw_query: uri.query(),
                headers: parts.headers,
                body,
                source_ip: Some(peer.ip().to_string()),
                resource: &route.spec.path,
                path_params: params,
                domain_name: &self.domain_name,
            },
            request_id,
        );
        let Some(handler) = self.handlers.get(&route.spec.function) else {
            return to_hyper(ApiError::internal().into_response(), false);
        };
        // lambda_http rebuilds the URI from the event and panics on one it cannot build; the
        // guard's URI limit keeps requests far from that, and this keeps a miss a 400.
        let Ok(lambda_req) =
            std::panic::catch_unwind(AssertUnwindSafe(|| to_lambda_request(event)))
        else {
            let e = ApiError::bad_request("the request could not be converted to a Lambda event");
            return to_hyper(e.into_response(), false);
        };
        // A panicking handler would crash a Lambda runtime; here it must not take the gateway down.
        let response = match AssertUnwindSafe(handler(&self.state, lambda_req))
            .catch_unwind()
            .await
        {
            Ok(response) => response,
            Err(_) => {
                tracing::error!(function = %route.spec.function, path = raw_path, "handler panicked");
                ApiError::internal().into_response()
            }
        };
        let (mut parts, body) = response.into_parts();
        let mut bytes = match body {
            Body::Text(text) => text.into_bytes(),
            Body::Binary(bin) => bin,
            _ => Vec::new(),
        };
        if parts.status == hyper::StatusCode::NOT_MODIFIED {
            // The client's copy is the gzip representation: confirm its tag.
            if asked_for_gzip_tag {
                compression::mark_gzip_etag(&mut parts.headers);
            }
        } else {
            compression::maybe_compress(&mut parts.headers, &mut bytes, accepts_gzip);
        }
        if method == hyper::Method::HEAD {
            // Like GET without the body, with the GET's Content-Length.
            parts.headers.insert(
                hyper::header::CONTENT_LENGTH,
                hyper::header::HeaderValue::from(bytes.len()),
            );
            bytes.clear();
        }
        hyper::Response::from_parts(parts, Full::new(Bytes::from(bytes)))
    }
}

/// `close` marks answers after which the connection cannot be reused (an unread body).
fn to_hyper(response: lambda_http::Response<Body>, close: bool) -> hyper::Response<Full<Bytes>> {
    let (mut parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bin) => Bytes::from(bin),
        _ => Bytes::new(),
    };
    if close {
        parts.headers.insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    hyper::Response::from_parts(parts, Full::new(bytes))
}

/// A CORS preflight (or plain OPTIONS): 204 with `Allow`; for public routes also the CORS
/// answer. In the template, API Gateway's own CORS support answers the same.
fn preflight(allowed: &str, public: bool) -> hyper::Response<Full<Bytes>> {
    use hyper::header::{self, HeaderValue};
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    if let Ok(allow) = HeaderValue::from_str(allowed) {
        headers.insert(header::ALLOW, allow.clone());
        if public {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, allow);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(kgdb_web::http::CORS_ALLOWED_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from(kgdb_web::http::CORS_MAX_AGE_SECS),
            );
        }
    }
    kgdb_web::http::add_security_headers(headers);
    response
}

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let stream = GuardedStream::new(stream, gateway.limits);
            let service_gateway = gateway.clone();
            let service = service_fn(move |req| {
                let gateway = service_gateway.clone();
                async move { Ok::<_, Infallible>(gateway.respond(req, peer).await) }
            });
            // `half_close`: when the guard ends the stream after a rejected head, hyper still
            // finishes the answers of the requests before it; `without_shutdown` then hands the
            // socket back so the rejection can be written.
            let connection = http1::Builder::new()
                .keep_alive(true)
                .half_close(true)
                .max_buf_size(gateway.limits.max_head_bytes.max(8192) * 4)
                .serve_connection(TokioIo::new(stream), service)
                .without_shutdown();
            match connection.await {
                Ok(parts) => {
                    let (mut socket, rejection) = parts.io.into_inner().take_rejection();
                    if let Some(error) = rejection {
                        tracing::debug!(
                            status = error.status.as_u16(),
                            kind = error.kind,
                            "request rejected by the gateway"
                        );
                        let bytes = closing_response_bytes(error.into_response());
                        let _ = socket.write_all(&bytes).await;
                    }
                    let _ = socket.shutdown().await;
                }
                Err(e) => tracing::debug!(error = %e, "connection closed with error"),
            }
        });
    }
}
