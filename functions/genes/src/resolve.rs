//! `GET /api/genes/resolve?query=`: identifier -> gene, trying in order HGNC id, Ensembl gene
//! id, NCBI gene id, UniProt accession (these three from `gene_identifiers`, which the
//! annotation writer fills from the HGNC/Ensembl data), approved symbol, then aliases /
//! previous symbols / name. Several candidates -> ambiguous. Every lookup is an index lookup.

use kgdb_core::annotation::IdentifierKind;
use kgdb_web::cache::Namespace;
use kgdb_web::http::{self, BodyResult, HandlerResult, Query};
use kgdb_web::jsonapi::clip;
use kgdb_web::{ApiError, AppState};
use lambda_http::Request;
use serde_json::json;
use tokio_postgres::types::Type;

pub const QUERY_PARAMETERS: &[&str] = &["query"];
const MAX_QUERY_LEN: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Hgnc,
    Ensembl,
    Ncbi,
    Uniprot,
}

/// Which identifier branch a query belongs to, if any (otherwise symbol/alias lookup).
pub fn classify(query: &str) -> Option<IdKind> {
    let upper = query.to_ascii_uppercase();
    if let Some(digits) = upper.strip_prefix("HGNC:") {
        return (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(IdKind::Hgnc);
    }
    if upper.starts_with("ENSG")
        && upper.len() > 4
        && upper[4..].bytes().all(|b| b.is_ascii_digit())
    {
        return Some(IdKind::Ensembl);
    }
    if !query.is_empty() && query.bytes().all(|b| b.is_ascii_digit()) {
        return Some(IdKind::Ncbi);
    }
    is_uniprot_accession(query).then_some(IdKind::Uniprot)
}

/// UniProt accession format: `[OPQ][0-9][A-Z0-9]{3}[0-9]` or `[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2}`.
pub fn is_uniprot_accession(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |c: u8| c.is_ascii_digit();
    let upper_alnum = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    if b.len() == 6 && matches!(b[0], b'O' | b'P' | b'Q') {
        return digit(b[1]) && b[2..5].iter().all(|&c| upper_alnum(c)) && digit(b[5]);
    }
    if (b.len() == 6 || b.len() == 10)
        && b[0].is_ascii_uppercase()
        && !matches!(b[0], b'O' | b'P' | b'Q')
        && digit(b[1])
    {
        return b[2..].chunks(4).all(|chunk| {
            chunk.len() == 4
                && chunk[0].is_ascii_uppercase()
                && upper_alnum(chunk[1])
                && upper_alnum(chunk[2])
                && digit(chunk[3])
        });
    }
    false
}

struct Candidate {
    id: i64,
    hgnc_id: String,
    approved_symbol: String,
    matched_on: String,
    /// The alias-branch arm that found it (`match_type` of a single match).
    branch: &'static str,
}

pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let raw = Query::of(req).last("query").map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return Err(ApiError::bad_request("query is required"));
    }
    if raw.chars().count() > MAX_QUERY_LEN {
        return Err(ApiError::bad_request(format!(
            "query must be at most {MAX_QUERY_LEN} characters"
        )));
    }
    // The answer echoes the query as given, so the key is the exact (trimmed) query.
    http::cached(&state.cache, req, Namespace::GeneResolve, raw, || {
        resolve(state, raw)
    })
    .await
}

async fn resolve(state: &AppState, raw: &str) -> BodyResult {
    let client = state.pool.get().await?;
    let kind = classify(raw);
    let (mut candidates, mut matched_type) = match kind {
        Some(IdKind::Hgnc) => {
            let hgnc_id = kgdb_core::normalize_hgnc_id(raw).unwrap_or_default();
            let rows = client
                .query_typed(
                    "SELECT id, hgnc_id, approved_symbol FROM genes WHERE hgnc_id = $1",
                    &[(&hgnc_id, Type::TEXT)],
                )
                .await?;
            let found = rows
                .iter()
                .map(|r| Candidate {
                    id: r.get(0),
                    hgnc_id: r.get(1),
                    approved_symbol: r.get(2),
                    matched_on: hgnc_id.clone(),
                    branch: "hgnc_id",
                })
                .collect();
            (found, "hgnc_id")
        }
        Some(IdKind::Ensembl) => (
            by_identifier(&client, IdentifierKind::EnsemblGeneId, raw).await?,
            "ensembl",
        ),
        Some(IdKind::Ncbi) => (
            by_identifier(&client, IdentifierKind::NcbiGeneId, raw).await?,
            "ncbi",
        ),
        Some(IdKind::Uniprot) => (
            by_identifier(&client, IdentifierKind::UniprotAccession, raw).await?,
            "uniprot",
        ),
        None => (Vec::new(), ""),
    };
    // An identifier-shaped query that matched nothing may still be a symbol (e.g. a UniProt-like symbol).
    if candidates.is_empty() && kind != Some(IdKind::Hgnc) {
        let rows = client
            .query_typed(
                "SELECT id, hgnc_id, approved_symbol FROM genes WHERE upper(approved_symbol) = upper($1) ORDER BY id",
                &[(&raw, Type::TEXT)],
            )
            .await?;
        matched_type = "symbol";
        candidates = rows
            .iter()
            .map(|r| Candidate {
                id: r.get(0),
                hgnc_id: r.get(1),
                approved_symbol: r.get(2),
                matched_on: r.get(2),
                branch: "symbol",
            })
            .collect();
        if candidates.is_empty() {
            candidates = alias_candidates(&client, raw).await?;
            matched_type = candidates.first().map_or("alias", |c| c.branch);
        }
    }
    match candidates.len() {
        0 => Err(ApiError::not_found(format!(
            "no gene matches {:?}",
            clip(raw)
        ))),
        1 => {
            let c = &candidates[0];
            http::json_body(&json!({
                "data": {
                    "type": "gene",
                    "id": c.id.to_string(),
                    "attributes": {
                        "hgnc_id": c.hgnc_id,
                        "approved_symbol": c.approved_symbol,
                        "matched_on": c.matched_on,
                        "match_type": matched_type,
                    }
                },
                "meta": {"ambiguous": false, "query": raw}
            }))
        }
        _ => http::json_body(&json!({
            "data": null,
            "meta": {
                "ambiguous": true,
                "query": raw,
                "candidates": candidates.iter().map(|c| json!({
                    "id": c.id.to_string(),
                    "hgnc_id": c.hgnc_id,
                    "approved_symbol": c.approved_symbol,
                })).collect::<Vec<_>>(),
            }
        })),
    }
}

/// Genes with identifier `value` of `kind` (`gene_identifiers`, one index lookup); case is
/// ignored, and `matched_on` is the identifier as stored.
async fn by_identifier(
    client: &tokio_postgres::Client,
    kind: IdentifierKind,
    value: &str,
) -> Result<Vec<Candidate>, ApiError> {
    let kind_name = kind.as_str();
    let rows = client
        .query_typed(
            "SELECT g.id, g.hgnc_id, g.approved_symbol, i.value
               FROM gene_identifiers i JOIN genes g ON g.id = i.gene_id
              WHERE i.kind = $1 AND upper(i.value) = upper($2)
              ORDER BY g.id",
            &[(&kind_name, Type::TEXT), (&value, Type::TEXT)],
        )
        .await?;
    Ok(unique_by_gene(rows.iter().map(|r| Candidate {
        id: r.get(0),
        hgnc_id: r.get(1),
        approved_symbol: r.get(2),
        matched_on: r.get(3),
        branch: "",
    })))
}

/// Alias branch: aliases the evidence sources reported, then HGNC alias symbols, previous
/// symbols and approved names; de-duplicated in first-seen order, each remembering its branch
/// (`alias`, `previous_symbol`, `name`). Each arm is an index lookup.
async fn alias_candidates(
    client: &tokio_postgres::Client,
    raw: &str,
) -> Result<Vec<Candidate>, ApiError> {
    let rows = client
        .query_typed(
            "SELECT id, hgnc_id, approved_symbol, branch FROM (
                 SELECT g.id, g.hgnc_id, g.approved_symbol, 1 AS branch FROM genes g
                  WHERE kgdb_upper_array(g.aliases) @> ARRAY[upper($1)]
                 UNION ALL
                 SELECT g.id, g.hgnc_id, g.approved_symbol, 2 FROM gene_identifiers i JOIN genes g ON g.id = i.gene_id
                  WHERE i.kind = 'alias_symbol' AND upper(i.value) = upper($1)
                 UNION ALL
                 SELECT g.id, g.hgnc_id, g.approved_symbol, 3 FROM gene_identifiers i JOIN genes g ON g.id = i.gene_id
                  WHERE i.kind = 'prev_symbol' AND upper(i.value) = upper($1)
                 UNION ALL
                 SELECT g.id, g.hgnc_id, g.approved_symbol, 4 FROM gene_annotations a JOIN genes g ON g.id = a.gene_id
                  WHERE a.source = 'hgnc' AND upper(a.annotations ->> 'name') = upper($1)
             ) c ORDER BY branch, id",
            &[(&raw, Type::TEXT)],
        )
        .await?;
    Ok(unique_by_gene(rows.iter().map(|r| Candidate {
        id: r.get(0),
        hgnc_id: r.get(1),
        approved_symbol: r.get(2),
        matched_on: raw.to_string(),
        branch: match r.get::<_, i32>(3) {
            3 => "previous_symbol",
            4 => "name",
            _ => "alias",
        },
    })))
}

/// The first candidate of each gene, in the rows' order (the queries order by preference).
fn unique_by_gene(candidates: impl Iterator<Item = Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        if !out.iter().any(|c| c.id == candidate.id) {
            out.push(candidate);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_identifiers() {
        assert_eq!(classify("HGNC:9008"), Some(IdKind::Hgnc));
        assert_eq!(classify("hgnc:9008"), Some(IdKind::Hgnc));
        assert_eq!(classify("HGNC:x"), None);
        assert_eq!(classify("ENSG00000008710"), Some(IdKind::Ensembl));
        assert_eq!(classify("5310"), Some(IdKind::Ncbi));
        assert_eq!(classify("P98161"), Some(IdKind::Uniprot));
        assert_eq!(classify("A0A024R161"), Some(IdKind::Uniprot));
        assert_eq!(classify("PKD1"), None);
        assert!(!is_uniprot_accession("PKD1L1"));
    }
}
