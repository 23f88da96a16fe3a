//! StreamElements tokens for tip ingestion, kept sealed.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::Json;
use crate::paths;
use crate::AppState;
use utoipa::ToSchema;

/// `GET /streamelements-tokens`: the tokens, as hints.
#[utoipa::path(
    get,
    path = paths::STREAMELEMENTS_TOKENS,
    context_path = paths::ORG_API_BASE,
    tag = "streamelements",
    operation_id = "listStreamElementsTokens",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "The tokens; never a token itself", body = Vec<crate::openapi::StreamElementsTokenSchema>),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:read` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, or one the caller cannot see", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_se(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_se_tokens(&ctx, &org).await?).into_response())
}

/// A StreamElements JWT to keep for tip ingestion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StreamElementsTokenBody)]
pub(crate) struct SeBody {
    /// The platform whose channel the tips belong to.
    #[schema(value_type = crate::openapi::PlatformSchema)]
    platform: String,
    /// The JWT from the StreamElements dashboard (three dot-separated base64url parts), up to
    /// 8192 characters. Write-only.
    #[schema(value_type = String)]
    token: SecretString,
    /// 1 to 100 characters, to tell tokens apart; blank means none.
    label: Option<String>,
}

/// `POST /streamelements-tokens`: store a StreamElements JWT, sealed.
#[utoipa::path(
    post,
    path = paths::STREAMELEMENTS_TOKENS,
    context_path = paths::ORG_API_BASE,
    tag = "streamelements",
    operation_id = "createStreamElementsToken",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = SeBody,
    responses(
        (status = 201, description = "Stored; shown by its hint from now on", body = crate::openapi::StreamElementsTokenSchema),
        (status = 400, description = "Malformed body, unknown field, unknown platform, a token that is not a JWT, or a bad label; `details` names each", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:create` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, or one the caller cannot see", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn add_se(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(b): Json<SeBody>,
) -> ApiResult<Response> {
    let view = state
        .services
        .add_se_token(&ctx, &org, &b.platform, &b.token, b.label.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// `DELETE /streamelements-tokens/{id}`: tip ingestion with it stops at once.
#[utoipa::path(
    delete,
    path = paths::STREAMELEMENTS_TOKENS_ID,
    context_path = paths::ORG_API_BASE,
    tag = "streamelements",
    operation_id = "deleteStreamElementsToken",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The StreamElements token id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:delete` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or token", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn delete_se(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_se_token(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
