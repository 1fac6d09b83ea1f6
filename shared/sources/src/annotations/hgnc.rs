//! `ensembl100-hgnc-grch38/ensembl100_hgnc_genes.tsv.gz` → the `hgnc` and `ensembl`
//! annotations and the identifiers of every database gene the file names.
//!
//! The file has no HGNC id column, so rows join the database's genes by approved symbol
//! (case-insensitive); rows of other genes (most of the 67,149) are dropped as they stream by.

use std::collections::HashMap;
use std::path::Path;

use kgdb_core::annotation::{GeneIdentifiers, IdentifierKind};
use kgdb_core::sorted_unique;
use serde::Deserialize;

use super::model::{EnsemblAnnotation, HgncAnnotation};
use super::{AnnotationBatch, AnnotationReadError, for_each_row, present, snapshot_metadata};

/// `annotations.version` of the rows: HGNC nomenclature as Ensembl release 100 carried it.
pub const HGNC_VERSION: &str = "ensembl-100";
pub const ENSEMBL_VERSION: &str = "100";
const FILE: &str = "ensembl100-hgnc-grch38/ensembl100_hgnc_genes.tsv.gz";

/// One row of the file (lists are ` | `-separated; empty means no value).
#[derive(Debug, Clone, Deserialize)]
pub struct EnsemblHgncRow {
    pub ensembl_gene_id: String,
    pub chromosome: String,
    pub start: String,
    pub end: String,
    pub strand: String,
    pub biotype: String,
    pub gene_length: String,
    pub coding_length: String,
    pub approved_symbol: String,
    pub approved_name: String,
    pub hgnc_status: String,
    pub previous_symbols: String,
    pub alias_symbols: String,
    pub chromosome_region: String,
    pub uniprot_ids: String,
    pub entrez_ids: String,
}

fn list(raw: &str) -> Vec<String> {
    sorted_unique(
        raw.split(" | ")
            .filter_map(present)
            .map(str::to_string)
            .collect::<Vec<_>>(),
    )
}

/// Keeps the file's order (the first Entrez id is the gene's own one).
fn ordered_list(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in raw.split(" | ").filter_map(present) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

fn integer(raw: &str, column: &str) -> Result<Option<i64>, String> {
    match present(raw) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{column} is not an integer: {v:?}")),
    }
}

/// The two annotations and the identifiers of one row of a known gene.
pub fn normalize(
    row: &EnsemblHgncRow,
    hgnc_id: &str,
    symbol: &str,
) -> Result<(HgncAnnotation, EnsemblAnnotation, GeneIdentifiers), String> {
    let ensembl_id = present(&row.ensembl_gene_id)
        .filter(|id| id.starts_with("ENSG"))
        .ok_or_else(|| format!("not an Ensembl gene id: {:?}", row.ensembl_gene_id))?;
    let start = integer(&row.start, "start")?.ok_or("start is missing")?;
    let end = integer(&row.end, "end")?.ok_or("end is missing")?;
    if !matches!(row.strand.trim(), "+" | "-") {
        return Err(format!("strand is not + or -: {:?}", row.strand));
    }
    let ncbi = ordered_list(&row.entrez_ids);
    if let Some(bad) = ncbi
        .iter()
        .find(|id| !id.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("entrez id is not a number: {bad:?}"));
    }
    let uniprot = list(&row.uniprot_ids);
    let prev = list(&row.previous_symbols);
    let alias = list(&row.alias_symbols);
    let text = |raw: &str| present(raw).map(str::to_string);

    let hgnc = HgncAnnotation {
        hgnc_id: hgnc_id.to_string(),
        symbol: symbol.to_string(),
        name: text(&row.approved_name),
        status: text(&row.hgnc_status),
        location: text(&row.chromosome_region),
        ncbi_gene_id: ncbi.first().cloned(),
        ensembl_gene_id: Some(ensembl_id.to_string()),
        alias_symbol: alias.clone(),
        prev_symbol: prev.clone(),
        uniprot_ids: uniprot.clone(),
        omim_ids: None,
        alias_name: None,
        prev_name: None,
        pubmed_ids: None,
        gene_family: None,
        gene_family_id: None,
        refseq_accession: None,
    };
    let ensembl = EnsemblAnnotation {
        gene_id: ensembl_id.to_string(),
        gene_symbol: symbol.to_string(),
        biotype: text(&row.biotype),
        chromosome: row.chromosome.trim().to_string(),
        start,
        end,
        strand: row.strand.trim().to_string(),
        gene_length: integer(&row.gene_length, "gene_length")?,
        coding_length: integer(&row.coding_length, "coding_length")?,
        assembly: "GRCh38",
        canonical_transcript: None,
        transcript_count: None,
        exon_count: None,
    };
    let ids = std::iter::once((IdentifierKind::EnsemblGeneId, ensembl_id.to_string()))
        .chain(ncbi.into_iter().map(|v| (IdentifierKind::NcbiGeneId, v)))
        .chain(
            uniprot
                .into_iter()
                .map(|v| (IdentifierKind::UniprotAccession, v)),
        )
        .chain(prev.into_iter().map(|v| (IdentifierKind::PrevSymbol, v)))
        .chain(alias.into_iter().map(|v| (IdentifierKind::AliasSymbol, v)))
        .collect();
    Ok((
        hgnc,
        ensembl,
        GeneIdentifiers {
            hgnc_id: hgnc_id.to_string(),
            ids,
        },
    ))
}

/// Streams the file at `path`, keeping the rows of `genes` (`(hgnc_id, approved_symbol)`).
pub fn read(
    path: &Path,
    genes: &[(String, String)],
) -> Result<AnnotationBatch, AnnotationReadError> {
    let by_symbol: HashMap<String, (&str, &str)> = genes
        .iter()
        .map(|(h, s)| (s.to_ascii_uppercase(), (h.as_str(), s.as_str())))
        .collect();
    let metadata = snapshot_metadata(FILE, None);
    let mut batch = AnnotationBatch::default();
    let mut bad_rows: Vec<(u64, String)> = Vec::new();
    for_each_row::<EnsemblHgncRow>(
        path,
        b'\t',
        |row| {
            let Some(&(hgnc_id, symbol)) =
                by_symbol.get(&row.approved_symbol.trim().to_ascii_uppercase())
            else {
                batch.other_genes += 1;
                return;
            };
            match normalize(&row, hgnc_id, symbol) {
                Ok((hgnc, ensembl, ids)) => {
                    batch.push("hgnc", hgnc_id, HGNC_VERSION, &hgnc, &metadata);
                    batch.push("ensembl", hgnc_id, ENSEMBL_VERSION, &ensembl, &metadata);
                    batch.identifiers.push(ids);
                }
                Err(message) => {
                    batch.fail("hgnc", hgnc_id, message.clone());
                    batch.fail("ensembl", hgnc_id, message);
                }
            }
        },
        |line, message| bad_rows.push((line, message)),
    )?;
    for (line, message) in bad_rows {
        batch.fail("hgnc", &format!("line {line}"), message.clone());
        batch.fail("ensembl", &format!("line {line}"), message);
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkd1() -> EnsemblHgncRow {
        EnsemblHgncRow {
            ensembl_gene_id: "ENSG00000008710".into(),
            chromosome: "16".into(),
            start: "2088707".into(),
            end: "2135898".into(),
            strand: "-".into(),
            biotype: "protein_coding".into(),
            gene_length: "47191".into(),
            coding_length: "18534".into(),
            approved_symbol: "PKD1".into(),
            approved_name: "polycystin 1, transient receptor potential channel interacting".into(),
            hgnc_status: "Approved".into(),
            previous_symbols: "".into(),
            alias_symbols: "PBP | Pc-1 | TRPP1".into(),
            chromosome_region: "16p13.3".into(),
            uniprot_ids: "H3BQF4 | P98161".into(),
            entrez_ids: "5310".into(),
        }
    }

    #[test]
    fn a_row_becomes_hgnc_ensembl_and_identifiers() {
        let (hgnc, ensembl, ids) = normalize(&pkd1(), "HGNC:9008", "PKD1").unwrap();
        assert_eq!(hgnc.ncbi_gene_id.as_deref(), Some("5310"));
        assert_eq!(hgnc.ensembl_gene_id.as_deref(), Some("ENSG00000008710"));
        assert_eq!(hgnc.alias_symbol, ["PBP", "Pc-1", "TRPP1"]);
        assert_eq!(hgnc.location.as_deref(), Some("16p13.3"));
        assert_eq!(
            (ensembl.start, ensembl.end, ensembl.strand.as_str()),
            (2088707, 2135898, "-")
        );
        assert!(
            ids.ids
                .contains(&(IdentifierKind::UniprotAccession, "P98161".into()))
        );
        assert!(
            ids.ids
                .contains(&(IdentifierKind::NcbiGeneId, "5310".into()))
        );
        assert_eq!(ids.ids.len(), 1 + 1 + 2 + 3);
    }

    #[test]
    fn a_malformed_row_is_an_error_not_a_panic() {
        let mut row = pkd1();
        row.start = "2O88707".into();
        assert!(
            normalize(&row, "HGNC:9008", "PKD1")
                .unwrap_err()
                .contains("start")
        );
        let mut row = pkd1();
        row.entrez_ids = "53x0".into();
        assert!(normalize(&row, "HGNC:9008", "PKD1").is_err());
    }
}
