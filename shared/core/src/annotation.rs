//! Gene annotations: descriptive data per gene from ten sources (identifiers, constraint,
//! variants, expression, phenotypes, interactions), shown beside the score but never part of it.

use serde::Serialize;
use serde_json::Value;

/// The annotation sources, as `gene_annotations.source` and `annotation_sources.source_name`
/// name them (the original's names).
pub const ANNOTATION_SOURCES: &[&str] = &[
    "hgnc",
    "gnomad",
    "clinvar",
    "hpo",
    "mpo_mgi",
    "gtex",
    "descartes",
    "string_ppi",
    "ensembl",
    "uniprot",
];

pub fn is_annotation_source(name: &str) -> bool {
    ANNOTATION_SOURCES.contains(&name)
}

/// One gene's annotation from one source, as the writer stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotationRecord {
    /// `HGNC:<n>` of a gene already in `genes`.
    pub hgnc_id: String,
    pub source: &'static str,
    /// The data's own version (a release, a snapshot date), at most 20 characters.
    pub version: String,
    /// The source's keys (`docs/annotations.md`).
    pub annotations: Value,
    /// Where the values came from (`source_metadata`; the API's `metadata`). Deterministic, so
    /// re-ingesting the same data changes nothing.
    pub metadata: Value,
}

/// The kinds of identifier `/api/genes/resolve` finds genes by, besides HGNC ids and symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum IdentifierKind {
    EnsemblGeneId,
    NcbiGeneId,
    UniprotAccession,
    PrevSymbol,
    AliasSymbol,
}

impl IdentifierKind {
    pub const ALL: [IdentifierKind; 5] = [
        IdentifierKind::EnsemblGeneId,
        IdentifierKind::NcbiGeneId,
        IdentifierKind::UniprotAccession,
        IdentifierKind::PrevSymbol,
        IdentifierKind::AliasSymbol,
    ];

    /// `gene_identifiers.kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::EnsemblGeneId => "ensembl_gene_id",
            IdentifierKind::NcbiGeneId => "ncbi_gene_id",
            IdentifierKind::UniprotAccession => "uniprot_accession",
            IdentifierKind::PrevSymbol => "prev_symbol",
            IdentifierKind::AliasSymbol => "alias_symbol",
        }
    }
}

/// Every identifier of one gene (the gene's complete set: the writer removes stored ones not
/// listed here).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GeneIdentifiers {
    pub hgnc_id: String,
    pub ids: Vec<(IdentifierKind, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_is_the_originals_ten_sources() {
        assert_eq!(ANNOTATION_SOURCES.len(), 10);
        assert!(is_annotation_source("string_ppi"));
        assert!(!is_annotation_source("STRING"));
        let kinds: Vec<&str> = IdentifierKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ensembl_gene_id",
                "ncbi_gene_id",
                "uniprot_accession",
                "prev_symbol",
                "alias_symbol"
            ]
        );
    }
}
