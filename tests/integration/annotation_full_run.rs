//! A weekly full annotation run over every bundled gene, end to end: the scheduler's
//! EventBridge entry starts it, an in-process queue feeds the worker, the ten live clients
//! (`Fetchers::live`) fetch from the mock provider world (`kgdb_fetch::mock::providers`, every
//! real URL answered from the source fixtures), the annotation writer stores, the run completes
//! once, and the annotations function serves the new values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kgdb_fetch::mock::providers::{MPO_KIDNEY_TERM_COUNT, install_all};
use kgdb_fetch::mock::{MockServer, local_path};
use kgdb_fetch::sources::hgnc;
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, HttpClient, RetryPolicy};
use kgdb_fn_annotation_pipeline::scheduler::handle_schedule;
use kgdb_fn_annotation_pipeline::{Fetchers, Worker};
use kgdb_pipeline::RunStore;
use kgdb_pipeline::queue::{InProcessQueue, QueueSettings};
use kgdb_tests::{TestDb, get};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

/// Timeouts short enough that a stuck route fails fast, retries quick enough that a flaky one
/// costs milliseconds (the world answers everything locally).
fn client_config() -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(2),
        },
        ..ClientConfig::default()
    }
}

async fn json_of(db: &TestDb, sql: &str) -> Value {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

async fn data_version(db: &TestDb) -> i64 {
    db.client()
        .await
        .query_one("SELECT version FROM data_version", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_weekly_full_run_annotates_every_gene_from_every_source_and_serves_the_values() {
    let db = TestDb::fresh_loaded("full_run").await;
    let genes: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM genes WHERE valid_to = 'infinity'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(genes > 3_000, "the bundled genes ({genes})");
    let version_before = data_version(&db).await;

    let server = MockServer::start().await.unwrap();
    install_all(&server);
    // No per-domain limits: the original's (DomainLimits::original: MouseMine 2 req/s, UniProt
    // 5 req/s, ...) are the providers' rules, not the mock's, and at full size they make the run
    // take most of an hour (mpo_mgi alone: 61 chunks of 50 genes, about 52 requests each when
    // MouseMine's bulk lookup answers nothing and each gene is looked up alone, is ~3,200
    // requests, 27 minutes at 2 req/s). The limiter has its own tests.
    let http = HttpClient::new(
        client_config(),
        DomainLimits::new([]),
        Endpoints::local(&server.origin()).unwrap(),
    )
    .unwrap();
    let pool = kgdb_store::db::build_pool(
        &kgdb_store::config::Config::from_env()
            .with_database_url(db.url.clone())
            .with_pool_size(8),
    )
    .unwrap();
    let runs = RunStore::new(pool);
    // UniProt's live client waits 3 s before each status poll (RUNNING, then the 303): ~6 s a
    // chunk, 31 chunks; 16 at once keep the run well under a minute.
    let queue = InProcessQueue::new(QueueSettings {
        concurrency: 16,
        max_receives: 3,
        redelivery_delay: Duration::from_millis(50),
    });
    let worker = Arc::new(Worker::new(
        runs.clone(),
        Fetchers::live(&http),
        queue.clone(),
        3,
    ));
    let w = worker.clone();
    queue.start(Arc::new(move |body: String, n: u32| {
        let w = w.clone();
        Box::pin(async move { w.process(&body, n).await.delivery() })
    }));

    let started_at = Instant::now();
    let event = LambdaEvent::new(
        json!({"strategy": "full", "job": "weekly_full"}),
        Context::default(),
    );
    let outcome = handle_schedule(&runs, queue.as_ref(), Duration::from_secs(900), event)
        .await
        .unwrap();
    assert_eq!(outcome.job, "weekly_full");
    let started = outcome.started.expect("a run started");
    assert_eq!(started.strategy, "full");
    assert_eq!(started.sources.len(), 10, "{:?}", started.sources);
    assert_eq!(started.sources[0], "hgnc");
    assert_eq!(started.jobs_sent, 1, "phase 1: hgnc alone");
    assert!(
        queue.wait_idle(Duration::from_secs(120)).await,
        "the run did not settle"
    );
    let elapsed = started_at.elapsed();
    assert!(
        queue.dead_letters().is_empty(),
        "{:?}",
        queue.dead_letters()
    );

    // The run completed, and the data version moved exactly once.
    let run_id = started.run_id;
    let run = json_of(
        &db,
        &format!("SELECT to_jsonb(r) FROM annotation_runs r WHERE id = {run_id}"),
    )
    .await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["trigger"], "schedule:weekly_full");
    assert_eq!(run["data_version"], json!(version_before + 1));
    assert_eq!(data_version(&db).await, version_before + 1, "bumped once");

    // Every chunk done; per source, every planned gene has a record or a recorded reason.
    let chunks = json_of(
        &db,
        &format!(
            "SELECT jsonb_agg(jsonb_build_object(
                      'chunk_no', chunk_no, 'source', source, 'status', status,
                      'genes', cardinality(gene_ids), 'records', records,
                      'not_found', not_found, 'gene_failures', gene_failures,
                      'misses', misses, 'millis', millis, 'error', error,
                      'finished', extract(epoch FROM updated_at)) ORDER BY chunk_no)
               FROM annotation_run_chunks WHERE run_id = {run_id}"
        ),
    )
    .await;
    let chunks = chunks.as_array().unwrap();
    assert_eq!(chunks.len() as i64, i64::from(started.chunks_planned));
    let int = |c: &Value, k: &str| c[k].as_i64().unwrap_or_else(|| panic!("{k} of {c}"));
    #[derive(Default)]
    struct Tally {
        chunks: i64,
        genes: i64,
        records: i64,
        not_found: i64,
        failures: i64,
        millis: Vec<i64>,
    }
    let mut by_source: BTreeMap<String, Tally> = BTreeMap::new();
    for c in chunks {
        assert_eq!(c["status"], "done", "{}", c["error"]);
        let misses = c["misses"].as_array().unwrap();
        let kinds = |kind: &str| misses.iter().filter(|m| m["kind"] == kind).count() as i64;
        assert_eq!(kinds("not_found"), int(c, "not_found"));
        assert_eq!(kinds("failed"), int(c, "gene_failures"));
        let distinct: BTreeSet<&str> = misses
            .iter()
            .map(|m| m["hgnc_id"].as_str().unwrap())
            .collect();
        assert_eq!(distinct.len(), misses.len(), "one miss per gene");
        assert!(
            misses
                .iter()
                .all(|m| !m["reason"].as_str().unwrap().is_empty())
        );
        let t = by_source
            .entry(c["source"].as_str().unwrap().to_string())
            .or_default();
        t.chunks += 1;
        t.genes += int(c, "genes");
        t.records += int(c, "records");
        t.not_found += int(c, "not_found");
        t.failures += int(c, "gene_failures");
        t.millis.push(int(c, "millis"));
    }
    assert_eq!(by_source.len(), 10);
    eprintln!(
        "full run: {} chunks over {genes} genes in {:.1} s",
        chunks.len(),
        elapsed.as_secs_f64()
    );
    eprintln!("source      chunks  records not_found failed  ms/chunk(mean)  ms(max)  ms(total)");
    for (source, t) in &by_source {
        assert_eq!(t.genes, genes, "{source}: a full run plans every gene");
        assert_eq!(
            t.records + t.not_found + t.failures,
            t.genes,
            "{source}: every gene has a record or a recorded reason"
        );
        assert!(t.records >= 1, "{source}: at least PKD1");
        let total: i64 = t.millis.iter().sum();
        eprintln!(
            "{source:<11} {:>6} {:>8} {:>9} {:>6} {:>15.0} {:>8} {:>10}",
            t.chunks,
            t.records,
            t.not_found,
            t.failures,
            total as f64 / t.chunks as f64,
            t.millis.iter().max().unwrap(),
            total
        );
    }
    assert_eq!(by_source["mpo_mgi"].chunks, (genes + 49) / 50);
    assert_eq!(by_source["uniprot"].chunks, (genes + 99) / 100);

    // hgnc's chunk ended before any other chunk began (begin ≈ end − millis), and the
    // providers saw its file requested before anything else.
    let hgnc_chunk = chunks.iter().find(|c| c["source"] == "hgnc").unwrap();
    let hgnc_end = hgnc_chunk["finished"].as_f64().unwrap();
    for c in chunks.iter().filter(|c| c["source"] != "hgnc") {
        let begin = c["finished"].as_f64().unwrap() - int(c, "millis") as f64 / 1000.0;
        assert!(
            begin >= hgnc_end,
            "{} chunk {} began before hgnc ended",
            c["source"],
            c["chunk_no"]
        );
    }
    let log = server.requests();
    let hgnc_path = local_path(hgnc::BULK_URL);
    let first_other = log.iter().position(|r| r.path != hgnc_path).unwrap();
    assert!(log[..first_other].iter().all(|r| r.path == hgnc_path));
    assert!(
        log[first_other..].iter().all(|r| r.path != hgnc_path),
        "the hgnc file was read once, first"
    );

    // PKD1 has a row of every source, with the fixtures' live values.
    let stored = json_of(
        &db,
        "SELECT jsonb_object_agg(a.source, a.annotations)
           FROM gene_annotations a JOIN genes g ON g.id = a.gene_id
          WHERE g.approved_symbol = 'PKD1' AND g.valid_to = 'infinity'",
    )
    .await;
    let sources: BTreeSet<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let all: BTreeSet<&str> = kgdb_core::annotation::ANNOTATION_SOURCES
        .iter()
        .copied()
        .collect();
    assert!(all.is_subset(&sources), "{sources:?}");
    check_pkd1(&stored);

    // The annotations function serves them (its cache is off in `db.state()`; the run's
    // completion refreshed the views).
    let state = db.state();
    let reply = get(&state, "/api/annotations/genes/PKD1/annotations").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let served: serde_json::Map<String, Value> = all
        .iter()
        .map(|s| {
            let data = reply.body["annotations"][s][0]["data"].clone();
            assert!(!data.is_null(), "{s} not served: {}", reply.body);
            (s.to_string(), data)
        })
        .collect();
    check_pkd1(&Value::Object(served));

    let reply = get(&state, "/api/annotations/pipeline/status").await;
    assert_eq!(reply.status, 200);
    let status = reply.body;
    let latest = &status["latest_run"];
    assert_eq!(latest["id"], json!(run_id));
    assert_eq!(latest["status"], "completed");
    assert_eq!(latest["chunks"]["done"], json!(chunks.len()));
    assert_eq!(latest["chunks"]["failed"], 0);
    assert_eq!(latest["data_version"], json!(version_before + 1));
    assert_eq!(status["pipeline_ready"], true);
}

/// PKD1's values as the fixtures give them (per source, the annotation object).
fn check_pkd1(a: &Value) {
    assert_eq!(a["hgnc"]["ensembl_gene_id"], "ENSG00000008710");
    assert_eq!(a["hgnc"]["ncbi_gene_id"], "5310");
    assert_eq!(a["hgnc"]["date_modified"], "2024-01-15");
    assert_eq!(a["hgnc"]["gene_family"], json!(["Polycystins"]));
    assert_eq!(a["gnomad"]["pli"], json!(1.0));
    assert_eq!(a["gnomad"]["lof_z"], json!(9.9605));
    assert_eq!(a["gnomad"]["oe_lof"], json!(0.12051));
    assert_eq!(a["clinvar"]["total_count"], 6);
    assert_eq!(a["clinvar"]["pathogenic_count"], 3);
    assert_eq!(a["clinvar"]["likely_pathogenic_count"], 1);
    assert_eq!(a["clinvar"]["vus_count"], 1);
    assert_eq!(
        a["gtex"]["tissues"]["Kidney_Cortex"]["median_tpm"],
        json!(8.34398)
    );
    assert_eq!(
        a["gtex"]["tissues"]["Kidney_Medulla"]["median_tpm"],
        json!(12.0618)
    );
    assert_eq!(a["descartes"]["kidney_tpm"], json!(85.3475340076503));
    assert_eq!(a["descartes"]["kidney_percentage"], json!(41.7));
    assert_eq!(a["hpo"]["has_kidney_phenotype"], true);
    assert_eq!(a["mpo_mgi"]["mouse_orthologs"], json!(["Pkd1"]));
    assert_eq!(
        a["mpo_mgi"]["mpo_terms_searched"],
        json!(MPO_KIDNEY_TERM_COUNT)
    );
    assert_eq!(a["ensembl"]["chromosome"], "16");
    assert!(a["string_ppi"]["ppi_degree"].as_u64().unwrap() >= 1);
    assert_eq!(a["uniprot"]["accession"], "P98161");
    assert_eq!(a["uniprot"]["length"], 4303);
}
