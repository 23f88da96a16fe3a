//! The portable SQL shared by both backends, and the conversions between rows and domain
//! types. [`impl_tx!`] stamps the [`crate::Tx`] implementation out for one sqlx driver; the
//! SQL text is the same for both (SQLite accepts PostgreSQL's `$N` parameters, `RETURNING`
//! and `IS NOT DISTINCT FROM`). Where a dialect truly differs, the backend module overrides
//! that one method instead of branching here.

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

pub(crate) const ORG_COLS: &str = "id, slug, name, created_at, updated_at";
pub(crate) const USER_COLS: &str = "id, org_id, username, email, name, password_hash, roles, \
     is_system_admin, is_active, created_at, updated_at, profile";
pub(crate) const KEY_COLS: &str = "id, org_id, name, key_hash, hint, roles, permissions, \
     created_at, last_used_at, revoked_at";
pub(crate) const CLIENT_COLS: &str = "org_id, id, name, description, is_confidential, \
     redirect_uris, post_logout_redirect_uris, allowed_cors_origins, allowed_scopes, grant_types, \
     is_active, require_pkce, require_consent, client_uri, logo_uri, access_token_lifetime, \
     refresh_token_lifetime, id_token_alg, token_exchange, access_token_alg, userinfo_alg, \
     token_endpoint_auth_method, jwks, jwks_uri, request_object_alg, created_at, updated_at";
pub(crate) const SECRET_COLS: &str =
    "id, org_id, client_id, secret_hash, hint, created_at, expires_at, last_used_at";

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

pub(crate) const DEVICE_COLS: &str = "device_code_hash, user_code_hash, org_id, client_id, \
     scope, status, user_id, auth_time, interval_secs, last_polled_at, created_at, expires_at";

pub(crate) const AUDIT_COLS: &str = "id, org_id, actor_type, actor_id, actor_name, action, \
     target_type, target_id, ip, request_id, before_state, after_state, created_at";

/// Implements [`crate::Tx`] for `$tx`, a wrapper of `$inner`: an open transaction that
/// dereferences to the driver's connection and ends with `commit`.
macro_rules! impl_tx {
    ($tx:ident, $db:ty, $row:ty, $inner:ty) => {
        use async_trait::async_trait;
        use sqlx::Row as _;
        use tessera_domain::clock::{from_millis, to_millis};
        use tessera_domain::{
            Actor, ApiKey, ApiKeyId, ApiKeyName, AuditEvent, Email, NewAuditEvent, OrgId,
            OrgSlug, Organization, RoleName, Timestamp, User, UserId, Username,
        };
        use $crate::sql::*;
        use $crate::{ApiKeyRecord, AuditQuery, Change, CustomRole, Result, UserRecord};

        /// A transaction on this backend.
        pub struct $tx {
            pub(crate) tx: $inner,
        }

        fn org_row(r: &$row) -> Result<Organization> {
            let t = "organizations";
            Ok(Organization {
                id: OrgId(uuid(t, &r.try_get::<String, _>("id")?)?),
                slug: OrgSlug::parse(&r.try_get::<String, _>("slug")?).map_err(|e| corrupt(t, e))?,
                name: r.try_get("name")?,
                created_at: from_millis(r.try_get("created_at")?),
                updated_at: from_millis(r.try_get("updated_at")?),
            })
        }

        fn user_row(r: &$row) -> Result<UserRecord> {
            let t = "users";
            let email: Option<String> = r.try_get("email")?;
            Ok(UserRecord {
                user: User {
                    id: UserId(uuid(t, &r.try_get::<String, _>("id")?)?),
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    username: Username::parse(&r.try_get::<String, _>("username")?)
                        .map_err(|e| corrupt(t, e))?,
                    email: email
                        .map(|e| Email::parse(&e).map_err(|e| corrupt(t, e)))
                        .transpose()?,
                    name: r.try_get("name")?,
                    profile: serde_json::from_str(&r.try_get::<String, _>("profile")?)
                        .map_err(|e| corrupt(t, e))?,
                    roles: roles_from_json(t, &r.try_get::<String, _>("roles")?)?,
                    is_system_admin: r.try_get("is_system_admin")?,
                    is_active: r.try_get("is_active")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    updated_at: from_millis(r.try_get("updated_at")?),
                },
                password_hash: r.try_get("password_hash")?,
            })
        }

        fn key_row(r: &$row) -> Result<ApiKeyRecord> {
            let t = "api_keys";
            let org: Option<String> = r.try_get("org_id")?;
            Ok(ApiKeyRecord {
                key: ApiKey {
                    id: ApiKeyId(uuid(t, &r.try_get::<String, _>("id")?)?),
                    org_id: org.map(|o| uuid(t, &o).map(OrgId)).transpose()?,
                    name: ApiKeyName::parse(&r.try_get::<String, _>("name")?)
                        .map_err(|e| corrupt(t, e))?,
                    hint: r.try_get("hint")?,
                    roles: roles_from_json(t, &r.try_get::<String, _>("roles")?)?,
                    permissions: perms_from_json(t, &r.try_get::<String, _>("permissions")?)?,
                    created_at: from_millis(r.try_get("created_at")?),
                    last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(from_millis),
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
                },
                key_hash: r.try_get("key_hash")?,
            })
        }

        fn role_row(r: &$row) -> Result<CustomRole> {
            let t = "roles";
            Ok(CustomRole {
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                name: RoleName::parse(&r.try_get::<String, _>("name")?).map_err(|e| corrupt(t, e))?,
                permissions: perms_from_json(t, &r.try_get::<String, _>("permissions")?)?,
                created_at: from_millis(r.try_get("created_at")?),
            })
        }

        fn audit_row(r: &$row) -> Result<AuditEvent> {
            let t = "audit_events";
            let org: Option<String> = r.try_get("org_id")?;
            Ok(AuditEvent {
                id: r.try_get("id")?,
                org_id: org.map(|o| uuid(t, &o).map(OrgId)).transpose()?,
                actor: Actor {
                    kind: r.try_get("actor_type")?,
                    id: r.try_get("actor_id")?,
                    name: r.try_get("actor_name")?,
                },
                action: r.try_get("action")?,
                target_type: r.try_get("target_type")?,
                target_id: r.try_get("target_id")?,
                ip: r.try_get("ip")?,
                request_id: r.try_get("request_id")?,
                before: json_opt(t, r.try_get("before_state")?)?,
                after: json_opt(t, r.try_get("after_state")?)?,
                created_at: from_millis(r.try_get("created_at")?),
            })
        }

        fn client_row(r: &$row) -> Result<tessera_domain::client::OAuthClient> {
            use tessera_domain::client::{
                ClientId, ClientSettings, CorsOrigin, GrantType, OAuthClient, RedirectUri, Scope,
            };
            let t = "oauth_clients";
            Ok(OAuthClient {
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                id: ClientId::parse(&r.try_get::<String, _>("id")?).map_err(|e| corrupt(t, e))?,
                settings: ClientSettings {
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    is_confidential: r.try_get("is_confidential")?,
                    redirect_uris: strings_from_json(t, &r.try_get::<String, _>("redirect_uris")?, RedirectUri::parse)?,
                    post_logout_redirect_uris: strings_from_json(
                        t,
                        &r.try_get::<String, _>("post_logout_redirect_uris")?,
                        RedirectUri::parse,
                    )?,
                    allowed_cors_origins: strings_from_json(
                        t,
                        &r.try_get::<String, _>("allowed_cors_origins")?,
                        CorsOrigin::parse,
                    )?,
                    allowed_scopes: strings_from_json(t, &r.try_get::<String, _>("allowed_scopes")?, Scope::parse)?,
                    grant_types: strings_from_json(t, &r.try_get::<String, _>("grant_types")?, GrantType::parse)?,
                    is_active: r.try_get("is_active")?,
                    require_pkce: r.try_get("require_pkce")?,
                    require_consent: r.try_get("require_consent")?,
                    client_uri: r.try_get("client_uri")?,
                    logo_uri: r.try_get("logo_uri")?,
                    access_token_lifetime: r.try_get("access_token_lifetime")?,
                    refresh_token_lifetime: r.try_get("refresh_token_lifetime")?,
                    id_token_signed_response_alg: tessera_domain::client::IdTokenAlg::parse(
                        &r.try_get::<String, _>("id_token_alg")?,
                    )
                    .map_err(|e| corrupt(t, e))?,
                    token_exchange: serde_json::from_str(&r.try_get::<String, _>("token_exchange")?)
                        .map_err(|e| corrupt(t, e))?,
                    access_token_signed_response_alg: tessera_domain::client::SigningAlg::parse(
                        &r.try_get::<String, _>("access_token_alg")?,
                    )
                    .map_err(|e| corrupt(t, e))?,
                    userinfo_signed_response_alg: r
                        .try_get::<Option<String>, _>("userinfo_alg")?
                        .map(|a| tessera_domain::client::SigningAlg::parse(&a))
                        .transpose()
                        .map_err(|e| corrupt(t, e))?,
                    // NULL in rows older than migration 0015: the default of the type.
                    token_endpoint_auth_method: match r
                        .try_get::<Option<String>, _>("token_endpoint_auth_method")?
                    {
                        Some(m) => tessera_domain::client::TokenAuthMethod::parse(&m)
                            .map_err(|e| corrupt(t, e))?,
                        None => tessera_domain::client::TokenAuthMethod::default_for(
                            r.try_get("is_confidential")?,
                        ),
                    },
                    jwks: match r.try_get::<Option<String>, _>("jwks")? {
                        Some(j) => Some(
                            serde_json::from_str(&j)
                                .map_err(|e| corrupt(t, e))
                                .and_then(|v| {
                                    tessera_domain::client::ClientJwks::parse(&v)
                                        .map_err(|e| corrupt(t, e))
                                })?,
                        ),
                        None => None,
                    },
                    jwks_uri: r.try_get("jwks_uri")?,
                    request_object_signing_alg: r
                        .try_get::<Option<String>, _>("request_object_alg")?
                        .map(|a| tessera_domain::client::parse_request_object_alg(&a))
                        .transpose()
                        .map_err(|e| corrupt(t, e))?,
                },
                secrets: vec![],
                created_at: from_millis(r.try_get("created_at")?),
                updated_at: from_millis(r.try_get("updated_at")?),
            })
        }

        fn secret_row(r: &$row) -> Result<$crate::ClientSecretRecord> {
            let t = "oauth_client_secrets";
            Ok($crate::ClientSecretRecord {
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                client_id: tessera_domain::client::ClientId::parse(&r.try_get::<String, _>("client_id")?)
                    .map_err(|e| corrupt(t, e))?,
                info: tessera_domain::client::SecretInfo {
                    id: r.try_get("id")?,
                    hint: r.try_get("hint")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: r.try_get::<Option<i64>, _>("expires_at")?.map(from_millis),
                    last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(from_millis),
                },
                secret_hash: r.try_get("secret_hash")?,
            })
        }

        /// The bind values of a client's settings, in `CLIENT_COLS` order from `name` on.
        macro_rules! bind_settings {
            ($q:expr, $c:expr) => {{
                let s = &$c.settings;
                $q.bind(&s.name)
                    .bind(s.description.as_deref())
                    .bind(s.is_confidential)
                    .bind(strings_to_json(&s.redirect_uris, |u| u.as_str()))
                    .bind(strings_to_json(&s.post_logout_redirect_uris, |u| u.as_str()))
                    .bind(strings_to_json(&s.allowed_cors_origins, |u| u.as_str()))
                    .bind(strings_to_json(&s.allowed_scopes, |u| u.as_str()))
                    .bind(strings_to_json(&s.grant_types, |g| g.as_str()))
                    .bind(s.is_active)
                    .bind(s.require_pkce)
                    .bind(s.require_consent)
                    .bind(s.client_uri.as_deref())
                    .bind(s.logo_uri.as_deref())
                    .bind(s.access_token_lifetime)
                    .bind(s.refresh_token_lifetime)
                    .bind(s.id_token_signed_response_alg.as_str())
                    .bind(serde_json::to_string(&s.token_exchange).unwrap_or_else(|_| "{}".into()))
                    .bind(s.access_token_signed_response_alg.as_str())
                    .bind(s.userinfo_signed_response_alg.map(|a| a.as_str()))
                    .bind(s.token_endpoint_auth_method.as_str())
                    .bind(s.jwks.as_ref().map(|j| j.as_json().to_string()))
                    .bind(s.jwks_uri.as_deref())
                    .bind(s.request_object_signing_alg.map(|a| a.as_str()))
            }};
        }

        fn signing_key_row(r: &$row) -> Result<$crate::SigningKeyRecord> {
            let t = "signing_keys";
            Ok($crate::SigningKeyRecord {
                id: r.try_get("id")?,
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                alg: r.try_get("alg")?,
                private_key: r.try_get("private_key")?,
                public_jwk: r.try_get("public_jwk")?,
                created_at: from_millis(r.try_get("created_at")?),
                retired_at: r.try_get::<Option<i64>, _>("retired_at")?.map(from_millis),
                publish_until: r.try_get::<Option<i64>, _>("publish_until")?.map(from_millis),
            })
        }

        fn session_row(r: &$row) -> Result<$crate::LoginSession> {
            let t = "login_sessions";
            Ok($crate::LoginSession {
                id_hash: r.try_get("id_hash")?,
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                auth_time: from_millis(r.try_get("auth_time")?),
                created_at: from_millis(r.try_get("created_at")?),
                expires_at: from_millis(r.try_get("expires_at")?),
                ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(from_millis),
            })
        }

        fn console_session_row(r: &$row) -> Result<$crate::ConsoleSession> {
            let t = "console_sessions";
            Ok($crate::ConsoleSession {
                id_hash: r.try_get("id_hash")?,
                current_org: r
                    .try_get::<Option<String>, _>("current_org_id")?
                    .map(|o| uuid(t, &o).map(OrgId))
                    .transpose()?,
                created_at: from_millis(r.try_get("created_at")?),
                expires_at: from_millis(r.try_get("expires_at")?),
                ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(from_millis),
            })
        }

        fn console_login_row(r: &$row) -> Result<$crate::ConsoleLogin> {
            let t = "console_logins";
            Ok($crate::ConsoleLogin {
                session_hash: r.try_get("session_hash")?,
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                auth_time: from_millis(r.try_get("auth_time")?),
                created_at: from_millis(r.try_get("created_at")?),
            })
        }

        fn code_row(r: &$row) -> Result<$crate::AuthCode> {
            let t = "auth_codes";
            Ok($crate::AuthCode {
                code_hash: r.try_get("code_hash")?,
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                client_id: r.try_get("client_id")?,
                user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                redirect_uri: r.try_get("redirect_uri")?,
                scope: r.try_get("scope")?,
                nonce: r.try_get("nonce")?,
                code_challenge: r.try_get("code_challenge")?,
                auth_time: from_millis(r.try_get("auth_time")?),
                created_at: from_millis(r.try_get("created_at")?),
                expires_at: from_millis(r.try_get("expires_at")?),
                redeemed_at: r.try_get::<Option<i64>, _>("redeemed_at")?.map(from_millis),
                access_jti: r.try_get("access_jti")?,
                access_expires: r.try_get::<Option<i64>, _>("access_expires")?.map(from_millis),
                claims: claims_from(t, r.try_get("claims")?)?,
            })
        }

        /// A stored claims request (JSON), if there is one.
        fn claims_from(t: &'static str, raw: Option<String>) -> Result<Option<tessera_domain::claims::ClaimsRequest>> {
            raw.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(t, e)))
                .transpose()
        }

        fn claims_to(c: &Option<tessera_domain::claims::ClaimsRequest>) -> Option<String> {
            c.as_ref().and_then(|c| serde_json::to_string(c).ok())
        }

        fn initial_token_row(r: &$row) -> Result<$crate::InitialAccessToken> {
            let t = "initial_access_tokens";
            Ok($crate::InitialAccessToken {
                id: r.try_get("id")?,
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                token_hash: r.try_get("token_hash")?,
                hint: r.try_get("hint")?,
                created_at: from_millis(r.try_get("created_at")?),
                expires_at: r.try_get::<Option<i64>, _>("expires_at")?.map(from_millis),
                revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
            })
        }

        fn device_row(r: &$row) -> Result<$crate::DeviceCode> {
            let t = "device_codes";
            let status: String = r.try_get("status")?;
            Ok($crate::DeviceCode {
                device_code_hash: r.try_get("device_code_hash")?,
                user_code_hash: r.try_get("user_code_hash")?,
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                client_id: r.try_get("client_id")?,
                scope: r.try_get("scope")?,
                status: $crate::DeviceStatus::parse(&status)
                    .ok_or_else(|| corrupt(t, format!("unknown status '{status}'")))?,
                user_id: r
                    .try_get::<Option<String>, _>("user_id")?
                    .map(|u| uuid(t, &u).map(UserId))
                    .transpose()?,
                auth_time: r.try_get::<Option<i64>, _>("auth_time")?.map(from_millis),
                interval_secs: r.try_get("interval_secs")?,
                last_polled_at: r.try_get::<Option<i64>, _>("last_polled_at")?.map(from_millis),
                created_at: from_millis(r.try_get("created_at")?),
                expires_at: from_millis(r.try_get("expires_at")?),
            })
        }

        fn refresh_row(r: &$row) -> Result<$crate::RefreshToken> {
            let t = "refresh_tokens";
            Ok($crate::RefreshToken {
                token_hash: r.try_get("token_hash")?,
                org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                family_id: r.try_get("family_id")?,
                client_id: r.try_get("client_id")?,
                user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                scope: r.try_get("scope")?,
                auth_time: from_millis(r.try_get("auth_time")?),
                created_at: from_millis(r.try_get("created_at")?),
                expires_at: from_millis(r.try_get("expires_at")?),
                used_at: r.try_get::<Option<i64>, _>("used_at")?.map(from_millis),
                revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
                claims: claims_from(t, r.try_get("claims")?)?,
            })
        }

        fn change_row(r: &$row) -> Result<Change> {
            let org: Option<String> = r.try_get("org_id")?;
            Ok(Change {
                seq: r.try_get("seq")?,
                org_id: org.map(|o| uuid("changes", &o).map(OrgId)).transpose()?,
                kind: r.try_get("kind")?,
                key: r.try_get("key")?,
            })
        }

        fn org_param(org: Option<OrgId>) -> Option<String> {
            org.map(|o| o.0.to_string())
        }

        #[async_trait]
        impl $crate::Tx for $tx {
            async fn commit(self: Box<Self>) -> Result<()> {
                self.tx.commit().await?;
                Ok(())
            }

            async fn insert_org(&mut self, org: &Organization) -> Result<()> {
                sqlx::query(
                    "INSERT INTO organizations (id, slug, name, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(org.id.0.to_string())
                .bind(org.slug.as_str())
                .bind(&org.name)
                .bind(to_millis(org.created_at))
                .bind(to_millis(org.updated_at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_org(&mut self, id: OrgId) -> Result<Option<Organization>> {
                let q = format!("SELECT {ORG_COLS} FROM organizations WHERE id = $1");
                sqlx::query(&q)
                    .bind(id.0.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| org_row(&r))
                    .transpose()
            }

            async fn find_org_by_slug(&mut self, slug: &OrgSlug) -> Result<Option<Organization>> {
                let q = format!("SELECT {ORG_COLS} FROM organizations WHERE slug = $1");
                sqlx::query(&q)
                    .bind(slug.as_str())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| org_row(&r))
                    .transpose()
            }

            async fn list_orgs(&mut self) -> Result<Vec<Organization>> {
                let q = format!("SELECT {ORG_COLS} FROM organizations ORDER BY slug");
                sqlx::query(&q)
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(org_row)
                    .collect()
            }

            async fn count_orgs(&mut self) -> Result<i64> {
                Ok(sqlx::query("SELECT COUNT(*) AS n FROM organizations")
                    .fetch_one(&mut *self.tx)
                    .await?
                    .try_get("n")?)
            }

            async fn insert_user(&mut self, u: &User, password_hash: Option<&str>) -> Result<()> {
                let q = format!(
                    "INSERT INTO users ({USER_COLS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                );
                sqlx::query(&q)
                    .bind(u.id.0.to_string())
                    .bind(u.org_id.0.to_string())
                    .bind(u.username.as_str())
                    .bind(u.email.as_ref().map(Email::as_str))
                    .bind(u.name.as_deref())
                    .bind(password_hash)
                    .bind(roles_to_json(&u.roles))
                    .bind(u.is_system_admin)
                    .bind(u.is_active)
                    .bind(to_millis(u.created_at))
                    .bind(to_millis(u.updated_at))
                    .bind(serde_json::to_string(&u.profile).unwrap_or_else(|_| "{}".into()))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn find_user(&mut self, org: OrgId, id: UserId) -> Result<Option<UserRecord>> {
                let q = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND id = $2");
                sqlx::query(&q)
                    .bind(org.0.to_string())
                    .bind(id.0.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| user_row(&r))
                    .transpose()
            }

            async fn find_user_by_username(
                &mut self,
                org: OrgId,
                username: &Username,
            ) -> Result<Option<UserRecord>> {
                let q =
                    format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND username = $2");
                sqlx::query(&q)
                    .bind(org.0.to_string())
                    .bind(username.as_str())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| user_row(&r))
                    .transpose()
            }

            async fn list_users(&mut self, org: OrgId) -> Result<Vec<User>> {
                let q = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 ORDER BY username");
                sqlx::query(&q)
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(|r| user_row(r).map(|u| u.user))
                    .collect()
            }

            async fn update_user(&mut self, u: &User) -> Result<bool> {
                // Username, system administration, creation time and password hash are not
                // editable here: they are not written.
                let done = sqlx::query(
                    "UPDATE users SET email = $3, name = $4, roles = $5, is_active = $6, \
                     updated_at = $7, profile = $8 WHERE org_id = $1 AND id = $2",
                )
                .bind(u.org_id.0.to_string())
                .bind(u.id.0.to_string())
                .bind(u.email.as_ref().map(Email::as_str))
                .bind(u.name.as_deref())
                .bind(roles_to_json(&u.roles))
                .bind(u.is_active)
                .bind(to_millis(u.updated_at))
                .bind(serde_json::to_string(&u.profile).unwrap_or_else(|_| "{}".into()))
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_role(&mut self, role: &CustomRole) -> Result<()> {
                sqlx::query(
                    "INSERT INTO roles (org_id, name, permissions, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(role.org_id.0.to_string())
                .bind(role.name.as_str())
                .bind(perms_to_json(role.permissions))
                .bind(to_millis(role.created_at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_role(&mut self, org: OrgId, name: &RoleName) -> Result<Option<CustomRole>> {
                sqlx::query(
                    "SELECT org_id, name, permissions, created_at FROM roles \
                     WHERE org_id = $1 AND name = $2",
                )
                .bind(org.0.to_string())
                .bind(name.as_str())
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| role_row(&r))
                .transpose()
            }

            async fn list_roles(&mut self, org: OrgId) -> Result<Vec<CustomRole>> {
                sqlx::query(
                    "SELECT org_id, name, permissions, created_at FROM roles \
                     WHERE org_id = $1 ORDER BY name",
                )
                .bind(org.0.to_string())
                .fetch_all(&mut *self.tx)
                .await?
                .iter()
                .map(role_row)
                .collect()
            }

            async fn insert_api_key(&mut self, k: &ApiKey, key_hash: &str) -> Result<()> {
                let q = format!(
                    "INSERT INTO api_keys ({KEY_COLS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                );
                sqlx::query(&q)
                    .bind(k.id.0.to_string())
                    .bind(org_param(k.org_id))
                    .bind(k.name.as_str())
                    .bind(key_hash)
                    .bind(&k.hint)
                    .bind(roles_to_json(&k.roles))
                    .bind(perms_to_json(k.permissions))
                    .bind(to_millis(k.created_at))
                    .bind(k.last_used_at.map(to_millis))
                    .bind(k.revoked_at.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn find_api_key_by_hash(&mut self, key_hash: &str) -> Result<Option<ApiKeyRecord>> {
                let q = format!("SELECT {KEY_COLS} FROM api_keys WHERE key_hash = $1");
                sqlx::query(&q)
                    .bind(key_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| key_row(&r))
                    .transpose()
            }

            async fn find_api_key(&mut self, org: Option<OrgId>, id: ApiKeyId) -> Result<Option<ApiKey>> {
                let q = format!(
                    "SELECT {KEY_COLS} FROM api_keys WHERE id = $1 AND org_id IS NOT DISTINCT FROM $2"
                );
                sqlx::query(&q)
                    .bind(id.0.to_string())
                    .bind(org_param(org))
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| key_row(&r).map(|k| k.key))
                    .transpose()
            }

            async fn list_api_keys(&mut self, org: Option<OrgId>) -> Result<Vec<ApiKey>> {
                let q = format!(
                    "SELECT {KEY_COLS} FROM api_keys WHERE org_id IS NOT DISTINCT FROM $1 \
                     ORDER BY created_at DESC, id"
                );
                sqlx::query(&q)
                    .bind(org_param(org))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(|r| key_row(r).map(|k| k.key))
                    .collect()
            }

            async fn revoke_api_key(
                &mut self,
                org: Option<OrgId>,
                id: ApiKeyId,
                at: Timestamp,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $1 \
                     WHERE id = $2 AND org_id IS NOT DISTINCT FROM $3 AND revoked_at IS NULL",
                )
                .bind(to_millis(at))
                .bind(id.0.to_string())
                .bind(org_param(org))
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(to_millis(at))
                    .bind(id.0.to_string())
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn insert_client(&mut self, c: &tessera_domain::client::OAuthClient) -> Result<()> {
                let q = format!(
                    "INSERT INTO oauth_clients ({CLIENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                     $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
                     $23, $24, $25, $26, $27)"
                );
                let q = sqlx::query(&q).bind(c.org_id.0.to_string()).bind(c.id.as_str());
                bind_settings!(q, c)
                    .bind(to_millis(c.created_at))
                    .bind(to_millis(c.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn update_client(&mut self, c: &tessera_domain::client::OAuthClient) -> Result<bool> {
                let q = sqlx::query(
                    "UPDATE oauth_clients SET name = $3, description = $4, is_confidential = $5, \
                     redirect_uris = $6, post_logout_redirect_uris = $7, allowed_cors_origins = $8, \
                     allowed_scopes = $9, grant_types = $10, is_active = $11, require_pkce = $12, \
                     require_consent = $13, client_uri = $14, logo_uri = $15, \
                     access_token_lifetime = $16, refresh_token_lifetime = $17, id_token_alg = $18, \
                     token_exchange = $19, access_token_alg = $20, userinfo_alg = $21, \
                     token_endpoint_auth_method = $22, jwks = $23, jwks_uri = $24, \
                     request_object_alg = $25, updated_at = $26 \
                     WHERE org_id = $1 AND id = $2",
                )
                .bind(c.org_id.0.to_string())
                .bind(c.id.as_str());
                let done = bind_settings!(q, c)
                    .bind(to_millis(c.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn find_client(
                &mut self,
                org: OrgId,
                id: &tessera_domain::client::ClientId,
            ) -> Result<Option<tessera_domain::client::OAuthClient>> {
                let q = format!("SELECT {CLIENT_COLS} FROM oauth_clients WHERE org_id = $1 AND id = $2");
                let Some(row) = sqlx::query(&q)
                    .bind(org.0.to_string())
                    .bind(id.as_str())
                    .fetch_optional(&mut *self.tx)
                    .await?
                else {
                    return Ok(None);
                };
                let mut client = client_row(&row)?;
                client.secrets = self
                    .client_secrets(org, id)
                    .await?
                    .into_iter()
                    .map(|s| s.info)
                    .collect();
                Ok(Some(client))
            }

            async fn list_clients(
                &mut self,
                org: OrgId,
                query: &$crate::ClientQuery,
            ) -> Result<(Vec<tessera_domain::client::OAuthClient>, i64)> {
                let pattern = query.q.as_deref().filter(|q| !q.is_empty()).map(like_pattern);
                let filter = "org_id = $1 AND ($2 IS NULL OR lower(id) LIKE $2 ESCAPE '\\' \
                              OR lower(name) LIKE $2 ESCAPE '\\')";
                let total: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM oauth_clients WHERE {filter}"))
                    .bind(org.0.to_string())
                    .bind(pattern.as_deref())
                    .fetch_one(&mut *self.tx)
                    .await?
                    .try_get("n")?;
                let q = format!(
                    "SELECT {CLIENT_COLS} FROM oauth_clients WHERE {filter} \
                     ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
                );
                let mut clients = sqlx::query(&q)
                    .bind(org.0.to_string())
                    .bind(pattern.as_deref())
                    .bind(i64::from(query.limit))
                    .bind(i64::from(query.offset))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(client_row)
                    .collect::<Result<Vec<_>>>()?;
                if !clients.is_empty() {
                    // One query for the secrets of the whole page.
                    let marks: Vec<String> = (0..clients.len()).map(|i| format!("${}", i + 2)).collect();
                    let q = format!(
                        "SELECT {SECRET_COLS} FROM oauth_client_secrets WHERE org_id = $1 \
                         AND client_id IN ({}) ORDER BY created_at, id",
                        marks.join(", ")
                    );
                    let mut sq = sqlx::query(&q).bind(org.0.to_string());
                    for c in &clients {
                        sq = sq.bind(c.id.as_str().to_owned());
                    }
                    for row in sq.fetch_all(&mut *self.tx).await? {
                        let s = secret_row(&row)?;
                        if let Some(c) = clients.iter_mut().find(|c| c.id == s.client_id) {
                            c.secrets.push(s.info);
                        }
                    }
                }
                Ok((clients, total))
            }

            async fn cors_origins(&mut self, org: OrgId) -> Result<Vec<String>> {
                let rows = sqlx::query(
                    "SELECT allowed_cors_origins FROM oauth_clients WHERE org_id = $1 \
                     AND allowed_cors_origins <> '[]'",
                )
                .bind(org.0.to_string())
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out: Vec<String> = vec![];
                for r in rows {
                    let list: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("allowed_cors_origins")?)
                        .map_err(|e| corrupt("oauth_clients", e))?;
                    for o in list {
                        if !out.contains(&o) {
                            out.push(o);
                        }
                    }
                }
                Ok(out)
            }

            async fn delete_client(&mut self, org: OrgId, id: &tessera_domain::client::ClientId) -> Result<bool> {
                // Everything the client was granted goes with it: a client created later with
                // the same id must not inherit its refresh tokens, consents or codes.
                for table in [
                    "oauth_client_secrets",
                    "refresh_tokens",
                    "consents",
                    "auth_codes",
                    "device_codes",
                ] {
                    sqlx::query(&format!(
                        "DELETE FROM {table} WHERE org_id = $1 AND client_id = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(id.as_str())
                    .execute(&mut *self.tx)
                    .await?;
                }
                let done = sqlx::query("DELETE FROM oauth_clients WHERE org_id = $1 AND id = $2")
                    .bind(org.0.to_string())
                    .bind(id.as_str())
                    .execute(&mut *self.tx)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_client_secret(&mut self, s: &$crate::ClientSecretRecord) -> Result<()> {
                let q = format!(
                    "INSERT INTO oauth_client_secrets ({SECRET_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                );
                sqlx::query(&q)
                    .bind(&s.info.id)
                    .bind(s.org_id.0.to_string())
                    .bind(s.client_id.as_str())
                    .bind(&s.secret_hash)
                    .bind(&s.info.hint)
                    .bind(to_millis(s.info.created_at))
                    .bind(s.info.expires_at.map(to_millis))
                    .bind(s.info.last_used_at.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn client_secrets(
                &mut self,
                org: OrgId,
                id: &tessera_domain::client::ClientId,
            ) -> Result<Vec<$crate::ClientSecretRecord>> {
                let q = format!(
                    "SELECT {SECRET_COLS} FROM oauth_client_secrets WHERE org_id = $1 AND client_id = $2 \
                     ORDER BY created_at, id"
                );
                sqlx::query(&q)
                    .bind(org.0.to_string())
                    .bind(id.as_str())
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(secret_row)
                    .collect()
            }

            async fn delete_client_secret(&mut self, org: OrgId, secret_id: &str) -> Result<bool> {
                let done = sqlx::query("DELETE FROM oauth_client_secrets WHERE org_id = $1 AND id = $2")
                    .bind(org.0.to_string())
                    .bind(secret_id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_client_secret_expiry(
                &mut self,
                org: OrgId,
                secret_id: &str,
                expires_at: Option<Timestamp>,
            ) -> Result<()> {
                sqlx::query("UPDATE oauth_client_secrets SET expires_at = $3 WHERE org_id = $1 AND id = $2")
                    .bind(org.0.to_string())
                    .bind(secret_id)
                    .bind(expires_at.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn touch_client_secret(&mut self, org: OrgId, secret_id: &str, at: Timestamp) -> Result<()> {
                sqlx::query("UPDATE oauth_client_secrets SET last_used_at = $3 WHERE org_id = $1 AND id = $2")
                    .bind(org.0.to_string())
                    .bind(secret_id)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn insert_signing_key(&mut self, k: &$crate::SigningKeyRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO signing_keys (id, org_id, alg, private_key, public_jwk, created_at, \
                     retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&k.id)
                .bind(k.org_id.0.to_string())
                .bind(&k.alg)
                .bind(&k.private_key)
                .bind(&k.public_jwk)
                .bind(to_millis(k.created_at))
                .bind(k.retired_at.map(to_millis))
                .bind(k.publish_until.map(to_millis))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn published_signing_keys(
                &mut self,
                org: OrgId,
                now: Timestamp,
            ) -> Result<Vec<$crate::SigningKeyRecord>> {
                sqlx::query(
                    "SELECT id, org_id, alg, private_key, public_jwk, created_at, retired_at, \
                     publish_until FROM signing_keys WHERE org_id = $1 \
                     AND (retired_at IS NULL OR publish_until > $2) ORDER BY created_at, id",
                )
                .bind(org.0.to_string())
                .bind(to_millis(now))
                .fetch_all(&mut *self.tx)
                .await?
                .iter()
                .map(signing_key_row)
                .collect()
            }

            async fn retire_signing_keys(
                &mut self,
                org: OrgId,
                alg: &str,
                at: Timestamp,
                publish_until: Timestamp,
            ) -> Result<u64> {
                Ok(sqlx::query(
                    "UPDATE signing_keys SET retired_at = $3, publish_until = $4 \
                     WHERE org_id = $1 AND alg = $2 AND retired_at IS NULL",
                )
                .bind(org.0.to_string())
                .bind(alg)
                .bind(to_millis(at))
                .bind(to_millis(publish_until))
                .execute(&mut *self.tx)
                .await?
                .rows_affected())
            }

            async fn revoke_token(
                &mut self,
                org: OrgId,
                jti: &str,
                expires_at: Timestamp,
                at: Timestamp,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO revoked_tokens (org_id, jti, expires_at, revoked_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, jti) DO NOTHING",
                )
                .bind(org.0.to_string())
                .bind(jti)
                .bind(to_millis(expires_at))
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn is_token_revoked(&mut self, org: OrgId, jti: &str) -> Result<bool> {
                Ok(sqlx::query("SELECT 1 AS one FROM revoked_tokens WHERE org_id = $1 AND jti = $2")
                    .bind(org.0.to_string())
                    .bind(jti)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .is_some())
            }

            async fn prune_revoked_tokens(&mut self, now: Timestamp) -> Result<u64> {
                Ok(sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
                    .bind(to_millis(now))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected())
            }

            async fn use_client_assertion(
                &mut self,
                org: OrgId,
                client_id: &str,
                jti: &str,
                expires_at: Timestamp,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO client_assertions (org_id, client_id, jti, expires_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, client_id, jti) DO NOTHING",
                )
                .bind(org.0.to_string())
                .bind(client_id)
                .bind(jti)
                .bind(to_millis(expires_at))
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn prune_expired_flows(&mut self, before: Timestamp) -> Result<u64> {
                let mut n = 0;
                for table in [
                    "device_codes",
                    "auth_codes",
                    "auth_requests",
                    "login_sessions",
                    "connection_states",
                    "client_assertions",
                ] {
                    n += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                        .bind(to_millis(before))
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected();
                }
                Ok(n)
            }

            async fn insert_session(&mut self, x: &$crate::LoginSession) -> Result<()> {
                sqlx::query(
                    "INSERT INTO login_sessions (id_hash, org_id, user_id, auth_time, created_at, \
                     expires_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&x.id_hash)
                .bind(x.org_id.0.to_string())
                .bind(x.user_id.0.to_string())
                .bind(to_millis(x.auth_time))
                .bind(to_millis(x.created_at))
                .bind(to_millis(x.expires_at))
                .bind(x.ended_at.map(to_millis))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_session(&mut self, org: OrgId, id_hash: &str) -> Result<Option<$crate::LoginSession>> {
                sqlx::query(
                    "SELECT id_hash, org_id, user_id, auth_time, created_at, expires_at, ended_at \
                     FROM login_sessions WHERE org_id = $1 AND id_hash = $2",
                )
                .bind(org.0.to_string())
                .bind(id_hash)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| session_row(&r))
                .transpose()
            }

            async fn end_session(&mut self, org: OrgId, id_hash: &str, at: Timestamp) -> Result<bool> {
                Ok(sqlx::query(
                    "UPDATE login_sessions SET ended_at = $3 WHERE org_id = $1 AND id_hash = $2 \
                     AND ended_at IS NULL",
                )
                .bind(org.0.to_string())
                .bind(id_hash)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn end_user_sessions(
                &mut self,
                org: OrgId,
                user: UserId,
                at: Timestamp,
            ) -> Result<u64> {
                Ok(sqlx::query(
                    "UPDATE login_sessions SET ended_at = $3 WHERE org_id = $1 AND user_id = $2 \
                     AND ended_at IS NULL",
                )
                .bind(org.0.to_string())
                .bind(user.0.to_string())
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?
                .rows_affected())
            }

            async fn insert_pending(&mut self, p: &$crate::PendingRequest) -> Result<()> {
                sqlx::query(
                    "INSERT INTO auth_requests (id, org_id, params, csrf, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&p.id)
                .bind(p.org_id.0.to_string())
                .bind(&p.params)
                .bind(&p.csrf)
                .bind(to_millis(p.created_at))
                .bind(to_millis(p.expires_at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_pending(&mut self, org: OrgId, id: &str) -> Result<Option<$crate::PendingRequest>> {
                let row = sqlx::query(
                    "SELECT id, org_id, params, csrf, created_at, expires_at FROM auth_requests \
                     WHERE org_id = $1 AND id = $2",
                )
                .bind(org.0.to_string())
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.map(|r| {
                    let t = "auth_requests";
                    Ok($crate::PendingRequest {
                        id: r.try_get("id")?,
                        org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                        params: r.try_get("params")?,
                        csrf: r.try_get("csrf")?,
                        created_at: from_millis(r.try_get("created_at")?),
                        expires_at: from_millis(r.try_get("expires_at")?),
                    })
                })
                .transpose()
            }

            async fn delete_pending(&mut self, org: OrgId, id: &str) -> Result<bool> {
                Ok(sqlx::query("DELETE FROM auth_requests WHERE org_id = $1 AND id = $2")
                    .bind(org.0.to_string())
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                    == 1)
            }

            async fn insert_code(&mut self, c: &$crate::AuthCode) -> Result<()> {
                sqlx::query(
                    "INSERT INTO auth_codes (code_hash, org_id, client_id, user_id, redirect_uri, \
                     scope, nonce, code_challenge, auth_time, created_at, expires_at, redeemed_at, \
                     access_jti, access_expires, claims) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(&c.code_hash)
                .bind(c.org_id.0.to_string())
                .bind(&c.client_id)
                .bind(c.user_id.0.to_string())
                .bind(&c.redirect_uri)
                .bind(&c.scope)
                .bind(c.nonce.as_deref())
                .bind(c.code_challenge.as_deref())
                .bind(to_millis(c.auth_time))
                .bind(to_millis(c.created_at))
                .bind(to_millis(c.expires_at))
                .bind(c.redeemed_at.map(to_millis))
                .bind(c.access_jti.as_deref())
                .bind(c.access_expires.map(to_millis))
                .bind(claims_to(&c.claims))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_code(&mut self, org: OrgId, code_hash: &str) -> Result<Option<$crate::AuthCode>> {
                sqlx::query(
                    "SELECT code_hash, org_id, client_id, user_id, redirect_uri, scope, nonce, \
                     code_challenge, auth_time, created_at, expires_at, redeemed_at, access_jti, \
                     access_expires, claims FROM auth_codes WHERE org_id = $1 AND code_hash = $2",
                )
                .bind(org.0.to_string())
                .bind(code_hash)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| code_row(&r))
                .transpose()
            }

            async fn redeem_code(&mut self, org: OrgId, code_hash: &str, at: Timestamp) -> Result<bool> {
                Ok(sqlx::query(
                    "UPDATE auth_codes SET redeemed_at = $3 WHERE org_id = $1 AND code_hash = $2 \
                     AND redeemed_at IS NULL",
                )
                .bind(org.0.to_string())
                .bind(code_hash)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn redeem_code_for(
                &mut self,
                org: OrgId,
                code_hash: &str,
                at: Timestamp,
                jti: &str,
                access_expires: Timestamp,
            ) -> Result<Option<$crate::AuthCode>> {
                sqlx::query(
                    "UPDATE auth_codes SET redeemed_at = $3, access_jti = $4, access_expires = $5 \
                     WHERE org_id = $1 AND code_hash = $2 AND redeemed_at IS NULL \
                     RETURNING code_hash, org_id, client_id, user_id, redirect_uri, scope, nonce, \
                     code_challenge, auth_time, created_at, expires_at, redeemed_at, access_jti, \
                     access_expires, claims",
                )
                .bind(org.0.to_string())
                .bind(code_hash)
                .bind(to_millis(at))
                .bind(jti)
                .bind(to_millis(access_expires))
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| code_row(&r))
                .transpose()
            }

            async fn set_code_token(
                &mut self,
                org: OrgId,
                code_hash: &str,
                jti: &str,
                expires: Timestamp,
            ) -> Result<()> {
                sqlx::query(
                    "UPDATE auth_codes SET access_jti = $3, access_expires = $4 \
                     WHERE org_id = $1 AND code_hash = $2",
                )
                .bind(org.0.to_string())
                .bind(code_hash)
                .bind(jti)
                .bind(to_millis(expires))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn insert_console_session(&mut self, x: &$crate::ConsoleSession) -> Result<()> {
                sqlx::query(
                    "INSERT INTO console_sessions (id_hash, current_org_id, created_at, expires_at, \
                     ended_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&x.id_hash)
                .bind(org_param(x.current_org))
                .bind(to_millis(x.created_at))
                .bind(to_millis(x.expires_at))
                .bind(x.ended_at.map(to_millis))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_console_session(&mut self, id_hash: &str) -> Result<Option<$crate::ConsoleSession>> {
                sqlx::query(
                    "SELECT id_hash, current_org_id, created_at, expires_at, ended_at \
                     FROM console_sessions WHERE id_hash = $1",
                )
                .bind(id_hash)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| console_session_row(&r))
                .transpose()
            }

            async fn set_console_org(&mut self, id_hash: &str, org: OrgId) -> Result<bool> {
                Ok(sqlx::query(
                    "UPDATE console_sessions SET current_org_id = $2 WHERE id_hash = $1 \
                     AND ended_at IS NULL",
                )
                .bind(id_hash)
                .bind(org.0.to_string())
                .execute(&mut *self.tx)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn end_console_session(&mut self, id_hash: &str, at: Timestamp) -> Result<bool> {
                Ok(sqlx::query(
                    "UPDATE console_sessions SET ended_at = $2 WHERE id_hash = $1 \
                     AND ended_at IS NULL",
                )
                .bind(id_hash)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn upsert_console_login(&mut self, x: &$crate::ConsoleLogin) -> Result<()> {
                sqlx::query(
                    "INSERT INTO console_logins (session_hash, org_id, user_id, auth_time, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_hash, org_id) \
                     DO UPDATE SET user_id = excluded.user_id, auth_time = excluded.auth_time, \
                     created_at = excluded.created_at",
                )
                .bind(&x.session_hash)
                .bind(x.org_id.0.to_string())
                .bind(x.user_id.0.to_string())
                .bind(to_millis(x.auth_time))
                .bind(to_millis(x.created_at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn list_console_logins(&mut self, session_hash: &str) -> Result<Vec<$crate::ConsoleLogin>> {
                // The organization id breaks ties, so the order is the same on every read.
                sqlx::query(
                    "SELECT session_hash, org_id, user_id, auth_time, created_at \
                     FROM console_logins WHERE session_hash = $1 ORDER BY created_at, org_id",
                )
                .bind(session_hash)
                .fetch_all(&mut *self.tx)
                .await?
                .iter()
                .map(console_login_row)
                .collect()
            }

            async fn purge_console_sessions(&mut self, before: Timestamp) -> Result<u64> {
                // The sign-ins go with their session (ON DELETE CASCADE).
                Ok(sqlx::query(
                    "DELETE FROM console_sessions WHERE expires_at < $1 OR ended_at < $1",
                )
                .bind(to_millis(before))
                .execute(&mut *self.tx)
                .await?
                .rows_affected())
            }

            async fn registration_policy(&mut self, org: OrgId) -> Result<Option<String>> {
                Ok(sqlx::query("SELECT policy FROM registration_policies WHERE org_id = $1")
                    .bind(org.0.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| r.try_get::<String, _>("policy"))
                    .transpose()?)
            }

            async fn put_registration_policy(&mut self, org: OrgId, policy: &str, at: Timestamp) -> Result<()> {
                sqlx::query(
                    "INSERT INTO registration_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (org_id) DO UPDATE SET policy = $2, updated_at = $3",
                )
                .bind(org.0.to_string())
                .bind(policy)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn insert_initial_access_token(&mut self, x: &$crate::InitialAccessToken) -> Result<()> {
                sqlx::query(
                    "INSERT INTO initial_access_tokens (id, org_id, token_hash, hint, created_at, \
                     expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&x.id)
                .bind(x.org_id.0.to_string())
                .bind(&x.token_hash)
                .bind(&x.hint)
                .bind(to_millis(x.created_at))
                .bind(x.expires_at.map(to_millis))
                .bind(x.revoked_at.map(to_millis))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_initial_access_token(
                &mut self,
                org: OrgId,
                token_hash: &str,
            ) -> Result<Option<$crate::InitialAccessToken>> {
                sqlx::query(
                    "SELECT id, org_id, token_hash, hint, created_at, expires_at, revoked_at \
                     FROM initial_access_tokens WHERE org_id = $1 AND token_hash = $2",
                )
                .bind(org.0.to_string())
                .bind(token_hash)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| initial_token_row(&r))
                .transpose()
            }

            async fn list_initial_access_tokens(&mut self, org: OrgId) -> Result<Vec<$crate::InitialAccessToken>> {
                sqlx::query(
                    "SELECT id, org_id, token_hash, hint, created_at, expires_at, revoked_at \
                     FROM initial_access_tokens WHERE org_id = $1 ORDER BY created_at DESC, id",
                )
                .bind(org.0.to_string())
                .fetch_all(&mut *self.tx)
                .await?
                .iter()
                .map(initial_token_row)
                .collect()
            }

            async fn revoke_initial_access_token(&mut self, org: OrgId, id: &str, at: Timestamp) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE initial_access_tokens SET revoked_at = $1 \
                     WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
                )
                .bind(to_millis(at))
                .bind(org.0.to_string())
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_registration_token(
                &mut self,
                org: OrgId,
                client_id: &str,
                token_hash: &str,
                at: Timestamp,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO client_registrations (org_id, client_id, token_hash, created_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (org_id, client_id) DO UPDATE SET token_hash = $3, created_at = $4",
                )
                .bind(org.0.to_string())
                .bind(client_id)
                .bind(token_hash)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn registration_token(&mut self, org: OrgId, client_id: &str) -> Result<Option<String>> {
                Ok(sqlx::query(
                    "SELECT token_hash FROM client_registrations WHERE org_id = $1 AND client_id = $2",
                )
                .bind(org.0.to_string())
                .bind(client_id)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| r.try_get::<String, _>("token_hash"))
                .transpose()?)
            }

            async fn insert_device_code(&mut self, d: &$crate::DeviceCode) -> Result<()> {
                sqlx::query(
                    "INSERT INTO device_codes (device_code_hash, user_code_hash, org_id, client_id, \
                     scope, status, user_id, auth_time, interval_secs, last_polled_at, created_at, \
                     expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&d.device_code_hash)
                .bind(&d.user_code_hash)
                .bind(d.org_id.0.to_string())
                .bind(&d.client_id)
                .bind(&d.scope)
                .bind(d.status.as_str())
                .bind(d.user_id.map(|u| u.0.to_string()))
                .bind(d.auth_time.map(to_millis))
                .bind(d.interval_secs)
                .bind(d.last_polled_at.map(to_millis))
                .bind(to_millis(d.created_at))
                .bind(to_millis(d.expires_at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_device_code(
                &mut self,
                org: OrgId,
                device_code_hash: &str,
            ) -> Result<Option<$crate::DeviceCode>> {
                sqlx::query(&format!(
                    "SELECT {DEVICE_COLS} FROM device_codes WHERE org_id = $1 AND device_code_hash = $2"
                ))
                .bind(org.0.to_string())
                .bind(device_code_hash)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| device_row(&r))
                .transpose()
            }

            async fn find_device_by_user_code(
                &mut self,
                org: OrgId,
                user_code_hash: &str,
            ) -> Result<Option<$crate::DeviceCode>> {
                sqlx::query(&format!(
                    "SELECT {DEVICE_COLS} FROM device_codes WHERE org_id = $1 AND user_code_hash = $2"
                ))
                .bind(org.0.to_string())
                .bind(user_code_hash)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| device_row(&r))
                .transpose()
            }

            async fn decide_device_code(
                &mut self,
                org: OrgId,
                user_code_hash: &str,
                approve: bool,
                user: UserId,
                auth_time: Timestamp,
                now: Timestamp,
            ) -> Result<bool> {
                let status = if approve {
                    $crate::DeviceStatus::Approved
                } else {
                    $crate::DeviceStatus::Denied
                };
                let done = sqlx::query(
                    "UPDATE device_codes SET status = $1, user_id = $2, auth_time = $3 \
                     WHERE org_id = $4 AND user_code_hash = $5 AND status = 'pending' \
                     AND expires_at > $6",
                )
                .bind(status.as_str())
                .bind(user.0.to_string())
                .bind(to_millis(auth_time))
                .bind(org.0.to_string())
                .bind(user_code_hash)
                .bind(to_millis(now))
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn poll_device_code(
                &mut self,
                org: OrgId,
                device_code_hash: &str,
                at: Timestamp,
                interval_secs: i64,
            ) -> Result<()> {
                sqlx::query(
                    "UPDATE device_codes SET last_polled_at = $1, interval_secs = $2 \
                     WHERE org_id = $3 AND device_code_hash = $4",
                )
                .bind(to_millis(at))
                .bind(interval_secs)
                .bind(org.0.to_string())
                .bind(device_code_hash)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn redeem_device_code(&mut self, org: OrgId, device_code_hash: &str) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE device_codes SET status = 'redeemed' \
                     WHERE org_id = $1 AND device_code_hash = $2 AND status = 'approved'",
                )
                .bind(org.0.to_string())
                .bind(device_code_hash)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn find_consent(
                &mut self,
                org: OrgId,
                user: UserId,
                client_id: &str,
            ) -> Result<Option<Vec<String>>> {
                let row = sqlx::query(
                    "SELECT scopes FROM consents WHERE org_id = $1 AND user_id = $2 AND client_id = $3",
                )
                .bind(org.0.to_string())
                .bind(user.0.to_string())
                .bind(client_id)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.map(|r| {
                    let s: String = r.try_get("scopes")?;
                    serde_json::from_str(&s).map_err(|e| corrupt("consents", e))
                })
                .transpose()
            }

            async fn upsert_consent(
                &mut self,
                org: OrgId,
                user: UserId,
                client_id: &str,
                scopes: &[String],
                at: Timestamp,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO consents (org_id, user_id, client_id, scopes, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, user_id, client_id) \
                     DO UPDATE SET scopes = excluded.scopes, created_at = excluded.created_at",
                )
                .bind(org.0.to_string())
                .bind(user.0.to_string())
                .bind(client_id)
                .bind(serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into()))
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn insert_refresh(&mut self, x: &$crate::RefreshToken) -> Result<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, org_id, family_id, client_id, user_id, \
                     scope, auth_time, created_at, expires_at, used_at, revoked_at, claims) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&x.token_hash)
                .bind(x.org_id.0.to_string())
                .bind(&x.family_id)
                .bind(&x.client_id)
                .bind(x.user_id.0.to_string())
                .bind(&x.scope)
                .bind(to_millis(x.auth_time))
                .bind(to_millis(x.created_at))
                .bind(to_millis(x.expires_at))
                .bind(x.used_at.map(to_millis))
                .bind(x.revoked_at.map(to_millis))
                .bind(claims_to(&x.claims))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn find_refresh(&mut self, org: OrgId, token_hash: &str) -> Result<Option<$crate::RefreshToken>> {
                sqlx::query(
                    "SELECT token_hash, org_id, family_id, client_id, user_id, scope, auth_time, \
                     created_at, expires_at, used_at, revoked_at, claims FROM refresh_tokens \
                     WHERE org_id = $1 AND token_hash = $2",
                )
                .bind(org.0.to_string())
                .bind(token_hash)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|r| refresh_row(&r))
                .transpose()
            }

            async fn use_refresh(&mut self, org: OrgId, token_hash: &str, at: Timestamp) -> Result<bool> {
                Ok(sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $3 WHERE org_id = $1 AND token_hash = $2 \
                     AND used_at IS NULL AND revoked_at IS NULL",
                )
                .bind(org.0.to_string())
                .bind(token_hash)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn revoke_refresh_family(&mut self, org: OrgId, family_id: &str, at: Timestamp) -> Result<u64> {
                Ok(sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $3 WHERE org_id = $1 AND family_id = $2 \
                     AND revoked_at IS NULL",
                )
                .bind(org.0.to_string())
                .bind(family_id)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?
                .rows_affected())
            }

            async fn insert_audit(&mut self, e: &NewAuditEvent) -> Result<i64> {
                let json = |v: &Option<serde_json::Value>| v.as_ref().map(ToString::to_string);
                let row = sqlx::query(
                    "INSERT INTO audit_events (org_id, actor_type, actor_id, actor_name, action, \
                     target_type, target_id, ip, request_id, before_state, after_state, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                )
                .bind(org_param(e.org_id))
                .bind(&e.actor.kind)
                .bind(e.actor.id.as_deref())
                .bind(&e.actor.name)
                .bind(e.action.as_str())
                .bind(&e.target_type)
                .bind(e.target_id.as_deref())
                .bind(e.ip.as_deref())
                .bind(e.request_id.as_deref())
                .bind(json(&e.before))
                .bind(json(&e.after))
                .bind(to_millis(e.created_at))
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.try_get("id")?)
            }

            async fn list_audit(&mut self, org: OrgId, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
                let sql = format!(
                    "SELECT {AUDIT_COLS} FROM audit_events WHERE org_id = $1 \
                     AND ($2 IS NULL OR id < $2) AND ($3 IS NULL OR action = $3) \
                     AND ($4 IS NULL OR actor_name = $4) ORDER BY id DESC LIMIT $5"
                );
                sqlx::query(&sql)
                    .bind(org.0.to_string())
                    .bind(q.before)
                    .bind(q.action.as_deref())
                    .bind(q.actor.as_deref())
                    .bind(i64::from(q.limit))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(audit_row)
                    .collect()
            }

            async fn list_system_audit(&mut self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
                let sql = format!(
                    "SELECT {AUDIT_COLS} FROM audit_events WHERE org_id IS NULL \
                     AND ($1 IS NULL OR id < $1) AND ($2 IS NULL OR action = $2) \
                     AND ($3 IS NULL OR actor_name = $3) ORDER BY id DESC LIMIT $4"
                );
                sqlx::query(&sql)
                    .bind(q.before)
                    .bind(q.action.as_deref())
                    .bind(q.actor.as_deref())
                    .bind(i64::from(q.limit))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(audit_row)
                    .collect()
            }

            async fn record_change(
                &mut self,
                org: Option<OrgId>,
                kind: &str,
                key: &str,
                at: Timestamp,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO changes (org_id, kind, key, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(org_param(org))
                .bind(kind)
                .bind(key)
                .bind(to_millis(at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn changes_since(&mut self, seq: i64, limit: u32) -> Result<Vec<Change>> {
                sqlx::query(
                    "SELECT seq, org_id, kind, key FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(seq)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await?
                .iter()
                .map(change_row)
                .collect()
            }

            async fn recent_changes(
                &mut self,
                upto: i64,
                since: Timestamp,
                limit: u32,
            ) -> Result<Vec<Change>> {
                sqlx::query(
                    "SELECT seq, org_id, kind, key FROM changes WHERE seq <= $1 AND created_at >= $2 \
                     ORDER BY seq DESC LIMIT $3",
                )
                .bind(upto)
                .bind(to_millis(since))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await?
                .iter()
                .map(change_row)
                .collect()
            }

            async fn last_change_seq(&mut self) -> Result<i64> {
                Ok(sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM changes")
                    .fetch_one(&mut *self.tx)
                    .await?
                    .try_get("n")?)
            }

            async fn prune_changes(&mut self, older_than: Timestamp) -> Result<u64> {
                Ok(sqlx::query("DELETE FROM changes WHERE created_at < $1")
                    .bind(to_millis(older_than))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected())
            }
        }
    };
}

pub(crate) use impl_tx;
