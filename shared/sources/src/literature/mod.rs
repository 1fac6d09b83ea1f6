//! Literature (hybrid source): genes reported in curated kidney-genetics publications,
//! ingested from the curated publication files (the original's upload format).
//!
//! `evidence_data`: `publications[]` (PMIDs), `publication_details{pmid:{title, authors,
//! journal, publication_date, url, doi}}`, `publication_count`. The score counts publications.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::snapshot::{SnapshotDir, iso_date, json_files, read_json};
use super::{EvidenceRecord, EvidenceSource, SourceError, normalize_hgnc_id, sorted_unique};
use crate::vocab::SourceName;

const SOURCE: SourceName = SourceName::Literature;

/// A publication file (`literature/literature_pmid_<n>.json`).
#[derive(Debug, Deserialize)]
pub struct PublicationFile {
    pub pmid: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub journal: Option<String>,
    #[serde(default)]
    pub publication_date: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub doi: Option<String>,
    #[serde(default)]
    pub extraction_timestamp: Option<String>,
    pub genes: Vec<PublicationGene>,
}

#[derive(Debug, Deserialize)]
pub struct PublicationGene {
    pub symbol: String,
    #[serde(default)]
    pub hgnc_id: Option<String>,
    #[serde(default)]
    pub reported_as: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct PublicationDetail<'a> {
    title: &'a Option<String>,
    authors: &'a [String],
    journal: &'a Option<String>,
    publication_date: &'a Option<String>,
    url: &'a Option<String>,
    doi: &'a Option<String>,
}

pub fn merge_publications(files: &[PublicationFile]) -> (Vec<EvidenceRecord>, usize) {
    struct Acc {
        symbol: String,
        reported: Vec<String>,
        details: BTreeMap<String, serde_json::Value>,
        date: Option<chrono::NaiveDate>,
    }
    let mut by_gene: BTreeMap<String, Acc> = BTreeMap::new();
    let mut skipped = 0;
    for file in files {
        let detail = json!(PublicationDetail {
            title: &file.title,
            authors: &file.authors,
            journal: &file.journal,
            publication_date: &file.publication_date,
            url: &file.url,
            doi: &file.doi,
        });
        let date = iso_date(file.extraction_timestamp.as_deref());
        for gene in &file.genes {
            let Some(hgnc_id) = gene.hgnc_id.as_deref().and_then(normalize_hgnc_id) else {
                skipped += 1;
                continue;
            };
            let acc = by_gene.entry(hgnc_id).or_insert_with(|| Acc {
                symbol: gene.symbol.clone(),
                reported: Vec::new(),
                details: BTreeMap::new(),
                date: None,
            });
            acc.symbol = gene.symbol.clone();
            acc.reported.extend(gene.reported_as.clone());
            acc.details.insert(file.pmid.clone(), detail.clone());
            acc.date = acc.date.max(date);
        }
    }
    let records = by_gene
        .into_iter()
        .map(|(hgnc_id, acc)| {
            let pmids: Vec<&String> = acc.details.keys().collect();
            EvidenceRecord {
                source_detail: format!("Literature: {} publications", pmids.len()),
                evidence_data: json!({
                    "hgnc_id": hgnc_id,
                    "publications": pmids,
                    "publication_details": acc.details,
                    "publication_count": pmids.len(),
                }),
                hgnc_id,
                approved_symbol: acc.symbol,
                reported_symbols: sorted_unique(acc.reported),
                evidence_date: acc.date,
            }
        })
        .collect();
    (records, skipped)
}

pub struct LiteratureSnapshot {
    dir: SnapshotDir,
}

impl LiteratureSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self) -> Result<Vec<EvidenceRecord>, SourceError> {
        let files = json_files(SOURCE, &self.dir.curated("literature"))?
            .iter()
            .map(|path| read_json::<PublicationFile>(SOURCE, path))
            .collect::<Result<Vec<_>, _>>()?;
        let (records, skipped) = merge_publications(&files);
        if skipped > 0 {
            tracing::warn!(skipped, "Literature genes without HGNC id skipped");
        }
        Ok(records)
    }
}

impl EvidenceSource for LiteratureSnapshot {
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
    fn reads_twelve_publications() {
        let records = LiteratureSnapshot::new(SnapshotDir::in_repo())
            .read()
            .unwrap();
        let max = records
            .iter()
            .map(|r| r.evidence_data["publication_count"].as_u64().unwrap())
            .max()
            .unwrap();
        assert!((5..=12).contains(&max));
        let ace = records.iter().find(|r| r.approved_symbol == "ACE").unwrap();
        let pmids = ace.evidence_data["publications"].as_array().unwrap();
        assert!(pmids.iter().any(|p| p == "26862157"));
    }
}
