//! OBS Studio and Streamer.bot integrations: list, create, change, delete and test.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use tessera_core::connections::IntegrationPatch;
use tessera_domain::connection::IntegrationInput;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::Json;
use crate::paths;
use crate::AppState;
use utoipa::ToSchema;

/// `GET /integrations`: the organization's OBS and Streamer.bot integrations.
#[utoipa::path(
    get,
    path = paths::INTEGRATIONS,
    context_path = paths::ORG_API_BASE,
    tag = "integrations",
    operation_id = "listIntegrations",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "The integrations; never a password", body = Vec<crate::openapi::IntegrationSchema>),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:read` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, or one the caller cannot see", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_integrations(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_integrations(&ctx, &org).await?).into_response())
}

/// A new integration; absent fields take the type's defaults (Streamer.bot: `127.0.0.1`,
/// port 8080, endpoint `/`; OBS: `127.0.0.1`, port 4455).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct IntegrationBody {
    /// `streamerbot` or `obs`. Cannot be changed later.
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::IntegrationTypeSchema)]
    kind: String,
    /// 1 to 100 characters; defaults to `Streamer.bot` or `OBS Studio`.
    label: Option<String>,
    /// A host name or IP address, without scheme, path or port. For OBS, required when
    /// `remoteAccess` is on.
    host: Option<String>,
    /// 1 to 65535.
    port: Option<i64>,
    /// Streamer.bot's WebSocket path, starting with `/` (usually just `/`); refused for OBS.
    endpoint: Option<String>,
    /// OBS only (refused for Streamer.bot): the instance is on another machine, reached at
    /// `host`. Default `false`.
    remote_access: Option<bool>,
    /// Default `true`.
    enabled: Option<bool>,
    /// Only if the tool has authentication on; up to 512 characters. Write-only.
    #[schema(value_type = Option<String>)]
    password: Option<SecretString>,
}

/// `POST /integrations`: absent fields take the type's defaults.
#[utoipa::path(
    post,
    path = paths::INTEGRATIONS,
    context_path = paths::ORG_API_BASE,
    tag = "integrations",
    operation_id = "createIntegration",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = IntegrationBody,
    responses(
        (status = 201, description = "Created", body = crate::openapi::IntegrationSchema),
        (status = 400, description = "Malformed body, unknown field, or an invalid value (unknown `type`, bad host or port, a field the type does not take); `details` names each", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:create` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, or one the caller cannot see", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create_integration(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(b): Json<IntegrationBody>,
) -> ApiResult<Response> {
    let view = state
        .services
        .create_integration(
            &ctx,
            &org,
            IntegrationInput {
                kind: b.kind,
                label: b.label,
                host: b.host,
                port: b.port,
                endpoint: b.endpoint,
                remote_access: b.remote_access,
                enabled: b.enabled,
            },
            b.password,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// A field that may be absent, null or a value (`password: null` removes the password).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A change to an integration: only the fields given change; `type` cannot.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct IntegrationPatchBody {
    label: Option<String>,
    host: Option<String>,
    /// 1 to 65535.
    port: Option<i64>,
    /// Streamer.bot only.
    endpoint: Option<String>,
    /// OBS only.
    remote_access: Option<bool>,
    /// The Enabled / Disabled switch.
    enabled: Option<bool>,
    /// A new password; `null` or `""` removes it, leaving it out keeps it. Write-only.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    password: Option<Option<SecretString>>,
}

/// `PATCH /integrations/{id}`: absent fields stay; `"password": null` removes the password.
#[utoipa::path(
    patch,
    path = paths::INTEGRATIONS_ID,
    context_path = paths::ORG_API_BASE,
    tag = "integrations",
    operation_id = "updateIntegration",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The integration id")),
    request_body = IntegrationPatchBody,
    responses(
        (status = 200, description = "Updated", body = crate::openapi::IntegrationSchema),
        (status = 400, description = "Malformed body, unknown field (`type` included), or an invalid value; `details` names each", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:edit` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or integration", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn update_integration(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(b): Json<IntegrationPatchBody>,
) -> ApiResult<Response> {
    let view = state
        .services
        .update_integration(
            &ctx,
            &org,
            &id,
            IntegrationPatch {
                label: b.label,
                host: b.host,
                port: b.port,
                endpoint: b.endpoint,
                remote_access: b.remote_access,
                enabled: b.enabled,
                password: b.password,
            },
        )
        .await?;
    Ok(axum::Json(view).into_response())
}

/// `DELETE /integrations/{id}`: the integration and its password.
#[utoipa::path(
    delete,
    path = paths::INTEGRATIONS_ID,
    context_path = paths::ORG_API_BASE,
    tag = "integrations",
    operation_id = "deleteIntegration",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The integration id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:delete` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or integration", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn delete_integration(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_integration(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /integrations/{id}/test`: the server connects to the tool and says what happened. A
/// failed test is still a 200: the result is in the body.
#[utoipa::path(
    post,
    path = paths::INTEGRATIONS_ID_TEST,
    context_path = paths::ORG_API_BASE,
    tag = "integrations",
    operation_id = "testIntegration",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The integration id")),
    responses(
        (status = 200, description = "The test ran; `success` says whether it connected", body = crate::openapi::IntegrationTestSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:edit` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or integration", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn test_integration(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let outcome = state.services.test_integration(&ctx, &org, &id).await?;
    Ok(axum::Json(serde_json::json!({
        "success": outcome.is_success(),
        "message": outcome.message(),
        "outcome": outcome,
    }))
    .into_response())
}
