//! The SQS-triggered worker: one chunk per message, partial batch failures reported.
//! Environment: DATABASE_URL (and the pool settings of every function),
//! KGDB_ANNOTATION_QUEUE_URL (phase 2 is sent here), KGDB_QUEUE_MAX_RECEIVES (the queue's
//! maxReceiveCount, 3), KGDB_FETCH_ORIGIN (tests only: every provider host to one origin).

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use kgdb_fn_annotation_pipeline::worker::handle_sqs;
use kgdb_fn_annotation_pipeline::{Fetchers, Worker};
use kgdb_pipeline::RunStore;
use kgdb_pipeline::queue::SqsSender;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let pool = kgdb_store::db::build_pool(&kgdb_store::Config::from_env())?;
    let queue_url = std::env::var("KGDB_ANNOTATION_QUEUE_URL")
        .map_err(|_| "KGDB_ANNOTATION_QUEUE_URL is not set")?;
    let sender = Arc::new(SqsSender::connect(queue_url, None).await);
    let max_receives = std::env::var("KGDB_QUEUE_MAX_RECEIVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let worker = Worker::new(
        RunStore::new(pool),
        Fetchers::from_env()?,
        sender,
        max_receives,
    );
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        async move { handle_sqs(worker, event).await }
    }))
    .await
}
