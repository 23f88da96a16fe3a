//! The GraphQL admin API: `POST /orgs/{org}/api/v1/admin/graphql` (and under `/t/{org}`).
//!
//! A thin face on the services the REST API calls, so the two cannot disagree: inputs are
//! turned into the very input and patch types REST parses ([`domain::ClientInput`],
//! [`ClientPatch`]), and
//! outputs are the REST JSON read back into GraphQL types, field for field. Callers
//! authenticate exactly as for REST (an API key, or the console session cookie with its CSRF
//! token); permissions are the services' own, so a
//! viewer can query and not mutate. Depth and complexity are limited, and aliases, rows and
//! weighted cost are measured before execution ([`crate::graphql_cost`]); errors carry
//! `extensions.code` (`BAD_USER_INPUT` with `field`, `UNAUTHENTICATED`, `FORBIDDEN`,
//! `NOT_FOUND`, `CONFLICT`, `INTERNAL_SERVER_ERROR`).

use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, ErrorExtensions, InputObject, MaybeUndefined, Object, Schema,
    SimpleObject,
};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tessera_core::clients::{ClientWithSecret, SecretChange};
use tessera_core::{Context as CoreContext, CoreError, ErrorKind, Services};

use crate::auth::Caller;
use crate::AppState;
use tessera_domain::client::{self as domain, ClientPatch};

/// The schema, built once.
pub type AdminSchema = Schema<Query, Mutation, EmptySubscription>;

/// Depth and complexity limits: generous for any real screen and for the introspection query
/// GraphiQL sends (about 13 levels deep), fatal to abusive nesting.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 1_000;

pub fn schema() -> AdminSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// What every resolver needs: the services, the caller, and the organization of the URL.
struct Call {
    services: Arc<Services>,
    ctx: CoreContext,
    org: String,
}

fn call<'a>(c: &'a Context<'_>) -> async_graphql::Result<&'a Call> {
    c.data::<Call>()
}

/// One service error as a GraphQL error with its code. A validation error names its first
/// field in `extensions.field` and all of them in `extensions.details`, as REST does.
fn gql_error(e: CoreError) -> async_graphql::Error {
    let code = match e.kind() {
        ErrorKind::Invalid => "BAD_USER_INPUT",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::Conflict => "CONFLICT",
        ErrorKind::Unauthenticated => "UNAUTHENTICATED",
        ErrorKind::Forbidden => "FORBIDDEN",
        ErrorKind::Unavailable => "SERVICE_UNAVAILABLE",
        ErrorKind::Internal => "INTERNAL_SERVER_ERROR",
    };
    let message = e.public_message();
    let details: Vec<Value> = match &e {
        CoreError::Validation(v) => v
            .errors
            .iter()
            .map(|f| json!({"field": f.field, "message": f.message}))
            .collect(),
        _ => vec![],
    };
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(first) = details.first() {
            ext.set("field", first["field"].as_str().unwrap_or_default());
            ext.set(
                "details",
                async_graphql::Value::from_json(Value::Array(details.clone())).unwrap_or_default(),
            );
        }
    })
}

fn bad_input(field: &str, message: String) -> async_graphql::Error {
    gql_error(CoreError::invalid(field, message))
}

/// REST's JSON read back as a GraphQL type.
fn convert<T: DeserializeOwned>(v: impl Serialize) -> async_graphql::Result<T> {
    let json = serde_json::to_value(v).map_err(|e| gql_error(CoreError::internal(e)))?;
    serde_json::from_value(json).map_err(|e| gql_error(CoreError::internal(e)))
}

/// A GraphQL input as the REST body it stands for; a rule REST's parser enforces (a bad
/// secret length, say) is reported on the same field.
fn as_body<T: DeserializeOwned>(v: Value) -> async_graphql::Result<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let field = e.path().to_string();
        bad_input(&field, e.inner().to_string())
    })
}

#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenExchangePolicy {
    subject_clients: Vec<String>,
    allow_impersonation: bool,
}

#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "OauthClientSecret")]
struct Secret {
    id: String,
    hint: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
}

/// The OAuth client object, field for field as REST shows it.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "OauthClient")]
struct Client {
    id: async_graphql::ID,
    name: String,
    description: Option<String>,
    client_type: String,
    is_confidential: bool,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    allowed_cors_origins: Vec<String>,
    allowed_scopes: Vec<String>,
    grant_types: Vec<String>,
    is_active: bool,
    require_pkce: bool,
    require_consent: bool,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    access_token_lifetime: i64,
    refresh_token_lifetime: i64,
    id_token_signed_response_alg: String,
    access_token_signed_response_alg: String,
    /// Userinfo answers with a JWT signed so; null: plain JSON.
    userinfo_signed_response_alg: Option<String>,
    /// The one algorithm request objects must be signed with; null: any the keys allow.
    request_object_signing_alg: Option<String>,
    /// `client_secret_basic`, `client_secret_post` or `none` (a public client).
    token_endpoint_auth_method: String,
    /// The client's public keys, a JWK Set; `private_key_jwt` needs them or `jwksUri`.
    jwks: Option<async_graphql::Json<Value>>,
    /// Where the client publishes its public keys.
    jwks_uri: Option<String>,
    token_exchange: TokenExchangePolicy,
    /// Authorization requests only through the PAR endpoint (RFC 9126).
    require_pushed_authorization_requests: bool,
    /// Every access token DPoP-bound (RFC 9449).
    dpop_bound_access_tokens: bool,
    /// Authorization requests only as signed request objects (RFC 9101).
    require_signed_request_object: bool,
    /// Where logout tokens are posted (Back-Channel Logout 1.0).
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: bool,
    /// `fapi2` or null.
    security_profile: Option<String>,
    secrets: Vec<Secret>,
    created_at: String,
    updated_at: String,
}

/// A client and, from the call that made it, its secret (shown this once).
#[derive(SimpleObject)]
#[graphql(name = "OauthClientWithSecret")]
struct ClientAndSecret {
    client: Client,
    secret: Option<String>,
}

impl ClientAndSecret {
    fn from(r: ClientWithSecret) -> async_graphql::Result<Self> {
        Ok(Self {
            client: convert(&r.client)?,
            secret: r.secret.as_ref().map(|s| s.expose_secret().to_owned()),
        })
    }
}

#[derive(SimpleObject)]
#[graphql(name = "OauthClientPage")]
struct ClientPage {
    items: Vec<Client>,
    /// All matches, not only this page (REST's `X-Total-Count`).
    total_count: i64,
}

/// A webhook subscription, field for field as REST shows it.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Webhook {
    id: async_graphql::ID,
    url: String,
    /// Event types delivered; empty: all of them.
    events: Vec<String>,
    is_active: bool,
    created_at: String,
    updated_at: String,
    /// `whsec_…`: only in the answer of `adminCreateWebhook`.
    #[serde(default)]
    secret: Option<String>,
}

/// One delivery of one event to one subscription.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookDelivery {
    id: async_graphql::ID,
    /// The `webhook-id` header, the same on every attempt.
    event_id: String,
    event_type: String,
    /// `pending`, `succeeded` or `failed`.
    status: String,
    attempts: i32,
    response_status: Option<i32>,
    duration_ms: Option<i64>,
    error: Option<String>,
    last_attempt_at: Option<String>,
    next_attempt_at: Option<String>,
    created_at: String,
}

/// A webhook subscription as `adminCreateWebhook` and `adminUpdateWebhook` send it.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookInput {
    url: Option<String>,
    events: Option<Vec<String>>,
    is_active: Option<bool>,
}

/// A scope an API resource defines.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiResourceScope {
    name: String,
    description: Option<String>,
}

/// The API resource object, field for field as REST shows it.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiResource {
    id: async_graphql::ID,
    /// The resource indicator (RFC 8707), the `aud` of its tokens.
    identifier: String,
    name: String,
    description: Option<String>,
    scopes: Vec<ApiResourceScope>,
    /// Seconds; null: each client's own.
    access_token_lifetime: Option<i64>,
    /// Null: each client's own.
    access_token_signed_response_alg: Option<String>,
    /// `"*"` (every client) or a list of client ids.
    allowed_clients: async_graphql::Json<Value>,
    created_at: String,
    updated_at: String,
}

#[derive(SimpleObject)]
struct ApiResourcePage {
    items: Vec<ApiResource>,
    /// All matches, not only this page (REST's `X-Total-Count`).
    total_count: i64,
}

/// A scope of an API resource, as create and update send it.
#[derive(InputObject, Serialize)]
struct ApiResourceScopeInput {
    name: String,
    description: Option<String>,
}

/// An API resource as `adminCreateApiResource` sends it (REST's body).
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiResourceInput {
    identifier: String,
    name: String,
    description: Option<String>,
    #[graphql(default)]
    scopes: Vec<ApiResourceScopeInput>,
    access_token_lifetime: Option<i64>,
    access_token_signed_response_alg: Option<String>,
    /// `"*"` (the default) or a list of client ids.
    allowed_clients: Option<async_graphql::Json<Value>>,
}

/// The fields of an API resource to change (REST's PATCH body); `null` clears an optional one.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiResourceUpdateInput {
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    identifier: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    name: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    description: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    scopes: MaybeUndefined<Vec<ApiResourceScopeInput>>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    access_token_lifetime: MaybeUndefined<i64>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    access_token_signed_response_alg: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    allowed_clients: MaybeUndefined<async_graphql::Json<Value>>,
}

#[derive(SimpleObject, Deserialize)]
struct Actor {
    #[serde(rename = "type")]
    #[graphql(name = "type")]
    kind: String,
    id: Option<String>,
    name: String,
}

#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditEvent {
    id: i64,
    actor: Actor,
    action: String,
    target_type: String,
    target_id: Option<String>,
    ip: Option<String>,
    request_id: Option<String>,
    /// The object before the change, without secrets.
    before: Option<async_graphql::Json<Value>>,
    /// The object after the change, without secrets.
    after: Option<async_graphql::Json<Value>>,
    created_at: String,
}

#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKey {
    id: String,
    name: String,
    hint: String,
    roles: Vec<String>,
    permissions: Vec<String>,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

/// A consent a member gave a client.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserConsent {
    client_id: String,
    /// Null when the client is gone.
    client_name: Option<String>,
    scopes: Vec<String>,
    granted_at: String,
    /// The member's last sign-in to the client under the consent; null: none since.
    last_used_at: Option<String>,
}

/// A member's two-step verification.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecondFactor {
    enabled: bool,
    recovery_codes_left: u32,
}

/// An organization's sign-in rules.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecurityPolicy {
    /// Members with `admin:access` must have two-step verification to enter the console.
    require_second_factor_for_admins: bool,
}

#[derive(InputObject)]
struct SecurityPolicyInput {
    #[graphql(default)]
    require_second_factor_for_admins: bool,
}

/// A member's live sign-in session; `id` is its `sid`.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserSession {
    id: String,
    auth_time: String,
    created_at: String,
    expires_at: String,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "TokenExchangePolicyInput")]
struct TokenExchangeInput {
    #[graphql(default)]
    subject_clients: Vec<String>,
    #[graphql(default)]
    allow_impersonation: bool,
}

/// A new client: REST's create body. Omitted fields take the same defaults.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "OauthClientInput")]
struct ClientInput {
    /// The id to register instead of a generated UUID.
    client_id: Option<String>,
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
    id_token_signed_response_alg: Option<String>,
    access_token_signed_response_alg: Option<String>,
    userinfo_signed_response_alg: Option<String>,
    request_object_signing_alg: Option<String>,
    token_endpoint_auth_method: Option<String>,
    jwks: Option<async_graphql::Json<Value>>,
    jwks_uri: Option<String>,
    token_exchange: Option<TokenExchangeInput>,
    require_pushed_authorization_requests: Option<bool>,
    dpop_bound_access_tokens: Option<bool>,
    require_signed_request_object: Option<bool>,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: Option<bool>,
    security_profile: Option<String>,
    /// The operator's own secret instead of a generated one (not returned).
    secret: Option<String>,
}

/// A change: REST's PATCH body. Only the fields given change; `null` clears a nullable one.
#[derive(InputObject)]
#[graphql(name = "OauthClientUpdateInput")]
struct UpdateInput {
    name: Option<String>,
    description: MaybeUndefined<String>,
    is_confidential: Option<bool>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    allowed_cors_origins: Option<Vec<String>>,
    allowed_scopes: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    /// `false` disables the client, `true` enables it.
    is_active: Option<bool>,
    require_pkce: Option<bool>,
    require_consent: Option<bool>,
    client_uri: MaybeUndefined<String>,
    logo_uri: MaybeUndefined<String>,
    access_token_lifetime: Option<i64>,
    refresh_token_lifetime: Option<i64>,
    id_token_signed_response_alg: Option<String>,
    access_token_signed_response_alg: Option<String>,
    /// `null`: plain JSON at userinfo.
    userinfo_signed_response_alg: MaybeUndefined<String>,
    /// `null`: request objects signed with any algorithm of the keys.
    request_object_signing_alg: MaybeUndefined<String>,
    /// `null`: the default of the client's type.
    token_endpoint_auth_method: MaybeUndefined<String>,
    /// `null` removes the keys.
    jwks: MaybeUndefined<async_graphql::Json<Value>>,
    jwks_uri: MaybeUndefined<String>,
    token_exchange: Option<TokenExchangeInput>,
    require_pushed_authorization_requests: Option<bool>,
    dpop_bound_access_tokens: Option<bool>,
    require_signed_request_object: Option<bool>,
    /// `null`: no back-channel logout.
    backchannel_logout_uri: MaybeUndefined<String>,
    backchannel_logout_session_required: Option<bool>,
    /// `null`: no security profile.
    security_profile: MaybeUndefined<String>,
}

impl UpdateInput {
    /// The same change as REST's PATCH body: the given fields only; `null` clears a nullable
    /// one.
    fn into_patch(self) -> ClientPatch {
        fn given<T>(m: MaybeUndefined<T>) -> Option<Option<T>> {
            match m {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v)),
            }
        }
        ClientPatch {
            name: self.name,
            description: given(self.description),
            is_confidential: self.is_confidential,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            allowed_cors_origins: self.allowed_cors_origins,
            allowed_scopes: self.allowed_scopes,
            grant_types: self.grant_types,
            is_active: self.is_active,
            require_pkce: self.require_pkce,
            require_consent: self.require_consent,
            client_uri: given(self.client_uri),
            logo_uri: given(self.logo_uri),
            access_token_lifetime: self.access_token_lifetime,
            refresh_token_lifetime: self.refresh_token_lifetime,
            id_token_signed_response_alg: self.id_token_signed_response_alg,
            access_token_signed_response_alg: self.access_token_signed_response_alg,
            userinfo_signed_response_alg: given(self.userinfo_signed_response_alg),
            request_object_signing_alg: given(self.request_object_signing_alg),
            token_endpoint_auth_method: given(self.token_endpoint_auth_method),
            jwks: given(self.jwks).map(|j| j.map(|v| v.0)),
            jwks_uri: given(self.jwks_uri),
            token_exchange: self.token_exchange.map(|t| domain::TokenExchangePolicy {
                subject_clients: t.subject_clients,
                allow_impersonation: t.allow_impersonation,
            }),
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            require_signed_request_object: self.require_signed_request_object,
            backchannel_logout_uri: given(self.backchannel_logout_uri),
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            security_profile: given(self.security_profile),
            ..ClientPatch::default()
        }
    }
}

pub struct Query;

#[Object]
impl Query {
    /// The organization's clients, newest first unless `sort` says otherwise (`name`,
    /// `createdAt`, `updatedAt`, `lastUsedAt`, `-` in front for descending); `q` matches the
    /// client id or name; `isActive`, `clientType` (`public`, `confidential`) and `grantType`
    /// narrow the list.
    #[allow(clippy::too_many_arguments)]
    async fn admin_oauth_clients(
        &self,
        c: &Context<'_>,
        q: Option<String>,
        #[graphql(default = 50)] limit: u32,
        #[graphql(default = 0)] offset: u32,
        sort: Option<String>,
        is_active: Option<bool>,
        client_type: Option<String>,
        grant_type: Option<String>,
    ) -> async_graphql::Result<ClientPage> {
        let call = call(c)?;
        let active = is_active.map(|b| b.to_string());
        let options = tessera_domain::client::ClientListOptions::parse(
            sort.as_deref(),
            active.as_deref(),
            client_type.as_deref(),
            grant_type.as_deref(),
        )
        .map_err(|e| gql_error(e.into()))?;
        let (items, total) = call
            .services
            .list_clients(&call.ctx, &call.org, q, limit, offset, options)
            .await
            .map_err(gql_error)?;
        Ok(ClientPage {
            items: items.iter().map(convert).collect::<Result<_, _>>()?,
            total_count: total.max(0),
        })
    }

    /// One client; never its secret.
    async fn admin_oauth_client(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<Client> {
        let call = call(c)?;
        let client = call
            .services
            .get_client(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        convert(&client)
    }

    /// The organization's webhook subscriptions, oldest first.
    async fn admin_webhooks(&self, c: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
        let call = call(c)?;
        let hooks = call
            .services
            .list_webhooks(&call.ctx, &call.org)
            .await
            .map_err(gql_error)?;
        hooks.iter().map(|w| convert(w.object())).collect()
    }

    /// One webhook subscription.
    async fn admin_webhook(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<Webhook> {
        let call = call(c)?;
        let w = call
            .services
            .get_webhook(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        convert(w.object())
    }

    /// A subscription's delivery log, newest first.
    async fn admin_webhook_deliveries(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
        #[graphql(default = 50)] limit: u32,
        #[graphql(default = 0)] offset: u32,
    ) -> async_graphql::Result<Vec<WebhookDelivery>> {
        let call = call(c)?;
        let items = call
            .services
            .list_webhook_deliveries(&call.ctx, &call.org, &id, limit, offset)
            .await
            .map_err(gql_error)?;
        items.iter().map(|d| convert(d.object())).collect()
    }

    /// The organization's API resources, newest first; `q` matches the identifier or name.
    async fn admin_api_resources(
        &self,
        c: &Context<'_>,
        q: Option<String>,
        #[graphql(default = 50)] limit: u32,
        #[graphql(default = 0)] offset: u32,
    ) -> async_graphql::Result<ApiResourcePage> {
        let call = call(c)?;
        let (items, total) = call
            .services
            .list_api_resources(&call.ctx, &call.org, q, limit, offset)
            .await
            .map_err(gql_error)?;
        Ok(ApiResourcePage {
            items: items
                .iter()
                .map(|r| convert(r.object()))
                .collect::<Result<_, _>>()?,
            total_count: total.max(0),
        })
    }

    /// One API resource.
    async fn admin_api_resource(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<ApiResource> {
        let call = call(c)?;
        let r = call
            .services
            .get_api_resource(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        convert(r.object())
    }

    /// The audit log, newest first (`before`: only older events; `action`: only this one;
    /// `actor`: only this actor's name; `from`, `to`: RFC 3339 times, inclusive).
    #[allow(clippy::too_many_arguments)]
    async fn admin_audit_log(
        &self,
        c: &Context<'_>,
        #[graphql(default = 50)] limit: u32,
        before: Option<i64>,
        action: Option<String>,
        actor: Option<String>,
        from: Option<String>,
        to: Option<String>,
    ) -> async_graphql::Result<Vec<AuditEvent>> {
        let call = call(c)?;
        let (from, to) = crate::admin::time_range(from.as_deref(), to.as_deref())
            .map_err(|e| gql_error(e.into()))?;
        let events = call
            .services
            .list_audit(
                &call.ctx,
                &call.org,
                tessera_core::AuditQuery {
                    limit,
                    before,
                    action,
                    actor,
                    from,
                    to,
                },
            )
            .await
            .map_err(gql_error)?;
        events.iter().map(convert).collect()
    }

    /// The clients a member consented to (REST's `GET …/users/{id}/consents`).
    async fn admin_user_consents(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<Vec<UserConsent>> {
        let call = call(c)?;
        let v = call
            .services
            .user_consents(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        v.iter().map(convert).collect()
    }

    /// A member's live sign-in sessions (REST's `GET …/users/{id}/sessions`).
    async fn admin_user_sessions(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<Vec<UserSession>> {
        let call = call(c)?;
        let v = call
            .services
            .user_sessions(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        v.iter().map(convert).collect()
    }

    /// Whether a member has two-step verification (REST's `GET …/users/{id}/second-factor`).
    async fn admin_user_second_factor(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<SecondFactor> {
        let call = call(c)?;
        let v = call
            .services
            .user_second_factor(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        convert(v)
    }

    /// The organization's sign-in rules (REST's `GET …/security-policy`).
    async fn admin_security_policy(
        &self,
        c: &Context<'_>,
    ) -> async_graphql::Result<SecurityPolicy> {
        let call = call(c)?;
        let v = call
            .services
            .get_security_policy(&call.ctx, &call.org)
            .await
            .map_err(gql_error)?;
        convert(v)
    }

    /// The organization's API keys; never the keys themselves.
    async fn admin_api_keys(&self, c: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        let call = call(c)?;
        let keys = call
            .services
            .list_api_keys(&call.ctx, &call.org)
            .await
            .map_err(gql_error)?;
        keys.iter().map(convert).collect()
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates a client; a confidential client's secret is in `secret`, this once.
    async fn admin_create_oauth_client(
        &self,
        c: &Context<'_>,
        input: ClientInput,
    ) -> async_graphql::Result<ClientAndSecret> {
        let call = call(c)?;
        let input: domain::ClientInput = as_body(json!(input))?;
        let r = call
            .services
            .create_client(&call.ctx, &call.org, input)
            .await
            .map_err(gql_error)?;
        ClientAndSecret::from(r)
    }

    /// Changes the given fields (`isActive` enables or disables). A client made confidential
    /// here gets its secret from `adminRegenerateOauthClientSecret`.
    async fn admin_update_oauth_client(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
        input: UpdateInput,
    ) -> async_graphql::Result<Client> {
        let call = call(c)?;
        let r = call
            .services
            .patch_client(&call.ctx, &call.org, &id, input.into_patch())
            .await
            .map_err(gql_error)?;
        convert(&r.client)
    }

    /// Subscribes a URL to the organization's events; `secret` is in this answer only.
    async fn admin_create_webhook(
        &self,
        c: &Context<'_>,
        input: WebhookInput,
    ) -> async_graphql::Result<Webhook> {
        use secrecy::ExposeSecret as _;
        let call = call(c)?;
        let input: tessera_domain::webhook::WebhookInput = as_body(json!(input))?;
        let made = call
            .services
            .create_webhook(&call.ctx, &call.org, input)
            .await
            .map_err(gql_error)?;
        let mut w: Webhook = convert(made.webhook.object())?;
        w.secret = Some(made.secret.expose_secret().to_owned());
        Ok(w)
    }

    /// Changes the given fields of a subscription (REST's PATCH).
    async fn admin_update_webhook(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
        input: WebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let call = call(c)?;
        let input: tessera_domain::webhook::WebhookInput = as_body(json!(input))?;
        let w = call
            .services
            .update_webhook(&call.ctx, &call.org, &id, input)
            .await
            .map_err(gql_error)?;
        convert(w.object())
    }

    /// Deletes a subscription and its delivery log.
    async fn admin_delete_webhook(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<bool> {
        let call = call(c)?;
        call.services
            .delete_webhook(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        Ok(true)
    }

    /// Sends a delivery again now, with the same `webhook-id`.
    async fn admin_redeliver_webhook_delivery(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
        delivery_id: async_graphql::ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        let call = call(c)?;
        let d = call
            .services
            .redeliver_webhook_delivery(&call.ctx, &call.org, &id, &delivery_id)
            .await
            .map_err(gql_error)?;
        convert(d.object())
    }

    /// Creates an API resource.
    async fn admin_create_api_resource(
        &self,
        c: &Context<'_>,
        input: ApiResourceInput,
    ) -> async_graphql::Result<ApiResource> {
        let call = call(c)?;
        let input: tessera_domain::api_resource::ApiResourceInput = as_body(json!(input))?;
        let r = call
            .services
            .create_api_resource(&call.ctx, &call.org, input)
            .await
            .map_err(gql_error)?;
        convert(r.object())
    }

    /// Changes the given fields of an API resource (REST's PATCH).
    async fn admin_update_api_resource(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
        input: ApiResourceUpdateInput,
    ) -> async_graphql::Result<ApiResource> {
        let call = call(c)?;
        let Value::Object(patch) = json!(input) else {
            return Err(bad_input("input", "must be an object".into()));
        };
        let r = call
            .services
            .patch_api_resource(&call.ctx, &call.org, &id, patch)
            .await
            .map_err(gql_error)?;
        convert(r.object())
    }

    /// Deletes an API resource.
    async fn admin_delete_api_resource(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<bool> {
        let call = call(c)?;
        call.services
            .delete_api_resource(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        Ok(true)
    }

    /// Deletes a client; every token it holds stops working at once.
    async fn admin_delete_oauth_client(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<bool> {
        let call = call(c)?;
        call.services
            .delete_client(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        Ok(true)
    }

    /// A new generated secret (in `secret`, this once), or the operator's own `secret`;
    /// `previousSecretValidFor` keeps the old ones alive that many seconds.
    async fn admin_regenerate_oauth_client_secret(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
        previous_secret_valid_for: Option<i64>,
        secret: Option<String>,
    ) -> async_graphql::Result<ClientAndSecret> {
        let call = call(c)?;
        let r = call
            .services
            .change_client_secret(
                &call.ctx,
                &call.org,
                &id,
                SecretChange {
                    previous_secret_valid_for,
                    secret: secret.map(SecretString::from),
                },
            )
            .await
            .map_err(gql_error)?;
        ClientAndSecret::from(r)
    }

    /// Withdraws a member's consent to a client and revokes the client's refresh tokens from
    /// them (REST's `DELETE …/users/{id}/consents/{client_id}`).
    async fn admin_withdraw_user_consent(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
        client_id: String,
    ) -> async_graphql::Result<bool> {
        let call = call(c)?;
        call.services
            .withdraw_consent(&call.ctx, &call.org, &id, &client_id)
            .await
            .map_err(gql_error)?;
        Ok(true)
    }

    /// Ends every live sign-in session of a member (REST's `DELETE …/users/{id}/sessions`).
    async fn admin_end_user_sessions(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<bool> {
        let call = call(c)?;
        call.services
            .end_user_sessions(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        Ok(true)
    }

    /// Replaces the organization's sign-in rules (REST's `PUT …/security-policy`).
    async fn admin_update_security_policy(
        &self,
        c: &Context<'_>,
        input: SecurityPolicyInput,
    ) -> async_graphql::Result<SecurityPolicy> {
        let call = call(c)?;
        let v = call
            .services
            .set_security_policy(
                &call.ctx,
                &call.org,
                tessera_core::mfa::SecurityPolicy {
                    require_second_factor_for_admins: input.require_second_factor_for_admins,
                },
            )
            .await
            .map_err(gql_error)?;
        convert(v)
    }

    /// Removes a member's two-step verification and recovery codes (REST's
    /// `DELETE …/users/{id}/second-factor`).
    async fn admin_reset_user_second_factor(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<bool> {
        let call = call(c)?;
        call.services
            .reset_second_factor(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        Ok(true)
    }

    /// Revokes every token of the client (REST's `POST …/revoke-tokens`); the client stays.
    /// When, in RFC 3339.
    async fn admin_revoke_oauth_client_tokens(
        &self,
        c: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<String> {
        let call = call(c)?;
        let at = call
            .services
            .revoke_client_tokens(&call.ctx, &call.org, &id)
            .await
            .map_err(gql_error)?;
        Ok(tessera_domain::clock::rfc3339_millis::format(at))
    }
}

fn graphql_errors(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"message": message, "extensions": {"code": code}}]})),
    )
        .into_response()
}

/// `POST …/admin/graphql`: `{"query": …, "variables": …, "operationName": …}`.
pub(crate) async fn post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    // Authenticated exactly like REST (a key, or the console cookie with its CSRF token);
    // nothing, introspection included, without one.
    let ctx = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(Caller(ctx)) => ctx,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            let mut res =
                graphql_errors(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &e.description);
            // As REST answers (RFC 6750 §3).
            res.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"tessera\""),
            );
            return res;
        }
        // The key could not be checked (the database is busy or down): not the caller's fault.
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => {
            return graphql_errors(e.status, "SERVICE_UNAVAILABLE", &e.description)
        }
        // A console-cookie request without its CSRF token.
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            return graphql_errors(e.status, "FORBIDDEN", &e.description)
        }
        Err(e) => return graphql_errors(e.status, "INTERNAL_SERVER_ERROR", &e.description),
    };
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return graphql_errors(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_REQUEST",
            "the body is too large",
        );
    };
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return graphql_errors(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body must be a GraphQL request in JSON: {e}"),
            )
        }
    };
    // Aliases, rows and weighted cost, measured before anything runs (and so before any
    // database work); a document that does not parse is left to execution to report.
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query) {
        let measured = crate::graphql_cost::measure(
            &doc,
            request.operation_name.as_deref(),
            &request.variables,
        );
        if let Some((limit, message)) = measured.and_then(|m| m.excess()) {
            return (
                StatusCode::OK,
                axum::Json(json!({"errors": [{"message": message,
                    "extensions": {"code": "BAD_USER_INPUT", "limit": limit}}]})),
            )
                .into_response();
        }
    }
    let request = request.data(Call {
        services: Arc::clone(&state.services),
        ctx,
        org,
    });
    let response = state.graphql.execute(request).await;
    axum::Json(response).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    fn committed_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api/schema.graphql")
    }

    /// The SDL in the repository is the schema the code serves.
    #[test]
    fn committed_sdl_matches_the_code() {
        let sdl = super::schema().sdl();
        let path = committed_path();
        if std::env::var("TESSERA_UPDATE_GRAPHQL").as_deref() == Ok("1") {
            std::fs::write(&path, &sdl).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == sdl,
            "docs/api/schema.graphql is out of date: run TESSERA_UPDATE_GRAPHQL=1 cargo test -p tessera-web graphql"
        );
    }

    /// The operation names interfaces.md fixes.
    #[test]
    fn operations_are_named_as_the_interface_says() {
        let sdl = super::schema().sdl();
        for op in [
            "adminOauthClients(",
            "adminOauthClient(",
            "adminCreateOauthClient(",
            "adminUpdateOauthClient(",
            "adminDeleteOauthClient(",
            "adminRegenerateOauthClientSecret(",
            "adminAuditLog(",
            "adminApiKeys",
            "adminApiResources(",
            "adminApiResource(",
            "adminCreateApiResource(",
            "adminUpdateApiResource(",
            "adminDeleteApiResource(",
            "adminWebhooks",
            "adminWebhook(",
            "adminWebhookDeliveries(",
            "adminCreateWebhook(",
            "adminUpdateWebhook(",
            "adminDeleteWebhook(",
            "adminRedeliverWebhookDelivery(",
        ] {
            assert!(sdl.contains(op), "{op} missing from\n{sdl}");
        }
        // interfaces.md: ids are ID!, and an update returns the client itself.
        assert!(
            sdl.contains("adminOauthClient(id: ID!): OauthClient!"),
            "{sdl}"
        );
        assert!(
            sdl.contains(
                "adminUpdateOauthClient(id: ID!, input: OauthClientUpdateInput!): OauthClient!"
            ),
            "{sdl}"
        );
        assert!(
            sdl.contains("adminDeleteOauthClient(id: ID!): Boolean!"),
            "{sdl}"
        );
        assert!(sdl.contains("totalCount: Int!"));
    }
}
