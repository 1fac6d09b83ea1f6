//! Every source's stored `evidence_data` carries every key the original stores for it.
//!
//! The reference answers of the original for PKD1, NPHS1 and COL4A5 (`tests/contract/`) are
//! compared by key path, recursively: object keys, `[]` for array elements, and `<pmid>` for
//! the PMID-keyed map of Literature. kgdb may store more keys; it must not store fewer.

use std::collections::{BTreeMap, BTreeSet};

use kgdb_tests::{get, loaded_state};
use serde_json::Value;

const GENES: [&str; 3] = ["PKD1", "NPHS1", "COL4A5"];

fn original(symbol: &str) -> Value {
    let path = format!(
        "{}/contract/original-responses/gene_{symbol}_evidence.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Key paths of a JSON value: `panels[].region`, `publication_details.<pmid>.title`.
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let key = if key.bytes().all(|b| b.is_ascii_digit()) {
                    "<pmid>"
                } else {
                    key
                };
                let path = if prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Per source: the union of key paths over the given answers.
fn paths_by_source(answers: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for answer in answers {
        for item in answer["data"].as_array().unwrap() {
            let attrs = &item["attributes"];
            let source = attrs["source_name"].as_str().unwrap().to_string();
            key_paths(&attrs["evidence_data"], "", out.entry(source).or_default());
        }
    }
    out
}

/// Fails when `source` lacks a key path the original stores for it.
async fn check_source(source: &str) {
    let state = loaded_state().await;
    let mut ours = Vec::new();
    for symbol in GENES {
        let reply = get(&state, &format!("/api/genes/{symbol}/evidence")).await;
        assert_eq!(reply.status, 200, "{symbol}");
        assert!(
            reply.body["meta"]["gene_id"].is_i64(),
            "meta.gene_id is a number, as in the original"
        );
        ours.push(reply.body);
    }
    let theirs = paths_by_source(&GENES.map(original));
    let ours = paths_by_source(&ours);
    let their_paths = theirs
        .get(source)
        .unwrap_or_else(|| panic!("{source}: not in the reference answers"));
    let our_paths = ours
        .get(source)
        .unwrap_or_else(|| panic!("{source}: no evidence stored for the reference genes"));
    let missing: Vec<&String> = their_paths.difference(our_paths).collect();
    assert!(
        missing.is_empty(),
        "{source} lacks keys of the original: {missing:?}"
    );
}

/// One test per source, so a failure names its source.
macro_rules! source_contract_tests {
    ($($test:ident => $source:literal),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                check_source($source).await;
            }
        )+

        #[test]
        fn every_source_of_the_reference_has_a_test() {
            let tested = [$($source),+];
            let reference = paths_by_source(&GENES.map(original));
            assert_eq!(reference.len(), tested.len());
            for source in reference.keys() {
                assert!(tested.contains(&source.as_str()), "{source} has no contract test");
            }
        }
    };
}

source_contract_tests! {
    panelapp_keys => "PanelApp",
    clingen_keys => "ClinGen",
    gencc_keys => "GenCC",
    hpo_keys => "HPO",
    pubtator_keys => "PubTator",
    diagnostic_panels_keys => "DiagnosticPanels",
    literature_keys => "Literature",
}

#[test]
fn key_paths_see_nested_arrays_and_pmid_maps() {
    let mut out = BTreeSet::new();
    key_paths(
        &serde_json::json!({"a": [{"b": 1}], "publication_details": {"123": {"pmid": "123"}}}),
        "",
        &mut out,
    );
    let expected = [
        "a",
        "a[].b",
        "publication_details",
        "publication_details.<pmid>",
        "publication_details.<pmid>.pmid",
    ];
    assert_eq!(out, expected.iter().map(|s| s.to_string()).collect());
}
