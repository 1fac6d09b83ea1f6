//! DiagnosticPanels (hybrid source): genes on commercial kidney gene panels of diagnostic labs,
//! ingested from the curated lab files (the format the original accepts as uploads).
//!
//! `evidence_data`: `panels[]` (`"<provider>: <panel>"`, so equal panel names of different
//! labs stay distinct), `providers[]`, `panel_count`, `provider_count`. The score counts panels.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;

use super::snapshot::{SnapshotDir, iso_date, json_files, read_json};
use super::{EvidenceRecord, EvidenceSource, SourceError, normalize_hgnc_id, sorted_unique};
use crate::vocab::SourceName;

const SOURCE: SourceName = SourceName::DiagnosticPanels;

/// A lab file (`diagnostic_panels/<lab>.json`).
#[derive(Debug, Deserialize)]
pub struct LabFile {
    pub provider_id: String,
    pub provider_name: String,
    #[serde(default)]
    pub scraped_at: Option<String>,
    pub genes: Vec<LabGene>,
}

#[derive(Debug, Deserialize)]
pub struct LabGene {
    pub symbol: String,
    #[serde(default)]
    pub hgnc_id: Option<String>,
    #[serde(default)]
    pub panels: Vec<String>,
    #[serde(default)]
    pub reported_as: Option<String>,
}

#[derive(Default)]
struct GeneAcc {
    symbol: String,
    reported: Vec<String>,
    providers: Vec<String>,
    panels: Vec<String>,
    date: Option<chrono::NaiveDate>,
}

/// Merges lab files into one record per gene. Genes without an HGNC id are skipped (the
/// original stages them for curator review); the count is returned for reporting.
pub fn merge_labs(labs: &[LabFile]) -> (Vec<EvidenceRecord>, usize) {
    let mut by_gene: BTreeMap<String, GeneAcc> = BTreeMap::new();
    let mut skipped = 0;
    for lab in labs {
        let date = iso_date(lab.scraped_at.as_deref());
        for gene in &lab.genes {
            let Some(hgnc_id) = gene.hgnc_id.as_deref().and_then(normalize_hgnc_id) else {
                skipped += 1;
                continue;
            };
            let acc = by_gene.entry(hgnc_id).or_default();
            acc.symbol = gene.symbol.clone();
            acc.reported.extend(gene.reported_as.clone());
            acc.providers.push(lab.provider_name.clone());
            acc.panels.extend(
                gene.panels
                    .iter()
                    .map(|p| format!("{}: {}", lab.provider_name, p.trim())),
            );
            acc.date = acc.date.max(date);
        }
    }
    let records = by_gene
        .into_iter()
        .map(|(hgnc_id, acc)| {
            let providers = sorted_unique(acc.providers);
            let panels = sorted_unique(acc.panels);
            EvidenceRecord {
                source_detail: format!(
                    "DiagnosticPanels: {} panels from {} providers",
                    panels.len(),
                    providers.len()
                ),
                evidence_data: json!({
                    "hgnc_id": hgnc_id,
                    "panels": panels,
                    "providers": providers,
                    "panel_count": panels.len(),
                    "provider_count": providers.len(),
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

pub struct DiagnosticPanelsSnapshot {
    dir: SnapshotDir,
}

impl DiagnosticPanelsSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self) -> Result<Vec<EvidenceRecord>, SourceError> {
        let labs = json_files(SOURCE, &self.dir.curated("diagnostic_panels"))?
            .iter()
            .map(|path| read_json::<LabFile>(SOURCE, path))
            .collect::<Result<Vec<_>, _>>()?;
        let (records, skipped) = merge_labs(&labs);
        if skipped > 0 {
            tracing::warn!(skipped, "DiagnosticPanels genes without HGNC id skipped");
        }
        Ok(records)
    }
}

impl EvidenceSource for DiagnosticPanelsSnapshot {
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
    fn reads_all_nine_labs() {
        let records = DiagnosticPanelsSnapshot::new(SnapshotDir::in_repo())
            .read()
            .unwrap();
        assert!(records.len() > 500);
        let pkd1 = records
            .iter()
            .find(|r| r.approved_symbol == "PKD1")
            .unwrap();
        let providers = pkd1.evidence_data["providers"].as_array().unwrap();
        assert!(providers.len() >= 5, "PKD1 is on most lab panels");
        assert_eq!(
            pkd1.evidence_data["panel_count"],
            pkd1.evidence_data["panels"].as_array().unwrap().len()
        );
    }
}
