use kgdb_core::annotation::{ANNOTATION_SOURCES, is_annotation_source};
use serde::{Deserialize, Serialize};

/// The original's update strategies (docs/annotation-pipeline.md), plus `missing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Pairs never annotated or past their `next_update` (per row; the original counted rows
    /// per gene).
    Incremental,
    /// Every gene of every chosen source.
    Full,
    /// As full (the original's name for "ignore is_update_due").
    Forced,
    /// The named sources (without names: every active one), every gene (or the named genes).
    Selective,
    /// Pairs without a row only (the original's `update-missing`).
    Missing,
}

impl Strategy {
    pub const ALL: [Strategy; 5] = [
        Strategy::Incremental,
        Strategy::Full,
        Strategy::Forced,
        Strategy::Selective,
        Strategy::Missing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Incremental => "incremental",
            Strategy::Full => "full",
            Strategy::Forced => "forced",
            Strategy::Selective => "selective",
            Strategy::Missing => "missing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A request to start a run, from the schedule or the admin route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    pub strategy: Strategy,
    /// Empty: every active source.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Empty: every current gene.
    #[serde(default)]
    pub gene_ids: Vec<i64>,
    pub trigger: String,
}

/// Genes per queue message, per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkSize {
    /// The source streams one bulk file: all the run's genes in one message, so the file is
    /// read once per run.
    Bulk,
    /// Per-gene or batched API calls: this many genes per message, sized so a chunk ends well
    /// inside the worker's timeout at the source's rate limit.
    Genes(usize),
}

/// How each source is cut (the fetchers declare the same; a test holds them equal).
pub fn chunk_size(source: &str) -> ChunkSize {
    match source {
        "mpo_mgi" => ChunkSize::Genes(MPO_MGI_CHUNK),
        "uniprot" => ChunkSize::Genes(UNIPROT_CHUNK),
        _ => ChunkSize::Bulk,
    }
}

pub const MPO_MGI_CHUNK: usize = 50;
pub const UNIPROT_CHUNK: usize = 100;

/// Sources whose values depend on the other genes (STRING's `ppi_score` weighs every kidney
/// partner): when any gene is due, the run takes all of them.
pub fn needs_all_genes(source: &str) -> bool {
    source == "string_ppi"
}

/// hgnc runs alone first: it stores the Ensembl and NCBI ids the others join on.
pub fn phase_of(source: &str) -> i16 {
    if source == "hgnc" { 1 } else { 2 }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("strategy must be one of incremental, full, forced, selective, missing (got {0:?})")]
    Strategy(String),
    #[error("{0:?} is not an annotation source (one of {sources})", sources = ANNOTATION_SOURCES.join(", "))]
    Source(String),
    #[error("gene_ids must be positive integers (got {0:?})")]
    GeneId(String),
    #[error("at most {max} gene ids per run (got {got})")]
    TooManyGenes { max: usize, got: usize },
}

pub const MAX_GENE_IDS: usize = 10_000;

impl RunRequest {
    /// From the admin route's query (`strategy`, repeated or comma-separated `sources` and
    /// `gene_ids`), checked completely before anything is written.
    pub fn from_query(
        strategy: Option<&str>,
        sources: &[&str],
        gene_ids: &[&str],
        trigger: &str,
    ) -> Result<Self, RequestError> {
        let strategy = match strategy.map(str::trim) {
            None | Some("") => Strategy::Incremental,
            Some(s) => Strategy::parse(s).ok_or_else(|| RequestError::Strategy(s.to_string()))?,
        };
        let mut chosen: Vec<String> = Vec::new();
        for s in sources.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if s.is_empty() {
                continue;
            }
            if !is_annotation_source(s) {
                return Err(RequestError::Source(s.chars().take(100).collect()));
            }
            if !chosen.iter().any(|c| c == s) {
                chosen.push(s.to_string());
            }
        }
        let mut ids: Vec<i64> = Vec::new();
        for raw in gene_ids.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if raw.is_empty() {
                continue;
            }
            match raw.parse::<i64>() {
                Ok(id) if id > 0 => ids.push(id),
                _ => return Err(RequestError::GeneId(raw.chars().take(40).collect())),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > MAX_GENE_IDS {
            return Err(RequestError::TooManyGenes {
                max: MAX_GENE_IDS,
                got: ids.len(),
            });
        }
        Ok(Self {
            strategy,
            sources: chosen,
            gene_ids: ids,
            trigger: trigger.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked_before_anything_runs() {
        let r = RunRequest::from_query(None, &[], &[], "t").unwrap();
        assert_eq!(r.strategy, Strategy::Incremental);
        assert!(r.sources.is_empty() && r.gene_ids.is_empty());
        let r = RunRequest::from_query(
            Some("selective"),
            &["gnomad,hgnc", "gnomad"],
            &["3, 1", "3"],
            "t",
        )
        .unwrap();
        assert_eq!(r.sources, ["gnomad", "hgnc"]);
        assert_eq!(r.gene_ids, [1, 3]);
        assert_eq!(
            RunRequest::from_query(Some("everything"), &[], &[], "t"),
            Err(RequestError::Strategy("everything".into()))
        );
        assert!(RunRequest::from_query(None, &["STRING"], &[], "t").is_err());
        // Selective without names: every active source (the document allows it; not a 422).
        let r = RunRequest::from_query(Some("selective"), &[], &[], "t").unwrap();
        assert!(r.sources.is_empty());
        for bad in ["0", "-2", "x", "99999999999999999999"] {
            assert!(
                RunRequest::from_query(None, &[], &[bad], "t").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn hgnc_is_phase_one_and_bulk_sources_are_one_chunk() {
        assert_eq!(phase_of("hgnc"), 1);
        assert!(
            ANNOTATION_SOURCES
                .iter()
                .filter(|s| phase_of(s) == 1)
                .count()
                == 1
        );
        assert_eq!(chunk_size("clinvar"), ChunkSize::Bulk);
        assert!(matches!(chunk_size("uniprot"), ChunkSize::Genes(n) if n > 0));
    }
}
