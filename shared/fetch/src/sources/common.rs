//! What the live sources share: the deterministic `metadata` of a record, header columns found
//! by name, cell parsing of delimited bulk files (`NA` is no value, anything else present must
//! parse), the per-gene slot a bulk parser keeps its best row in, and rounding as the original
//! stores numbers.

use kgdb_core::annotation::AnnotationRecord;
use serde::Serialize;
use serde_json::{Value, json};

use crate::annotation::{FetchOutcome, GeneKey};
use crate::{Compression, FetchError, HttpClient, LineStream};

/// `metadata` of a record: where the values came from, never when (re-fetching unchanged data
/// must change no stored row).
pub(crate) fn metadata(origin: &str, batch_fetch: bool) -> Value {
    json!({
        "origin": origin,
        "batch_fetch": batch_fetch,
        "retrieved_at": null,
    })
}

pub(crate) fn record(
    gene: &GeneKey,
    source: &'static str,
    version: &str,
    annotations: Value,
    metadata: Value,
) -> AnnotationRecord {
    AnnotationRecord {
        hgnc_id: gene.hgnc_id.clone(),
        source,
        version: version.to_string(),
        annotations,
        metadata,
    }
}

/// Empty, `NA` and `NULL` cells: `None` means the file has no value here.
pub(crate) fn present(raw: &str) -> Option<&str> {
    let v = raw.trim();
    (!v.is_empty() && v != "NA" && v != "NULL").then_some(v)
}

/// An optional finite number; anything else present is malformed (named by `column`).
pub(crate) fn number(raw: &str, column: &str) -> Result<Option<f64>, String> {
    match present(raw) {
        None => Ok(None),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| format!("{column} is not a number: {v:?}")),
    }
}

/// An optional count (`106`, or `106.0` as some writers print integers).
pub(crate) fn count(raw: &str, column: &str) -> Result<Option<u64>, String> {
    let Some(v) = present(raw) else {
        return Ok(None);
    };
    if let Ok(n) = v.parse::<u64>() {
        return Ok(Some(n));
    }
    match v.parse::<f64>() {
        // Checked: integral, non-negative and exactly representable, so the cast is exact.
        Ok(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0 =>
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Some(x as u64))
        }
        _ => Err(format!("{column} is not a count: {v:?}")),
    }
}

/// The column of each name in a header, or a chunk error naming the missing ones.
pub(crate) fn columns<const N: usize>(
    url: &str,
    header: &[&str],
    names: [&str; N],
) -> Result<[usize; N], FetchError> {
    let mut out = [0usize; N];
    let mut missing = Vec::new();
    for (slot, name) in out.iter_mut().zip(names) {
        match header.iter().position(|h| h.trim() == name) {
            Some(i) => *slot = i,
            None => missing.push(name),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(FetchError::malformed(
            url,
            format!("header lacks column(s) {}", missing.join(", ")),
        ))
    }
}

/// Per gene of a chunk the best row seen so far: a higher rank replaces a lower one, an equal
/// rank keeps the first (files list a gene's preferred row first).
#[derive(Debug)]
pub(crate) struct Slots<T> {
    slots: Vec<Option<(u8, T)>>,
}

impl<T> Slots<T> {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            slots: (0..len).map(|_| None).collect(),
        }
    }

    /// Whether a row of `rank` would be kept for gene `i` (decide before building it).
    pub(crate) fn wants(&self, i: usize, rank: u8) -> bool {
        match self.slots.get(i) {
            Some(Some((kept, _))) => rank > *kept,
            Some(None) => true,
            None => false,
        }
    }

    pub(crate) fn offer(&mut self, i: usize, rank: u8, value: T) {
        if self.wants(i, rank)
            && let Some(slot) = self.slots.get_mut(i)
        {
            *slot = Some((rank, value));
        }
    }

    pub(crate) fn into_values(self) -> impl Iterator<Item = Option<T>> {
        self.slots.into_iter().map(|s| s.map(|(_, v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        assert_eq!(present(" NA "), None);
        assert_eq!(number("0.5", "c"), Ok(Some(0.5)));
        assert_eq!(number("", "c"), Ok(None));
        assert!(number("inf", "c").is_err());
        assert!(number("high", "lof.pLI").unwrap_err().contains("lof.pLI"));
        assert_eq!(count("106", "c"), Ok(Some(106)));
        assert_eq!(count("106.0", "c"), Ok(Some(106)));
        assert!(count("1.5", "c").is_err());
        assert!(count("-1", "c").is_err());
    }

    #[test]
    fn columns_by_name_and_the_missing_ones() {
        let header = ["gene", "transcript", "lof.pLI"];
        assert_eq!(columns("u", &header, ["lof.pLI", "gene"]).unwrap(), [2, 0]);
        let err = columns("u", &header, ["gene", "mis.z_score", "x"]).unwrap_err();
        assert!(err.to_string().contains("mis.z_score, x"), "{err}");
    }

    #[test]
    fn slots_keep_the_best_rank_and_the_first_of_equals() {
        let mut s = Slots::new(2);
        s.offer(0, 1, "a");
        s.offer(0, 1, "b");
        s.offer(0, 2, "c");
        s.offer(0, 1, "d");
        s.offer(5, 9, "out of range");
        assert_eq!(s.into_values().collect::<Vec<_>>(), [Some("c"), None]);
    }
}

// ---- bulk files (clinvar, ensembl, hpo, string_ppi)

/// A bulk file as streamed lines, decompressed by its name (`.gz`).
pub(crate) async fn open(client: &HttpClient, url: &str) -> Result<LineStream, FetchError> {
    client.lines(url, Compression::of(url)).await
}

/// The columns of a header line, found by name (providers add and reorder columns).
#[derive(Debug)]
pub(crate) struct Columns {
    names: Vec<String>,
}

impl Columns {
    /// `line` split on `separator`; a leading `#` (ClinVar's `#AlleleID`, STRING's
    /// `#string_protein_id`, MANE's `#NCBI_GeneID`) is not part of the first name.
    pub(crate) fn parse(line: &str, separator: char) -> Self {
        let line = line.strip_prefix('#').unwrap_or(line);
        Self {
            names: line
                .split(separator)
                .map(|n| n.trim().to_string())
                .collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The positions of `wanted`, or a chunk-level error naming the missing ones.
    pub(crate) fn require<const N: usize>(
        &self,
        url: &str,
        wanted: [&str; N],
    ) -> Result<[usize; N], FetchError> {
        let mut out = [0; N];
        let mut missing = Vec::new();
        for (slot, name) in out.iter_mut().zip(wanted) {
            match self.index(name) {
                Some(i) => *slot = i,
                None => missing.push(name),
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(FetchError::malformed(
                url,
                format!(
                    "header lacks column(s) {}; it has: {}",
                    missing.join(", "),
                    self.names.join(" | ")
                ),
            ))
        }
    }
}

/// The byte ranges of `line`'s fields split on `separator`, into a buffer reused line after
/// line (no allocation per line of a multi-gigabyte file).
pub(crate) fn split_spans(line: &str, separator: u8, spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    let mut start = 0;
    // An ASCII separator never falls inside a UTF-8 sequence, so the spans are char boundaries.
    for (i, b) in line.bytes().enumerate() {
        if b == separator {
            spans.push((start, i));
            start = i + 1;
        }
    }
    spans.push((start, line.len()));
}

/// Field `i` of a line split by [`split_spans`], if the line has it.
pub(crate) fn field<'l>(line: &'l str, spans: &[(usize, usize)], i: usize) -> Option<&'l str> {
    spans.get(i).and_then(|&(s, e)| line.get(s..e))
}

/// `metadata` of a row from bulk files: where it came from, never when (a re-fetch of unchanged
/// data must change no row).
pub(crate) fn bulk_metadata(origin: &str, other_files: &[&str]) -> Value {
    let mut metadata = json!({
        "origin": origin,
        "batch_fetch": true,
        "retrieved_at": null,
    });
    if !other_files.is_empty() {
        metadata["files"] = json!(
            std::iter::once(origin)
                .chain(other_files.iter().copied())
                .collect::<Vec<_>>()
        );
    }
    metadata
}

/// Pushes the record of `gene`, or a failure if the model does not render (it always should).
pub(crate) fn push_record<T: Serialize>(
    outcome: &mut FetchOutcome,
    gene: &GeneKey,
    source: &'static str,
    version: &str,
    model: &T,
    metadata: &Value,
) {
    match serde_json::to_value(model) {
        Ok(annotations) => outcome.records.push(AnnotationRecord {
            hgnc_id: gene.hgnc_id.clone(),
            source,
            version: version.chars().take(20).collect(),
            annotations,
            metadata: metadata.clone(),
        }),
        Err(e) => outcome.failed(gene, format!("cannot render the annotation: {e}")),
    }
}

/// `x` rounded half away from zero to `digits` decimals, as Python's `round` stores the
/// original's values for every value that is not an exact binary tie.
pub(crate) fn round_to(x: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (x * factor).round() / factor
}

/// The first `max` keys of a count map by count (descending), ties by key (ascending).
pub(crate) fn top_counts<K: Ord + Clone>(
    counts: impl IntoIterator<Item = (K, u64)>,
    max: usize,
) -> Vec<(K, u64)> {
    let mut all: Vec<(K, u64)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(max);
    all
}

/// The release in a file name (`…GRCh38.115.chr.gtf.gz` → `115`, `…v12.0.txt.gz` → `12.0`).
pub(crate) fn version_in(url: &str, prefix: &str) -> Option<String> {
    let file = url.rsplit('/').next()?;
    let rest = &file[file.find(prefix)? + prefix.len()..];
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.');
    (!version.is_empty()).then(|| version.to_string())
}

#[cfg(test)]
mod bulk_tests {
    use super::*;

    #[test]
    fn header_columns_by_name() {
        let c = Columns::parse("#AlleleID\tType\tName", '\t');
        assert_eq!(c.index("AlleleID"), Some(0));
        assert_eq!(c.require("u", ["Name", "Type"]).unwrap(), [2, 1]);
        let err = c.require("u", ["Name", "Assembly"]).unwrap_err();
        assert!(err.to_string().contains("Assembly"), "{err}");
    }

    #[test]
    fn fields_by_span() {
        let mut spans = Vec::new();
        let line = "a\t\tcé\td";
        split_spans(line, b'\t', &mut spans);
        assert_eq!(spans.len(), 4);
        assert_eq!(field(line, &spans, 0), Some("a"));
        assert_eq!(field(line, &spans, 1), Some(""));
        assert_eq!(field(line, &spans, 2), Some("cé"));
        assert_eq!(field(line, &spans, 3), Some("d"));
        assert_eq!(field(line, &spans, 4), None);
    }

    #[test]
    fn versions_from_file_names() {
        assert_eq!(
            version_in(
                "https://x/pub/Homo_sapiens.GRCh38.115.chr.gtf.gz",
                "GRCh38."
            )
            .as_deref(),
            Some("115")
        );
        assert_eq!(
            version_in("https://x/9606.protein.info.v12.0.txt.gz", ".v").as_deref(),
            Some("12.0")
        );
        assert_eq!(version_in("https://x/file.txt", ".v"), None);
    }

    #[test]
    fn rounding_and_top_counts() {
        assert_eq!(round_to(93.6063, 2), 93.61);
        assert_eq!(round_to(0.8888, 3), 0.889);
        let top = top_counts([("b", 2), ("a", 2), ("c", 5), ("d", 1)], 3);
        assert_eq!(top, [("c", 5), ("a", 2), ("b", 2)]);
    }
}
