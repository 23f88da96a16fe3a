//! The fresh-token API: a live platform access token for a consumer.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_domain::ConnectionKind;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::Query;
use crate::paths;
use crate::AppState;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenParams {
    /// Whose token: the channel's (default) or the custom bot's.
    #[param(value_type = Option<crate::openapi::ConnectionKindSchema>)]
    identity: Option<String>,
}

/// `GET /connections/{platform}/token`: a live platform access token for a consumer,
/// refreshed on the spot when it is about to expire. Never an expired token.
#[utoipa::path(
    get,
    path = paths::CONNECTIONS_PLATFORM_TOKEN,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "getConnectionToken",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404"), TokenParams),
    responses(
        (status = 200, description = "A token with at least a minute to live", body = crate::openapi::FreshTokenSchema, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Unknown `identity` or query parameter", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:token` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, platform or connection", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The refresh failed (now or earlier), or the token expires and the platform gave no refresh token: reconnect", body = crate::openapi::ErrorSchema),
        (status = 503, description = "No fresh token right now: the platform did not answer, or another node held the refresh too long; try again shortly", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn token(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
    Query(p): Query<TokenParams>,
) -> ApiResult<Response> {
    let kind = ConnectionKind::parse_identity(p.identity.as_deref())
        .map_err(|e| crate::error::ApiError::from(tessera_core::CoreError::from(e)))?;
    let t = state
        .services
        .fresh_token(&ctx, &org, &platform, kind)
        .await?;
    Ok(axum::Json(t).into_response())
}
