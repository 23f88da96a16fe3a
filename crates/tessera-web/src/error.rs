//! The one place where errors become HTTP responses.
//!
//! Admin and connections APIs answer with
//! `{"error": …, "error_description": …, "details": [{"field": …, "message": …}]}`.
//! Internal errors are logged with the request id and answered with a generic message: the
//! caller never sees database or library text.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, StatusCode};
use serde::Serialize;
use tessera_core::{CoreError, ErrorKind};
use tessera_domain::FieldError;

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
    pub details: Vec<FieldError>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
    /// Always present (interfaces.md's error shape); empty when no field is at fault.
    details: &'a [FieldError],
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            details: vec![],
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            description: format!("{field}: {message}"),
            details: vec![FieldError::new(field, message)],
        }
    }

    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", description)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let (status, code) = match e.kind() {
            ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "invalid_request"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"),
            ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        };
        let mut description = e.public_message();
        if e.kind() == ErrorKind::Internal {
            // Where to look: the response's request id names the line in the server log.
            description.push_str(
                "; the request id in the X-Request-Id header identifies it in the server log",
            );
        }
        let details = match e {
            CoreError::Validation(v) => v.errors,
            _ => Vec::new(),
        };
        Self {
            status,
            code,
            description,
            details,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code,
            error_description: &self.description,
            details: &self.details,
        };
        let mut res = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"tessera\""),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Unknown paths answer in the same error format.
pub async fn not_found_fallback(uri: http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

/// Responses that the framework layers make on their own (405 from the router, 408 from the
/// timeout, 413 from the body limit) get the API's JSON error body too, so that every error a
/// client sees has one shape (applied by [`crate::edge::Edge`] to every response).
pub(crate) fn with_json_error(method: &http::Method, path: &str, res: Response) -> Response {
    let status = res.status();
    // A JSON error, or a page written for a person (error pages of the sign-in flow and the
    // console), is kept as it is.
    let has_body = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || has_body {
        return res;
    }
    let (code, description) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("method {method} is not allowed on {path}"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "invalid_request",
            "the request body is too large".to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "temporarily_unavailable",
            "the request took too long and was abandoned".to_owned(),
        ),
        s if s.is_server_error() => ("server_error", "internal error".to_owned()),
        _ => (
            "invalid_request",
            status.canonical_reason().unwrap_or("error").to_owned(),
        ),
    };
    let mut out = ApiError::new(status, code, description).into_response();
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
