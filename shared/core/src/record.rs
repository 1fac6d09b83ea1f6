//! Evidence pipeline: a source produces normalized per-gene records; one writer upserts them
//! transactionally; a refresh publishes them to the read models.
//!
//! The per-source modules own the `evidence_data` shape of their source (what the scoring
//! views count) and a reader of the bundled snapshot. Live fetchers produce the same records
//! through the same builders, so offline and online data cannot drift apart.

pub mod classifications;
pub mod diagnostic_panels;
pub mod hpo;
pub mod literature;
pub mod panelapp;
pub mod pubtator;
pub mod snapshot;
pub mod writer;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::vocab::SourceName;

/// One gene's evidence from one source.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRecord {
    /// `HGNC:<n>`, the gene key.
    pub hgnc_id: String,
    pub approved_symbol: String,
    /// Symbols the source reported; those differing from the approved one become aliases.
    pub reported_symbols: Vec<String>,
    /// Human summary, e.g. `PanelApp (UK, Australia): 4 panels`.
    pub source_detail: String,
    /// Source-specific JSON; the scoring views read its counted keys.
    pub evidence_data: Value,
    pub evidence_date: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{source_name}: cannot read {path}: {message}")]
    Read {
        source_name: SourceName,
        path: String,
        message: String,
    },
    #[error("{source_name}: malformed input: {message}")]
    Malformed {
        source_name: SourceName,
        message: String,
    },
    #[error("{source_name}: fetch failed: {message}")]
    Fetch {
        source_name: SourceName,
        message: String,
    },
}

/// A producer of evidence records: a live API client or a bundled snapshot.
pub trait EvidenceSource: Send + Sync {
    fn name(&self) -> SourceName;
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<EvidenceRecord>, SourceError>>;
}

/// `2707`, `HGNC:2707` or `hgnc:2707` -> `HGNC:2707`; anything else is not an HGNC id.
pub fn normalize_hgnc_id(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let digits = match trimmed.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("HGNC:") => &trimmed[5..],
        _ => trimmed,
    };
    let valid =
        !digits.is_empty() && digits.len() <= 9 && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| format!("HGNC:{}", digits.trim_start_matches('0').max("0")))
}

/// Sorted, de-duplicated strings.
pub(crate) fn sorted_unique<I: IntoIterator<Item = String>>(items: I) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hgnc_ids() {
        assert_eq!(normalize_hgnc_id("2707").as_deref(), Some("HGNC:2707"));
        assert_eq!(normalize_hgnc_id(" hgnc:57 ").as_deref(), Some("HGNC:57"));
        assert_eq!(normalize_hgnc_id("HGNC:"), None);
        assert_eq!(normalize_hgnc_id("NULL"), None);
        assert_eq!(normalize_hgnc_id("HGNC:12a"), None);
    }
}
