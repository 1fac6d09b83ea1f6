//! The EventBridge-scheduled scheduler: sweep what crashes left open, then start a run.
//! Environment: DATABASE_URL, KGDB_ANNOTATION_QUEUE_URL, KGDB_LOST_CHUNK_SECS (how long a
//! queued chunk may stay without an end before it is failed: the queue's visibility timeout ×
//! maxReceiveCount and some; 3 × 3600 + 600 by default).

use std::time::Duration;

use kgdb_fn_annotation_pipeline::scheduler::handle_schedule;
use kgdb_pipeline::RunStore;
use kgdb_pipeline::queue::SqsSender;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let pool = kgdb_store::db::build_pool(&kgdb_store::Config::from_env())?;
    let queue_url = std::env::var("KGDB_ANNOTATION_QUEUE_URL")
        .map_err(|_| "KGDB_ANNOTATION_QUEUE_URL is not set")?;
    let sender = SqsSender::connect(queue_url, None).await;
    let lost_after = Duration::from_secs(
        std::env::var("KGDB_LOST_CHUNK_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3 * 3600 + 600),
    );
    let runs = RunStore::new(pool);
    run(service_fn(|event: LambdaEvent<Value>| {
        let (runs, sender) = (&runs, &sender);
        async move { handle_schedule(runs, sender, lost_after, event).await }
    }))
    .await
}
