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

use crate::auth::{no_store, Caller};
use crate::error::ApiResult;
use crate::json::{Json, Query};
use crate::AppState;

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

async fn cards(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.connection_cards(&ctx, &org).await?).into_response())
}

async fn list_credentials(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_credentials(&ctx, &org).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CredentialsBody {
    client_id: String,
    client_secret: SecretString,
}

async fn put_credentials(
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

async fn delete_credentials(
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
    Ok(no_store(
        axum::Json(serde_json::json!({ "authorizationUrl": url })).into_response(),
    ))
}

async fn authorize(
    State(state): State<AppState>,
    Path((org, platform)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    start(&state, &ctx, &org, &platform, ConnectionKind::Channel).await
}

async fn authorize_bot(
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
    crate::auth::bearer_token(parts).ok()?;
    crate::auth::authenticate(parts, state).await.ok()
}

async fn callback(
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
    no_store(res)
}

async fn disconnect(
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

async fn disconnect_bot(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenParams {
    /// `channel` (default) or `bot`.
    identity: Option<String>,
}

async fn token(
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
    Ok(no_store(axum::Json(t).into_response()))
}

async fn bots(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.bot_connections(&ctx, &org).await?).into_response())
}

async fn list_integrations(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_integrations(&ctx, &org).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IntegrationBody {
    /// `streamerbot` or `obs`.
    #[serde(rename = "type")]
    kind: String,
    label: Option<String>,
    host: Option<String>,
    port: Option<i64>,
    endpoint: Option<String>,
    remote_access: Option<bool>,
    enabled: Option<bool>,
    password: Option<SecretString>,
}

async fn create_integration(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IntegrationPatchBody {
    label: Option<String>,
    host: Option<String>,
    port: Option<i64>,
    endpoint: Option<String>,
    remote_access: Option<bool>,
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    password: Option<Option<SecretString>>,
}

async fn update_integration(
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

async fn delete_integration(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_integration(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test_integration(
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

async fn list_se(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_se_tokens(&ctx, &org).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeBody {
    platform: String,
    token: SecretString,
    label: Option<String>,
}

async fn add_se(
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

async fn delete_se(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_se_token(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_providers(State(state): State<AppState>, Caller(ctx): Caller) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_providers(&ctx).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderPatch {
    enabled: bool,
}

async fn patch_provider(
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
