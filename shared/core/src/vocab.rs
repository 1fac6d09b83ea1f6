//! The score's vocabulary: evidence sources (with what the API says about each), tiers and
//! groups.

use serde::{Serialize, Serializer};

/// How the statistics route draws a source's distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chart {
    /// `metadata.visualization_type` of `/api/statistics/source-distributions`.
    pub visualization: &'static str,
    /// The metadata field holding the largest category, for count histograms.
    pub max_field: Option<&'static str>,
}

/// What the API says about a source (`/api/datasources`, statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub source: SourceName,
    pub display_name: &'static str,
    pub description: &'static str,
    pub url: Option<&'static str>,
    pub documentation_url: Option<&'static str>,
    /// Filled by curator uploads rather than a fetcher: with no data it is `ready_for_upload`.
    pub hybrid: bool,
    /// The `metadata.type` label of `/api/datasources/`.
    pub kind: &'static str,
    /// Position in `/api/datasources/` (the original's order).
    pub listed: u8,
    pub chart: Chart,
}

/// The one table of evidence sources: each entry generates a `SourceName` variant, its place in
/// `SourceName::ALL` (ingest order) and its `SourceInfo`. Adding a source is one entry here.
macro_rules! sources {
    ($($variant:ident => $name:literal {
        display_name: $display:literal, kind: $kind:literal, listed: $listed:literal, hybrid: $hybrid:literal,
        description: $description:literal, url: $url:expr, documentation_url: $docs:expr,
        chart: ($visualization:literal, $max_field:expr) $(,)?
    })+) => {
        /// The scored evidence sources, by their `source_name`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum SourceName {
            $($variant,)+
        }

        impl SourceName {
            /// Every source, in ingest order.
            pub const ALL: &'static [SourceName] = &[$(SourceName::$variant,)+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(SourceName::$variant => $name,)+
                }
            }

            pub const fn info(self) -> SourceInfo {
                match self {
                    $(SourceName::$variant => SourceInfo {
                        source: SourceName::$variant,
                        display_name: $display,
                        description: $description,
                        url: $url,
                        documentation_url: $docs,
                        hybrid: $hybrid,
                        kind: $kind,
                        listed: $listed,
                        chart: Chart { visualization: $visualization, max_field: $max_field },
                    },)+
                }
            }
        }
    };
}

sources! {
    PanelApp => "PanelApp" {
        display_name: "PanelApp", kind: "Clinical Panels", listed: 1, hybrid: false,
        description: "Expert-curated gene panels from UK Genomics England and Australian Genomics",
        url: Some("https://panelapp.genomicsengland.co.uk/"),
        documentation_url: Some("https://panelapp.genomicsengland.co.uk/api/docs/"),
        chart: ("panel_histogram", Some("max_panels")),
    }
    ClinGen => "ClinGen" {
        display_name: "ClinGen", kind: "Expert Curation", listed: 3, hybrid: false,
        description: "Expert-curated gene-disease validity assessments from 5 kidney specialist panels",
        url: Some("https://clinicalgenome.org/"),
        documentation_url: Some("https://search.clinicalgenome.org/kb/gene-validity"),
        chart: ("classification_donut", None),
    }
    GenCC => "GenCC" {
        display_name: "GenCC", kind: "Clinical Validity", listed: 4, hybrid: false,
        description: "Harmonized gene-disease relationships from 40+ submitters worldwide",
        url: Some("https://thegencc.org/"),
        documentation_url: Some("https://thegencc.org/faq.html"),
        chart: ("classification_donut", None),
    }
    Hpo => "HPO" {
        display_name: "HPO", kind: "Phenotype Ontology", listed: 5, hybrid: false,
        description: "Human Phenotype Ontology - Kidney/urinary phenotypes and associated genes",
        url: Some("https://hpo.jax.org/"),
        documentation_url: Some("https://hpo.jax.org/data/annotations"),
        chart: ("hpo_term_histogram", None),
    }
    PubTator => "PubTator" {
        display_name: "PubTator3", kind: "Literature Mining", listed: 2, hybrid: false,
        description: "Automated literature mining for kidney disease genes from PubMed",
        url: Some("https://www.ncbi.nlm.nih.gov/research/pubtator3/"),
        documentation_url: Some("https://www.ncbi.nlm.nih.gov/research/pubtator3/api"),
        chart: ("publication_histogram", Some("max_publications")),
    }
    DiagnosticPanels => "DiagnosticPanels" {
        display_name: "Diagnostic Panels", kind: "Diagnostic Labs", listed: 6, hybrid: true,
        description: "Commercial diagnostic kidney gene panels from multiple providers",
        url: None, documentation_url: None,
        chart: ("provider_histogram", Some("max_providers")),
    }
    Literature => "Literature" {
        display_name: "Literature", kind: "Curated Literature", listed: 7, hybrid: true,
        description: "Kidney disease genes from curated literature publications",
        url: None, documentation_url: None,
        chart: ("publication_histogram", Some("max_publications")),
    }
}

impl SourceName {
    /// Exact, case-sensitive lookup (source names are identifiers in the API).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == name)
    }

    /// Every source's description, in the order `/api/datasources/` lists them.
    pub fn catalog() -> Vec<SourceInfo> {
        let mut infos: Vec<SourceInfo> = Self::ALL.iter().map(|s| s.info()).collect();
        infos.sort_by_key(|i| i.listed);
        infos
    }
}

impl Serialize for SourceName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for SourceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tiers accepted by `filter[tier]`, strongest first (`no_evidence` is not filterable).
pub const VALID_TIERS: [&str; 5] = [
    "comprehensive_support",
    "multi_source_support",
    "established_support",
    "preliminary_evidence",
    "minimal_evidence",
];

pub const VALID_GROUPS: [&str; 2] = ["well_supported", "emerging_evidence"];

pub fn is_valid_tier(tier: &str) -> bool {
    VALID_TIERS.contains(&tier)
}

pub fn is_valid_group(group: &str) -> bool {
    VALID_GROUPS.contains(&group)
}

/// Tier of a score, as the `gene_scores` view computes it (kept here for tests and docs).
pub fn tier_for(source_count: i64, percentage: f64) -> &'static str {
    if source_count >= 4 && percentage >= 50.0 {
        "comprehensive_support"
    } else if source_count >= 3 && percentage >= 35.0 {
        "multi_source_support"
    } else if source_count >= 2 && percentage >= 20.0 {
        "established_support"
    } else if percentage >= 10.0 {
        "preliminary_evidence"
    } else if percentage > 0.0 {
        "minimal_evidence"
    } else {
        "no_evidence"
    }
}

pub fn group_for(source_count: i64, percentage: f64) -> &'static str {
    if source_count >= 2 && percentage >= 20.0 {
        "well_supported"
    } else if percentage > 0.0 {
        "emerging_evidence"
    } else {
        "insufficient"
    }
}

/// The PubTator3 query that selects kidney-disease gene literature (the original's query; the
/// fetcher sends it and the data-source route reports it).
pub const PUBTATOR_SEARCH_QUERY: &str =
    r#"("kidney disease" OR "renal disease") AND (gene OR syndrome) AND (variant OR mutation)"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_exactly_and_the_catalog_lists_each_source_once() {
        for source in SourceName::ALL {
            assert_eq!(SourceName::parse(source.as_str()), Some(*source));
        }
        assert_eq!(SourceName::parse("panelapp"), None);
        assert_eq!(SourceName::parse("HPO "), None);
        let listed: Vec<u8> = SourceName::catalog().iter().map(|i| i.listed).collect();
        assert_eq!(
            listed,
            (1..=SourceName::ALL.len() as u8).collect::<Vec<_>>()
        );
        assert_eq!(serde_json::to_value(SourceName::Hpo).unwrap(), "HPO");
    }

    #[test]
    fn urls_are_https() {
        for info in SourceName::catalog() {
            for url in [info.url, info.documentation_url].into_iter().flatten() {
                assert!(url.starts_with("https://"), "{url}");
            }
        }
    }
}
