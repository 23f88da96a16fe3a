//! The system-wide platform switches under `/api/v1/system/providers`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::Json;
use crate::paths;
use crate::AppState;
use utoipa::ToSchema;

/// `GET /api/v1/system/providers`: each platform's system-wide switch and effective
/// endpoints.
#[utoipa::path(
    get,
    path = paths::PROVIDERS,
    context_path = paths::SYSTEM_BASE,
    tag = "system",
    operation_id = "listProviders",
    responses(
        (status = 200, description = "One entry per platform", body = Vec<crate::openapi::ProviderSchema>),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Not a system administrator", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_providers(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_providers(&ctx).await?).into_response())
}

/// The system-wide switch of one platform.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProviderPatch {
    /// `false` makes the platform `unavailable` for every organization; existing connections
    /// stay.
    enabled: bool,
}

/// `PATCH /api/v1/system/providers/{platform}`: switch a platform off or on for every
/// organization.
#[utoipa::path(
    patch,
    path = paths::PROVIDERS_PLATFORM,
    context_path = paths::SYSTEM_BASE,
    tag = "system",
    operation_id = "updateProvider",
    params(("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404")),
    request_body = ProviderPatch,
    responses(
        (status = 200, description = "The platform with its new switch", body = crate::openapi::ProviderSchema),
        (status = 400, description = "Malformed body: `enabled` missing or not a boolean, or another field", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Not a system administrator", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such platform", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn patch_provider(
    State(state): State<AppState>,
    Path(platform): Path<String>,
    Caller(ctx): Caller,
    Json(b): Json<ProviderPatch>,
) -> ApiResult<Response> {
    let view = state
        .services
        .set_provider_enabled(&ctx, &platform, b.enabled)
        .await?;
    Ok(axum::Json(view).into_response())
}
