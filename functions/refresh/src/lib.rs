//! Refresh function: an EventBridge schedule rule invokes it, it refreshes every materialized
//! view and bumps the data version (`kgdb_store::refresh::refresh_all`).
//!
//! The rule has no `Input`, so the payload is the full scheduled-event envelope
//! (`"detail-type": "Scheduled Event"`, `"detail": {}`) and the handler is typed as
//! `EventBridgeEvent<Value>`; a rule *with* `Input` would deliver only that JSON and fail to
//! deserialize (aws-lambda-rust-runtime issue #1064).
//!
//! Failures are returned as Lambda errors, never panics, so the asynchronous-invoke retries and
//! the dead-letter target apply. The refresh is one transaction: a failed run rolls back and the
//! previous views keep serving.

use std::time::{Duration, SystemTime};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use kgdb_store::DbPool;
use kgdb_store::db::DbError;
use kgdb_store::refresh::{RefreshReport, refresh_all, refresh_all_until};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;

/// What a schedule rule without `Input` delivers.
pub type ScheduledEvent = EventBridgeEvent<serde_json::Value>;

/// Kept back from the invocation deadline so a slow refresh is reported as our own error (with
/// the connection discarded) rather than as a Lambda timeout that kills the environment.
const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// The function's response: which event triggered the run, then the refresh report.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshOutcome {
    pub event_id: Option<String>,
    pub scheduled_time: Option<String>,
    #[serde(flatten)]
    pub report: RefreshReport,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("refresh failed and was rolled back (previous views keep serving): {0}")]
    Failed(String),
    #[error("refresh did not finish before the invocation deadline ({0} ms budget); rolled back")]
    DeadlineExceeded(u128),
}

impl RefreshError {
    /// Stable names for `errorType`, so alarms and metric filters can match them.
    pub fn error_type(&self) -> &'static str {
        match self {
            RefreshError::Unavailable(_) => "Refresh.DatabaseUnavailable",
            RefreshError::Failed(_) => "Refresh.Failed",
            RefreshError::DeadlineExceeded(_) => "Refresh.DeadlineExceeded",
        }
    }
}

impl From<DbError> for RefreshError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(e) if !kgdb_store::db::is_unavailable(&e) => {
                RefreshError::Failed(e.to_string())
            }
            DbError::Query(e) => RefreshError::Unavailable(e.to_string()),
            other => RefreshError::Unavailable(other.to_string()),
        }
    }
}

impl From<RefreshError> for Diagnostic {
    fn from(e: RefreshError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

/// Time left before `deadline_ms` (epoch milliseconds) minus the margin; `None` when the
/// context carries no deadline (a default `Context` in unit tests).
fn budget(deadline_ms: u64) -> Option<Duration> {
    if deadline_ms == 0 {
        return None;
    }
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    Some(left.saturating_sub(DEADLINE_MARGIN))
}

/// Entry point of the function.
pub async fn handle(
    pool: &DbPool,
    event: LambdaEvent<ScheduledEvent>,
) -> Result<RefreshOutcome, RefreshError> {
    let (payload, context) = event.into_parts();
    tracing::info!(
        request_id = %context.request_id,
        event_id = payload.id.as_deref().unwrap_or("-"),
        source = %payload.source,
        detail_type = %payload.detail_type,
        "refresh triggered"
    );
    let result = run(pool, context.deadline).await;
    match &result {
        Ok(report) => tracing::info!(
            data_version = report.data_version,
            millis = report.total_millis as u64,
            views = report.views.len(),
            "refresh done"
        ),
        Err(e) => tracing::error!(error = %e, error_type = e.error_type(), "refresh failed"),
    }
    result.map(|report| RefreshOutcome {
        event_id: payload.id,
        scheduled_time: payload.time.map(|t| t.to_rfc3339()),
        report,
    })
}

async fn run(pool: &DbPool, deadline_ms: u64) -> Result<RefreshReport, RefreshError> {
    let mut client = pool.get().await.map_err(DbError::from)?;
    let Some(budget) = budget(deadline_ms) else {
        return Ok(refresh_all(&mut client).await.map_err(DbError::from)?);
    };
    let deadline = std::time::Instant::now() + budget;
    match tokio::time::timeout(budget, refresh_all_until(&mut client, Some(deadline))).await {
        // Postgres cancelled a statement at the deadline (statement or lock timeout).
        Ok(Err(e))
            if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
                || e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) =>
        {
            Err(RefreshError::DeadlineExceeded(budget.as_millis()))
        }
        Ok(result) => Ok(result.map_err(DbError::from)?),
        Err(_) => {
            // The connection is mid-transaction: take it out of the pool and close it, so
            // Postgres rolls back and the next warm invocation starts on a clean connection.
            // Its statement timeout ends a statement still running on the server.
            drop(deadpool_postgres::Object::take(client));
            Err(RefreshError::DeadlineExceeded(budget.as_millis()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_scheduled_event_envelope() {
        let event: ScheduledEvent = serde_json::from_str(include_str!(
            "../../../events/schedule/refresh-scheduled-event.json"
        ))
        .unwrap();
        assert_eq!(event.source, "aws.events");
        assert_eq!(event.detail_type, "Scheduled Event");
        assert_eq!(event.detail, serde_json::json!({}));
    }

    #[test]
    fn a_rule_input_payload_is_refused() {
        // What a rule with `Input` would deliver: not the envelope (issue #1064).
        let err = serde_json::from_str::<ScheduledEvent>(r#"{"action":"refresh"}"#).unwrap_err();
        assert!(err.to_string().contains("detail-type"), "{err}");
    }

    #[test]
    fn budget_keeps_a_margin_and_ignores_a_missing_deadline() {
        assert_eq!(budget(0), None);
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let b = budget(now_ms + 10_000).unwrap();
        assert!(b <= Duration::from_millis(9_500) && b > Duration::from_millis(9_000));
        assert_eq!(budget(now_ms - 1_000), Some(Duration::ZERO));
    }

    #[test]
    fn errors_map_to_stable_error_types() {
        let d: Diagnostic = RefreshError::Unavailable("down".into()).into();
        assert_eq!(d.error_type, "Refresh.DatabaseUnavailable");
        assert!(d.error_message.contains("down"));
    }
}
