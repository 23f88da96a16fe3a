//! Every route path in one place, used by the router, templates and tests alike.

pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";
/// The admin API's OpenAPI document.
pub const OPENAPI: &str = "/api/v1/openapi.json";

/// The admin API of an organization.
pub const ADMIN_BASE: &str = "/orgs/{org}/api/v1/admin";
/// The same admin API under the short alias.
pub const ADMIN_ALIAS_BASE: &str = "/t/{org}/api/v1/admin";
/// The Connections API of an organization.
pub const ORG_API_BASE: &str = "/orgs/{org}/api/v1";
pub const ORG_API_ALIAS_BASE: &str = "/t/{org}/api/v1";
/// System-wide administration (system administrators only).
pub const SYSTEM_BASE: &str = "/api/v1/system";

// Relative to the admin bases.
pub const AUDIT_LOG: &str = "/audit-log";
pub const API_KEYS: &str = "/api-keys";
pub const API_KEY: &str = "/api-keys/{id}";
pub const USERS: &str = "/users";
pub const USER: &str = "/users/{id}";
pub const USER_CONSENTS: &str = "/users/{id}/consents";
pub const USER_CONSENT: &str = "/users/{id}/consents/{client_id}";
pub const USER_SESSIONS: &str = "/users/{id}/sessions";
pub const USER_SECOND_FACTOR: &str = "/users/{id}/second-factor";
pub const SECURITY_POLICY: &str = "/security-policy";
pub const ROLES: &str = "/roles";
pub const OAUTH_CLIENTS: &str = "/oauth-clients";
pub const API_RESOURCES: &str = "/api-resources";
pub const API_RESOURCE: &str = "/api-resources/{id}";
pub const API_RESOURCE_METADATA: &str = "/api-resources/{id}/metadata";
pub const APPLY: &str = "/apply";
pub const WEBHOOKS: &str = "/webhooks";
pub const WEBHOOK: &str = "/webhooks/{id}";
pub const WEBHOOK_DELIVERIES: &str = "/webhooks/{id}/deliveries";
pub const WEBHOOK_REDELIVER: &str = "/webhooks/{id}/deliveries/{delivery_id}/redeliver";
pub const OAUTH_CLIENT: &str = "/oauth-clients/{client_id}";
pub const OAUTH_CLIENT_SECRET: &str = "/oauth-clients/{client_id}/secret";
pub const OAUTH_CLIENT_REVOKE_TOKENS: &str = "/oauth-clients/{client_id}/revoke-tokens";
pub const GRAPHQL: &str = "/graphql";
/// The REST API explorer (Swagger UI).
pub const EXPLORER: &str = "/explorer";
pub const REGISTRATION_POLICY: &str = "/registration-policy";
pub const REGISTRATION_TOKENS: &str = "/registration-tokens";
pub const REGISTRATION_TOKEN: &str = "/registration-tokens/{id}";

// Relative to the Connections API bases.
pub const CONNECTIONS: &str = "/connections";
pub const CONNECTIONS_CREDENTIALS: &str = "/connections/credentials";
pub const CONNECTIONS_CREDENTIALS_PLATFORM: &str = "/connections/credentials/{platform}";
pub const CONNECTIONS_PLATFORM: &str = "/connections/{platform}";
pub const CONNECTIONS_PLATFORM_AUTHORIZE: &str = "/connections/{platform}/authorize";
pub const CONNECTIONS_PLATFORM_CALLBACK: &str = "/connections/{platform}/callback";
pub const CONNECTIONS_PLATFORM_TOKEN: &str = "/connections/{platform}/token";
pub const INTEGRATIONS: &str = "/integrations";
pub const INTEGRATIONS_ID: &str = "/integrations/{id}";
pub const INTEGRATIONS_ID_TEST: &str = "/integrations/{id}/test";
pub const STREAMELEMENTS_TOKENS: &str = "/streamelements-tokens";
pub const STREAMELEMENTS_TOKENS_ID: &str = "/streamelements-tokens/{id}";
pub const BOT_CONNECTIONS: &str = "/bot-connections";
pub const BOT_CONNECTIONS_PLATFORM: &str = "/bot-connections/{platform}";
pub const BOT_CONNECTIONS_PLATFORM_AUTHORIZE: &str = "/bot-connections/{platform}/authorize";

// Relative to the system base.
pub const PROVIDERS: &str = "/providers";
pub const PROVIDERS_PLATFORM: &str = "/providers/{platform}";
/// The Discord bot system administrators configure for every organization.
pub const DISCORD_BOT: &str = "/discord-bot";
pub const ORGANIZATIONS: &str = "/organizations";

// Protocol endpoints (full paths).
pub const OIDC_DISCOVERY: &str = "/orgs/{org}/.well-known/openid-configuration";
/// RFC 8414 §3: the well-known segment goes before the issuer's path.
pub const AS_METADATA: &str = "/.well-known/oauth-authorization-server/orgs/{org}";
/// The same document under the organization's own path.
pub const AS_METADATA_WELL_KNOWN_FIRST: &str = "/orgs/{org}/.well-known/oauth-authorization-server";
pub const JWKS: &str = "/orgs/{org}/api/v1/oauth/jwks";
pub const TOKEN: &str = "/orgs/{org}/api/v1/oauth/token";
pub const DEVICE_AUTHORIZATION: &str = "/orgs/{org}/api/v1/oauth/device_authorization";
pub const DEVICE: &str = "/orgs/{org}/device";
pub const REGISTER: &str = "/orgs/{org}/api/v1/connect/register";
pub const REGISTERED_CLIENT: &str = "/orgs/{org}/api/v1/connect/register/{client_id}";
pub const INTROSPECT: &str = "/orgs/{org}/api/v1/oauth/introspect";
pub const REVOKE: &str = "/orgs/{org}/api/v1/oauth/revoke";
pub const AUTHORIZE: &str = "/orgs/{org}/api/v1/oauth/authorize";
pub const USERINFO: &str = "/orgs/{org}/api/v1/oauth/userinfo";
/// Pushed authorization requests (RFC 9126).
pub const PAR: &str = "/orgs/{org}/api/v1/oauth/par";
pub const END_SESSION: &str = "/orgs/{org}/api/v1/oauth/end_session";
/// Where the login form posts.
pub const LOGIN: &str = "/orgs/{org}/login";
/// Where the second factor's form posts (after a right password).
pub const LOGIN_SECOND_FACTOR: &str = "/orgs/{org}/login/second-factor";
/// The end users' account page, and where its sign-in comes back.
pub const ACCOUNT: &str = "/orgs/{org}/account";
pub const ACCOUNT_CALLBACK: &str = "/orgs/{org}/account/callback";
/// Where the consent form posts.
pub const CONSENT: &str = "/orgs/{org}/consent";

/// A path with its `{org}` filled in.
pub fn for_org(path: &str, org: &str) -> String {
    path.replace("{org}", org)
}
