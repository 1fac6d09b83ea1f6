//! The static description of the seven evidence sources (the original's
//! `backend/config/datasources.yaml`), in the order the original lists them.

use kgdb::vocab::SourceName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub source: SourceName,
    pub display_name: &'static str,
    pub description: &'static str,
    pub url: Option<&'static str>,
    pub documentation_url: Option<&'static str>,
    /// Filled by curator uploads rather than a fetcher: with no data it is "ready for upload".
    pub hybrid: bool,
    /// The `metadata.type` label of GET /api/datasources/.
    pub kind: &'static str,
}

pub const CATALOG: [SourceInfo; 7] = [
    SourceInfo {
        source: SourceName::PanelApp,
        display_name: "PanelApp",
        description: "Expert-curated gene panels from UK Genomics England and Australian Genomics",
        url: Some("https://panelapp.genomicsengland.co.uk/"),
        documentation_url: Some("https://panelapp.genomicsengland.co.uk/api/docs/"),
        hybrid: false,
        kind: "Clinical Panels",
    },
    SourceInfo {
        source: SourceName::PubTator,
        display_name: "PubTator3",
        description: "Automated literature mining for kidney disease genes from PubMed",
        url: Some("https://www.ncbi.nlm.nih.gov/research/pubtator3/"),
        documentation_url: Some("https://www.ncbi.nlm.nih.gov/research/pubtator3/api"),
        hybrid: false,
        kind: "Literature Mining",
    },
    SourceInfo {
        source: SourceName::ClinGen,
        display_name: "ClinGen",
        description: "Expert-curated gene-disease validity assessments from 5 kidney specialist panels",
        url: Some("https://clinicalgenome.org/"),
        documentation_url: Some("https://search.clinicalgenome.org/kb/gene-validity"),
        hybrid: false,
        kind: "Expert Curation",
    },
    SourceInfo {
        source: SourceName::GenCC,
        display_name: "GenCC",
        description: "Harmonized gene-disease relationships from 40+ submitters worldwide",
        url: Some("https://thegencc.org/"),
        documentation_url: Some("https://thegencc.org/faq.html"),
        hybrid: false,
        kind: "Clinical Validity",
    },
    SourceInfo {
        source: SourceName::Hpo,
        display_name: "HPO",
        description: "Human Phenotype Ontology - Kidney/urinary phenotypes and associated genes",
        url: Some("https://hpo.jax.org/"),
        documentation_url: Some("https://hpo.jax.org/data/annotations"),
        hybrid: false,
        kind: "Phenotype Ontology",
    },
    SourceInfo {
        source: SourceName::DiagnosticPanels,
        display_name: "Diagnostic Panels",
        description: "Commercial diagnostic kidney gene panels from multiple providers",
        url: None,
        documentation_url: None,
        hybrid: true,
        kind: "Diagnostic Labs",
    },
    SourceInfo {
        source: SourceName::Literature,
        display_name: "Literature",
        description: "Kidney disease genes from curated literature publications",
        url: None,
        documentation_url: None,
        hybrid: true,
        kind: "Curated Literature",
    },
];

/// Exact, case-sensitive lookup by `source_name`, as the original's config keys.
pub fn lookup(name: &str) -> Option<&'static SourceInfo> {
    let source = SourceName::parse(name)?;
    CATALOG.iter().find(|info| info.source == source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_once() {
        for source in SourceName::ALL {
            assert_eq!(
                CATALOG.iter().filter(|i| i.source == source).count(),
                1,
                "{source}"
            );
            assert_eq!(lookup(source.as_str()).map(|i| i.source), Some(source));
        }
    }

    #[test]
    fn lookup_is_exact() {
        assert!(lookup("panelapp").is_none());
        assert!(lookup("PanelApp ").is_none());
        assert!(lookup("").is_none());
        assert!(lookup("OMIM").is_none());
    }

    #[test]
    fn urls_are_https() {
        for info in CATALOG {
            for url in [info.url, info.documentation_url].into_iter().flatten() {
                assert!(url.starts_with("https://"), "{url}");
            }
        }
    }
}
