//! `GET /api/genes/`: the gene browser (filters, sort, JSON:API paging).
//!
//! One request is two statements pipelined on one connection: a page of the narrow
//! `gene_list_keys` read model (filtered and sorted there, by index where the sort has one),
//! with each row's rendered JSON:API resource fetched from `gene_list` by primary key, and the
//! one-row `gene_list_meta`.
//! The total is counted only when the request filters beyond `hide_zero_scores` (otherwise it
//! is precomputed in `gene_list_meta`).

use kgdb_core::vocab::{VALID_GROUPS, VALID_TIERS, is_valid_group, is_valid_tier};
use kgdb_store::db::Params;
use kgdb_web::cache::Namespace;
use kgdb_web::http::{self, BodyResult, HandlerResult, Query};
use kgdb_web::jsonapi::{Page, clip, parse_bool};
use kgdb_web::{ApiError, AppState};
use lambda_http::Request;
use tokio_postgres::types::Type;

/// `filter[search]` longer than this is refused (the longest HGNC symbol is under 30).
pub const MAX_SEARCH_LEN: usize = 100;
/// `filter[ids]` upper bound, as the original's `max_gene_ids`.
pub const MAX_IDS: usize = 5000;
const MAX_SORT_FIELDS: usize = 12;

/// Every query parameter this route reads (API Gateway cache keys must cover them all).
pub const QUERY_PARAMETERS: &[&str] = &[
    "page[number]",
    "page[size]",
    "filter[search]",
    "filter[min_score]",
    "filter[max_score]",
    "filter[min_count]",
    "filter[max_count]",
    "filter[source]",
    "filter[hide_zero_scores]",
    "filter[tier]",
    "filter[group]",
    "filter[ids]",
    "sort",
];

pub const DEFAULT_SORT: &str = "-evidence_score,approved_symbol";

/// Sortable fields and the `gene_list_keys` column each one orders by (the whitelist).
const SORT_FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("symbol", "approved_symbol"),
    ("approved_symbol", "approved_symbol"),
    ("hgnc_id", "hgnc_id"),
    ("score", "percentage_score"),
    ("evidence_score", "percentage_score"),
    ("count", "source_count"),
    ("evidence_count", "source_count"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("evidence_tier", "tier_rank"),
    ("evidence_group", "group_rank"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub column: &'static str,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub page: Page,
    pub search: Option<String>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    pub min_count: Option<i32>,
    pub max_count: Option<i32>,
    pub source: Option<String>,
    pub hide_zero_scores: bool,
    pub tiers: Vec<String>,
    pub group: Option<String>,
    pub ids: Option<Vec<i64>>,
    pub sort: Vec<SortKey>,
}

impl ListQuery {
    pub fn parse(query: &Query<'_>) -> Result<Self, ApiError> {
        let search = match query.last("filter[search]").map(str::trim) {
            Some(s) if s.chars().count() > MAX_SEARCH_LEN => {
                return Err(ApiError::bad_request(format!(
                    "filter[search] must be at most {MAX_SEARCH_LEN} characters"
                )));
            }
            Some("") | None => None,
            // ILIKE ignores case, so the key should too.
            Some(s) => Some(s.to_lowercase()),
        };
        let source = match query.last("filter[source]").map(str::trim) {
            Some(s) if s.chars().count() > MAX_SEARCH_LEN => {
                return Err(ApiError::bad_request("filter[source] is too long"));
            }
            Some("") | None => None,
            Some(s) => Some(s.to_string()),
        };
        let tiers = match query.last("filter[tier]") {
            None => Vec::new(),
            Some(raw) => parse_tiers(raw)?,
        };
        let group = match query.last("filter[group]").map(str::trim) {
            None | Some("") => None,
            Some(g) if is_valid_group(g) => Some(g.to_string()),
            Some(g) => {
                return Err(ApiError::unprocessable(format!(
                    "filter[group] must be one of {}, got {:?}",
                    VALID_GROUPS.join(", "),
                    clip(g)
                )));
            }
        };
        Ok(Self {
            page: Page::from_query(query)?,
            search,
            min_score: parse_score(query, "filter[min_score]")?,
            max_score: parse_score(query, "filter[max_score]")?,
            min_count: parse_count(query, "filter[min_count]")?,
            max_count: parse_count(query, "filter[max_count]")?,
            source,
            hide_zero_scores: match query.last("filter[hide_zero_scores]") {
                None => true,
                Some(raw) => parse_bool(raw, "filter[hide_zero_scores]")?,
            },
            tiers,
            group,
            ids: query.last("filter[ids]").map(parse_ids).transpose()?,
            sort: parse_sort(query.last("sort").unwrap_or(DEFAULT_SORT))?,
        })
    }

    /// True when the total cannot come from the precomputed counts.
    fn needs_count(&self) -> bool {
        self.search.is_some()
            || self.min_score.is_some()
            || self.max_score.is_some()
            || self.min_count.is_some()
            || self.max_count.is_some()
            || self.source.is_some()
            || !self.tiers.is_empty()
            || self.group.is_some()
            || self.ids.is_some()
    }

    /// WHERE clause over `gene_list_keys`, with its parameters pushed onto `params`.
    fn where_clause(&self, params: &mut Params) -> String {
        let mut conds: Vec<String> = Vec::new();
        if self.hide_zero_scores {
            conds.push("percentage_score > 0".into());
        }
        if let Some(search) = &self.search {
            let p = params.push(format!("%{}%", escape_like(search)), Type::TEXT);
            conds.push(format!(
                "(approved_symbol ILIKE {p} OR hgnc_id ILIKE {p} OR evidence_tier ILIKE {p} OR evidence_group ILIKE {p})"
            ));
        }
        if let Some(v) = self.min_score {
            conds.push(format!(
                "percentage_score >= {}",
                params.push(v, Type::FLOAT8)
            ));
        }
        if let Some(v) = self.max_score {
            conds.push(format!(
                "percentage_score <= {}",
                params.push(v, Type::FLOAT8)
            ));
        }
        if let Some(v) = self.min_count {
            conds.push(format!("source_count >= {}", params.push(v, Type::INT4)));
        }
        if let Some(v) = self.max_count {
            conds.push(format!("source_count <= {}", params.push(v, Type::INT4)));
        }
        if let Some(source) = &self.source {
            conds.push(format!(
                "sources @> ARRAY[{}::text]",
                params.push(source.clone(), Type::TEXT)
            ));
        }
        if !self.tiers.is_empty() {
            conds.push(format!(
                "evidence_tier = ANY ({})",
                params.push(self.tiers.clone(), Type::TEXT_ARRAY)
            ));
        }
        if let Some(group) = &self.group {
            conds.push(format!(
                "evidence_group = {}",
                params.push(group.clone(), Type::TEXT)
            ));
        }
        if let Some(ids) = &self.ids {
            conds.push(format!(
                "id = ANY ({})",
                params.push(ids.clone(), Type::INT8_ARRAY)
            ));
        }
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        }
    }

    /// ORDER BY from whitelisted columns only, with `id` last so pages never overlap.
    pub fn order_clause(&self) -> String {
        let mut parts: Vec<String> = self
            .sort
            .iter()
            .map(|k| {
                if k.descending {
                    format!("{} DESC NULLS LAST", k.column)
                } else {
                    format!("{} ASC NULLS FIRST", k.column)
                }
            })
            .collect();
        if !self.sort.iter().any(|k| k.column == "id") {
            parts.push("id".into());
        }
        format!("ORDER BY {}", parts.join(", "))
    }
}

fn parse_score(query: &Query<'_>, name: &str) -> Result<Option<f64>, ApiError> {
    let Some(raw) = query.last(name) else {
        return Ok(None);
    };
    let value: f64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            ApiError::bad_request(format!("{name} must be a number, got {:?}", clip(raw)))
        })?;
    if !(0.0..=100.0).contains(&value) {
        return Err(ApiError::bad_request(format!(
            "{name} must be between 0 and 100"
        )));
    }
    Ok(Some(value))
}

fn parse_count(query: &Query<'_>, name: &str) -> Result<Option<i32>, ApiError> {
    let Some(raw) = query.last(name) else {
        return Ok(None);
    };
    let value: i64 = raw.trim().parse().map_err(|_| {
        ApiError::bad_request(format!("{name} must be an integer, got {:?}", clip(raw)))
    })?;
    if !(0..=1000).contains(&value) {
        return Err(ApiError::bad_request(format!(
            "{name} must be between 0 and 1000"
        )));
    }
    Ok(Some(value as i32))
}

fn parse_tiers(raw: &str) -> Result<Vec<String>, ApiError> {
    let mut tiers = Vec::new();
    for tier in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !is_valid_tier(tier) {
            return Err(ApiError::unprocessable(format!(
                "filter[tier] values must be among {}, got {:?}",
                VALID_TIERS.join(", "),
                clip(tier)
            )));
        }
        tiers.push(tier.to_string());
    }
    // OR semantics: order and repeats do not matter, so they must not split cache entries.
    tiers.sort();
    tiers.dedup();
    Ok(tiers)
}

fn parse_ids(raw: &str) -> Result<Vec<i64>, ApiError> {
    let mut ids = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if ids.len() == MAX_IDS {
            return Err(ApiError::bad_request(format!(
                "filter[ids] accepts at most {MAX_IDS} ids"
            )));
        }
        let id: i64 = item.parse().ok().filter(|v| *v > 0).ok_or_else(|| {
            ApiError::bad_request(format!(
                "filter[ids] must be positive integers, got {:?}",
                clip(item)
            ))
        })?;
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// `-evidence_score,approved_symbol`: `-` is DESC, none or `+` is ASC. Unknown fields are
/// refused (the original ignored them silently; a typo then returned an unsorted page).
pub fn parse_sort(raw: &str) -> Result<Vec<SortKey>, ApiError> {
    let mut keys = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if keys.len() == MAX_SORT_FIELDS {
            return Err(ApiError::bad_request("too many sort fields"));
        }
        let (descending, name) = match item.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, item.trim_start_matches('+')),
        };
        let column = SORT_FIELDS
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, column)| *column)
            .ok_or_else(|| {
                let allowed: Vec<&str> = SORT_FIELDS.iter().map(|(f, _)| *f).collect();
                ApiError::bad_request(format!(
                    "sort field {:?} is not one of {}",
                    clip(name),
                    allowed.join(", ")
                ))
            })?;
        keys.push(SortKey { column, descending });
    }
    if keys.is_empty() {
        return parse_sort(DEFAULT_SORT);
    }
    Ok(keys)
}

/// Escapes LIKE wildcards so a search for `PKD_` means the literal text.
fn escape_like(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let query = ListQuery::parse(&Query::of(req))?;
    // The parsed query is normalized (defaults filled in, lists sorted), so parameter order and
    // omitted defaults map to one cache entry; the base URL is part of the answer (links).
    let material = format!("{}|{query:?}", http::base_url(req));
    http::cached(&state.cache, req, Namespace::GeneList, &material, || {
        render(state, req, &query)
    })
    .await
}

async fn render(state: &AppState, req: &Request, query: &ListQuery) -> BodyResult {
    let mut params = Params::new();
    let where_sql = query.where_clause(&mut params);
    let filter_params = params.len();
    let limit = params.push(query.page.limit(), Type::INT8);
    let offset = params.push(query.page.offset(), Type::INT8);
    // Filter, sort and count on the narrow `gene_list_keys`; the wide row's document is read
    // only for the rows of the page (Postgres evaluates the sub-select after the LIMIT).
    let page_sql = format!(
        "SELECT (SELECT l.doc FROM gene_list l WHERE l.id = k.id) FROM gene_list_keys k{where_sql} {} LIMIT {limit} OFFSET {offset}",
        query.order_clause()
    );
    let count_sql = if query.needs_count() {
        format!("(SELECT count(*) FROM gene_list_keys{where_sql})")
    } else {
        "NULL::bigint".to_string()
    };
    let meta_sql = format!(
        "SELECT total_genes, scored_genes, filters_json, evidence_tiers_json, {count_sql} FROM gene_list_meta"
    );
    let typed = params.as_typed();
    let client = state.pool.get().await?;
    // Two simple statements pipelined on one connection: one round trip, and cheaper for
    // Postgres to plan and run than one statement that aggregates the page itself.
    let (page_rows, row) = futures::try_join!(
        client.query_typed(&page_sql, &typed),
        client.query_typed_one(&meta_sql, &typed[..filter_params]),
    )?;
    let mut page_docs = String::with_capacity(page_rows.len() * 512);
    for (i, doc) in page_rows.iter().enumerate() {
        if i > 0 {
            page_docs.push(',');
        }
        page_docs.push_str(doc.get(0));
    }

    let total_genes: i64 = row.get(0);
    let scored_genes: i64 = row.get(1);
    let filters_json: &str = row.get(2);
    let evidence_tiers_json: &str = row.get(3);
    let counted: Option<i64> = row.get(4);
    let total = counted.unwrap_or(if query.hide_zero_scores {
        scored_genes
    } else {
        total_genes
    });

    let page = query.page.meta(total);
    let links = serde_json::to_string(&query.page.links(&http::base_url(req), total))
        .map_err(|_| ApiError::internal())?;
    let (reported_total_genes, hidden) = if query.hide_zero_scores {
        (total_genes, total_genes - total)
    } else {
        (total, 0)
    };
    // The fragments are JSON rendered by the materialized views; splicing them avoids decoding
    // and re-encoding every gene on every request.
    let body = format!(
        concat!(
            r#"{{"data":[{data}],"meta":{{"total":{total},"page":{page},"per_page":{per_page},"page_count":{page_count},"#,
            r#""filters":{filters},"evidence_tiers":{tiers},"valid_tiers":{valid_tiers},"valid_groups":{valid_groups},"#,
            r#""total_genes":{total_genes},"hidden_zero_scores":{hidden}}},"links":{links}}}"#
        ),
        data = page_docs,
        total = page.total,
        page = page.page,
        per_page = page.per_page,
        page_count = page.page_count,
        filters = filters_json,
        tiers = evidence_tiers_json,
        valid_tiers = VALID_TIERS_JSON,
        valid_groups = VALID_GROUPS_JSON,
        total_genes = reported_total_genes,
        hidden = hidden,
        links = links,
    );
    debug_assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_ok(),
        "invalid list body"
    );
    Ok(body)
}

const VALID_TIERS_JSON: &str = r#"["comprehensive_support","multi_source_support","established_support","preliminary_evidence","minimal_evidence"]"#;
const VALID_GROUPS_JSON: &str = r#"["well_supported","emerging_evidence"]"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_whitelist() {
        let keys = parse_sort("-evidence_score,approved_symbol").unwrap();
        assert_eq!(
            keys[0],
            SortKey {
                column: "percentage_score",
                descending: true
            }
        );
        assert_eq!(
            keys[1],
            SortKey {
                column: "approved_symbol",
                descending: false
            }
        );
        assert_eq!(parse_sort(" symbol").unwrap()[0].column, "approved_symbol");
        assert!(parse_sort(";drop table genes").is_err());
        assert!(parse_sort("evidence_score;--").is_err());
        assert_eq!(parse_sort(",").unwrap(), parse_sort(DEFAULT_SORT).unwrap());
    }

    #[test]
    fn tiers_groups_ids() {
        assert!(parse_tiers("bogus").is_err_and(|e| e.status.as_u16() == 422));
        assert!(parse_tiers("no_evidence").is_err());
        assert_eq!(
            parse_tiers("minimal_evidence, minimal_evidence,")
                .unwrap()
                .len(),
            1
        );
        assert_eq!(parse_ids("1,2, 3").unwrap(), vec![1, 2, 3]);
        assert!(parse_ids("1,-2").is_err());
        assert!(parse_ids("x").is_err());
        let many = vec!["1"; MAX_IDS + 1].join(",");
        assert!(parse_ids(&many).is_err());
    }

    #[test]
    fn vocabulary_fragments_match_the_vocabulary() {
        assert_eq!(
            VALID_TIERS_JSON,
            serde_json::to_string(&VALID_TIERS).unwrap()
        );
        assert_eq!(
            VALID_GROUPS_JSON,
            serde_json::to_string(&VALID_GROUPS).unwrap()
        );
    }

    #[test]
    fn like_escape() {
        assert_eq!(escape_like("PKD_1%\\"), "PKD\\_1\\%\\\\");
    }
}

/// Properties of the gene list's parameter parsing over arbitrary query text.
#[cfg(test)]
mod prop_tests {
    use std::collections::HashMap;

    use kgdb_web::jsonapi::MAX_PAGE_SIZE;
    use lambda_http::{Body, RequestExt};
    use proptest::prelude::*;

    use super::*;

    fn request(params: &[(String, String)]) -> Request {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in params {
            map.entry(k.clone()).or_default().push(v.clone());
        }
        lambda_http::http::Request::builder()
            .uri("/api/genes/")
            .body(Body::Empty)
            .unwrap()
            .with_query_string_parameters(map)
    }

    fn parse(params: &[(String, String)]) -> Result<ListQuery, ApiError> {
        let req = request(params);
        ListQuery::parse(&Query::of(&req))
    }

    fn field_names() -> Vec<&'static str> {
        SORT_FIELDS.iter().map(|(f, _)| *f).collect()
    }

    /// Anything a client can send (NUL, unicode, huge numbers, brackets, commas) plus text close
    /// to what each parameter accepts, so both sides of every check are reached.
    fn raw_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ +-]?[0-9]{0,30}(\\.[0-9]{0,4})?([eE][+-]?[0-9]{1,4})?",
            "(NaN|nan|inf|-inf|infinity|1e400|-0|0x10)",
            "[\\[\\]a-z_,%\\x00 +-]{0,30}",
            prop::sample::select(field_names()).prop_map(|f| format!("-{f},+{f}")),
            prop::sample::select(VALID_TIERS.to_vec()).prop_map(|t| format!("{t}, ,{t}")),
            prop::sample::select(VALID_GROUPS.to_vec()).prop_map(String::from),
            "[0-9]{1,20}(,[ ]?-?[0-9]{0,20}){0,5}",
        ]
    }

    /// A parameter name: one the route reads, or an unknown one with brackets.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(QUERY_PARAMETERS.to_vec()).prop_map(String::from),
            "(filter|page)\\[[a-z_\\[\\]]{0,10}\\]?",
        ]
    }

    proptest! {
        #[test]
        fn never_panics_and_errors_are_400_or_422(
            params in prop::collection::vec((key(), raw_value()), 0..8),
        ) {
            match parse(&params) {
                Ok(query) => {
                    // Whatever was accepted orders by whitelisted columns only.
                    let order = query.order_clause();
                    let allowed: Vec<&str> = SORT_FIELDS.iter().map(|(_, c)| *c).collect();
                    for part in order.trim_start_matches("ORDER BY ").split(", ") {
                        let column = part.split(' ').next().unwrap_or_default();
                        prop_assert!(column == "id" || allowed.contains(&column), "{order}");
                    }
                    prop_assert!((1..=MAX_PAGE_SIZE).contains(&query.page.size));
                }
                Err(e) => {
                    let status = e.status.as_u16();
                    prop_assert!(status == 400 || status == 422, "{e}");
                }
            }
        }

        #[test]
        fn page_sizes_outside_1_to_100_are_rejected(size in any::<i64>().prop_filter(
            "outside the allowed range",
            |s| !(1..=i64::from(MAX_PAGE_SIZE)).contains(s),
        )) {
            let err = parse(&[("page[size]".into(), size.to_string())]).unwrap_err();
            prop_assert_eq!(err.status.as_u16(), 400);
        }

        #[test]
        fn valid_sorts_round_trip(
            keys in prop::collection::vec(
                (prop::sample::select(SORT_FIELDS.to_vec()), prop::sample::select(vec!["", "+", "-"])),
                1..=MAX_SORT_FIELDS,
            ),
        ) {
            let raw: Vec<String> = keys.iter().map(|((f, _), sign)| format!("{sign}{f}")).collect();
            let parsed = parse_sort(&raw.join(" , ")).unwrap();
            let expected: Vec<SortKey> = keys
                .iter()
                .map(|((_, column), sign)| SortKey { column, descending: *sign == "-" })
                .collect();
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn more_than_twelve_sort_fields_are_400(
            fields in prop::collection::vec(prop::sample::select(field_names()), MAX_SORT_FIELDS + 1..30),
        ) {
            let err = parse_sort(&fields.join(",")).unwrap_err();
            prop_assert_eq!(err.status.as_u16(), 400);
        }

        #[test]
        fn valid_filters_are_accepted_as_sent(
            min_score in 0.0f64..=100.0,
            max_count in 0i32..=1000,
            tiers in prop::sample::subsequence(VALID_TIERS.to_vec(), 0..=VALID_TIERS.len()),
            ids in prop::collection::vec(1i64..=i64::MAX, 0..20),
            search in "[A-Za-z0-9:_%-]{1,100}",
            hide in any::<bool>(),
        ) {
            let query = parse(&[
                ("filter[min_score]".into(), min_score.to_string()),
                ("filter[max_count]".into(), format!(" {max_count} ")),
                ("filter[tier]".into(), tiers.join(",")),
                ("filter[ids]".into(), ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
                ("filter[search]".into(), search.clone()),
                ("filter[hide_zero_scores]".into(), hide.to_string()),
            ]).unwrap();
            prop_assert_eq!(query.min_score, Some(min_score));
            prop_assert_eq!(query.max_count, Some(max_count));
            let mut sorted_tiers: Vec<String> = tiers.iter().map(|t| t.to_string()).collect();
            sorted_tiers.sort();
            prop_assert_eq!(query.tiers, sorted_tiers);
            let mut unique_ids = ids.clone();
            unique_ids.sort_unstable();
            unique_ids.dedup();
            prop_assert_eq!(query.ids, Some(unique_ids));
            prop_assert_eq!(query.search, Some(search.to_lowercase()));
            prop_assert_eq!(query.hide_zero_scores, hide);
        }

        #[test]
        fn scores_outside_0_to_100_are_400(score in any::<f64>().prop_filter(
            "outside the allowed range",
            |s| !(0.0..=100.0).contains(s),
        )) {
            let err = parse(&[("filter[max_score]".into(), score.to_string())]).unwrap_err();
            prop_assert_eq!(err.status.as_u16(), 400);
        }

        #[test]
        fn non_positive_ids_are_400(good in 1i64..1000, bad in i64::MIN..=0) {
            let err = parse_ids(&format!("{good},{bad}")).unwrap_err();
            prop_assert_eq!(err.status.as_u16(), 400);
        }

        #[test]
        fn unknown_tiers_are_422(tier in "[a-z_]{1,30}") {
            prop_assume!(!is_valid_tier(&tier));
            let err = parse_tiers(&format!("minimal_evidence,{tier}")).unwrap_err();
            prop_assert_eq!(err.status.as_u16(), 422);
        }

        #[test]
        fn searches_longer_than_100_characters_are_400(search in "\\PC{101,140}") {
            prop_assume!(search.trim().chars().count() > MAX_SEARCH_LEN);
            let err = parse(&[("filter[search]".into(), search)]).unwrap_err();
            prop_assert_eq!(err.status.as_u16(), 400);
        }

        #[test]
        fn like_escaping_leaves_no_bare_wildcard(raw in any::<String>()) {
            let escaped = escape_like(&raw);
            let mut chars = escaped.chars();
            while let Some(c) = chars.next() {
                prop_assert!(c != '%' && c != '_', "bare wildcard in {escaped:?}");
                if c == '\\' {
                    prop_assert!(chars.next().is_some(), "dangling escape in {escaped:?}");
                }
            }
        }
    }
}
