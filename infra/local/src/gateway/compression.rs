//! gzip of answers for clients that accept it, as API Gateway does when the REST API has a
//! `MinimumCompressionSize` (the template sets the same threshold).
//!
//! A compressed answer is a different representation, so its strong `ETag` gets a `-gzip`
//! suffix inside the quotes; the suffix is taken off an incoming `If-None-Match` before the
//! function sees it (the function only knows the identity body's tag) and put back on a 304.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use lambda_http::http::{HeaderMap, HeaderValue, header};

/// Bodies smaller than this are sent as they are: gzip's header and the CPU would cost more
/// than the bytes saved. Same value as `MinimumCompressionSize` in `template.yaml`.
pub const MIN_COMPRESS_BYTES: usize = 1024;

/// Level 1: most of the size reduction of the default level on JSON at a fraction of the
/// CPU (measured in the README's compression table).
const LEVEL: u32 = 1;

const SUFFIX: &str = "-gzip\"";

/// Whether `Accept-Encoding` admits gzip (`gzip`, `x-gzip` or `*`, with a q-value above 0).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q_ok = parts.all(|p| {
                let p = p.trim();
                match p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    Some(q) => q.trim().parse::<f32>().is_ok_and(|q| q > 0.0),
                    None => true,
                }
            });
            q_ok && matches!(coding.as_str(), "gzip" | "x-gzip" | "*")
        })
}

/// Removes the `-gzip` suffix from the tags of `If-None-Match`; true when any tag had it.
pub fn strip_gzip_tags(headers: &mut HeaderMap) -> bool {
    let values: Vec<String> = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    if !values.iter().any(|v| v.contains(SUFFIX)) {
        return false;
    }
    headers.remove(header::IF_NONE_MATCH);
    for value in values {
        if let Ok(v) = HeaderValue::from_str(&value.replace(SUFFIX, "\"")) {
            headers.append(header::IF_NONE_MATCH, v);
        }
    }
    true
}

/// `"abc"` -> `"abc-gzip"` (weak tags keep their `W/`).
pub fn mark_gzip_etag(headers: &mut HeaderMap) {
    let Some(tag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok()) else {
        return;
    };
    if tag.ends_with(SUFFIX) {
        return;
    }
    if let Some(stem) = tag.strip_suffix('"')
        && let Ok(v) = HeaderValue::from_str(&format!("{stem}{SUFFIX}"))
    {
        headers.insert(header::ETAG, v);
    }
}

/// Text types worth compressing.
fn compressible(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/"))
}

/// Compresses `body` in place when the client accepts gzip and it is worth it; sets
/// `Content-Encoding`, the `-gzip` tag and `Vary: Accept-Encoding` (the latter on every
/// compressible answer, so a shared cache never hands a gzip body to a client that did not
/// ask for one).
pub fn maybe_compress(headers: &mut HeaderMap, body: &mut Vec<u8>, client_accepts_gzip: bool) {
    if !compressible(headers) {
        return;
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if !client_accepts_gzip || body.len() < MIN_COMPRESS_BYTES {
        return;
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::new(LEVEL));
    let compressed = encoder.write_all(body).and_then(|()| encoder.finish());
    let Ok(compressed) = compressed else {
        return; // An in-memory write cannot fail; if it did, the identity body is still right.
    };
    *body = compressed;
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    mark_gzip_etag(headers);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn with(name: header::HeaderName, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn accept_encoding_is_parsed() {
        let acc = |v: &[&str]| accepts_gzip(&with(header::ACCEPT_ENCODING, v));
        assert!(acc(&["gzip"]));
        assert!(acc(&["br, gzip;q=0.5"]));
        assert!(acc(&["deflate", "GZIP"]));
        assert!(acc(&["*"]));
        assert!(!acc(&["gzip;q=0"]));
        assert!(!acc(&["br, deflate"]));
        assert!(!acc(&["gzip;q=abc"]));
        assert!(!acc(&[]));
    }

    #[test]
    fn compresses_large_json_and_marks_the_tag() {
        let mut headers = with(header::CONTENT_TYPE, &["application/json"]);
        headers.insert(header::ETAG, HeaderValue::from_static("\"abc\""));
        let original = format!("[{}]", vec!["{\"a\":1}"; 500].join(","));
        let mut body = original.clone().into_bytes();
        maybe_compress(&mut headers, &mut body, true);
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        assert_eq!(headers[header::ETAG], "\"abc-gzip\"");
        assert_eq!(headers[header::VARY], "Accept-Encoding");
        assert!(body.len() < original.len() / 5);
        let mut back = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn small_bodies_and_unwilling_clients_get_the_identity_body() {
        for (body, accepts) in [(vec![b'x'; 100], true), (vec![b'x'; 5000], false)] {
            let mut headers = with(header::CONTENT_TYPE, &["application/json"]);
            let mut b = body.clone();
            maybe_compress(&mut headers, &mut b, accepts);
            assert_eq!(b, body);
            assert!(headers.get(header::CONTENT_ENCODING).is_none());
            assert_eq!(headers[header::VARY], "Accept-Encoding");
        }
    }

    #[test]
    fn gzip_tags_are_stripped_from_if_none_match() {
        let mut h = with(
            header::IF_NONE_MATCH,
            &["\"abc-gzip\", W/\"def-gzip\"", "\"ghi\""],
        );
        assert!(strip_gzip_tags(&mut h));
        let tags: Vec<_> = h.get_all(header::IF_NONE_MATCH).iter().collect();
        assert_eq!(tags, ["\"abc\", W/\"def\"", "\"ghi\""]);
        let mut plain = with(header::IF_NONE_MATCH, &["\"abc\""]);
        assert!(!strip_gzip_tags(&mut plain));
    }
}
