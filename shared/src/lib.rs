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
