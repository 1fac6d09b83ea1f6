//! The score's vocabulary: evidence sources, tiers and groups.

use serde::Serialize;

/// The seven scored evidence sources, by their `source_name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SourceName {
    PanelApp,
    ClinGen,
    GenCC,
    #[serde(rename = "HPO")]
    Hpo,
    PubTator,
    DiagnosticPanels,
    Literature,
}

impl SourceName {
    pub const ALL: [SourceName; 7] = [
        SourceName::PanelApp,
        SourceName::ClinGen,
        SourceName::GenCC,
        SourceName::Hpo,
        SourceName::PubTator,
        SourceName::DiagnosticPanels,
        SourceName::Literature,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceName::PanelApp => "PanelApp",
            SourceName::ClinGen => "ClinGen",
            SourceName::GenCC => "GenCC",
            SourceName::Hpo => "HPO",
            SourceName::PubTator => "PubTator",
            SourceName::DiagnosticPanels => "DiagnosticPanels",
            SourceName::Literature => "Literature",
        }
    }

    /// Exact, case-sensitive lookup (source names are identifiers in the API).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
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
