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

/// A row of either driver read by column name, so that a row's mapping to its domain type is
/// written once for sqlx's rows and for the rows of the SQLite store's calling-thread lane.
pub(crate) trait Cols {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn text_opt(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn int_opt(&self, col: &str) -> Result<Option<i64>, StoreError>;
}

/// [`Cols`] for sqlx's row types.
macro_rules! sqlx_cols {
    ($($row:ty),*) => {$(
        impl Cols for $row {
            fn text(&self, col: &str) -> Result<String, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn text_opt(&self, col: &str) -> Result<Option<String>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int_opt(&self, col: &str) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
        }
    )*};
}
sqlx_cols!(sqlx::sqlite::SqliteRow, sqlx::postgres::PgRow);

/// One value bound to a statement, for statements both sqlx and the SQLite store's calling-thread
/// writes run (`sqlite::lane`): their values are listed once, in their statement's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Text(Option<std::borrow::Cow<'a, str>>),
    Int(Option<i64>),
}

impl<'a> Value<'a> {
    pub(crate) fn text(s: &'a str) -> Self {
        Self::Text(Some(s.into()))
    }

    fn text_opt(s: Option<&'a str>) -> Self {
        Self::Text(s.map(Into::into))
    }

    fn owned(s: Option<String>) -> Self {
        Self::Text(s.map(Into::into))
    }

    fn millis(t: tessera_domain::Timestamp) -> Self {
        Self::Int(Some(tessera_domain::clock::to_millis(t)))
    }

    fn millis_opt(t: Option<tessera_domain::Timestamp>) -> Self {
        Self::Int(t.map(tessera_domain::clock::to_millis))
    }
}

/// The nineteen values of an authorization code, in the order of `codes::code_insert!`.
pub(crate) fn code_values(c: &crate::AuthCode) -> [Value<'_>; 19] {
    [
        Value::text(&c.code_hash),
        Value::owned(Some(c.org_id.0.to_string())),
        Value::text(&c.client_id),
        Value::owned(Some(c.user_id.0.to_string())),
        Value::text(&c.redirect_uri),
        Value::text(&c.scope),
        Value::text_opt(c.nonce.as_deref()),
        Value::text_opt(c.code_challenge.as_deref()),
        Value::millis(c.auth_time),
        Value::millis(c.created_at),
        Value::millis(c.expires_at),
        Value::millis_opt(c.redeemed_at),
        Value::text_opt(c.access_jti.as_deref()),
        Value::millis_opt(c.access_expires),
        Value::owned(claims_to(&c.claims)),
        Value::owned(resources_to(&c.resources)),
        Value::text_opt(c.dpop_jkt.as_deref()),
        Value::text_opt(c.sid.as_deref()),
        Value::text(&c.amr),
    ]
}

/// The five values of `codes::redeem_update!`.
pub(crate) fn redeem_values<'a>(r: &crate::Redemption<'a>) -> [Value<'a>; 5] {
    [
        Value::owned(Some(r.org.0.to_string())),
        Value::text(r.code_hash),
        Value::millis(r.at),
        Value::text(r.jti),
        Value::millis(r.access_expires),
    ]
}

/// The sixteen values of a refresh token, in the order of `tokens::refresh_insert!`.
pub(crate) fn refresh_values(x: &crate::RefreshToken) -> [Value<'_>; 16] {
    [
        Value::text(&x.token_hash),
        Value::owned(Some(x.org_id.0.to_string())),
        Value::text(&x.family_id),
        Value::text(&x.client_id),
        Value::owned(Some(x.user_id.0.to_string())),
        Value::text(&x.scope),
        Value::millis(x.auth_time),
        Value::millis(x.created_at),
        Value::millis(x.expires_at),
        Value::millis_opt(x.used_at),
        Value::millis_opt(x.revoked_at),
        Value::owned(claims_to(&x.claims)),
        Value::owned(resources_to(&x.resources)),
        Value::text_opt(x.dpop_jkt.as_deref()),
        Value::text_opt(x.sid.as_deref()),
        Value::text(&x.amr),
    ]
}

/// Binds `values` to a sqlx query, in order.
pub(crate) fn bind_values<'q, DB>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    values: impl IntoIterator<Item = Value<'q>>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    Option<std::borrow::Cow<'q, str>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    values.into_iter().fold(q, |q, v| match v {
        Value::Text(t) => q.bind(t),
        Value::Int(i) => q.bind(i),
    })
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
