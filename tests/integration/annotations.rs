//! Annotations on the real bundled data: the routes against the original's answers
//! (`tests/contract/original-responses/annotations*`), the values against the raw snapshot
//! files, resolve by every identifier kind, and the offline ingest's idempotence and fault
//! isolation (a malformed row fails one gene × source, an unreadable file its sources only).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use kgdb_local::ingest::ingest_annotations;
use kgdb_sources::files::SnapshotDir;
use kgdb_store::annotations::AnnotationWriter;
use kgdb_store::config::Config;
use kgdb_tests::{
    TestDb, assert_error_body, get, invoke_with_body, loaded_db, loaded_state, scalar, snapshot_csv,
};
use lambda_http::http::Method;
use serde_json::Value;

fn original(name: &str) -> Value {
    let path = format!(
        "{}/contract/original-responses/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// JSON type names; integers and floats are both numbers, as for a JSON client.
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key path with the types seen there (`interactions[].string_score`).
fn typed_paths(value: &Value, prefix: &str, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.entry(path.clone()).or_default().insert(type_of(child));
                typed_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                typed_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Paths of `theirs` missing from `ours`, and paths whose non-null types differ.
fn contract_differences(theirs: &Value, ours: &Value) -> Vec<String> {
    let (mut t, mut o) = (BTreeMap::new(), BTreeMap::new());
    typed_paths(theirs, "", &mut t);
    typed_paths(ours, "", &mut o);
    let mut out = Vec::new();
    for (path, their_types) in &t {
        let Some(our_types) = o.get(path) else {
            // Below a key that is null in ours (a value the bundled data lacks): not comparable.
            let parent_null = path
                .rsplit_once(['.', '['])
                .and_then(|(parent, _)| o.get(parent.trim_end_matches("[]")))
                .is_some_and(|types| types.iter().all(|t| *t == "null"));
            if !parent_null {
                out.push(format!("missing {path}"));
            }
            continue;
        };
        let theirs: BTreeSet<_> = their_types.iter().filter(|t| **t != "null").collect();
        let ours: BTreeSet<_> = our_types.iter().filter(|t| **t != "null").collect();
        if !theirs.is_empty() && !ours.is_empty() && theirs != ours {
            out.push(format!("{path}: theirs {theirs:?}, ours {ours:?}"));
        }
    }
    out
}

async fn gene_id(symbol: &str) -> i64 {
    scalar::<i64>("SELECT id FROM genes WHERE approved_symbol = $1", &[symbol]).await
}

/// Sources the original answered for the reference genes that the offline data cannot fill
/// (HPO gene-phenotype annotations come from the HPO bulk file, which is not bundled).
const NOT_OFFLINE: &[&str] = &["hpo"];

#[tokio::test]
async fn gene_annotations_carry_every_key_of_the_original_with_its_json_type() {
    let state = loaded_state().await;
    for symbol in ["PKD1", "NPHS1", "COL4A5"] {
        let theirs = original(&format!("annotations/{symbol}_annotations.json"));
        let ours = get(
            &state,
            &format!("/api/annotations/genes/{symbol}/annotations"),
        )
        .await;
        assert_eq!(ours.status, 200, "{symbol}: {}", ours.body);
        let ours = ours.body;
        assert_eq!(ours["gene"]["symbol"], symbol);
        assert_eq!(ours["gene"]["hgnc_id"], theirs["gene"]["hgnc_id"]);
        assert!(ours["gene"]["id"].is_i64(), "gene.id is a number");
        for (source, entries) in theirs["annotations"].as_object().unwrap() {
            if NOT_OFFLINE.contains(&source.as_str()) {
                continue;
            }
            let ours_entries = &ours["annotations"][source];
            assert!(
                ours_entries.is_array(),
                "{symbol}: no {source} annotation: {}",
                ours["annotations"]
            );
            let diff = contract_differences(entries, ours_entries);
            let diff: Vec<&String> = diff
                .iter()
                // `metadata` and `version` say where our values came from; only their keys match.
                .filter(|d| !d.contains("metadata.retrieved_at"))
                .collect();
            assert!(diff.is_empty(), "{symbol} {source}: {diff:?}");
        }
    }
}

#[tokio::test]
async fn pkd1_annotations_are_the_bundled_values() {
    let state = loaded_state().await;
    let reply = get(&state, "/api/annotations/genes/PKD1/annotations").await;
    let a = &reply.body["annotations"];
    let data = |source: &str| a[source][0]["data"].clone();
    // The C table row of PKD1, read independently.
    let row = snapshot_csv("C_high_evidence_annotated_csv_table")
        .into_iter()
        .find(|r| r["approved_symbol"] == "PKD1")
        .unwrap();
    let f = |column: &str| row[column].parse::<f64>().unwrap();
    assert_eq!(data("gnomad")["pli"], f("pLI"));
    assert_eq!(data("gnomad")["oe_lof"], f("oe_lof"));
    assert_eq!(data("gnomad")["lof_z"], f("lof_z"));
    assert_eq!(data("gnomad")["mis_z"], f("mis_z"));
    assert_eq!(row["clinvar"], "P:737; LP:305; VUS:1182");
    assert_eq!(data("clinvar")["pathogenic_count"], 737);
    assert_eq!(data("clinvar")["likely_pathogenic_count"], 305);
    assert_eq!(data("clinvar")["vus_count"], 1182);
    let tissues = &data("gtex")["tissues"];
    assert_eq!(
        tissues["Kidney_Cortex"]["median_tpm"],
        f("gtex_kidney_cortex")
    );
    assert_eq!(
        tissues["Kidney_Medulla"]["median_tpm"],
        f("gtex_kidney_medulla")
    );
    assert_eq!(data("descartes")["kidney_tpm"], f("descartes_kidney_tpm"));
    assert_eq!(
        data("mpo_mgi")["zygosity_analysis"]["summary"],
        row["mgi_phenotype"].as_str()
    );
    assert_eq!(
        data("string_ppi")["ppi_degree"],
        row["stringdb_interaction_string"].split(", ").count()
    );
    assert_eq!(
        data("string_ppi")["summary"]["raw_sum"],
        f("stringdb_interaction_sum_score")
    );
    let hgnc = data("hgnc");
    assert_eq!(hgnc["ensembl_gene_id"], "ENSG00000008710");
    assert_eq!(hgnc["ncbi_gene_id"], "5310");
    assert!(
        hgnc["uniprot_ids"]
            .as_array()
            .unwrap()
            .contains(&"P98161".into())
    );
    assert_eq!(hgnc["location"], "16p13.3");
    assert_eq!(data("ensembl")["biotype"], "protein_coding");
    assert_eq!(data("ensembl")["chromosome"], "16");

    // ?source= narrows to one source, as the original's source-hgnc answer.
    let theirs = original("annotations/PKD1_annotations_source-hgnc.json");
    let only = get(
        &state,
        "/api/annotations/genes/pkd1/annotations?source=hgnc",
    )
    .await;
    assert_eq!(only.status, 200);
    let ours_sources: Vec<&String> = only.body["annotations"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(ours_sources, ["hgnc"]);
    assert!(contract_differences(&theirs, &only.body).is_empty());
    // By database id and by HGNC id: the same answer.
    let id = gene_id("PKD1").await;
    let by_id = get(&state, &format!("/api/annotations/genes/{id}/annotations")).await;
    let by_hgnc = get(&state, "/api/annotations/genes/HGNC:9008/annotations").await;
    assert_eq!(by_id.body, reply.body);
    assert_eq!(by_hgnc.body, reply.body);
}

#[tokio::test]
async fn summary_has_the_originals_shape_and_a_real_pli() {
    let state = loaded_state().await;
    for symbol in ["PKD1", "NPHS1", "COL4A5"] {
        let theirs = original(&format!("annotations/{symbol}_annotations_summary.json"));
        let ours = get(
            &state,
            &format!("/api/annotations/genes/{symbol}/annotations/summary"),
        )
        .await;
        assert_eq!(ours.status, 200);
        let ours = ours.body;
        assert!(contract_differences(&theirs, &ours).is_empty(), "{symbol}");
        // Same keys exactly, and the same values where the original had one.
        for section in ["identifiers", "constraint_scores"] {
            let keys = |v: &Value| {
                v[section]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(keys(&ours), keys(&theirs), "{symbol} {section}");
            for (key, value) in theirs[section].as_object().unwrap() {
                if !value.is_null() {
                    assert_eq!(&ours[section][key], value, "{symbol} {section}.{key}");
                }
            }
        }
        // The original's pLI key bug: it read `pLI` and answered null; kgdb reads `pli`.
        assert!(theirs["constraint_scores"]["pli"].is_null());
    }
    let pkd1 = get(&state, "/api/annotations/genes/PKD1/annotations/summary").await;
    assert_eq!(pkd1.body["constraint_scores"]["pli"], 1.0);
    assert_eq!(pkd1.body["gene_id"], gene_id("PKD1").await);
}

#[tokio::test]
async fn sources_and_statistics_have_the_originals_shape() {
    let state = loaded_state().await;
    let theirs = original("annotations/sources.json");
    let ours = get(&state, "/api/annotations/sources").await;
    assert_eq!(ours.status, 200);
    let list = ours.body.as_array().unwrap();
    assert_eq!(list.len(), 10);
    assert!(contract_differences(&theirs, &ours.body).is_empty());
    let names: BTreeSet<&str> = list
        .iter()
        .map(|s| s["source_name"].as_str().unwrap())
        .collect();
    let their_names: BTreeSet<&str> = theirs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, their_names);
    let priorities: Vec<i64> = list
        .iter()
        .map(|s| s["priority"].as_i64().unwrap())
        .collect();
    assert!(priorities.windows(2).all(|w| w[0] >= w[1]), "by priority");
    // Sources with data have their last and next update.
    let hgnc = list.iter().find(|s| s["source_name"] == "hgnc").unwrap();
    assert!(hgnc["last_update"].is_string() && hgnc["next_update"].is_string());
    let all = get(&state, "/api/annotations/sources?active_only=false").await;
    assert_eq!(all.body.as_array().unwrap().len(), 10);
    let bad = get(&state, "/api/annotations/sources?active_only=maybe").await;
    assert_eq!(bad.status, 400);
    assert_error_body(&bad);

    let theirs = original("annotations/statistics.json");
    let ours = get(&state, "/api/annotations/statistics").await;
    assert_eq!(ours.status, 200);
    assert!(contract_differences(&theirs, &ours.body).is_empty());
    // The original loaded the same bundled data: its counts agree where it had the source.
    assert_eq!(
        ours.body["total_genes_with_annotations"],
        theirs["total_genes_with_annotations"]
    );
    assert_eq!(
        ours.body["genes_with_both_sources"],
        theirs["genes_with_both_sources"]
    );
    let count = |body: &Value, source: &str| {
        body["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == source)
            .map(|s| s["gene_count"].clone())
    };
    for source in ["hgnc", "gnomad", "gtex", "descartes"] {
        assert_eq!(
            count(&ours.body, source),
            count(&theirs, source),
            "{source}"
        );
    }
    // And against the raw files, read independently.
    let table = snapshot_csv("C_high_evidence_annotated_csv_table");
    let with = |column: &str| table.iter().filter(|r| r[column] != "NULL").count();
    assert_eq!(count(&ours.body, "gnomad"), Some(with("pLI").into()));
    assert_eq!(count(&ours.body, "clinvar"), Some(table.len().into()));
    let mgi = snapshot_csv("merge_analyses_sources_high_evidence_mgi");
    let mouse = mgi
        .iter()
        .filter(|r| r["mgi_phenotype"] != "hm (NA); ht (NA)")
        .count();
    assert_eq!(count(&ours.body, "mpo_mgi"), Some(mouse.into()));
    let string = snapshot_csv("merge_analyses_sources_high_evidence_string");
    let linked = string
        .iter()
        .filter(|r| r["stringdb_interaction_string"] != "NULL")
        .count();
    assert_eq!(count(&ours.body, "string_ppi"), Some(linked.into()));
}

#[tokio::test]
async fn bad_gene_ids_and_sources_are_4xx() {
    let state = loaded_state().await;
    for (path, status) in [
        ("/api/annotations/genes/NOSUCHGENE/annotations", 404),
        ("/api/annotations/genes/999999999/annotations", 404),
        (
            "/api/annotations/genes/HGNC:99999999/annotations/summary",
            404,
        ),
        ("/api/annotations/genes/PKD1/annotations?source=bogus", 422),
        ("/api/annotations/genes/PKD1/annotations?source=HGNC", 422),
        // Well-formed but past any id: no such gene (the document allows the shape).
        (
            "/api/annotations/genes/99999999999999999999/annotations",
            404,
        ),
        // Found by the fuzzer: a multi-byte character across byte 5 was a panic.
        (
            "/api/annotations/genes/%F3%98%AD%8F%F2%9E%A4%97%F2%B9%BD%8B%C2%8F%5B/annotations/summary",
            400,
        ),
        ("/api/annotations/genes/HGNC:x/annotations", 400),
        ("/api/annotations/genes/PKD1%3B--/annotations/summary", 400),
        ("/api/annotations/genes/PKD1/annotations?source=%00", 400),
    ] {
        let reply = get(&state, path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert_error_body(&reply);
    }
    // The gateway answers a method a route lacks with 405 itself; the handler agrees.
    let get_batch = kgdb_fn_annotations::handle(
        &state,
        kgdb_tests::apigw_get("/api/annotations/batch", "/api/annotations/batch", &[], &[]),
    )
    .await;
    assert_eq!(get_batch.status(), 405);
    assert_eq!(get_batch.headers()["allow"], "POST, OPTIONS");
}

#[tokio::test]
async fn batch_answers_up_to_100_genes_and_writes_nothing() {
    let state = loaded_state().await;
    let (pkd1, nphs1) = (gene_id("PKD1").await, gene_id("NPHS1").await);
    let version_before: i64 = scalar("SELECT version FROM data_version", &[]).await;
    let rows_before: i64 = scalar("SELECT count(*) FROM gene_annotations", &[]).await;

    let body = format!("[{pkd1}, {nphs1}, {pkd1}, 999999999]");
    let reply = invoke_with_body(
        &state,
        Method::POST,
        "/api/annotations/batch?sources=gnomad&sources=hgnc",
        body.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let b = &reply.body;
    assert_eq!(b["total_genes"], 2);
    assert_eq!(b["genes_with_annotations"], 2);
    assert_eq!(b["genes"][pkd1.to_string()]["symbol"], "PKD1");
    assert_eq!(b["genes"][nphs1.to_string()]["hgnc_id"], "HGNC:7908");
    let pkd1_sources: Vec<&String> = b["annotations"][pkd1.to_string()]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(pkd1_sources, ["gnomad", "hgnc"]);
    assert_eq!(
        b["annotations"][pkd1.to_string()]["gnomad"][0]["data"]["pli"],
        1.0
    );

    let hundred = format!(
        "[{}]",
        (1..=100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let full = invoke_with_body(
        &state,
        Method::POST,
        "/api/annotations/batch",
        hundred.as_bytes(),
    )
    .await;
    assert_eq!(full.status, 200);
    assert_eq!(full.body["total_genes"], 100);

    let too_many = format!(
        "[{}]",
        (1..=101)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    for (body, query, status) in [
        (too_many.as_str(), "", 422),
        ("", "", 400),
        ("not json", "", 400),
        ("[1,", "", 400),
        ("{\"gene_ids\": [1]}", "", 422),
        ("[\"PKD1\"]", "", 422),
        ("[-1]", "", 422),
        ("[1]", "?sources=bogus", 422),
    ] {
        let reply = invoke_with_body(
            &state,
            Method::POST,
            &format!("/api/annotations/batch{query}"),
            body.as_bytes(),
        )
        .await;
        assert_eq!(reply.status, status, "{body:?}{query}: {}", reply.body);
        assert_error_body(&reply);
    }
    let version_after: i64 = scalar("SELECT version FROM data_version", &[]).await;
    let rows_after: i64 = scalar("SELECT count(*) FROM gene_annotations", &[]).await;
    assert_eq!((version_before, rows_before), (version_after, rows_after));
}

#[tokio::test]
async fn annotation_answers_are_cached_by_their_normalized_parameters() {
    let state = loaded_db().state_with_cache(kgdb_web::cache::CacheConfig {
        enabled: true,
        l2_table: None,
        ..kgdb_web::cache::CacheConfig::from_env()
    });
    let x_cache = |r: &kgdb_tests::Reply| r.headers["x-cache"].to_str().unwrap().to_string();
    let first = get(
        &state,
        "/api/annotations/genes/PKD1/annotations?source=gtex",
    )
    .await;
    assert_eq!(x_cache(&first), "miss");
    let same = get(
        &state,
        "/api/annotations/genes/pkd1/annotations?source=gtex",
    )
    .await;
    assert_eq!(x_cache(&same), "hit-l1");
    assert_eq!(first.body, same.body);
    let other = get(
        &state,
        "/api/annotations/genes/PKD1/annotations?source=gnomad",
    )
    .await;
    assert_eq!(x_cache(&other), "miss");
    assert_ne!(other.body, first.body);
    let body = b"[2, 1]";
    let a = invoke_with_body(&state, Method::POST, "/api/annotations/batch", body).await;
    let b = invoke_with_body(&state, Method::POST, "/api/annotations/batch", b"[1, 2, 2]").await;
    assert_eq!((x_cache(&a), x_cache(&b)), ("miss".into(), "hit-l1".into()));
    assert_eq!(a.body, b.body);
}

#[tokio::test]
async fn resolve_finds_genes_by_ensembl_ncbi_uniprot_and_previous_symbols() {
    let state = loaded_state().await;
    let pkd1 = gene_id("PKD1").await.to_string();
    for (query, match_type, matched_on) in [
        ("ENSG00000008710", "ensembl", "ENSG00000008710"),
        ("ensg00000008710", "ensembl", "ENSG00000008710"),
        ("5310", "ncbi", "5310"),
        ("P98161", "uniprot", "P98161"),
    ] {
        let reply = get(&state, &format!("/api/genes/resolve?query={query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        let attributes = &reply.body["data"]["attributes"];
        assert_eq!(reply.body["data"]["id"], pkd1.as_str(), "{query}");
        assert_eq!(attributes["approved_symbol"], "PKD1");
        assert_eq!(attributes["match_type"], match_type, "{query}");
        assert_eq!(attributes["matched_on"], matched_on, "{query}");
        assert_eq!(reply.body["meta"]["ambiguous"], false);
    }
    // The original's answers for the Ensembl and NCBI ids, field by field (but the gene id,
    // which is each database's own).
    for name in ["resolve_ENSG00000008710.json", "resolve_5310.json"] {
        let mut theirs = original(&format!("annotations/{name}"));
        let query = theirs["meta"]["query"].as_str().unwrap().to_string();
        let mut ours = get(&state, &format!("/api/genes/resolve?query={query}"))
            .await
            .body;
        theirs["data"]["id"] = Value::Null;
        ours["data"]["id"] = Value::Null;
        assert_eq!(ours, theirs, "{name}");
    }
    // The original answered 404 for the UniProt accession; kgdb finds it (README deviations).
    assert_eq!(
        original("annotations/resolve_P98161.json")["error"]["type"],
        "not_found"
    );

    // Previous symbols: TCF2 is HNF1B's, FSGS2 TRPC6's (HGNC, as Ensembl 100 carries them).
    for (query, symbol) in [("TCF2", "HNF1B"), ("fsgs2", "TRPC6")] {
        let reply = get(&state, &format!("/api/genes/resolve?query={query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(reply.body["data"]["attributes"]["approved_symbol"], symbol);
        assert_eq!(
            reply.body["data"]["attributes"]["match_type"],
            "previous_symbol"
        );
    }
    // An HGNC alias symbol of PKD1 (not reported by any evidence source).
    let alias = get(&state, "/api/genes/resolve?query=TRPP1").await;
    assert_eq!(alias.body["data"]["attributes"]["approved_symbol"], "PKD1");
    assert_eq!(alias.body["data"]["attributes"]["match_type"], "alias");
    // Every identifier of the table resolves to its gene, or to an ambiguity that lists it.
    let client = loaded_db().client().await;
    let samples = client
        .query_typed(
            "SELECT DISTINCT ON (i.kind) i.kind, i.value, g.id
               FROM gene_identifiers i JOIN genes g ON g.id = i.gene_id
              WHERE i.kind IN ('ensembl_gene_id', 'ncbi_gene_id', 'uniprot_accession')
              ORDER BY i.kind, g.approved_symbol DESC",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(samples.len(), 3);
    for row in samples {
        let (kind, value, id): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
        let reply = get(&state, &format!("/api/genes/resolve?query={value}")).await;
        let id = id.to_string();
        let found = reply.body["data"]["id"] == id.as_str()
            || reply.body["meta"]["candidates"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["id"] == id.as_str()));
        assert!(found, "{kind} {value}: {}", reply.body);
    }
}

#[tokio::test]
async fn every_identifier_lookup_is_an_index_scan() {
    let client = loaded_db().client().await;
    for sql in [
        "EXPLAIN SELECT gene_id FROM gene_identifiers WHERE kind = 'ncbi_gene_id' AND upper(value) = upper('5310')",
        "EXPLAIN SELECT gene_id FROM gene_annotations WHERE source = 'hgnc' AND upper(annotations ->> 'name') = upper('paired box 2')",
    ] {
        client
            .batch_execute("SET enable_seqscan = off")
            .await
            .unwrap();
        let plan: Vec<String> = client
            .query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        client.batch_execute("RESET enable_seqscan").await.unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("Index"), "{sql}:\n{plan}");
    }
}

fn writer(db: &TestDb) -> AnnotationWriter {
    let config = Config::from_env()
        .with_database_url(db.url.clone())
        .with_pool_size(2);
    AnnotationWriter::new(kgdb_store::db::build_pool(&config).unwrap())
}

/// A snapshot folder whose annotation files are the real ones, except those `edit` rewrites.
fn snapshot_copy(label: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let root =
        std::env::temp_dir().join(format!("kgdb-annot-{label}-{}-{nanos}", std::process::id()));
    let real = SnapshotDir::in_repo().root;
    for sub in ["ensembl100-hgnc-grch38", "kidney-genetics-v1-2024-05-14"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
        for entry in std::fs::read_dir(real.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, root.join(sub).join(path.file_name().unwrap())).unwrap();
        }
    }
    root
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn gzip(path: &Path, text: &str) {
    let mut out = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    out.write_all(text.as_bytes()).unwrap();
    out.finish().unwrap();
}

/// Rewrites cells of a CSV snapshot file: `(symbol column value, column, new value)`.
fn edit_csv(path: &Path, key_column: &str, edits: &[(&str, &str, &str)]) {
    let text = gunzip(path);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let key = headers.iter().position(|h| h == key_column).unwrap();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&headers).unwrap();
    for record in reader.records() {
        let mut fields: Vec<String> = record.unwrap().iter().map(str::to_string).collect();
        for (row_key, column, value) in edits {
            if fields[key] == *row_key {
                let at = headers.iter().position(|h| h == *column).unwrap();
                fields[at] = value.to_string();
            }
        }
        out.write_record(&fields).unwrap();
    }
    gzip(path, &String::from_utf8(out.into_inner().unwrap()).unwrap());
}

async fn annotation_row(db: &TestDb, symbol: &str, source: &str) -> (Value, String) {
    let row = db
        .client()
        .await
        .query_typed_one(
            "SELECT a.annotations, a.updated_at::text FROM gene_annotations a JOIN genes g ON g.id = a.gene_id
              WHERE g.approved_symbol = $1 AND a.source = $2",
            &[
                (&symbol, tokio_postgres::types::Type::TEXT),
                (&source, tokio_postgres::types::Type::TEXT),
            ],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Row count, newest `updated_at`, every source's `last_update`, identifier count.
async fn stored_state(
    client: &tokio_postgres::Client,
) -> (i64, Option<String>, Option<String>, i64) {
    let r = client
        .query_typed_one(
            "SELECT (SELECT count(*) FROM gene_annotations), (SELECT max(updated_at)::text FROM gene_annotations),
                    (SELECT string_agg(coalesce(last_update::text, '-'), ',' ORDER BY source_name) FROM annotation_sources),
                    (SELECT count(*) FROM gene_identifiers)",
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reingesting_changes_nothing_and_a_bad_row_or_file_fails_only_its_part() {
    let db = TestDb::fresh_loaded("annot_ingest").await;
    let writer = writer(&db);
    let client = db.client().await;
    // 1. The same files again: nothing changes, not even updated_at.
    let before = stored_state(&client).await;
    let again = ingest_annotations(&writer, &SnapshotDir::in_repo().root)
        .await
        .unwrap();
    assert_eq!(again.failed().count(), 0);
    for outcome in &again.sources {
        let w = outcome.written.as_ref().unwrap();
        assert_eq!((w.inserted, w.updated), (0, 0), "{}", outcome.source);
        assert_eq!(w.unchanged as usize, w.records - w.unknown_genes);
    }
    let ids = again.identifiers.unwrap();
    assert_eq!((ids.inserted, ids.removed), (0, 0));
    assert_eq!(stored_state(&client).await, before);

    // 2. A malformed pLI (PKD1) and ClinVar cell (NPHS1), a changed value (COL4A5), and a
    //    truncated expression file.
    let dir = snapshot_copy("faults");
    let table =
        kgdb_sources::annotations::kidney_table::path(&dir, "C_high_evidence_annotated_csv_table");
    edit_csv(
        &table,
        "approved_symbol",
        &[
            ("PKD1", "pLI", "high"),
            ("NPHS1", "clinvar", "P:x; LP:1; VUS:2"),
            ("COL4A5", "oe_lof", "0.5"),
        ],
    );
    let expression = kgdb_sources::annotations::kidney_table::path(
        &dir,
        "merge_analyses_sources_high_evidence_expression",
    );
    let bytes = std::fs::read(&expression).unwrap();
    std::fs::write(&expression, &bytes[..bytes.len() / 2]).unwrap();
    let (pkd1_gnomad, pkd1_at) = annotation_row(&db, "PKD1", "gnomad").await;
    let (nphs1_clinvar, nphs1_at) = annotation_row(&db, "NPHS1", "clinvar").await;
    let (_, col4a5_at) = annotation_row(&db, "COL4A5", "gnomad").await;
    let gtex_rows: i64 = client
        .query_typed_one(
            "SELECT count(*) FROM gene_annotations WHERE source = 'gtex'",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    let report = ingest_annotations(&writer, &dir).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = |s: &str| report.outcome(s).unwrap().clone();
    assert_eq!(outcome("gnomad").failed_genes, 1);
    assert_eq!(
        outcome("gnomad").written.unwrap().updated,
        1,
        "COL4A5 changed"
    );
    assert_eq!(outcome("clinvar").failed_genes, 1);
    assert_eq!(
        outcome("clinvar").written.unwrap().inserted + outcome("clinvar").written.unwrap().updated,
        0
    );
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.source == "gnomad" && f.gene == "HGNC:9008" && f.message.contains("pLI"))
    );
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.source == "clinvar" && f.gene == "HGNC:7908")
    );
    for source in ["gtex", "descartes"] {
        let error = outcome(source).error.unwrap_or_default();
        assert!(error.contains("cannot read"), "{source}: {error}");
    }
    assert_eq!(outcome("hgnc").error, None);
    // The failed rows kept their stored values; the changed one moved.
    assert_eq!(
        annotation_row(&db, "PKD1", "gnomad").await,
        (pkd1_gnomad, pkd1_at)
    );
    assert_eq!(
        annotation_row(&db, "NPHS1", "clinvar").await,
        (nphs1_clinvar, nphs1_at)
    );
    let (col4a5, col4a5_after) = annotation_row(&db, "COL4A5", "gnomad").await;
    assert_eq!(col4a5["oe_lof"], 0.5);
    assert_ne!(col4a5_after, col4a5_at);
    let gtex_after: i64 = client
        .query_typed_one(
            "SELECT count(*) FROM gene_annotations WHERE source = 'gtex'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(gtex_after, gtex_rows);
}
