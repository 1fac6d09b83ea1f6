//! Refresh of the materialized views, the last step of every write path.
//!
//! All views refresh `CONCURRENTLY` (readers never block) inside one transaction, so they swap
//! together at commit and a failure leaves every previous view serving. A transaction-scoped
//! advisory lock keeps two refreshes from running at once. The data version is bumped in the
//! same transaction, so caches keyed by it can never pair new data with an old version.

use std::time::Instant;

use tokio_postgres::Client;
use tokio_postgres::types::Type;

/// Every materialized view, in dependency order. A test checks it against the database.
pub const MATERIALIZED_VIEWS: &[&str] = &[
    // Independent of the scoring chain; first, so the chain's views stay last.
    "annotation_source_stats",
    "annotation_totals",
    "gene_source_scores",
    "gene_scores",
    "gene_list",
    "gene_list_keys",
    "gene_list_meta",
    "gene_source_membership",
    "source_combination_stats",
    "source_tier_stats",
    "source_distribution_stats",
    "evidence_tier_stats",
    "source_overlap_statistics",
    "datasource_stats",
    "datasource_totals",
    "datasource_top_genes",
];

const REFRESH_LOCK_KEY: i64 = 0x6b67_6462_7266_7368; // "kgdbrfsh"

#[derive(Debug, Clone, serde::Serialize)]
pub struct ViewTiming {
    pub view: &'static str,
    pub millis: u128,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RefreshReport {
    pub views: Vec<ViewTiming>,
    pub data_version: i64,
    pub total_millis: u128,
}

/// Refreshes every view and bumps the data version; waits if another refresh is running.
pub async fn refresh_all(client: &mut Client) -> Result<RefreshReport, tokio_postgres::Error> {
    refresh_all_until(client, None).await
}

/// As `refresh_all`, but every statement is bounded by the time left until `deadline` on the
/// server too (`statement_timeout` and `lock_timeout`, transaction-scoped). A caller that gives
/// up and drops the connection would otherwise leave the server process waiting on a lock and
/// holding the refresh lock until it got it; this way Postgres itself cancels and rolls back.
pub async fn refresh_all_until(
    client: &mut Client,
    deadline: Option<Instant>,
) -> Result<RefreshReport, tokio_postgres::Error> {
    let started = Instant::now();
    let tx = client.transaction().await?;
    bound_next_statement(&tx, deadline).await?;
    tx.execute_typed(
        "SELECT pg_advisory_xact_lock($1)",
        &[(&REFRESH_LOCK_KEY, Type::INT8)],
    )
    .await?;
    let mut views = Vec::with_capacity(MATERIALIZED_VIEWS.len());
    for view in MATERIALIZED_VIEWS {
        let t = Instant::now();
        bound_next_statement(&tx, deadline).await?;
        // View names come from the constant list above, never from input.
        // ANALYZE too: refreshed views get no fresh planner statistics until autovacuum runs,
        // and stale row estimates pick poor plans for the filtered list queries.
        tx.batch_execute(&format!(
            "REFRESH MATERIALIZED VIEW CONCURRENTLY {view}; ANALYZE {view}"
        ))
        .await?;
        views.push(ViewTiming {
            view,
            millis: t.elapsed().as_millis(),
        });
    }
    let version = bump_data_version(&tx).await?;
    tx.commit().await?;
    let report = RefreshReport {
        views,
        data_version: version,
        total_millis: started.elapsed().as_millis(),
    };
    tracing::info!(
        data_version = version,
        millis = report.total_millis as u64,
        "views refreshed"
    );
    Ok(report)
}

/// Sets the transaction's statement and lock timeouts to the time left (at least 1 ms).
async fn bound_next_statement(
    tx: &tokio_postgres::Transaction<'_>,
    deadline: Option<Instant>,
) -> Result<(), tokio_postgres::Error> {
    let Some(deadline) = deadline else {
        return Ok(());
    };
    let left_ms = deadline
        .saturating_duration_since(Instant::now())
        .as_millis()
        .max(1);
    let value = format!("{left_ms}ms");
    tx.query_typed(
        "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $1, true)",
        &[(&value, Type::TEXT)],
    )
    .await?;
    Ok(())
}

/// Bumps the monotonic data version and returns the new value.
pub async fn bump_data_version(
    client: &impl tokio_postgres::GenericClient,
) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_typed_one(
            "UPDATE data_version SET version = version + 1, updated_at = now() RETURNING version",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn current_data_version(
    client: &impl tokio_postgres::GenericClient,
) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_typed_one("SELECT version FROM data_version", &[])
        .await?;
    Ok(row.get(0))
}
