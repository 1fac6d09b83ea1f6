//! Query parameters of the statistics routes and the tier buckets they select.

use kgdb_core::vocab::{SourceName, VALID_TIERS};
use kgdb_web::ApiError;
use kgdb_web::http::Query;
use kgdb_web::jsonapi::clip;

/// Bucket of genes with a score of 0 (`gene_scores.evidence_tier`).
pub const NO_EVIDENCE: &str = "no_evidence";
/// Bucket of genes with evidence but no `gene_scores` row (migration 0003).
pub const UNSCORED: &str = "unscored";

/// `filter[hide_zero_scores]` and `filter[tier]`, shared by every statistics route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub hide_zero_scores: bool,
    /// Requested tiers, validated and de-duplicated; `None` when the filter is absent or empty.
    pub tiers: Option<Vec<&'static str>>,
}

impl Default for Filters {
    fn default() -> Self {
        Self {
            hide_zero_scores: true,
            tiers: None,
        }
    }
}

impl Filters {
    pub fn parse(query: &Query<'_>) -> Result<Self, ApiError> {
        Self::from_raw(
            query.last("filter[hide_zero_scores]"),
            query.last("filter[tier]"),
        )
    }

    pub fn from_raw(hide_zero: Option<&str>, tier: Option<&str>) -> Result<Self, ApiError> {
        let hide_zero_scores = match hide_zero {
            None => true,
            Some(raw) => parse_bool(raw, "filter[hide_zero_scores]")?,
        };
        let tiers = tier.map(parse_tiers).transpose()?.filter(|t| !t.is_empty());
        Ok(Self {
            hide_zero_scores,
            tiers,
        })
    }

    /// The tier buckets a request counts. A tier filter always joins `gene_scores`, so it
    /// selects exactly its tiers (each of which has a score > 0); without one, hiding zero
    /// scores keeps the five scored tiers, and not hiding them keeps every gene with evidence.
    pub fn buckets(&self) -> Vec<&'static str> {
        match &self.tiers {
            Some(tiers) => tiers.clone(),
            None if self.hide_zero_scores => VALID_TIERS.to_vec(),
            None => VALID_TIERS
                .iter()
                .copied()
                .chain([NO_EVIDENCE, UNSCORED])
                .collect(),
        }
    }

    /// Buckets for views built from `gene_scores` alone (genes without a score are not in it).
    pub fn scored_buckets(&self) -> Vec<&'static str> {
        self.buckets()
            .into_iter()
            .filter(|b| *b != UNSCORED)
            .collect()
    }
}

pub use kgdb_web::jsonapi::parse_bool;

/// Comma list of tiers; empty items are ignored, an unknown tier is a 422 (as the original).
pub fn parse_tiers(raw: &str) -> Result<Vec<&'static str>, ApiError> {
    let mut tiers: Vec<&'static str> = Vec::new();
    let mut invalid: Vec<String> = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match VALID_TIERS.iter().find(|t| **t == item) {
            Some(tier) if !tiers.contains(tier) => tiers.push(tier),
            Some(_) => {}
            None => invalid.push(clip(item)),
        }
    }
    if invalid.is_empty() {
        Ok(tiers)
    } else {
        Err(ApiError::unprocessable(format!(
            "filter[tier]: invalid tier(s): {}. Must be one of: {}",
            invalid.join(", "),
            VALID_TIERS.join(", ")
        )))
    }
}

/// `sources=A&sources=B`: exact source names; an unknown one is a 422. Empty means all.
pub fn parse_sources(values: &[&str]) -> Result<Vec<SourceName>, ApiError> {
    let mut sources = Vec::new();
    for raw in values {
        match SourceName::parse(raw) {
            Some(s) if !sources.contains(&s) => sources.push(s),
            Some(_) => {}
            None => {
                return Err(ApiError::unprocessable(format!(
                    "sources: unknown source {:?}. Must be among: {}",
                    clip(raw),
                    SourceName::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Ok(sources)
}

/// `detail=true|false` (default false).
pub fn parse_detail(raw: Option<&str>) -> Result<bool, ApiError> {
    raw.map(|r| parse_bool(r, "detail"))
        .transpose()
        .map(|d| d.unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::StatusCode;

    #[test]
    fn defaults_hide_zero_scores() {
        let f = Filters::from_raw(None, None).unwrap();
        assert_eq!(f, Filters::default());
        assert_eq!(f.buckets(), VALID_TIERS.to_vec());
    }

    #[test]
    fn showing_zero_scores_adds_unscored_buckets() {
        let f = Filters::from_raw(Some("false"), None).unwrap();
        let b = f.buckets();
        assert_eq!(b.len(), 7);
        assert!(b.contains(&NO_EVIDENCE) && b.contains(&UNSCORED));
        assert_eq!(f.scored_buckets().len(), 6);
        assert!(!f.scored_buckets().contains(&UNSCORED));
    }

    #[test]
    fn tier_filter_selects_exactly_its_tiers() {
        for hide in ["true", "false"] {
            let f = Filters::from_raw(
                Some(hide),
                Some(" comprehensive_support,,multi_source_support,comprehensive_support "),
            )
            .unwrap();
            assert_eq!(
                f.buckets(),
                vec!["comprehensive_support", "multi_source_support"]
            );
        }
    }

    #[test]
    fn empty_tier_filter_is_no_filter() {
        assert_eq!(Filters::from_raw(None, Some("")).unwrap().tiers, None);
        assert_eq!(Filters::from_raw(None, Some(" , ")).unwrap().tiers, None);
    }

    #[test]
    fn unknown_tier_is_422() {
        let e = Filters::from_raw(None, Some("comprehensive_support,bogus")).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.message.contains("bogus"));
        // no_evidence exists as a tier but is not filterable, as in the original
        let e = Filters::from_raw(None, Some("no_evidence")).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "1", "yes", "on", " True "] {
            assert!(parse_bool(t, "x").unwrap());
        }
        for f in ["false", "0", "no", "off", "False"] {
            assert!(!parse_bool(f, "x").unwrap());
        }
        for bad in ["", "maybe", "2", "truee"] {
            assert_eq!(
                parse_bool(bad, "x").unwrap_err().status,
                StatusCode::BAD_REQUEST
            );
        }
        assert_eq!(
            Filters::from_raw(Some("nope"), None).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn detail_flag() {
        assert!(!parse_detail(None).unwrap());
        assert!(parse_detail(Some("true")).unwrap());
        assert!(!parse_detail(Some("false")).unwrap());
        assert_eq!(
            parse_detail(Some("yes please")).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn sources() {
        assert_eq!(parse_sources(&[]).unwrap(), vec![]);
        assert_eq!(
            parse_sources(&["PanelApp", "ClinGen", "PanelApp"]).unwrap(),
            vec![SourceName::PanelApp, SourceName::ClinGen]
        );
        for bad in ["panelapp", "", "PanelApp,ClinGen", "OMIM"] {
            assert_eq!(
                parse_sources(&[bad]).unwrap_err().status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{bad:?}"
            );
        }
    }
}

/// Properties of the statistics filters over arbitrary query text.
#[cfg(test)]
mod prop_tests {
    use proptest::prelude::*;

    use super::*;

    fn raw_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[\\[\\]a-z_, \\x00-]{0,40}",
            prop::sample::select(VALID_TIERS.to_vec()).prop_map(|t| format!(" {t},,{t}")),
        ]
    }

    proptest! {
        #[test]
        fn filters_never_panic_and_errors_are_400_or_422(
            hide in proptest::option::of(raw_text()),
            tier in proptest::option::of(raw_text()),
            detail in proptest::option::of(raw_text()),
            sources in prop::collection::vec(raw_text(), 0..4),
        ) {
            let results = [
                Filters::from_raw(hide.as_deref(), tier.as_deref()).map(|_| ()),
                parse_detail(detail.as_deref()).map(|_| ()),
                parse_sources(&sources.iter().map(String::as_str).collect::<Vec<_>>()).map(|_| ()),
            ];
            for e in results.into_iter().filter_map(Result::err) {
                let status = e.status.as_u16();
                prop_assert!(status == 400 || status == 422, "{e}");
            }
        }

        #[test]
        fn valid_tiers_select_exactly_themselves(
            tiers in prop::collection::vec(prop::sample::select(VALID_TIERS.to_vec()), 1..8),
            hide in any::<bool>(),
        ) {
            let f = Filters::from_raw(Some(&hide.to_string()), Some(&tiers.join(" ,"))).unwrap();
            let mut expected: Vec<&str> = Vec::new();
            for t in &tiers {
                if !expected.contains(t) {
                    expected.push(t);
                }
            }
            prop_assert_eq!(f.buckets(), expected);
            prop_assert_eq!(f.hide_zero_scores, hide);
        }

        #[test]
        fn known_sources_are_accepted_once_each(
            picks in prop::collection::vec(prop::sample::select(SourceName::ALL.to_vec()), 0..10),
        ) {
            let names: Vec<&str> = picks.iter().map(|s| s.as_str()).collect();
            let parsed = parse_sources(&names).unwrap();
            let mut expected = Vec::new();
            for s in picks {
                if !expected.contains(&s) {
                    expected.push(s);
                }
            }
            prop_assert_eq!(parsed, expected);
        }
    }
}
