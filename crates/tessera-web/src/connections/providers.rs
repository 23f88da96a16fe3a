//! The system-wide platform switches under `/api/v1/system/providers`, and the Discord bot
//! system administrators configure for every organization (`/api/v1/system/discord-bot`).

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

/// `GET /api/v1/system/discord-bot`: the Discord bot of every organization (never its token).
#[utoipa::path(
    get,
    path = paths::DISCORD_BOT,
    context_path = paths::SYSTEM_BASE,
    tag = "system",
    operation_id = "getDiscordBot",
    responses(
        (status = 200, description = "`configured` false until set", body = crate::openapi::DiscordBotSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Not a system administrator", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn get_discord_bot(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.discord_bot(&ctx).await?).into_response())
}

/// The Discord bot's settings (all three required; the token is sealed and never shown again).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct DiscordBotBody {
    /// The application's id (17 to 20 digits).
    application_id: String,
    /// The name it posts under.
    bot_name: String,
    /// The bot token from the Discord developer portal.
    bot_token: String,
}

/// `PUT /api/v1/system/discord-bot`: sets the bot every organization uses on Discord;
/// organizations cannot customise it.
#[utoipa::path(
    put,
    path = paths::DISCORD_BOT,
    context_path = paths::SYSTEM_BASE,
    tag = "system",
    operation_id = "putDiscordBot",
    request_body = DiscordBotBody,
    responses(
        (status = 200, description = "The bot as it now is (the token's hint only)", body = crate::openapi::DiscordBotSchema),
        (status = 400, description = "A bad field, each named in `details`", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Not a system administrator", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn put_discord_bot(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(b): Json<tessera_core::connections::DiscordBotInput>,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.set_discord_bot(&ctx, b).await?).into_response())
}

/// `DELETE /api/v1/system/discord-bot`: no Discord bot any more; `204`.
#[utoipa::path(
    delete,
    path = paths::DISCORD_BOT,
    context_path = paths::SYSTEM_BASE,
    tag = "system",
    operation_id = "deleteDiscordBot",
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Not a system administrator", body = crate::openapi::ErrorSchema),
        (status = 404, description = "None was configured", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn delete_discord_bot(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    state.services.remove_discord_bot(&ctx).await?;
    Ok(http::StatusCode::NO_CONTENT.into_response())
}
