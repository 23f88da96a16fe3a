//! API resources: the APIs an organization protects with Tessera's access tokens.
//!
//! A resource is named by an absolute URI, its `identifier`, which is what a client sends as
//! `resource` (RFC 8707 §2) and what the access tokens for it carry as `aud`. It defines its
//! own scopes, shown with their descriptions on the consent page, and may fix the lifetime and
//! signing algorithm of the tokens issued for it and which clients may ask for it.

use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::client::{
    ClientId, Scope, SigningAlg, ACCESS_TOKEN_LIFETIME, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
};
use crate::error::{Collector, FieldError, ValidationError};
use crate::{OrgId, Timestamp};

/// The most scopes one resource defines.
pub const MAX_RESOURCE_SCOPES: usize = 100;
/// The longest identifier accepted.
pub const MAX_IDENTIFIER_LEN: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ApiResourceId(pub Uuid);

impl std::fmt::Display for ApiResourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ApiResourceId {
    /// Parses the id of a path; `None` for anything that is not a UUID.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(Self)
    }
}

/// A resource indicator: an absolute URI without a fragment (RFC 8707 §2). Kept as sent, since
/// it is compared as a string with what clients send and what resource servers expect in
/// `aud`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ResourceIdentifier(String);

impl ResourceIdentifier {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let field = "identifier";
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if s.len() > MAX_IDENTIFIER_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at most {MAX_IDENTIFIER_LEN} characters"),
            ));
        }
        let url = Url::parse(s).map_err(|_| {
            FieldError::new(
                field,
                format!(
                    "'{s}' is not an absolute URI (RFC 8707 §2), e.g. https://api.example.com/"
                ),
            )
        })?;
        if url.fragment().is_some() || s.contains('#') {
            return Err(FieldError::new(
                field,
                format!("'{s}' has a fragment; a resource indicator must not (RFC 8707 §2)"),
            ));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(FieldError::new(
                field,
                format!("'{s}' contains spaces or control characters"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A scope the resource defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiResourceScope))]
#[serde(rename_all = "camelCase")]
pub struct ResourceScope {
    /// A scope token (RFC 6749 §3.3).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub name: Scope,
    /// Shown on the consent page beside the scope.
    pub description: Option<String>,
}

/// Which clients may ask for tokens for the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedClients {
    /// Every client of the organization (`"*"`).
    All,
    Only(Vec<ClientId>),
}

impl AllowedClients {
    pub fn allows(&self, client: &ClientId) -> bool {
        match self {
            AllowedClients::All => true,
            AllowedClients::Only(ids) => ids.contains(client),
        }
    }
}

impl Serialize for AllowedClients {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AllowedClients::All => s.serialize_str("*"),
            AllowedClients::Only(ids) => ids.serialize(s),
        }
    }
}

/// A resource's settings once valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResourceSettings {
    pub identifier: ResourceIdentifier,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<ResourceScope>,
    /// Seconds; `None`: the client's own lifetime.
    pub access_token_lifetime: Option<i64>,
    /// `None`: the client's own algorithm.
    pub access_token_signed_response_alg: Option<SigningAlg>,
    pub allowed_clients: AllowedClients,
}

/// A stored API resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    pub org_id: OrgId,
    pub id: ApiResourceId,
    pub settings: ApiResourceSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ApiResource {
    /// The scope named `name`, when the resource defines it.
    pub fn scope(&self, name: &str) -> Option<&ResourceScope> {
        self.settings
            .scopes
            .iter()
            .find(|s| s.name.as_str() == name)
    }
}

/// The API resource object of REST and GraphQL.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiResource))]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceObject<'a> {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: ApiResourceId,
    /// The resource indicator (RFC 8707): an absolute URI without a fragment, the `aud` of
    /// its tokens. Unique in the organization.
    pub identifier: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub scopes: &'a [ResourceScope],
    /// Seconds; null: each client's own access-token lifetime.
    pub access_token_lifetime: Option<i64>,
    /// `ES256`, `RS256` or `EdDSA`; null: each client's own algorithm.
    pub access_token_signed_response_alg: Option<&'static str>,
    /// `"*"` (every client of the organization) or a list of client ids.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub allowed_clients: &'a AllowedClients,
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl ApiResource {
    pub fn object(&self) -> ApiResourceObject<'_> {
        let s = &self.settings;
        ApiResourceObject {
            id: self.id,
            identifier: s.identifier.as_str(),
            name: &s.name,
            description: s.description.as_deref(),
            scopes: &s.scopes,
            access_token_lifetime: s.access_token_lifetime,
            access_token_signed_response_alg: s
                .access_token_signed_response_alg
                .map(SigningAlg::as_str),
            allowed_clients: &s.allowed_clients,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The settings as input again (for partial updates).
    pub fn to_input(&self) -> ApiResourceInput {
        let s = &self.settings;
        ApiResourceInput {
            identifier: s.identifier.as_str().to_owned(),
            name: s.name.clone(),
            description: s.description.clone(),
            scopes: s
                .scopes
                .iter()
                .map(|sc| ScopeInput {
                    name: sc.name.as_str().to_owned(),
                    description: sc.description.clone(),
                })
                .collect(),
            access_token_lifetime: s.access_token_lifetime,
            access_token_signed_response_alg: s
                .access_token_signed_response_alg
                .map(|a| a.as_str().to_owned()),
            allowed_clients: Some(match &s.allowed_clients {
                AllowedClients::All => AllowedClientsInput::All("*".to_owned()),
                AllowedClients::Only(ids) => {
                    AllowedClientsInput::Only(ids.iter().map(|i| i.as_str().to_owned()).collect())
                }
            }),
            id: None,
            created_at: None,
            updated_at: None,
        }
    }
}

/// A scope as a create or replace request sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiResourceScopeInput))]
#[serde(deny_unknown_fields)]
pub struct ScopeInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// `allowedClients` as sent: `"*"` or a list of client ids.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AllowedClientsInput {
    All(String),
    Only(Vec<String>),
}

/// An API resource as a create or replace request sends it. Unknown fields are refused; the
/// read-only fields of the object (`id`, `createdAt`, `updatedAt`) are accepted and ignored,
/// so that a GET answer can be sent back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ApiResourceInput {
    /// An absolute URI without a fragment (RFC 8707 §2), e.g. `https://mcp.example.com/mcp`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub identifier: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<ScopeInput>,
    pub access_token_lifetime: Option<i64>,
    pub access_token_signed_response_alg: Option<String>,
    /// `"*"` (the default: every client of the organization) or a list of client ids.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub allowed_clients: Option<AllowedClientsInput>,
    /// Read-only: accepted when it is the resource's own, so that a GET answer can be sent
    /// back.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub id: Option<serde_json::Value>,
    /// Read-only, ignored.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub created_at: Option<serde_json::Value>,
    /// Read-only, ignored.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub updated_at: Option<serde_json::Value>,
}

fn trimmed(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
}

fn check_description(c: &mut Collector, field: &str, d: Option<&str>) {
    if let Some(d) = d {
        if d.chars().count() > MAX_DESCRIPTION_CHARS {
            c.push(FieldError::new(
                field,
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        } else if let Err(e) = crate::text::check_display_text(d, field) {
            // Shown on the consent page: it must look like itself.
            c.push(e);
        }
    }
}

impl ApiResourceSettings {
    /// Applies every rule at once, reporting every bad field.
    pub fn validate(input: &ApiResourceInput) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let identifier = c.take(ResourceIdentifier::parse(input.identifier.trim()));
        let name = input.name.trim();
        if name.is_empty() {
            c.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            c.push(FieldError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        } else if let Err(e) = crate::text::check_display_text(name, "name") {
            c.push(e);
        }
        let description = trimmed(input.description.as_deref());
        check_description(&mut c, "description", description.as_deref());
        if input.scopes.len() > MAX_RESOURCE_SCOPES {
            c.push(FieldError::new(
                "scopes",
                format!("at most {MAX_RESOURCE_SCOPES} scopes"),
            ));
        }
        let mut scopes: Vec<ResourceScope> = Vec::with_capacity(input.scopes.len());
        for (i, s) in input.scopes.iter().enumerate() {
            let at = format!("scopes[{i}].name");
            match Scope::parse(s.name.trim()) {
                Ok(name) if name.as_str() == "openid" || name.as_str() == "offline_access" => {
                    c.push(FieldError::new(
                        at,
                        format!(
                            "'{}' is an OpenID Connect scope, not one of an API",
                            name.as_str()
                        ),
                    ));
                }
                Ok(name) => {
                    if let Some(j) = scopes.iter().position(|o| o.name == name) {
                        c.push(FieldError::new(
                            at,
                            format!("'{}' is listed twice (also scopes[{j}])", name.as_str()),
                        ));
                        continue;
                    }
                    let description = trimmed(s.description.as_deref());
                    check_description(
                        &mut c,
                        &format!("scopes[{i}].description"),
                        description.as_deref(),
                    );
                    scopes.push(ResourceScope { name, description });
                }
                Err(e) => c.push(e.at(at)),
            }
        }
        if let Some(l) = input.access_token_lifetime {
            if !ACCESS_TOKEN_LIFETIME.contains(&l) {
                c.push(FieldError::new(
                    "accessTokenLifetime",
                    format!(
                        "must be between {} and {} seconds",
                        ACCESS_TOKEN_LIFETIME.start(),
                        ACCESS_TOKEN_LIFETIME.end()
                    ),
                ));
            }
        }
        let alg = match input.access_token_signed_response_alg.as_deref() {
            None | Some("") => None,
            Some(a) => c.take(SigningAlg::parse_for(a, "accessTokenSignedResponseAlg")),
        };
        let allowed_clients = match &input.allowed_clients {
            None => AllowedClients::All,
            Some(AllowedClientsInput::All(s)) if s == "*" => AllowedClients::All,
            Some(AllowedClientsInput::All(s)) => {
                c.push(FieldError::new(
                    "allowedClients",
                    format!("'{s}': give \"*\" for every client, or a list of client ids"),
                ));
                AllowedClients::All
            }
            Some(AllowedClientsInput::Only(ids)) => {
                let mut out: Vec<ClientId> = Vec::with_capacity(ids.len());
                for (i, raw) in ids.iter().enumerate() {
                    let at = format!("allowedClients[{i}]");
                    match ClientId::parse(raw) {
                        Ok(id) if out.contains(&id) => {
                            c.push(FieldError::new(at, format!("'{raw}' is listed twice")));
                        }
                        Ok(id) => out.push(id),
                        Err(e) => c.push(e.at(at)),
                    }
                }
                AllowedClients::Only(out)
            }
        };
        c.finish()?;
        let identifier =
            identifier.ok_or_else(|| ValidationError::single("identifier", "is required"))?;
        Ok(Self {
            identifier,
            name: name.to_owned(),
            description,
            scopes,
            access_token_lifetime: input.access_token_lifetime,
            access_token_signed_response_alg: alg,
            allowed_clients,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input(v: serde_json::Value) -> ApiResourceInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_full_resource_is_valid() {
        let s = ApiResourceSettings::validate(&input(serde_json::json!({
            "identifier": "https://mcp.example.com/mcp",
            "name": "Example MCP server",
            "scopes": [{"name": "tools.read", "description": "List and call read-only tools"},
                       {"name": "tools.write"}],
            "accessTokenLifetime": 600,
            "accessTokenSignedResponseAlg": "RS256",
            "allowedClients": ["agent"]
        })))
        .unwrap();
        assert_eq!(s.identifier.as_str(), "https://mcp.example.com/mcp");
        assert_eq!(s.scopes.len(), 2);
        assert_eq!(s.access_token_signed_response_alg, Some(SigningAlg::RS256));
        assert!(s.allowed_clients.allows(&ClientId::parse("agent").unwrap()));
        assert!(!s.allowed_clients.allows(&ClientId::parse("other").unwrap()));
        let d = ApiResourceSettings::validate(&input(serde_json::json!({
            "identifier": "urn:example:api", "name": "Urn API"
        })))
        .unwrap();
        assert_eq!(
            d.allowed_clients,
            AllowedClients::All,
            "every client by default"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = ApiResourceSettings::validate(&input(serde_json::json!({
            "identifier": "https://api.example.com/#frag",
            "name": "",
            "scopes": [{"name": "a b"}, {"name": "read"}, {"name": "read"}, {"name": "openid"}],
            "accessTokenLifetime": 5,
            "accessTokenSignedResponseAlg": "HS256",
            "allowedClients": "all"
        })))
        .unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        for f in [
            "identifier",
            "name",
            "scopes[0].name",
            "scopes[2].name",
            "scopes[3].name",
            "accessTokenLifetime",
            "accessTokenSignedResponseAlg",
            "allowedClients",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let rel = ApiResourceSettings::validate(&input(serde_json::json!({
            "identifier": "/relative", "name": "x"
        })))
        .unwrap_err();
        assert_eq!(rel.errors[0].field, "identifier");
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            serde_json::from_value::<ApiResourceInput>(serde_json::json!({
                "identifier": "https://a.example/", "name": "A", "audience": "x"
            }))
            .is_err()
        );
    }
}
