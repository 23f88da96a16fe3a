//! What a client may ask for: the grant types Tessera knows ([`GrantType`]) and scope tokens
//! ([`Scope`]).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The grant types Tessera knows (RFC 6749 §4, RFC 8628, RFC 8693).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    Password,
    DeviceCode,
    TokenExchange,
}

impl GrantType {
    pub const ALL: &'static [GrantType] = &[
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Password,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "grantTypes",
                    format!(
                        "unknown grant type '{s}': use one of {}",
                        Self::ALL
                            .iter()
                            .map(|g| g.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// Grants a client without a secret must never have: they would let anyone who knows the
    /// client id act as the client (RFC 9700 §2.4, §4.14).
    pub fn needs_confidential_client(self) -> bool {
        matches!(
            self,
            GrantType::ClientCredentials | GrantType::Password | GrantType::TokenExchange
        )
    }
}

impl Serialize for GrantType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GrantType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GrantType::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// A scope token (RFC 6749 §3.3): one or more of `%x21 / %x23-5B / %x5D-7E` — printable
/// ASCII without space, `"` and `\`. Otherwise free: `openid`, `admin.read`,
/// `octo_api.read_only` are all scopes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = !s.is_empty()
            && s.len() <= 200
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "allowedScopes",
                format!("'{s}' is not a scope token (RFC 6749 §3.3): printable ASCII without spaces, '\"' or '\\'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
