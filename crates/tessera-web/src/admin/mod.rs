//! The admin REST API of one organization, served under `/orgs/{org}/api/v1/admin` and the
//! alias `/t/{org}/api/v1/admin` (same handlers). Each handler authenticates the caller
//! ([`Caller`]), calls one service and renders the result; permissions are checked by the
//! service.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tessera_core::api_keys::{KeyScope, NewApiKey};
use tessera_core::users::NewUser;
use tessera_store::AuditQuery;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::{Json, Query};
use crate::{paths, AppState};

pub mod clients;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(clients::router())
        .route(paths::AUDIT_LOG, get(audit_log))
        .route(paths::API_KEYS, get(list_api_keys).post(create_api_key))
        .route(paths::API_KEY, delete(revoke_api_key))
        .route(paths::USERS, get(list_users).post(create_user))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    limit: Option<u32>,
    before: Option<i64>,
    action: Option<String>,
    actor: Option<String>,
}

/// `GET …/audit-log?limit=&before=`: newest first; the next page is `before=<last id>`.
async fn audit_log(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Query(p): Query<AuditParams>,
) -> ApiResult<Response> {
    let limit = p.limit.unwrap_or(50);
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

async fn list_api_keys(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let keys = state.services.list_api_keys(&ctx, &org).await?;
    Ok(axum::Json(keys).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateApiKey {
    name: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

/// `POST …/api-keys`: 201 with the key's metadata and, this once, the key itself.
async fn create_api_key(
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

async fn revoke_api_key(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.revoke_api_key(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_users(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_users(&ctx, &org).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    username: String,
    email: Option<String>,
    name: Option<String>,
    password: Option<SecretString>,
    #[serde(default)]
    roles: Vec<String>,
}

async fn create_user(
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
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}
