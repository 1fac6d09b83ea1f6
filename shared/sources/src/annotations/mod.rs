//! Annotation sources from the bundled data (offline): per source a typed model with the
//! original's keys (`model.rs`), and streaming readers that turn rows into one
//! [`AnnotationRecord`] per gene × source.
//!
//! - [`hgnc`]: Ensembl 100 + HGNC nomenclature → `hgnc` and `ensembl` annotations and the
//!   identifiers resolve looks genes up by;
//! - [`kidney_table`]: the kidney-genetics v1 annotated table and its inputs → `gnomad`,
//!   `clinvar`, `gtex`, `descartes`, `mpo_mgi`, `string_ppi` for its 603 genes.
//!
//! A row that cannot be read fails only its gene × source ([`AnnotationFailure`], logged); a
//! file that cannot be read (missing, truncated gzip) fails its sources as a whole
//! ([`AnnotationReadError`]), and the stored rows of those sources stay as they were.

pub mod hgnc;
pub mod kidney_table;
pub mod model;

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::Path;

use flate2::read::GzDecoder;
use kgdb_core::annotation::{AnnotationRecord, GeneIdentifiers};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// One gene × source that could not be annotated, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotationFailure {
    pub source: &'static str,
    /// The gene as the row names it (`HGNC:9008`, a symbol) or `line N` when unreadable.
    pub gene: String,
    pub message: String,
}

/// A file-level failure: nothing of the file's sources is written.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {message}")]
pub struct AnnotationReadError {
    pub path: String,
    pub message: String,
}

/// What a reader produced: records per source, identifiers, per-gene failures, and rows
/// skipped because they carry no value for a source (counted, not errors).
#[derive(Debug, Default)]
pub struct AnnotationBatch {
    pub records: BTreeMap<&'static str, Vec<AnnotationRecord>>,
    pub identifiers: Vec<GeneIdentifiers>,
    pub failures: Vec<AnnotationFailure>,
    pub without_value: BTreeMap<&'static str, usize>,
    /// Rows of genes that are not among the database's genes (skipped).
    pub other_genes: usize,
}

impl AnnotationBatch {
    fn push<T: Serialize>(
        &mut self,
        source: &'static str,
        hgnc_id: &str,
        version: &str,
        model: &T,
        metadata: &Value,
    ) {
        match serde_json::to_value(model) {
            Ok(annotations) => self
                .records
                .entry(source)
                .or_default()
                .push(AnnotationRecord {
                    hgnc_id: hgnc_id.to_string(),
                    source,
                    version: version.to_string(),
                    annotations,
                    metadata: metadata.clone(),
                }),
            Err(e) => self.fail(source, hgnc_id, format!("cannot render: {e}")),
        }
    }

    fn fail(&mut self, source: &'static str, gene: &str, message: String) {
        tracing::error!(source, gene, %message, "annotation row rejected");
        self.failures.push(AnnotationFailure {
            source,
            gene: gene.to_string(),
            message,
        });
    }

    fn no_value(&mut self, source: &'static str) {
        *self.without_value.entry(source).or_default() += 1;
    }

    /// Joins another reader's output into this one.
    pub fn extend(&mut self, other: AnnotationBatch) {
        for (source, records) in other.records {
            self.records.entry(source).or_default().extend(records);
        }
        self.identifiers.extend(other.identifiers);
        self.failures.extend(other.failures);
        for (source, n) in other.without_value {
            *self.without_value.entry(source).or_default() += n;
        }
        self.other_genes += other.other_genes;
    }
}

/// `source_metadata` of a row from a bundled file: where it came from, in the original's
/// `batch_fetch` / `retrieved_at` keys (the snapshot's date, not the ingest time, so a re-run
/// stores the same value).
fn snapshot_metadata(file: &str, retrieved_at: Option<&str>) -> Value {
    json!({
        "batch_fetch": true,
        "retrieved_at": retrieved_at,
        "origin": "bundled snapshot",
        "file": file,
    })
}

/// Streams a gzipped delimited file with a header row, one typed row at a time. A row that
/// does not parse is reported to `bad` with its line and skipped; an I/O or gzip error ends
/// the file with an error.
fn for_each_row<T: DeserializeOwned>(
    path: &Path,
    delimiter: u8,
    mut each: impl FnMut(T),
    mut bad: impl FnMut(u64, String),
) -> Result<(), AnnotationReadError> {
    let read_error = |message: String| AnnotationReadError {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| read_error(e.to_string()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        // The TSV's names hold quote characters; the CSVs quote as RFC 4180.
        .quoting(delimiter == b',')
        .from_reader(BufReader::new(GzDecoder::new(file)));
    let headers = reader
        .headers()
        .map_err(|e| read_error(e.to_string()))?
        .clone();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                match record.deserialize::<T>(Some(&headers)) {
                    Ok(row) => each(row),
                    Err(e) => bad(line, e.to_string()),
                }
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(read_error(e.to_string()));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad(line, e.to_string());
            }
        }
    }
}

/// `NULL`, `NA` and empty fields mean "no value".
fn present(raw: &str) -> Option<&str> {
    let v = raw.trim();
    (!v.is_empty() && v != "NULL" && v != "NA").then_some(v)
}

/// An optional finite number; anything else that is present is malformed.
fn number(raw: &str, column: &str) -> Result<Option<f64>, String> {
    match present(raw) {
        None => Ok(None),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| format!("{column} is not a number: {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_missing_values() {
        assert_eq!(present(" NULL "), None);
        assert_eq!(present("NA"), None);
        assert_eq!(present("x"), Some("x"));
        assert_eq!(number("0.5", "c"), Ok(Some(0.5)));
        assert_eq!(number("NULL", "c"), Ok(None));
        assert!(number("inf", "c").is_err());
        assert!(number("abc", "pLI").unwrap_err().contains("pLI"));
    }
}
