//! JSON:API-style paging of the original (`page[number]`, `page[size]`, `meta`, `links`).

use serde::Serialize;

use crate::error::ApiError;
use crate::http::Query;

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;
/// Beyond this an OFFSET is only a way to make the database work for nothing.
pub const MAX_PAGE_NUMBER: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub size: u32,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl Page {
    pub fn from_query(query: &Query<'_>) -> Result<Self, ApiError> {
        let number = match query.last("page[number]") {
            None => 1,
            Some(raw) => parse_bounded(raw, "page[number]", 1, MAX_PAGE_NUMBER)?,
        };
        let size = match query.last("page[size]") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => parse_bounded(raw, "page[size]", 1, MAX_PAGE_SIZE)?,
        };
        Ok(Self { number, size })
    }

    pub fn offset(&self) -> i64 {
        (i64::from(self.number) - 1) * i64::from(self.size)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.size)
    }

    /// `ceil(total/size)`, 0 when there is nothing.
    pub fn page_count(&self, total: i64) -> i64 {
        if total <= 0 {
            0
        } else {
            (total + i64::from(self.size) - 1) / i64::from(self.size)
        }
    }

    pub fn meta(&self, total: i64) -> PageMeta {
        PageMeta {
            total,
            page: self.number,
            per_page: self.size,
            page_count: self.page_count(total),
        }
    }

    /// Links carry only the page parameters (filters are dropped), as the original does.
    /// `last` is page 1 when there are no pages.
    pub fn links(&self, base_url: &str, total: i64) -> PageLinks {
        let page_count = self.page_count(total);
        let url = |n: i64| format!("{base_url}?page[number]={n}&page[size]={}", self.size);
        let current = i64::from(self.number);
        PageLinks {
            self_: url(current),
            first: url(1),
            last: url(page_count.max(1)),
            prev: (current > 1).then(|| url(current - 1)),
            next: (current < page_count).then(|| url(current + 1)),
        }
    }
}

fn parse_bounded(raw: &str, name: &str, min: u32, max: u32) -> Result<u32, ApiError> {
    let value: i64 = raw.trim().parse().map_err(|_| {
        ApiError::bad_request(format!("{name} must be an integer, got {:?}", clip(raw)))
    })?;
    if value < i64::from(min) || value > i64::from(max) {
        return Err(ApiError::bad_request(format!(
            "{name} must be between {min} and {max}, got {value}"
        )));
    }
    Ok(value as u32)
}

/// Booleans as FastAPI accepted them in query parameters; anything else is a 400.
pub fn parse_bool(raw: &str, name: &str) -> Result<bool, ApiError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "{name} must be true or false, got {:?}",
            clip(raw)
        ))),
    }
}

/// Shortens user input quoted back in error messages.
pub fn clip(raw: &str) -> String {
    const MAX: usize = 40;
    if raw.chars().count() <= MAX {
        raw.to_string()
    } else {
        let head: String = raw.chars().take(MAX).collect();
        format!("{head}...")
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PageMeta {
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub page_count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PageLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub first: String,
    pub last: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_count_and_links() {
        let page = Page {
            number: 2,
            size: 20,
        };
        assert_eq!(page.page_count(0), 0);
        assert_eq!(page.page_count(41), 3);
        let links = page.links("http://h/api/genes/", 41);
        assert_eq!(
            links.self_,
            "http://h/api/genes/?page[number]=2&page[size]=20"
        );
        assert_eq!(
            links.last,
            "http://h/api/genes/?page[number]=3&page[size]=20"
        );
        assert_eq!(
            links.prev.as_deref(),
            Some("http://h/api/genes/?page[number]=1&page[size]=20")
        );
        assert_eq!(
            links.next.as_deref(),
            Some("http://h/api/genes/?page[number]=3&page[size]=20")
        );
        let empty = Page::default().links("/x", 0);
        assert_eq!(empty.last, "/x?page[number]=1&page[size]=20");
        assert!(empty.prev.is_none() && empty.next.is_none());
    }

    #[test]
    fn bounds() {
        assert!(parse_bounded("0", "page[size]", 1, 100).is_err());
        assert!(parse_bounded("101", "page[size]", 1, 100).is_err());
        assert!(parse_bounded("abc", "page[size]", 1, 100).is_err());
        assert!(parse_bounded("99999999999999999999999", "page[size]", 1, 100).is_err());
        assert_eq!(parse_bounded("100", "page[size]", 1, 100).ok(), Some(100));
    }
}

/// Properties of the paging and boolean parsers over arbitrary query text.
#[cfg(test)]
mod prop_tests {
    use std::collections::HashMap;

    use lambda_http::{Body, Request, RequestExt};
    use proptest::prelude::*;

    use super::*;

    /// A request whose query string parameters are `params` (repeats kept in order).
    fn request(params: &[(&str, &str)]) -> Request {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in params {
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        lambda_http::http::Request::builder()
            .uri("/api/genes/")
            .body(Body::Empty)
            .unwrap()
            .with_query_string_parameters(map)
    }

    /// Text a client can send: anything (NUL, unicode), numbers of any size and sign, and the
    /// characters of the bracket syntax.
    fn raw_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ \t+-]{0,2}[0-9]{0,40}[ \t]{0,2}",
            "[0-9]{1,4}(\\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3})?",
            "[\\[\\]a-z_=&,%\\x00 -]{0,24}",
        ]
    }

    fn whitespace() -> impl Strategy<Value = String> {
        "[ \t\n]{0,3}"
    }

    proptest! {
        #[test]
        fn page_parsing_never_panics_and_errors_are_400(
            number in raw_text(),
            size in raw_text(),
        ) {
            let req = request(&[("page[number]", &number), ("page[size]", &size)]);
            match Page::from_query(&Query::of(&req)) {
                Ok(page) => {
                    prop_assert!((1..=MAX_PAGE_NUMBER).contains(&page.number));
                    prop_assert!((1..=MAX_PAGE_SIZE).contains(&page.size));
                    prop_assert!(page.offset() >= 0);
                }
                Err(e) => prop_assert_eq!(e.status.as_u16(), 400),
            }
        }

        #[test]
        fn valid_pages_round_trip(
            number in 1..=MAX_PAGE_NUMBER,
            size in 1..=MAX_PAGE_SIZE,
            pad in whitespace(),
        ) {
            let number_text = format!("{pad}{number}{pad}");
            let size_text = format!("{pad}{size}");
            let req = request(&[("page[number]", &number_text), ("page[size]", &size_text)]);
            let page = Page::from_query(&Query::of(&req)).unwrap();
            prop_assert_eq!(page, Page { number, size });
            prop_assert_eq!(page.offset(), (i64::from(number) - 1) * i64::from(size));
        }

        #[test]
        fn page_sizes_outside_1_to_100_are_400(size in any::<i128>().prop_filter(
            "outside the allowed range",
            |s| !(1..=i128::from(MAX_PAGE_SIZE)).contains(s),
        )) {
            let text = size.to_string();
            let req = request(&[("page[size]", &text)]);
            let err = Page::from_query(&Query::of(&req)).unwrap_err();
            prop_assert_eq!(err.status.as_u16(), 400);
        }

        #[test]
        fn the_last_repeated_value_wins(first in 1..=MAX_PAGE_SIZE, last in 1..=MAX_PAGE_SIZE) {
            let (first, last) = (first.to_string(), last.to_string());
            let req = request(&[("page[size]", &first), ("page[size]", &last)]);
            prop_assert_eq!(Page::from_query(&Query::of(&req)).unwrap().size.to_string(), last);
        }

        #[test]
        fn page_count_covers_the_total(total in 0i64..10_000_000, size in 1..=MAX_PAGE_SIZE) {
            let page = Page { number: 1, size };
            let count = page.page_count(total);
            prop_assert!(count * i64::from(size) >= total);
            prop_assert!(count == 0 || (count - 1) * i64::from(size) < total);
        }

        #[test]
        fn booleans_never_panic_and_errors_are_400(raw in raw_text()) {
            if let Err(e) = parse_bool(&raw, "filter[hide_zero_scores]") {
                prop_assert_eq!(e.status.as_u16(), 400);
            }
        }

        #[test]
        fn boolean_words_in_any_case_are_accepted(
            (word, value) in prop::sample::select(vec![
                ("true", true), ("1", true), ("yes", true), ("on", true),
                ("false", false), ("0", false), ("no", false), ("off", false),
            ]),
            upper in prop::collection::vec(any::<bool>(), 5),
            pad in whitespace(),
        ) {
            let cased: String = word
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            prop_assert_eq!(parse_bool(&format!("{pad}{cased}{pad}"), "b").ok(), Some(value));
        }

        #[test]
        fn clip_keeps_a_short_prefix(raw in any::<String>()) {
            let clipped = clip(&raw);
            prop_assert!(clipped.chars().count() <= 43);
            let head = clipped.strip_suffix("...").unwrap_or(&clipped);
            prop_assert!(raw.starts_with(head));
        }
    }
}
