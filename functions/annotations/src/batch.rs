//! `POST /api/annotations/batch[?sources=a&sources=b]`: the annotations of up to 100 genes in
//! one call. Read-only (a POST only because the id list is a body, as the original). The body
//! is a JSON array of gene ids; anything else is refused before any query runs.

use kgdb_web::cache::Namespace;
use kgdb_web::http::{self, HandlerResult, Query};
use kgdb_web::{ApiError, AppState};
use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{Map, Value, json};
use tokio_postgres::types::Type;

/// Most gene ids per call (the original's limit).
pub const MAX_GENE_IDS: usize = 100;

/// The largest id the document allows: 2^53 - 1, exact in every JSON reader (JavaScript's
/// `Number.MAX_SAFE_INTEGER`), so ids written as `22.0` convert exactly too.
pub const MAX_GENE_ID: i64 = 9_007_199_254_740_991;

/// The body's gene ids, sorted and de-duplicated: 400 when the body is not JSON, 422 when it is
/// JSON but not an array of at most 100 positive integer ids up to `MAX_GENE_ID`.
pub fn parse_gene_ids(body: &[u8]) -> Result<Vec<i64>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the body must be a JSON array of gene ids, e.g. [22, 161]",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let items = value.as_array().ok_or_else(|| {
        ApiError::unprocessable("the body must be a JSON array of gene ids, e.g. [22, 161]")
    })?;
    if items.len() > MAX_GENE_IDS {
        return Err(ApiError::unprocessable(format!(
            "at most {MAX_GENE_IDS} gene ids per call, got {}",
            items.len()
        )));
    }
    let mut ids = items
        .iter()
        .map(|item| {
            // JSON Schema counts 22.0 as an integer too (exact up to 2^53 - 1, the documented maximum).
            item.as_i64()
                .or_else(|| {
                    item.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f <= MAX_GENE_ID as f64)
                        .map(|f| f as i64)
                })
                .filter(|id| (1..=MAX_GENE_ID).contains(id))
                .ok_or_else(|| {
                    ApiError::unprocessable(format!(
                        "gene ids are positive integers, got {}",
                        kgdb_web::jsonapi::clip(&item.to_string())
                    ))
                })
        })
        .collect::<Result<Vec<i64>, ApiError>>()?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    }
}

pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    if req.method() != Method::POST {
        return Err(ApiError::method_not_allowed("POST, OPTIONS"));
    }
    let mut sources: Vec<&'static str> = Query::of(req)
        .all("sources")
        .into_iter()
        // An empty value filters nothing, as empty filters elsewhere in the API; anything else
        // must be a source name exactly (the document's enum).
        .filter(|s| !s.is_empty())
        .map(crate::known_source)
        .collect::<Result<_, _>>()?;
    sources.sort_unstable();
    sources.dedup();
    let ids = parse_gene_ids(body_bytes(req))?;
    // Cached like the reads, without validators: a conditional POST has no 304.
    let key = format!("batch|{ids:?}|{}", sources.join(","));
    let cached = state
        .cache
        .get_or_render(Namespace::Annotations, &key, || {
            render(state, &ids, &sources)
        })
        .await?;
    let mut response = http::json_body_response(StatusCode::OK, cached.value.body.to_string());
    response
        .headers_mut()
        .insert("x-cache", HeaderValue::from_static(cached.outcome.as_str()));
    response.headers_mut().insert(
        lambda_http::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn render(state: &AppState, ids: &[i64], sources: &[&str]) -> http::BodyResult {
    let client = state.pool.get().await?;
    let rows = client
        .query_typed(
            "SELECT g.id, g.approved_symbol::text, g.hgnc_id::text, a.source::text, a.version::text,
                    a.annotations, a.updated_at
               FROM genes g
               LEFT JOIN gene_annotations a
                      ON a.gene_id = g.id AND (cardinality($2::text[]) = 0 OR a.source = ANY ($2))
              WHERE g.id = ANY ($1::int8[])
              ORDER BY g.id, a.source",
            &[(&ids, Type::INT8_ARRAY), (&sources, Type::TEXT_ARRAY)],
        )
        .await?;
    let mut genes = Map::new();
    let mut annotations = Map::new();
    for row in &rows {
        let id = row.get::<_, i64>(0).to_string();
        genes.insert(
            id.clone(),
            json!({"symbol": row.get::<_, String>(1), "hgnc_id": row.get::<_, String>(2)}),
        );
        let Some(source) = row.get::<_, Option<String>>(3) else {
            continue;
        };
        let entry = json!({
            "version": row.get::<_, Option<String>>(4),
            "data": row.get::<_, Option<Value>>(5),
            "updated_at": row.get::<_, Option<chrono::DateTime<chrono::Utc>>>(6).map(http::iso_utc),
        });
        if let Value::Object(by_source) = annotations
            .entry(id)
            .or_insert_with(|| Value::Object(Map::new()))
        {
            by_source.insert(source, Value::Array(vec![entry]));
        }
    }
    http::json_body(&json!({
        "total_genes": genes.len(),
        "genes_with_annotations": annotations.len(),
        "genes": genes,
        "annotations": annotations,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert_eq!(parse_gene_ids(b"[3, 1, 3]").unwrap(), vec![1, 3]);
        assert_eq!(parse_gene_ids(b"[]").unwrap(), Vec::<i64>::new());
        assert_eq!(parse_gene_ids(b"[22.0, 1e1]").unwrap(), vec![10, 22]);
        let status = |b: &[u8]| parse_gene_ids(b).unwrap_err().status.as_u16();
        assert_eq!(status(b""), 400);
        assert_eq!(status(b"[1,"), 400);
        assert_eq!(status(b"{\"ids\": [1]}"), 422);
        assert_eq!(status(b"[\"PKD1\"]"), 422);
        assert_eq!(status(b"[0]"), 422);
        assert_eq!(status(b"[1.5]"), 422);
        assert_eq!(status(b"[9007199254740992]"), 422);
        let many = format!(
            "[{}]",
            (1..=101)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(status(many.as_bytes()), 422);
    }
}
