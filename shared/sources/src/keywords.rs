//! The original's kidney keywords (`keywords.yaml`, docs/provider-formats.md), shared by the sources
//! that select kidney records by text: PanelApp searches each one, GenCC matches its disease
//! columns against them.

/// The original's `keywords.yaml` (docs/provider-formats.md), matched case-insensitively as
/// substrings (of GenCC's disease columns; PanelApp searches each). `tubul` was removed there on
/// purpose: it matches tubulinopathies.
pub const KIDNEY_KEYWORDS: [&str; 18] = [
    "kidney",
    "renal",
    "nephro",
    "glomerul",
    "tubulopathy",
    "tubulointerstitial",
    "polycystic",
    "alport",
    "nephritis",
    "cystic kidney",
    "ciliopathy",
    "complement",
    "cakut",
    "focal segmental",
    "steroid resistant",
    "nephrotic",
    "proteinuria",
    "hematuria",
];

/// Whether `text` names a kidney disease by the keywords.
pub fn is_kidney_text(text: &str) -> bool {
    let lower = text.to_lowercase();
    KIDNEY_KEYWORDS.iter().any(|k| lower.contains(k))
}
