//! L2: one DynamoDB table shared by every container. Item: `pk` (string key), `body` (bytes,
//! gzip when large), `gz` (bool), `etag`, `expires_at` (epoch seconds, the table's TTL
//! attribute). DynamoDB deletes expired items lazily (up to days later) and GetItem cannot
//! filter, so the reader checks `expires_at` itself and treats a passed one as a miss.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use super::CachedBody;

/// Bodies above this many bytes are stored gzip-compressed (DynamoDB items max out at 400 KB).
const COMPRESS_ABOVE: usize = 2048;
/// Larger answers are not worth an L2 item.
const MAX_ITEM_BODY: usize = 350 * 1024;

pub struct DynamoL2 {
    client: Client,
    table: String,
    timeout: Duration,
    /// Set while DynamoDB fails, so an outage is logged once, not per request.
    failing: AtomicBool,
}

pub enum L2Lookup {
    Hit(CachedBody),
    Miss,
    /// Expired but not yet deleted by DynamoDB's TTL sweeper.
    Expired,
    Unavailable,
}

impl DynamoL2 {
    /// SDK client with no retries and short timeouts: on the hot path a slow L2 must cost a
    /// few milliseconds at most, after which the request simply goes to Postgres.
    pub async fn connect(table: String, endpoint: Option<String>, timeout: Duration) -> Self {
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
            // An emulator on this machine accepts any credentials; do not hunt for real ones.
            if local && std::env::var("AWS_ACCESS_KEY_ID").is_err() {
                loader = loader.test_credentials();
            }
        }
        if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
        let sdk = loader
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            .load()
            .await;
        Self {
            client: Client::new(&sdk),
            table,
            timeout,
            failing: AtomicBool::new(false),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn ok(&self) {
        if self.failing.swap(false, Ordering::AcqRel) {
            tracing::warn!(table = %self.table, "DynamoDB cache reachable again");
        }
    }

    fn failed(&self, what: &str, error: &str) {
        if !self.failing.swap(true, Ordering::AcqRel) {
            tracing::warn!(table = %self.table, operation = what, error, "DynamoDB cache unavailable; serving from L1/Postgres until it recovers");
        }
    }

    pub async fn get(&self, key: &str, now_epoch: i64) -> L2Lookup {
        let call = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .send();
        let output = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                self.failed(
                    "GetItem",
                    &aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
                );
                return L2Lookup::Unavailable;
            }
            Err(_) => {
                self.failed("GetItem", "timeout");
                return L2Lookup::Unavailable;
            }
        };
        self.ok();
        let Some(item) = output.item else {
            return L2Lookup::Miss;
        };
        let expires_at = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0);
        if expires_at <= now_epoch {
            return L2Lookup::Expired;
        }
        let (Some(body), Some(etag)) = (
            item.get("body").and_then(|v| v.as_b().ok()),
            item.get("etag").and_then(|v| v.as_s().ok()),
        ) else {
            return L2Lookup::Miss;
        };
        let gz = item
            .get("gz")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false);
        let text = if gz {
            let mut out = String::new();
            if flate2::read::GzDecoder::new(body.as_ref())
                .read_to_string(&mut out)
                .is_err()
            {
                return L2Lookup::Miss;
            }
            out
        } else {
            match String::from_utf8(body.as_ref().to_vec()) {
                Ok(t) => t,
                Err(_) => return L2Lookup::Miss,
            }
        };
        L2Lookup::Hit(CachedBody {
            body: text.into(),
            etag: etag.clone(),
        })
    }

    pub async fn put(&self, key: &str, value: &CachedBody, expires_at: i64) {
        if value.body.len() > MAX_ITEM_BODY {
            return;
        }
        let (bytes, gz) = if value.body.len() > COMPRESS_ABOVE {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            match encoder
                .write_all(value.body.as_bytes())
                .and_then(|_| encoder.finish())
            {
                Ok(compressed) => (compressed, true),
                Err(_) => return,
            }
        } else {
            (value.body.as_bytes().to_vec(), false)
        };
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_string()))
            .item("body", AttributeValue::B(Blob::new(bytes)))
            .item("gz", AttributeValue::Bool(gz))
            .item("etag", AttributeValue::S(value.etag.clone()))
            .item("expires_at", AttributeValue::N(expires_at.to_string()))
            .send();
        match tokio::time::timeout(self.timeout * 4, call).await {
            Ok(Ok(_)) => self.ok(),
            Ok(Err(e)) => self.failed(
                "PutItem",
                &aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
            ),
            Err(_) => self.failed("PutItem", "timeout"),
        }
    }
}
