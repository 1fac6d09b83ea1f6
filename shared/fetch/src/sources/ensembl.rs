//! `ensembl`: each gene's place on GRCh38 and its canonical transcript's exons, from Ensembl's
//! GTF and NCBI's MANE summary (docs/provider-formats.md). No REST call.
//!
//! **Bulk** (one chunk of every due gene): the MANE summary (small, a few MB) is streamed
//! first, keeping the chunk's rows (unversioned `Ensembl_nuc` → `RefSeq_nuc`); then the GTF
//! (about 80 MB gzipped, over 1 GB of text) streams once. A line is looked at only when its
//! `gene_id` is one of the chunk's genes (or, for a gene whose Ensembl id we do not know yet,
//! when its `gene_name` is the gene's symbol). Per gene the accumulator holds the gene line,
//! a transcript count and the exons of one transcript: the best candidate so far, by
//! `tag "Ensembl_canonical"` (tags repeat in a line), then `tag "MANE_Select"`, then the longest
//! protein-coding transcript, then the first. Memory is bounded by the chunk, not the file.
//!
//! Exons keep Ensembl's own `exon_number` and are listed in that order (5'→3' along the
//! transcript, so on the minus strand exon 1 has the highest coordinates). The original
//! re-numbered them by ascending start, which reverses the numbering of minus-strand genes
//! (docs/provider-formats.md calls it a quirk to decide on); kgdb keeps the numbering ClinVar
//! and the literature use. `coding_length` (a kgdb key the offline data stores too) is the
//! canonical transcript's `CDS` plus `stop_codon` length.
//!
//! `current_gtf/` holds only the current release, so the hard-coded release-115 file name
//! 404s once Ensembl publishes 116: that is a chunk error saying so (set
//! [`EnsemblConfig::gtf_url`] to the new file, or pin `release-115/gtf/homo_sapiens/`).

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde::Serialize;

use super::common::{Columns, bulk_metadata, field, open, push_record, split_spans, version_in};
use crate::annotation::{
    AnnotationFetcher, Chunking, FetchOutcome, GeneIndex, GeneKey, strip_version,
};
use crate::{FetchError, HttpClient, LineStream};

pub const SOURCE: &str = "ensembl";
pub const TTL_DAYS: i32 = 30;
pub const GTF_URL: &str =
    "https://ftp.ensembl.org/pub/current_gtf/homo_sapiens/Homo_sapiens.GRCh38.115.chr.gtf.gz";
pub const MANE_URL: &str =
    "https://ftp.ncbi.nlm.nih.gov/refseq/MANE/MANE_human/current/MANE.GRCh38.v1.5.summary.txt.gz";
/// The version stored when the GTF's file name carries no release.
const FALLBACK_VERSION: &str = "2.0";
/// More exons than any human transcript has (TTN's longest has 363): a guard, not a limit.
const MAX_EXONS: usize = 5_000;

#[derive(Debug, Clone)]
pub struct EnsemblConfig {
    pub gtf_url: String,
    pub mane_url: String,
}

impl Default for EnsemblConfig {
    fn default() -> Self {
        Self {
            gtf_url: GTF_URL.to_string(),
            mane_url: MANE_URL.to_string(),
        }
    }
}

pub struct EnsemblFetcher {
    client: HttpClient,
    config: EnsemblConfig,
}

impl EnsemblFetcher {
    pub fn new(client: HttpClient) -> Self {
        Self::with_config(client, EnsemblConfig::default())
    }

    pub fn with_config(client: HttpClient, config: EnsemblConfig) -> Self {
        Self { client, config }
    }

    /// The stored `version`: the release in the GTF's name (`115`).
    pub fn version(&self) -> String {
        version_in(&self.config.gtf_url, "GRCh38.").unwrap_or_else(|| FALLBACK_VERSION.into())
    }

    /// A bulk file; a 404 of `current_*` explains the release bump.
    async fn open(&self, url: &str) -> Result<LineStream, FetchError> {
        open(&self.client, url).await.map_err(|e| match e {
            FetchError::Status {
                url,
                status: 404,
                retry_after,
                ..
            } => FetchError::Status {
                excerpt: format!(
                    "not found: the `current` directories hold only the latest release, so a \
                     newer one has probably replaced this file; set EnsemblConfig::{} to the \
                     new file name or pin a release directory",
                    if url.contains("MANE") {
                        "mane_url"
                    } else {
                        "gtf_url"
                    }
                ),
                url,
                status: 404,
                retry_after,
            },
            other => other,
        })
    }

    async fn fetch_chunk(&self, genes: &[GeneKey]) -> Result<FetchOutcome, FetchError> {
        if genes.is_empty() {
            // Nothing to look for: no multi-gigabyte read for it.
            return Ok(FetchOutcome::default());
        }
        let index = GeneIndex::new(genes);
        let mut accumulators: Vec<GeneAcc> = (0..genes.len()).map(|_| GeneAcc::default()).collect();
        let refseq = self.read_mane(genes, &index, &mut accumulators).await?;
        self.read_gtf(genes, &index, &mut accumulators).await?;
        let metadata = bulk_metadata(&self.config.gtf_url, &[&self.config.mane_url]);
        let version = self.version();
        let mut outcome = FetchOutcome::default();
        for (gene, acc) in genes.iter().zip(accumulators) {
            match acc.finish(gene, &refseq) {
                Finished::Record(model) => {
                    push_record(&mut outcome, gene, SOURCE, &version, &model, &metadata)
                }
                Finished::NotFound => outcome.not_found(
                    gene,
                    format!(
                        "no gene line for {} in Ensembl's GTF",
                        gene.ensembl_gene_id.as_deref().unwrap_or(&gene.symbol)
                    ),
                ),
                Finished::Failed(error) => outcome.failed(gene, error),
            }
        }
        Ok(outcome)
    }

    /// Unversioned Ensembl transcript id → RefSeq transcript, for the chunk's genes.
    async fn read_mane(
        &self,
        genes: &[GeneKey],
        index: &GeneIndex,
        accumulators: &mut [GeneAcc],
    ) -> Result<HashMap<String, String>, FetchError> {
        let url = self.config.mane_url.as_str();
        let mut lines = self.open(url).await?;
        let header = lines
            .next_line()
            .await?
            .ok_or_else(|| FetchError::malformed(url, "empty file"))?;
        let columns = Columns::parse(header, '\t');
        let [c_gene, c_hgnc, c_symbol, c_refseq, c_enst] = columns.require(
            url,
            [
                "Ensembl_Gene",
                "HGNC_ID",
                "symbol",
                "RefSeq_nuc",
                "Ensembl_nuc",
            ],
        )?;
        let width = columns.len();
        let mut refseq = HashMap::new();
        let mut spans = Vec::with_capacity(width);
        let mut line_number = 1u64;
        while let Some(line) = lines.next_line().await? {
            line_number += 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            split_spans(line, b'\t', &mut spans);
            let get = |i: usize| field(line, &spans, i).unwrap_or_default().trim();
            let gene = index
                .hgnc(get(c_hgnc))
                .or_else(|| index.ensembl(get(c_gene)))
                .or_else(|| index.symbol(get(c_symbol)))
                .filter(|&i| {
                    // A symbol match of a gene whose HGNC id the row contradicts is not ours.
                    let hgnc = get(c_hgnc);
                    !hgnc.starts_with("HGNC:") || hgnc == genes[i].hgnc_id
                });
            let Some(i) = gene else {
                continue;
            };
            let (enst, nm) = (get(c_enst), get(c_refseq));
            let problem = if spans.len() != width {
                Some(format!(
                    "{} fields where the header has {width}",
                    spans.len()
                ))
            } else if !enst.starts_with("ENST") {
                Some(format!("Ensembl_nuc is not a transcript id: {enst:?}"))
            } else if !(nm.starts_with("NM_") || nm.starts_with("NR_")) {
                Some(format!("RefSeq_nuc is not a RefSeq transcript: {nm:?}"))
            } else {
                None
            };
            match problem {
                Some(p) => accumulators[i].fail(format!("MANE line {line_number}: {p}")),
                None => {
                    refseq.insert(strip_version(enst).to_string(), nm.to_string());
                }
            }
        }
        Ok(refseq)
    }

    async fn read_gtf(
        &self,
        genes: &[GeneKey],
        index: &GeneIndex,
        accumulators: &mut [GeneAcc],
    ) -> Result<(), FetchError> {
        let url = self.config.gtf_url.as_str();
        let by_name_too = genes.iter().any(|g| g.ensembl_gene_id.is_none());
        let mut lines = self.open(url).await?;
        let mut spans = Vec::with_capacity(9);
        let mut line_number = 0u64;
        let mut features = 0u64;
        while let Some(line) = lines.next_line().await? {
            line_number += 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            split_spans(line, b'\t', &mut spans);
            if spans.len() != 9 {
                return Err(FetchError::malformed(
                    url,
                    format!(
                        "line {line_number}: {} columns, a GTF line has 9",
                        spans.len()
                    ),
                ));
            }
            features += 1;
            let get = |i: usize| field(line, &spans, i).unwrap_or_default();
            let feature = get(2);
            if !matches!(
                feature,
                "gene" | "transcript" | "exon" | "CDS" | "stop_codon"
            ) {
                continue;
            }
            let attributes = get(8);
            let gene_id = attribute(attributes, "gene_id").ok_or_else(|| {
                FetchError::malformed(url, format!("line {line_number}: no gene_id attribute"))
            })?;
            let i = match index.ensembl(gene_id) {
                Some(i) => i,
                None if by_name_too => {
                    let Some(i) = attribute(attributes, "gene_name")
                        .and_then(|name| index.symbol(name))
                        .filter(|&i| genes[i].ensembl_gene_id.is_none())
                    else {
                        continue;
                    };
                    i
                }
                None => continue,
            };
            let acc = &mut accumulators[i];
            if acc.error.is_some() {
                continue;
            }
            if let Err(e) = acc.add(feature, get(0), get(3), get(4), get(6), gene_id, attributes) {
                acc.fail(format!("GTF line {line_number}: {e}"));
            }
        }
        if features == 0 {
            return Err(FetchError::malformed(
                url,
                "no GTF feature line in the file",
            ));
        }
        Ok(())
    }
}

impl AnnotationFetcher for EnsemblFetcher {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn ttl_days(&self) -> i32 {
        TTL_DAYS
    }

    fn chunking(&self) -> Chunking {
        Chunking::Bulk
    }

    fn fetch<'a>(
        &'a self,
        genes: &'a [GeneKey],
    ) -> BoxFuture<'a, Result<FetchOutcome, FetchError>> {
        Box::pin(self.fetch_chunk(genes))
    }
}

/// The value of the first `key "value";` attribute named `key`.
fn attribute<'a>(attributes: &'a str, key: &str) -> Option<&'a str> {
    attribute_values(attributes)
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Every `key "value"` pair of column 9, repeated keys (`tag`) included.
fn attribute_values(attributes: &str) -> impl Iterator<Item = (&str, &str)> {
    attributes.split(';').filter_map(|pair| {
        let (key, value) = pair.trim().split_once(' ')?;
        Some((key, value.trim().trim_matches('"')))
    })
}

fn coordinate(raw: &str, column: &str) -> Result<i64, String> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{column} is not a position: {raw:?}"))
}

fn span(start: &str, end: &str) -> Result<(i64, i64), String> {
    let (start, end) = (coordinate(start, "start")?, coordinate(end, "end")?);
    if end < start {
        return Err(format!("end {end} is before start {start}"));
    }
    Ok((start, end))
}

#[derive(Debug)]
struct GeneLine {
    gene_id: String,
    biotype: Option<String>,
    chromosome: String,
    start: i64,
    end: i64,
    strand: String,
}

#[derive(Debug, Clone, Serialize)]
struct Exon {
    exon_id: String,
    exon_number: u32,
    start: i64,
    end: i64,
    length: i64,
}

#[derive(Debug)]
struct Transcript {
    transcript_id: String,
    display_name: Option<String>,
    biotype: Option<String>,
    /// 3 Ensembl_canonical, 2 MANE_Select, 1 protein coding, 0 other.
    rank: u8,
    is_canonical: bool,
    start: i64,
    end: i64,
    exons: Vec<Exon>,
    coding_length: i64,
}

#[derive(Debug, Default)]
struct GeneAcc {
    gene: Option<GeneLine>,
    /// The Ensembl id this gene's lines carry (a gene found by name binds to its first id).
    gene_id: Option<String>,
    transcript_count: u32,
    best: Option<Transcript>,
    error: Option<String>,
}

enum Finished {
    Record(Box<EnsemblAnnotation>),
    NotFound,
    Failed(String),
}

impl GeneAcc {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
            self.best = None;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        feature: &str,
        chromosome: &str,
        start: &str,
        end: &str,
        strand: &str,
        gene_id: &str,
        attributes: &str,
    ) -> Result<(), String> {
        match &self.gene_id {
            Some(bound) if bound != gene_id => return Ok(()),
            Some(_) => {}
            None => self.gene_id = Some(gene_id.to_string()),
        }
        match feature {
            "gene" => {
                let (start, end) = span(start, end)?;
                if !matches!(strand, "+" | "-") {
                    return Err(format!("strand is not + or -: {strand:?}"));
                }
                self.gene = Some(GeneLine {
                    gene_id: gene_id.to_string(),
                    biotype: attribute(attributes, "gene_biotype").map(str::to_string),
                    chromosome: chromosome.trim().to_string(),
                    start,
                    end,
                    strand: strand.to_string(),
                });
            }
            "transcript" => {
                let (start, end) = span(start, end)?;
                self.transcript_count += 1;
                let transcript_id = attribute(attributes, "transcript_id")
                    .ok_or("a transcript line without transcript_id")?;
                let biotype = attribute(attributes, "transcript_biotype");
                let (mut canonical, mut mane) = (false, false);
                for (key, value) in attribute_values(attributes) {
                    if key == "tag" {
                        canonical |= value == "Ensembl_canonical";
                        mane |= value == "MANE_Select";
                    }
                }
                let rank = if canonical {
                    3
                } else if mane {
                    2
                } else if biotype == Some("protein_coding") {
                    1
                } else {
                    0
                };
                let better = match &self.best {
                    None => true,
                    Some(best) => {
                        rank > best.rank
                            || (rank == 1 && best.rank == 1 && end - start > best.end - best.start)
                    }
                };
                if better {
                    self.best = Some(Transcript {
                        transcript_id: transcript_id.to_string(),
                        display_name: attribute(attributes, "transcript_name").map(str::to_string),
                        biotype: biotype.map(str::to_string),
                        rank,
                        is_canonical: canonical || mane,
                        start,
                        end,
                        exons: Vec::new(),
                        coding_length: 0,
                    });
                }
            }
            "exon" | "CDS" | "stop_codon" => {
                let Some(best) = self.best.as_mut() else {
                    return Ok(());
                };
                if attribute(attributes, "transcript_id") != Some(best.transcript_id.as_str()) {
                    return Ok(());
                }
                let (start, end) = span(start, end)?;
                if feature != "exon" {
                    best.coding_length += end - start + 1;
                    return Ok(());
                }
                let exon_id = attribute(attributes, "exon_id").ok_or("an exon without exon_id")?;
                let number = attribute(attributes, "exon_number").unwrap_or_default();
                let exon_number = number
                    .parse::<u32>()
                    .map_err(|_| format!("exon_number is not a number: {number:?}"))?;
                if best.exons.len() >= MAX_EXONS {
                    return Err(format!("more than {MAX_EXONS} exons in one transcript"));
                }
                best.exons.push(Exon {
                    exon_id: exon_id.to_string(),
                    exon_number,
                    start,
                    end,
                    length: end - start + 1,
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self, gene: &GeneKey, refseq: &HashMap<String, String>) -> Finished {
        if let Some(error) = self.error {
            return Finished::Failed(error);
        }
        let Some(line) = self.gene else {
            return Finished::NotFound;
        };
        let canonical = self.best.map(|mut t| {
            t.exons.sort_by_key(|e| (e.exon_number, e.start));
            CanonicalTranscript {
                refseq_transcript_id: refseq.get(&t.transcript_id).cloned(),
                exon_count: t.exons.len(),
                transcript_id: t.transcript_id,
                display_name: t.display_name,
                biotype: t.biotype,
                is_canonical: t.is_canonical,
                start: t.start,
                end: t.end,
                exons: t.exons,
                coding_length: (t.coding_length > 0).then_some(t.coding_length),
            }
        });
        Finished::Record(Box::new(EnsemblAnnotation {
            gene_id: line.gene_id,
            gene_symbol: gene.symbol.clone(),
            biotype: line.biotype,
            chromosome: line.chromosome,
            start: line.start,
            end: line.end,
            strand: line.strand,
            gene_length: line.end - line.start + 1,
            coding_length: canonical.as_ref().and_then(|c| c.coding_length),
            assembly: "GRCh38",
            transcript_count: self.transcript_count,
            exon_count: canonical.as_ref().map(|c| c.exon_count),
            canonical_transcript: canonical,
        }))
    }
}

#[derive(Debug, Serialize)]
struct CanonicalTranscript {
    transcript_id: String,
    display_name: Option<String>,
    biotype: Option<String>,
    is_canonical: bool,
    start: i64,
    end: i64,
    exon_count: usize,
    exons: Vec<Exon>,
    refseq_transcript_id: Option<String>,
    #[serde(skip)]
    coding_length: Option<i64>,
}

/// The stored `annotations` (the original's keys, docs/provider-formats.md; `coding_length` is
/// kgdb's, as in the offline rows).
#[derive(Debug, Serialize)]
struct EnsemblAnnotation {
    gene_id: String,
    gene_symbol: String,
    biotype: Option<String>,
    chromosome: String,
    start: i64,
    end: i64,
    strand: String,
    gene_length: i64,
    coding_length: Option<i64>,
    assembly: &'static str,
    canonical_transcript: Option<CanonicalTranscript>,
    transcript_count: u32,
    exon_count: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_with_repeated_tags() {
        let a = r#"gene_id "ENSG00000008710"; transcript_id "ENST00000262304"; tag "basic"; tag "Ensembl_canonical"; tag "MANE_Select";"#;
        assert_eq!(attribute(a, "transcript_id"), Some("ENST00000262304"));
        let tags: Vec<_> = attribute_values(a)
            .filter(|(k, _)| *k == "tag")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(tags, ["basic", "Ensembl_canonical", "MANE_Select"]);
        assert_eq!(attribute(a, "gene_name"), None);
    }
}
