//! Connect, Reconnect and Disconnect, for a channel or a custom bot, and the platform's
//! callback, which always answers with a redirect to the Connections page.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use http::StatusCode;
use tessera_core::connections::CallbackError;
use tessera_core::Context;
use tessera_domain::ConnectionKind;

use super::{DASHBOARD_BOT, DASHBOARD_CONNECTIONS};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::paths;
use crate::AppState;

async fn start(
    state: &AppState,
    ctx: &Context,
    org: &str,
    platform: &str,
    kind: ConnectionKind,
) -> ApiResult<Response> {
    let url = state
        .services
        .start_connect(ctx, org, platform, kind)
        .await?;
    Ok(axum::Json(serde_json::json!({ "authorizationUrl": url })).into_response())
}

/// `POST /connections/{platform}/authorize`: Connect or Reconnect; send the browser to the
/// URL.
#[utoipa::path(
    post,
    path = paths::CONNECTIONS_PLATFORM_AUTHORIZE,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "authorizeConnection",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404")),
    responses(
        (status = 200, description = "The platform's authorization URL, carrying a single-use state valid for 10 minutes", body = crate::openapi::AuthorizationUrlSchema, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:edit` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or platform", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The platform is switched off system-wide, or has no app credentials yet", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn authorize(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    start(&state, &ctx, &org, &platform, ConnectionKind::Channel).await
}

/// `POST /bot-connections/{platform}/authorize`: connect a custom bot account.
#[utoipa::path(
    post,
    path = paths::BOT_CONNECTIONS_PLATFORM_AUTHORIZE,
    context_path = paths::ORG_API_BASE,
    tag = "bot-connections",
    operation_id = "authorizeBotConnection",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404")),
    responses(
        (status = 200, description = "The platform's authorization URL; the callback ends at the bot page", body = crate::openapi::AuthorizationUrlSchema, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `bot-connections:create` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or platform", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The platform is switched off system-wide, or has no app credentials yet", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn authorize_bot(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    start(&state, &ctx, &org, &platform, ConnectionKind::Bot).await
}

#[derive(Default)]
struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn page_for(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Channel => DASHBOARD_CONNECTIONS,
        ConnectionKind::Bot => DASHBOARD_BOT,
    }
}

fn error_redirect(e: &CallbackError) -> Response {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("error", e.code);
    if let Some(p) = e.platform {
        q.append_pair("platform", p.as_str());
    }
    q.append_pair("message", &e.message);
    Redirect::to(&format!("{}?{}", page_for(e.kind), q.finish())).into_response()
}

/// The caller of a callback, when the browser carries credentials; a request without any is
/// judged by its `state` alone.
async fn optional_caller(state: &AppState, parts: &Parts) -> Option<Context> {
    // An API key, or the console session the browser comes back with (the platform's redirect
    // is a top-level navigation, so the SameSite=Lax cookie rides along).
    crate::auth::authenticate(parts, state).await.ok()
}

/// `GET /connections/{platform}/callback`: where the platform sends the browser back. The
/// `state` is the credential; every outcome is a redirect to the Connections page.
#[utoipa::path(
    get,
    path = paths::CONNECTIONS_PLATFORM_CALLBACK,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "connectionCallback",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "The platform the flow was started for"), ("state" = Option<String>, Query, description = "The single-use state from the authorization URL"), ("code" = Option<String>, Query, description = "The authorization code, on success"), ("error" = Option<String>, Query, description = "The platform's error code, e.g. `access_denied`"), ("error_description" = Option<String>, Query, description = "The platform's explanation of `error`")),
    security(()),
    responses(
        (status = 303, description = "Always, whatever happened. On success `Location` is `/dashboard/connections?connected={platform}` (`/dashboard/connections/bot?…` for a bot); otherwise `/dashboard/connections?error={code}&platform={platform}&message={message}` (form-encoded; `platform` left out for an unknown one), where `code` is `invalid_state`, `access_denied`, `platform_error`, `token_exchange_failed`, `channel_lookup_failed`, `channel_mismatch`, `unavailable`, `not_configured` or `server_error`", headers(("Location" = String, description = "The Connections page (or its bot page), with `connected=` or `error=`, `platform=` and `message=`"), ("Cache-Control" = String, description = "`no-store`")))
    )
)]
pub(crate) async fn callback(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    parts: Parts,
) -> Response {
    // A malformed query is still answered with the page and an error.
    let mut params = CallbackParams::default();
    for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
        let slot = match k.as_ref() {
            "state" => &mut params.state,
            "code" => &mut params.code,
            "error" => &mut params.error,
            "error_description" => &mut params.error_description,
            _ => continue,
        };
        // A repeated parameter is ambiguous: treat the request as carrying none.
        *slot = if slot.is_some() {
            Some(String::new())
        } else {
            Some(v.into_owned())
        };
    }
    let caller = optional_caller(&state, &parts).await;
    let res = state
        .services
        .finish_connect(
            caller.as_ref(),
            &org,
            &platform,
            tessera_core::connections::ConnectCallback {
                state: params.state.as_deref(),
                code: params.code.as_deref(),
                error: params.error.as_deref(),
                error_description: params.error_description.as_deref(),
            },
        )
        .await;
    let res = match res {
        Ok(done) => Redirect::to(&format!(
            "{}?connected={}",
            page_for(done.kind),
            done.platform.as_str()
        ))
        .into_response(),
        Err(e) => error_redirect(&e),
    };
    res
}

/// `DELETE /connections/{platform}`: Disconnect. Revokes at the platform where it can and
/// forgets the tokens; the credentials stay.
#[utoipa::path(
    delete,
    path = paths::CONNECTIONS_PLATFORM,
    context_path = paths::ORG_API_BASE,
    tag = "connections",
    operation_id = "disconnectConnection",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `connections:edit` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or platform, or no channel connection", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state
        .services
        .disconnect(&ctx, &org, &platform, ConnectionKind::Channel)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /bot-connections/{platform}`: back to the global bot.
#[utoipa::path(
    delete,
    path = paths::BOT_CONNECTIONS_PLATFORM,
    context_path = paths::ORG_API_BASE,
    tag = "bot-connections",
    operation_id = "disconnectBotConnection",
    params(("org" = String, Path, description = "Organization slug"), ("platform" = String, Path, description = "`twitch`, `youtube`, `kick` or `trovo`; another name answers 404")),
    responses(
        (status = 204, description = "Disconnected; the platform uses the global bot again"),
        (status = 401, description = "No or bad API key or console session", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission `bot-connections:delete` (named in the error)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or platform, or no custom bot connection", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn disconnect_bot(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state
        .services
        .disconnect(&ctx, &org, &platform, ConnectionKind::Bot)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
