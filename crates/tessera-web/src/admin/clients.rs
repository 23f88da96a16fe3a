//! `…/admin/oauth-clients`: the client registry over REST. Request bodies use the client
//! object's camelCase names; unknown fields are refused. A secret appears only in the
//! response of the call that made it (create, regenerate, or making a client confidential).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tessera_core::clients::{ClientPatch, ClientWithSecret, SecretChange};
use tessera_domain::client::{ClientInput, TokenExchangePolicy};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
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
        (status = 200, description = "One page of clients, newest first", body = Vec<crate::openapi::ClientSchema>,
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
    let (clients, total) = state
        .services
        .list_clients(
            &ctx,
            &org,
            p.q,
            p.limit.unwrap_or(50),
            p.offset.unwrap_or(0),
        )
        .await?;
    let mut res = axum::Json(clients).into_response();
    res.headers_mut()
        .insert("x-total-count", http::HeaderValue::from(total.max(0)));
    Ok(res)
}

/// The settings of a create or replace request; absent optional fields take the defaults.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ClientBody {
    /// Only on create: the id to register instead of a generated UUID.
    client_id: Option<String>,
    /// Only on replace: the client's own id, accepted so that a GET body can be sent back.
    id: Option<String>,
    name: String,
    description: Option<String>,
    is_confidential: Option<bool>,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Option<Vec<String>>,
    allowed_cors_origins: Option<Vec<String>>,
    allowed_scopes: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    is_active: Option<bool>,
    require_pkce: Option<bool>,
    require_consent: Option<bool>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    access_token_lifetime: Option<i64>,
    refresh_token_lifetime: Option<i64>,
    /// `RS256` (default), `ES256` or `EdDSA`.
    id_token_signed_response_alg: Option<String>,
    /// How access tokens are signed: `ES256` (default), `RS256` or `EdDSA`.
    access_token_signed_response_alg: Option<String>,
    /// Userinfo answers with a JWT signed so (`RS256`, `ES256` or `EdDSA`); absent or null:
    /// plain JSON.
    userinfo_signed_response_alg: Option<String>,
    /// The one algorithm request objects must be signed with (`RS256`, `RS384`, `RS512`,
    /// `PS256`, `PS384`, `PS512`, `ES256`, `ES384` or `EdDSA`); absent or null: any the keys
    /// allow.
    request_object_signing_alg: Option<String>,
    /// `client_secret_basic` (a confidential client's default), `client_secret_post`, or
    /// `none` (a public client's; alone, it makes the client public), or `private_key_jwt`
    /// (a confidential client that signs assertions with a key of `jwks`; no secret).
    token_endpoint_auth_method: Option<String>,
    /// The client's public keys, a JWK Set (RFC 7517 §5); `private_key_jwt` needs them.
    #[schema(value_type = Option<Object>)]
    jwks: Option<Value>,
    /// Where the client publishes its public keys (`https`), instead of `jwks`.
    jwks_uri: Option<String>,
    /// Which access tokens this client may exchange (RFC 8693); nothing by default.
    #[schema(value_type = Option<crate::openapi::TokenExchangeSchema>)]
    token_exchange: Option<TokenExchangePolicy>,
    // Read-only fields of the client object, ignored so that a GET body can be sent back.
    /// `public` or `confidential`; derived from `isConfidential` and, when sent, must agree
    /// with it (alone, it sets it).
    client_type: Option<String>,
    #[schema(ignore)]
    #[serde(default, rename = "secrets")]
    _secrets: IgnoredAny,
    #[schema(ignore)]
    #[serde(default, rename = "createdAt")]
    _created_at: IgnoredAny,
    #[schema(ignore)]
    #[serde(default, rename = "updatedAt")]
    _updated_at: IgnoredAny,
}

impl ClientBody {
    /// The id asked for on create.
    pub(crate) fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    pub(crate) fn into_input(self) -> ClientInput {
        let d = ClientInput::default();
        ClientInput {
            name: self.name,
            description: self.description,
            is_confidential: ClientInput::confidential_from(
                self.is_confidential,
                self.client_type.as_deref(),
                self.token_endpoint_auth_method.as_deref(),
            )
            .unwrap_or(d.is_confidential),
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris.unwrap_or_default(),
            allowed_cors_origins: self.allowed_cors_origins.unwrap_or_default(),
            allowed_scopes: self.allowed_scopes,
            grant_types: self.grant_types.unwrap_or(d.grant_types),
            is_active: self.is_active.unwrap_or(d.is_active),
            require_pkce: self.require_pkce.unwrap_or(d.require_pkce),
            require_consent: self.require_consent.unwrap_or(d.require_consent),
            client_uri: self.client_uri,
            logo_uri: self.logo_uri,
            access_token_lifetime: self
                .access_token_lifetime
                .unwrap_or(d.access_token_lifetime),
            refresh_token_lifetime: self
                .refresh_token_lifetime
                .unwrap_or(d.refresh_token_lifetime),
            id_token_signed_response_alg: self
                .id_token_signed_response_alg
                .unwrap_or(d.id_token_signed_response_alg),
            access_token_signed_response_alg: self
                .access_token_signed_response_alg
                .unwrap_or(d.access_token_signed_response_alg),
            userinfo_signed_response_alg: self.userinfo_signed_response_alg,
            request_object_signing_alg: self.request_object_signing_alg,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            jwks: self.jwks.filter(|v| !v.is_null()),
            jwks_uri: self.jwks_uri,
            token_exchange: self.token_exchange.unwrap_or_default(),
            client_type: self.client_type,
        }
    }
}

/// The client, plus `secret` when this call made one.
fn with_secret(status: StatusCode, r: ClientWithSecret) -> Response {
    let mut v = serde_json::to_value(&r.client).unwrap_or_default();
    if let Some(s) = &r.secret {
        v["secret"] = Value::String(s.expose_secret().to_owned());
    }
    (status, axum::Json(v)).into_response()
}

/// `POST …/oauth-clients`: 201 with the client and, for a confidential client, its secret.
#[utoipa::path(
    post,
    path = paths::OAUTH_CLIENTS,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "createOauthClient",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = ClientBody,
    responses(
        (status = 201, description = "Created; a confidential client's secret is in `secret`, this once", body = crate::openapi::ClientWithSecretSchema),
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
    Json(body): Json<ClientBody>,
) -> ApiResult<Response> {
    if body.id.is_some() {
        return Err(ApiError::invalid_field(
            "id",
            "is assigned by the server; use clientId to choose one",
        ));
    }
    let client_id = body.client_id.clone();
    let r = state
        .services
        .create_client(&ctx, &org, client_id.as_deref(), body.into_input())
        .await?;
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
        (status = 200, description = "The client, never its secret", body = crate::openapi::ClientSchema),
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

/// The client id never changes (a different one in the body is refused, not ignored).
fn check_same_id(path_id: &str, body: &[(&str, &Option<String>)]) -> ApiResult<()> {
    for (field, v) in body {
        if let Some(v) = v {
            if v != path_id {
                return Err(ApiError::invalid_field(
                    field,
                    "the client id cannot be changed",
                ));
            }
        }
    }
    Ok(())
}

/// `PUT …/oauth-clients/{id}`: replace every editable setting.
#[utoipa::path(
    put,
    path = paths::OAUTH_CLIENT,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "replaceOauthClient",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    request_body = ClientBody,
    responses(
        (status = 200, description = "Replaced; `secret` is present only if the client just became confidential", body = crate::openapi::ClientWithSecretSchema),
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
    Json(body): Json<ClientBody>,
) -> ApiResult<Response> {
    check_same_id(&id, &[("id", &body.id), ("clientId", &body.client_id)])?;
    let r = state
        .services
        .replace_client(&ctx, &org, &id, body.into_input())
        .await?;
    Ok(with_secret(StatusCode::OK, r))
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
pub(crate) fn nullable<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A JSON value that was sent, `null` included (absent stays `None` through `default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Only the fields given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PatchBody {
    id: Option<String>,
    client_id: Option<String>,
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    is_confidential: Option<bool>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    allowed_cors_origins: Option<Vec<String>>,
    allowed_scopes: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    is_active: Option<bool>,
    require_pkce: Option<bool>,
    require_consent: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    client_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    logo_uri: Option<Option<String>>,
    access_token_lifetime: Option<i64>,
    refresh_token_lifetime: Option<i64>,
    id_token_signed_response_alg: Option<String>,
    access_token_signed_response_alg: Option<String>,
    /// null: plain JSON at userinfo.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    userinfo_signed_response_alg: Option<Option<String>>,
    /// null: request objects signed with any algorithm of the keys.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    request_object_signing_alg: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    token_endpoint_auth_method: Option<Option<String>>,
    /// null removes the keys.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    jwks: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    jwks_uri: Option<Option<String>>,
    #[schema(value_type = Option<crate::openapi::TokenExchangeSchema>)]
    token_exchange: Option<TokenExchangePolicy>,
    /// `public` or `confidential`; derived from `isConfidential` and, when sent, must agree
    /// with it (alone, it sets it).
    client_type: Option<String>,
    #[schema(ignore)]
    #[serde(default, rename = "secrets")]
    _secrets: IgnoredAny,
    #[schema(ignore)]
    #[serde(default, rename = "createdAt")]
    _created_at: IgnoredAny,
    #[schema(ignore)]
    #[serde(default, rename = "updatedAt")]
    _updated_at: IgnoredAny,
}

impl PatchBody {
    pub(crate) fn into_patch(self) -> ClientPatch {
        let b = self;
        ClientPatch {
            name: b.name,
            description: b.description,
            is_confidential: b.is_confidential,
            redirect_uris: b.redirect_uris,
            post_logout_redirect_uris: b.post_logout_redirect_uris,
            allowed_cors_origins: b.allowed_cors_origins,
            allowed_scopes: b.allowed_scopes,
            grant_types: b.grant_types,
            is_active: b.is_active,
            require_pkce: b.require_pkce,
            require_consent: b.require_consent,
            client_uri: b.client_uri,
            logo_uri: b.logo_uri,
            access_token_lifetime: b.access_token_lifetime,
            refresh_token_lifetime: b.refresh_token_lifetime,
            id_token_signed_response_alg: b.id_token_signed_response_alg,
            access_token_signed_response_alg: b.access_token_signed_response_alg,
            userinfo_signed_response_alg: b.userinfo_signed_response_alg,
            request_object_signing_alg: b.request_object_signing_alg,
            token_endpoint_auth_method: b.token_endpoint_auth_method,
            // JSON null (present, empty) removes them.
            jwks: b.jwks.map(|v| (!v.is_null()).then_some(v)),
            jwks_uri: b.jwks_uri,
            token_exchange: b.token_exchange,
            client_type: b.client_type,
        }
    }
}

/// `PATCH …/oauth-clients/{id}`: change only the given fields, e.g. `{"isActive": false}`.
#[utoipa::path(
    patch,
    path = paths::OAUTH_CLIENT,
    context_path = paths::ADMIN_BASE,
    tag = "oauth-clients",
    operation_id = "updateOauthClient",
    params(("org" = String, Path, description = "Organization slug"), ("client_id" = String, Path, description = "The client id")),
    request_body = PatchBody,
    responses(
        (status = 200, description = "Updated, e.g. enabled or disabled with `isActive`", body = crate::openapi::ClientWithSecretSchema),
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
    Json(b): Json<PatchBody>,
) -> ApiResult<Response> {
    check_same_id(&id, &[("id", &b.id), ("clientId", &b.client_id)])?;
    let patch = b.into_patch();
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
        (status = 200, description = "The client with its live secrets; a generated secret is in `secret`, this once", body = crate::openapi::ClientWithSecretSchema),
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
