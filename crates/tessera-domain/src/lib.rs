//! Tessera's domain: the types every other crate speaks, and the rules that make them valid.
//!
//! Values here are parsed at the edge ("parse, don't validate"): an [`OrgSlug`] or a
//! [`Permission`] that exists is a valid one. This crate does no I/O, holds no async code and
//! knows nothing of HTTP or SQL; time comes in through the [`Clock`] trait so that expiry and
//! scheduling can be tested without sleeping.

pub mod api_key;
pub mod api_resource;
pub mod audit;
pub mod claims;
pub mod client;
pub mod clock;
pub mod connection;
pub mod error;
pub mod org;
pub mod permission;
pub mod principal;
pub mod profile;
pub mod registration;
pub mod text;
pub mod user;
pub mod webhook;

pub use api_key::{ApiKey, ApiKeyId, ApiKeyName};
pub use audit::{Actor, AuditAction, AuditEvent, NewAuditEvent};
pub use clock::{Clock, MockClock, SystemClock, Timestamp};
pub use connection::{CardState, ConnectionKind, IntegrationKind, Platform};
pub use error::{FieldError, ValidationError};
pub use org::{OrgId, OrgName, OrgSlug, Organization};
pub use permission::{Permission, PermissionSet, Role, RoleName};
pub use principal::{Principal, PrincipalKind};
pub use user::{Email, User, UserId, Username};
