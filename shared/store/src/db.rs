//! Postgres access that stays multiplexable behind RDS Proxy.
//!
//! Rules (RDS Proxy pins a client to one database connection for the rest of its session
//! after a named prepared statement or a session `SET`; docs/architecture.md): statements go through `query_typed*` (unnamed statement, one
//! round trip, no pinning), never `prepare_cached`, never session `SET`; the pool recycles with
//! `Fast` because `Clean` issues pinning statements.

use std::sync::Arc;

use deadpool_postgres::{Connect, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::future::BoxFuture;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls};

use crate::config::Config;
use crate::rds_iam;

pub type DbPool = Pool;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Config(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] tokio_postgres::Error),
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) if !is_unavailable(&e) => DbError::Query(e),
            other => DbError::Unavailable(other.to_string()),
        }
    }
}

/// True when `e` says the database cannot serve right now rather than that a statement is
/// wrong: no or a lost connection, or a server that refuses or ends sessions. A server stopping
/// or starting answers with a regular error message (SQLSTATE 57P01 "terminating connection due
/// to administrator command" to a running query, 57P03 "the database system is shutting down"
/// or "is starting up" to a new connection), so the SQLSTATE decides, not only `is_closed`.
pub fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    let Some(db) = e.as_db_error() else {
        return true;
    };
    let code = db.code();
    e.is_closed()
        || code.code().starts_with("08") // connection exceptions
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::IDLE_SESSION_TIMEOUT,
            SqlState::TOO_MANY_CONNECTIONS,
        ]
        .contains(code)
}

/// How connections are opened: TLS when the URL says `sslmode=require` (RDS Proxy requires it),
/// and, with IAM auth, a fresh signed token as the password for every new connection (tokens
/// live 15 minutes; deadpool has no hook to refresh a password, so the connector mints one).
struct Connector {
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    iam_region: Option<String>,
}

impl Connector {
    fn new(pg: &tokio_postgres::Config, config: &Config) -> Self {
        let tls = (pg.get_ssl_mode() == SslMode::Require).then(|| {
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let tls_config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth());
            match tls_config {
                Ok(c) => tokio_postgres_rustls::MakeRustlsConnect::new(c),
                // The ring provider always supports the default protocol versions.
                Err(e) => unreachable!("rustls ring provider: {e}"),
            }
        });
        Self {
            tls,
            iam_region: config.db_iam_region.clone(),
        }
    }

    fn config_for_connect(
        &self,
        pg: &tokio_postgres::Config,
    ) -> Result<tokio_postgres::Config, tokio_postgres::Error> {
        let Some(region) = &self.iam_region else {
            return Ok(pg.clone());
        };
        let mut pg = pg.clone();
        let host = match pg.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            _ => String::new(),
        };
        let port = pg.get_ports().first().copied().unwrap_or(5432);
        let user = pg.get_user().unwrap_or("postgres").to_string();
        match rds_iam::Credentials::from_env() {
            Some(credentials) => {
                let token = rds_iam::auth_token(
                    &host,
                    port,
                    &user,
                    region,
                    &credentials,
                    chrono::Utc::now(),
                );
                pg.password(token);
            }
            None => tracing::error!(
                "KGDB_DB_IAM_AUTH is set but AWS credentials are missing from the environment"
            ),
        }
        Ok(pg)
    }
}

impl Connect for Connector {
    fn connect(
        &self,
        pg: &tokio_postgres::Config,
    ) -> BoxFuture<'_, Result<(Client, tokio::task::JoinHandle<()>), tokio_postgres::Error>> {
        let pg = self.config_for_connect(pg);
        Box::pin(async move {
            let pg = pg?;
            let log =
                |e: tokio_postgres::Error| tracing::debug!(error = %e, "postgres connection ended");
            match &self.tls {
                Some(tls) => {
                    let (client, connection) = pg.connect(tls.clone()).await?;
                    Ok((
                        client,
                        tokio::spawn(async move { connection.await.unwrap_or_else(log) }),
                    ))
                }
                None => {
                    let (client, connection) = pg.connect(NoTls).await?;
                    Ok((
                        client,
                        tokio::spawn(async move { connection.await.unwrap_or_else(log) }),
                    ))
                }
            }
        })
    }
}

/// Builds the pool. No connection is opened here: connections are created on first use, so a
/// cold start does not pay for the database until a request needs it.
pub fn build_pool(config: &Config) -> Result<DbPool, DbError> {
    let mut pg: tokio_postgres::Config = config
        .database_url
        .parse()
        .map_err(|e: tokio_postgres::Error| DbError::Config(e.to_string()))?;
    pg.connect_timeout(config.db_connect_timeout);
    if pg.get_application_name().is_none() {
        pg.application_name("kgdb");
    }
    let connector = Connector::new(&pg, config);
    let manager = Manager::from_connect(
        pg,
        connector,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.db_pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.db_wait_timeout))
        .create_timeout(Some(config.db_connect_timeout))
        .build()
        .map_err(|e| DbError::Config(e.to_string()))
}

/// A statement parameter with its declared type, as `query_typed` wants it.
pub type TypedParam<'a> = (&'a (dyn ToSql + Sync), Type);

/// Owned parameters for dynamically built SQL; placeholders are numbered as they are pushed.
#[derive(Default)]
pub struct Params {
    values: Vec<(Box<dyn ToSql + Sync + Send>, Type)>,
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value and returns its placeholder (`$n`).
    pub fn push<T: ToSql + Sync + Send + 'static>(&mut self, value: T, ty: Type) -> String {
        self.values.push((Box::new(value), ty));
        format!("${}", self.values.len())
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn as_typed(&self) -> Vec<TypedParam<'_>> {
        self.values
            .iter()
            .map(|(v, t)| (v.as_ref() as &(dyn ToSql + Sync), t.clone()))
            .collect()
    }
}
