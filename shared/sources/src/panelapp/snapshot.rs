//! PanelApp from the bundled kidney-genetics snapshot: `01_PanelApp_panels` (panel list with
//! its instance) and `01_PanelApp_genes` (one row per gene; its panels with ratings in `source`).

use std::collections::HashMap;

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, SourceError};
use serde::Deserialize;

use super::{PanelApp, PanelGene, PanelRef, Region, is_green};
use crate::files::{GeneListRow, SnapshotDir, for_each_gz_csv_row, read_gz_csv};

const SOURCE: SourceName = SourceName::PanelApp;

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

    fn read(&self, region: Region) -> Result<Vec<PanelGene>, SourceError> {
        let panels: Vec<PanelRow> =
            read_gz_csv(SOURCE, &self.dir.kidney_genetics("01_PanelApp_panels"))?;
        // Panel ids are per instance (UK and AU overlap), so the region is found by id and name.
        let region_of: HashMap<(i64, &str), Region> = panels
            .iter()
            .map(|p| {
                let region = if p.panel_source.contains("australia") {
                    Region::Australia
                } else {
                    Region::Uk
                };
                ((p.id, p.name.as_str()), region)
            })
            .collect();
        let date = Some(SnapshotDir::snapshot_date());
        let mut out = Vec::new();
        let path = self.dir.kidney_genetics("01_PanelApp_genes");
        for_each_gz_csv_row(SOURCE, &path, |row: GeneListRow| {
            for raw in row.source.split(" | ") {
                let item = parse_panel_item(raw).ok_or_else(|| SourceError::Malformed {
                    source_name: Some(SOURCE),
                    message: format!("unparsable panel item {raw:?}"),
                })?;
                let item_region = match region_of.get(&(item.id, item.name.as_str())) {
                    Some(r) => *r,
                    // Only a Green rating is evidence; a non-Green one may name an unlisted panel.
                    None if !is_green(&item.confidence) => continue,
                    None => {
                        return Err(SourceError::Malformed {
                            source_name: Some(SOURCE),
                            message: format!(
                                "panel {} ({}) is not in the panel list",
                                item.id, item.name
                            ),
                        });
                    }
                };
                if item_region != region {
                    continue;
                }
                out.push(PanelGene {
                    hgnc_id: row.hgnc_id.clone(),
                    approved_symbol: row.approved_symbol.clone(),
                    reported_symbols: row.reported_symbols(),
                    panel: PanelRef {
                        id: item.id,
                        name: item.name,
                        version: item.version,
                        region: region.as_str().to_string(),
                    },
                    confidence: item.confidence,
                    phenotypes: Vec::new(),
                    mode_of_inheritance: None,
                    last_updated: date,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }
}

impl Fetcher<PanelApp> for PanelAppSnapshot {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<Region>, SourceError>> {
        Box::pin(async { Ok(Region::ALL.to_vec()) })
    }

    fn fetch<'a>(
        &'a self,
        chunk: &'a Region,
    ) -> BoxFuture<'a, Result<Vec<PanelGene>, SourceError>> {
        Box::pin(async move { self.read(*chunk) })
    }
}

#[cfg(test)]
mod tests {
    use kgdb_core::pipeline::Source;

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
        let fetcher = PanelAppSnapshot::new(SnapshotDir::in_repo());
        let mut raw = fetcher.read(Region::Uk).unwrap();
        raw.extend(fetcher.read(Region::Australia).unwrap());
        let records = PanelApp.normalize(raw).unwrap();
        assert_eq!(records.len(), 381);
        assert!(
            records.iter().all(|r| r.gene.approved_symbol != "ABCG2"),
            "ABCG2 is Red on every panel"
        );
        let pkd1 = records
            .iter()
            .find(|r| r.gene.approved_symbol == "PKD1")
            .unwrap();
        assert!(pkd1.evidence.panels.len() >= 2);
        assert_eq!(pkd1.evidence.panel_count, pkd1.evidence.panels.len());
    }
}
