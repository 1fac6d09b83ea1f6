//! One gene's annotations (`{gene, annotations: {source: [entry]}}`) and its summary
//! (identifiers and gnomAD constraint). Both are index lookups: the gene by id, HGNC id or
//! symbol, then its rows by the `(gene_id, source)` key of `gene_annotations`.

use kgdb_web::http::{self, BodyResult, path_param};
use kgdb_web::jsonapi::clip;
use kgdb_web::{ApiError, AppState};
use lambda_http::Request;
use serde_json::{Map, Value, json};
use tokio_postgres::types::{ToSql, Type};

/// How the `{gene_id}` path parameter names a gene: the database id as the original
/// (`22`), and also an HGNC id (`HGNC:9008`) or an approved symbol (`PKD1`, any case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneKey {
    Id(i64),
    HgncId(String),
    Symbol(String),
}

/// Longest accepted symbol; HGNC symbols are far shorter.
const MAX_SYMBOL_LEN: usize = 64;

impl GeneKey {
    pub fn parse(raw: &str) -> Result<GeneKey, ApiError> {
        let raw = raw.trim();
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            // Well-formed, so never a 400: an id no gene can have (0, or past i64) names none.
            return raw
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(GeneKey::Id)
                .ok_or_else(|| ApiError::not_found(format!("Gene {:?} not found", clip(raw))));
        }
        // `get`, not slicing: the 5th byte of arbitrary text need not end a character.
        if raw.len() > 5
            && raw
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("HGNC:"))
        {
            return kgdb_core::normalize_hgnc_id(raw)
                .map(GeneKey::HgncId)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("gene_id {:?} is not an HGNC id", clip(raw)))
                });
        }
        let symbol_like = !raw.is_empty()
            && raw.len() <= MAX_SYMBOL_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'@'));
        if symbol_like {
            Ok(GeneKey::Symbol(raw.to_ascii_uppercase()))
        } else {
            Err(ApiError::bad_request(
                "gene_id must be a gene id, an HGNC id or a gene symbol (1-64 characters of letters, digits and -._@)",
            ))
        }
    }

    pub fn from_request(req: &Request) -> Result<GeneKey, ApiError> {
        Self::parse(path_param(req, "gene_id").unwrap_or(""))
    }

    /// The cache key part: the normalized form, so `pkd1` and `PKD1` share an entry.
    pub fn cache_key(&self) -> String {
        match self {
            GeneKey::Id(id) => format!("id:{id}"),
            GeneKey::HgncId(h) => format!("hgnc:{h}"),
            GeneKey::Symbol(s) => format!("symbol:{s}"),
        }
    }

    /// The condition on `genes g` and its one parameter.
    pub fn condition(&self) -> (&'static str, Box<dyn ToSql + Sync + Send>, Type) {
        match self {
            GeneKey::Id(id) => ("g.id = $1", Box::new(*id), Type::INT8),
            GeneKey::HgncId(h) => ("g.hgnc_id = $1", Box::new(h.clone()), Type::TEXT),
            GeneKey::Symbol(s) => (
                "upper(g.approved_symbol) = $1",
                Box::new(s.clone()),
                Type::TEXT,
            ),
        }
    }

    fn not_found(&self) -> ApiError {
        let shown = match self {
            GeneKey::Id(id) => id.to_string(),
            GeneKey::HgncId(h) | GeneKey::Symbol(h) => h.clone(),
        };
        ApiError::not_found(format!("Gene '{shown}' not found"))
    }
}

/// `GET /api/annotations/genes/{gene_id}/annotations[?source=]`. Postgres renders the whole
/// answer: the stored JSON passes through as text instead of being parsed into values and
/// written again here (the bench's uncached rows: most of this route's cost was that).
pub async fn annotations(state: &AppState, gene: &GeneKey, source: Option<&str>) -> BodyResult {
    let client = state.pool.get().await?;
    let (condition, param, param_type) = gene.condition();
    let sql = format!(
        "WITH gene AS (SELECT g.id, g.approved_symbol, g.hgnc_id FROM genes g WHERE {condition} ORDER BY g.id LIMIT 1)
         SELECT json_build_object(
                  'gene', json_build_object('id', gene.id, 'symbol', gene.approved_symbol,
                                            'hgnc_id', gene.hgnc_id),
                  'annotations', COALESCE(
                      (SELECT json_object_agg(a.source, json_build_array(json_build_object(
                                  'version', a.version,
                                  'data', a.annotations,
                                  'metadata', a.source_metadata,
                                  'updated_at', to_char(a.updated_at AT TIME ZONE 'UTC',
                                                        'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')))
                                  ORDER BY a.source)
                         FROM gene_annotations a
                        WHERE a.gene_id = gene.id AND ($2::text IS NULL OR a.source = $2)),
                      '{{}}'::json))::text
           FROM gene"
    );
    let row = client
        .query_typed_opt(&sql, &[(param.as_ref(), param_type), (&source, Type::TEXT)])
        .await?
        .ok_or_else(|| gene.not_found())?;
    Ok(row.get::<_, String>(0))
}

/// gnomAD constraint keys of the summary, each read from the stored key of the same name
/// (`pli` included: the original's summary read `pLI` and was always null).
const CONSTRAINT_KEYS: [&str; 9] = [
    "pli",
    "oe_lof",
    "oe_lof_upper",
    "oe_lof_lower",
    "lof_z",
    "mis_z",
    "syn_z",
    "oe_mis",
    "oe_syn",
];

/// `GET /api/annotations/genes/{gene_id}/annotations/summary`.
pub async fn summary(state: &AppState, gene: &GeneKey) -> BodyResult {
    let client = state.pool.get().await?;
    let (condition, param, param_type) = gene.condition();
    let sql = format!(
        "SELECT g.id, g.approved_symbol::text, g.hgnc_id::text, h.annotations, n.annotations
           FROM genes g
           LEFT JOIN gene_annotations h ON h.gene_id = g.id AND h.source = 'hgnc'
           LEFT JOIN gene_annotations n ON n.gene_id = g.id AND n.source = 'gnomad'
          WHERE {condition}
          ORDER BY g.id LIMIT 1"
    );
    let row = client
        .query_typed_opt(&sql, &[(param.as_ref(), param_type)])
        .await?
        .ok_or_else(|| gene.not_found())?;
    let hgnc: Value = row.get::<_, Option<Value>>(3).unwrap_or(Value::Null);
    let gnomad: Value = row.get::<_, Option<Value>>(4).unwrap_or(Value::Null);
    let text = |key: &str| hgnc.get(key).filter(|v| v.is_string()).cloned();
    let mane = hgnc
        .get("mane_select")
        .and_then(|m| m.get("ensembl_transcript_id"))
        .filter(|v| v.is_string())
        .cloned();
    let constraint: Map<String, Value> = CONSTRAINT_KEYS
        .iter()
        .map(|key| {
            let value = gnomad.get(*key).filter(|v| v.is_number()).cloned();
            (key.to_string(), value.unwrap_or(Value::Null))
        })
        .collect();
    http::json_body(&json!({
        "gene_id": row.get::<_, i64>(0),
        "symbol": row.get::<_, String>(1),
        "hgnc_id": row.get::<_, String>(2),
        "identifiers": {
            "ncbi_gene_id": text("ncbi_gene_id"),
            "ensembl_gene_id": text("ensembl_gene_id"),
            "mane_select_transcript": mane,
        },
        "constraint_scores": constraint,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gene_keys() {
        assert_eq!(GeneKey::parse("22").unwrap(), GeneKey::Id(22));
        assert_eq!(
            GeneKey::parse("hgnc:9008").unwrap(),
            GeneKey::HgncId("HGNC:9008".into())
        );
        assert_eq!(
            GeneKey::parse("pkd1").unwrap(),
            GeneKey::Symbol("PKD1".into())
        );
        for unknown in ["0", "000", "99999999999999999999"] {
            assert_eq!(
                GeneKey::parse(unknown).unwrap_err().status.as_u16(),
                404,
                "{unknown:?}"
            );
        }
        for bad in ["", "HGNC:x", "a b", "PKD1;--", &"A".repeat(65)] {
            assert_eq!(
                GeneKey::parse(bad).unwrap_err().status.as_u16(),
                400,
                "{bad:?}"
            );
        }
        assert_eq!(GeneKey::parse("PKD1").unwrap().cache_key(), "symbol:PKD1");
        // Found by the fuzzer: a multi-byte character across byte 5 panicked (a 500).
        assert_eq!(
            GeneKey::parse("\u{98d4f}\u{9e917}[")
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
        assert_eq!(
            GeneKey::parse("HGNC\u{e9}9").unwrap_err().status.as_u16(),
            400
        );
    }
}

#[cfg(test)]
mod prop_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_is_a_key_or_a_400(raw in any::<String>(), prefix in "(HGNC:|hgnc|HG|)") {
            for candidate in [raw.clone(), format!("{prefix}{raw}")] {
                if let Err(e) = GeneKey::parse(&candidate) {
                    prop_assert!(matches!(e.status.as_u16(), 400 | 404));
                }
            }
        }
    }
}
