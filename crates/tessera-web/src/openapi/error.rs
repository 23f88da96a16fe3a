//! The error body every admin endpoint answers with.

use serde::Serialize;
use utoipa::ToSchema;

/// `{"error", "error_description", "details"}`, the error body of every admin endpoint.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorSchema {
    /// `invalid_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `method_not_allowed`, `server_error` or `temporarily_unavailable`.
    pub error: String,
    /// What was wrong, for a person.
    pub error_description: String,
    /// One entry per bad field; empty when no field is at fault.
    pub details: Vec<FieldErrorSchema>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorSchema {
    /// The field as the request named it, e.g. `redirectUris[1]`.
    pub field: String,
    pub message: String,
}
