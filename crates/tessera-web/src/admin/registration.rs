//! The organization's client registration settings in the admin API: the policy, and the
//! initial access tokens that let developers register clients when the policy asks for one.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use http::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};
use tessera_core::InitialAccessToken;
use tessera_domain::registration::RegistrationPolicy;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::{Json, OptionalJson};
use crate::{paths, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::REGISTRATION_POLICY, get(get_policy).put(put_policy))
        .route(
            paths::REGISTRATION_TOKENS,
            get(list_tokens).post(create_token),
        )
        .route(paths::REGISTRATION_TOKEN, delete(revoke_token))
}

fn token_view(t: &InitialAccessToken) -> Value {
    let ts = tessera_domain::clock::rfc3339_millis::format;
    json!({
        "id": t.id,
        "hint": t.hint,
        "createdAt": ts(t.created_at),
        "expiresAt": t.expires_at.map(ts),
        "revokedAt": t.revoked_at.map(ts),
    })
}

/// `GET …/registration-policy`: who may register clients, and what they may have.
#[utoipa::path(
    get,
    path = paths::REGISTRATION_POLICY,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "getRegistrationPolicy",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "The policy (closed until set)", body = crate::openapi::RegistrationPolicySchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let p = state.services.get_registration_policy(&ctx, &org).await?;
    Ok(axum::Json(p).into_response())
}

/// `PUT …/registration-policy`: replaces the policy; omitted fields take their defaults.
#[utoipa::path(
    put,
    path = paths::REGISTRATION_POLICY,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "putRegistrationPolicy",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = crate::openapi::RegistrationPolicySchema,
    responses(
        (status = 200, description = "The policy now in force", body = crate::openapi::RegistrationPolicySchema),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn put_policy(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(policy): Json<RegistrationPolicy>,
) -> ApiResult<Response> {
    let p = state
        .services
        .put_registration_policy(&ctx, &org, policy)
        .await?;
    Ok(axum::Json(p).into_response())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateToken {
    /// Seconds until the token stops working (60 to 31536000); never, when absent.
    expires_in: Option<i64>,
}

/// `POST …/registration-tokens`: a new initial access token, shown once.
#[utoipa::path(
    post,
    path = paths::REGISTRATION_TOKENS,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "createRegistrationToken",
    params(("org" = String, Path, description = "Organization slug")),
    request_body(content = CreateToken, description = "Optional; `{}` or no body for a token that does not expire"),
    responses(
        (status = 201, description = "The token (`iat_…`) in `token`, shown only now", body = crate::openapi::RegistrationTokenSchema),
        (status = 400, description = "A rule was broken", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    OptionalJson(body): OptionalJson<CreateToken>,
) -> ApiResult<Response> {
    let (token, record) = state
        .services
        .create_initial_access_token(&ctx, &org, body.expires_in)
        .await?;
    let mut v = token_view(&record);
    v["token"] = json!(token.expose_secret());
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// `GET …/registration-tokens`: the organization's initial access tokens, metadata only.
#[utoipa::path(
    get,
    path = paths::REGISTRATION_TOKENS,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "listRegistrationTokens",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "Newest first; never the tokens themselves", body = Vec<crate::openapi::RegistrationTokenSchema>),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let list = state
        .services
        .list_initial_access_tokens(&ctx, &org)
        .await?;
    Ok(axum::Json(list.iter().map(token_view).collect::<Vec<_>>()).into_response())
}

/// `DELETE …/registration-tokens/{id}`: 204; the token stops working at once.
#[utoipa::path(
    delete,
    path = paths::REGISTRATION_TOKEN,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "revokeRegistrationToken",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or live token", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    state
        .services
        .revoke_initial_access_token(&ctx, &org, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
