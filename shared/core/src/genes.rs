//! Gene normalization as the live evidence fetchers see it: a symbol a provider reports (with
//! its NCBI gene id when the provider gives one) becomes one of our genes, or is unresolved.
//! Implementations (`kgdb-store`, tests) decide where they look — our genes, the bundled
//! HGNC/Ensembl table, HGNC's REST API — and record every unresolved symbol with its source,
//! raw text and run in the staging table, so nothing is dropped silently.

use futures::future::BoxFuture;
use serde::Serialize;

use crate::SourceName;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedGene {
    /// `HGNC:<n>`.
    pub hgnc_id: String,
    pub approved_symbol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Resolution {
    Resolved(ResolvedGene),
    /// Not found anywhere (or ambiguous); already recorded for review by the resolver.
    Unresolved {
        reason: String,
    },
}

/// What one reported gene looked like at the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedGene<'a> {
    pub source: SourceName,
    /// As the provider wrote it (`PKD1`, `GENE:pkd1`, `TCF2`).
    pub symbol: &'a str,
    pub ncbi_gene_id: Option<&'a str>,
    pub hgnc_id: Option<&'a str>,
}

/// An online lookup of a cleaned symbol (HGNC's `search/symbol`, `prev_symbol`,
/// `alias_symbol`); `None` when it finds nothing, finds several, or is unreachable.
pub trait HgncLookup: Send + Sync {
    fn lookup<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, Option<ResolvedGene>>;
}

pub trait GeneResolver: Send + Sync {
    fn resolve<'a>(&'a self, reported: ReportedGene<'a>) -> BoxFuture<'a, Resolution>;
}

/// The original's cleaning of a reported symbol (docs/gene-normalization.md): upper case; `GENE:` /
/// `SYMBOL:` prefixes, separators and parentheses stripped; `GENE` / `PROTEIN` / `_HUMAN`
/// suffixes stripped. Tokens that cannot be a gene symbol (empty, longer than 20 characters,
/// not letters/digits/`-`/`.`, or words such as `NONE`) are refused with the reason.
pub fn clean_symbol(raw: &str) -> Result<String, String> {
    let mut s = raw.trim().to_uppercase();
    for prefix in ["GENE:", "SYMBOL:", "GENE ", "SYMBOL "] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim().to_string();
        }
    }
    // Parenthesised remarks ("PKD1 (polycystin 1)") and what separators leave behind.
    if let Some(open) = s.find('(') {
        s.truncate(open);
    }
    let s = s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | '|' | '/' | ':' | '"' | '\'' | ')' | '*')
    });
    let mut s = s.replace([' ', '\t'], "");
    for suffix in ["_HUMAN", "PROTEIN", "GENE"] {
        if s.len() > suffix.len() && s.ends_with(suffix) {
            s.truncate(s.len() - suffix.len());
            s = s.trim_end_matches(['_', '-']).to_string();
        }
    }
    if s.is_empty() {
        return Err(format!("{raw:?} has no symbol"));
    }
    if s.chars().count() > 20 {
        return Err(format!("{raw:?} is longer than 20 characters"));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '@'))
    {
        return Err(format!("{raw:?} is not a gene symbol"));
    }
    if !s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        || matches!(
            s.as_str(),
            "NONE" | "NA" | "N/A" | "NULL" | "UNKNOWN" | "GENE" | "-"
        )
    {
        return Err(format!("{raw:?} is not a gene symbol"));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_cleaned_as_the_original_cleans_them() {
        for (raw, clean) in [
            ("PKD1", "PKD1"),
            (" pkd1 ", "PKD1"),
            ("GENE:PKD1", "PKD1"),
            ("Symbol: nphs2", "NPHS2"),
            ("PKD1 (polycystin 1)", "PKD1"),
            ("COL4A5;", "COL4A5"),
            ("HNF1B_HUMAN", "HNF1B"),
            ("UMOD protein", "UMOD"),
            ("C3", "C3"),
            ("HLA-DQA1", "HLA-DQA1"),
            ("C12orf57", "C12ORF57"),
        ] {
            assert_eq!(clean_symbol(raw).as_deref(), Ok(clean), "{raw}");
        }
        for bad in [
            "",
            "  ",
            "None",
            "N/A",
            "(unknown)",
            "a very long description of a gene",
            "PKD1 & PKD2",
            "€UR0",
        ] {
            assert!(clean_symbol(bad).is_err(), "{bad}");
        }
    }
}
