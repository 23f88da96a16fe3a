//! A platform application's OAuth credentials: listed as hints, saved, deleted.

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

/// `GET /connections/credentials`: one entry per platform, saved or not; never the secret.
#[utoipa::path(
    get,
    path = paths::CONNECTIONS_CREDENTIALS,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "listConnectionCredentials",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "One entry per platform, with the redirect URI to register at the platform", body = Vec<crate::openapi::AppCredentialsSchema>),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:edit` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, or one the caller cannot see", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_credentials(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_credentials(&ctx, &org).await?).into_response())
}

/// A platform application's OAuth credentials, from its developer portal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = AppCredentialsBody)]
pub(crate) struct CredentialsBody {
    /// Trimmed; 1 to 512 characters, no spaces, line breaks or control characters.
    client_id: String,
    /// Trimmed; 1 to 512 characters, no spaces, line breaks or control characters. Write-only.
    #[schema(value_type = String)]
    client_secret: SecretString,
}

/// `PUT /connections/credentials/{platform}`: save or replace the app credentials. A new
/// client id ends the platform's connections.
#[utoipa::path(
    put,
    path = paths::CONNECTIONS_CREDENTIALS_PLATFORM,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "putConnectionCredentials",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404")),
    request_body = CredentialsBody,
    responses(
        (status = 200, description = "Saved", body = crate::openapi::AppCredentialsSchema),
        (status = 400, description = "Not a JSON object of the two fields, or `clientId` / `clientSecret` is empty, too long or has spaces; `details` names the field", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:edit` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or platform", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn put_credentials(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(body): Json<CredentialsBody>,
) -> ApiResult<Response> {
    let view = state
        .services
        .put_credentials(&ctx, &org, &platform, &body.client_id, &body.client_secret)
        .await?;
    Ok(axum::Json(view).into_response())
}

/// `DELETE /connections/credentials/{platform}`: the credentials go, and the platform's
/// connections with them (revoked at the platform first, where it can).
#[utoipa::path(
    delete,
    path = paths::CONNECTIONS_CREDENTIALS_PLATFORM,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "deleteConnectionCredentials",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404")),
    responses(
        (status = 204, description = "Deleted, with the platform's channel and bot connections"),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:edit` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or platform, or no credentials saved for it", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn delete_credentials(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state
        .services
        .delete_credentials(&ctx, &org, &platform)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
