//! What the live sources share: the deterministic `metadata` of a record, cell parsing of
//! delimited bulk files (`NA` is no value, anything else present must parse), and the per-gene
//! slot a bulk parser keeps its best row in.

use kgdb_core::annotation::AnnotationRecord;
use serde_json::{Value, json};

use crate::FetchError;
use crate::annotation::GeneKey;

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
