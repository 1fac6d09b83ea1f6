//! kgdb's HTTP layer for the API functions: one error format, request parsing, JSON:API paging,
//! HTTP validators, the body cache and the state built once per cold start.
//!
//! API functions depend on this crate, `kgdb-store` and `kgdb-core` only, so none of them links
//! a source fetcher, a CSV parser or an HTTP client.

pub mod cache;
pub mod error;
pub mod http;
pub mod jsonapi;
pub mod pg_version;
pub mod state;
pub mod telemetry;
pub mod validators;

pub use error::ApiError;
pub use state::AppState;

/// Version of the kgdb software (not of the data).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Service name reported by `/health` and `/version`.
pub const SERVICE_NAME: &str = "kidney-genetics-db";

/// The `main` of an HTTP function: tracing, state built once per cold start, then the
/// lambda_http runtime lending that state to every invocation of `handle`.
///
/// `kgdb_web::http_function_main!(kgdb_fn_genes::handle);` in a function's `main.rs`.
#[macro_export]
macro_rules! http_function_main {
    ($handle:path) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_http::Error> {
            $crate::telemetry::init_lambda();
            let state = $crate::AppState::from_env()?;
            lambda_http::run(lambda_http::service_fn(|req: lambda_http::Request| {
                let state = &state;
                async move { Ok::<_, lambda_http::Error>($handle(state, req).await) }
            }))
            .await
        }
    };
}
