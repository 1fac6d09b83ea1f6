//! What the bulk-file fetchers share: header columns found by name, the deterministic
//! `metadata` of a row, and rounding as the original stores numbers.

use kgdb_core::annotation::AnnotationRecord;
use serde::Serialize;
use serde_json::{Value, json};

use crate::annotation::{FetchOutcome, GeneKey};
use crate::{Compression, FetchError, HttpClient, LineStream};

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
mod tests {
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
