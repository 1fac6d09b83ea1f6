//! PubTator3: genes co-mentioned with kidney disease and variants in PubMed abstracts.
//!
//! `evidence_data`: `pmids[]`, `publication_count`. The score counts publications.

use futures::future::BoxFuture;
use serde_json::json;

use super::snapshot::{GeneListRow, SnapshotDir, read_gz_csv, split_list};
use super::{EvidenceRecord, EvidenceSource, SourceError, normalize_hgnc_id, sorted_unique};
use crate::vocab::SourceName;

const SOURCE: SourceName = SourceName::PubTator;

/// The query the original runs against PubTator3.
pub const SEARCH_QUERY: &str =
    r#"("kidney disease" OR "renal disease") AND (gene OR syndrome) AND (variant OR mutation)"#;

pub fn build_record(
    hgnc_id: String,
    approved_symbol: String,
    reported_symbols: Vec<String>,
    pmids: Vec<String>,
    date: Option<chrono::NaiveDate>,
) -> EvidenceRecord {
    let pmids = sorted_unique(pmids);
    EvidenceRecord {
        source_detail: format!("PubTator: {} publications", pmids.len()),
        evidence_data: json!({
            "hgnc_id": hgnc_id,
            "pmids": pmids,
            "publication_count": pmids.len(),
            "search_query": SEARCH_QUERY,
            "last_updated": date,
        }),
        hgnc_id,
        approved_symbol,
        reported_symbols,
        evidence_date: date,
    }
}

/// `PMID_1 | PMID_2` -> `["1", "2"]`
pub fn parse_pmids(raw: &str) -> Vec<String> {
    split_list(raw, " | ")
        .into_iter()
        .map(|p| {
            p.trim_start_matches("PMID_")
                .trim_start_matches("PMID:")
                .to_string()
        })
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

pub struct PubTatorSnapshot {
    dir: SnapshotDir,
}

impl PubTatorSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self) -> Result<Vec<EvidenceRecord>, SourceError> {
        let rows: Vec<GeneListRow> =
            read_gz_csv(SOURCE, &self.dir.kidney_genetics("05_PubTator_genes"))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let hgnc_id = normalize_hgnc_id(&row.hgnc_id)?;
                Some(build_record(
                    hgnc_id,
                    row.approved_symbol.clone(),
                    row.reported_symbols(),
                    parse_pmids(&row.source),
                    Some(SnapshotDir::snapshot_date()),
                ))
            })
            .collect())
    }
}

impl EvidenceSource for PubTatorSnapshot {
    fn name(&self) -> SourceName {
        SOURCE
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Vec<EvidenceRecord>, SourceError>> {
        Box::pin(async move { self.read() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmids() {
        assert_eq!(
            parse_pmids("PMID_33107589 | PMID_30624993"),
            vec!["33107589", "30624993"]
        );
        let r = build_record(
            "HGNC:7".into(),
            "A2M".into(),
            vec![],
            vec!["2".into(), "1".into(), "2".into()],
            None,
        );
        assert_eq!(r.evidence_data["publication_count"], 2);
    }
}
