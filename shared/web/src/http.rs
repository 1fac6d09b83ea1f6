//! Request and response helpers over `lambda_http` types.
//!
//! Handlers read parameters the way API Gateway's REST proxy delivers them: query parameters
//! already URL-decoded (multi-valued), path parameters decoded, the route as the API resource.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::cache::{Cache, Namespace};
use crate::error::ApiError;
use crate::validators;

/// The route a request was matched to, as written in `template.yaml` (`/api/genes/{gene_symbol}`).
/// API Gateway REST passes it as the request context's resource path; requests without one
/// (unit tests) fall back to the URI path.
pub fn route_of(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && let Some(resource) = ctx.resource_path.as_deref().filter(|r| !r.is_empty())
    {
        return resource.to_string();
    }
    req.raw_http_path().to_string()
}

tokio::task_local! {
    /// Set only by tests: collects every parameter name a handler reads, so a test can check
    /// them against the API Gateway cache keys of the route.
    static READ_PARAMETERS: std::cell::RefCell<std::collections::BTreeSet<String>>;
}

fn note_read(kind: &str, key: &str) {
    let _ = READ_PARAMETERS.try_with(|set| set.borrow_mut().insert(format!("{kind}.{key}")));
}

/// Runs `f` and returns, with its output, the parameters it read (`querystring.x`, `path.y`).
pub async fn record_parameter_reads<F: std::future::Future>(
    f: F,
) -> (F::Output, std::collections::BTreeSet<String>) {
    READ_PARAMETERS
        .scope(Default::default(), async move {
            let out = f.await;
            let read = READ_PARAMETERS.with(|set| set.borrow().clone());
            (out, read)
        })
        .await
}

/// Query parameters of one request.
pub struct Query<'a> {
    req: &'a Request,
}

impl<'a> Query<'a> {
    pub fn of(req: &'a Request) -> Self {
        Self { req }
    }

    /// Last value of a parameter (repeated scalars: the last one wins, as in the original).
    pub fn last(&self, key: &str) -> Option<&'a str> {
        note_read("querystring", key);
        self.req
            .query_string_parameters_ref()
            .and_then(|q| q.all(key))
            .and_then(|v| v.last().copied())
    }

    /// Every value of a repeated parameter, in order.
    pub fn all(&self, key: &str) -> Vec<&'a str> {
        note_read("querystring", key);
        self.req
            .query_string_parameters_ref()
            .and_then(|q| q.all(key))
            .unwrap_or_default()
    }
}

/// A decoded path parameter.
pub fn path_param<'a>(req: &'a Request, key: &str) -> Option<&'a str> {
    note_read("path", key);
    req.path_parameters_ref().and_then(|p| p.first(key))
}

/// `scheme://host/path` of the request, used for JSON:API links.
pub fn base_url(req: &Request) -> String {
    let uri = req.uri();
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}{}", uri.path()),
        _ => uri.path().to_string(),
    }
}

/// Timestamps as the API writes them: UTC, microseconds, `Z` (the same text the materialized
/// views render, so list and detail agree).
pub fn iso_utc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// 200 JSON response of a serializable value.
pub fn json<T: Serialize>(value: &T) -> Response<Body> {
    json_status(StatusCode::OK, value)
}

pub fn json_status<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match json_body(value) {
        Ok(body) => json_body_response(status, body),
        Err(e) => e.into_response(),
    }
}

/// The JSON body of a serializable value (what a cached route renders).
pub fn json_body<T: Serialize>(value: &T) -> BodyResult {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "response serialization failed");
        ApiError::internal()
    })
}

/// JSON response from an already serialized body, with the headers every response carries.
pub fn json_body_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_security_headers(headers);
    response
}

/// The security headers the original sends on every answer, plus HSTS (the deployed API is
/// HTTPS-only; browsers ignore it over plain HTTP).
pub fn add_security_headers(headers: &mut lambda_http::http::HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), geolocation=(), microphone=(), payment=(), usb=()"),
    );
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
}

/// CORS of the public API: the data is public and no route reads cookies, so any origin may
/// read answers, without credentials. Browsers may read the caching and request-id headers.
/// Admin routes take these off again (`remove_cors_headers`).
pub fn add_cors_headers(headers: &mut lambda_http::http::HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSED_HEADERS),
    );
}

pub fn remove_cors_headers(headers: &mut lambda_http::http::HeaderMap) {
    headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
}

/// Response headers a browser script may read.
pub const CORS_EXPOSED_HEADERS: &str = "ETag, X-Cache, X-Request-ID, Retry-After";
/// Request headers a preflight admits: conditional GETs and content negotiation.
pub const CORS_ALLOWED_HEADERS: &str = "If-None-Match, Accept, Content-Type";
/// How long a browser may reuse a preflight answer (the original's 600 s).
pub const CORS_MAX_AGE_SECS: u32 = 600;

/// Result type of a route handler: either a response or an API error to render.
pub type HandlerResult = Result<Response<Body>, ApiError>;

/// Result of rendering a cacheable route: the JSON body of its 200 answer, or an API error.
pub type BodyResult = Result<String, ApiError>;

/// Answers a cacheable GET: the body from `cache` (or `render`, see `Cache::get_or_render`),
/// as a 200 or, when `If-None-Match` matches, a 304; both with `ETag`, `Cache-Control` and
/// `X-Cache`. Errors of `render` are returned as they are, without validators.
pub async fn cached<F, Fut>(
    cache: &Cache,
    req: &Request,
    ns: Namespace,
    material: &str,
    render: F,
) -> HandlerResult
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = BodyResult>,
{
    let cached = cache.get_or_render(ns, material, render).await?;
    let (value, x_cache) = (cached.value, cached.outcome.as_str());
    if validators::if_none_match_hits(req.headers(), &value.etag) {
        cache.note_not_modified(ns);
        return Ok(validators::not_modified(&value.etag, ns.max_age(), x_cache));
    }
    let mut response = json_body_response(StatusCode::OK, value.body.to_string());
    validators::set_validators(response.headers_mut(), &value.etag, ns.max_age(), x_cache);
    Ok(response)
}

/// Renders a handler result; errors become the JSON error body. Adds the request id header.
pub fn finish(req: &Request, result: HandlerResult) -> Response<Body> {
    let mut response = result.unwrap_or_else(ApiError::into_response);
    // Security headers come with every body (`json_body_response`) and every 304
    // (`validators::not_modified`); CORS is added here, once.
    add_cors_headers(response.headers_mut());
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && let Some(id) = ctx
            .request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
    {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// Only GET (and HEAD, answered like GET) reach read handlers; anything else is 405. Text that
/// Postgres cannot store (a NUL character) in any query or path parameter is a 400 here, before
/// a handler could pass it to a statement and fail with a 500.
pub fn require_get(req: &Request) -> Result<(), ApiError> {
    use lambda_http::http::Method;
    match *req.method() {
        Method::GET | Method::HEAD => {}
        _ => return Err(ApiError::method_not_allowed("GET, HEAD, OPTIONS")),
    }
    let query = req
        .query_string_parameters_ref()
        .into_iter()
        .flat_map(|q| q.iter());
    let path = req.path_parameters_ref().into_iter().flat_map(|p| p.iter());
    match query
        .chain(path)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        Some((key, _)) => Err(ApiError::bad_request(format!(
            "parameter {:?} contains a NUL character",
            crate::jsonapi::clip(&key.replace('\0', "\\0"))
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheConfig;

    fn get(if_none_match: Option<&str>) -> Request {
        let mut builder = lambda_http::http::Request::builder().uri("/api/genes/PKD1");
        if let Some(tag) = if_none_match {
            builder = builder.header(header::IF_NONE_MATCH, tag);
        }
        builder.body(Body::Empty).unwrap()
    }

    async fn answer(cache: &Cache, req: &Request) -> Response<Body> {
        let render = || async { Ok(r#"{"data":1}"#.to_string()) };
        cached(cache, req, Namespace::GeneList, "k", render)
            .await
            .unwrap()
    }

    /// Without a data version the answer is a bypass, validators and 304 included.
    #[tokio::test]
    async fn cached_answers_carry_validators_and_honour_if_none_match() {
        let cache = Cache::new(CacheConfig::from_vars(|_| None));
        let ok = answer(&cache, &get(None)).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let etag = ok.headers()[header::ETAG].to_str().unwrap().to_string();
        assert_eq!(etag, validators::etag_of(r#"{"data":1}"#));
        assert_eq!(ok.headers()[header::CACHE_CONTROL], "public, max-age=60");
        assert_eq!(ok.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(ok.headers()["x-cache"], "bypass");
        assert!(matches!(ok.body(), Body::Text(t) if t == r#"{"data":1}"#));

        let not_modified = answer(&cache, &get(Some(&format!("W/{etag}")))).await;
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(not_modified.headers()[header::ETAG], etag.as_str());
        assert_eq!(not_modified.headers()["x-cache"], "bypass");
        assert_eq!(
            not_modified.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        let stats = cache.stats().await;
        assert_eq!(stats.namespaces["gene_list"]["not_modified"], 1);

        let changed = answer(&cache, &get(Some("\"old\""))).await;
        assert_eq!(changed.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn render_errors_pass_through_without_validators() {
        let cache = Cache::new(CacheConfig::from_vars(|_| None));
        let result = cached(&cache, &get(None), Namespace::GeneDetail, "k", || async {
            Err(ApiError::not_found("no such gene"))
        })
        .await;
        assert_eq!(result.err().map(|e| e.status), Some(StatusCode::NOT_FOUND));
    }
}
