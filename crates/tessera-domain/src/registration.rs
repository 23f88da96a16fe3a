//! An organization's policy for dynamic client registration (RFC 7591): whether anyone may
//! register, only holders of an initial access token, or nobody; and what a registered client
//! may have.

use serde::{Deserialize, Serialize};

use crate::client::GrantType;
use crate::error::{Collector, FieldError, ValidationError};

/// Who may register clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Nobody: clients come from the admin API only. The default.
    #[default]
    Closed,
    /// Anyone who can reach the endpoint.
    Open,
    /// Holders of an initial access token (`Authorization: Bearer …`).
    Token,
}

fn default_grants() -> Vec<String> {
    vec![
        GrantType::AuthorizationCode.as_str().into(),
        GrantType::RefreshToken.as_str().into(),
    ]
}

fn default_scopes() -> Vec<String> {
    [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn yes() -> bool {
    true
}

/// The policy as stored and as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationPolicy {
    #[serde(default)]
    pub mode: RegistrationMode,
    /// The grant types a registered client may ask for.
    #[serde(default = "default_grants")]
    pub allowed_grant_types: Vec<String>,
    /// The scopes a registered client may ask for (and gets when it asks for none).
    #[serde(default = "default_scopes")]
    pub allowed_scopes: Vec<String>,
    /// When not empty, every redirect URI must start with one of these.
    #[serde(default)]
    pub redirect_uri_prefixes: Vec<String>,
    /// Whether a registered confidential client must use PKCE (a public one always must). `true`
    /// by default; `false` lets clients that send none, such as the OpenID conformance suite's
    /// dynamic clients, register.
    #[serde(default = "yes")]
    pub require_pkce: bool,
    /// Whether a `client_id` that is an `https` URL is accepted as a Client ID Metadata
    /// Document (draft-ietf-oauth-client-id-metadata-document): fetched, checked, and treated
    /// as a public client. Off by default.
    #[serde(default)]
    pub client_id_metadata_documents: bool,
    /// Seconds after which a registered client that got no token (since its registration or
    /// its last token) is deleted; `None`: never. At least an hour, at most a year.
    #[serde(default)]
    pub unused_client_lifetime: Option<i64>,
    /// A set of rules on top of the others for one kind of client; `mcp`: MCP clients and
    /// other agents on the user's machine — public clients only (`none`, so PKCE), and
    /// redirect URIs on a loopback address or a private-use scheme only (RFC 8252 §7).
    #[serde(default)]
    pub preset: Option<RegistrationPreset>,
    /// The organization's default for every client, registered or not: authorization
    /// requests only through the PAR endpoint (RFC 9126 §5, discovery's
    /// `require_pushed_authorization_requests`). Off by default.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
}

/// See [`RegistrationPolicy::preset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationPreset {
    Mcp,
}

/// The shortest and longest `unusedClientLifetime`.
pub const UNUSED_CLIENT_LIFETIME: std::ops::RangeInclusive<i64> = 3_600..=31_536_000;

impl Default for RegistrationPolicy {
    fn default() -> Self {
        Self {
            mode: RegistrationMode::Closed,
            allowed_grant_types: default_grants(),
            allowed_scopes: default_scopes(),
            redirect_uri_prefixes: vec![],
            require_pkce: true,
            client_id_metadata_documents: false,
            unused_client_lifetime: None,
            preset: None,
            require_pushed_authorization_requests: false,
        }
    }
}

impl RegistrationPolicy {
    /// Known grant types, scopes without spaces, absolute prefixes; each error names its field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut c = Collector::new();
        for (i, g) in self.allowed_grant_types.iter().enumerate() {
            if GrantType::parse(g).is_err() {
                c.push(FieldError::new(
                    format!("allowedGrantTypes[{i}]"),
                    format!("unknown grant type '{g}'"),
                ));
            } else if GrantType::parse(g).is_ok_and(GrantType::needs_confidential_client) {
                // Self-registered clients act for users who chose them: never on their own,
                // with the users' passwords, or exchanging others' tokens.
                c.push(FieldError::new(
                    format!("allowedGrantTypes[{i}]"),
                    format!("'{g}' cannot be given to self-registered clients"),
                ));
            }
        }
        // The same scope grammar as a client's own scopes.
        for (i, s) in self.allowed_scopes.iter().enumerate() {
            if let Err(e) = crate::client::Scope::parse(s) {
                c.push(FieldError::new(format!("allowedScopes[{i}]"), e.message));
            }
        }
        for (i, p) in self.redirect_uri_prefixes.iter().enumerate() {
            // Ending in `/`, so that `https://apps.example.com` cannot admit
            // `https://apps.example.com.evil.test`.
            if url::Url::parse(p).is_err() || !p.ends_with('/') {
                c.push(FieldError::new(
                    format!("redirectUriPrefixes[{i}]"),
                    "must be an absolute URI ending in '/', e.g. https://apps.example.com/",
                ));
            }
        }
        if let Some(l) = self.unused_client_lifetime {
            if !UNUSED_CLIENT_LIFETIME.contains(&l) {
                c.push(FieldError::new(
                    "unusedClientLifetime",
                    format!(
                        "must be between {} and {} seconds (an hour and a year), or null",
                        UNUSED_CLIENT_LIFETIME.start(),
                        UNUSED_CLIENT_LIFETIME.end()
                    ),
                ));
            }
        }
        c.finish()
    }

    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uri_prefixes.is_empty()
            || self
                .redirect_uri_prefixes
                .iter()
                .any(|p| uri.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let p: RegistrationPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, RegistrationPolicy::default());
        assert_eq!(p.mode, RegistrationMode::Closed);
        assert!(p.validate().is_ok());
        let bad = RegistrationPolicy {
            allowed_grant_types: vec![
                "magic".into(),
                "client_credentials".into(),
                "urn:ietf:params:oauth:grant-type:token-exchange".into(),
            ],
            allowed_scopes: vec!["a b".into()],
            redirect_uri_prefixes: vec!["/relative".into(), "https://apps.example.com".into()],
            ..RegistrationPolicy::default()
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "allowedGrantTypes[0]",
                "allowedGrantTypes[1]",
                "allowedGrantTypes[2]",
                "allowedScopes[0]",
                "redirectUriPrefixes[0]",
                "redirectUriPrefixes[1]"
            ]
        );
        assert!(serde_json::from_str::<RegistrationPolicy>(r#"{"mode":"sometimes"}"#).is_err());
    }

    #[test]
    fn redirect_prefixes() {
        let p = RegistrationPolicy {
            redirect_uri_prefixes: vec!["https://apps.example.com/".into()],
            ..RegistrationPolicy::default()
        };
        assert!(p.allows_redirect("https://apps.example.com/cb"));
        assert!(!p.allows_redirect("https://apps.example.com.evil.test/cb"));
        assert!(RegistrationPolicy::default().allows_redirect("https://any.example/cb"));
    }
}
