//! The scheduled entry: sweep, then start a run. The rules carry their job as `Input`
//! (`{"strategy": "incremental", "job": "daily_incremental"}`), which EventBridge delivers
//! instead of the envelope; a rule without `Input` delivers the envelope, whose `detail` is read
//! the same way (and an empty one means incremental).

use std::time::Duration;

use kgdb_core::jobs::JobSender;
use kgdb_pipeline::runs::SweepReport;
use kgdb_pipeline::{RunError, RunRequest, RunStore, StartedRun};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("bad schedule input: {0}")]
    Input(String),
    #[error("annotation pipeline storage: {0}")]
    Storage(String),
}

impl From<SchedulerError> for Diagnostic {
    fn from(e: SchedulerError) -> Self {
        let error_type = match e {
            SchedulerError::Input(_) => "Scheduler.BadInput",
            SchedulerError::Storage(_) => "Scheduler.Storage",
        };
        Diagnostic {
            error_type: error_type.to_string(),
            error_message: e.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ScheduleOutcome {
    pub job: String,
    pub sweep: SweepReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<StartedRun>,
    /// Set when a run was already in flight (the sweep moved it on instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// The rule's job: its `Input`, or the envelope's `detail`.
pub fn request_of(payload: &Value) -> Result<(String, RunRequest), SchedulerError> {
    let input = if payload.get("detail-type").is_some() {
        payload.get("detail").cloned().unwrap_or(Value::Null)
    } else {
        payload.clone()
    };
    let text = |key: &str| input.get(key).and_then(Value::as_str);
    let job = text("job")
        .unwrap_or("scheduled")
        .chars()
        .take(100)
        .collect::<String>();
    let sources: Vec<&str> = match input.get("sources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(other) => {
            return Err(SchedulerError::Input(format!(
                "sources must be a list, got {other}"
            )));
        }
    };
    let request =
        RunRequest::from_query(text("strategy"), &sources, &[], &format!("schedule:{job}"))
            .map_err(|e| SchedulerError::Input(e.to_string()))?;
    Ok((job, request))
}

pub async fn handle_schedule(
    runs: &RunStore,
    sender: &dyn JobSender,
    lost_after: Duration,
    event: LambdaEvent<Value>,
) -> Result<ScheduleOutcome, SchedulerError> {
    let (job, request) = request_of(&event.payload)?;
    let storage = |e: RunError| SchedulerError::Storage(e.to_string());
    let sweep = runs.sweep(sender, lost_after).await.map_err(storage)?;
    let (started, skipped) = match runs.start(&request, sender).await {
        Ok(run) => (Some(run), None),
        Err(RunError::AlreadyRunning { run_id }) => {
            (None, Some(format!("run {run_id} is still in progress")))
        }
        Err(e @ (RunError::InactiveSource(_) | RunError::UnknownGenes(_))) => {
            return Err(SchedulerError::Input(e.to_string()));
        }
        Err(e) => return Err(storage(e)),
    };
    tracing::info!(%job, ?sweep, ?skipped, "annotation schedule handled");
    Ok(ScheduleOutcome {
        job,
        sweep,
        started,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kgdb_pipeline::Strategy;
    use serde_json::json;

    #[test]
    fn input_or_envelope_detail() {
        let (job, r) = request_of(&json!({"strategy": "full", "job": "weekly_full"})).unwrap();
        assert_eq!((job.as_str(), r.strategy), ("weekly_full", Strategy::Full));
        assert_eq!(r.trigger, "schedule:weekly_full");
        let envelope =
            json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        let (_, r) = request_of(&envelope).unwrap();
        assert_eq!(r.strategy, Strategy::Incremental);
        assert!(request_of(&json!({"strategy": "sometimes"})).is_err());
        assert!(request_of(&json!({"sources": "hgnc"})).is_err());
        let (_, r) = request_of(&json!({"strategy": "selective", "sources": ["gnomad"]})).unwrap();
        assert_eq!(r.sources, ["gnomad"]);
    }
}
