//! `descartes`: fetal kidney expression from the Descartes human GTEx tables (docs/provider-formats.md).
//!
//! **Bulk**: two small CSVs, [`TPM_URL`] and [`PERCENTAGE_URL`], both required, streamed line by
//! line and kept for our genes only (by symbol, case-insensitive; the first row of a symbol
//! wins). The layout is the original's parser's (the real one is unverified): `SYMBOL,value`
//! per line, no header (a first line whose value is not a number is taken for a header and
//! skipped). A malformed value of one of our genes fails that gene.
//!
//! **CloudFront**: a direct GET of these files is answered 403, even with browser headers (the
//! original fell back to hand-placed copies). A 403 is final for the client (no retries), and
//! this module turns it into a chunk error that says so; [`DescartesFetcher::with_urls`] points
//! the fetcher at a mirror of the two files instead (`.gz` mirrors are decompressed on the
//! fly). No browser user agent is faked.
//!
//! **Keys**: `kidney_tpm` (number), `kidney_percentage` (number, or null when the percentage
//! table lacks the gene), `cell_type` (`kidney`), `dataset_version` (`human_gtex`),
//! `gene_symbol` (ours). A gene without a TPM value is `not_found` (kgdb's rows always carry
//! `kidney_tpm`). Version `human_gtex`.

use futures::future::BoxFuture;
use serde_json::json;

use super::common::{Slots, metadata, number, record};
use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{Compression, FetchError, HttpClient};

pub const SOURCE: &str = "descartes";
pub const TTL_DAYS: i32 = 90;
pub const VERSION: &str = "human_gtex";
pub const DATASET_VERSION: &str = "human_gtex";
pub const CELL_TYPE: &str = "kidney";
pub const TPM_URL: &str =
    "https://atlas.fredhutch.org/data/bbi/descartes/human_gtex/tables/tissue_tpm/kidney.csv";
pub const PERCENTAGE_URL: &str =
    "https://atlas.fredhutch.org/data/bbi/descartes/human_gtex/tables/tissue_percentage/kidney.csv";

pub struct DescartesFetcher {
    client: HttpClient,
    tpm_url: String,
    percentage_url: String,
}

impl DescartesFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self {
            client,
            tpm_url: TPM_URL.to_string(),
            percentage_url: PERCENTAGE_URL.to_string(),
        }
    }

    /// Reads the two tables from a mirror (CloudFront refuses direct downloads).
    pub fn with_urls(mut self, tpm_url: &str, percentage_url: &str) -> Self {
        self.tpm_url = tpm_url.to_string();
        self.percentage_url = percentage_url.to_string();
        self
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            return Ok(FetchOutcome::default());
        }
        let index = GeneIndex::new(genes);
        let tpm = self.table(&self.tpm_url, genes.len(), &index).await?;
        let percentage = self
            .table(&self.percentage_url, genes.len(), &index)
            .await?;
        let mut meta = metadata(&self.tpm_url, true);
        if let Some(m) = meta.as_object_mut() {
            m.insert("percentage_origin".into(), json!(self.percentage_url));
        }
        let mut outcome = FetchOutcome::default();
        for ((gene, tpm), percentage) in genes.iter().zip(tpm).zip(percentage) {
            let percentage = match percentage {
                Some(Err(e)) => {
                    outcome.failed(gene, format!("malformed Descartes percentage: {e}"));
                    continue;
                }
                Some(Ok(p)) => p,
                None => None,
            };
            match tpm {
                Some(Ok(Some(kidney_tpm))) => outcome.records.push(record(
                    gene,
                    SOURCE,
                    VERSION,
                    json!({
                        "kidney_tpm": kidney_tpm,
                        "kidney_percentage": percentage,
                        "cell_type": CELL_TYPE,
                        "dataset_version": DATASET_VERSION,
                        "gene_symbol": gene.symbol,
                    }),
                    meta.clone(),
                )),
                Some(Ok(None)) => outcome.not_found(gene, "no kidney TPM value in Descartes"),
                Some(Err(e)) => outcome.failed(gene, format!("malformed Descartes TPM: {e}")),
                None => outcome.not_found(gene, "not in the Descartes kidney TPM table"),
            }
        }
        Ok(outcome)
    }

    /// One `SYMBOL,value` table: per gene of the chunk its value, if the table has the gene.
    async fn table(
        &self,
        url: &str,
        genes: usize,
        index: &GeneIndex,
    ) -> Result<Vec<Option<Result<Option<f64>, String>>>, FetchError> {
        let mut lines = self
            .client
            .lines(url, Compression::of(url))
            .await
            .map_err(explain_refusal)?;
        let mut slots = Slots::new(genes);
        let mut data_lines = 0usize;
        let mut first = true;
        while let Some(line) = lines.next_line().await? {
            if line.trim().is_empty() {
                continue;
            }
            let was_first = std::mem::replace(&mut first, false);
            let fields: Vec<&str> = line
                .split(',')
                .map(|f| f.trim().trim_matches('"').trim())
                .collect();
            let symbol = fields.first().copied().unwrap_or_default();
            let raw = fields.get(1).copied().unwrap_or_default();
            if was_first && raw.parse::<f64>().is_err() {
                continue; // a header
            }
            data_lines += 1;
            if let Some(i) = index.symbol(symbol)
                && slots.wants(i, 1)
            {
                slots.offer(i, 1, value(&fields));
            }
        }
        if data_lines == 0 {
            return Err(FetchError::malformed(url, "no rows"));
        }
        Ok(slots.into_values().collect())
    }
}

impl AnnotationFetcher for DescartesFetcher {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn ttl_days(&self) -> i32 {
        TTL_DAYS
    }

    fn chunking(&self) -> Chunking {
        Chunking::Bulk
    }

    fn fetch<'a>(
        &'a self,
        genes: &'a [GeneKey],
    ) -> BoxFuture<'a, Result<FetchOutcome, FetchError>> {
        Box::pin(self.fetch_chunk(genes))
    }
}

/// `SYMBOL,value` → the value (`NA` or empty: none); anything else is malformed.
fn value(fields: &[&str]) -> Result<Option<f64>, String> {
    let [_, raw] = fields else {
        return Err(format!(
            "expected SYMBOL,value, got {} fields",
            fields.len()
        ));
    };
    match number(raw, "value")? {
        Some(v) if v < 0.0 => Err(format!("value is negative: {v}")),
        other => Ok(other),
    }
}

/// CloudFront's 403 says nothing useful: say what it means and what to do.
fn explain_refusal(e: FetchError) -> FetchError {
    match e {
        FetchError::Status {
            url,
            status: 403,
            excerpt,
            retry_after,
        } => FetchError::Status {
            url,
            status: 403,
            excerpt: format!(
                "refused (Descartes' CloudFront answers direct downloads with 403; the original \
                 read hand-placed copies: point DescartesFetcher::with_urls at a mirror): {}",
                excerpt.chars().take(120).collect::<String>()
            ),
            retry_after,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(value(&["PKD1", "12.84"]), Ok(Some(12.84)));
        assert_eq!(value(&["PKD1", "NA"]), Ok(None));
        assert!(value(&["PKD1", "abc"]).is_err());
        assert!(value(&["PKD1", "-1"]).is_err());
        assert!(value(&["PKD1"]).is_err());
        assert!(value(&["PKD1", "1", "2"]).is_err());
    }
}
