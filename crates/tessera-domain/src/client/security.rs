//! What a client's requests must carry beyond the basics, and where it hears of logouts:
//! pushed authorization requests (RFC 9126), DPoP-bound tokens (RFC 9449), signed request
//! objects (RFC 9101), back-channel logout (OpenID Connect Back-Channel Logout 1.0), and the
//! FAPI 2.0 Security Profile that turns the first two on and holds the rest of the client to
//! its rules.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A security profile a client follows: its requests are held to the profile's rules whatever
/// the client's own switches say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecurityProfile {
    /// FAPI 2.0 Security Profile (final, §5): pushed authorization requests, PKCE S256,
    /// DPoP-bound access tokens, `private_key_jwt`, ES256, PS256 or EdDSA signatures, codes that live
    /// at most 60 seconds, `iss` in every authorization response.
    #[serde(rename = "fapi2")]
    Fapi2,
}

impl SecurityProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fapi2 => "fapi2",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "fapi2" => Ok(Self::Fapi2),
            other => Err(FieldError::new(
                "securityProfile",
                format!("unknown security profile '{other}': use fapi2, or null for none"),
            )),
        }
    }
}

/// The client's switches as stored (one JSON document, so that a new switch needs no new
/// column); [`super::ClientSettings`] answers what they mean together with the profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientSecurity {
    pub require_pushed_authorization_requests: bool,
    pub dpop_bound_access_tokens: bool,
    pub require_signed_request_object: bool,
    /// An `https` URL (`http` on loopback) without a fragment (Back-Channel Logout §2.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_profile: Option<SecurityProfile>,
}

impl ClientSecurity {
    /// Whether authorization requests must come through the PAR endpoint (RFC 9126 §6).
    pub fn requires_par(&self) -> bool {
        self.require_pushed_authorization_requests || self.is_fapi2()
    }

    /// Whether every access token of the client must be DPoP-bound (RFC 9449 §5.2).
    pub fn requires_dpop(&self) -> bool {
        self.dpop_bound_access_tokens || self.is_fapi2()
    }

    pub fn is_fapi2(&self) -> bool {
        self.security_profile == Some(SecurityProfile::Fapi2)
    }

    /// Whether what the client signs (assertions, request objects, DPoP proofs) may use
    /// `alg`: under FAPI 2.0 only PS256, ES256 or EdDSA (§5.4.1).
    pub fn allows_alg(&self, alg: super::ClientAlg) -> bool {
        use super::ClientAlg::{EdDSA, ES256, PS256};
        !self.is_fapi2() || matches!(alg, PS256 | ES256 | EdDSA)
    }
}
