//! The OpenAPI 3.1 document of the admin, Connections and system APIs, generated from the handlers' annotations and
//! the request types (utoipa). It is committed as `docs/api/openapi.json`; a test fails when
//! the code and the committed file drift apart (`TESSERA_UPDATE_OPENAPI=1` rewrites it), and
//! another checks the response schemas against the real serialisation.
//!
//! The client's schemas are derived from the very types that parse requests and serialise
//! responses; the other response bodies are serialised by domain types that know nothing of
//! OpenAPI, and the schema structs here describe them and are held to them by test.

mod admin;
mod clients;
pub mod config_schema;
mod connections;
mod error;
mod integrations;
#[cfg(test)]
mod tests;
mod users;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub use admin::{
    ActorSchema, ApiKeySchema, ApiKeyWithKeySchema, AuditEventSchema, OrganizationSchema,
};
pub use clients::{
    RegistrationPolicySchema, RegistrationTokenSchema, SecondFactorSchema, SecurityPolicySchema,
};
pub use connections::{
    AppCredentialsSchema, AuthorizationUrlSchema, BotConnectionSchema, BotMode, CardStateSchema,
    ConnectionCardSchema, ConnectionKindSchema, DiscordBotSchema, FreshTokenSchema, PkceSupport,
    PlatformSchema, ProviderSchema, RefreshHealthSchema, RefreshStatus,
};
pub use error::{ErrorSchema, FieldErrorSchema};
pub use integrations::{
    IntegrationSchema, IntegrationTestSchema, IntegrationTypeSchema, StreamElementsTokenSchema,
    TestOutcomeSchema,
};
use tessera_domain::client::{
    ClientInput, ClientObject, ClientPatch, ClientType, SecretInfo, TokenExchangePolicy,
};
pub use users::{AddressSchema, RoleSchema, StandardClaimsSchema, UserSchema};

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
        crate::admin::clients::revoke_tokens,
        crate::admin::user_consents,
        crate::admin::withdraw_consent,
        crate::admin::user_sessions,
        crate::admin::end_user_sessions,
        crate::admin::reset_second_factor,
        crate::admin::user_second_factor,
        crate::admin::get_security_policy,
        crate::admin::put_security_policy,
        crate::admin::api_resources::list,
        crate::admin::api_resources::create,
        crate::admin::api_resources::read,
        crate::admin::api_resources::replace,
        crate::admin::api_resources::patch,
        crate::admin::api_resources::remove,
        crate::admin::api_resources::metadata,
        crate::admin::webhooks::list,
        crate::admin::webhooks::create,
        crate::admin::webhooks::read,
        crate::admin::webhooks::update,
        crate::admin::webhooks::remove,
        crate::admin::webhooks::deliveries,
        crate::admin::webhooks::redeliver,
        crate::admin::webhooks::apply,
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
        crate::connections::cards::cards,
        crate::connections::credentials::list_credentials,
        crate::connections::credentials::put_credentials,
        crate::connections::credentials::delete_credentials,
        crate::connections::connect::authorize,
        crate::connections::connect::callback,
        crate::connections::connect::disconnect,
        crate::connections::token::token,
        crate::connections::integrations::list_integrations,
        crate::connections::integrations::create_integration,
        crate::connections::integrations::update_integration,
        crate::connections::integrations::delete_integration,
        crate::connections::integrations::test_integration,
        crate::connections::streamelements::list_se,
        crate::connections::streamelements::add_se,
        crate::connections::streamelements::delete_se,
        crate::connections::cards::bots,
        crate::connections::connect::authorize_bot,
        crate::connections::connect::disconnect_bot,
        crate::connections::providers::list_providers,
        crate::connections::providers::patch_provider,
        crate::connections::providers::get_discord_bot,
        crate::connections::providers::put_discord_bot,
        crate::connections::providers::delete_discord_bot,
    ),
    components(schemas(
        ErrorSchema, FieldErrorSchema, ClientObject, crate::admin::clients::WithSecret, SecretInfo,
        crate::admin::clients::TokensRevoked,
        ClientType, TokenExchangePolicy, ClientInput, ClientPatch,
        tessera_domain::api_resource::ApiResourceObject, tessera_domain::api_resource::ResourceScope,
        tessera_domain::api_resource::ApiResourceInput, tessera_domain::api_resource::ScopeInput,
        tessera_domain::webhook::WebhookObject, tessera_domain::webhook::WebhookInput,
        tessera_domain::webhook::DeliveryObject, crate::admin::webhooks::WithSecret, crate::admin::webhooks::ApplyBody, ApiKeySchema, ApiKeyWithKeySchema, UserSchema, StandardClaimsSchema, AddressSchema, AuditEventSchema,
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
        (name = "api-resources", description = "The APIs the organization protects: resource indicators (RFC 8707) and their protected-resource metadata (RFC 9728)"),
        (name = "webhooks", description = "Subscriptions to the organization's events, delivered by the Standard Webhooks rules, and their delivery log"),
        (name = "automation", description = "Configuration as code: the document `tessera apply` reads, planned and applied over REST"),
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

/// `v` with every object's keys in order.
pub(crate) fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<_> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// The document as committed: pretty JSON, every object's keys in order, a final newline.
///
/// The keys are sorted here because whether `serde_json` keeps insertion order depends on the
/// features other crates of the build turn on (a test dependency does): sorted, the document
/// is the same in every build.
pub fn document() -> String {
    let mut s = serde_json::to_value(ApiDoc::openapi())
        .map(sorted)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
