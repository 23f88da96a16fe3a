//! The OpenAPI 3.1 document of the admin API, generated from the handlers' annotations and
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
    /// Default `["authorization_code", "refresh_token"]`; never `client_credentials` or
    /// `password`.
    pub allowed_grant_types: Vec<String>,
    /// Default `["openid", "profile", "email", "offline_access"]`; a client that asks for no
    /// scope gets these.
    pub allowed_scopes: Vec<String>,
    /// When not empty, every redirect URI must start with one of these absolute URIs.
    pub redirect_uri_prefixes: Vec<String>,
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
    pub email: Option<String>,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub is_system_admin: bool,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
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
        description = "The admin API of an organization, under /orgs/{org}/api/v1/admin and the alias /t/{org}/api/v1/admin (same handlers). Authenticate with `Authorization: Bearer sk_live_…`, or from a browser signed in to the console with its session cookie (changes also need `X-CSRF-Token`)."
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
    ),
    components(schemas(
        ErrorSchema, FieldErrorSchema, ClientSchema, ClientWithSecretSchema, SecretSchema,
        ClientType, ApiKeySchema, ApiKeyWithKeySchema, UserSchema, AuditEventSchema,
        ActorSchema, OrganizationSchema, RoleSchema, RegistrationPolicySchema,
        RegistrationTokenSchema,
    )),
    modifiers(&BearerAuth),
    security(("api_key" = []), ("console_session" = [])),
    tags(
        (name = "oauth-clients", description = "The OAuth client registry"),
        (name = "audit-log", description = "Every change, newest first"),
        (name = "api-keys", description = "Bearer keys for this API"),
        (name = "users", description = "Members of the organization"),
        (name = "system", description = "System administration"),
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
