//! The local API gateway: an HTTP/1.1 server on localhost that routes by the template's route
//! table and invokes each function's handler in process with an API Gateway REST proxy event.

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
use tokio::net::TcpListener;

use crate::apigw::{IncomingRequest, to_lambda_request, to_proxy_event};
use crate::functions::{Handler, handler_for};
use crate::router::{Match, Router};
use crate::template::RouteSpec;

/// API Gateway's payload limit is 10 MB; nothing kgdb serves locally takes a body that large.
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub struct Gateway {
    router: Router,
    handlers: HashMap<String, Handler>,
    state: AppState,
    domain_name: String,
    next_request: AtomicU64,
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
        })
    }

    pub fn routes(&self) -> impl Iterator<Item = &RouteSpec> {
        self.router.routes()
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
            Match::MethodNotAllowed { allow } => {
                let mut response = ApiError::new(
                    lambda_http::http::StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "method not allowed on this route",
                )
                .into_response();
                if let Ok(allow) = lambda_http::http::HeaderValue::from_str(&allow) {
                    response
                        .headers_mut()
                        .insert(lambda_http::http::header::ALLOW, allow);
                }
                return to_hyper(response, false);
            }
            Match::NotFound => {
                return to_hyper(
                    ApiError::not_found(format!("no route for {raw_path}")).into_response(),
                    false,
                );
            }
        };
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(_) => {
                let e = ApiError::new(
                    lambda_http::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body is too large",
                );
                return to_hyper(e.into_response(), false);
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
        let lambda_req = to_lambda_request(event);
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
        to_hyper(response, method == hyper::Method::HEAD)
    }
}

fn to_hyper(response: lambda_http::Response<Body>, head: bool) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        _ if head => Bytes::new(),
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bin) => Bytes::from(bin),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
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
            let service = service_fn(move |req| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(gateway.respond(req, peer).await) }
            });
            if let Err(e) = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection closed with error");
            }
        });
    }
}
