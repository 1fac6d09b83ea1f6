use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use crate::error::parse_retry_after;
use crate::{Compression, DomainLimits, Endpoints, FetchError, LineStream};

/// The original's retry policy (docs/provider-formats.md): delays from 1 s doubling to at most
/// 60 s, with jitter, a few times; other 4xx are final.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// A longer `Retry-After` is cut to this (a provider asking for an hour is a failed chunk,
    /// retried later by the queue, not a sleeping Lambda).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Whole-call timeout of API requests (headers and body).
    pub request_timeout: Duration,
    /// Longest silence while a bulk file streams (its total time is unbounded).
    pub read_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            user_agent: "KidneyGeneticsDB/1.0 (kgdb)".to_string(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
        }
    }
}

/// One per process: reqwest's connection pool and the domain limits are shared by every task.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limits: Arc<DomainLimits>,
    endpoints: Endpoints,
    config: ClientConfig,
}

impl HttpClient {
    pub fn new(
        config: ClientConfig,
        limits: DomainLimits,
        endpoints: Endpoints,
    ) -> Result<Self, FetchError> {
        crate::install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            // Redirects are followed by `send`, through `Endpoints`: reqwest following a
            // provider's absolute Location would leave the mock origin in tests.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Config(format!("http client: {e}")))?;
        Ok(Self {
            client,
            limits: Arc::new(limits),
            endpoints,
            config,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn limits(&self) -> &DomainLimits {
        &self.limits
    }

    /// The timeouts and retry policy (callers of [`HttpClient::send`] pass its request timeout).
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends the request built by `build`, retrying transient failures, and follows up to five
    /// redirects (a 303 as a GET, as UniProt's job status answers). Returns a 2xx response;
    /// anything else is an error. `timeout` bounds each attempt (None for streamed bodies,
    /// which the read timeout bounds instead).
    pub async fn send(
        &self,
        method: Method,
        real_url: &str,
        timeout: Option<Duration>,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, FetchError> {
        let mut url = real_url.to_string();
        let mut method = method;
        for _ in 0..5 {
            let response = self
                .send_once(method.clone(), &url, timeout, &build)
                .await?;
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| FetchError::malformed(&url, "redirect without Location"))?;
            let next = url::Url::parse(&url)
                .and_then(|base| base.join(location))
                .map_err(|e| FetchError::malformed(&url, format!("redirect to {location}: {e}")))?;
            if response.status() == reqwest::StatusCode::SEE_OTHER {
                method = Method::GET;
            }
            url = next.to_string();
        }
        Err(FetchError::malformed(real_url, "more than five redirects"))
    }

    async fn send_once(
        &self,
        method: Method,
        real_url: &str,
        timeout: Option<Duration>,
        build: &impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, FetchError> {
        let (url, host) = self.endpoints.resolve(real_url)?;
        let policy = &self.config.retry;
        let attempt = || async {
            self.limits.acquire(&host).await;
            let mut request = build(self.client.request(method.clone(), url.clone()));
            if let Some(t) = timeout {
                request = request.timeout(t);
            }
            let response = request
                .send()
                .await
                .map_err(|e| transport(real_url, e, timeout))?;
            check_status(real_url, response).await
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(policy.initial_delay)
                    .with_max_delay(policy.max_delay)
                    .with_max_times(policy.max_retries)
                    .with_jitter(),
            )
            .when(FetchError::is_transient)
            .adjust(|e: &FetchError, backoff| {
                // Honour the provider's Retry-After while retries remain.
                backoff.map(|d| {
                    e.retry_after()
                        .map_or(d, |ra| ra.min(policy.max_retry_after))
                })
            })
            .notify(|e: &FetchError, delay| {
                tracing::warn!(error = %e, ?delay, "retrying");
            })
            .await
    }

    pub async fn get_json<T: DeserializeOwned>(&self, real_url: &str) -> Result<T, FetchError> {
        let timeout = Some(self.config.request_timeout);
        let response = self
            .send(Method::GET, real_url, timeout, |r| {
                r.header(reqwest::header::ACCEPT, "application/json")
            })
            .await?;
        read_json(real_url, response).await
    }

    /// POSTs a JSON body and reads a JSON answer (GraphQL, InterMine queries).
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        real_url: &str,
        body: &serde_json::Value,
    ) -> Result<T, FetchError> {
        let timeout = Some(self.config.request_timeout);
        let response = self
            .send(Method::POST, real_url, timeout, |r| {
                r.header(reqwest::header::ACCEPT, "application/json")
                    .json(body)
            })
            .await?;
        read_json(real_url, response).await
    }

    /// POSTs a form and reads a JSON answer (UniProt ID mapping, NCBI E-utilities).
    pub async fn post_form<T: DeserializeOwned>(
        &self,
        real_url: &str,
        form: &[(&str, &str)],
    ) -> Result<T, FetchError> {
        let timeout = Some(self.config.request_timeout);
        let response = self
            .send(Method::POST, real_url, timeout, |r| {
                r.header(reqwest::header::ACCEPT, "application/json")
                    .form(form)
            })
            .await?;
        read_json(real_url, response).await
    }

    pub async fn get_text(&self, real_url: &str) -> Result<String, FetchError> {
        let timeout = Some(self.config.request_timeout);
        let response = self.send(Method::GET, real_url, timeout, |r| r).await?;
        response
            .text()
            .await
            .map_err(|e| transport(real_url, e, timeout))
    }

    /// A bulk file as streamed lines: nothing but the current line is held in memory.
    pub async fn lines(
        &self,
        real_url: &str,
        compression: Compression,
    ) -> Result<LineStream, FetchError> {
        let response = self.send(Method::GET, real_url, None, |r| r).await?;
        Ok(LineStream::from_response(real_url, response, compression))
    }
}

fn transport(url: &str, e: reqwest::Error, timeout: Option<Duration>) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout {
            url: url.to_string(),
            after: timeout.unwrap_or_default(),
        };
    }
    // The source chain says why (refused, reset, DNS); the top-level message does not.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    FetchError::Transport {
        url: url.to_string(),
        message,
    }
}

async fn check_status(url: &str, response: Response) -> Result<Response, FetchError> {
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let body = response.bytes().await.unwrap_or_default();
    let excerpt: String = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    Err(FetchError::Status {
        url: url.to_string(),
        status: status.as_u16(),
        excerpt,
        retry_after,
    })
}

async fn read_json<T: DeserializeOwned>(url: &str, response: Response) -> Result<T, FetchError> {
    let body = response
        .bytes()
        .await
        .map_err(|e| transport(url, e, None))?;
    serde_json::from_slice(&body).map_err(|e| FetchError::malformed(url, e))
}
