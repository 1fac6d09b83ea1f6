//! Shared library of the kgdb Lambda functions.
//!
//! Everything a route handler needs but does not own lives here: configuration, the Postgres
//! pool (RDS Proxy friendly), the one JSON error format, request/response helpers, JSON:API
//! paging, the vocabulary of the score (tiers, groups, sources), the migration runner, and the
//! evidence pipeline (sources -> normalized records -> transactional writer -> view refresh).

pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod evidence;
pub mod http;
pub mod jsonapi;
pub mod migrate;
pub mod rds_iam;
pub mod refresh;
pub mod state;
pub mod telemetry;
pub mod vocab;

pub use error::ApiError;
pub use state::AppState;

/// Version of the kgdb software (not of the data).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Service name reported by `/health` and `/version`.
pub const SERVICE_NAME: &str = "kidney-genetics-db";

/// The `main` of an HTTP function: tracing, state built once per cold start, then the
/// lambda_http runtime lending that state to every invocation of `handle`.
///
/// `kgdb::http_function_main!(kgdb_fn_genes::handle);` in a function's `main.rs`.
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
