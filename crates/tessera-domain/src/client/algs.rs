//! How a client's tokens are signed ([`SigningAlg`]), and the algorithm its request objects
//! must be signed with.

use serde::Serialize;

use super::ClientAlg;
use crate::error::FieldError;

/// How a client's tokens are signed: its id_tokens (OIDC Registration
/// `id_token_signed_response_alg`, RS256 by default as OIDC Core §3.1.3.7 expects) and its
/// access tokens (`accessTokenSignedResponseAlg`, ES256 by default; RFC 9068 §2.1 requires
/// that RS256 be possible). Every organization has an active key of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    RS256,
    ES256,
    PS256,
    EdDSA,
}

/// The algorithm of a client's id_tokens.
pub type IdTokenAlg = SigningAlg;

impl SigningAlg {
    pub const ALL: &'static [SigningAlg] = &[
        SigningAlg::RS256,
        SigningAlg::ES256,
        SigningAlg::PS256,
        SigningAlg::EdDSA,
    ];
    /// The default of id_tokens (OIDC Core §3.1.3.7).
    pub const ID_TOKEN_DEFAULT: SigningAlg = SigningAlg::RS256;
    /// The default of access tokens: the fastest to sign and verify of the three.
    pub const ACCESS_TOKEN_DEFAULT: SigningAlg = SigningAlg::ES256;

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::PS256 => "PS256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    /// Parses an algorithm name; an unknown one is an error on `field`.
    pub fn parse_for(s: &str, field: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    format!("unknown algorithm '{s}': use RS256, ES256, PS256 or EdDSA"),
                )
            })
    }

    /// An id_token algorithm (errors name `idTokenSignedResponseAlg`).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::parse_for(s, "idTokenSignedResponseAlg")
    }
}

/// A request object algorithm (errors name `requestObjectSigningAlg`): one a client's keys
/// can sign with; never `none`, since unsigned request objects are refused.
pub fn parse_request_object_alg(s: &str) -> Result<ClientAlg, FieldError> {
    ClientAlg::parse(s).ok_or_else(|| {
        let all: Vec<&str> = ClientAlg::ALL.iter().map(|a| a.as_str()).collect();
        FieldError::new(
            "requestObjectSigningAlg",
            if s.eq_ignore_ascii_case("none") {
                format!(
                    "unsigned request objects are not accepted: use one of {}",
                    all.join(", ")
                )
            } else {
                format!("unknown algorithm '{s}': use one of {}", all.join(", "))
            },
        )
    })
}

impl Serialize for SigningAlg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
