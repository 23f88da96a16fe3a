//! Tessera's ID tokens (OIDC Core §2): [`IdTokenClaims`], what the code, refresh, device and
//! password grants sign for a client that asked for `openid`, and what logout reads back from
//! an `id_token_hint`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The claims of an ID token (OIDC Core §2), with the user's claims a claims request asked
/// for in it (§5.5) beside them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    /// The client's id: one audience, so a string.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The authorized party (§2), the client again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// When the user signed in (§2; required with `max_age`, always sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The left half of the access token's hash (§3.1.3.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The login session the user signed in with (Back-Channel Logout 1.0 §2.1), which
    /// logout tokens name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The user's claims asked for by name (`email`, `address`…), never one of the above.
    #[serde(flatten)]
    pub requested: Map<String, Value>,
}

impl IdTokenClaims {
    /// Whether `name` is one of the claims this type carries itself.
    pub(crate) fn is_protocol_claim(name: &str) -> bool {
        matches!(
            name,
            "iss"
                | "sub"
                | "aud"
                | "iat"
                | "exp"
                | "azp"
                | "auth_time"
                | "nonce"
                | "at_hash"
                | "acr"
                | "amr"
                | "sid"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_claims_sit_beside_the_protocol_ones_and_round_trip() {
        let mut requested = Map::new();
        requested.insert("email".into(), Value::from("alice@example.com"));
        let c = IdTokenClaims {
            iss: "http://127.0.0.1/orgs/acme".into(),
            sub: "u1".into(),
            aud: "app".into(),
            iat: 10,
            exp: 310,
            azp: Some("app".into()),
            auth_time: Some(5),
            nonce: None,
            at_hash: Some("x".into()),
            acr: Some("1".into()),
            amr: vec!["pwd".into()],
            sid: Some("s1".into()),
            requested,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["email"], "alice@example.com");
        assert!(v.get("nonce").is_none());
        assert_eq!(serde_json::from_value::<IdTokenClaims>(v).unwrap(), c);
    }

    #[test]
    fn a_jwt_without_an_expiry_is_no_id_token() {
        // A signed userinfo response (iss, sub, aud, iat, no exp) must not pass for one.
        let userinfo = serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "iat": 1});
        assert!(serde_json::from_value::<IdTokenClaims>(userinfo).is_err());
        assert!(IdTokenClaims::is_protocol_claim("nonce"));
        assert!(!IdTokenClaims::is_protocol_claim("email"));
    }
}
