//! A mock provider world: every endpoint the ten live annotation clients call, scripted on a
//! [`MockServer`] under its real URL (the clients' own `pub const`s), answering from the source
//! tests' fixtures (`tests/fixtures/<source>/`, the providers' real formats, compiled in with
//! `include_str!`: one copy of each). Files the providers serve gzipped are gzipped here.
//!
//! Bulk files are the fixtures as they are. The dynamic endpoints answer through functions
//! that stay consistent with those fixtures whatever genes a run asks about:
//!
//! - **HGNC REST** (`fetch/hgnc_id/{n}`, `fetch/symbol/{SYMBOL}`): the complete set's records
//!   (PKD1's as `rest_fetch_hgnc_id_9008.json`), HGNC's empty answer for anything else.
//! - **gnomAD GraphQL**: PKD1 and OR4F5 as their GraphQL fixtures; other genes of the constraint
//!   TSV from its canonical Ensembl row; "Gene not found" otherwise.
//! - **E-utilities**: `esearch` finds PKD1's variant (`esearch_pkd1.json`), nothing for any
//!   other term; `esummary` answers the fixture's records of the ids asked.
//! - **JAX / PURL**: the four kidney roots' descendants; the PURL redirects (302) to HPO's
//!   release download, which serves `genes_to_phenotype.txt`.
//! - **MouseMine**: the kidney MP subtree is the fixture's 5 terms plus stand-in terms up to the
//!   original's 661 (the live client refuses fewer than 100 as a truncated answer: the
//!   fixture is a 5-term stand-in, so `mpo_terms_searched` is 661 in this world);
//!   `HGene_MPhenotype` LOOKUPs answer the fixture's rows of the symbols asked (a comma list or
//!   one), empty results otherwise; `_Genotype_Phenotype` answers the genotype rows whose
//!   symbol CONTAINS the value (so `Pkd1` also finds `Pkd1l2` genotypes, as MouseMine does).
//! - **UniProt**: `idmapping/run` starts a job (its ids kept); its first status poll is
//!   `RUNNING`, the next a 303 to the results; results (paged by `size`, `Link: rel="next"`)
//!   hold every fixture entry naming a submitted symbol (primary name or synonym: PKD1 maps to
//!   P98161 and to PRKD1's Q15139, as in the fixture), `failedIds` the rest; `uniprotkb/search`
//!   answers the `gene_exact:` terms of its query from the same entries.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::{MockResponse, MockServer, RecordedRequest};
use crate::sources::{
    clinvar, descartes, ensembl, gnomad, gtex, hgnc, hpo, mpo_mgi, string_ppi, uniprot,
};

/// A fixture of `tests/fixtures/`, compiled in.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
    };
}

pub const HGNC_COMPLETE_SET: &str = fixture!("hgnc/hgnc_complete_set.json");
pub const HGNC_REST_9008: &str = fixture!("hgnc/rest_fetch_hgnc_id_9008.json");
pub const HGNC_REST_EMPTY: &str = fixture!("hgnc/rest_fetch_empty.json");
pub const GNOMAD_TSV: &str = fixture!("gnomad/gnomad.v4.1.constraint_metrics.tsv");
pub const GNOMAD_GRAPHQL_PKD1: &str = fixture!("gnomad/graphql_pkd1.json");
pub const GNOMAD_GRAPHQL_NO_CONSTRAINT: &str = fixture!("gnomad/graphql_no_constraint.json");
pub const GNOMAD_GRAPHQL_NOT_FOUND: &str = fixture!("gnomad/graphql_not_found.json");
pub const CLINVAR_VARIANT_SUMMARY: &str = fixture!("clinvar/variant_summary.txt");
pub const CLINVAR_ESEARCH_PKD1: &str = fixture!("clinvar/esearch_pkd1.json");
pub const CLINVAR_ESEARCH_EMPTY: &str = fixture!("clinvar/esearch_empty.json");
pub const CLINVAR_ESUMMARY_PKD1: &str = fixture!("clinvar/esummary_pkd1.json");
pub const HPO_GENES_TO_PHENOTYPE: &str = fixture!("hpo/genes_to_phenotype.txt");
const HPO_DESCENDANTS: [(&str, &str); 4] = [
    ("HP:0010935", fixture!("hpo/descendants_HP_0010935.json")),
    ("HP:0000077", fixture!("hpo/descendants_HP_0000077.json")),
    ("HP:0012210", fixture!("hpo/descendants_HP_0012210.json")),
    ("HP:0000079", fixture!("hpo/descendants_HP_0000079.json")),
];
pub const MPO_KIDNEY_TERMS: &str = fixture!("mpo_mgi/kidney_terms.json");
pub const MPO_HGENE: &str = fixture!("mpo_mgi/hgene_mphenotype.json");
pub const MPO_GENOTYPES_PKD1: &str = fixture!("mpo_mgi/genotype_phenotype_pkd1.json");
pub const MPO_GENOTYPES_PKD2: &str = fixture!("mpo_mgi/genotype_phenotype_pkd2.json");
pub const MPO_EMPTY: &str = fixture!("mpo_mgi/empty.json");
pub const GTEX_GCT: &str =
    fixture!("gtex/GTEx_Analysis_2017-06-05_v8_RNASeQCv1.1.9_gene_median_tpm.gct");
pub const DESCARTES_TPM: &str = fixture!("descartes/tissue_tpm_kidney.csv");
pub const DESCARTES_PERCENTAGE: &str = fixture!("descartes/tissue_percentage_kidney.csv");
pub const STRING_INFO: &str = fixture!("string_ppi/9606.protein.info.v12.0.txt");
pub const STRING_LINKS: &str = fixture!("string_ppi/9606.protein.physical.links.v12.0.txt");
pub const ENSEMBL_GTF: &str = fixture!("ensembl/Homo_sapiens.GRCh38.115.chr.gtf");
pub const ENSEMBL_MANE: &str = fixture!("ensembl/MANE.GRCh38.v1.5.summary.txt");
pub const UNIPROT_RUN: &str = fixture!("uniprot/run.json");
pub const UNIPROT_STATUS_RUNNING: &str = fixture!("uniprot/status_running.json");
pub const UNIPROT_RESULTS_PAGE1: &str = fixture!("uniprot/results_page1.json");
pub const UNIPROT_RESULTS_PAGE2: &str = fixture!("uniprot/results_page2.json");
pub const UNIPROT_SEARCH_PKD1: &str = fixture!("uniprot/search_pkd1.json");

/// Where the HPO PURL redirects (HPO's release download).
pub const HPO_RELEASE_URL: &str = "https://github.com/obophenotype/human-phenotype-ontology/releases/latest/download/genes_to_phenotype.txt";
/// The size of the original's static kidney MP term list: the world's subtree answer is padded
/// to it with stand-in terms.
pub const MPO_KIDNEY_TERM_COUNT: usize = 661;
/// UniProt's page size when a results or search request names none.
const UNIPROT_DEFAULT_PAGE: usize = 25;

/// Every source's endpoints.
pub fn install_all(server: &MockServer) {
    install_hgnc(server);
    install_gnomad(server);
    install_clinvar(server);
    install_hpo(server);
    install_mpo_mgi(server);
    install_gtex(server);
    install_descartes(server);
    install_string_ppi(server);
    install_ensembl(server);
    install_uniprot(server);
}

/// The complete set (bulk) and the REST fallback's `fetch/hgnc_id/{n}` and `fetch/symbol/{S}`.
pub fn install_hgnc(server: &MockServer) {
    server.script("GET", hgnc::BULK_URL, vec![json_text(HGNC_COMPLETE_SET)]);
    let mut docs: Vec<Value> = array_at(&parse(HGNC_COMPLETE_SET), "/response/docs");
    for doc in array_at(&parse(HGNC_REST_9008), "/response/docs") {
        let id = doc.get("hgnc_id").cloned();
        docs.retain(|d| d.get("hgnc_id").cloned() != id);
        docs.push(doc);
    }
    let empty = parse(HGNC_REST_EMPTY);
    let prefix = format!("{}/", hgnc::REST_URL);
    let base = mock_path(&prefix);
    server.route_prefix("GET", &prefix, move |req| {
        let rest = req.path.strip_prefix(&base).unwrap_or_default();
        let (kind, key) = rest.split_once('/').unwrap_or((rest, ""));
        let key = decode(key);
        let found: Vec<Value> = docs
            .iter()
            .filter(|d| match kind {
                "hgnc_id" => {
                    let id = key.strip_prefix("HGNC:").unwrap_or(&key);
                    str_at(d, "/hgnc_id") == Some(format!("HGNC:{id}").as_str())
                }
                "symbol" => str_at(d, "/symbol").is_some_and(|s| s.eq_ignore_ascii_case(&key)),
                _ => false,
            })
            .cloned()
            .collect();
        let mut answer = empty.clone();
        if let Some(response) = answer.get_mut("response") {
            response["numFound"] = json!(found.len());
            response["docs"] = Value::Array(found);
        }
        MockResponse::json(&answer)
    });
}

/// The v4.1 constraint TSV (bulk) and the GraphQL fallback.
pub fn install_gnomad(server: &MockServer) {
    server.script(
        "GET",
        gnomad::BULK_URL,
        vec![MockResponse::ok(GNOMAD_TSV).header("content-type", "text/tab-separated-values")],
    );
    let fixed: Vec<Value> = [GNOMAD_GRAPHQL_PKD1, GNOMAD_GRAPHQL_NO_CONSTRAINT]
        .into_iter()
        .map(parse)
        .collect();
    let from_tsv = gnomad_graphql_genes(GNOMAD_TSV);
    let not_found = parse(GNOMAD_GRAPHQL_NOT_FOUND);
    server.route("POST", gnomad::GRAPHQL_URL, move |req| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let Some(query) = body.get("query").and_then(Value::as_str) else {
            return MockResponse::new(
                400,
                r#"{"errors":[{"message":"Must provide query string."}]}"#,
            )
            .header("content-type", "application/json");
        };
        if !query.contains("gnomad_constraint") {
            return MockResponse::json(&json!({"errors": [{"message": "mock: unexpected query"}]}));
        }
        let gene_id = str_at(&body, "/variables/gene_id").map(str::to_string);
        let symbol = str_at(&body, "/variables/gene_symbol").map(str::to_string);
        let matches = |gene: &Value| {
            gene_id
                .as_deref()
                .is_some_and(|id| str_at(gene, "/gene_id") == Some(id))
                || symbol.as_deref().is_some_and(|s| {
                    str_at(gene, "/symbol").is_some_and(|g| g.eq_ignore_ascii_case(s))
                })
        };
        let answer = fixed
            .iter()
            .find(|a| a.pointer("/data/gene").is_some_and(matches))
            .cloned()
            .or_else(|| {
                from_tsv
                    .iter()
                    .find(|g| matches(g))
                    .map(|g| json!({"data": {"gene": g}}))
            })
            .unwrap_or_else(|| not_found.clone());
        MockResponse::json(&answer)
    });
}

/// `variant_summary.txt.gz` (bulk) and E-utilities' `esearch` / `esummary`.
pub fn install_clinvar(server: &MockServer) {
    server.script(
        "GET",
        clinvar::VARIANT_SUMMARY_URL,
        vec![gzipped(CLINVAR_VARIANT_SUMMARY)],
    );
    let searches: Vec<Value> = vec![parse(CLINVAR_ESEARCH_PKD1)];
    let empty_search = parse(CLINVAR_ESEARCH_EMPTY);
    server.route(
        "GET",
        &format!("{}/esearch.fcgi", clinvar::EUTILS_URL),
        move |req| {
            let q = params(req.query.as_deref().unwrap_or_default().as_bytes());
            if q.get("db").map(String::as_str) != Some("clinvar") {
                return MockResponse::json(&json!({"error": "mock: db must be clinvar"}));
            }
            let term = q.get("term").cloned().unwrap_or_default();
            let start: usize = q.get("retstart").and_then(|s| s.parse().ok()).unwrap_or(0);
            let mut answer = searches
                .iter()
                .find(|s| {
                    str_at(s, "/esearchresult/querytranslation")
                        .is_some_and(|t| t.eq_ignore_ascii_case(&term))
                })
                .cloned()
                .unwrap_or_else(|| {
                    let mut e = empty_search.clone();
                    e["esearchresult"]["querytranslation"] = json!(term);
                    e
                });
            if start > 0 {
                answer["esearchresult"]["idlist"] = json!([]);
                answer["esearchresult"]["retstart"] = json!(start.to_string());
            }
            MockResponse::json(&answer)
        },
    );
    let summary = parse(CLINVAR_ESUMMARY_PKD1);
    server.route(
        "POST",
        &format!("{}/esummary.fcgi", clinvar::EUTILS_URL),
        move |req| {
            let form = params(&req.body);
            let ids: Vec<&str> = form
                .get("id")
                .map(|ids| ids.split(',').map(str::trim).collect())
                .unwrap_or_default();
            let mut result = Map::new();
            let mut uids = Vec::new();
            for id in ids {
                if let Some(record) = summary.pointer(&format!("/result/{id}")) {
                    uids.push(json!(id));
                    result.insert(id.to_string(), record.clone());
                }
            }
            result.insert("uids".into(), Value::Array(uids));
            let header = summary.get("header").cloned().unwrap_or(Value::Null);
            MockResponse::json(&json!({"header": header, "result": result}))
        },
    );
}

/// The JAX descendants of the four kidney roots and `genes_to_phenotype.txt` behind its PURL.
pub fn install_hpo(server: &MockServer) {
    for (root, body) in HPO_DESCENDANTS {
        server.script(
            "GET",
            &format!("{}/hp/terms/{root}/descendants", hpo::JAX_API_URL),
            vec![json_text(body)],
        );
    }
    server.script(
        "GET",
        hpo::GENES_TO_PHENOTYPE_URL,
        vec![MockResponse::new(302, "").header("Location", HPO_RELEASE_URL)],
    );
    server.script(
        "GET",
        HPO_RELEASE_URL,
        vec![MockResponse::ok(HPO_GENES_TO_PHENOTYPE).header("content-type", "text/plain")],
    );
}

/// MouseMine: the kidney MP subtree query and the two templates.
pub fn install_mpo_mgi(server: &MockServer) {
    let mut terms = parse(MPO_KIDNEY_TERMS);
    let mut rows = array_at(&terms, "/results");
    let mut n = 0u32;
    while rows.len() < MPO_KIDNEY_TERM_COUNT {
        n += 1;
        rows.push(json!([
            format!("MP:{:07}", 9_000_000 + n),
            format!("stand-in renal/urinary term {n}")
        ]));
    }
    terms["results"] = Value::Array(rows);
    let empty_terms = {
        let mut e = terms.clone();
        e["results"] = json!([]);
        e
    };
    server.route("GET", mpo_mgi::QUERY_RESULTS_URL, move |req| {
        let q = params(req.query.as_deref().unwrap_or_default().as_bytes());
        let query = q.get("query").map(String::as_str).unwrap_or_default();
        if !query.contains("OntologyTerm") {
            return mousemine_error("mock: not an OntologyTerm query");
        }
        if query.contains(mpo_mgi::KIDNEY_ROOT_TERM) {
            MockResponse::json(&terms)
        } else {
            MockResponse::json(&empty_terms)
        }
    });

    let hgene = parse(MPO_HGENE);
    let hgene_rows = array_at(&hgene, "/results");
    let empty = parse(MPO_EMPTY);
    let genotype_envelope = parse(MPO_GENOTYPES_PKD1);
    let genotype_rows: Vec<Value> = [MPO_GENOTYPES_PKD1, MPO_GENOTYPES_PKD2]
        .into_iter()
        .flat_map(|text| array_at(&parse(text), "/results"))
        .collect();
    server.route("GET", mpo_mgi::TEMPLATE_RESULTS_URL, move |req| {
        let q = params(req.query.as_deref().unwrap_or_default().as_bytes());
        let value = q.get("value1").cloned().unwrap_or_default();
        match q.get("name").map(String::as_str) {
            Some("HGene_MPhenotype") => {
                let asked: BTreeSet<String> = value
                    .split(',')
                    .map(|s| s.trim().to_ascii_uppercase())
                    .filter(|s| !s.is_empty())
                    .collect();
                let found: Vec<Value> = hgene_rows
                    .iter()
                    .filter(|r| {
                        str_at(r, "/1").is_some_and(|s| asked.contains(&s.to_ascii_uppercase()))
                    })
                    .cloned()
                    .collect();
                let mut answer = if found.is_empty() {
                    empty.clone()
                } else {
                    hgene.clone()
                };
                answer["results"] = Value::Array(found);
                MockResponse::json(&answer)
            }
            Some("_Genotype_Phenotype") => {
                let needle = value.trim().to_ascii_lowercase();
                let found: Vec<Value> = genotype_rows
                    .iter()
                    .filter(|r| {
                        !needle.is_empty()
                            && str_at(r, "/1")
                                .is_some_and(|s| s.to_ascii_lowercase().contains(&needle))
                    })
                    .cloned()
                    .collect();
                let mut answer = genotype_envelope.clone();
                answer["results"] = Value::Array(found);
                MockResponse::json(&answer)
            }
            other => mousemine_error(&format!("mock: no template {other:?}")),
        }
    });
}

/// The v8 median-TPM GCT, gzipped.
pub fn install_gtex(server: &MockServer) {
    server.script("GET", gtex::BULK_URL, vec![gzipped(GTEX_GCT)]);
}

/// The two kidney tables.
pub fn install_descartes(server: &MockServer) {
    server.script(
        "GET",
        descartes::TPM_URL,
        vec![MockResponse::ok(DESCARTES_TPM).header("content-type", "text/csv")],
    );
    server.script(
        "GET",
        descartes::PERCENTAGE_URL,
        vec![MockResponse::ok(DESCARTES_PERCENTAGE).header("content-type", "text/csv")],
    );
}

/// protein.info and the physical links, gzipped.
pub fn install_string_ppi(server: &MockServer) {
    server.script(
        "GET",
        string_ppi::PROTEIN_INFO_URL,
        vec![gzipped(STRING_INFO)],
    );
    server.script(
        "GET",
        string_ppi::PHYSICAL_LINKS_URL,
        vec![gzipped(STRING_LINKS)],
    );
}

/// The GTF and the MANE summary, gzipped.
pub fn install_ensembl(server: &MockServer) {
    server.script("GET", ensembl::GTF_URL, vec![gzipped(ENSEMBL_GTF)]);
    server.script("GET", ensembl::MANE_URL, vec![gzipped(ENSEMBL_MANE)]);
}

/// A submitted ID-mapping job: its symbols and how often its status was asked.
struct Job {
    ids: Vec<String>,
    polls: u32,
}

/// UniProt's ID-mapping job (run, status, paged results) and `uniprotkb/search`.
pub fn install_uniprot(server: &MockServer) {
    let entries = Arc::new(uniprot_entries());
    let jobs: Arc<Mutex<HashMap<String, Job>>> = Arc::default();
    let next_job = Arc::new(AtomicU64::new(0));
    // The fixture's job id shape (40 hex digits), one per submission.
    let template = str_at(&parse(UNIPROT_RUN), "/jobId")
        .unwrap_or("5b0c0e4f7a2d9c1e3b6a8f0d2c4e6a8b0d2f4a6c")
        .to_string();

    let submitted = jobs.clone();
    server.route("POST", uniprot::RUN_URL, move |req| {
        let form = params(&req.body);
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
        if field("from") != "Gene_Name" || field("to") != "UniProtKB" || field("ids").is_empty() {
            return uniprot_error(400, "mock: expected from=Gene_Name, to=UniProtKB and ids");
        }
        let ids: Vec<String> = field("ids")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let n = next_job.fetch_add(1, Ordering::SeqCst);
        let suffix = format!("{n:08x}");
        let keep = template.len().saturating_sub(suffix.len());
        let job = format!("{}{suffix}", template.get(..keep).unwrap_or_default());
        lock(&submitted).insert(job.clone(), Job { ids, polls: 0 });
        MockResponse::json(&json!({"jobId": job}))
    });

    let polled = jobs.clone();
    let status_base = mock_path(uniprot::STATUS_URL);
    let running = parse(UNIPROT_STATUS_RUNNING);
    server.route_prefix("GET", uniprot::STATUS_URL, move |req| {
        let job = req.path.strip_prefix(&status_base).unwrap_or_default();
        let mut jobs = lock(&polled);
        let Some(state) = jobs.get_mut(job) else {
            return uniprot_error(404, "Resource not found");
        };
        state.polls += 1;
        if state.polls == 1 {
            MockResponse::json(&running)
        } else {
            MockResponse::new(303, "").header("Location", &format!("{}{job}", uniprot::RESULTS_URL))
        }
    });

    let finished = jobs;
    let results_base = mock_path(uniprot::RESULTS_URL);
    let results_entries = entries.clone();
    server.route_prefix("GET", uniprot::RESULTS_URL, move |req| {
        let job = req.path.strip_prefix(&results_base).unwrap_or_default();
        let ids = match lock(&finished).get(job) {
            Some(state) => state.ids.clone(),
            None => return uniprot_error(404, "Resource not found"),
        };
        let mut results = Vec::new();
        let mut failed = Vec::new();
        for id in &ids {
            let mapped: Vec<&Value> = results_entries
                .iter()
                .filter(|e| names_gene(e, id))
                .collect();
            if mapped.is_empty() {
                failed.push(json!(id));
            }
            results.extend(mapped.into_iter().map(|e| json!({"from": id, "to": e})));
        }
        let url = format!("{}{job}", uniprot::RESULTS_URL);
        uniprot_page(req, &url, results, Some(failed))
    });

    server.route("GET", uniprot::SEARCH_URL, move |req| {
        let q = params(req.query.as_deref().unwrap_or_default().as_bytes());
        let query = q.get("query").cloned().unwrap_or_default();
        let symbols = gene_exact_terms(&query);
        if symbols.is_empty() {
            return uniprot_error(400, "mock: expected gene_exact: terms");
        }
        let results: Vec<Value> = entries
            .iter()
            .filter(|e| symbols.iter().any(|s| names_gene(e, s)))
            .cloned()
            .collect();
        uniprot_page(req, uniprot::SEARCH_URL, results, None)
    });
}

/// One page of `items` by the request's `size` and `cursor` (an offset here), with a `Link` to
/// the next; `failedIds` on the first page.
fn uniprot_page(
    req: &RecordedRequest,
    real_url: &str,
    items: Vec<Value>,
    failed: Option<Vec<Value>>,
) -> MockResponse {
    let q = params(req.query.as_deref().unwrap_or_default().as_bytes());
    let size = q
        .get("size")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(UNIPROT_DEFAULT_PAGE);
    if size == 0 || size > uniprot::MAX_PAGE_SIZE {
        return uniprot_error(400, "Invalid size parameter");
    }
    let start = q
        .get("cursor")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let end = (start + size).min(items.len());
    let page: Vec<Value> = items
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut body = json!({"results": page});
    if let Some(failed) = failed.filter(|f| start == 0 && !f.is_empty()) {
        body["failedIds"] = Value::Array(failed);
    }
    let mut response = MockResponse::json(&body);
    if end < items.len() {
        let mut next: Vec<(String, String)> =
            q.into_iter().filter(|(k, _)| k != "cursor").collect();
        next.sort();
        next.push(("cursor".into(), end.to_string()));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(next)
            .finish();
        response = response.header("Link", &format!("<{real_url}?{query}>; rel=\"next\""));
    }
    response
}

/// The distinct entries of the UniProt fixtures (results pages and search), first copy kept.
fn uniprot_entries() -> Vec<Value> {
    let mut entries: Vec<Value> = Vec::new();
    let mapped = [UNIPROT_RESULTS_PAGE1, UNIPROT_RESULTS_PAGE2]
        .into_iter()
        .flat_map(|p| array_at(&parse(p), "/results"))
        .filter_map(|r| r.get("to").cloned());
    let searched = array_at(&parse(UNIPROT_SEARCH_PKD1), "/results");
    for entry in mapped.chain(searched) {
        let accession = str_at(&entry, "/primaryAccession").map(str::to_string);
        if !entries
            .iter()
            .any(|e| str_at(e, "/primaryAccession").map(str::to_string) == accession)
        {
            entries.push(entry);
        }
    }
    entries
}

/// Whether an entry names `symbol` as a gene name or synonym (Gene_Name mapping and
/// `gene_exact` both match synonyms).
fn names_gene(entry: &Value, symbol: &str) -> bool {
    entry
        .get("genes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|g| {
            let primary = g.pointer("/geneName/value").into_iter();
            let synonyms = g
                .get("synonyms")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("value"));
            primary.chain(synonyms)
        })
        .filter_map(Value::as_str)
        .any(|name| name.eq_ignore_ascii_case(symbol))
}

/// The symbols of `(gene_exact:X)` terms, backslash escapes undone.
fn gene_exact_terms(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = query;
    while let Some(i) = rest.find("gene_exact:") {
        rest = &rest[i + "gene_exact:".len()..];
        let mut symbol = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => symbol.extend(chars.next()),
                ')' | ' ' => break,
                c => symbol.push(c),
            }
        }
        out.push(symbol);
    }
    out
}

/// The genes of the constraint TSV as the GraphQL API would answer them: each gene's canonical
/// Ensembl row (`NA` → null; a value that is no number is passed on as text, as a broken
/// server would).
fn gnomad_graphql_genes(tsv: &str) -> Vec<Value> {
    const FIELDS: [(&str, &str); 19] = [
        ("exp_lof", "lof.exp"),
        ("exp_mis", "mis.exp"),
        ("exp_syn", "syn.exp"),
        ("obs_lof", "lof.obs"),
        ("obs_mis", "mis.obs"),
        ("obs_syn", "syn.obs"),
        ("oe_lof", "lof.oe"),
        ("oe_lof_lower", "lof.oe_ci.lower"),
        ("oe_lof_upper", "lof.oe_ci.upper"),
        ("oe_mis", "mis.oe"),
        ("oe_mis_lower", "mis.oe_ci.lower"),
        ("oe_mis_upper", "mis.oe_ci.upper"),
        ("oe_syn", "syn.oe"),
        ("oe_syn_lower", "syn.oe_ci.lower"),
        ("oe_syn_upper", "syn.oe_ci.upper"),
        ("lof_z", "lof.z_score"),
        ("mis_z", "mis.z_score"),
        ("syn_z", "syn.z_score"),
        ("pli", "lof.pLI"),
    ];
    let mut lines = tsv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let header: Vec<&str> = header.split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(gene), Some(gene_id), Some(transcript), Some(canonical)) = (
        col("gene"),
        col("gene_id"),
        col("transcript"),
        col("canonical"),
    ) else {
        return Vec::new();
    };
    let flags = col("constraint_flags");
    let mut genes = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |i: usize| cells.get(i).copied().unwrap_or_default().trim();
        if cell(canonical) != "true" || !cell(transcript).starts_with("ENST") {
            continue;
        }
        let mut constraint = Map::new();
        for (key, column) in FIELDS {
            let raw = col(column).map(cell).unwrap_or("NA");
            let value = match raw {
                "" | "NA" => Value::Null,
                v => v
                    .parse::<f64>()
                    .ok()
                    .and_then(|x| serde_json::Number::from_f64(x).map(Value::Number))
                    .unwrap_or_else(|| json!(v)),
            };
            constraint.insert(key.to_string(), value);
        }
        let flag_list: Vec<String> = flags
            .map(cell)
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .split(',')
            .map(|f| f.trim().trim_matches(['\'', '"']).to_string())
            .filter(|f| !f.is_empty() && f != "NA")
            .collect();
        constraint.insert("flags".into(), json!(flag_list));
        genes.push(json!({
            "gene_id": cell(gene_id),
            "symbol": cell(gene),
            "canonical_transcript_id": cell(transcript),
            "gnomad_constraint": constraint,
        }));
    }
    genes
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "mock providers: a fixture is not JSON");
        Value::Null
    })
}

fn array_at(value: &Value, pointer: &str) -> Vec<Value> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn params(encoded: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// A percent-encoded path segment, decoded.
fn decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The mock's path of a real URL (a prefix keeps its trailing `/`).
fn mock_path(real_url: &str) -> String {
    super::local_path(real_url)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn json_text(text: &'static str) -> MockResponse {
    MockResponse::ok(text).header("content-type", "application/json")
}

/// The file gzipped, as the provider serves it (a 500 naming the failure should gzip fail).
fn gzipped(text: &str) -> MockResponse {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    match encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
    {
        Ok(bytes) => MockResponse::ok(bytes).header("content-type", "application/gzip"),
        Err(e) => MockResponse::new(500, format!("mock: gzip: {e}")),
    }
}

fn mousemine_error(message: &str) -> MockResponse {
    let body = json!({"wasSuccessful": false, "error": message, "statusCode": 400});
    MockResponse::new(400, body.to_string()).header("content-type", "application/json")
}

fn uniprot_error(status: u16, message: &str) -> MockResponse {
    let body = json!({"url": "https://rest.uniprot.org", "messages": [message]});
    MockResponse::new(status, body.to_string()).header("content-type", "application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_json_fixture_parses() {
        for text in [
            HGNC_COMPLETE_SET,
            HGNC_REST_9008,
            HGNC_REST_EMPTY,
            GNOMAD_GRAPHQL_PKD1,
            GNOMAD_GRAPHQL_NO_CONSTRAINT,
            GNOMAD_GRAPHQL_NOT_FOUND,
            CLINVAR_ESEARCH_PKD1,
            CLINVAR_ESEARCH_EMPTY,
            CLINVAR_ESUMMARY_PKD1,
            MPO_KIDNEY_TERMS,
            MPO_HGENE,
            MPO_GENOTYPES_PKD1,
            MPO_GENOTYPES_PKD2,
            MPO_EMPTY,
            UNIPROT_RUN,
            UNIPROT_STATUS_RUNNING,
            UNIPROT_RESULTS_PAGE1,
            UNIPROT_RESULTS_PAGE2,
            UNIPROT_SEARCH_PKD1,
        ]
        .into_iter()
        .chain(HPO_DESCENDANTS.map(|(_, t)| t))
        {
            serde_json::from_str::<Value>(text).unwrap();
        }
    }

    #[test]
    fn uniprot_entries_and_gene_names() {
        let entries = uniprot_entries();
        let accessions: Vec<&str> = entries
            .iter()
            .filter_map(|e| str_at(e, "/primaryAccession"))
            .collect();
        assert_eq!(accessions, ["P98161", "Q15139", "Q13563"]);
        let pkd1: Vec<&str> = entries
            .iter()
            .filter(|e| names_gene(e, "pkd1"))
            .filter_map(|e| str_at(e, "/primaryAccession"))
            .collect();
        assert_eq!(pkd1, ["P98161", "Q15139"]);
        assert_eq!(
            gene_exact_terms("((gene_exact:PKD1) OR (gene_exact:HLA\\-A\\:1)) AND (reviewed:true)"),
            ["PKD1", "HLA-A:1"]
        );
    }

    #[test]
    fn the_tsv_genes_as_graphql_answers() {
        let genes = gnomad_graphql_genes(GNOMAD_TSV);
        let nphs1 = genes.iter().find(|g| g["symbol"] == "NPHS1").unwrap();
        assert_eq!(nphs1["gene_id"], "ENSG00000161270");
        assert_eq!(nphs1["gnomad_constraint"]["oe_lof"], json!(0.52087));
        assert_eq!(
            nphs1["gnomad_constraint"]["flags"],
            json!(["no_exp_mis", "outlier_mis"])
        );
        let pkd1 = genes.iter().find(|g| g["symbol"] == "PKD1").unwrap();
        assert_eq!(pkd1["canonical_transcript_id"], "ENST00000262304");
        assert_eq!(decode("HGNC%3A9008"), "HGNC:9008");
    }
}
