//! How a client authenticates at the token endpoint ([`TokenAuthMethod`]) and the public keys
//! it registers for `private_key_jwt` ([`ClientJwks`]).

use serde::Serialize;

use crate::error::FieldError;

/// How a client authenticates at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`):
/// a confidential client with its secret, in the Basic header or the form body, or with a JWT
/// signed by one of its keys (`private_key_jwt`, RFC 7523 §2.2, OIDC Core §9) or with its
/// secret (`client_secret_jwt`, HMAC); a public client with nothing. What the client declared, which registration echoes (RFC 7591 §3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
    None,
}

impl TokenAuthMethod {
    pub const ALL: &'static [TokenAuthMethod] = &[
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::ClientSecretJwt,
        TokenAuthMethod::PrivateKeyJwt,
        TokenAuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::ClientSecretJwt => "client_secret_jwt",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenAuthMethod::None => "none",
        }
    }

    /// Whether a client with this method is confidential (it can prove who it is).
    pub fn is_confidential(self) -> bool {
        self != TokenAuthMethod::None
    }

    /// The method of a client that declares none: `client_secret_basic` for a confidential
    /// client (RFC 7591 §2's default), `none` for a public one.
    pub fn default_for(is_confidential: bool) -> Self {
        if is_confidential {
            TokenAuthMethod::ClientSecretBasic
        } else {
            TokenAuthMethod::None
        }
    }

    /// Whether the method authenticates with a shared secret (and the client has one).
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            TokenAuthMethod::ClientSecretBasic
                | TokenAuthMethod::ClientSecretPost
                | TokenAuthMethod::ClientSecretJwt
        )
    }

    /// Whether the client sends its secret itself (Basic or the form body), rather than a
    /// JWT made with it or with a key.
    pub fn sends_secret(self) -> bool {
        matches!(
            self,
            TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost
        )
    }

    /// Whether the client authenticates with a JWT (RFC 7523 §2.2): signed by its key, or
    /// made with its secret.
    pub fn uses_assertion(self) -> bool {
        matches!(
            self,
            TokenAuthMethod::PrivateKeyJwt | TokenAuthMethod::ClientSecretJwt
        )
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "tokenEndpointAuthMethod",
                    format!(
                        "unknown method '{s}': use client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none"
                    ),
                )
            })
    }
}

impl Serialize for TokenAuthMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The largest JWK Set a client may register, serialized.
pub const MAX_JWKS_BYTES: usize = 16 * 1024;

/// A client's public keys (RFC 7591 §2 `jwks`): a JWK Set whose every key can verify the
/// client's assertions (see [`tessera_crypto::jwk`]), kept as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientJwks {
    json: serde_json::Value,
    keys: Vec<tessera_crypto::jwk::PublicJwk>,
}

impl ClientJwks {
    pub fn parse(v: &serde_json::Value) -> Result<Self, FieldError> {
        if v.to_string().len() > MAX_JWKS_BYTES {
            return Err(FieldError::new(
                "jwks",
                format!("must be at most {MAX_JWKS_BYTES} bytes"),
            ));
        }
        let keys = tessera_crypto::jwk::parse_jwks(v).map_err(|e| FieldError::new("jwks", e))?;
        Ok(Self {
            json: v.clone(),
            keys,
        })
    }

    pub fn keys(&self) -> &[tessera_crypto::jwk::PublicJwk] {
        &self.keys
    }

    pub fn as_json(&self) -> &serde_json::Value {
        &self.json
    }
}

impl Serialize for ClientJwks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(s)
    }
}
