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
use tessera_domain::client::ClientInput;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, OptionalJson, Query};
use crate::{paths, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::OAUTH_CLIENTS, get(list).post(create))
        .route(
            paths::OAUTH_CLIENT,
            get(read).put(replace).patch(patch).delete(remove),
        )
        .route(paths::OAUTH_CLIENT_SECRET, post(secret))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    q: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `GET …/oauth-clients?q=&limit=&offset=`: the page as a JSON array, the total in
/// `X-Total-Count`.
async fn list(
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
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClientBody {
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
    // Read-only fields of the client object, ignored so that a GET body can be sent back.
    #[serde(default, rename = "clientType")]
    _client_type: IgnoredAny,
    #[serde(default, rename = "secrets")]
    _secrets: IgnoredAny,
    #[serde(default, rename = "createdAt")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updatedAt")]
    _updated_at: IgnoredAny,
}

impl ClientBody {
    fn into_input(self) -> ClientInput {
        let d = ClientInput::default();
        ClientInput {
            name: self.name,
            description: self.description,
            is_confidential: self.is_confidential.unwrap_or(d.is_confidential),
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris.unwrap_or_default(),
            allowed_cors_origins: self.allowed_cors_origins.unwrap_or_default(),
            allowed_scopes: self.allowed_scopes.unwrap_or_default(),
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
async fn create(
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

async fn read(
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
async fn replace(
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
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PatchBody {
    id: Option<String>,
    client_id: Option<String>,
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
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
    client_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    logo_uri: Option<Option<String>>,
    access_token_lifetime: Option<i64>,
    refresh_token_lifetime: Option<i64>,
    #[serde(default, rename = "clientType")]
    _client_type: IgnoredAny,
    #[serde(default, rename = "secrets")]
    _secrets: IgnoredAny,
    #[serde(default, rename = "createdAt")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updatedAt")]
    _updated_at: IgnoredAny,
}

/// `PATCH …/oauth-clients/{id}`: change only the given fields, e.g. `{"isActive": false}`.
async fn patch(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(b): Json<PatchBody>,
) -> ApiResult<Response> {
    check_same_id(&id, &[("id", &b.id), ("clientId", &b.client_id)])?;
    let patch = ClientPatch {
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
    };
    let r = state.services.patch_client(&ctx, &org, &id, patch).await?;
    Ok(with_secret(StatusCode::OK, r))
}

/// `DELETE …/oauth-clients/{id}`: 204.
async fn remove(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_client(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SecretBody {
    previous_secret_valid_for: Option<i64>,
    secret: Option<SecretString>,
}

/// `POST …/oauth-clients/{id}/secret`: a new generated secret (returned once), or the
/// operator's own `secret`; `previousSecretValidFor` keeps the old ones alive that long.
async fn secret(
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
