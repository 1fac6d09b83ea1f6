//! The kidney-genetics v1 annotated table of its 603 high-evidence genes and the inputs it was
//! merged from → `gnomad` and `clinvar` (from `C_high_evidence_annotated_csv_table`), `gtex`
//! and `descartes` (`…_expression`), `mpo_mgi` (`…_mgi`) and `string_ppi` (`…_string`).
//!
//! Rows name genes by bare HGNC number; the gene symbol stored in each annotation is the
//! database's approved symbol. A value the row does not carry (`NULL`, `NA`) is no annotation
//! for that source (counted in `without_value`); a value that does not parse fails that
//! gene × source.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use kgdb_core::normalize_hgnc_id;
use serde::Deserialize;
use serde_json::Value;

use super::model::{
    ClinvarAnnotation, DescartesAnnotation, GnomadAnnotation, GtexAnnotation,
    KidneyGeneticsStringScores, MpoMgiAnnotation, StringInteraction, StringPpiAnnotation,
    StringSummary, TissueExpression, ZygosityAnalysis, ZygosityPhenotypes,
};
use super::{
    AnnotationBatch, AnnotationReadError, for_each_row, number, present, snapshot_metadata,
};

/// `annotations.version` of every row from this snapshot.
pub const VERSION: &str = "kg-v1-2024-05-14";
const SNAPSHOT_DATE: &str = "2024-05-14T00:00:00";
const DIR: &str = "kidney-genetics-v1-2024-05-14";

/// The four files, by stem, and the sources each one feeds.
pub const FILES: &[(&str, &[&str])] = &[
    (
        "C_high_evidence_annotated_csv_table",
        &["gnomad", "clinvar"],
    ),
    (
        "merge_analyses_sources_high_evidence_expression",
        &["gtex", "descartes"],
    ),
    ("merge_analyses_sources_high_evidence_mgi", &["mpo_mgi"]),
    (
        "merge_analyses_sources_high_evidence_string",
        &["string_ppi"],
    ),
];

fn file_name(stem: &str) -> String {
    format!("{stem}.2024-05-14.csv.gz")
}

/// The path of a file of [`FILES`] under the snapshot root.
pub fn path(root: &Path, stem: &str) -> PathBuf {
    root.join(DIR).join(file_name(stem))
}

#[derive(Debug, Deserialize)]
pub struct ConstraintRow {
    pub hgnc_id: String,
    #[serde(rename = "pLI")]
    pub pli: String,
    pub oe_lof: String,
    pub lof_z: String,
    pub mis_z: String,
    pub clinvar: String,
}

#[derive(Debug, Deserialize)]
pub struct ExpressionRow {
    pub hgnc_id: String,
    pub gtex_kidney_medulla: String,
    pub gtex_kidney_cortex: String,
    pub descartes_kidney_tpm: String,
}

#[derive(Debug, Deserialize)]
pub struct MgiRow {
    pub hgnc_id: String,
    pub mgi_phenotype: String,
}

#[derive(Debug, Deserialize)]
pub struct StringRow {
    pub hgnc_id: String,
    pub interaction_score: String,
    pub stringdb_interaction_sum_score: String,
    pub stringdb_interaction_normalized_score: String,
    pub stringdb_interaction_string: String,
}

/// `gnomad`, or `None` when the row has no constraint value at all.
pub fn gnomad(row: &ConstraintRow, symbol: &str) -> Result<Option<GnomadAnnotation>, String> {
    let values = [
        number(&row.pli, "pLI")?,
        number(&row.oe_lof, "oe_lof")?,
        number(&row.lof_z, "lof_z")?,
        number(&row.mis_z, "mis_z")?,
    ];
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    if let Some(pli) = values[0].filter(|p| !(0.0..=1.0).contains(p)) {
        return Err(format!("pLI is a probability, not {pli}"));
    }
    Ok(Some(GnomadAnnotation {
        gene_symbol: symbol.to_string(),
        pli: values[0],
        oe_lof: values[1],
        lof_z: values[2],
        mis_z: values[3],
        flags: None,
        canonical_transcript: None,
        source_version: "kidney-genetics v1 (2024-05-14)".into(),
    }))
}

/// `clinvar` from `P:737; LP:305; VUS:1182`.
pub fn clinvar(raw: &str, symbol: &str) -> Result<Option<ClinvarAnnotation>, String> {
    let Some(raw) = present(raw) else {
        return Ok(None);
    };
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for part in raw.split(';').map(str::trim) {
        let (label, count) = part
            .split_once(':')
            .ok_or_else(|| format!("clinvar item is not LABEL:count: {part:?}"))?;
        let count = count
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("clinvar count is not a number: {part:?}"))?;
        match label.trim() {
            label @ ("P" | "LP" | "VUS") => {
                if counts.insert(label, count).is_some() {
                    return Err(format!("clinvar label {label} appears twice"));
                }
            }
            other => return Err(format!("unknown clinvar label {other:?}")),
        }
    }
    let get = |label: &str| {
        counts
            .get(label)
            .copied()
            .ok_or_else(|| format!("clinvar lacks {label}: {raw:?}"))
    };
    let (p, lp, vus) = (get("P")?, get("LP")?, get("VUS")?);
    Ok(Some(ClinvarAnnotation {
        gene_symbol: symbol.to_string(),
        total_count: None,
        pathogenic_count: p,
        likely_pathogenic_count: lp,
        vus_count: vus,
        benign_count: None,
        likely_benign_count: None,
        conflicting_count: None,
        not_provided_count: None,
        high_confidence_count: None,
        has_pathogenic: p + lp > 0,
    }))
}

fn tpm(value: Option<f64>, column: &str) -> Result<Option<f64>, String> {
    match value {
        Some(v) if v < 0.0 => Err(format!("{column} is negative: {v}")),
        other => Ok(other),
    }
}

/// `gtex` (kidney cortex and medulla), or `None` when the row has neither.
pub fn gtex(row: &ExpressionRow, symbol: &str) -> Result<Option<GtexAnnotation>, String> {
    let mut tissues = BTreeMap::new();
    for (tissue, raw, column) in [
        (
            "Kidney_Cortex",
            &row.gtex_kidney_cortex,
            "gtex_kidney_cortex",
        ),
        (
            "Kidney_Medulla",
            &row.gtex_kidney_medulla,
            "gtex_kidney_medulla",
        ),
    ] {
        if let Some(median_tpm) = tpm(number(raw, column)?, column)? {
            tissues.insert(
                tissue,
                TissueExpression {
                    median_tpm,
                    unit: "TPM",
                },
            );
        }
    }
    Ok((!tissues.is_empty()).then(|| GtexAnnotation {
        gene_symbol: symbol.to_string(),
        tissues,
        gencode_id: None,
        dataset_version: "gtex_v8",
    }))
}

pub fn descartes(row: &ExpressionRow, symbol: &str) -> Result<Option<DescartesAnnotation>, String> {
    let column = "descartes_kidney_tpm";
    Ok(
        tpm(number(&row.descartes_kidney_tpm, column)?, column)?.map(|kidney_tpm| {
            DescartesAnnotation {
                gene_symbol: symbol.to_string(),
                kidney_tpm,
                kidney_percentage: None,
                cell_type: "kidney",
                dataset_version: "human_gtex",
            }
        }),
    )
}

fn zygosity(raw: &str, code: &str) -> Result<Option<bool>, String> {
    let inner = raw
        .trim()
        .strip_prefix(code)
        .map(str::trim)
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("mgi_phenotype item is not {code} (…): {raw:?}"))?;
    match inner {
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        "NA" => Ok(None),
        other => Err(format!(
            "mgi_phenotype value is not true/false/NA: {other:?}"
        )),
    }
}

/// `mpo_mgi` from `hm (true); ht (false)`, or `None` when both are `NA` (no mouse data).
pub fn mpo_mgi(raw: &str, symbol: &str) -> Result<Option<MpoMgiAnnotation>, String> {
    let Some(raw) = present(raw) else {
        return Ok(None);
    };
    let (hm, ht) = raw
        .split_once(';')
        .ok_or_else(|| format!("mgi_phenotype is not \"hm (…); ht (…)\": {raw:?}"))?;
    let (hm, ht) = (zygosity(hm, "hm")?, zygosity(ht, "ht")?);
    if hm.is_none() && ht.is_none() {
        return Ok(None);
    }
    let phenotypes = |has: Option<bool>| ZygosityPhenotypes {
        has_kidney_phenotype: has,
        phenotype_count: None,
        phenotypes: None,
    };
    Ok(Some(MpoMgiAnnotation {
        gene_symbol: symbol.to_string(),
        has_kidney_phenotype: Some(hm == Some(true) || ht == Some(true)),
        mouse_orthologs: None,
        phenotypes: None,
        phenotype_count: None,
        mpo_terms_searched: None,
        zygosity_analysis: ZygosityAnalysis {
            homozygous: phenotypes(hm),
            heterozygous: phenotypes(ht),
            conditional: None,
            summary: raw.to_string(),
        },
    }))
}

/// Most interactions kept per gene, as the original.
const MAX_INTERACTIONS: usize = 30;
/// A STRING score above this is a strong interaction (the original's threshold).
const STRONG_SCORE: u32 = 800;

/// `string_ppi` from `9606.ENSP00000219476:795, …`, or `None` when the gene has none.
pub fn string_ppi(row: &StringRow) -> Result<Option<StringPpiAnnotation>, String> {
    let Some(raw) = present(&row.stringdb_interaction_string) else {
        return Ok(None);
    };
    let mut best: HashMap<&str, u32> = HashMap::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (partner, score) = item
            .rsplit_once(':')
            .ok_or_else(|| format!("interaction is not PROTEIN:score: {item:?}"))?;
        let score = score
            .parse::<u32>()
            .ok()
            .filter(|s| *s <= 1000)
            .ok_or_else(|| format!("STRING score is not 0-1000: {item:?}"))?;
        if !partner.starts_with("9606.") {
            return Err(format!(
                "partner is not a human STRING protein: {partner:?}"
            ));
        }
        // A partner listed twice keeps its higher score (a set of partners, not a sum).
        let slot = best.entry(partner).or_insert(score);
        *slot = (*slot).max(score);
    }
    let mut interactions: Vec<StringInteraction> = best
        .into_iter()
        .map(|(partner, score)| StringInteraction {
            partner_symbol: None,
            partner_string_id: partner.to_string(),
            string_score: score,
            partner_evidence: None,
            weighted_score: None,
        })
        .collect();
    interactions.sort_by(|a, b| {
        b.string_score
            .cmp(&a.string_score)
            .then_with(|| a.partner_string_id.cmp(&b.partner_string_id))
    });
    let degree = interactions.len();
    let raw_sum: u64 = interactions.iter().map(|i| u64::from(i.string_score)).sum();
    let summary = StringSummary {
        total_interactions: degree,
        raw_sum,
        weighted_sum: None,
        avg_string_score: ((raw_sum as f64 / degree.max(1) as f64) * 100.0).round() / 100.0,
        strong_interactions: interactions
            .iter()
            .filter(|i| i.string_score > STRONG_SCORE)
            .count(),
    };
    interactions.truncate(MAX_INTERACTIONS);
    Ok(Some(StringPpiAnnotation {
        ppi_score: None,
        ppi_degree: degree,
        ppi_percentile: None,
        interactions,
        summary,
        kidney_genetics_scores: KidneyGeneticsStringScores {
            interaction_score: number(&row.interaction_score, "interaction_score")?,
            sum_score: number(
                &row.stringdb_interaction_sum_score,
                "stringdb_interaction_sum_score",
            )?,
            normalized_score: number(
                &row.stringdb_interaction_normalized_score,
                "stringdb_interaction_normalized_score",
            )?,
        },
    }))
}

/// Reads one file of [`FILES`] for the database's genes (`(hgnc_id, approved_symbol)`).
pub fn read(
    root: &Path,
    stem: &str,
    genes: &[(String, String)],
) -> Result<AnnotationBatch, AnnotationReadError> {
    let sources = FILES
        .iter()
        .find(|(s, _)| *s == stem)
        .map(|(_, sources)| *sources)
        .ok_or_else(|| AnnotationReadError {
            path: stem.to_string(),
            message: "not a file of the annotated table".into(),
        })?;
    let symbols: HashMap<&str, &str> = genes
        .iter()
        .map(|(h, s)| (h.as_str(), s.as_str()))
        .collect();
    let metadata = snapshot_metadata(&format!("{DIR}/{}", file_name(stem)), Some(SNAPSHOT_DATE));
    let path = path(root, stem);
    let mut batch = AnnotationBatch::default();
    let mut bad_rows: Vec<(u64, String)> = Vec::new();
    let bad = |line, message| bad_rows.push((line, message));
    match stem {
        "C_high_evidence_annotated_csv_table" => for_each_row::<ConstraintRow>(
            &path,
            b',',
            |row| {
                with_gene(
                    &mut batch,
                    &symbols,
                    &row.hgnc_id,
                    sources,
                    |batch, hgnc_id, symbol| {
                        store(batch, "gnomad", hgnc_id, gnomad(&row, symbol), &metadata);
                        store(
                            batch,
                            "clinvar",
                            hgnc_id,
                            clinvar(&row.clinvar, symbol),
                            &metadata,
                        );
                    },
                )
            },
            bad,
        )?,
        "merge_analyses_sources_high_evidence_expression" => for_each_row::<ExpressionRow>(
            &path,
            b',',
            |row| {
                with_gene(
                    &mut batch,
                    &symbols,
                    &row.hgnc_id,
                    sources,
                    |batch, hgnc_id, symbol| {
                        store(batch, "gtex", hgnc_id, gtex(&row, symbol), &metadata);
                        store(
                            batch,
                            "descartes",
                            hgnc_id,
                            descartes(&row, symbol),
                            &metadata,
                        );
                    },
                )
            },
            bad,
        )?,
        "merge_analyses_sources_high_evidence_mgi" => for_each_row::<MgiRow>(
            &path,
            b',',
            |row| {
                with_gene(
                    &mut batch,
                    &symbols,
                    &row.hgnc_id,
                    sources,
                    |batch, hgnc_id, symbol| {
                        store(
                            batch,
                            "mpo_mgi",
                            hgnc_id,
                            mpo_mgi(&row.mgi_phenotype, symbol),
                            &metadata,
                        );
                    },
                )
            },
            bad,
        )?,
        _ => for_each_row::<StringRow>(
            &path,
            b',',
            |row| {
                with_gene(
                    &mut batch,
                    &symbols,
                    &row.hgnc_id,
                    sources,
                    |batch, hgnc_id, _| {
                        store(batch, "string_ppi", hgnc_id, string_ppi(&row), &metadata);
                    },
                )
            },
            bad,
        )?,
    }
    for (line, message) in bad_rows {
        for source in sources {
            batch.fail(source, &format!("line {line}"), message.clone());
        }
    }
    Ok(batch)
}

/// Runs `each` for a row of a database gene; a row without a valid HGNC id fails the file's
/// sources for that row, a row of another gene is counted and skipped.
fn with_gene(
    batch: &mut AnnotationBatch,
    symbols: &HashMap<&str, &str>,
    raw_hgnc_id: &str,
    sources: &[&'static str],
    each: impl FnOnce(&mut AnnotationBatch, &str, &str),
) {
    let Some(hgnc_id) = normalize_hgnc_id(raw_hgnc_id) else {
        for source in sources {
            batch.fail(
                source,
                raw_hgnc_id,
                format!("not an HGNC id: {raw_hgnc_id:?}"),
            );
        }
        return;
    };
    match symbols.get(hgnc_id.as_str()) {
        Some(symbol) => each(batch, &hgnc_id, symbol),
        None => batch.other_genes += 1,
    }
}

fn store<T: serde::Serialize>(
    batch: &mut AnnotationBatch,
    source: &'static str,
    hgnc_id: &str,
    model: Result<Option<T>, String>,
    metadata: &Value,
) {
    match model {
        Ok(Some(model)) => batch.push(source, hgnc_id, VERSION, &model, metadata),
        Ok(None) => batch.no_value(source),
        Err(message) => batch.fail(source, hgnc_id, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constraint(pli: &str, clinvar: &str) -> ConstraintRow {
        ConstraintRow {
            hgnc_id: "9008".into(),
            pli: pli.into(),
            oe_lof: "0.12051".into(),
            lof_z: "9.9605".into(),
            mis_z: "-4.3234".into(),
            clinvar: clinvar.into(),
        }
    }

    #[test]
    fn gnomad_keeps_the_lower_case_pli_key() {
        let g = gnomad(&constraint("1", ""), "PKD1").unwrap().unwrap();
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["pli"], 1.0);
        assert_eq!(json["oe_lof"], 0.12051);
        assert!(json.get("pLI").is_none());
        let none = ConstraintRow {
            hgnc_id: "1".into(),
            pli: "NULL".into(),
            oe_lof: "NULL".into(),
            lof_z: "NULL".into(),
            mis_z: "NULL".into(),
            clinvar: "".into(),
        };
        assert_eq!(gnomad(&none, "X").unwrap(), None);
        assert!(gnomad(&constraint("1.5", ""), "PKD1").is_err());
        assert!(
            gnomad(&constraint("high", ""), "PKD1")
                .unwrap_err()
                .contains("pLI")
        );
    }

    #[test]
    fn clinvar_counts() {
        let c = clinvar("P:737; LP:305; VUS:1182", "PKD1").unwrap().unwrap();
        assert_eq!(
            (
                c.pathogenic_count,
                c.likely_pathogenic_count,
                c.vus_count,
                c.has_pathogenic
            ),
            (737, 305, 1182, true)
        );
        assert!(
            !clinvar("P:0; LP:0; VUS:3", "X")
                .unwrap()
                .unwrap()
                .has_pathogenic
        );
        assert_eq!(clinvar("NULL", "X").unwrap(), None);
        for bad in [
            "P:1; LP:x; VUS:1",
            "P:1; VUS:2",
            "P:1; LP:1; VUS:1; B:3",
            "P1",
        ] {
            assert!(clinvar(bad, "X").is_err(), "{bad}");
        }
    }

    #[test]
    fn expression_mouse_and_string() {
        let row = ExpressionRow {
            hgnc_id: "9008".into(),
            gtex_kidney_medulla: "12.0618".into(),
            gtex_kidney_cortex: "NULL".into(),
            descartes_kidney_tpm: "85.3475340076503".into(),
        };
        let g = gtex(&row, "PKD1").unwrap().unwrap();
        assert_eq!(g.tissues.len(), 1);
        assert_eq!(g.tissues["Kidney_Medulla"].median_tpm, 12.0618);
        assert_eq!(
            descartes(&row, "PKD1").unwrap().unwrap().kidney_tpm,
            85.3475340076503
        );

        let m = mpo_mgi("hm (true); ht (false)", "PKD1").unwrap().unwrap();
        assert_eq!(m.has_kidney_phenotype, Some(true));
        assert_eq!(
            m.zygosity_analysis.heterozygous.has_kidney_phenotype,
            Some(false)
        );
        assert_eq!(mpo_mgi("hm (NA); ht (NA)", "X").unwrap(), None);
        assert!(mpo_mgi("hm (maybe); ht (NA)", "X").is_err());

        let s = string_ppi(&StringRow {
            hgnc_id: "9008".into(),
            interaction_score: "0.5".into(),
            stringdb_interaction_sum_score: "1794".into(),
            stringdb_interaction_normalized_score: "0.7".into(),
            stringdb_interaction_string: "9606.ENSP1:795, 9606.ENSP2:999".into(),
        })
        .unwrap()
        .unwrap();
        assert_eq!(s.ppi_degree, 2);
        assert_eq!(s.interactions[0].string_score, 999);
        assert_eq!(s.summary.raw_sum, 1794);
        assert_eq!(s.summary.strong_interactions, 1);
        assert_eq!(s.summary.avg_string_score, 897.0);
    }
}
