//! kgdb's outbound side. Every live source goes through [`HttpClient`]: a timeout on every call,
//! retries with exponential backoff and jitter (backon) on 429 / 5xx / timeouts / connection
//! errors, `Retry-After` honoured, a per-domain rate limit shared by every request of the
//! process, and bulk files read as streamed (gzip-decoded) lines so memory stays flat.
//!
//! Real URLs are written in the clients; [`Endpoints`] can send every host to one local origin
//! (`http://127.0.0.1:PORT/<host>/<path>`), which is how tests and benchmarks reach the mock
//! server without a line of test-only code in the clients.

pub mod annotation;
mod client;
mod endpoints;
mod error;
pub mod hgnc_lookup;
mod limiter;
mod lines;
#[cfg(feature = "mock-server")]
pub mod mock;
pub mod sources;

pub use client::{ClientConfig, HttpClient, RetryPolicy};
pub use endpoints::Endpoints;
pub use error::FetchError;
pub use limiter::DomainLimits;
pub use lines::{Compression, LineStream};

/// Installs ring as the process's rustls provider (reqwest is built without one). Idempotent.
pub fn install_crypto_provider() {
    // Err means a provider is already installed: that one is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
