//! The admin REST API of one organization, served under `/orgs/{org}/api/v1/admin` and the
//! alias `/t/{org}/api/v1/admin` (same handlers). Each handler authenticates the caller
//! ([`Caller`]), calls one service and renders the result; permissions are checked by the
//! service.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch};
use axum::Router;
use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tessera_core::api_keys::{KeyScope, NewApiKey};
use tessera_core::users::NewUser;
use tessera_core::AuditQuery;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::{Json, Query};
use crate::{paths, AppState};
use utoipa::{IntoParams, ToSchema};

pub mod api_resources;
pub mod clients;
pub mod registration;
pub mod webhooks;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(clients::router())
        .merge(api_resources::router())
        .merge(webhooks::router())
        .merge(registration::router())
        .route(paths::AUDIT_LOG, get(audit_log))
        .route(paths::API_KEYS, get(list_api_keys).post(create_api_key))
        .route(paths::API_KEY, delete(revoke_api_key))
        .route(paths::USERS, get(list_users).post(create_user))
        .route(paths::USER, patch(update_user))
        .route(paths::USER_CONSENTS, get(user_consents))
        .route(paths::USER_CONSENT, delete(withdraw_consent))
        .route(
            paths::USER_SESSIONS,
            get(user_sessions).delete(end_user_sessions),
        )
        .route(
            paths::USER_SECOND_FACTOR,
            get(user_second_factor).delete(reset_second_factor),
        )
        .route(
            paths::SECURITY_POLICY,
            get(get_security_policy).put(put_security_policy),
        )
        .route(paths::ROLES, get(list_roles).post(create_role))
        .route(paths::EXPLORER, get(crate::explorer::page))
        .route(
            paths::GRAPHQL,
            get(crate::graphiql::page).post(crate::graphql::post),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
    /// Only events older than this id.
    before: Option<i64>,
    /// Only this action, e.g. `oauth_client.created`.
    action: Option<String>,
    /// Only this actor name.
    actor: Option<String>,
    /// Only events at or after this RFC 3339 time.
    from: Option<String>,
    /// Only events at or before this RFC 3339 time.
    to: Option<String>,
}

/// The `from` and `to` parameters of a list, parsed (each bad one named).
pub(crate) fn time_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<
    (
        Option<tessera_domain::Timestamp>,
        Option<tessera_domain::Timestamp>,
    ),
    tessera_domain::ValidationError,
> {
    let mut c = tessera_domain::error::Collector::new();
    let mut parse = |v: Option<&str>, field: &str| {
        v.filter(|s| !s.trim().is_empty())
            .and_then(|s| c.take(tessera_domain::clock::parse_param(s, field)))
    };
    let (from, to) = (parse(from, "from"), parse(to, "to"));
    c.finish()?;
    Ok((from, to))
}

/// `GET …/audit-log?limit=&before=`: newest first; the next page is `before=<last id>`.
#[utoipa::path(
    get,
    path = paths::AUDIT_LOG,
    context_path = paths::ADMIN_BASE,
    tag = "audit-log",
    operation_id = "listAuditEvents",
    params(("org" = String, Path, description = "Organization slug"), AuditParams),
    responses(
        (status = 200, description = "Events, newest first", body = Vec<crate::openapi::AuditEventSchema>,
            headers(("X-Next-Before" = i64, description = "Pass as `before` for the next page; absent on the last page"))),
        (status = 400, description = "Bad query parameter", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Query(p): Query<AuditParams>,
) -> ApiResult<Response> {
    let limit = p.limit.unwrap_or(50);
    let (from, to) =
        time_range(p.from.as_deref(), p.to.as_deref()).map_err(tessera_core::CoreError::from)?;
    let events = state
        .services
        .list_audit(
            &ctx,
            &org,
            AuditQuery {
                limit,
                before: p.before,
                action: p.action,
                actor: p.actor,
                from,
                to,
            },
        )
        .await?;
    let mut res = axum::Json(&events).into_response();
    if events.len() == limit as usize {
        if let Some(last) = events.last() {
            if let Ok(v) = http::HeaderValue::from_str(&last.id.to_string()) {
                res.headers_mut().insert("x-next-before", v);
            }
        }
    }
    Ok(res)
}

#[utoipa::path(
    get,
    path = paths::API_KEYS,
    context_path = paths::ADMIN_BASE,
    tag = "api-keys",
    operation_id = "listApiKeys",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "The organization's keys, never the keys themselves", body = Vec<crate::openapi::ApiKeySchema>),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_api_keys(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let keys = state.services.list_api_keys(&ctx, &org).await?;
    Ok(axum::Json(keys).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateApiKey {
    name: String,
    /// Built-in (`owner`, `admin`, `viewer`) or custom roles.
    #[serde(default)]
    roles: Vec<String>,
    /// Permissions granted directly, e.g. `audit-log:read` or `users:*`.
    #[serde(default)]
    permissions: Vec<String>,
}

/// `POST …/api-keys`: 201 with the key's metadata and, this once, the key itself.
#[utoipa::path(
    post,
    path = paths::API_KEYS,
    context_path = paths::ADMIN_BASE,
    tag = "api-keys",
    operation_id = "createApiKey",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; the key is in `key`, this once", body = crate::openapi::ApiKeyWithKeySchema),
        (status = 400, description = "Bad name, role or permission", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create_api_key(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(body): Json<CreateApiKey>,
) -> ApiResult<Response> {
    let created = state
        .services
        .create_api_key(
            &ctx,
            NewApiKey {
                scope: KeyScope::Org(org),
                name: body.name,
                roles: body.roles,
                permissions: body.permissions,
            },
        )
        .await?;
    let mut v = serde_json::to_value(&created.key).unwrap_or_default();
    v["key"] = json!(created.secret.expose_secret());
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

#[utoipa::path(
    delete,
    path = paths::API_KEY,
    context_path = paths::ADMIN_BASE,
    tag = "api-keys",
    operation_id = "revokeApiKey",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked; it stops working at once"),
        (status = 409, description = "Already revoked", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn revoke_api_key(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.revoke_api_key(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = paths::USERS,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "listUsers",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "The organization's members", body = Vec<crate::openapi::UserSchema>),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_users(&ctx, &org).await?).into_response())
}

/// A new member. Besides these fields, the standard claims (`givenName`, …, `address`; see
/// `StandardClaims`) may be given; any other name is refused, named.
#[derive(Deserialize, ToSchema)]
pub(crate) struct CreateUser {
    username: String,
    email: Option<String>,
    name: Option<String>,
    /// At least 8 characters; stored with argon2id, never returned.
    #[schema(value_type = Option<String>)]
    password: Option<SecretString>,
    #[serde(default)]
    roles: Vec<String>,
    /// The standard claims, and anything else, which the service refuses by name.
    #[serde(flatten)]
    #[schema(value_type = crate::openapi::StandardClaimsSchema)]
    claims: serde_json::Map<String, serde_json::Value>,
}

#[utoipa::path(
    post,
    path = paths::USERS,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "createUser",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = crate::openapi::UserSchema),
        (status = 400, description = "A bad field, named in `details`", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The username exists", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(body): Json<CreateUser>,
) -> ApiResult<Response> {
    let user = state
        .services
        .create_user(
            &ctx,
            &org,
            NewUser {
                username: body.username,
                email: body.email,
                name: body.name,
                password: body.password,
                roles: body.roles,
                profile: body.claims,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}

/// A change to a member: only the fields given change. Besides these, the standard claims
/// (`givenName`, …, `address`) may be given (`null` clears one); any other name is refused,
/// named.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateUser {
    /// The member's roles, replacing the current ones (`users:edit`).
    roles: Option<Vec<String>>,
    /// `false` deactivates (no new sign-in; sign-in sessions end), `true` reactivates
    /// (`users:delete` either way).
    is_active: Option<bool>,
    /// A new e-mail address, `null` for none (`users:edit`).
    #[serde(default, deserialize_with = "tessera_domain::client::nullable")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    /// A new display name, `null` for none (`users:edit`).
    #[serde(default, deserialize_with = "tessera_domain::client::nullable")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    /// The standard claims to change (`users:edit`), and anything else, which the service
    /// refuses by name.
    #[serde(flatten)]
    #[schema(value_type = crate::openapi::StandardClaimsSchema)]
    claims: serde_json::Map<String, serde_json::Value>,
}

/// `GET …/users/{id}/consents`: the clients the member consented to, with the scopes.
#[utoipa::path(
    get,
    path = paths::USER_CONSENTS,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "listUserConsents",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "`[{clientId, clientName, scopes, grantedAt}]`, by client id"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or user", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn user_consents(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let v = state.services.user_consents(&ctx, &org, &id).await?;
    Ok(axum::Json(v).into_response())
}

/// `DELETE …/users/{id}/consents/{client_id}`: the consent withdrawn and the refresh tokens
/// the client got from the member revoked; `204`.
#[utoipa::path(
    delete,
    path = paths::USER_CONSENT,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "withdrawUserConsent",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The user's id"), ("client_id" = String, Path, description = "The client id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, user or consent", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn withdraw_consent(
    State(state): State<AppState>,
    Path((org, id, client_id)): Path<(String, String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    state
        .services
        .withdraw_consent(&ctx, &org, &id, &client_id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET …/users/{id}/sessions`: the member's live sign-in sessions, newest first.
#[utoipa::path(
    get,
    path = paths::USER_SESSIONS,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "listUserSessions",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "`[{id, authTime, createdAt, expiresAt}]`; `id` is the session's `sid`"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or user", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn user_sessions(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let v = state.services.user_sessions(&ctx, &org, &id).await?;
    Ok(axum::Json(v).into_response())
}

/// `DELETE …/users/{id}/sessions`: every live sign-in session of the member ends; `204`.
#[utoipa::path(
    delete,
    path = paths::USER_SESSIONS,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "endUserSessions",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or user", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn end_user_sessions(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    state.services.end_user_sessions(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET …/users/{id}/second-factor`: whether the member has two-step verification, and how
/// many recovery codes they have left.
#[utoipa::path(
    get,
    path = paths::USER_SECOND_FACTOR,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "getUserSecondFactor",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "`{enabled, recoveryCodesLeft}`", body = crate::openapi::SecondFactorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or user", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn user_second_factor(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let v = state.services.user_second_factor(&ctx, &org, &id).await?;
    Ok(axum::Json(v).into_response())
}

/// `GET …/security-policy`: the organization's sign-in rules.
#[utoipa::path(
    get,
    path = paths::SECURITY_POLICY,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "getSecurityPolicy",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "The policy (all off until set)", body = crate::openapi::SecurityPolicySchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn get_security_policy(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let p = state.services.get_security_policy(&ctx, &org).await?;
    Ok(axum::Json(p).into_response())
}

/// `PUT …/security-policy`: replaces the policy; omitted fields are off.
#[utoipa::path(
    put,
    path = paths::SECURITY_POLICY,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "putSecurityPolicy",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = crate::openapi::SecurityPolicySchema,
    responses(
        (status = 200, description = "The policy now in force", body = crate::openapi::SecurityPolicySchema),
        (status = 400, description = "An unknown field or a wrong type, named", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn put_security_policy(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    crate::json::Json(policy): crate::json::Json<tessera_core::mfa::SecurityPolicy>,
) -> ApiResult<Response> {
    let p = state
        .services
        .set_security_policy(&ctx, &org, policy)
        .await?;
    Ok(axum::Json(p).into_response())
}

/// `DELETE …/users/{id}/second-factor`: the member's TOTP second factor and recovery codes
/// go (a lost device); they sign in with the password and may set one up again; `204`.
#[utoipa::path(
    delete,
    path = paths::USER_SECOND_FACTOR,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "resetUserSecondFactor",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Reset"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or user, or no second factor", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn reset_second_factor(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    state.services.reset_second_factor(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    patch,
    path = paths::USER,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "updateUser",
    params(
        ("org" = String, Path, description = "Organization slug"),
        ("id" = String, Path, description = "The user's id")
    ),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The member as it now is", body = crate::openapi::UserSchema),
        (status = 400, description = "A bad field, named in `details` (e.g. deactivating yourself)", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named), or the member holds more than the caller", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or user", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(body): Json<UpdateUser>,
) -> ApiResult<Response> {
    let user = state
        .services
        .update_user(
            &ctx,
            &org,
            &id,
            tessera_core::users::UserPatch {
                roles: body.roles,
                is_active: body.is_active,
                email: body.email,
                name: body.name,
                profile: body.claims,
            },
        )
        .await?;
    Ok(axum::Json(user).into_response())
}

#[utoipa::path(
    get,
    path = paths::ROLES,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "listRoles",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "Built-in roles, then the organization's custom roles", body = Vec<crate::openapi::RoleSchema>),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_roles(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_roles(&ctx, &org).await?).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRole {
    /// 1 to 63 of `a-z 0-9 - _ .`; not a built-in role's name.
    name: String,
    /// Permissions, e.g. `oauth-clients:read` or `users:*`.
    permissions: Vec<String>,
}

#[utoipa::path(
    post,
    path = paths::ROLES,
    context_path = paths::ADMIN_BASE,
    tag = "users",
    operation_id = "createRole",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = CreateRole,
    responses(
        (status = 201, description = "Created", body = crate::openapi::RoleSchema),
        (status = 400, description = "A bad field, named in `details`", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The role exists", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create_role(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(body): Json<CreateRole>,
) -> ApiResult<Response> {
    let role = state
        .services
        .create_role(&ctx, &org, &body.name, &body.permissions)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(role)).into_response())
}
