//! The pipeline in the local stack: the worker consumes an in-process queue by default, or a
//! real SQS queue (an emulator such as moto, or AWS) when `KGDB_ANNOTATION_QUEUE_URL` is set,
//! polled the way Lambda's event source mapping does it: receive, hand the batch to the same
//! `handle_sqs`, delete what it did not report as failed. Failed messages reappear after the
//! visibility timeout, and the queue's redrive policy moves them to the DLQ.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use kgdb_core::jobs::JobSender;
use kgdb_pipeline::queue::{InProcessQueue, QueueSettings, SqsSender};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;

use crate::Worker;
use crate::worker::handle_sqs;

/// How the local stack's queue was set up.
pub struct LocalPipeline {
    pub sender: Arc<dyn JobSender>,
    pub in_process: Option<Arc<InProcessQueue>>,
}

/// Starts the worker on the queue the environment names (see the module doc). `build_worker`
/// gets the sender, which the worker needs for phase 2.
pub async fn start(
    settings: QueueSettings,
    build_worker: impl FnOnce(Arc<dyn JobSender>) -> Worker,
) -> LocalPipeline {
    match std::env::var("KGDB_ANNOTATION_QUEUE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let sqs = SqsSender::connect(url.trim().to_string(), None).await;
            let sender: Arc<dyn JobSender> = Arc::new(sqs.clone());
            let worker = Arc::new(build_worker(sender.clone()));
            tokio::spawn(poll_sqs(sqs, worker, 1, Duration::from_secs(30)));
            LocalPipeline {
                sender,
                in_process: None,
            }
        }
        _ => {
            let queue = InProcessQueue::new(settings);
            let sender: Arc<dyn JobSender> = queue.clone();
            let worker = Arc::new(build_worker(sender.clone()));
            queue.start(Arc::new(move |body: String, receive_count: u32| {
                let worker = worker.clone();
                Box::pin(async move { worker.process(&body, receive_count).await.delivery() })
            }));
            LocalPipeline {
                sender,
                in_process: Some(queue),
            }
        }
    }
}

/// Lambda's SQS event source mapping, in a loop: long-poll up to `batch_size` messages, run the
/// handler, delete the successes. Runs until the process ends.
pub async fn poll_sqs(
    sqs: SqsSender,
    worker: Arc<Worker>,
    batch_size: i32,
    visibility_timeout: Duration,
) {
    let visibility = i32::try_from(visibility_timeout.as_secs()).unwrap_or(30);
    loop {
        if let Err(e) = poll_once(&sqs, &worker, batch_size, visibility, 1).await {
            tracing::warn!(error = %e, "SQS poll failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// One receive → handle → delete cycle; the number of messages received.
pub async fn poll_once(
    sqs: &SqsSender,
    worker: &Worker,
    batch_size: i32,
    visibility_timeout_secs: i32,
    wait_secs: i32,
) -> Result<usize, String> {
    let received = sqs
        .client()
        .receive_message()
        .queue_url(sqs.queue_url())
        .max_number_of_messages(batch_size.clamp(1, 10))
        .wait_time_seconds(wait_secs)
        .visibility_timeout(visibility_timeout_secs)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .map_err(|e| {
            format!(
                "ReceiveMessage: {}",
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            )
        })?;
    let messages = received.messages();
    if messages.is_empty() {
        return Ok(0);
    }
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let count = m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .cloned()
                .unwrap_or_else(|| "1".to_string());
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": {"ApproximateReceiveCount": count},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            })
        })
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records }))
        .map_err(|e| format!("SQS event: {e}"))?;
    let response = handle_sqs(worker, LambdaEvent::new(event, Context::default()))
        .await
        .map_err(|e| e.to_string())?;
    let failed: HashSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for m in messages {
        if m.message_id().is_some_and(|id| failed.contains(id)) {
            continue;
        }
        if let Some(handle) = m.receipt_handle() {
            sqs.client()
                .delete_message()
                .queue_url(sqs.queue_url())
                .receipt_handle(handle)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "DeleteMessage: {}",
                        aws_sdk_sqs::error::DisplayErrorContext(&e)
                    )
                })?;
        }
    }
    Ok(messages.len())
}
