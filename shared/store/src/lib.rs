//! kgdb's Postgres store: everything that talks to the database except request handling.
//!
//! - [`db`]: the pool (RDS Proxy friendly: `query_typed`, no session state), TLS, IAM tokens;
//!   [`db::Params`] for parameterized dynamic SQL.
//! - [`migrate`]: the embedded migrations, applied on demand (never on a cold start).
//! - [`sink`]: the evidence sink: staged runs, swapped in atomically at completion.
//! - [`annotations`]: the annotation writer (gene × source rows, gene identifiers).
//! - [`refresh`]: materialized views and the data version.

pub mod annotations;
pub mod config;
pub mod db;
pub mod genes;
pub mod migrate;
pub mod rds_iam;
pub mod refresh;
pub mod sink;

pub use config::Config;
pub use db::{DbError, DbPool};
