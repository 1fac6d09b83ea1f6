//! Runtime configuration from the environment, with embedded defaults for local runs.

use std::time::Duration;

/// Default local database: the machine's Postgres over TCP with trust auth.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/kgdb";

#[derive(Clone)]
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
    /// The local admin bearer token (`KGDB_ADMIN_TOKEN`, at least 16 characters); deployed,
    /// admin callers are IAM-signed instead.
    pub admin_token: Option<AdminToken>,
}

/// Written by hand so that neither the database password nor the admin token can reach a log
/// through `{:?}`.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("db_pool_size", &self.db_pool_size)
            .field("db_connect_timeout", &self.db_connect_timeout)
            .field("db_wait_timeout", &self.db_wait_timeout)
            .field("environment", &self.environment)
            .field("db_iam_region", &self.db_iam_region)
            .field("admin_token", &self.admin_token)
            .finish()
    }
}

/// A secret compared in constant time and never printed.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    /// Shorter tokens are refused: they would be guessable.
    pub const MIN_LEN: usize = 16;

    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (token.trim().len() >= Self::MIN_LEN).then(|| Self(token.trim().to_string()))
    }

    /// Compares SHA-256 digests, so the time taken does not depend on how many leading
    /// characters of a guess are right, nor on its length.
    pub fn matches(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        let (a, b) = (
            Sha256::digest(self.0.as_bytes()),
            Sha256::digest(presented.as_bytes()),
        );
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
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
            admin_token: std::env::var("KGDB_ADMIN_TOKEN")
                .ok()
                .and_then(AdminToken::new),
        }
    }

    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = url.into();
        self
    }

    pub fn with_admin_token(mut self, token: Option<AdminToken>) -> Self {
        self.admin_token = token;
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
