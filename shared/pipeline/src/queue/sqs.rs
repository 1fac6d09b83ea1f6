use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::future::BoxFuture;
use kgdb_core::jobs::{AnnotationJob, JobSender};

/// Sends jobs with `SendMessageBatch` (10 per call, SQS's limit); entries SQS refuses are
/// sent again once, then the send fails (the chunks stay pending and the sweep resends them).
#[derive(Clone)]
pub struct SqsSender {
    client: Client,
    queue_url: String,
}

impl SqsSender {
    pub fn new(client: Client, queue_url: String) -> Self {
        Self { client, queue_url }
    }

    /// The SDK on rustls/ring with its standard retries; `endpoint` for an emulator
    /// (`AWS_ENDPOINT_URL` is honoured by the SDK too).
    pub async fn connect(queue_url: String, endpoint: Option<String>) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
        if let Some(endpoint) = endpoint {
            let local = endpoint.contains("://127.") || endpoint.contains("://localhost");
            loader = loader.endpoint_url(endpoint);
            // An emulator on this machine accepts any credentials.
            if local && std::env::var("AWS_ACCESS_KEY_ID").is_err() {
                loader = loader.test_credentials();
            }
        }
        if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
        let sdk = loader
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_timeout(Duration::from_secs(10))
                    .build(),
            )
            .load()
            .await;
        Self::new(Client::new(&sdk), queue_url)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    async fn send_all(&self, jobs: &[AnnotationJob]) -> Result<(), String> {
        for batch in jobs.chunks(10) {
            let mut pending: Vec<(String, String)> = batch
                .iter()
                .enumerate()
                .map(|(i, job)| (i.to_string(), job.body()))
                .collect();
            for attempt in 0..2 {
                let entries = pending
                    .iter()
                    .map(|(id, body)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(body)
                            .build()
                            .map_err(|e| e.to_string())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "SendMessageBatch: {}",
                            aws_sdk_sqs::error::DisplayErrorContext(&e)
                        )
                    })?;
                let failed: Vec<(String, String)> = out
                    .failed()
                    .iter()
                    .map(|f| {
                        (
                            f.id().to_string(),
                            format!("{}: {:?}", f.code(), f.message()),
                        )
                    })
                    .collect();
                if failed.is_empty() {
                    break;
                }
                if attempt == 1 {
                    return Err(format!("SQS refused {} job(s): {:?}", failed.len(), failed));
                }
                pending.retain(|(id, _)| failed.iter().any(|(f, _)| f == id));
            }
        }
        Ok(())
    }
}

impl JobSender for SqsSender {
    fn send<'a>(&'a self, jobs: &'a [AnnotationJob]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.send_all(jobs))
    }

    fn kind(&self) -> &'static str {
        "sqs"
    }
}
