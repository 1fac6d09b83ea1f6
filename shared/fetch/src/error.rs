use std::time::Duration;

/// Why a call to an external source failed. Transient errors were already retried by the
/// client; the caller sees them only when the retries ran out.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}: {excerpt}")]
    Status {
        url: String,
        status: u16,
        /// The first bytes of the body (providers explain refusals there).
        excerpt: String,
        retry_after: Option<Duration>,
    },
    #[error("{url}: no answer within {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: malformed answer: {message}")]
    Malformed { url: String, message: String },
    #[error("configuration: {0}")]
    Config(String),
}

impl FetchError {
    /// What the original retries too: 429, 500, 502, 503, 504 and transport failures.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            FetchError::Timeout { .. } | FetchError::Transport { .. } => true,
            FetchError::Malformed { .. } | FetchError::Config(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn malformed(url: &str, message: impl std::fmt::Display) -> Self {
        FetchError::Malformed {
            url: url.to_string(),
            message: message.to_string(),
        }
    }

    pub fn status_code(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `Retry-After` as delay-seconds (integer or decimal, as some providers send). An HTTP-date
/// falls back to the backoff schedule, as the original does.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_nothing() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
    }
}
