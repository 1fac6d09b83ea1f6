//! One gene's evidence from one source, as the store receives it, and the gene-key helpers.

use chrono::NaiveDate;
use serde_json::Value;

/// One gene's evidence from one source, with `evidence_data` already rendered to JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRecord {
    /// `HGNC:<n>`, the gene key.
    pub hgnc_id: String,
    pub approved_symbol: String,
    /// Symbols the source reported; those differing from the approved one become aliases.
    pub reported_symbols: Vec<String>,
    /// Human summary, e.g. `PanelApp (UK, Australia): 4 panels`.
    pub source_detail: String,
    /// The source's typed model rendered to JSON; the scoring views read its counted keys.
    pub evidence_data: Value,
    pub evidence_date: Option<NaiveDate>,
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
pub fn sorted_unique<I: IntoIterator<Item = String>>(items: I) -> Vec<String> {
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
