//! HTTP request -> the API Gateway REST proxy event a Lambda function receives.
//!
//! Mirrors what API Gateway does before invoking a proxy integration: the resource path of the
//! matched route, URL-decoded query parameters (single-valued: the last value; multi-valued:
//! all, in order), URL-decoded path parameters, headers, a request context with a request id,
//! and the body (base64 when not UTF-8). The event is then turned into a `lambda_http::Request`
//! by lambda_http's own conversion, the code path a deployed function runs.

use std::collections::HashMap;

use lambda_http::Request;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyRequestContext,
};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::{HeaderMap, HeaderValue, Method, header};
use lambda_http::request::LambdaRequest;
use percent_encoding::percent_decode_str;

/// Stage name reported in the request context. Kept out of the request path locally (as a
/// custom domain does), so links point at the local gateway's own paths.
pub const LOCAL_STAGE: &str = "local";

/// Everything API Gateway knows about one incoming request.
pub struct IncomingRequest<'a> {
    pub method: Method,
    /// Path as sent, still percent-encoded.
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub source_ip: Option<String>,
    /// Resource path of the matched route, e.g. `/api/genes/{gene_symbol}`.
    pub resource: &'a str,
    /// Raw (percent-encoded) path parameters of the matched route.
    pub path_params: HashMap<String, String>,
    /// `host:port` clients used to reach us (what API Gateway calls the domain name).
    pub domain_name: &'a str,
}

/// URL-decodes one query component: `+` is a space, invalid UTF-8 becomes U+FFFD.
pub fn decode_component(raw: &str, plus_as_space: bool) -> String {
    if plus_as_space && raw.contains('+') {
        let spaced = raw.replace('+', " ");
        percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
    } else {
        percent_decode_str(raw).decode_utf8_lossy().into_owned()
    }
}

/// Parses a raw query string into multi-valued, decoded parameters (order kept per key).
pub fn parse_query(raw: &str) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(decode_component(k, true))
            .or_default()
            .push(decode_component(v, true));
    }
    map
}

pub fn to_proxy_event(incoming: IncomingRequest<'_>, request_id: String) -> ApiGatewayProxyRequest {
    let multi = incoming.raw_query.map(parse_query).unwrap_or_default();
    let single: HashMap<String, String> = multi
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.last()?.clone())))
        .collect();
    let path_params: HashMap<String, String> = incoming
        .path_params
        .into_iter()
        .map(|(k, v)| (k, decode_component(&v, false)))
        .collect();

    let mut headers = incoming.headers;
    // API Gateway passes its own domain as Host; a client-controlled Host never reaches the
    // function (lambda_http builds the request URI from it).
    if let Ok(host) = HeaderValue::from_str(incoming.domain_name) {
        headers.insert(header::HOST, host);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));

    let (body, is_base64_encoded) = if incoming.body.is_empty() {
        (None, false)
    } else {
        match String::from_utf8(incoming.body) {
            Ok(text) => (Some(text), false),
            Err(e) => (Some(base64_encode(e.as_bytes())), true),
        }
    };

    let mut context = ApiGatewayProxyRequestContext::default();
    context.resource_path = Some(incoming.resource.to_string());
    context.path = Some(incoming.raw_path.to_string());
    context.http_method = incoming.method.clone();
    context.request_id = Some(request_id);
    context.stage = None;
    context.domain_name = Some(incoming.domain_name.to_string());
    context.protocol = Some("HTTP/1.1".to_string());
    context.request_time_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    context.identity.source_ip = incoming.source_ip;

    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(incoming.resource.to_string());
    event.path = Some(incoming.raw_path.to_string());
    event.http_method = incoming.method;
    event.multi_value_headers = headers.clone();
    event.headers = headers;
    event.query_string_parameters = QueryMap::from(single);
    event.multi_value_query_string_parameters = QueryMap::from(multi);
    event.path_parameters = path_params;
    event.request_context = context;
    event.body = body;
    event.is_base64_encoded = is_base64_encoded;
    event
}

/// The `lambda_http::Request` a function would receive for this event.
pub fn to_lambda_request(event: ApiGatewayProxyRequest) -> Request {
    LambdaRequest::ApiGatewayV1(event).into()
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;

    #[test]
    fn query_decoding_matches_api_gateway() {
        let q = parse_query(
            "filter%5Btier%5D=a,b&sort=-evidence_score&sources=A&sources=B&x&y=%FF&s=a+b",
        );
        assert_eq!(q["filter[tier]"], vec!["a,b"]);
        assert_eq!(q["sources"], vec!["A", "B"]);
        assert_eq!(q["x"], vec![""]);
        assert_eq!(q["y"], vec!["\u{FFFD}"]);
        assert_eq!(q["s"], vec!["a b"]);
    }

    #[test]
    fn builds_a_lambda_request() {
        let incoming = IncomingRequest {
            method: Method::GET,
            raw_path: "/api/genes/PKD%31",
            raw_query: Some("page%5Bsize%5D=5&page[size]=7"),
            headers: HeaderMap::new(),
            body: vec![],
            source_ip: Some("127.0.0.1".into()),
            resource: "/api/genes/{gene_symbol}",
            path_params: HashMap::from([("gene_symbol".to_string(), "PKD%31".to_string())]),
            domain_name: "127.0.0.1:3000",
        };
        let req = to_lambda_request(to_proxy_event(incoming, "req-1".into()));
        assert_eq!(
            req.path_parameters_ref()
                .and_then(|p| p.first("gene_symbol")),
            Some("PKD1")
        );
        let sizes = req
            .query_string_parameters_ref()
            .and_then(|q| q.all("page[size]"))
            .unwrap();
        assert_eq!(sizes, vec!["5", "7"]);
        assert_eq!(req.uri().host(), Some("127.0.0.1"));
        assert_eq!(kgdb_web::http::route_of(&req), "/api/genes/{gene_symbol}");
    }

    #[test]
    fn base64() {
        assert_eq!(base64_encode(b"\xff\xfe\xfd\x00"), "//79AA==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }
}

/// Properties of the raw query string parser (the first parser every request meets).
#[cfg(test)]
mod prop_tests {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn arbitrary_query_strings_never_panic(raw in prop_oneof![
            any::<String>(),
            "[a-z\\[\\]=&%+0-9A-F\\x00 ]{0,60}",
        ]) {
            let map = parse_query(&raw);
            // Every non-empty `&` piece lands in one key.
            let pieces = raw.split('&').filter(|p| !p.is_empty()).count();
            prop_assert_eq!(map.values().map(Vec::len).sum::<usize>(), pieces);
        }

        #[test]
        fn encoded_pairs_round_trip(
            pairs in prop::collection::vec((any::<String>(), any::<String>()), 1..6),
        ) {
            let raw: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC),
                ))
                .collect();
            let map = parse_query(&raw.join("&"));
            for (k, v) in &pairs {
                prop_assert!(map.get(k).is_some_and(|vs| vs.contains(v)), "{k:?}={v:?}");
            }
            // Repeats keep their order: the last value sent is the last one stored.
            let last = pairs.iter().rev().find(|(k, _)| *k == pairs[0].0).map(|(_, v)| v);
            prop_assert_eq!(map[&pairs[0].0].last(), last);
        }
    }
}
