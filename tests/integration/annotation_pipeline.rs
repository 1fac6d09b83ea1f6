//! The annotation pipeline's machinery against real Postgres and SQS (moto): runs, phases,
//! completion once, redelivery, failures, partial batch responses, dead letters. The fetchers
//! here are scripted (what they answer is the test's input); the live clients against the mock
//! provider server are exercised by `annotation_full_run.rs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use futures::future::BoxFuture;
use kgdb_core::annotation::AnnotationRecord;
use kgdb_core::jobs::JobSender;
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, FetchOutcome, GeneKey};
use kgdb_fn_annotation_pipeline::worker::handle_sqs;
use kgdb_fn_annotation_pipeline::{Fetchers, JobOutcome, Worker};
use kgdb_pipeline::queue::{InProcessQueue, QueueSettings, SqsSender};
use kgdb_pipeline::{RunRequest, RunStore, Strategy};
use kgdb_tests::{Outbox, TestDb};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
enum Script {
    Annotate(&'static str),
    Fail { status: u16 },
}

/// When a fetcher was called, with which symbols.
type CallLog = Arc<Mutex<Vec<(Instant, Vec<String>)>>>;

/// Answers what the test scripted, and logs when it was called with which genes.
#[derive(Clone)]
struct ScriptedFetcher {
    source: &'static str,
    script: Arc<Mutex<Script>>,
    calls: CallLog,
}

impl ScriptedFetcher {
    fn new(source: &'static str, script: Script) -> Self {
        Self {
            source,
            script: Arc::new(Mutex::new(script)),
            calls: Arc::default(),
        }
    }
    fn set(&self, script: Script) {
        *self.script.lock().unwrap() = script;
    }
    fn calls(&self) -> Vec<(Instant, Vec<String>)> {
        self.calls.lock().unwrap().clone()
    }
}

impl AnnotationFetcher for ScriptedFetcher {
    fn source(&self) -> &'static str {
        self.source
    }
    fn ttl_days(&self) -> i32 {
        90
    }
    fn chunking(&self) -> Chunking {
        Chunking::Bulk
    }
    fn fetch<'a>(
        &'a self,
        genes: &'a [GeneKey],
    ) -> BoxFuture<'a, Result<FetchOutcome, FetchError>> {
        let script = self.script.lock().unwrap().clone();
        self.calls.lock().unwrap().push((
            Instant::now(),
            genes.iter().map(|g| g.symbol.clone()).collect(),
        ));
        Box::pin(async move {
            match script {
                Script::Fail { status } => Err(FetchError::Status {
                    url: format!("https://{}.example/bulk", self.source),
                    status,
                    excerpt: "scripted failure".into(),
                    retry_after: None,
                }),
                Script::Annotate(value) => {
                    let mut outcome = FetchOutcome::default();
                    for g in genes {
                        let mut annotations = json!({"gene_symbol": g.symbol, "value": value});
                        if self.source == "hgnc" {
                            annotations = json!({
                                "hgnc_id": g.hgnc_id, "symbol": g.symbol,
                                "ensembl_gene_id": g.ensembl_gene_id, "ncbi_gene_id": g.ncbi_gene_id,
                                "prev_symbol": [format!("{}-OLD", g.symbol)], "value": value,
                            });
                        }
                        outcome.records.push(AnnotationRecord {
                            hgnc_id: g.hgnc_id.clone(),
                            source: self.source,
                            version: "test-1".into(),
                            annotations,
                            metadata: json!({"origin": "scripted"}),
                        });
                    }
                    Ok(outcome)
                }
            }
        })
    }
}

struct Fixture {
    db: TestDb,
    runs: RunStore,
    hgnc: ScriptedFetcher,
    gnomad: ScriptedFetcher,
    genes: Vec<i64>,
}

async fn fixture(label: &str) -> Fixture {
    let db = TestDb::fresh_loaded(label).await;
    let state = db.state();
    let runs = RunStore::new(state.pool.clone());
    let client = db.client().await;
    let genes: Vec<i64> = client
        .query(
            "SELECT id FROM genes WHERE approved_symbol IN ('PKD1', 'NPHS1', 'COL4A5') ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(genes.len(), 3);
    Fixture {
        db,
        runs,
        hgnc: ScriptedFetcher::new("hgnc", Script::Annotate("v1")),
        gnomad: ScriptedFetcher::new("gnomad", Script::Annotate("v1")),
        genes,
    }
}

impl Fixture {
    fn worker(&self, sender: Arc<dyn JobSender>, max_receives: u32) -> Worker {
        let fetchers = Fetchers::new()
            .with(self.hgnc.clone())
            .with(self.gnomad.clone());
        Worker::new(self.runs.clone(), fetchers, sender, max_receives)
    }

    fn request(&self, sources: &[&str]) -> RunRequest {
        RunRequest {
            strategy: Strategy::Selective,
            sources: sources.iter().map(|s| s.to_string()).collect(),
            gene_ids: self.genes.clone(),
            trigger: "test".into(),
        }
    }

    async fn value(&self, sql: &str) -> Value {
        let client = self.db.client().await;
        client.query_one(sql, &[]).await.unwrap().get(0)
    }

    async fn data_version(&self) -> i64 {
        let client = self.db.client().await;
        client
            .query_one("SELECT version FROM data_version", &[])
            .await
            .unwrap()
            .get(0)
    }

    /// The fixture genes' gnomad rows (some have one from the bundled data already).
    async fn gnomad_rows(&self) -> Value {
        let ids: Vec<String> = self.genes.iter().map(|g| g.to_string()).collect();
        self.value(&format!(
            "SELECT COALESCE(jsonb_agg(jsonb_build_array(gene_id, annotations, updated_at) ORDER BY gene_id), '[]')
               FROM gene_annotations WHERE source = 'gnomad' AND gene_id IN ({})",
            ids.join(",")
        ))
        .await
    }
}

#[tokio::test]
async fn a_run_annotates_hgnc_first_then_the_rest_and_completes_once() {
    let f = fixture("pipe_run").await;
    let version_before = f.data_version().await;
    let queue = InProcessQueue::new(QueueSettings {
        concurrency: 2,
        max_receives: 3,
        redelivery_delay: Duration::from_millis(20),
    });
    let worker = Arc::new(f.worker(queue.clone(), 3));
    let w = worker.clone();
    queue.start(Arc::new(move |body: String, n: u32| {
        let w = w.clone();
        Box::pin(async move { w.process(&body, n).await.delivery() })
    }));
    let started = f
        .runs
        .start(&f.request(&["gnomad", "hgnc"]), queue.as_ref())
        .await
        .unwrap();
    assert_eq!(
        started.sources,
        ["hgnc", "gnomad"],
        "catalog order, hgnc first"
    );
    assert_eq!(started.chunks_planned, 2);
    assert_eq!(started.jobs_sent, 1, "phase 1 only: hgnc");
    assert!(queue.wait_idle(Duration::from_secs(30)).await);

    let (hgnc_at, hgnc_genes) = f.hgnc.calls()[0].clone();
    let (gnomad_at, _) = f.gnomad.calls()[0].clone();
    assert_eq!(hgnc_genes.len(), 3);
    assert!(hgnc_at < gnomad_at, "gnomad ran after hgnc");
    let run = f
        .value(&format!(
            "SELECT to_jsonb(r) FROM annotation_runs r WHERE id = {}",
            started.run_id
        ))
        .await;
    assert_eq!(run["status"], "completed");
    assert_eq!(run["data_version"], json!(version_before + 1));
    assert_eq!(
        f.data_version().await,
        version_before + 1,
        "bumped exactly once"
    );
    // The hgnc record's identifiers are what resolve finds.
    let prev = f
        .value("SELECT to_jsonb(array_agg(value ORDER BY value)) FROM gene_identifiers WHERE kind = 'prev_symbol' AND value LIKE '%-OLD'")
        .await;
    assert_eq!(prev, json!(["COL4A5-OLD", "NPHS1-OLD", "PKD1-OLD"]));
    let gnomad = f.gnomad_rows().await;
    assert_eq!(gnomad.as_array().unwrap().len(), 3);
    assert_eq!(gnomad[0][1]["value"], "v1");

    // A second run over the same values changes nothing: no refresh, no version bump.
    let again = f
        .runs
        .start(&f.request(&["gnomad"]), queue.as_ref())
        .await
        .unwrap();
    assert!(queue.wait_idle(Duration::from_secs(30)).await);
    let run = f
        .value(&format!(
            "SELECT to_jsonb(r) FROM annotation_runs r WHERE id = {}",
            again.run_id
        ))
        .await;
    assert_eq!(run["status"], "completed");
    assert_eq!(run["data_version"], Value::Null);
    assert_eq!(f.data_version().await, version_before + 1);
    assert_eq!(
        f.gnomad_rows().await,
        gnomad,
        "rows and updated_at unchanged"
    );
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing_and_a_second_run_is_refused_while_one_runs() {
    let f = fixture("pipe_redeliver").await;
    let outbox = Arc::new(Outbox::default());
    let worker = f.worker(outbox.clone(), 3);
    let started = f
        .runs
        .start(&f.request(&["gnomad"]), outbox.as_ref())
        .await
        .unwrap();
    let refused = f.runs.start(&f.request(&["gnomad"]), outbox.as_ref()).await;
    assert!(
        matches!(refused, Err(kgdb_pipeline::RunError::AlreadyRunning { run_id }) if run_id == started.run_id),
        "{refused:?}"
    );
    let jobs = outbox.take();
    assert_eq!(jobs.len(), 1);
    let body = jobs[0].body();
    let first = worker.process(&body, 1).await;
    assert!(
        matches!(first, JobOutcome::Done { records: 3, inserted, updated, unchanged: 0, .. } if inserted + updated == 3),
        "{first:?}"
    );
    let rows = f.gnomad_rows().await;
    let version = f.data_version().await;
    // SQS delivers at least once: the same message again, after the run completed.
    assert_eq!(worker.process(&body, 2).await, JobOutcome::AlreadyFinished);
    assert_eq!(f.gnomad_rows().await, rows);
    assert_eq!(f.data_version().await, version);
    assert_eq!(
        f.gnomad.calls().len(),
        1,
        "a finished chunk is not fetched again"
    );

    // A worker that died after writing but before recording the end: the redelivery fetches
    // again and the writer finds every value unchanged.
    let client = f.db.client().await;
    client
        .execute(
            "UPDATE annotation_run_chunks SET status = 'queued' WHERE run_id = $1",
            &[&started.run_id],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE annotation_runs SET status = 'running' WHERE id = $1",
            &[&started.run_id],
        )
        .await
        .unwrap();
    let outcome = worker.process(&body, 3).await;
    assert!(
        matches!(
            outcome,
            JobOutcome::Done {
                records: 3,
                inserted: 0,
                updated: 0,
                unchanged: 3,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(
        f.gnomad_rows().await,
        rows,
        "row count and updated_at unchanged"
    );
}

#[tokio::test]
async fn a_failed_fetch_leaves_the_previous_annotations_and_transient_failures_are_retried() {
    let f = fixture("pipe_fail").await;
    let outbox = Arc::new(Outbox::default());
    let worker = f.worker(outbox.clone(), 3);
    let before = f.gnomad_rows().await;
    let version = f.data_version().await;

    // A 503: retried by the queue while deliveries remain, then failed for good (and sent to
    // the DLQ with the last delivery).
    f.gnomad.set(Script::Fail { status: 503 });
    let run = f
        .runs
        .start(&f.request(&["gnomad"]), outbox.as_ref())
        .await
        .unwrap();
    let body = outbox.take()[0].body();
    assert!(matches!(
        worker.process(&body, 1).await,
        JobOutcome::Retry { .. }
    ));
    assert!(matches!(
        worker.process(&body, 2).await,
        JobOutcome::Retry { .. }
    ));
    let last = worker.process(&body, 3).await;
    assert!(
        matches!(
            last,
            JobOutcome::Failed {
                dead_letter: true,
                ..
            }
        ),
        "{last:?}"
    );
    assert!(matches!(
        last.delivery(),
        kgdb_pipeline::queue::Delivery::Retry(_)
    ));
    let status = f
        .value(&format!(
            "SELECT jsonb_build_array(r.status, c.status, c.attempts, c.error) FROM annotation_runs r
               JOIN annotation_run_chunks c ON c.run_id = r.id WHERE r.id = {}",
            run.run_id
        ))
        .await;
    assert_eq!(status[0], "failed", "every chunk failed: the run failed");
    assert_eq!(status[1], "failed");
    assert_eq!(status[2], 3);
    assert!(status[3].as_str().unwrap().contains("HTTP 503"), "{status}");
    assert_eq!(
        f.gnomad_rows().await,
        before,
        "stored annotations unchanged"
    );
    assert_eq!(f.data_version().await, version, "no refresh, no bump");

    // A 403 (Descartes' CloudFront): no retry can fix it; failed at once, acknowledged.
    f.gnomad.set(Script::Fail { status: 403 });
    f.runs
        .start(&f.request(&["gnomad"]), outbox.as_ref())
        .await
        .unwrap();
    let body = outbox.take()[0].body();
    let outcome = worker.process(&body, 1).await;
    assert!(
        matches!(
            outcome,
            JobOutcome::Failed {
                dead_letter: false,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(outcome.delivery(), kgdb_pipeline::queue::Delivery::Ack);
    assert_eq!(f.gnomad_rows().await, before);
}

#[tokio::test]
async fn the_sweep_resends_pending_chunks_and_fails_lost_ones() {
    let f = fixture("pipe_sweep").await;
    let outbox = Arc::new(Outbox::default());
    let worker = f.worker(outbox.clone(), 3);
    let run = f
        .runs
        .start(&f.request(&["hgnc", "gnomad"]), outbox.as_ref())
        .await
        .unwrap();
    let jobs = outbox.take();
    assert_eq!(jobs.len(), 1);
    // The hgnc chunk's worker died and its message ran out of deliveries: the chunk stays
    // queued until the sweep declares it lost; then phase 2 goes out.
    let report = f.runs.sweep(outbox.as_ref(), Duration::ZERO).await.unwrap();
    assert_eq!(report.chunks_lost, 1);
    let phase2 = outbox.take();
    assert_eq!(phase2.len(), 1, "gnomad sent after hgnc ended");
    assert!(matches!(
        worker.process(&phase2[0].body(), 1).await,
        JobOutcome::Done { .. }
    ));
    let status = f
        .value(&format!(
            "SELECT to_jsonb(r) FROM annotation_runs r WHERE id = {}",
            run.run_id
        ))
        .await;
    assert_eq!(status["status"], "completed");
}

fn sqs_event(messages: &[(&str, &str, u32)]) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body, count)| {
            json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                   "attributes": {"ApproximateReceiveCount": count.to_string()},
                   "messageAttributes": {}, "eventSource": "aws:sqs"})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn a_batch_reports_exactly_the_messages_that_failed() {
    let f = fixture("pipe_batch").await;
    let outbox = Arc::new(Outbox::default());
    let worker = f.worker(outbox.clone(), 3);
    let ok_run = f
        .runs
        .start(&f.request(&["gnomad"]), outbox.as_ref())
        .await
        .unwrap();
    let good = outbox.take()[0].body();
    let event = sqs_event(&[
        ("m-good", &good, 1),
        ("m-poison", "{\"not\": \"a job\"}", 1),
        ("m-unknown", "{\"run_id\": 999999, \"chunk_no\": 0}", 1),
        ("m-again", &good, 2),
    ]);
    let response = handle_sqs(&worker, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-poison", "m-unknown"]);
    let status = f
        .value(&format!(
            "SELECT to_jsonb(r) FROM annotation_runs r WHERE id = {}",
            ok_run.run_id
        ))
        .await;
    assert_eq!(status["status"], "completed");
}

/// moto's SQS, shared with the DynamoDB emulator of the cache tests.
async fn moto_queues(label: &str, max_receives: u32) -> (SqsSender, String) {
    let endpoint = kgdb_tests::dynamodb_url();
    let probe = SqsSender::connect(String::new(), Some(endpoint.clone())).await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("kgdb-{label}-{}-{nanos}", std::process::id());
    let dlq = probe
        .client()
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap();
    let dlq_url = dlq.queue_url().unwrap().to_string();
    let dlq_arn = probe
        .client()
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let queue = probe
        .client()
        .create_queue()
        .queue_name(&name)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "1",
        )
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives.to_string()})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let sender = SqsSender::connect(queue.queue_url().unwrap().to_string(), Some(endpoint)).await;
    (sender, dlq_url)
}

#[tokio::test]
async fn on_sqs_a_run_completes_and_a_poison_message_lands_in_the_dlq() {
    let f = fixture("pipe_sqs").await;
    let (sqs, dlq_url) = moto_queues("pipe", 2).await;
    let sender: Arc<dyn JobSender> = Arc::new(sqs.clone());
    let worker = f.worker(sender.clone(), 2);
    let version = f.data_version().await;
    let run = f
        .runs
        .start(&f.request(&["hgnc", "gnomad"]), sender.as_ref())
        .await
        .unwrap();
    sqs.client()
        .send_message()
        .queue_url(sqs.queue_url())
        .message_body("{\"poison\": true}")
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut dead = Vec::new();
    while Instant::now() < deadline {
        kgdb_fn_annotation_pipeline::local::poll_once(&sqs, &worker, 10, 1, 1)
            .await
            .unwrap();
        let from_dlq = sqs
            .client()
            .receive_message()
            .queue_url(&dlq_url)
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        dead.extend(
            from_dlq
                .messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_string)),
        );
        let status = f
            .value(&format!(
                "SELECT to_jsonb(r.status) FROM annotation_runs r WHERE id = {}",
                run.run_id
            ))
            .await;
        if status == "completed" && !dead.is_empty() {
            break;
        }
    }
    assert_eq!(dead, ["{\"poison\": true}"]);
    let status = f
        .value(&format!(
            "SELECT to_jsonb(r) FROM annotation_runs r WHERE id = {}",
            run.run_id
        ))
        .await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(f.data_version().await, version + 1);
}
