//! Makes sure the configured database exists (creating it on the same server if not).

use tokio_postgres::NoTls;
use tokio_postgres::types::Type;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("invalid DATABASE_URL: {0}")]
    Url(String),
    #[error("database name {0:?} must be letters, digits and underscores")]
    Name(String),
    #[error("cannot reach Postgres at {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
}

/// Connects to `url`, opening a client whose connection task runs in the background.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client, DatabaseError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| DatabaseError::Url(e.to_string()))?;
    let target = describe(&config);
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|source| DatabaseError::Connect { target, source })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or(""))
}

/// Creates the database named in `url` if it does not exist; returns true if it created it.
pub async fn ensure_database(url: &str) -> Result<bool, DatabaseError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| DatabaseError::Url(e.to_string()))?;
    let name = config.get_dbname().unwrap_or("postgres").to_string();
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || name.is_empty() {
        return Err(DatabaseError::Name(name));
    }
    let mut admin = config.clone();
    admin.dbname("postgres");
    let target = describe(&admin);
    let (client, connection) = admin
        .connect(NoTls)
        .await
        .map_err(|source| DatabaseError::Connect { target, source })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let exists = client
        .query_typed_opt(
            "SELECT 1 FROM pg_database WHERE datname = $1",
            &[(&name, Type::TEXT)],
        )
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    // The name was checked above; identifiers cannot be bound as parameters.
    match client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
    {
        Ok(()) => Ok(true),
        // Someone else created it between our check and our CREATE.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Drops a database (tests clean up after themselves with this).
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), DatabaseError> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || name.is_empty() {
        return Err(DatabaseError::Name(name.to_string()));
    }
    let client = connect(admin_url).await?;
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    Ok(())
}
