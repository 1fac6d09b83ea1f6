//! Queue messages of the annotation pipeline and the one thing the API side needs of the
//! queue: sending. The message names a planned chunk (run, chunk number); the chunk's genes and
//! source live in the database, so a message is tiny and a redelivery finds the chunk's state.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnotationJob {
    pub run_id: i64,
    pub chunk_no: i32,
}

impl AnnotationJob {
    pub fn body(&self) -> String {
        format!(
            "{{\"run_id\":{},\"chunk_no\":{}}}",
            self.run_id, self.chunk_no
        )
    }

    /// A message body as the worker receives it; anything else is a poison message.
    pub fn parse(body: &str) -> Result<Self, String> {
        let job: Self = serde_json::from_str(body)
            .map_err(|e| format!("not an annotation job ({e}): {:.200}", body))?;
        if job.run_id <= 0 || job.chunk_no < 0 {
            return Err(format!(
                "not an annotation job (ids out of range): {body:.200}"
            ));
        }
        Ok(job)
    }
}

/// Sends jobs to the annotation queue: SQS when deployed (or against an emulator), an
/// in-process queue in the local stack.
pub trait JobSender: Send + Sync {
    /// Every job is sent, or an error says the batch may be partly sent (jobs are idempotent,
    /// so sending again is safe).
    fn send<'a>(&'a self, jobs: &'a [AnnotationJob]) -> BoxFuture<'a, Result<(), String>>;
    /// `sqs` or `in-process`, for status answers and logs.
    fn kind(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_round_trips_and_junk_is_refused() {
        let job = AnnotationJob {
            run_id: 7,
            chunk_no: 3,
        };
        assert_eq!(AnnotationJob::parse(&job.body()), Ok(job));
        for junk in [
            "",
            "{}",
            "[]",
            "{\"run_id\":7}",
            "{\"run_id\":0,\"chunk_no\":0}",
            "{\"run_id\":7,\"chunk_no\":-1}",
            "{\"run_id\":7,\"chunk_no\":1,\"x\":1}",
            "{\"run_id\":1e400,\"chunk_no\":1}",
        ] {
            assert!(AnnotationJob::parse(junk).is_err(), "{junk}");
        }
    }
}
