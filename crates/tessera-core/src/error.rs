//! The service layer's errors. Faces map them to their own form once (HTTP status and error
//! JSON, a CLI line, a GraphQL `extensions.code`); internal detail is logged, never shown.

use tessera_domain::{Permission, ValidationError};
use tessera_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Bad input, naming each bad field.
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    /// No credentials, or credentials that are wrong, revoked or expired.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("missing permission {0}")]
    Forbidden(Permission),
    /// Only a system administrator may do this.
    #[error("only a system administrator may {0}")]
    SystemAdminOnly(&'static str),
    /// Something outside (a platform, another node) cannot answer now; retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound {
            what,
            id: id.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(ValidationError::single(field, message))
    }
}

impl From<tessera_domain::FieldError> for CoreError {
    fn from(e: tessera_domain::FieldError) -> Self {
        Self::Validation(e.into())
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
