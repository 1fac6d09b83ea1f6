//! PanelApp (Genomics England UK + Australia): Green genes of kidney panels.
//!
//! `evidence_data`: `hgnc_id, panels:[{id,name,version,region}], regions[], evidence_levels[],
//! panel_count, last_updated`. The score counts `panels`.

use std::collections::{BTreeMap, HashMap};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::snapshot::{GeneListRow, SnapshotDir, read_gz_csv};
use super::{EvidenceRecord, EvidenceSource, SourceError, normalize_hgnc_id, sorted_unique};
use crate::vocab::SourceName;

const SOURCE: SourceName = SourceName::PanelApp;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PanelRef {
    pub id: i64,
    pub name: String,
    pub version: String,
    /// `UK` or `Australia`.
    pub region: String,
}

/// Builds the record of one gene from the (Green) panels listing it.
pub fn build_record(
    hgnc_id: String,
    approved_symbol: String,
    reported_symbols: Vec<String>,
    mut panels: Vec<PanelRef>,
    last_updated: Option<chrono::NaiveDate>,
) -> EvidenceRecord {
    panels.sort();
    panels.dedup_by(|a, b| a.id == b.id && a.region == b.region);
    let regions = sorted_unique(panels.iter().map(|p| p.region.clone()));
    let source_detail = format!(
        "PanelApp ({}): {} panel{}",
        regions.join(", "),
        panels.len(),
        if panels.len() == 1 { "" } else { "s" }
    );
    let evidence_data = json!({
        "hgnc_id": hgnc_id,
        "panels": panels,
        "regions": regions,
        "evidence_levels": ["green"],
        "panel_count": panels.len(),
        "last_updated": last_updated,
    });
    EvidenceRecord {
        hgnc_id,
        approved_symbol,
        reported_symbols,
        source_detail,
        evidence_data,
        evidence_date: last_updated,
    }
}

/// One item of the snapshot's `source` column: `Name (id=N, version=V, confidence=Green)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelItem {
    pub name: String,
    pub id: i64,
    pub version: String,
    pub confidence: String,
}

pub fn parse_panel_item(item: &str) -> Option<PanelItem> {
    let item = item.trim();
    let open = item.rfind(" (id=")?;
    let inner = item.get(open + 2..)?.strip_suffix(')')?;
    let fields: HashMap<&str, &str> = inner
        .split(", ")
        .filter_map(|kv| kv.split_once('='))
        .collect();
    Some(PanelItem {
        name: item[..open].to_string(),
        id: fields.get("id")?.parse().ok()?,
        version: (*fields.get("version")?).to_string(),
        confidence: (*fields.get("confidence")?).to_string(),
    })
}

#[derive(Debug, Deserialize)]
struct PanelRow {
    id: i64,
    name: String,
    panel_source: String,
}

pub struct PanelAppSnapshot {
    dir: SnapshotDir,
}

impl PanelAppSnapshot {
    pub fn new(dir: SnapshotDir) -> Self {
        Self { dir }
    }

    fn read(&self) -> Result<Vec<EvidenceRecord>, SourceError> {
        let panels: Vec<PanelRow> =
            read_gz_csv(SOURCE, &self.dir.kidney_genetics("01_PanelApp_panels"))?;
        // Panel ids are per instance (UK and AU overlap), so the region is found by id and name.
        let region_of: HashMap<(i64, &str), &str> = panels
            .iter()
            .map(|p| {
                let region = if p.panel_source.contains("australia") {
                    "Australia"
                } else {
                    "UK"
                };
                ((p.id, p.name.as_str()), region)
            })
            .collect();
        let rows: Vec<GeneListRow> =
            read_gz_csv(SOURCE, &self.dir.kidney_genetics("01_PanelApp_genes"))?;
        let mut by_gene: BTreeMap<String, EvidenceRecord> = BTreeMap::new();
        for row in rows {
            let Some(hgnc_id) = normalize_hgnc_id(&row.hgnc_id) else {
                continue;
            };
            let mut green = Vec::new();
            for raw in row.source.split(" | ") {
                let item = parse_panel_item(raw).ok_or_else(|| SourceError::Malformed {
                    source_name: SOURCE,
                    message: format!("unparsable panel item {raw:?}"),
                })?;
                if !item.confidence.eq_ignore_ascii_case("green") {
                    continue;
                }
                let region = *region_of
                    .get(&(item.id, item.name.as_str()))
                    .ok_or_else(|| SourceError::Malformed {
                        source_name: SOURCE,
                        message: format!(
                            "panel {} ({}) is not in the panel list",
                            item.id, item.name
                        ),
                    })?;
                green.push(PanelRef {
                    id: item.id,
                    name: item.name,
                    version: item.version,
                    region: region.to_string(),
                });
            }
            if green.is_empty() {
                continue;
            }
            let record = build_record(
                hgnc_id.clone(),
                row.approved_symbol.clone(),
                row.reported_symbols(),
                green,
                Some(SnapshotDir::snapshot_date()),
            );
            by_gene.insert(hgnc_id, record);
        }
        Ok(by_gene.into_values().collect())
    }
}

impl EvidenceSource for PanelAppSnapshot {
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
    fn parses_panel_items() {
        let item =
            parse_panel_item("Renal superpanel - broad (id=902, version=20.5, confidence=Green)")
                .unwrap();
        assert_eq!(item.id, 902);
        assert_eq!(item.name, "Renal superpanel - broad");
        assert_eq!(item.version, "20.5");
        assert_eq!(item.confidence, "Green");
        let nested =
            parse_panel_item("CAKUT (Syndromic) (id=63, version=0.138, confidence=Amber)").unwrap();
        assert_eq!(nested.name, "CAKUT (Syndromic)");
        assert!(parse_panel_item("no id here").is_none());
    }

    #[test]
    fn snapshot_keeps_green_panels_only() {
        let records = PanelAppSnapshot::new(SnapshotDir::in_repo())
            .read()
            .unwrap();
        assert_eq!(records.len(), 381);
        let abcg2 = records.iter().find(|r| r.approved_symbol == "ABCG2");
        assert!(abcg2.is_none(), "ABCG2 is Red on every panel");
        let pkd1 = records
            .iter()
            .find(|r| r.approved_symbol == "PKD1")
            .unwrap();
        let panels = pkd1.evidence_data["panels"].as_array().unwrap();
        assert!(panels.len() >= 2);
        assert_eq!(pkd1.evidence_data["panel_count"], panels.len());
    }
}
