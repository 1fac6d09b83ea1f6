//! Runtime configuration from the environment, with embedded defaults for local runs.

use std::time::Duration;

/// Default local database: the machine's Postgres over TCP with trust auth.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/kgdb";

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    /// Connections per process. One Lambda environment serves one request at a time, so 1-2
    /// is right there; the local gateway shares one pool across all functions and wants more.
    pub db_pool_size: usize,
    pub db_connect_timeout: Duration,
    pub db_wait_timeout: Duration,
    /// Free text such as `local`, `dev`, `prod`; reported by `/version`.
    pub environment: String,
    /// `Some(region)` when connections authenticate with RDS IAM tokens (`KGDB_DB_IAM_AUTH=true`).
    pub db_iam_region: Option<String>,
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            database_url: env_or("DATABASE_URL", DEFAULT_DATABASE_URL),
            db_pool_size: env_parse("KGDB_DB_POOL_SIZE", 2).clamp(1, 256),
            db_connect_timeout: Duration::from_millis(env_parse(
                "KGDB_DB_CONNECT_TIMEOUT_MS",
                3000,
            )),
            db_wait_timeout: Duration::from_millis(env_parse("KGDB_DB_WAIT_TIMEOUT_MS", 3000)),
            environment: env_or("KGDB_ENV", "local"),
            db_iam_region: env_parse("KGDB_DB_IAM_AUTH", false)
                .then(|| env_or("AWS_REGION", "us-east-1")),
        }
    }

    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = url.into();
        self
    }

    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.db_pool_size = size.max(1);
        self
    }
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn env_parse<T: std::str::FromStr + Copy>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}
