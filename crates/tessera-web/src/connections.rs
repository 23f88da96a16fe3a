//! The Connections API of an organization, under `/orgs/{org}/api/v1` (and `/t/{org}/api/v1`):
//! platform cards, app credentials, connect / callback / disconnect, the fresh-token API for
//! consumers, integrations (OBS, Streamer.bot), StreamElements tokens and bot connections;
//! and the system-wide platform switches under `/api/v1/system/providers`.
//!
//! Handlers parse, call one service and render. The callback is the one route a browser
//! reaches from a platform: it always answers with a redirect to the Connections page, with
//! `connected=` or a readable `error=`, never with an error page.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::Router;
use http::request::Parts;
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use tessera_core::connections::{CallbackError, IntegrationPatch};
use tessera_core::Context;
use tessera_domain::connection::IntegrationInput;
use tessera_domain::ConnectionKind;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::{Json, Query};
use crate::AppState;
use utoipa::{IntoParams, ToSchema};

/// Where the console shows connections; the callback sends the browser back there.
pub const DASHBOARD_CONNECTIONS: &str = "/dashboard/connections";
pub const DASHBOARD_BOT: &str = "/dashboard/connections/bot";

/// Routes relative to `/orgs/{org}/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connections", get(cards))
        .route("/connections/credentials", get(list_credentials))
        .route(
            "/connections/credentials/{platform}",
            put(put_credentials).delete(delete_credentials),
        )
        .route("/connections/{platform}", delete(disconnect))
        .route("/connections/{platform}/authorize", post(authorize))
        .route("/connections/{platform}/callback", get(callback))
        .route("/connections/{platform}/token", get(token))
        .route(
            "/integrations",
            get(list_integrations).post(create_integration),
        )
        .route(
            "/integrations/{id}",
            patch(update_integration).delete(delete_integration),
        )
        .route("/integrations/{id}/test", post(test_integration))
        .route("/streamelements-tokens", get(list_se).post(add_se))
        .route("/streamelements-tokens/{id}", delete(delete_se))
        .route("/bot-connections", get(bots))
        .route("/bot-connections/{platform}/authorize", post(authorize_bot))
        .route("/bot-connections/{platform}", delete(disconnect_bot))
}

/// Routes relative to `/api/v1/system`.
pub fn system_router() -> Router<AppState> {
    Router::new()
        .route("/providers", get(list_providers))
        .route("/providers/{platform}", patch(patch_provider))
}

/// `GET /connections`: one card per platform, in the order Twitch, YouTube, Kick, Trovo.
#[utoipa::path(
    get,
    path = "/orgs/{org}/api/v1/connections",
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

/// `GET /connections/credentials`: one entry per platform, saved or not; never the secret.
#[utoipa::path(
    get,
    path = "/orgs/{org}/api/v1/connections/credentials",
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
    path = "/orgs/{org}/api/v1/connections/credentials/{platform}",
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
    path = "/orgs/{org}/api/v1/connections/credentials/{platform}",
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
    path = "/orgs/{org}/api/v1/connections/{platform}/authorize",
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
    path = "/orgs/{org}/api/v1/bot-connections/{platform}/authorize",
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
    path = "/orgs/{org}/api/v1/connections/{platform}/callback",
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
            params.state.as_deref(),
            params.code.as_deref(),
            params.error.as_deref(),
            params.error_description.as_deref(),
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
    path = "/orgs/{org}/api/v1/connections/{platform}",
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
    path = "/orgs/{org}/api/v1/bot-connections/{platform}",
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
    path = "/orgs/{org}/api/v1/connections/{platform}/token",
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

/// `GET /bot-connections`: per platform, the custom bot or the global one.
#[utoipa::path(
    get,
    path = "/orgs/{org}/api/v1/bot-connections",
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

/// `GET /integrations`: the organization's OBS and Streamer.bot integrations.
#[utoipa::path(
    get,
    path = "/orgs/{org}/api/v1/integrations",
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
    path = "/orgs/{org}/api/v1/integrations",
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
    path = "/orgs/{org}/api/v1/integrations/{id}",
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
    path = "/orgs/{org}/api/v1/integrations/{id}",
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
    path = "/orgs/{org}/api/v1/integrations/{id}/test",
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

/// `GET /streamelements-tokens`: the tokens, as hints.
#[utoipa::path(
    get,
    path = "/orgs/{org}/api/v1/streamelements-tokens",
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
    path = "/orgs/{org}/api/v1/streamelements-tokens",
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
    path = "/orgs/{org}/api/v1/streamelements-tokens/{id}",
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

/// `GET /api/v1/system/providers`: each platform's system-wide switch and effective
/// endpoints.
#[utoipa::path(
    get,
    path = "/api/v1/system/providers",
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
    path = "/api/v1/system/providers/{platform}",
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
