//! The seam every evidence source plugs into: a [`Source`] normalizes raw items into typed
//! per-gene evidence, a [`Fetcher`] plans a run as chunks and fetches one chunk at a time, a
//! [`Sink`] stages each chunk of a run and swaps the run in atomically when it completes.
//!
//! A run may span any number of chunks (and, deployed, any number of queue messages): each
//! chunk is staged under its key, so a redelivered chunk replaces its own staged rows instead
//! of adding to them; a gene reported by several chunks is joined with [`EvidenceModel::merge`]
//! when the run completes. Replace semantics belong to the run, not to a batch: completing a
//! `Replace` run removes the source's rows for genes the run did not produce.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt::Debug;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::record::{EvidenceRecord, sorted_unique};
use crate::vocab::SourceName;

/// A source's typed `evidence_data`.
pub trait EvidenceModel: Serialize + DeserializeOwned + Send + Sync + Sized {
    /// Joins another partial record of the same gene (from another chunk, or the stored row of
    /// a merge run). Must be a union: commutative and idempotent, so chunk order and redelivered
    /// chunks never change the result. Derived keys (counts) are recomputed.
    fn merge(&mut self, other: Self);
    /// One line for humans, stored as `source_detail`.
    fn summary(&self) -> String;
}

/// The gene a piece of evidence is about, as the source reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneRef {
    /// `HGNC:<n>`.
    pub hgnc_id: String,
    pub approved_symbol: String,
    /// Symbols as the source wrote them; those differing from the approved one become aliases.
    pub reported_symbols: Vec<String>,
}

/// One gene's typed evidence from one source.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneEvidence<E> {
    pub gene: GeneRef,
    pub evidence: E,
    pub evidence_date: Option<NaiveDate>,
}

impl<E: EvidenceModel> GeneEvidence<E> {
    /// Renders the typed evidence to the record the store writes.
    pub fn into_record(self) -> Result<EvidenceRecord, SourceError> {
        Ok(EvidenceRecord {
            source_detail: self.evidence.summary(),
            evidence_data: serde_json::to_value(&self.evidence).map_err(|e| {
                SourceError::Malformed {
                    source_name: None,
                    message: format!("cannot render evidence of {}: {e}", self.gene.hgnc_id),
                }
            })?,
            hgnc_id: self.gene.hgnc_id,
            approved_symbol: self.gene.approved_symbol,
            reported_symbols: self.gene.reported_symbols,
            evidence_date: self.evidence_date,
        })
    }
}

/// Joins per-item evidence into one record per gene (by HGNC id, in id order): the usual body
/// of a normalizer, which maps each raw item to a [`GeneEvidence`] and lets the model merge.
/// The latest item's symbol wins; reported symbols are unioned; the date is the latest.
pub fn join_by_gene<E: EvidenceModel>(
    items: impl IntoIterator<Item = GeneEvidence<E>>,
) -> Vec<GeneEvidence<E>> {
    let mut by_gene: BTreeMap<String, GeneEvidence<E>> = BTreeMap::new();
    for item in items {
        match by_gene.entry(item.gene.hgnc_id.clone()) {
            Entry::Vacant(slot) => {
                slot.insert(item);
            }
            Entry::Occupied(mut slot) => {
                let joined = slot.get_mut();
                joined.evidence.merge(item.evidence);
                let reported = std::mem::take(&mut joined.gene.reported_symbols);
                joined.gene.reported_symbols =
                    sorted_unique(reported.into_iter().chain(item.gene.reported_symbols));
                joined.gene.approved_symbol = item.gene.approved_symbol;
                joined.evidence_date = joined.evidence_date.max(item.evidence_date);
            }
        }
    }
    by_gene.into_values().collect()
}

/// An evidence source: its name, how its runs are cut, what it reads, and a pure normalizer.
pub trait Source: Send + Sync {
    /// One unit of work of a run (a region, a page range, an uploaded file). It travels in queue
    /// messages, and its JSON is the chunk's key in the staging area.
    type Chunk: Serialize + DeserializeOwned + Clone + Debug + Send + Sync;
    /// One item as a fetcher delivers it (a panel's gene, a validity row, a lab file's gene).
    type Raw: Send;
    type Evidence: EvidenceModel;

    fn name(&self) -> SourceName;

    /// Raw items of one chunk -> one typed record per gene. No I/O, so offline and live data
    /// go through the same code. Items for other genes or without an HGNC id are dropped here.
    fn normalize(
        &self,
        raw: Vec<Self::Raw>,
    ) -> Result<Vec<GeneEvidence<Self::Evidence>>, SourceError>;
}

/// Where a source's raw items come from: the bundled snapshot, a live API, an upload.
pub trait Fetcher<S: Source>: Send + Sync {
    /// The chunks of a new run.
    fn plan(&self) -> BoxFuture<'_, Result<Vec<S::Chunk>, SourceError>>;
    /// The raw items of one chunk. Only this chunk is held in memory.
    fn fetch<'a>(&'a self, chunk: &'a S::Chunk) -> BoxFuture<'a, Result<Vec<S::Raw>, SourceError>>;
}

/// How a completed run meets the source's stored rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// The run is the source's complete current state: rows of genes it did not produce go.
    Replace,
    /// The run adds to the stored state: each gene's stored row is merged with the run's.
    Merge,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Replace => "replace",
            RunMode::Merge => "merge",
        }
    }
}

/// Identifies a run in the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct RunId(pub i64);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "run {}", self.0)
    }
}

/// What a run is, recorded when it starts.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub source: SourceName,
    pub mode: RunMode,
    /// Chunks the plan produced; the run completes only when each has been written.
    pub chunks_planned: usize,
    /// Who started it: `snapshot`, `schedule`, `upload:<id>`, ...
    pub trigger: String,
}

/// A chunk as staged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChunkReport {
    pub records: usize,
    /// Distinct chunks of the run written so far (a rewritten chunk counts once).
    pub chunks_written: usize,
    pub chunks_planned: usize,
}

impl ChunkReport {
    pub fn run_is_complete(&self) -> bool {
        self.chunks_written >= self.chunks_planned
    }
}

/// What completing a run changed in the stored evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RunReport {
    pub source: String,
    pub run_id: i64,
    pub mode: String,
    pub chunks: usize,
    pub records: usize,
    pub genes_created: u64,
    pub evidence_inserted: u64,
    pub evidence_updated: u64,
    pub evidence_unchanged: u64,
    pub evidence_removed: u64,
}

/// Joins the staged parts of one gene (and, in a merge run, its stored row) into one record.
/// The sink calls it at completion; [`TypedMerge`] implements it for any source.
pub trait MergeParts: Send + Sync {
    fn merge(&self, parts: Vec<EvidenceRecord>) -> Result<EvidenceRecord, SourceError>;
}

/// Stores runs: stage chunks, then swap the run in atomically.
pub trait Sink: Send + Sync {
    fn start_run<'a>(&'a self, spec: &'a RunSpec) -> BoxFuture<'a, Result<RunId, SinkError>>;
    /// Stages one chunk's records, replacing whatever that chunk staged before (redelivery).
    fn write_chunk<'a>(
        &'a self,
        run: RunId,
        chunk_key: &'a str,
        records: &'a [EvidenceRecord],
    ) -> BoxFuture<'a, Result<ChunkReport, SinkError>>;
    /// Swaps the run's records in, in one transaction: genes upserted, evidence upserted
    /// (unchanged rows untouched), and in `Replace` mode the source's other rows removed.
    /// Completing a completed run returns its report again and changes nothing. A run with
    /// unwritten chunks or no records at all is refused; the stored evidence stays as it was.
    fn complete<'a>(
        &'a self,
        run: RunId,
        merge: &'a dyn MergeParts,
    ) -> BoxFuture<'a, Result<RunReport, SinkError>>;
    /// Marks a run failed; its staged rows are dropped and the stored evidence stays.
    fn fail<'a>(&'a self, run: RunId, error: &'a str) -> BoxFuture<'a, Result<(), SinkError>>;
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{}cannot read {path}: {message}", prefix(.source_name))]
    Read {
        source_name: Option<SourceName>,
        path: String,
        message: String,
    },
    #[error("{}malformed input: {message}", prefix(.source_name))]
    Malformed {
        source_name: Option<SourceName>,
        message: String,
    },
    #[error("{}fetch failed: {message}", prefix(.source_name))]
    Fetch {
        source_name: Option<SourceName>,
        message: String,
    },
}

fn prefix(source: &Option<SourceName>) -> String {
    source.map(|s| format!("{s}: ")).unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{0}: no records at all; the last good data stays")]
    EmptyRun(RunId),
    #[error("{run}: {written} of {planned} chunks written; it cannot complete yet")]
    Incomplete {
        run: RunId,
        written: usize,
        planned: usize,
    },
    #[error("{0} is unknown")]
    UnknownRun(RunId),
    #[error("{run} already {status}")]
    Closed { run: RunId, status: String },
    #[error("invalid record for {hgnc_id}: {reason}")]
    Invalid { hgnc_id: String, reason: String },
    #[error(transparent)]
    Merge(#[from] SourceError),
    #[error("storage: {0}")]
    Storage(String),
}

/// [`MergeParts`] for a source's typed model: parses each part, folds with
/// [`EvidenceModel::merge`], renders again.
pub struct TypedMerge<E>(std::marker::PhantomData<fn() -> E>);

impl<E> TypedMerge<E> {
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<E> Default for TypedMerge<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: EvidenceModel> MergeParts for TypedMerge<E> {
    fn merge(&self, parts: Vec<EvidenceRecord>) -> Result<EvidenceRecord, SourceError> {
        let mut parts = parts.into_iter();
        let Some(mut acc) = parts.next() else {
            return Err(SourceError::Malformed {
                source_name: None,
                message: "nothing to merge".into(),
            });
        };
        if parts.len() == 0 {
            return Ok(acc);
        }
        let parse = |value: Value, hgnc_id: &str| {
            serde_json::from_value::<E>(value).map_err(|e| SourceError::Malformed {
                source_name: None,
                message: format!("stored evidence of {hgnc_id} does not parse: {e}"),
            })
        };
        let mut model = parse(std::mem::take(&mut acc.evidence_data), &acc.hgnc_id)?;
        for part in parts {
            model.merge(parse(part.evidence_data, &part.hgnc_id)?);
            acc.reported_symbols.extend(part.reported_symbols);
            acc.evidence_date = acc.evidence_date.max(part.evidence_date);
            // The latest part's symbol wins (a rename reaches the gene).
            acc.approved_symbol = part.approved_symbol;
        }
        acc.reported_symbols = sorted_unique(std::mem::take(&mut acc.reported_symbols));
        acc.source_detail = model.summary();
        acc.evidence_data = serde_json::to_value(&model).map_err(|e| SourceError::Malformed {
            source_name: None,
            message: format!("cannot render merged evidence of {}: {e}", acc.hgnc_id),
        })?;
        Ok(acc)
    }
}

/// [`MergeParts`] that keeps the latest part whole: for writers of finished records (tests,
/// corrections) where a gene's new record replaces its stored one.
pub struct LatestWins;

impl MergeParts for LatestWins {
    fn merge(&self, parts: Vec<EvidenceRecord>) -> Result<EvidenceRecord, SourceError> {
        parts
            .into_iter()
            .last()
            .ok_or_else(|| SourceError::Malformed {
                source_name: None,
                message: "nothing to merge".into(),
            })
    }
}

/// The staging key of a chunk: its JSON.
pub fn chunk_key<C: Serialize>(chunk: &C) -> String {
    serde_json::to_string(chunk).unwrap_or_else(|_| "\"unserializable chunk\"".into())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
    struct Pmids {
        pmids: BTreeSet<String>,
        count: usize,
    }

    impl EvidenceModel for Pmids {
        fn merge(&mut self, other: Self) {
            self.pmids.extend(other.pmids);
            self.count = self.pmids.len();
        }
        fn summary(&self) -> String {
            format!("{} publications", self.count)
        }
    }

    fn part(pmids: &[&str], reported: &str) -> EvidenceRecord {
        let model = Pmids {
            pmids: pmids.iter().map(|p| p.to_string()).collect(),
            count: pmids.len(),
        };
        GeneEvidence {
            gene: GeneRef {
                hgnc_id: "HGNC:1".into(),
                approved_symbol: "A".into(),
                reported_symbols: vec![reported.into()],
            },
            evidence: model,
            evidence_date: None,
        }
        .into_record()
        .unwrap()
    }

    #[test]
    fn merge_is_a_union_whatever_the_order_or_repetition() {
        let merge = TypedMerge::<Pmids>::new();
        let ab = merge
            .merge(vec![part(&["1", "2"], "x"), part(&["2", "3"], "y")])
            .unwrap();
        let ba_again = merge
            .merge(vec![
                part(&["2", "3"], "y"),
                part(&["1", "2"], "x"),
                part(&["2", "3"], "y"),
            ])
            .unwrap();
        assert_eq!(ab, ba_again);
        assert_eq!(ab.evidence_data["count"], 3);
        assert_eq!(ab.source_detail, "3 publications");
        assert_eq!(ab.reported_symbols, vec!["x", "y"]);
    }

    #[test]
    fn join_by_gene_merges_items_of_one_gene_and_keeps_genes_apart() {
        let item = |hgnc: &str, pmid: &str, reported: &str| GeneEvidence {
            gene: GeneRef {
                hgnc_id: hgnc.into(),
                approved_symbol: "A".into(),
                reported_symbols: vec![reported.into()],
            },
            evidence: Pmids {
                pmids: BTreeSet::from([pmid.to_string()]),
                count: 1,
            },
            evidence_date: None,
        };
        let joined = join_by_gene([
            item("HGNC:2", "9", "b"),
            item("HGNC:1", "1", "x"),
            item("HGNC:1", "2", "y"),
            item("HGNC:1", "1", "x"),
        ]);
        assert_eq!(joined.len(), 2);
        assert_eq!(joined[0].gene.hgnc_id, "HGNC:1");
        assert_eq!(joined[0].evidence.count, 2);
        assert_eq!(joined[0].gene.reported_symbols, vec!["x", "y"]);
    }

    #[test]
    fn a_part_that_does_not_parse_is_an_error_not_a_panic() {
        let mut bad = part(&["1"], "x");
        bad.evidence_data = serde_json::json!({"pmids": 3});
        let err = TypedMerge::<Pmids>::new()
            .merge(vec![part(&["1"], "x"), bad])
            .unwrap_err();
        assert!(err.to_string().contains("does not parse"));
    }
}
