//! ClinGen gene–disease validity from its website (docs/provider-formats.md),
//! one chunk as the snapshot:
//!
//! - **Bulk CSV (primary)**: [`CSV_URL`], every cell quoted, a preamble (title, date, web page,
//!   a `+++` row) before the header and a second `+++` row after it. The header is found by its
//!   `GENE SYMBOL` cell and the columns by name, so a moved column or a longer preamble still
//!   reads (the original reads by position after skipping four rows).
//! - **Kidney selection**: the curation's GCEP is one of the five kidney expert panels
//!   ([`KIDNEY_GCEPS`]), or its disease names one of [`KIDNEY_DISEASE_TERMS`].
//! - **Fallback**: when the CSV fails (after the client's retries, or without its header, or
//!   without a kidney row) the kidney GCEPs' affiliate pages,
//!   `GET {AFFILIATES_URL}/{40066..40070}` → `rows`; an affiliate the API does not know (404)
//!   is skipped with a warning. Their `perm_id` becomes the CSV's report URL, so both paths
//!   store the same `submission_id`.
//!
//! Each selected gene goes through the [`GeneResolver`] (with ClinGen's HGNC id). A row without a
//! symbol, or whose date does not parse, is dropped with a warning; no kidney validity at all
//! fails the chunk (the stored evidence stays).

use std::sync::Arc;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::genes::GeneResolver;
use kgdb_core::pipeline::{Fetcher, SourceError};
use kgdb_fetch::HttpClient;
use serde_json::Value;

use super::{ClinGen, ClinGenChunk, Validity, ValidityRow};
use crate::live_support::{Resolutions, empty, fetch_error, iso_date, malformed};

const SOURCE: SourceName = SourceName::ClinGen;

pub const CSV_URL: &str = "https://search.clinicalgenome.org/kb/gene-validity/download";
pub const AFFILIATES_URL: &str = "https://search.clinicalgenome.org/api/affiliates";
/// Where a curation's report lives: the CSV's `ONLINE REPORT` is this plus the `perm_id`.
pub const REPORT_URL: &str = "https://search.clinicalgenome.org/kb/gene-validity";
/// The kidney GCEPs' affiliation ids, as the original sends them.
pub const KIDNEY_AFFILIATES: [u32; 5] = [40066, 40067, 40068, 40069, 40070];

/// The five kidney gene curation expert panels, matched exactly (ignoring case and spaces).
pub const KIDNEY_GCEPS: [&str; 5] = [
    "Kidney Cystic and Ciliopathy Disorders Gene Curation Expert Panel",
    "Glomerulopathy Gene Curation Expert Panel",
    "Tubulopathy Gene Curation Expert Panel",
    "Complement-Mediated Kidney Diseases Gene Curation Expert Panel",
    "Congenital Anomalies of the Kidney and Urinary Tract Gene Curation Expert Panel",
];

/// A disease naming one of these (case-insensitive) is a kidney disease.
pub const KIDNEY_DISEASE_TERMS: [&str; 12] = [
    "kidney",
    "renal",
    "nephro",
    "glomerul",
    "tubul",
    "polycystic",
    "alport",
    "nephritis",
    "cystic",
    "ciliopathy",
    "complement",
    "cakut",
];

/// The CSV header cell that marks the header row.
const HEADER_MARK: &str = "GENE SYMBOL";

/// Whether a curation is kidney evidence: by its expert panel or its disease.
pub fn is_kidney_curation(gcep: &str, disease: &str) -> bool {
    let gcep = gcep.trim();
    let disease = disease.to_lowercase();
    KIDNEY_GCEPS.iter().any(|k| k.eq_ignore_ascii_case(gcep))
        || KIDNEY_DISEASE_TERMS.iter().any(|t| disease.contains(t))
}

#[derive(Debug, Clone)]
pub struct ClinGenLiveConfig {
    pub csv_url: String,
    pub affiliates_url: String,
    pub affiliate_ids: Vec<u32>,
}

impl Default for ClinGenLiveConfig {
    fn default() -> Self {
        Self {
            csv_url: CSV_URL.to_string(),
            affiliates_url: AFFILIATES_URL.to_string(),
            affiliate_ids: KIDNEY_AFFILIATES.to_vec(),
        }
    }
}

/// A kidney curation as ClinGen wrote it, before its gene is resolved.
#[derive(Debug, Clone, PartialEq)]
struct Curation {
    symbol: String,
    hgnc_id: String,
    disease_name: String,
    mondo_id: String,
    mode_of_inheritance: String,
    classification: String,
    expert_panel: String,
    release_date: String,
    submission_id: String,
    date: Option<NaiveDate>,
}

pub struct ClinGenLive {
    client: HttpClient,
    resolver: Arc<dyn GeneResolver>,
    config: ClinGenLiveConfig,
}

impl ClinGenLive {
    pub fn new(client: HttpClient, resolver: Arc<dyn GeneResolver>) -> Self {
        Self::with_config(client, resolver, ClinGenLiveConfig::default())
    }

    pub fn with_config(
        client: HttpClient,
        resolver: Arc<dyn GeneResolver>,
        config: ClinGenLiveConfig,
    ) -> Self {
        Self {
            client,
            resolver,
            config,
        }
    }

    /// The kidney validities, their genes resolved.
    pub async fn read(&self) -> Result<Vec<ValidityRow>, SourceError> {
        let curations = match self.read_csv().await {
            Ok(curations) => curations,
            Err(csv_error) => {
                tracing::warn!(error = %csv_error, "ClinGen CSV failed; reading the kidney affiliates");
                self.read_affiliates()
                    .await
                    .map_err(|e| SourceError::Fetch {
                        source_name: Some(SOURCE),
                        message: format!(
                            "the CSV failed ({csv_error}) and so did the affiliates ({e})"
                        ),
                    })?
            }
        };
        let mut resolutions = Resolutions::new(SOURCE, self.resolver.clone());
        let mut out = Vec::new();
        for c in curations {
            let Some(gene) = resolutions
                .resolve(
                    &c.symbol,
                    (!c.hgnc_id.is_empty()).then_some(c.hgnc_id.as_str()),
                )
                .await
            else {
                continue;
            };
            out.push(ValidityRow {
                validity: Validity {
                    symbol: gene.approved_symbol,
                    hgnc_id: gene.hgnc_id,
                    disease_name: c.disease_name,
                    classification: c.classification,
                    mode_of_inheritance: c.mode_of_inheritance,
                    expert_panel: c.expert_panel,
                    mondo_id: c.mondo_id,
                    release_date: c.release_date,
                    submission_id: c.submission_id,
                },
                date: c.date,
                reported_symbol: Some(c.symbol),
            });
        }
        tracing::info!(
            validities = out.len(),
            unresolved = resolutions.unresolved,
            "ClinGen read"
        );
        if out.is_empty() {
            return Err(empty(SOURCE, "no kidney validity with a resolved gene"));
        }
        Ok(out)
    }

    async fn read_csv(&self) -> Result<Vec<Curation>, SourceError> {
        let url = &self.config.csv_url;
        let text = self
            .client
            .get_text(url)
            .await
            .map_err(|e| fetch_error(SOURCE, e))?;
        let curations = parse_csv(&text)?;
        if curations.is_empty() {
            return Err(empty(SOURCE, format!("{url}: no kidney curation")));
        }
        Ok(curations)
    }

    async fn read_affiliates(&self) -> Result<Vec<Curation>, SourceError> {
        let base = self.config.affiliates_url.trim_end_matches('/');
        let mut out = Vec::new();
        for id in &self.config.affiliate_ids {
            let url = format!("{base}/{id}");
            let answer: Value = match self.client.get_json(&url).await {
                Ok(v) => v,
                Err(e) if e.status_code() == Some(404) => {
                    tracing::warn!(%url, "affiliate not found (404); skipped");
                    continue;
                }
                Err(e) => return Err(fetch_error(SOURCE, e)),
            };
            let rows = answer
                .get("rows")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed(SOURCE, format!("{url}: no `rows` list")))?;
            for row in rows {
                match affiliate_row(row) {
                    Ok(c) => out.push(c),
                    Err(why) => tracing::warn!(%url, why, "affiliate row dropped"),
                }
            }
        }
        if out.is_empty() {
            return Err(empty(SOURCE, "the kidney affiliates list no curation"));
        }
        Ok(out)
    }
}

impl Fetcher<ClinGen> for ClinGenLive {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<ClinGenChunk>, SourceError>> {
        Box::pin(async { Ok(vec![ClinGenChunk::All]) })
    }

    fn fetch<'a>(
        &'a self,
        _chunk: &'a ClinGenChunk,
    ) -> BoxFuture<'a, Result<Vec<ValidityRow>, SourceError>> {
        Box::pin(self.read())
    }
}

/// The columns of the CSV, found by their header names.
struct Columns {
    symbol: usize,
    hgnc_id: usize,
    disease: usize,
    mondo: Option<usize>,
    moi: Option<usize>,
    classification: usize,
    report: Option<usize>,
    date: Option<usize>,
    gcep: usize,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Self, SourceError> {
        let find = |name: &str| {
            header
                .iter()
                .position(|cell| cell.trim().eq_ignore_ascii_case(name))
        };
        let required = |name: &str| {
            find(name).ok_or_else(|| {
                malformed(
                    SOURCE,
                    format!("the validity CSV's header has no {name:?} column"),
                )
            })
        };
        Ok(Self {
            symbol: required(HEADER_MARK)?,
            hgnc_id: required("GENE ID (HGNC)")?,
            disease: required("DISEASE LABEL")?,
            mondo: find("DISEASE ID (MONDO)"),
            moi: find("MOI"),
            classification: required("CLASSIFICATION")?,
            report: find("ONLINE REPORT"),
            date: find("CLASSIFICATION DATE"),
            gcep: required("GCEP")?,
        })
    }
}

/// The kidney curations of the validity CSV. No header is an error; a row without a symbol or
/// with a date that does not parse is dropped with a warning.
fn parse_csv(text: &str) -> Result<Vec<Curation>, SourceError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut columns: Option<Columns> = None;
    let mut out = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| malformed(SOURCE, format!("the validity CSV does not parse: {e}")))?;
        let Some(cols) = &columns else {
            if record
                .iter()
                .any(|cell| cell.trim().eq_ignore_ascii_case(HEADER_MARK))
            {
                columns = Some(Columns::of(&record)?);
            }
            continue;
        };
        let cell = |i: usize| record.get(i).map(str::trim).unwrap_or_default();
        let optional = |i: Option<usize>| i.map(cell).unwrap_or_default();
        // The `+++` rule under the header, and blank lines.
        if record
            .iter()
            .all(|c| c.trim().is_empty() || c.trim().starts_with('+'))
        {
            continue;
        }
        let (gcep, disease) = (cell(cols.gcep), cell(cols.disease));
        if !is_kidney_curation(gcep, disease) {
            continue;
        }
        let symbol = cell(cols.symbol);
        if symbol.is_empty() {
            tracing::warn!(
                line = line + 1,
                disease,
                "validity row without a gene symbol dropped"
            );
            continue;
        }
        let release_date = optional(cols.date);
        let date = match release_date {
            "" => None,
            raw => match iso_date(raw) {
                Some(d) => Some(d),
                None => {
                    tracing::warn!(
                        line = line + 1,
                        symbol,
                        raw,
                        "validity row with an unreadable date dropped"
                    );
                    continue;
                }
            },
        };
        out.push(Curation {
            symbol: symbol.to_string(),
            hgnc_id: cell(cols.hgnc_id).to_string(),
            disease_name: disease.to_string(),
            mondo_id: optional(cols.mondo).to_string(),
            mode_of_inheritance: optional(cols.moi).to_string(),
            classification: cell(cols.classification).to_string(),
            expert_panel: gcep.to_string(),
            release_date: release_date.to_string(),
            submission_id: optional(cols.report).to_string(),
            date,
        });
    }
    if columns.is_none() {
        return Err(malformed(
            SOURCE,
            format!("the validity CSV has no header row (no {HEADER_MARK:?} cell)"),
        ));
    }
    Ok(out)
}

/// `MM/DD/YYYY`, as the API writes `released`.
fn us_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%m/%d/%Y").ok()
}

fn text(row: &Value, key: &str) -> String {
    match row.get(key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// One row of an affiliate's `rows`, in the CSV's terms.
fn affiliate_row(row: &Value) -> Result<Curation, String> {
    let symbol = text(row, "symbol");
    if symbol.is_empty() {
        return Err("no symbol".into());
    }
    // `date` is the CSV's ISO timestamp; `released` the same day as MM/DD/YYYY.
    let (iso, released) = (text(row, "date"), text(row, "released"));
    let (release_date, date) = match (iso.as_str(), released.as_str()) {
        ("", "") => (String::new(), None),
        ("", us) => (
            us.to_string(),
            Some(us_date(us).ok_or(format!("unreadable date {us:?}"))?),
        ),
        (iso, _) => (
            iso.to_string(),
            Some(iso_date(iso).ok_or(format!("unreadable date {iso:?}"))?),
        ),
    };
    let perm_id = text(row, "perm_id");
    let submission_id = if perm_id.is_empty() {
        text(row, "id")
    } else {
        format!("{REPORT_URL}/{perm_id}")
    };
    Ok(Curation {
        symbol,
        hgnc_id: text(row, "hgnc_id"),
        disease_name: text(row, "disease_name"),
        mondo_id: text(row, "mondo"),
        mode_of_inheritance: text(row, "moi"),
        classification: text(row, "classification"),
        expert_panel: text(row, "ep"),
        release_date,
        submission_id,
        date,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn kidney_by_panel_or_disease() {
        assert!(is_kidney_curation(
            "Complement-Mediated Kidney Diseases Gene Curation Expert Panel",
            "atypical hemolytic-uremic syndrome"
        ));
        assert!(is_kidney_curation(
            "Hearing Loss Gene Curation Expert Panel",
            "Alport syndrome"
        ));
        assert!(!is_kidney_curation(
            "Hereditary Breast and Ovarian Cancer Gene Curation Expert Panel",
            "breast cancer susceptibility"
        ));
    }

    #[test]
    fn the_header_is_found_by_name_wherever_it_is() {
        let csv = "\"TITLE\",\"\"\n\"MOI\",\"GCEP\",\"CLASSIFICATION\",\"DISEASE LABEL\",\"GENE ID (HGNC)\",\"GENE SYMBOL\"\n\
                   \"AD\",\"Glomerulopathy Gene Curation Expert Panel\",\"Definitive\",\"focal segmental glomerulosclerosis 4, susceptibility to\",\"HGNC:618\",\"APOL1\"\n";
        let rows = parse_csv(csv).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].symbol, "APOL1");
        assert_eq!(rows[0].mode_of_inheritance, "AD");
        assert_eq!(rows[0].mondo_id, "");
        assert_eq!(rows[0].date, None);
        assert!(parse_csv("\"no\",\"header\"\n\"PKD1\",\"HGNC:9008\"\n").is_err());
        assert!(parse_csv("").is_err());
    }

    #[test]
    fn an_affiliate_row_reads_as_the_csv_row() {
        let row = json!({"symbol": "PKD1", "hgnc_id": "HGNC:9008", "ep": "Kidney Cystic and Ciliopathy Disorders Gene Curation Expert Panel",
            "affiliate_id": "40066", "disease_name": "polycystic kidney disease", "mondo": "MONDO:0008263", "moi": "AD",
            "sop": "SOP10", "classification": "Definitive", "perm_id": "CGGV:assertion_x-2023-01-15T160000.000Z",
            "released": "01/15/2023", "date": "2023-01-15T16:00:00.000Z"});
        let c = affiliate_row(&row).unwrap();
        assert_eq!(c.release_date, "2023-01-15T16:00:00.000Z");
        assert_eq!(c.date, NaiveDate::from_ymd_opt(2023, 1, 15));
        assert_eq!(us_date("01/15/2023"), c.date);
        assert_eq!(us_date("2023-01-15"), None);
        assert_eq!(
            c.submission_id,
            "https://search.clinicalgenome.org/kb/gene-validity/CGGV:assertion_x-2023-01-15T160000.000Z"
        );
        let mut us_only = row.clone();
        us_only["date"] = Value::Null;
        assert_eq!(
            affiliate_row(&us_only).unwrap().date,
            NaiveDate::from_ymd_opt(2023, 1, 15)
        );
        let mut bad = row.clone();
        bad["date"] = json!("soon");
        assert!(affiliate_row(&bad).is_err());
        let mut nameless = row;
        nameless["symbol"] = json!("");
        assert!(affiliate_row(&nameless).is_err());
    }
}
