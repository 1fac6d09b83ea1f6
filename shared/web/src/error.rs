//! The one error format of the API: `{"error":{"type","message","error_id"}}`.
//!
//! Input problems are 400 (malformed) or 422 (well-formed but outside the vocabulary), a
//! missing resource is 404, an unreachable database is 503 with `Retry-After`. A 500 only ever
//! means a bug of ours, never something a request sent.

use lambda_http::Body;
use lambda_http::http::{StatusCode, header};
use serde::Serialize;

use kgdb_store::DbError;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    /// The methods the route has, sent as `Allow` with a 405 (RFC 9110 requires it).
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            allow: None,
        }
    }

    /// Malformed input: not a number, out of range, too long, unknown sort field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "validation_error", message)
    }

    /// Well-formed input outside the allowed vocabulary (tiers, groups), as the original: 422.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            message,
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// `allow`: the route's methods, e.g. `GET, HEAD`.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this route",
            )
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            message,
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; it has been logged",
        )
    }

    /// Seconds a client should wait before retrying (503 only).
    pub const RETRY_AFTER_SECS: u32 = 5;

    pub fn into_response(self) -> lambda_http::Response<Body> {
        let error_id = uuid::Uuid::new_v4().to_string();
        if self.status.is_server_error() {
            tracing::error!(error_id = %error_id, status = self.status.as_u16(), kind = self.kind, message = %self.message, "request failed");
        }
        // Both error formats of the original in one body: its domain errors read
        // `type`/`message`/`error_id`, its validation errors `status`/`code`/`title`/`detail`.
        #[derive(Serialize)]
        struct Inner<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            message: &'a str,
            error_id: &'a str,
            status: String,
            code: String,
            title: String,
            detail: &'a str,
        }
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Inner<'a>,
        }
        let body = serde_json::to_string(&Envelope {
            error: Inner {
                kind: self.kind,
                message: &self.message,
                error_id: &error_id,
                status: self.status.as_u16().to_string(),
                code: self.kind.to_ascii_uppercase(),
                title: title_of(self.kind),
                detail: &self.message,
            },
        })
        .unwrap_or_else(|_| {
            String::from(r#"{"error":{"type":"internal_error","message":"","error_id":""}}"#)
        });
        let mut response = crate::http::json_body_response(self.status, body);
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(Self::RETRY_AFTER_SECS),
            );
        }
        response
    }
}

/// `validation_error` -> `Validation Error`: the original's `title`.
fn title_of(kind: &str) -> String {
    kind.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.kind,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                ApiError::unavailable("the database is temporarily unavailable")
            }
            DbError::Query(ref err) if err.is_closed() || err.as_db_error().is_none() => {
                tracing::warn!(error = %err, "database connection failed");
                ApiError::unavailable("the database is temporarily unavailable")
            }
            other => {
                tracing::error!(error = %other, "database query failed");
                ApiError::internal()
            }
        }
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::Query(e).into()
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        DbError::from(e).into()
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;

    #[test]
    fn error_bodies_carry_both_formats_of_the_original() {
        let response = ApiError::bad_request("page[size] must be at most 100").into_response();
        let Body::Text(text) = response.body() else {
            panic!("text body")
        };
        let body: serde_json::Value = serde_json::from_str(text).unwrap();
        let e = &body["error"];
        assert_eq!(e["type"], "validation_error");
        assert_eq!(e["status"], "400");
        assert_eq!(e["code"], "VALIDATION_ERROR");
        assert_eq!(e["title"], "Validation Error");
        assert_eq!(e["detail"], e["message"]);
        assert!(e["error_id"].is_string());
        assert_eq!(title_of("not_found"), "Not Found");
    }
}
