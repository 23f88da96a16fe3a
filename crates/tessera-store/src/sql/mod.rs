//! The portable SQL shared by both backends, one file per repository, and the conversions
//! between rows and domain types. [`impl_tx!`] stamps the [`crate::Tx`] implementation out for
//! one sqlx driver by invoking each repository's macro; the SQL text is the same for both
//! (SQLite accepts PostgreSQL's `$N` parameters, `RETURNING` and `IS NOT DISTINCT FROM`).
//! Where a dialect truly differs, the macro takes it as a parameter instead of branching here.

pub(crate) mod api_keys;
pub(crate) mod api_resources;
pub(crate) mod audit;
pub(crate) mod changes;
pub(crate) mod clients;
pub(crate) mod codes;
pub(crate) mod connections;
pub(crate) mod console;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod orgs;
pub(crate) mod registration;
pub(crate) mod sessions;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod webhooks;

use tessera_domain::{PermissionSet, RoleName};
use uuid::Uuid;

use crate::StoreError;

pub(crate) fn corrupt(table: &'static str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        reason: reason.to_string(),
    }
}

pub(crate) fn uuid(table: &'static str, s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| corrupt(table, e))
}

pub(crate) fn roles_to_json(roles: &[RoleName]) -> String {
    serde_json::to_string(&roles.iter().map(RoleName::as_str).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

pub(crate) fn roles_from_json(table: &'static str, s: &str) -> Result<Vec<RoleName>, StoreError> {
    let names: Vec<String> = serde_json::from_str(s).map_err(|e| corrupt(table, e))?;
    names
        .iter()
        .map(|n| RoleName::parse(n).map_err(|e| corrupt(table, e)))
        .collect()
}

pub(crate) fn perms_to_json(p: PermissionSet) -> String {
    serde_json::to_string(&p.names()).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn perms_from_json(table: &'static str, s: &str) -> Result<PermissionSet, StoreError> {
    let names: Vec<String> = serde_json::from_str(s).map_err(|e| corrupt(table, e))?;
    let mut set = PermissionSet::EMPTY;
    for n in &names {
        set = set.union(PermissionSet::parse_item(n).map_err(|e| corrupt(table, e))?);
    }
    Ok(set)
}

pub(crate) fn json_opt(
    table: &'static str,
    s: Option<String>,
) -> Result<Option<serde_json::Value>, StoreError> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(table, e)))
        .transpose()
}

/// A JSON array of strings from a list of domain values.
pub(crate) fn strings_to_json<T>(items: &[T], f: impl Fn(&T) -> &str) -> String {
    serde_json::to_string(&items.iter().map(f).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

/// A list of domain values from a stored JSON array, each re-parsed by its domain parser.
pub(crate) fn strings_from_json<T, E: std::fmt::Display>(
    table: &'static str,
    s: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, StoreError> {
    let items: Vec<String> = serde_json::from_str(s).map_err(|e| corrupt(table, e))?;
    items
        .iter()
        .map(|i| parse(i).map_err(|e| corrupt(table, e)))
        .collect()
}

/// `%q%` for a case-insensitive LIKE, with the wildcards of `q` escaped (`ESCAPE '\'`).
pub(crate) fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// An organization id as bound to a nullable `org_id` column (system-wide rows have none).
pub(crate) fn org_param(org: Option<tessera_domain::OrgId>) -> Option<String> {
    org.map(|o| o.0.to_string())
}

/// A stored claims request (JSON), if there is one.
pub(crate) fn claims_from(
    t: &'static str,
    raw: Option<String>,
) -> crate::Result<Option<tessera_domain::claims::ClaimsRequest>> {
    raw.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(t, e)))
        .transpose()
}

pub(crate) fn claims_to(c: &Option<tessera_domain::claims::ClaimsRequest>) -> Option<String> {
    c.as_ref().and_then(|c| serde_json::to_string(c).ok())
}

/// A stored list of resource identifiers (NULL: none).
pub(crate) fn resources_from(t: &'static str, raw: Option<String>) -> crate::Result<Vec<String>> {
    raw.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(t, e)))
        .transpose()
        .map(Option::unwrap_or_default)
}

pub(crate) fn resources_to(r: &[String]) -> Option<String> {
    (!r.is_empty())
        .then(|| serde_json::to_string(r).ok())
        .flatten()
}

/// What every repository's SQL module imports.
pub(crate) mod prelude {
    pub(crate) use super::*;
    pub(crate) use crate::{
        ApiKeyRecord, AuditQuery, Change, CustomRole, Result, UserRecord, UserTotp,
    };
    pub(crate) use async_trait::async_trait;
    pub(crate) use sqlx::Row as _;
    pub(crate) use tessera_domain::clock::{from_millis, to_millis};
    pub(crate) use tessera_domain::{
        Actor, ApiKey, ApiKeyId, ApiKeyName, AuditEvent, Email, NewAuditEvent, OrgId, OrgSlug,
        Organization, RoleName, Timestamp, User, UserId, Username,
    };
}

/// Implements [`crate::Tx`] for `$tx`, a wrapper of `$inner`: an open transaction that
/// dereferences to the driver's connection and ends with `commit`. Every repository is
/// stamped out for it from its own file; `$claim_lock` is the connections' (see there),
/// `$dialect` (`sqlite` or `postgres`) picks the few statements written per backend.
macro_rules! impl_tx {
    ($tx:ident, $row:ty, $inner:ty, $claim_lock:expr, $dialect:ident) => {
        /// A transaction on this backend.
        pub struct $tx {
            pub(crate) tx: $inner,
        }

        #[async_trait::async_trait]
        impl $crate::Tx for $tx {
            #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
            async fn commit(self: Box<Self>) -> $crate::Result<()> {
                self.tx.commit().await?;
                Ok(())
            }
        }

        $crate::sql::orgs::impl_orgs_repo!($tx, $row);
        $crate::sql::users::impl_users_repo!($tx, $row);
        $crate::sql::api_keys::impl_api_keys_repo!($tx, $row);
        $crate::sql::clients::impl_clients_repo!($tx, $row);
        $crate::sql::api_resources::impl_api_resources_repo!($tx, $row);
        $crate::sql::keys::impl_keys_repo!($tx, $row);
        $crate::sql::tokens::impl_tokens_repo!($tx, $row);
        $crate::sql::sessions::impl_sessions_repo!($tx, $row);
        $crate::sql::codes::impl_codes_repo!($tx, $row, $dialect);
        $crate::sql::console::impl_console_repo!($tx, $row);
        $crate::sql::registration::impl_registration_repo!($tx, $row);
        $crate::sql::audit::impl_audit_repo!($tx, $row);
        $crate::sql::changes::impl_changes_repo!($tx, $row);
        $crate::sql::limits::impl_limits_repo!($tx, $row);
        $crate::sql::connections::impl_connection_tx!($tx, $row, $claim_lock);
        $crate::sql::webhooks::impl_webhooks_repo!($tx, $row, $claim_lock);
    };
}

pub(crate) use impl_tx;
