//! `events/annotation/*`: the SQS batch and the schedule inputs, replayed through the real
//! handlers and, under the Runtime API emulator, through the built worker and scheduler
//! binaries (SQS is moto's, the providers are the mock provider world).

use std::sync::Arc;

use kgdb_core::jobs::JobSender;
use kgdb_fetch::mock::MockServer;
use kgdb_fn_annotation_pipeline::scheduler::handle_schedule;
use kgdb_fn_annotation_pipeline::worker::handle_sqs;
use kgdb_fn_annotation_pipeline::{Fetchers, Worker};
use kgdb_pipeline::queue::SqsSender;
use kgdb_pipeline::{RunRequest, RunStore, Strategy};
use kgdb_tests::{Outbox, TestDb};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::lambda_runtime::{binary, config, invoke, samples, spawn, template};

fn sample(name: &str) -> Value {
    samples("annotation")
        .into_iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("events/annotation/{name} is missing"))
        .1
}

/// Run 1 of a fresh database: gnomAD for PKD1, NPHS1 and COL4A5, one chunk (chunk 0), which
/// is what the SQS sample's job names.
async fn plan_run_one(db: &TestDb, sender: &dyn JobSender) -> RunStore {
    let runs = RunStore::new(db.state().pool.clone());
    let client = db.client().await;
    let genes: Vec<i64> = client
        .query(
            "SELECT id FROM genes WHERE approved_symbol IN ('PKD1', 'NPHS1', 'COL4A5')",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let request = RunRequest {
        strategy: Strategy::Selective,
        sources: vec!["gnomad".into()],
        gene_ids: genes,
        trigger: "events-test".into(),
    };
    let run = runs.start(&request, sender).await.unwrap();
    assert_eq!(
        (run.run_id, run.chunks_planned),
        (1, 1),
        "the sample names run 1, chunk 0"
    );
    runs
}

async fn chunk_status(db: &TestDb) -> String {
    db.client()
        .await
        .query_one(
            "SELECT status FROM annotation_run_chunks WHERE run_id = 1 AND chunk_no = 0",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

fn live_fetchers(server: &MockServer) -> Fetchers {
    let client = kgdb_fetch::HttpClient::new(
        kgdb_fetch::ClientConfig::default(),
        kgdb_fetch::DomainLimits::new([]),
        kgdb_fetch::Endpoints::local(&server.origin()).unwrap(),
    )
    .unwrap();
    Fetchers::live(&client)
}

fn poison_id(event: &Value) -> String {
    event["Records"][1]["messageId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_samples_through_the_handlers() {
    let server = MockServer::start().await.unwrap();
    kgdb_fetch::mock::providers::install_all(&server);
    let db = TestDb::fresh_loaded("ev_handlers").await;
    let outbox = Arc::new(Outbox::default());
    let runs = plan_run_one(&db, outbox.as_ref()).await;
    let worker = Worker::new(runs.clone(), live_fetchers(&server), outbox.clone(), 3);

    let event = sample("sqs-batch.json");
    let typed = serde_json::from_value(event.clone()).unwrap();
    let response = handle_sqs(&worker, LambdaEvent::new(typed, Context::default()))
        .await
        .unwrap();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, [poison_id(&event)]);
    assert_eq!(chunk_status(&db).await, "done");

    for name in [
        "schedule-weekly-full.json",
        "schedule-daily-incremental.json",
    ] {
        let outcome = handle_schedule(
            &runs,
            outbox.as_ref(),
            std::time::Duration::from_secs(3600),
            LambdaEvent::new(sample(name), Context::default()),
        )
        .await
        .unwrap();
        let outcome = serde_json::to_value(&outcome).unwrap();
        if name.contains("weekly") {
            // Full: every source, hgnc's chunk sent first.
            assert_eq!(outcome["started"]["strategy"], "full", "{outcome}");
            assert_eq!(outcome["started"]["sources"].as_array().unwrap().len(), 10);
            assert_eq!(outcome["started"]["jobs_sent"], 1);
        } else {
            // The weekly run is still in flight: the daily one is skipped, not doubled.
            assert!(
                outcome["skipped"].as_str().unwrap().contains("in progress"),
                "{outcome}"
            );
        }
    }
}

/// A queue in moto for the binaries (they send phase 2 and the scheduler's jobs there).
async fn moto_queue(label: &str) -> (String, SqsSender) {
    let endpoint = kgdb_tests::dynamodb_url();
    let probe = SqsSender::connect(String::new(), Some(endpoint.clone())).await;
    let name = format!("kgdb-ev-{label}-{}", std::process::id());
    let url = probe
        .client()
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    (
        endpoint.clone(),
        SqsSender::connect(url, Some(endpoint)).await,
    )
}

#[tokio::test]
async fn the_samples_through_the_binaries_over_the_runtime_api() {
    let server = MockServer::start().await.unwrap();
    kgdb_fetch::mock::providers::install_all(&server);
    let db = TestDb::fresh_loaded("ev_binaries").await;
    let (endpoint, queue) = moto_queue("bin").await;
    plan_run_one(&db, &Outbox::default()).await;
    let template = template();
    let with_env = |id: &str, bin: &str| {
        config(&template, id, bin, &db.url)
            .with_env("KGDB_ANNOTATION_QUEUE_URL", queue.queue_url())
            .with_env("AWS_ENDPOINT_URL", endpoint.as_str())
            .with_env("AWS_ACCESS_KEY_ID", "test")
            .with_env("AWS_SECRET_ACCESS_KEY", "test")
            .with_env("KGDB_FETCH_ORIGIN", server.origin())
            // moto keeps queues per region; the test's queue is in the SDK default's.
            .with_env("AWS_REGION", "us-east-1")
    };
    let worker_bin = "kgdb-fn-annotation-worker";
    binary(worker_bin);
    let mut worker = spawn(with_env("AnnotationWorkerFunction", worker_bin)).await;
    let event = sample("sqs-batch.json");
    let invocation = invoke(&mut worker, "sqs-batch.json", &event).await;
    let response = invocation.response_json().unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": poison_id(&event)}]})
    );
    assert_eq!(chunk_status(&db).await, "done");
    // The same batch again (SQS redelivers what was reported, and may redeliver anything):
    // the finished chunk is not fetched twice.
    let requests = server.requests().len();
    let again = invoke(&mut worker, "sqs-batch.json again", &event).await;
    assert_eq!(again.response_json().unwrap(), response);
    assert_eq!(server.requests().len(), requests);
    eprintln!(
        "annotation worker: init {:?}, peak RSS {} KiB",
        worker.init_duration().unwrap_or_default(),
        worker.peak_rss_kib().unwrap_or_default()
    );

    let scheduler_bin = "kgdb-fn-annotation-scheduler";
    binary(scheduler_bin);
    let mut scheduler = spawn(with_env("AnnotationSchedulerFunction", scheduler_bin)).await;
    let invocation = invoke(
        &mut scheduler,
        "schedule-weekly-full.json",
        &sample("schedule-weekly-full.json"),
    )
    .await;
    let outcome = invocation.response_json().unwrap();
    assert_eq!(outcome["job"], "weekly_full", "{outcome}");
    assert_eq!(outcome["started"]["strategy"], "full");
    assert_eq!(outcome["started"]["jobs_sent"], 1, "{outcome}");
    let sent = queue
        .client()
        .receive_message()
        .queue_url(queue.queue_url())
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let bodies: Vec<&str> = sent.messages().iter().filter_map(|m| m.body()).collect();
    let run_id = outcome["started"]["run_id"].as_i64().unwrap();
    assert_eq!(
        bodies,
        [format!("{{\"run_id\":{run_id},\"chunk_no\":0}}")],
        "hgnc first"
    );
    // An Input the scheduler cannot read is a Lambda error, never a run.
    let bad = invoke(
        &mut scheduler,
        "bad input",
        &json!({"strategy": "sometimes"}),
    )
    .await;
    assert!(bad.error().is_some());
    assert!(scheduler.is_running());
}
