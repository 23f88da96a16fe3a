//! The OpenAPI 3.1 document of the admin, Connections and system APIs, generated from the handlers' annotations and
//! the request types (utoipa). It is committed as `docs/api/openapi.json`; a test fails when
//! the code and the committed file drift apart (`TESSERA_UPDATE_OPENAPI=1` rewrites it), and
//! another checks the response schemas against the real serialisation.
//!
//! Response bodies are serialised by domain types that know nothing of OpenAPI; the schema
//! structs here describe them and are held to them by test.

use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// `{"error", "error_description", "details"}`, the error body of every admin endpoint.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorSchema {
    /// `invalid_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `method_not_allowed`, `server_error` or `temporarily_unavailable`.
    pub error: String,
    /// What was wrong, for a person.
    pub error_description: String,
    /// One entry per bad field; empty when no field is at fault.
    pub details: Vec<FieldErrorSchema>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorSchema {
    /// The field as the request named it, e.g. `redirectUris[1]`.
    pub field: String,
    pub message: String,
}

/// Metadata of one live secret; never its value.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ClientSecret)]
pub struct SecretSchema {
    pub id: String,
    /// The last four characters, e.g. `…x9Qa`.
    pub hint: String,
    pub created_at: String,
    /// Set while a replaced secret lives on for its grace period.
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Public,
    Confidential,
}

/// The OAuth client object.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OauthClient)]
pub struct ClientSchema {
    /// The client_id: a UUID, or the id chosen at creation. Never changes.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Derived from `isConfidential`.
    pub client_type: ClientType,
    pub is_confidential: bool,
    /// Matched exactly: `/callback` and `/callback/` are different registrations.
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// `scheme://host[:port]`, no path, no trailing slash.
    pub allowed_cors_origins: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub is_active: bool,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    /// Seconds.
    pub access_token_lifetime: i64,
    /// Seconds.
    pub refresh_token_lifetime: i64,
    /// How id_tokens are signed: `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: String,
    /// How access tokens are signed: `ES256` (default), `RS256` or `EdDSA`.
    pub access_token_signed_response_alg: String,
    /// Userinfo answers with a JWT (`application/jwt`) signed with `RS256`, `ES256` or
    /// `EdDSA`; null: plain JSON.
    pub userinfo_signed_response_alg: Option<String>,
    /// The one algorithm request objects must be signed with (`RS256`, `RS384`, `RS512`,
    /// `PS256`, `PS384`, `PS512`, `ES256`, `ES384` or `EdDSA`); null: any the keys allow.
    pub request_object_signing_alg: Option<String>,
    /// `client_secret_basic` (a confidential client's default), `client_secret_post`, or
    /// `none` (exactly the public clients).
    pub token_endpoint_auth_method: String,
    /// The client's public keys, a JWK Set (RFC 7517 §5), or null; `private_key_jwt` needs
    /// them.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its public keys (`https`), or null; never together with
    /// `jwks`.
    pub jwks_uri: Option<String>,
    pub token_exchange: TokenExchangeSchema,
    pub secrets: Vec<SecretSchema>,
    pub created_at: String,
    pub updated_at: String,
}

/// Which access tokens a client may exchange (RFC 8693). Needs the
/// `urn:ietf:params:oauth:grant-type:token-exchange` grant type.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TokenExchangePolicy)]
pub struct TokenExchangeSchema {
    /// Client ids whose access tokens this client may exchange; `*` for every client of the
    /// organization. Empty by default.
    pub subject_clients: Vec<String>,
    /// May exchange without an `actor_token` (impersonation). Default `false`; with an
    /// `actor_token` (delegation) the new token carries an `act` claim.
    pub allow_impersonation: bool,
}

/// Who may register clients (RFC 7591) and what a registered client may have.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RegistrationPolicy)]
pub struct RegistrationPolicySchema {
    /// `closed` (default: the admin API only), `open` (anyone) or `token` (holders of an
    /// initial access token).
    pub mode: String,
    /// Default `["authorization_code", "refresh_token"]`; never `client_credentials`,
    /// `password` or the token exchange grant.
    pub allowed_grant_types: Vec<String>,
    /// Default `["openid", "profile", "email", "address", "phone", "offline_access"]`; a
    /// client that asks for no scope gets these.
    pub allowed_scopes: Vec<String>,
    /// When not empty, every redirect URI must start with one of these absolute URIs.
    pub redirect_uri_prefixes: Vec<String>,
    /// Whether a registered confidential client must use PKCE (default `true`; public clients
    /// always must).
    pub require_pkce: bool,
}

/// An initial access token's metadata; `token` only in the response that made it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RegistrationToken)]
pub struct RegistrationTokenSchema {
    pub id: String,
    /// The last characters, to tell tokens apart.
    pub hint: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// `iat_` + 43 base64url characters. Shown only once.
    pub token: Option<String>,
}

/// The client object plus, in the response of the call that made it, its secret.
#[derive(Serialize, ToSchema)]
#[schema(as = OauthClientWithSecret)]
pub struct ClientWithSecretSchema {
    #[serde(flatten)]
    pub client: ClientSchema,
    /// `cs_live_` + 43 base64url characters. Shown only once.
    pub secret: Option<String>,
}

/// An API key's metadata.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ApiKey)]
pub struct ApiKeySchema {
    pub id: String,
    /// Null for a system-wide key.
    pub org_id: Option<String>,
    pub name: String,
    pub hint: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A new API key: its metadata and, this once, the key.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiKeyWithKey)]
pub struct ApiKeyWithKeySchema {
    #[serde(flatten)]
    pub api_key: ApiKeySchema,
    /// `sk_live_…`. Shown only once.
    pub key: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
pub struct UserSchema {
    pub id: String,
    pub org_id: String,
    pub username: String,
    /// The user name (OIDC Core §5.1 `preferred_username`).
    pub preferred_username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub nickname: Option<String>,
    pub profile: Option<String>,
    pub picture: Option<String>,
    pub website: Option<String>,
    pub gender: Option<String>,
    pub birthdate: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub email_verified: bool,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub address: Option<AddressSchema>,
    pub roles: Vec<String>,
    pub is_system_admin: bool,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A person's standard claims (OIDC Core §5.1, in camelCase), each optional. In a create or
/// change body, `null` or `""` clears one; unknown names are refused, named.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StandardClaims)]
pub struct StandardClaimsSchema {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub nickname: Option<String>,
    /// An http(s) URL.
    pub profile: Option<String>,
    /// An http(s) URL.
    pub picture: Option<String>,
    /// An http(s) URL.
    pub website: Option<String>,
    pub gender: Option<String>,
    /// `YYYY-MM-DD`, `0000-MM-DD` or `YYYY`.
    pub birthdate: Option<String>,
    /// A time zone name such as `Europe/Paris`.
    pub zoneinfo: Option<String>,
    /// A language tag such as `en-US`.
    pub locale: Option<String>,
    pub email_verified: bool,
    /// E.164 recommended: `+1 555 0100`.
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub address: Option<AddressSchema>,
}

/// A postal address (OIDC Core §5.1.1).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Address)]
pub struct AddressSchema {
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// A role: built in, or defined by the organization.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Role)]
pub struct RoleSchema {
    pub name: String,
    pub permissions: Vec<String>,
    pub built_in: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Actor)]
pub struct ActorSchema {
    /// `api_key`, `user`, `cli` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditEvent)]
pub struct AuditEventSchema {
    /// Increases with every event; pass the last one as `before` for the next page.
    pub id: i64,
    pub org_id: Option<String>,
    pub actor: ActorSchema,
    /// e.g. `oauth_client.created`.
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The object before the change, without secrets.
    pub before: Option<serde_json::Value>,
    /// The object after the change, without secrets.
    pub after: Option<serde_json::Value>,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Organization)]
pub struct OrganizationSchema {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A streaming platform, as paths and bodies name it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Platform)]
pub enum PlatformSchema {
    Twitch,
    Youtube,
    Kick,
    Trovo,
}

/// Whose identity a connection speaks for: the organization's channel or its custom bot.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ConnectionKind)]
pub enum ConnectionKindSchema {
    Channel,
    Bot,
}

/// The state of a platform's card; `unavailable` wins over the others.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CardState)]
pub enum CardStateSchema {
    /// Switched off system-wide.
    Unavailable,
    /// No app credentials yet.
    NotConfigured,
    /// Credentials saved, no channel connected.
    CredentialsConfigured,
    Connected,
}

/// `ok`; `retrying` (transient failures, backing off); `failed` (the platform refused:
/// reconnect); `none` (the platform gave no refresh token).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefreshStatus {
    Ok,
    Retrying,
    Failed,
    None,
}

/// How the refresh worker is doing with a connection.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RefreshHealth)]
pub struct RefreshHealthSchema {
    pub status: RefreshStatus,
    /// Null until the first refresh after a Connect or Reconnect.
    #[schema(required = true)]
    pub last_refreshed_at: Option<String>,
    /// Null when no refresh is scheduled.
    #[schema(required = true)]
    pub next_refresh_at: Option<String>,
    /// When the platform refused the refresh.
    #[schema(required = true)]
    pub failed_at: Option<String>,
    /// The last failure, transient or not.
    #[schema(required = true)]
    pub error: Option<String>,
    /// Transient failures in a row.
    pub attempts: i32,
}

/// One platform's card on the Connections page. The fields from `channelName` on are present
/// only when a channel is connected (also on an `unavailable` card that keeps one).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ConnectionCard)]
pub struct ConnectionCardSchema {
    pub platform: PlatformSchema,
    /// The display name, e.g. `YouTube`.
    pub name: String,
    pub state: CardStateSchema,
    /// The card's sentence, e.g. `Set up app credentials to connect this platform.`
    pub message: String,
    /// False when the platform is switched off system-wide.
    pub enabled: bool,
    pub credentials_configured: bool,
    /// The scopes a Connect asks for now.
    pub default_scopes: Vec<String>,
    /// The channel the tokens speak for, as the platform names it.
    #[schema(required = false)]
    pub channel_name: String,
    #[schema(required = false)]
    pub channel_id: String,
    /// The scopes granted (or asked for, when the platform did not say).
    #[schema(required = false)]
    pub scopes: Vec<String>,
    /// When first connected; a Reconnect keeps it.
    #[schema(required = false)]
    pub connected_at: String,
    /// The last Reconnect or refresh.
    #[schema(required = false)]
    pub updated_at: String,
    /// When the access token expires; null when the platform gave no expiry.
    pub token_expires_at: Option<String>,
    /// True when the platform refused the refresh: reconnect.
    #[schema(required = false)]
    pub refresh_failed: bool,
    #[schema(required = false)]
    pub refresh: RefreshHealthSchema,
}

/// A platform's app credentials as listed: a hint of the client id, never the secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppCredentials)]
pub struct AppCredentialsSchema {
    pub platform: PlatformSchema,
    pub name: String,
    pub configured: bool,
    /// The client id's last 4 characters; null when none are saved.
    #[schema(required = true)]
    pub client_id_hint: Option<String>,
    /// What to register as the redirect URI at the platform:
    /// `<public URL>/orgs/{org}/api/v1/connections/{platform}/callback`.
    pub redirect_uri: String,
    #[schema(required = true)]
    pub created_at: Option<String>,
    #[schema(required = true)]
    pub updated_at: Option<String>,
}

/// Where to send the browser to Connect.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthorizationUrl)]
pub struct AuthorizationUrlSchema {
    /// The platform's authorization URL with a single-use `state`.
    pub authorization_url: String,
}

/// A live platform access token for a consumer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FreshToken)]
pub struct FreshTokenSchema {
    pub platform: PlatformSchema,
    pub kind: ConnectionKindSchema,
    /// The platform's access token, with at least a minute to live.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Null when the platform gave no expiry.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    pub scopes: Vec<String>,
    pub channel_id: String,
    pub channel_name: String,
    /// The app's client id, which some platform APIs want beside the token (Twitch's
    /// `Client-Id`).
    pub client_id: String,
}

/// `global` (the deployment's hosted bot, no setup) or `custom`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BotMode {
    Global,
    Custom,
}

/// A platform's chat bot: the global one, or the organization's custom bot. The fields from
/// `channelName` on are present only for a custom bot.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BotConnection)]
pub struct BotConnectionSchema {
    pub platform: PlatformSchema,
    pub name: String,
    pub mode: BotMode,
    /// False when the platform is switched off system-wide.
    pub enabled: bool,
    pub credentials_configured: bool,
    /// Who posts: the global bot's name or the custom bot's account.
    pub bot_name: String,
    /// The custom bot's account id; null for the global bot.
    #[schema(required = true)]
    pub bot_id: Option<String>,
    #[schema(required = false)]
    pub channel_name: String,
    #[schema(required = false)]
    pub channel_id: String,
    #[schema(required = false)]
    pub scopes: Vec<String>,
    #[schema(required = false)]
    pub connected_at: String,
    #[schema(required = false)]
    pub updated_at: String,
    /// Null when the platform gave no expiry.
    pub token_expires_at: Option<String>,
    #[schema(required = false)]
    pub refresh_failed: bool,
    #[schema(required = false)]
    pub refresh: RefreshHealthSchema,
}

#[derive(Serialize, ToSchema)]
#[schema(as = IntegrationType)]
pub enum IntegrationTypeSchema {
    #[serde(rename = "streamerbot")]
    StreamerBot,
    #[serde(rename = "obs")]
    Obs,
}

/// An OBS Studio or Streamer.bot integration as listed: never the password.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Integration)]
pub struct IntegrationSchema {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: IntegrationTypeSchema,
    pub label: String,
    pub host: String,
    pub port: u16,
    /// Streamer.bot's WebSocket path; `/` for OBS.
    pub endpoint: String,
    /// OBS only: the instance is on another machine, reached at `host`.
    pub remote_access: bool,
    pub enabled: bool,
    /// Whether a password is saved.
    pub has_password: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What a connection test found, by `result`.
#[derive(Serialize, ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
#[schema(as = IntegrationTestOutcome)]
pub enum TestOutcomeSchema {
    /// Handshake, authentication and version request succeeded.
    Connected { version: String, message: String },
    /// The tool wants a password and the saved one is wrong, or none is saved.
    AuthFailed { message: String },
    /// The test did not finish in time (typically a firewall dropping packets).
    TimedOut { message: String },
    /// Refused, unreachable, or the host name did not resolve.
    Unreachable { message: String },
    /// Something answered, but not as obs-websocket 5 or Streamer.bot does.
    ProtocolError { message: String },
}

/// The result of testing an integration.
#[derive(Serialize, ToSchema)]
#[schema(as = IntegrationTestResult)]
pub struct IntegrationTestSchema {
    /// True for `connected` only.
    pub success: bool,
    /// The sentence to show next to the integration.
    pub message: String,
    pub outcome: TestOutcomeSchema,
}

/// A StreamElements token as listed: never the token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StreamElementsToken)]
pub struct StreamElementsTokenSchema {
    pub id: String,
    pub platform: PlatformSchema,
    #[schema(required = true)]
    pub label: Option<String>,
    /// `…` and the token's last 4 characters.
    pub hint: String,
    pub created_at: String,
}

/// Whether a platform takes PKCE.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PkceSupport {
    None,
    Supported,
    Required,
}

/// A platform's system-wide switch and effective endpoints.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Provider)]
pub struct ProviderSchema {
    pub platform: PlatformSchema,
    pub name: String,
    /// False: switched off for every organization.
    pub enabled: bool,
    pub authorize_url: String,
    pub token_url: String,
    #[schema(required = true)]
    pub revoke_url: Option<String>,
    pub api_url: String,
    #[schema(required = true)]
    pub validate_url: Option<String>,
    /// The scopes a Connect asks for.
    pub scopes: Vec<String>,
    pub pkce: PkceSupport,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_live_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "console_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::console::SESSION_COOKIE,
                "The console's session cookie (named __Host-tessera_console behind https), from a browser signed in to the console. Requests other than GET and HEAD must also send the session's CSRF token in X-CSRF-Token.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera admin API",
        version = "1",
        description = "The admin API of an organization, under /orgs/{org}/api/v1/admin and the alias /t/{org}/api/v1/admin (same handlers); its Connections API, under /orgs/{org}/api/v1 and the alias /t/{org}/api/v1; and the system API, under /api/v1/system. Authenticate with `Authorization: Bearer sk_live_…`, or from a browser signed in to the console with its session cookie (changes also need `X-CSRF-Token`). Besides the statuses listed, any endpoint may answer 503 `temporarily_unavailable` when the database is busy or unreachable, and 500 `server_error`, in the same error body."
    ),
    paths(
        crate::admin::clients::list,
        crate::admin::clients::create,
        crate::admin::clients::read,
        crate::admin::clients::replace,
        crate::admin::clients::patch,
        crate::admin::clients::remove,
        crate::admin::clients::secret,
        crate::admin::audit_log,
        crate::admin::list_api_keys,
        crate::admin::create_api_key,
        crate::admin::revoke_api_key,
        crate::admin::list_users,
        crate::admin::create_user,
        crate::admin::update_user,
        crate::admin::list_roles,
        crate::admin::create_role,
        crate::admin::registration::get_policy,
        crate::admin::registration::put_policy,
        crate::admin::registration::create_token,
        crate::admin::registration::list_tokens,
        crate::admin::registration::revoke_token,
        crate::system::list_orgs,
        crate::system::create_org,
        crate::connections::cards,
        crate::connections::list_credentials,
        crate::connections::put_credentials,
        crate::connections::delete_credentials,
        crate::connections::authorize,
        crate::connections::callback,
        crate::connections::disconnect,
        crate::connections::token,
        crate::connections::list_integrations,
        crate::connections::create_integration,
        crate::connections::update_integration,
        crate::connections::delete_integration,
        crate::connections::test_integration,
        crate::connections::list_se,
        crate::connections::add_se,
        crate::connections::delete_se,
        crate::connections::bots,
        crate::connections::authorize_bot,
        crate::connections::disconnect_bot,
        crate::connections::list_providers,
        crate::connections::patch_provider,
    ),
    components(schemas(
        ErrorSchema, FieldErrorSchema, ClientSchema, ClientWithSecretSchema, SecretSchema,
        ClientType, ApiKeySchema, ApiKeyWithKeySchema, UserSchema, StandardClaimsSchema, AddressSchema, AuditEventSchema,
        ActorSchema, OrganizationSchema, RoleSchema, RegistrationPolicySchema,
        RegistrationTokenSchema, PlatformSchema, ConnectionKindSchema, CardStateSchema,
        RefreshStatus, RefreshHealthSchema, ConnectionCardSchema, AppCredentialsSchema,
        AuthorizationUrlSchema, FreshTokenSchema, BotMode, BotConnectionSchema,
        IntegrationTypeSchema, IntegrationSchema, TestOutcomeSchema, IntegrationTestSchema,
        StreamElementsTokenSchema, PkceSupport, ProviderSchema,
    )),
    modifiers(&BearerAuth),
    security(("api_key" = []), ("console_session" = [])),
    tags(
        (name = "oauth-clients", description = "The OAuth client registry"),
        (name = "audit-log", description = "Every change, newest first"),
        (name = "api-keys", description = "Bearer keys for this API"),
        (name = "users", description = "Members of the organization"),
        (name = "connections", description = "Platform cards, app credentials, connect / callback / disconnect, and the fresh-token API (under /orgs/{org}/api/v1)"),
        (name = "bot-connections", description = "Per platform, the global chat bot or the organization's custom bot"),
        (name = "integrations", description = "OBS Studio and Streamer.bot on the organization's machines"),
        (name = "streamelements", description = "StreamElements tokens for tip ingestion, kept sealed"),
        (name = "system", description = "System administration: organizations and the platforms' system-wide switches"),
    )
)]
pub struct ApiDoc;

/// The document as committed: pretty JSON with a final newline.
pub fn document() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn committed_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api/openapi.json")
    }

    #[test]
    fn committed_document_matches_the_code() {
        let generated = document();
        let path = committed_path();
        if std::env::var("TESSERA_UPDATE_OPENAPI").as_deref() == Ok("1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/api/openapi.json is out of date: run TESSERA_UPDATE_OPENAPI=1 cargo test -p tessera-web openapi"
        );
    }

    fn keys(v: &serde_json::Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    fn schema_props(name: &str) -> BTreeSet<String> {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        keys(&doc["components"]["schemas"][name]["properties"])
    }

    fn schema(name: &str) -> serde_json::Value {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        doc["components"]["schemas"][name].clone()
    }

    fn required(name: &str) -> BTreeSet<String> {
        schema(name)["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn enum_values(name: &str) -> BTreeSet<String> {
        schema(name)["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn wire(v: impl serde::Serialize) -> String {
        serde_json::to_value(v)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A connected object has every property; one without a connection has the required ones.
    fn check_flattened(name: &str, with: serde_json::Value, without: serde_json::Value) {
        assert_eq!(keys(&with), schema_props(name), "{name} with a connection");
        assert_eq!(
            keys(&without),
            required(name),
            "{name} without a connection"
        );
    }

    /// Every property is always there (null or not), so every one is required.
    fn check_exact(name: &str, v: impl serde::Serialize) {
        let k = keys(&serde_json::to_value(v).unwrap());
        assert_eq!(k, schema_props(name), "{name}: properties");
        assert_eq!(k, required(name), "{name}: required");
    }

    #[test]
    fn connection_schemas_describe_the_real_objects() {
        use tessera_core::connections::*;
        use tessera_domain::{clock, CardState, ConnectionKind, IntegrationKind, Platform};
        let t = clock::from_millis(0);
        let view = ConnectionView {
            channel_name: "c".into(),
            channel_id: "1".into(),
            scopes: vec![],
            connected_at: t,
            updated_at: t,
            token_expires_at: None,
            refresh_failed: false,
            refresh: RefreshHealth {
                status: "ok",
                last_refreshed_at: None,
                next_refresh_at: None,
                failed_at: None,
                error: None,
                attempts: 0,
            },
        };
        check_exact("RefreshHealth", &view.refresh);
        let card = |connection| ConnectionCard {
            platform: Platform::Twitch,
            name: "Twitch",
            state: CardState::Connected,
            message: "Connected",
            enabled: true,
            credentials_configured: true,
            default_scopes: vec![],
            connection,
        };
        check_flattened(
            "ConnectionCard",
            serde_json::to_value(card(Some(view.clone()))).unwrap(),
            serde_json::to_value(card(None)).unwrap(),
        );
        let bot = |connection| BotConnectionView {
            platform: Platform::Kick,
            name: "Kick",
            mode: "global",
            enabled: true,
            credentials_configured: false,
            bot_name: "TesseraBot".into(),
            bot_id: None,
            connection,
        };
        check_flattened(
            "BotConnection",
            serde_json::to_value(bot(Some(view.clone()))).unwrap(),
            serde_json::to_value(bot(None)).unwrap(),
        );
        let cred = CredentialView {
            platform: Platform::Youtube,
            name: "YouTube",
            configured: false,
            client_id_hint: None,
            redirect_uri: "https://id.example/cb".into(),
            created_at: None,
            updated_at: None,
        };
        check_exact("AppCredentials", &cred);
        let token = FreshToken {
            platform: Platform::Twitch,
            kind: ConnectionKind::Bot,
            access_token: "a".into(),
            token_type: "bearer",
            expires_at: None,
            scopes: vec![],
            channel_id: "1".into(),
            channel_name: "c".into(),
            client_id: "id".into(),
        };
        check_exact("FreshToken", &token);
        let integration = IntegrationView {
            id: "i".into(),
            kind: IntegrationKind::Obs,
            label: "OBS Studio".into(),
            host: "127.0.0.1".into(),
            port: 4455,
            endpoint: "/".into(),
            remote_access: false,
            enabled: true,
            has_password: false,
            created_at: t,
            updated_at: t,
        };
        check_exact("Integration", &integration);
        let se = SeTokenView {
            id: "s".into(),
            platform: Platform::Trovo,
            label: None,
            hint: "…abcd".into(),
            created_at: t,
        };
        check_exact("StreamElementsToken", &se);
        let provider = ProviderView {
            platform: Platform::Twitch,
            name: "Twitch",
            enabled: true,
            authorize_url: "a".into(),
            token_url: "t".into(),
            revoke_url: None,
            api_url: "u".into(),
            validate_url: None,
            scopes: vec![],
            pkce: "none",
        };
        check_exact("Provider", &provider);

        let platforms: BTreeSet<_> = Platform::ALL.into_iter().map(wire).collect();
        assert_eq!(platforms, enum_values("Platform"));
        let states: BTreeSet<_> = [
            CardState::Unavailable,
            CardState::NotConfigured,
            CardState::CredentialsConfigured,
            CardState::Connected,
        ]
        .into_iter()
        .map(wire)
        .collect();
        assert_eq!(states, enum_values("CardState"));
        let kinds: BTreeSet<_> = [ConnectionKind::Channel, ConnectionKind::Bot]
            .into_iter()
            .map(wire)
            .collect();
        assert_eq!(kinds, enum_values("ConnectionKind"));
        let types: BTreeSet<_> = [IntegrationKind::StreamerBot, IntegrationKind::Obs]
            .into_iter()
            .map(wire)
            .collect();
        assert_eq!(types, enum_values("IntegrationType"));
    }

    /// Every route that `connections::router()` and `system_router()` serve is documented,
    /// with every method.
    #[test]
    fn every_connections_route_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        let org = [
            ("get", "/connections"),
            ("get", "/connections/credentials"),
            ("put", "/connections/credentials/{platform}"),
            ("delete", "/connections/credentials/{platform}"),
            ("delete", "/connections/{platform}"),
            ("post", "/connections/{platform}/authorize"),
            ("get", "/connections/{platform}/callback"),
            ("get", "/connections/{platform}/token"),
            ("get", "/integrations"),
            ("post", "/integrations"),
            ("patch", "/integrations/{id}"),
            ("delete", "/integrations/{id}"),
            ("post", "/integrations/{id}/test"),
            ("get", "/streamelements-tokens"),
            ("post", "/streamelements-tokens"),
            ("delete", "/streamelements-tokens/{id}"),
            ("get", "/bot-connections"),
            ("post", "/bot-connections/{platform}/authorize"),
            ("delete", "/bot-connections/{platform}"),
        ]
        .map(|(m, p)| (m, format!("{}{p}", crate::paths::ORG_API_BASE)));
        let system = [("get", "/providers"), ("patch", "/providers/{platform}")]
            .map(|(m, p)| (m, format!("{}{p}", crate::paths::SYSTEM_BASE)));
        for (method, path) in org.iter().chain(system.iter()) {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is not in the document"
            );
        }
    }

    #[test]
    fn client_schema_describes_the_real_client_object() {
        use tessera_domain::client::*;
        let c = OAuthClient {
            org_id: tessera_domain::OrgId(uuid::Uuid::nil()),
            id: ClientId::generate(),
            settings: ClientSettings::validate(&ClientInput {
                name: "x".into(),
                redirect_uris: vec!["https://a.example/cb".into()],
                ..ClientInput::default()
            })
            .unwrap(),
            secrets: vec![],
            created_at: tessera_domain::clock::from_millis(0),
            updated_at: tessera_domain::clock::from_millis(0),
        };
        assert_eq!(
            keys(&serde_json::to_value(&c).unwrap()),
            schema_props("OauthClient")
        );
    }

    #[test]
    fn other_schemas_describe_the_real_objects() {
        use tessera_domain::*;
        let key = ApiKey {
            id: ApiKeyId(uuid::Uuid::nil()),
            org_id: None,
            name: ApiKeyName::parse("k").unwrap(),
            hint: "…abcd".into(),
            roles: vec![],
            permissions: PermissionSet::EMPTY,
            created_at: clock::from_millis(0),
            last_used_at: None,
            revoked_at: None,
        };
        assert_eq!(
            keys(&serde_json::to_value(&key).unwrap()),
            schema_props("ApiKey")
        );
        let user = User {
            id: UserId(uuid::Uuid::nil()),
            org_id: OrgId(uuid::Uuid::nil()),
            username: Username::parse("u").unwrap(),
            email: None,
            name: None,
            profile: Default::default(),
            roles: vec![],
            is_system_admin: false,
            is_active: true,
            created_at: clock::from_millis(0),
            updated_at: clock::from_millis(0),
        };
        assert_eq!(
            keys(&serde_json::to_value(&user).unwrap()),
            schema_props("User")
        );
        let ev = AuditEvent {
            id: 1,
            org_id: None,
            actor: Actor {
                kind: "cli".into(),
                id: None,
                name: "cli".into(),
            },
            action: "x".into(),
            target_type: "x".into(),
            target_id: None,
            ip: None,
            request_id: None,
            before: None,
            after: None,
            created_at: clock::from_millis(0),
        };
        assert_eq!(
            keys(&serde_json::to_value(&ev).unwrap()),
            schema_props("AuditEvent")
        );
        let org = Organization {
            id: OrgId(uuid::Uuid::nil()),
            slug: OrgSlug::parse("ab").unwrap(),
            name: "A".into(),
            created_at: clock::from_millis(0),
            updated_at: clock::from_millis(0),
        };
        assert_eq!(
            keys(&serde_json::to_value(&org).unwrap()),
            schema_props("Organization")
        );
    }
}
