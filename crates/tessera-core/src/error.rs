//! The service layer's errors, classified once here: [`CoreError::kind`] says what kind of
//! failure it is and [`CoreError::public_message`] what a caller may be told. Each face (REST,
//! GraphQL, console, the protocol endpoints, the CLI) is one small match on the kind; internal
//! detail is logged, never shown.

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
    /// A fault of the server, with its cause kept for the log ([`CoreError::internal`]).
    #[error("internal: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What kind of failure an error is, for the faces to map to a status or a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input ([`CoreError::Validation`] names each bad field).
    Invalid,
    NotFound,
    Conflict,
    Unauthenticated,
    /// A missing permission, or an act only a system administrator may do.
    Forbidden,
    /// Try again later: the database is busy or unreachable, or something outside cannot
    /// answer now.
    Unavailable,
    /// A fault of the server; its detail is logged, never shown.
    Internal,
}

/// What a caller is told when the database is busy or not reachable.
pub const DATABASE_UNAVAILABLE: &str = "the database is busy or not reachable; try again shortly";

/// What a caller is told about a fault of the server.
pub const INTERNAL_ERROR: &str = "internal error";

impl CoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Validation(_) => ErrorKind::Invalid,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Unauthenticated(_) => ErrorKind::Unauthenticated,
            Self::Forbidden(_) | Self::SystemAdminOnly(_) => ErrorKind::Forbidden,
            Self::Unavailable(_) | Self::Store(StoreError::Unavailable(_)) => {
                ErrorKind::Unavailable
            }
            Self::Store(_) | Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The text a caller may see. For an unreachable database and an internal fault this is
    /// a fixed sentence, and the detail goes to the log here ([`CoreError::report`]), so call
    /// it once per error.
    pub fn public_message(&self) -> String {
        self.report();
        match self {
            Self::Store(StoreError::Unavailable(_)) => DATABASE_UNAVAILABLE.to_owned(),
            Self::Store(_) | Self::Internal(_) => INTERNAL_ERROR.to_owned(),
            other => other.to_string(),
        }
    }

    /// Logs what a caller is not shown (inside the request's span, which carries the request
    /// id): the detail of an unreachable database or of an internal fault. Nothing otherwise.
    pub fn report(&self) {
        match self {
            Self::Store(StoreError::Unavailable(m)) => {
                tracing::error!(error = %m, "database unavailable");
            }
            Self::Store(_) | Self::Internal(_) => tracing::error!(error = %self, "internal error"),
            _ => {}
        }
    }

    /// A fault of the server caused by `e` (an error, kept as the source, or a message).
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(e.into())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_one_kind_and_hides_internal_detail() {
        let store_down =
            CoreError::Store(StoreError::Unavailable("pool timed out at db:5432".into()));
        assert_eq!(store_down.kind(), ErrorKind::Unavailable);
        assert_eq!(store_down.public_message(), DATABASE_UNAVAILABLE);
        let broken = CoreError::Store(StoreError::Database("syntax error near SELECT".into()));
        assert_eq!(broken.kind(), ErrorKind::Internal);
        assert_eq!(broken.public_message(), INTERNAL_ERROR);
        let internal = CoreError::internal("the hashing threads are gone");
        assert_eq!(internal.public_message(), INTERNAL_ERROR);
        let outside = CoreError::Unavailable("Twitch did not answer".into());
        assert_eq!(outside.kind(), ErrorKind::Unavailable);
        assert_eq!(outside.public_message(), "Twitch did not answer");
        assert_eq!(
            CoreError::invalid("name", "is empty").kind(),
            ErrorKind::Invalid
        );
        assert_eq!(
            CoreError::not_found("client", "x").kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            CoreError::SystemAdminOnly("do that").kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            CoreError::Forbidden(Permission::OauthClientsRead).public_message(),
            "missing permission oauth-clients:read"
        );
    }
}
