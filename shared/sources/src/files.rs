//! The bundled real data (`data/snapshots/`): file layout and readers shared by the sources.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use serde::Deserialize;

use super::{EvidenceSource, SourceError};
use crate::vocab::SourceName;

/// Date of the kidney-genetics v1 snapshot.
pub const KIDNEY_GENETICS_DATE: &str = "2024-05-14";

#[derive(Debug, Clone)]
pub struct SnapshotDir {
    pub root: PathBuf,
}

impl SnapshotDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `data/snapshots` of the repository (for tools run from a checkout).
    pub fn in_repo() -> Self {
        Self::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/snapshots"))
    }

    pub fn kidney_genetics(&self, stem: &str) -> PathBuf {
        self.root
            .join("kidney-genetics-v1-2024-05-14")
            .join(format!("{stem}.{KIDNEY_GENETICS_DATE}.csv.gz"))
    }

    pub fn curated(&self, sub: &str) -> PathBuf {
        self.root.join("kgdb-curated-2025").join(sub)
    }

    pub fn snapshot_date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, 14).unwrap_or_default()
    }

    /// The seven evidence sources read from the snapshot, in ingest order.
    pub fn sources(&self) -> Vec<Box<dyn EvidenceSource>> {
        vec![
            Box::new(super::panelapp::PanelAppSnapshot::new(self.clone())),
            Box::new(super::classifications::ClinGenSnapshot::new(self.clone())),
            Box::new(super::classifications::GenccSnapshot::new(self.clone())),
            Box::new(super::hpo::HpoSnapshot::new(self.clone())),
            Box::new(super::pubtator::PubTatorSnapshot::new(self.clone())),
            Box::new(super::diagnostic_panels::DiagnosticPanelsSnapshot::new(
                self.clone(),
            )),
            Box::new(super::literature::LiteratureSnapshot::new(self.clone())),
        ]
    }
}

/// A row of the kidney-genetics per-source gene lists (`0N_<Source>_genes`).
#[derive(Debug, Clone, Deserialize)]
pub struct GeneListRow {
    pub approved_symbol: String,
    pub hgnc_id: String,
    pub gene_name_reported: String,
    pub source: String,
}

impl GeneListRow {
    pub fn reported_symbols(&self) -> Vec<String> {
        split_list(&self.gene_name_reported, " | ")
    }
}

/// Splits a separated list, trimming items and dropping empty and `NULL` ones.
pub fn split_list(raw: &str, sep: &str) -> Vec<String> {
    raw.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "NULL")
        .map(str::to_string)
        .collect()
}

/// Reads a gzipped CSV with a header row into typed rows.
pub fn read_gz_csv<T: for<'de> Deserialize<'de>>(
    source: SourceName,
    path: &Path,
) -> Result<Vec<T>, SourceError> {
    let read_err = |message: String| SourceError::Read {
        source_name: source,
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| read_err(e.to_string()))?;
    let mut text = String::new();
    GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| read_err(e.to_string()))?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|e| SourceError::Malformed {
            source_name: source,
            message: format!("{}: {e}", path.display()),
        })
}

/// Reads a JSON file into a typed value.
pub fn read_json<T: for<'de> Deserialize<'de>>(
    source: SourceName,
    path: &Path,
) -> Result<T, SourceError> {
    let text = std::fs::read_to_string(path).map_err(|e| SourceError::Read {
        source_name: source,
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| SourceError::Malformed {
        source_name: source,
        message: format!("{}: {e}", path.display()),
    })
}

/// The `*.json` files of a folder, sorted by name so ingest order is stable.
pub fn json_files(source: SourceName, dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SourceError::Read {
        source_name: source,
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Date part of an ISO timestamp (`2025-08-01T10:00:00` -> 2025-08-01).
pub fn iso_date(raw: Option<&str>) -> Option<NaiveDate> {
    raw.and_then(|s| s.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}
