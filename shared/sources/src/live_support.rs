//! What the live evidence fetchers share: fetch errors as source errors, gene resolution with
//! one resolver call per distinct reported gene of a chunk, provider dates, and the query
//! strings of their URLs.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use kgdb_core::SourceName;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution, ResolvedGene};
use kgdb_core::pipeline::SourceError;
use kgdb_fetch::FetchError;

/// A failed call (after the client's retries) as the chunk's error: an answer that does not
/// parse is malformed input, anything else a failed fetch.
pub(crate) fn fetch_error(source: SourceName, e: FetchError) -> SourceError {
    match e {
        FetchError::Malformed { .. } => SourceError::Malformed {
            source_name: Some(source),
            message: e.to_string(),
        },
        other => SourceError::Fetch {
            source_name: Some(source),
            message: other.to_string(),
        },
    }
}

pub(crate) fn malformed(source: SourceName, message: impl Into<String>) -> SourceError {
    SourceError::Malformed {
        source_name: Some(source),
        message: message.into(),
    }
}

/// The run's result is empty: the original marks such a run failed, and so do we (the stored
/// evidence stays).
pub(crate) fn empty(source: SourceName, what: impl std::fmt::Display) -> SourceError {
    SourceError::Fetch {
        source_name: Some(source),
        message: format!("empty result: {what}"),
    }
}

/// Resolves the genes of one chunk: each distinct (symbol, HGNC id) once. Unresolved genes are
/// recorded by the resolver; here they are logged and left out.
pub(crate) struct Resolutions {
    source: SourceName,
    resolver: Arc<dyn GeneResolver>,
    seen: HashMap<(String, Option<String>), Option<ResolvedGene>>,
    pub unresolved: usize,
}

impl Resolutions {
    pub fn new(source: SourceName, resolver: Arc<dyn GeneResolver>) -> Self {
        Self {
            source,
            resolver,
            seen: HashMap::new(),
            unresolved: 0,
        }
    }

    pub async fn resolve(&mut self, symbol: &str, hgnc_id: Option<&str>) -> Option<ResolvedGene> {
        let key = (symbol.to_string(), hgnc_id.map(str::to_string));
        if let Some(known) = self.seen.get(&key) {
            return known.clone();
        }
        let reported = ReportedGene {
            source: self.source,
            symbol,
            ncbi_gene_id: None,
            hgnc_id,
        };
        let resolved = match self.resolver.resolve(reported).await {
            Resolution::Resolved(gene) => Some(gene),
            Resolution::Unresolved { reason } => {
                tracing::warn!(source = %self.source, symbol, ?hgnc_id, reason, "gene not resolved; left out");
                self.unresolved += 1;
                None
            }
        };
        self.seen.insert(key, resolved.clone());
        resolved
    }
}

/// The date of an ISO 8601 date or timestamp (`2023-01-15`, `2023-01-15T16:00:00.000Z`).
pub(crate) fn iso_date(raw: &str) -> Option<NaiveDate> {
    let day = raw.trim().get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// `url?k=v&k=v` with the values form-encoded.
pub(crate) fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{url}?{query}")
}

/// The host of a URL, lower-cased (`None` for something that is not a URL).
pub(crate) fn host_of(raw: &str) -> Option<String> {
    url::Url::parse(raw)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_queries() {
        let d = NaiveDate::from_ymd_opt(2023, 1, 15);
        assert_eq!(iso_date("2023-01-15T16:00:00.000Z"), d);
        assert_eq!(iso_date("2023-01-15"), d);
        assert_eq!(iso_date("2023-13-45T00:00:00.000Z"), None);
        assert_eq!(iso_date("15/01/2023"), None);
        assert_eq!(iso_date(""), None);
        assert_eq!(
            with_query(
                "https://x.org/api/v1/panels/",
                &[("name", "cystic kidney"), ("format", "json")]
            ),
            "https://x.org/api/v1/panels/?name=cystic+kidney&format=json"
        );
        assert_eq!(
            host_of("https://PanelApp-aus.org/api/v1/panels/?page=2").as_deref(),
            Some("panelapp-aus.org")
        );
        assert_eq!(host_of("not a url"), None);
    }
}
