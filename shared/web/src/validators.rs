//! HTTP validators of cacheable answers: `ETag`, `If-None-Match` -> 304, `Cache-Control` and
//! `X-Cache` (where the answer came from: `hit-l1`, `hit-l2`, `miss` or `bypass`).

use lambda_http::http::{HeaderMap, HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};

/// Strong validator: the first 128 bits of the body's SHA-256, quoted.
pub fn etag_of(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether the request's `If-None-Match` matches `etag`: any header line, comma-separated
/// lists, `*`, and weak tags (`W/"…"`; for a GET a weak comparison is the right one).
pub fn if_none_match_hits(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `public, max-age=N`.
pub fn cache_control(max_age: u64) -> String {
    format!("public, max-age={max_age}")
}

/// Sets `ETag`, `Cache-Control` and `X-Cache` (a value that is not a valid header is left out).
pub fn set_validators(headers: &mut HeaderMap, etag: &str, max_age: u64, x_cache: &'static str) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache_control(max_age)) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    headers.insert("x-cache", HeaderValue::from_static(x_cache));
}

/// An empty 304 carrying the validators (RFC 9110 §15.4.5: the ones a 200 would send).
pub fn not_modified(etag: &str, max_age: u64, x_cache: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    set_validators(response.headers_mut(), etag, max_age, x_cache);
    crate::http::add_security_headers(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            if let Ok(v) = HeaderValue::from_str(v) {
                map.append(header::IF_NONE_MATCH, v);
            }
        }
        map
    }

    const TAG: &str = "\"0123456789abcdef0123456789abcdef\"";

    #[test]
    fn etag_is_a_quoted_128_bit_hash() {
        let tag = etag_of("{}");
        assert_eq!(tag.len(), 34);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_eq!(tag, etag_of("{}"));
        assert_ne!(tag, etag_of("{ }"));
    }

    #[test]
    fn if_none_match_variants() {
        assert!(!if_none_match_hits(&headers(&[]), TAG));
        assert!(if_none_match_hits(&headers(&[TAG]), TAG));
        assert!(if_none_match_hits(&headers(&[&format!("W/{TAG}")]), TAG));
        assert!(if_none_match_hits(&headers(&["*"]), TAG));
        assert!(if_none_match_hits(
            &headers(&[&format!("\"other\", W/{TAG} ,\"x\"")]),
            TAG
        ));
        assert!(if_none_match_hits(&headers(&["\"other\"", TAG]), TAG));
        assert!(!if_none_match_hits(&headers(&["\"other\", W/\"x\""]), TAG));
        // Unquoted is not the same tag.
        assert!(!if_none_match_hits(&headers(&[TAG.trim_matches('"')]), TAG));
    }

    #[test]
    fn a_304_carries_the_validators() {
        let response = not_modified(TAG, 60, "hit-l1");
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        let h = response.headers();
        assert_eq!(h[header::ETAG], TAG);
        assert_eq!(h[header::CACHE_CONTROL], "public, max-age=60");
        assert_eq!(h["x-cache"], "hit-l1");
        assert!(matches!(response.body(), Body::Empty));
    }
}

/// Properties of the `If-None-Match` parser over arbitrary header text.
#[cfg(test)]
mod prop_tests {
    use proptest::prelude::*;

    use super::*;

    fn tag() -> impl Strategy<Value = String> {
        "[0-9a-f]{32}".prop_map(|hex| format!("\"{hex}\""))
    }

    /// One entry of an `If-None-Match` list as a client may write it.
    fn entry(tag: String) -> impl Strategy<Value = String> {
        (any::<bool>(), "[ \t]{0,2}", "[ \t]{0,2}")
            .prop_map(move |(weak, l, r)| format!("{l}{}{tag}{r}", if weak { "W/" } else { "" }))
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic(values in prop::collection::vec(any::<String>(), 0..4)) {
            let mut headers = HeaderMap::new();
            for v in &values {
                if let Ok(v) = HeaderValue::from_str(v) {
                    headers.append(header::IF_NONE_MATCH, v);
                }
            }
            let etag = etag_of("{}");
            // Only the tag itself or `*` can match.
            if if_none_match_hits(&headers, &etag) {
                prop_assert!(values.iter().any(|v| v.contains('*') || v.contains(&etag)));
            }
        }

        #[test]
        fn a_list_containing_the_tag_hits(
            body in any::<String>(),
            others in prop::collection::vec(tag(), 0..4),
            position in any::<prop::sample::Index>(),
            weak in any::<bool>(),
        ) {
            let etag = etag_of(&body);
            let mut items: Vec<String> =
                others.iter().filter(|t| **t != etag).cloned().collect();
            let mine = if weak { format!(" W/{etag} ") } else { etag.clone() };
            items.insert(position.index(items.len() + 1), mine);
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&items.join(",")).unwrap());
            prop_assert!(if_none_match_hits(&headers, &etag));
        }

        #[test]
        fn a_list_of_other_tags_misses(
            body in any::<String>(),
            others in prop::collection::vec(tag().prop_flat_map(entry), 1..5),
        ) {
            let etag = etag_of(&body);
            prop_assume!(others.iter().all(|o| !o.contains(&etag)));
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&others.join(",")).unwrap());
            prop_assert!(!if_none_match_hits(&headers, &etag));
        }

        #[test]
        fn etags_are_quoted_hex_and_valid_headers(body in any::<String>()) {
            let etag = etag_of(&body);
            prop_assert_eq!(etag.len(), 34);
            prop_assert!(etag.starts_with('"') && etag.ends_with('"'));
            prop_assert!(etag[1..33].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            prop_assert!(HeaderValue::from_str(&etag).is_ok());
        }
    }
}
