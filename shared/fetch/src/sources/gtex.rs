//! `gtex`: median expression per tissue from GTEx v8 (docs/provider-formats.md).
//!
//! **Bulk**: [`BULK_URL`], a gzipped GCT 1.2 file (about 6.6 MB compressed): `#1.2`, a
//! dimensions line `<genes>\t<tissues>`, the header `Name\tDescription\t<tissue…>`, then one
//! row per gene (GENCODE id with version, symbol, median TPM per tissue). Streamed and
//! decompressed line by line; only our genes' rows are kept. A row is ours by its Ensembl id
//! (version stripped), else by its symbol; an id match replaces a symbol match, and of equal
//! matches the first row wins. Tissue names become the GTEx API's ids (`Kidney - Cortex` →
//! `Kidney_Cortex`, `Adipose - Visceral (Omentum)` → `Adipose_Visceral_Omentum`). A file
//! that is not GCT 1.2, whose header or row count disagrees with its dimensions line, or whose
//! gzip stream breaks fails the chunk. The GTEx portal API is not called (no fallback).
//!
//! **Keys**: `tissues {<tissue id>: {median_tpm, unit: "TPM"}}` (every tissue with a value;
//! `NA` cells are skipped), `dataset_version` (`gtex_v8`), `gencode_id` (the row's versioned
//! id), `gene_symbol` (the row's). Version `gtex_v8`.

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::common::{Slots, metadata, number, present, record};
use crate::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey};
use crate::{Compression, FetchError, HttpClient};

pub const SOURCE: &str = "gtex";
pub const TTL_DAYS: i32 = 90;
pub const VERSION: &str = "gtex_v8";
pub const DATASET_VERSION: &str = "gtex_v8";
pub const BULK_URL: &str = "https://storage.googleapis.com/adult-gtex/bulk-gex/v8/rna-seq/GTEx_Analysis_2017-06-05_v8_RNASeQCv1.1.9_gene_median_tpm.gct.gz";
const RANK_SYMBOL: u8 = 1;
const RANK_ENSEMBL: u8 = 2;

pub struct GtexFetcher {
    client: HttpClient,
}

impl GtexFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self { client }
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            return Ok(FetchOutcome::default());
        }
        let malformed = |m: String| FetchError::malformed(BULK_URL, m);
        let mut lines = self
            .client
            .lines(BULK_URL, Compression::of(BULK_URL))
            .await?;
        match lines.next_line().await? {
            Some(l) if l.trim() == "#1.2" => {}
            other => {
                return Err(malformed(format!(
                    "not a GCT 1.2 file (first line {:?})",
                    other.map(|l| l.chars().take(40).collect::<String>())
                )));
            }
        }
        let (rows_declared, tissues_declared) = match lines.next_line().await? {
            Some(l) => {
                dimensions(l).ok_or_else(|| malformed(format!("bad dimensions line {l:?}")))?
            }
            None => return Err(malformed("no dimensions line".into())),
        };
        let tissues: Vec<String> = match lines.next_line().await? {
            Some(h) => header(h, tissues_declared).map_err(malformed)?,
            None => return Err(malformed("no header line".into())),
        };

        let index = GeneIndex::new(genes);
        let mut slots: Slots<Result<Option<Value>, String>> = Slots::new(genes.len());
        let mut rows = 0usize;
        while let Some(line) = lines.next_line().await? {
            if line.trim().is_empty() {
                continue;
            }
            rows += 1;
            let mut cells = line.split('\t');
            let name = cells.next().unwrap_or_default().trim();
            let description = cells.next().unwrap_or_default().trim();
            let matched = index
                .ensembl(name)
                .map(|i| (i, RANK_ENSEMBL))
                .or_else(|| index.symbol(description).map(|i| (i, RANK_SYMBOL)));
            if let Some((i, rank)) = matched
                && slots.wants(i, rank)
            {
                slots.offer(i, rank, annotation(name, description, cells, &tissues));
            }
        }
        if rows != rows_declared {
            return Err(malformed(format!(
                "{rows} gene rows, the dimensions line says {rows_declared}"
            )));
        }

        let mut outcome = FetchOutcome::default();
        let meta = metadata(BULK_URL, true);
        for (gene, slot) in genes.iter().zip(slots.into_values()) {
            match slot {
                Some(Ok(Some(annotations))) => {
                    outcome
                        .records
                        .push(record(gene, SOURCE, VERSION, annotations, meta.clone()))
                }
                Some(Ok(None)) => {
                    outcome.not_found(gene, "GTEx v8 has no median TPM for any tissue");
                }
                Some(Err(e)) => outcome.failed(gene, format!("malformed GTEx row: {e}")),
                None => outcome.not_found(gene, "not in the GTEx v8 median TPM file"),
            }
        }
        Ok(outcome)
    }
}

impl AnnotationFetcher for GtexFetcher {
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

/// `56200\t54` → (genes, tissues).
fn dimensions(line: &str) -> Option<(usize, usize)> {
    let mut parts = line.split('\t').map(str::trim);
    let rows = parts.next()?.parse().ok()?;
    let columns = parts.next()?.parse().ok()?;
    Some((rows, columns))
}

/// `Name\tDescription\t<tissue…>` → the tissue ids, checked against the dimensions.
fn header(line: &str, tissues_declared: usize) -> Result<Vec<String>, String> {
    let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
    if cells.len() < 2 || cells[0] != "Name" || cells[1] != "Description" {
        return Err(format!(
            "header does not start with Name, Description: {:?}",
            line.chars().take(60).collect::<String>()
        ));
    }
    let tissues: Vec<String> = cells[2..].iter().map(|t| tissue_id(t)).collect();
    if tissues.len() != tissues_declared {
        return Err(format!(
            "{} tissue columns, the dimensions line says {tissues_declared}",
            tissues.len()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(bad) = tissues.iter().find(|t| t.is_empty() || !seen.insert(*t)) {
        return Err(format!("empty or repeated tissue column {bad:?}"));
    }
    Ok(tissues)
}

/// `Kidney - Cortex` → `Kidney_Cortex`; `Brain - Anterior cingulate cortex (BA24)` →
/// `Brain_Anterior_cingulate_cortex_BA24`.
pub fn tissue_id(name: &str) -> String {
    let spaced = name.trim().replace(" - ", "_").replace(['(', ')'], "");
    let mut out = String::with_capacity(spaced.len());
    for c in spaced.trim().chars() {
        let c = if c == ' ' { '_' } else { c };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches('_').to_string()
}

/// One gene's row → its annotation (`None` when no tissue has a value).
fn annotation<'l>(
    name: &str,
    description: &str,
    cells: impl Iterator<Item = &'l str>,
    tissues: &[String],
) -> Result<Option<Value>, String> {
    let cells: Vec<&str> = cells.collect();
    if cells.len() != tissues.len() {
        return Err(format!(
            "{} values for {} tissues",
            cells.len(),
            tissues.len()
        ));
    }
    let mut out = Map::new();
    for (tissue, raw) in tissues.iter().zip(cells) {
        if let Some(tpm) = number(raw, tissue)? {
            if tpm < 0.0 {
                return Err(format!("{tissue} is negative: {tpm}"));
            }
            out.insert(tissue.clone(), json!({"median_tpm": tpm, "unit": "TPM"}));
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({
        "tissues": out,
        "dataset_version": DATASET_VERSION,
        "gencode_id": present(name),
        "gene_symbol": present(description),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tissue_names_become_api_ids() {
        assert_eq!(tissue_id("Kidney - Cortex"), "Kidney_Cortex");
        assert_eq!(
            tissue_id("Adipose - Visceral (Omentum)"),
            "Adipose_Visceral_Omentum"
        );
        assert_eq!(
            tissue_id("Brain - Spinal cord (cervical c-1)"),
            "Brain_Spinal_cord_cervical_c-1"
        );
        assert_eq!(
            tissue_id("Cells - EBV-transformed lymphocytes"),
            "Cells_EBV-transformed_lymphocytes"
        );
        assert_eq!(tissue_id("Whole Blood"), "Whole_Blood");
    }

    #[test]
    fn header_and_dimensions() {
        assert_eq!(dimensions("56200\t54"), Some((56200, 54)));
        assert_eq!(dimensions("x\t54"), None);
        assert!(header("Name\tDescription\tLiver", 1).is_ok());
        assert!(header("Name\tDescription\tLiver", 2).is_err());
        assert!(header("Id\tDescription\tLiver", 1).is_err());
        assert!(header("Name\tDescription\tLiver\tLiver", 2).is_err());
    }
}
