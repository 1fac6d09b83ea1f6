//! GenCC live: the submissions export `https://thegencc.org/download/action/submissions-export-xlsx`
//! (docs/provider-formats.md).
//!
//! One chunk ([`GenccChunk::All`]): the workbook is downloaded whole (about 3.6 MB; a 120 s
//! timeout, as the original's) and read in memory with calamine. Its first sheet, row 1 the
//! header, is read **by column name**, so the legacy layout (`uuid` first, 30 columns) and the
//! new one (`sgc_id, version_number` first) both work; a first sheet without the columns is a
//! [`SourceError`] (a changed export must not pass as "no kidney genes").
//!
//! A row is kept when any disease column (a header containing `disease`) or description column
//! (containing `description`) matches [`super::KIDNEY_KEYWORDS`]. Its gene is `gene_curie`
//! (else `submitted_as_hgnc_id`) with `gene_symbol` (else `submitted_as_hgnc_symbol`), placed
//! by the [`GeneResolver`]; an unresolved gene's rows are left out (the resolver records it).
//! Values, first present wins (the original's order): disease `disease_title` →
//! `disease_original_title` → `submitted_as_disease_name`; classification
//! `classification_title` → `submitted_as_classification_name`; date `submitted_as_date` →
//! `submitted_run_date`.
//!
//! Errors: a body that is not an XLSX workbook, a first sheet without the header, or a formula
//! error cell (`#N/A`, `#REF!`, ...) in a column read is a [`SourceError`]: the run fails and
//! the last good evidence stays. A row without any gene identity is dropped with a warning. No
//! kidney submission at all is an error too (the original marks an empty run failed).

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::genes::GeneResolver;
use kgdb_core::normalize_hgnc_id;
use kgdb_core::pipeline::{Fetcher, SourceError};
use kgdb_fetch::HttpClient;

use super::{Gencc, GenccChunk, GenccRawData, Submission, SubmissionRow, is_kidney_text};
use crate::live::{ResolveCache, fetch_error, malformed};

pub const SUBMISSIONS_XLSX_URL: &str =
    "https://thegencc.org/download/action/submissions-export-xlsx";
/// The original's timeout for the workbook.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// A larger body is not the export (it is about 3.6 MB); refused before it fills the memory.
pub const MAX_DOWNLOAD_BYTES: usize = 64 * 1024 * 1024;

const SOURCE: SourceName = SourceName::GenCC;
/// Warnings for dropped rows are logged one by one up to this many, then counted.
const ROW_WARNINGS: usize = 20;

#[derive(Debug, Clone)]
pub struct GenccConfig {
    pub url: String,
    pub timeout: Duration,
    pub max_bytes: usize,
}

impl Default for GenccConfig {
    fn default() -> Self {
        Self {
            url: SUBMISSIONS_XLSX_URL.to_string(),
            timeout: DOWNLOAD_TIMEOUT,
            max_bytes: MAX_DOWNLOAD_BYTES,
        }
    }
}

pub struct GenccLive {
    client: HttpClient,
    resolver: Arc<dyn GeneResolver>,
    config: GenccConfig,
}

impl GenccLive {
    pub fn new(client: HttpClient, resolver: Arc<dyn GeneResolver>) -> Self {
        Self::with_config(client, resolver, GenccConfig::default())
    }

    pub fn with_config(
        client: HttpClient,
        resolver: Arc<dyn GeneResolver>,
        config: GenccConfig,
    ) -> Self {
        Self {
            client,
            resolver,
            config,
        }
    }

    /// The workbook's bytes (retries, Retry-After and the domain limit are the client's).
    async fn download(&self) -> Result<Vec<u8>, SourceError> {
        let url = self.config.url.as_str();
        let mut response = self
            .client
            .send(reqwest::Method::GET, url, Some(self.config.timeout), |r| r)
            .await
            .map_err(|e| fetch_error(SOURCE, e))?;
        let too_large = || {
            malformed(
                SOURCE,
                format!(
                    "{url}: the export is larger than {} bytes",
                    self.config.max_bytes
                ),
            )
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.config.max_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| SourceError::Fetch {
                source_name: Some(SOURCE),
                message: format!("{url}: download broken: {e}"),
            })?;
            let Some(chunk) = chunk else { break };
            if body.len() + chunk.len() > self.config.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn read(&self) -> Result<Vec<SubmissionRow>, SourceError> {
        let bytes = self.download().await?;
        let rows = parse_workbook(bytes)?;
        let selected = rows.len();
        let date = Some(chrono::Utc::now().date_naive());
        let mut genes = ResolveCache::new(self.resolver.clone(), SOURCE);
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let hgnc = row.hgnc_id();
            let Some(gene) = genes.resolve(row.symbol(), None, hgnc.as_deref()).await else {
                continue;
            };
            out.push(SubmissionRow {
                submission: row.into_submission(gene.hgnc_id, gene.approved_symbol),
                date,
            });
        }
        tracing::info!(
            source = %SOURCE,
            kidney_rows = selected,
            kept = out.len(),
            unresolved_genes = genes.unresolved(),
            "GenCC export read"
        );
        if out.is_empty() {
            return Err(malformed(
                SOURCE,
                format!(
                    "{}: no kidney submission with a resolvable gene ({selected} kidney rows)",
                    self.config.url
                ),
            ));
        }
        Ok(out)
    }
}

impl Fetcher<Gencc> for GenccLive {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<GenccChunk>, SourceError>> {
        Box::pin(async { Ok(vec![GenccChunk::All]) })
    }

    fn fetch<'a>(
        &'a self,
        chunk: &'a GenccChunk,
    ) -> BoxFuture<'a, Result<Vec<SubmissionRow>, SourceError>> {
        Box::pin(async move {
            match chunk {
                GenccChunk::All => self.read().await,
            }
        })
    }
}

/// The columns of the export a submission is built from (missing values are empty strings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRow {
    pub gene_curie: String,
    pub gene_symbol: String,
    pub disease_curie: String,
    pub disease_title: String,
    pub disease_original_title: String,
    pub classification_title: String,
    pub moi_title: String,
    pub submitter_title: String,
    pub submitted_as_hgnc_id: String,
    pub submitted_as_hgnc_symbol: String,
    pub submitted_as_disease_name: String,
    pub submitted_as_moi_name: String,
    pub submitted_as_submitter_name: String,
    pub submitted_as_classification_name: String,
    pub submitted_as_date: String,
    pub submitted_run_date: String,
}

fn first<'a>(values: impl IntoIterator<Item = &'a String>) -> &'a str {
    values
        .into_iter()
        .map(|s| s.as_str())
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

impl ExportRow {
    /// The symbol as the submitter wrote it.
    pub fn symbol(&self) -> &str {
        first([&self.gene_symbol, &self.submitted_as_hgnc_symbol])
    }

    /// `gene_curie`, else `submitted_as_hgnc_id`, as `HGNC:<n>` (None if neither is one).
    pub fn hgnc_id(&self) -> Option<String> {
        normalize_hgnc_id(&self.gene_curie)
            .or_else(|| normalize_hgnc_id(&self.submitted_as_hgnc_id))
    }

    fn into_submission(self, hgnc_id: String, approved_symbol: String) -> Submission {
        Submission {
            symbol: approved_symbol,
            hgnc_id,
            disease_name: first([
                &self.disease_title,
                &self.disease_original_title,
                &self.submitted_as_disease_name,
            ])
            .to_string(),
            mondo_id: self.disease_curie.clone(),
            classification: first([
                &self.classification_title,
                &self.submitted_as_classification_name,
            ])
            .to_string(),
            submitter: first([&self.submitter_title, &self.submitted_as_submitter_name])
                .to_string(),
            mode_of_inheritance: first([&self.moi_title, &self.submitted_as_moi_name]).to_string(),
            submission_date: first([&self.submitted_as_date, &self.submitted_run_date]).to_string(),
            raw_data: GenccRawData {
                gene_curie: self.gene_curie,
                gene_symbol: self.gene_symbol,
                disease_curie: self.disease_curie,
                disease_title: self.disease_title,
                classification_title: self.classification_title,
                moi_title: self.moi_title,
                submitter_title: self.submitter_title,
                submitted_as_hgnc_id: self.submitted_as_hgnc_id,
                submitted_as_hgnc_symbol: self.submitted_as_hgnc_symbol,
            },
        }
    }

    fn field_mut(&mut self, column: &str) -> Option<&mut String> {
        Some(match column {
            "gene_curie" => &mut self.gene_curie,
            "gene_symbol" => &mut self.gene_symbol,
            "disease_curie" => &mut self.disease_curie,
            "disease_title" => &mut self.disease_title,
            "disease_original_title" => &mut self.disease_original_title,
            "classification_title" => &mut self.classification_title,
            "moi_title" => &mut self.moi_title,
            "submitter_title" => &mut self.submitter_title,
            "submitted_as_hgnc_id" => &mut self.submitted_as_hgnc_id,
            "submitted_as_hgnc_symbol" => &mut self.submitted_as_hgnc_symbol,
            "submitted_as_disease_name" => &mut self.submitted_as_disease_name,
            "submitted_as_moi_name" => &mut self.submitted_as_moi_name,
            "submitted_as_submitter_name" => &mut self.submitted_as_submitter_name,
            "submitted_as_classification_name" => &mut self.submitted_as_classification_name,
            "submitted_as_date" => &mut self.submitted_as_date,
            "submitted_run_date" => &mut self.submitted_run_date,
            _ => return None,
        })
    }
}

/// Where the columns read are in the header.
struct Layout {
    /// (column index, header) of the fields of [`ExportRow`].
    fields: Vec<(usize, String)>,
    /// Columns the kidney keywords are matched against.
    keyword_columns: Vec<usize>,
}

impl Layout {
    fn of(sheet: &str, header: &[Data]) -> Result<Self, SourceError> {
        let names: Vec<String> = header
            .iter()
            .map(|c| cell_text(c).unwrap_or_default().to_ascii_lowercase())
            .collect();
        let mut probe = ExportRow::default();
        let fields: Vec<(usize, String)> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| probe.field_mut(n).is_some())
            .map(|(i, n)| (i, n.clone()))
            .collect();
        let keyword_columns: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.contains("disease") || n.contains("description"))
            .map(|(i, _)| i)
            .collect();
        let has = |any: &[&str]| any.iter().any(|a| fields.iter().any(|(_, n)| n == a));
        let mut missing = Vec::new();
        if !has(&["gene_curie", "submitted_as_hgnc_id"]) {
            missing.push("gene_curie");
        }
        if !has(&["gene_symbol", "submitted_as_hgnc_symbol"]) {
            missing.push("gene_symbol");
        }
        if !has(&["classification_title", "submitted_as_classification_name"]) {
            missing.push("classification_title");
        }
        if !has(&[
            "disease_title",
            "disease_original_title",
            "submitted_as_disease_name",
        ]) {
            missing.push("disease_title");
        }
        if !missing.is_empty() {
            return Err(malformed(
                SOURCE,
                format!(
                    "the first sheet ({sheet:?}) is not the submissions export: no {} column in its header",
                    missing.join(", ")
                ),
            ));
        }
        Ok(Self {
            fields,
            keyword_columns,
        })
    }
}

/// A cell as text; a formula error is `Err` with its code.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        }
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::Error(e) => return Err(e.to_string()),
    })
}

/// The kidney rows of the export's first sheet. Pure: no I/O, no gene resolution.
pub fn parse_workbook(bytes: Vec<u8>) -> Result<Vec<ExportRow>, SourceError> {
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| malformed(SOURCE, format!("the export is not an XLSX workbook: {e}")))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| malformed(SOURCE, "the workbook has no sheet"))?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| malformed(SOURCE, format!("sheet {sheet:?} does not read: {e}")))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = range.rows();
    let header = rows
        .next()
        .ok_or_else(|| malformed(SOURCE, format!("sheet {sheet:?} is empty")))?;
    let layout = Layout::of(&sheet, header)?;
    let headers: HashMap<usize, &str> = layout
        .fields
        .iter()
        .map(|(i, n)| (*i, n.as_str()))
        .collect();
    let cell_error = |row: usize, col: usize, code: String| {
        let column = headers.get(&col).copied().unwrap_or("a disease column");
        malformed(
            SOURCE,
            format!(
                "sheet {sheet:?} row {} column {column}: formula error {code}",
                first_row + row + 1
            ),
        )
    };
    let (mut kept, mut data_rows, mut dropped) = (Vec::new(), 0usize, 0usize);
    for (offset, cells) in rows.enumerate() {
        let row_number = offset + 1;
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        data_rows += 1;
        let text = |col: usize| -> Result<String, SourceError> {
            cells
                .get(col)
                .map_or(Ok(String::new()), cell_text)
                .map_err(|code| cell_error(row_number, col, code))
        };
        let mut kidney = false;
        for &col in &layout.keyword_columns {
            kidney |= is_kidney_text(&text(col)?);
        }
        let mut row = ExportRow::default();
        for (col, name) in &layout.fields {
            let value = text(*col)?;
            if let Some(field) = row.field_mut(name) {
                *field = value;
            }
        }
        if !kidney {
            continue;
        }
        if row.symbol().is_empty() && row.hgnc_id().is_none() {
            dropped += 1;
            if dropped <= ROW_WARNINGS {
                tracing::warn!(
                    source = %SOURCE,
                    row = first_row + row_number + 1,
                    gene_curie = %row.gene_curie,
                    "GenCC row without a gene symbol or HGNC id dropped"
                );
            }
            continue;
        }
        kept.push(row);
    }
    if dropped > 0 {
        tracing::warn!(source = %SOURCE, dropped, "GenCC rows without a gene dropped");
    }
    if data_rows == 0 {
        return Err(malformed(
            SOURCE,
            format!("sheet {sheet:?} has a header but no submissions"),
        ));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_text_and_errors_as_codes() {
        assert_eq!(cell_text(&Data::Float(9008.0)).unwrap(), "9008");
        assert_eq!(cell_text(&Data::Float(0.5)).unwrap(), "0.5");
        assert_eq!(cell_text(&Data::String(" PKD1 ".into())).unwrap(), "PKD1");
        assert_eq!(
            cell_text(&Data::Error(calamine::CellErrorType::NA)).unwrap_err(),
            "#N/A"
        );
    }

    #[test]
    fn a_non_xlsx_body_is_malformed() {
        let err =
            parse_workbook(b"<html>Daily download limit reached</html>".to_vec()).unwrap_err();
        assert!(err.to_string().contains("not an XLSX workbook"), "{err}");
    }

    #[test]
    fn the_gene_is_the_curie_else_the_submitted_id() {
        let row = ExportRow {
            gene_curie: "HGNC:9008".into(),
            submitted_as_hgnc_id: "HGNC:1".into(),
            submitted_as_hgnc_symbol: "PKD1".into(),
            ..ExportRow::default()
        };
        assert_eq!(row.hgnc_id().as_deref(), Some("HGNC:9008"));
        assert_eq!(row.symbol(), "PKD1");
        let row = ExportRow {
            gene_curie: "".into(),
            submitted_as_hgnc_id: "HGNC:7908".into(),
            ..ExportRow::default()
        };
        assert_eq!(row.hgnc_id().as_deref(), Some("HGNC:7908"));
    }
}
