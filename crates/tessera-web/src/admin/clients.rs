//! `…/admin/oauth-clients`: the client registry over REST. Request bodies use the client
//! object's camelCase names; unknown fields are refused. A secret appears only in the
//! response of the call that made it (create, regenerate, or making a client confidential).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tessera_core::clients::{ClientPatch, ClientWithSecret, SecretChange};
use tessera_domain::client::{ClientInput, ClientObject};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::{Json, OptionalJson, Query};
use crate::{paths, AppState};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::OAUTH_CLIENTS, get(list).post(create))
        .route(
            paths::OAUTH_CLIENT,
            get(read).put(replace).patch(patch).delete(remove),
        )
        .route(paths::OAUTH_CLIENT_SECRET, post(secret))
        .route(paths::OAUTH_CLIENT_REVOKE_TOKENS, post(revoke_tokens))
}

/// When every token of a client was revoked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokensRevoked {
    /// RFC 3339; access tokens issued until then (that second included) are inactive.
    tokens_revoked_at: String,
}

/// `POST …/oauth-clients/{id}/revoke-tokens`: every token of the client revoked at once (its
/// access tokens inactive on every node, its refresh tokens revoked, its codes spent); the
/// client stays.
#[utoipa::path(
    post,
    path = paths::OAUTH_CLIENT_REVOKE_TOKENS,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "revokeOauthClientTokens",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    responses(
        (status = 200, description = "Every token issued until now is revoked", body = TokensRevoked),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn revoke_tokens(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let at = state.services.revoke_client_tokens(&ctx, &org, &id).await?;
    Ok((
        StatusCode::OK,
        axum::Json(TokensRevoked {
            tokens_revoked_at: tessera_domain::clock::rfc3339_millis::format(at),
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    /// Matches the client id or name, case-insensitively.
    q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// Clients to skip (default 0).
    offset: Option<u32>,
    /// `name`, `createdAt` (the default, with `-`), `updatedAt` or `lastUsedAt` (the last use
    /// of a secret; never-used clients last); `-` in front for descending.
    sort: Option<String>,
    /// `true` or `false`: enabled or disabled clients only.
    #[serde(rename = "isActive")]
    #[param(rename = "isActive")]
    is_active: Option<String>,
    /// `public` or `confidential`.
    #[serde(rename = "clientType")]
    #[param(rename = "clientType")]
    client_type: Option<String>,
    /// Clients that may use this grant type.
    #[serde(rename = "grantType")]
    #[param(rename = "grantType")]
    grant_type: Option<String>,
}

/// `GET …/oauth-clients?q=&limit=&offset=`: the page as a JSON array, the total in
/// `X-Total-Count`.
#[utoipa::path(
    get,
    path = paths::OAUTH_CLIENTS,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "listOauthClients",
    params(("org" = String, Path, description = "Organization slug"), ListParams),
    responses(
        (status = 200, description = "One page of clients, newest first", body = Vec<ClientObject>,
            headers(("X-Total-Count" = i64, description = "How many clients match in all"))),
        (status = 400, description = "Bad query parameter", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    let options = tessera_domain::client::ClientListOptions::parse(
        p.sort.as_deref(),
        p.is_active.as_deref(),
        p.client_type.as_deref(),
        p.grant_type.as_deref(),
    )
    .map_err(tessera_core::CoreError::from)?;
    let (clients, total) = state
        .services
        .list_clients(
            &ctx,
            &org,
            p.q,
            p.limit.unwrap_or(50),
            p.offset.unwrap_or(0),
            options,
        )
        .await?;
    Ok(page(&clients, total))
}

/// One page of a list as a JSON array, the number of all matches in `X-Total-Count`.
pub(crate) fn page<T: Serialize>(items: &[T], total: i64) -> Response {
    let mut res = axum::Json(items).into_response();
    res.headers_mut()
        .insert("x-total-count", http::HeaderValue::from(total.max(0)));
    res
}

/// The client object plus, in the response of the call that made it, its secret.
#[derive(Serialize, ToSchema)]
#[schema(as = OauthClientWithSecret)]
pub(crate) struct WithSecret<'a> {
    #[serde(flatten)]
    client: ClientObject<'a>,
    /// `cs_live_` + 43 base64url characters. Shown only once.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

/// The client, plus `secret` when this call made one.
fn with_secret(status: StatusCode, r: ClientWithSecret) -> Response {
    let body = WithSecret {
        client: r.client.object(),
        secret: r.secret.as_ref().map(|s| s.expose_secret()),
    };
    (status, axum::Json(body)).into_response()
}

/// `POST …/oauth-clients`: 201 with the client and, for a confidential client, its secret.
#[utoipa::path(
    post,
    path = paths::OAUTH_CLIENTS,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "createOauthClient",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = ClientInput,
    responses(
        (status = 201, description = "Created; a confidential client's secret is in `secret`, this once", body = WithSecret),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The chosen client id exists", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(input): Json<ClientInput>,
) -> ApiResult<Response> {
    let r = state.services.create_client(&ctx, &org, input).await?;
    Ok(with_secret(StatusCode::CREATED, r))
}

#[utoipa::path(
    get,
    path = paths::OAUTH_CLIENT,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "getOauthClient",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    responses(
        (status = 200, description = "The client, never its secret", body = ClientObject),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let c = state.services.get_client(&ctx, &org, &id).await?;
    Ok(axum::Json(c).into_response())
}

/// `PUT …/oauth-clients/{id}`: replace every editable setting.
#[utoipa::path(
    put,
    path = paths::OAUTH_CLIENT,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "replaceOauthClient",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    request_body = ClientInput,
    responses(
        (status = 200, description = "Replaced; `secret` is present only if the client just became confidential", body = WithSecret),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn replace(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(input): Json<ClientInput>,
) -> ApiResult<Response> {
    let r = state
        .services
        .replace_client(&ctx, &org, &id, input)
        .await?;
    Ok(with_secret(StatusCode::OK, r))
}

/// `PATCH …/oauth-clients/{id}`: change only the given fields, e.g. `{"isActive": false}`.
#[utoipa::path(
    patch,
    path = paths::OAUTH_CLIENT,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "updateOauthClient",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    request_body = ClientPatch,
    responses(
        (status = 200, description = "Updated, e.g. enabled or disabled with `isActive`", body = WithSecret),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn patch(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(patch): Json<ClientPatch>,
) -> ApiResult<Response> {
    let r = state.services.patch_client(&ctx, &org, &id, patch).await?;
    Ok(with_secret(StatusCode::OK, r))
}

/// `DELETE …/oauth-clients/{id}`: 204.
#[utoipa::path(
    delete,
    path = paths::OAUTH_CLIENT,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "deleteOauthClient",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    responses(
        (status = 204, description = "Deleted; its tokens stop working at once"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_client(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SecretBody {
    /// Keep the previous secrets alive this many seconds (1 to 2592000); otherwise they die at once.
    previous_secret_valid_for: Option<i64>,
    /// An operator-chosen secret (16 to 512 characters, stored with argon2id) instead of a generated one.
    #[schema(value_type = Option<String>)]
    secret: Option<SecretString>,
}

/// `POST …/oauth-clients/{id}/secret`: a new generated secret (returned once), or the
/// operator's own `secret`; `previousSecretValidFor` keeps the old ones alive that long.
#[utoipa::path(
    post,
    path = paths::OAUTH_CLIENT_SECRET,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "regenerateOauthClientSecret",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    request_body(content = Option<SecretBody>, description = "Optional; an empty body regenerates"),
    responses(
        (status = 200, description = "The client with its live secrets; a generated secret is in `secret`, this once", body = WithSecret),
        (status = 400, description = "Bad grace period or secret, or a public client", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or client", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn secret(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    OptionalJson(b): OptionalJson<SecretBody>,
) -> ApiResult<Response> {
    let r = state
        .services
        .change_client_secret(
            &ctx,
            &org,
            &id,
            SecretChange {
                previous_secret_valid_for: b.previous_secret_valid_for,
                secret: b.secret,
            },
        )
        .await?;
    Ok(with_secret(StatusCode::OK, r))
}
