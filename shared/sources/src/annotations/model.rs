//! The stored `annotations` of each source: the original's keys (`docs/annotations.md`), so a
//! client of the original reads the same names and JSON types. `null` means the data kgdb
//! holds does not carry the value (the original wrote `""` or `[]` in places; kgdb does not
//! pretend to know). A few keys of ours are marked as such.

use std::collections::BTreeMap;

use serde::Serialize;

/// `hgnc`: nomenclature and cross-references.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HgncAnnotation {
    pub hgnc_id: String,
    pub symbol: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub location: Option<String>,
    pub ncbi_gene_id: Option<String>,
    pub ensembl_gene_id: Option<String>,
    pub alias_symbol: Vec<String>,
    pub prev_symbol: Vec<String>,
    /// Ours (HGNC's complete set has it too): every UniProt accession of the gene.
    pub uniprot_ids: Vec<String>,
    pub omim_ids: Option<Vec<String>>,
    pub alias_name: Option<Vec<String>>,
    pub prev_name: Option<Vec<String>>,
    pub pubmed_ids: Option<Vec<String>>,
    pub gene_family: Option<Vec<String>>,
    pub gene_family_id: Option<Vec<String>>,
    pub refseq_accession: Option<Vec<String>>,
}

/// `ensembl`: the gene's place on GRCh38.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnsemblAnnotation {
    pub gene_id: String,
    pub gene_symbol: String,
    pub biotype: Option<String>,
    pub chromosome: String,
    pub start: i64,
    pub end: i64,
    /// `+` or `-`, as the GTF writes it.
    pub strand: String,
    pub gene_length: Option<i64>,
    /// Ours: the file's coding length.
    pub coding_length: Option<i64>,
    pub assembly: &'static str,
    pub canonical_transcript: Option<String>,
    pub transcript_count: Option<u32>,
    pub exon_count: Option<u32>,
}

/// `gnomad`: loss-of-function and missense constraint. The key is `pli` (lower case), and the
/// summary route reads that same key (the original's summary read `pLI` and was always null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GnomadAnnotation {
    pub gene_symbol: String,
    pub pli: Option<f64>,
    pub oe_lof: Option<f64>,
    pub lof_z: Option<f64>,
    pub mis_z: Option<f64>,
    pub flags: Option<Vec<String>>,
    pub canonical_transcript: Option<String>,
    pub source_version: String,
}

/// `clinvar`: variant counts per clinical significance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClinvarAnnotation {
    pub gene_symbol: String,
    pub total_count: Option<u64>,
    pub pathogenic_count: u64,
    pub likely_pathogenic_count: u64,
    pub vus_count: u64,
    pub benign_count: Option<u64>,
    pub likely_benign_count: Option<u64>,
    pub conflicting_count: Option<u64>,
    pub not_provided_count: Option<u64>,
    pub high_confidence_count: Option<u64>,
    pub has_pathogenic: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TissueExpression {
    pub median_tpm: f64,
    pub unit: &'static str,
}

/// `gtex`: median TPM per tissue (kidney cortex and medulla here).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GtexAnnotation {
    pub gene_symbol: String,
    pub tissues: BTreeMap<&'static str, TissueExpression>,
    pub gencode_id: Option<String>,
    pub dataset_version: &'static str,
}

/// `descartes`: fetal kidney expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DescartesAnnotation {
    pub gene_symbol: String,
    pub kidney_tpm: f64,
    pub kidney_percentage: Option<f64>,
    pub cell_type: &'static str,
    pub dataset_version: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZygosityPhenotypes {
    pub has_kidney_phenotype: Option<bool>,
    pub phenotype_count: Option<u32>,
    pub phenotypes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZygosityAnalysis {
    pub homozygous: ZygosityPhenotypes,
    pub heterozygous: ZygosityPhenotypes,
    pub conditional: Option<ZygosityPhenotypes>,
    /// `hm (true); ht (false)`: the original's summary format, which is the snapshot's column.
    pub summary: String,
}

/// `mpo_mgi`: kidney phenotypes of mouse models, by zygosity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MpoMgiAnnotation {
    pub gene_symbol: String,
    pub has_kidney_phenotype: Option<bool>,
    pub mouse_orthologs: Option<Vec<String>>,
    pub phenotypes: Option<Vec<String>>,
    pub phenotype_count: Option<u32>,
    pub mpo_terms_searched: Option<u32>,
    pub zygosity_analysis: ZygosityAnalysis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StringInteraction {
    /// Unknown offline: the snapshot names partners by STRING protein id only.
    pub partner_symbol: Option<String>,
    /// Ours: the partner as the snapshot names it (`9606.ENSP…`).
    pub partner_string_id: String,
    pub string_score: u32,
    pub partner_evidence: Option<f64>,
    pub weighted_score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StringSummary {
    pub total_interactions: usize,
    pub raw_sum: u64,
    pub weighted_sum: Option<f64>,
    pub avg_string_score: f64,
    /// Interactions with a score above 800.
    pub strong_interactions: usize,
}

/// Ours: kidney-genetics v1's own interaction scores for the gene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KidneyGeneticsStringScores {
    pub interaction_score: Option<f64>,
    pub sum_score: Option<f64>,
    pub normalized_score: Option<f64>,
}

/// `string_ppi`: protein interactions with other kidney genes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StringPpiAnnotation {
    pub ppi_score: Option<f64>,
    pub ppi_degree: usize,
    pub ppi_percentile: Option<f64>,
    /// Strongest first, at most 30 (as the original).
    pub interactions: Vec<StringInteraction>,
    pub summary: StringSummary,
    pub kidney_genetics_scores: KidneyGeneticsStringScores,
}
