//! What one invocation yields: the function's answer ([`Outcome`]) or the error it reported
//! ([`ErrorReport`]), with timings ([`Invocation`]).

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

/// An error as the runtime reported it (`/invocation/{id}/error` or `/init/error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// `errorType` of the body.
    pub error_type: String,
    /// `errorMessage` of the body.
    pub error_message: String,
    /// `Lambda-Runtime-Function-Error-Type` header (`unhandled`, `Runtime.InitError`, ...).
    pub header_error_type: Option<String>,
}

impl ErrorReport {
    /// A posted error body; one that is not the documented JSON still reports its text.
    pub(super) fn from_body(body: &[u8], header_error_type: Option<String>) -> Self {
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let field = |k: &str| {
            parsed[k]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
        };
        ErrorReport {
            error_type: parsed["errorType"]
                .as_str()
                .unwrap_or("Unknown")
                .to_string(),
            error_message: field("errorMessage"),
            header_error_type,
        }
    }
}

/// What the function returned for one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The raw response payload (JSON for `lambda_runtime`).
    Response(Bytes),
    /// A function error: Lambda answers a synchronous invoke with this as `FunctionError`.
    Error(ErrorReport),
}

/// One completed invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From queuing the event to receiving the runtime's answer.
    pub duration: Duration,
    /// Process spawn to this answer, for the first invocation of an environment.
    pub cold_start: Option<Duration>,
}

impl Invocation {
    /// The response payload as JSON; a function error or invalid JSON is an `Err` describing it.
    pub fn response_json(&self) -> Result<Value, String> {
        match &self.outcome {
            Outcome::Response(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| format!("response is not JSON ({e}): {}", lossy(bytes))),
            Outcome::Error(report) => Err(format!(
                "function error {}: {}",
                report.error_type, report.error_message
            )),
        }
    }

    /// The reported function error, `None` for a response.
    pub fn error(&self) -> Option<&ErrorReport> {
        match &self.outcome {
            Outcome::Error(report) => Some(report),
            Outcome::Response(_) => None,
        }
    }
}

/// The start of a payload as text, for messages (a payload can be megabytes).
fn lossy(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut cut: String = text.chars().take(500).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_that_is_not_json_is_reported_as_text() {
        let report = ErrorReport::from_body(b"segfault", None);
        assert_eq!(report.error_type, "Unknown");
        assert_eq!(report.error_message, "segfault");
    }

    #[test]
    fn response_json_describes_errors_and_cuts_long_payloads() {
        let invocation = |outcome| Invocation {
            request_id: "id".into(),
            outcome,
            duration: Duration::ZERO,
            cold_start: None,
        };
        let ok = invocation(Outcome::Response(Bytes::from_static(b"{\"a\":1}")));
        assert_eq!(ok.response_json(), Ok(serde_json::json!({"a": 1})));
        assert!(ok.error().is_none());

        let garbage = invocation(Outcome::Response(Bytes::from(vec![b'x'; 2_000])));
        let message = garbage.response_json().unwrap_err();
        assert!(message.ends_with('…') && message.len() < 1_000, "{message}");

        let failed = invocation(Outcome::Error(ErrorReport {
            error_type: "Boom".into(),
            error_message: "it broke".into(),
            header_error_type: None,
        }));
        assert_eq!(
            failed.response_json(),
            Err("function error Boom: it broke".into())
        );
        assert_eq!(failed.error().map(|e| e.error_type.as_str()), Some("Boom"));
    }
}
