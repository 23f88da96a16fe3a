//! The platform cards and the bot connections, as listed.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::paths;
use crate::AppState;

/// `GET /connections`: one card per platform, in the order Twitch, YouTube, Kick, Trovo.
#[utoipa::path(
    get,
    path = paths::CONNECTIONS,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "listConnections",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "One card per platform; a card with a channel connection carries its fields", body = Vec<crate::openapi::ConnectionCardSchema>),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:read` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, or one the caller cannot see", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn cards(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.connection_cards(&ctx, &org).await?).into_response())
}

/// `GET /bot-connections`: per platform, the custom bot or the global one.
#[utoipa::path(
    get,
    path = paths::BOT_CONNECTIONS,
    context_path = paths::ORG_API_BASE,
    tag = "bot-connections",
    operation_id = "listBotConnections",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "One entry per platform; a custom bot carries its connection's fields", body = Vec<crate::openapi::BotConnectionSchema>),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `bot-connections:read` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, or one the caller cannot see", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn bots(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.bot_connections(&ctx, &org).await?).into_response())
}
