//! The bundled real data (`data/snapshots/`): where each file lives and streaming readers for
//! them. Used by the snapshot fetchers only.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use kgdb_core::SourceName;
use kgdb_core::pipeline::SourceError;
use serde::Deserialize;

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
        Self::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/snapshots"))
    }

    pub fn kidney_genetics(&self, stem: &str) -> PathBuf {
        self.root
            .join("kidney-genetics-v1-2024-05-14")
            .join(format!("{stem}.{KIDNEY_GENETICS_DATE}.csv.gz"))
    }

    pub fn curated(&self, sub: &str) -> PathBuf {
        self.root.join("kgdb-curated-2025").join(sub)
    }

    /// Every human gene of Ensembl 100 with its HGNC nomenclature (identifiers for annotations
    /// and resolve).
    pub fn ensembl_hgnc_genes(&self) -> PathBuf {
        self.root
            .join("ensembl100-hgnc-grch38")
            .join("ensembl100_hgnc_genes.tsv.gz")
    }

    pub fn snapshot_date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, 14).unwrap_or_default()
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

fn read_error(source: SourceName, path: &Path, message: impl ToString) -> SourceError {
    SourceError::Read {
        source_name: Some(source),
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn malformed(source: SourceName, path: &Path, message: impl std::fmt::Display) -> SourceError {
    SourceError::Malformed {
        source_name: Some(source),
        message: format!("{}: {message}", path.display()),
    }
}

/// Streams a gzipped CSV with a header row as typed rows (decoded on the fly, never held whole).
pub fn for_each_gz_csv_row<T: for<'de> Deserialize<'de>>(
    source: SourceName,
    path: &Path,
    mut each: impl FnMut(T) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    let file = std::fs::File::open(path).map_err(|e| read_error(source, path, e))?;
    let mut reader = csv::Reader::from_reader(BufReader::new(GzDecoder::new(file)));
    for row in reader.deserialize::<T>() {
        each(row.map_err(|e| malformed(source, path, e))?)?;
    }
    Ok(())
}

/// Reads a gzipped CSV into typed rows.
pub fn read_gz_csv<T: for<'de> Deserialize<'de>>(
    source: SourceName,
    path: &Path,
) -> Result<Vec<T>, SourceError> {
    let mut rows = Vec::new();
    for_each_gz_csv_row(source, path, |row| {
        rows.push(row);
        Ok(())
    })?;
    Ok(rows)
}

/// Reads a JSON file into a typed value.
pub fn read_json<T: for<'de> Deserialize<'de>>(
    source: SourceName,
    path: &Path,
) -> Result<T, SourceError> {
    let file = std::fs::File::open(path).map_err(|e| read_error(source, path, e))?;
    serde_json::from_reader(BufReader::new(file)).map_err(|e| malformed(source, path, e))
}

/// The stems of the `*.json` files of a folder, sorted so runs are planned in a stable order.
pub fn json_stems(source: SourceName, dir: &Path) -> Result<Vec<String>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| read_error(source, dir, e))?;
    let mut stems: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    stems.sort();
    Ok(stems)
}

/// A file stem used as a chunk of a run: plain names only, so a chunk from a queue message
/// cannot point outside the folder.
pub fn checked_stem(source: SourceName, stem: &str) -> Result<&str, SourceError> {
    let plain = !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        Ok(stem)
    } else {
        Err(SourceError::Malformed {
            source_name: Some(source),
            message: format!("not a snapshot file name: {stem:?}"),
        })
    }
}

/// Date part of an ISO timestamp (`2025-08-01T10:00:00` -> 2025-08-01).
pub fn iso_date(raw: Option<&str>) -> Option<NaiveDate> {
    raw.and_then(|s| s.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}
