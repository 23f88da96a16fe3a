//! Request objects: authorization request parameters sent as a JWT the client signed, by value
//! (`request`) or by reference (`request_uri`) (OIDC Core §6, RFC 9101 JAR).
//!
//! The object is verified with the client's own keys (its `jwks` or `jwks_uri`, as for
//! `private_key_jwt`); unsigned objects (`alg: none`) are refused, since anyone can write one
//! and it would let a parameter the client never sent (a `redirect_uri`, a `scope`) ride in on
//! its name. Its parameters supersede those of the query, and those it does not carry are
//! taken from the query (OIDC Core §6.3.3); `client_id` and `response_type` must agree with
//! the query's where both are given (§6.1). `iss`, `aud`, `exp` and `nbf` are checked when
//! present: the object is from the client, for this server, and alive; a client with a
//! `requestObjectSigningAlg` must sign with that algorithm (OIDC Registration §2).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use tessera_domain::client::OAuthClient;
use tessera_domain::Organization;

use crate::assertion::{seconds, LEEWAY};
use crate::Services;

/// The longest `request_uri` fetched (OIDC Core §6.2: "MUST NOT exceed 512 ASCII characters").
pub const MAX_REQUEST_URI_LENGTH: usize = 512;

/// The claims of a request object that are about the object itself, not authorization
/// request parameters.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

/// Why a request object was refused: the error code of OIDC Core §3.1.2.6 and a description
/// naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestObjectError {
    pub error: &'static str,
    pub description: String,
}

impl RequestObjectError {
    fn object(description: impl Into<String>) -> Self {
        Self {
            error: "invalid_request_object",
            description: description.into(),
        }
    }

    fn uri(description: impl Into<String>) -> Self {
        Self {
            error: "invalid_request_uri",
            description: description.into(),
        }
    }
}

/// The `alg` of a JWT's header, read without verifying anything.
fn header_alg(jwt: &str) -> Option<String> {
    let header = jwt.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg")?.as_str().map(str::to_owned)
}

/// A claim's value as an authorization request parameter: strings as they are, numbers
/// (`max_age`) and booleans in their JSON spelling, objects (`claims`) as JSON text.
fn as_parameter(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The request's parameters with the object's: the object's first, then the query's that the
/// object does not name (without `request` and `request_uri`).
fn merge(
    query: &[(String, String)],
    claims: &serde_json::Map<String, Value>,
) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = claims
        .iter()
        .filter(|(k, _)| !JWT_CLAIMS.contains(&k.as_str()))
        .filter_map(|(k, v)| as_parameter(v).map(|v| (k.clone(), v)))
        .collect();
    for (k, v) in query {
        if k != "request" && k != "request_uri" && !claims.contains_key(k) {
            merged.push((k.clone(), v.clone()));
        }
    }
    merged
}

impl Services {
    /// The authorization request's parameters once its request object (if any) is verified
    /// and merged in: `Ok(None)` when the request has none.
    pub(crate) async fn resolve_request_object(
        &self,
        org: &Organization,
        client: &OAuthClient,
        query: &[(String, String)],
    ) -> Result<Option<Vec<(String, String)>>, RequestObjectError> {
        let get = |k: &str| crate::params::get(query, k);
        let jwt = match (get("request"), get("request_uri")) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(RequestObjectError {
                    error: "invalid_request",
                    description: "send the request object by value (request) or by reference \
                                  (request_uri), not both"
                        .to_owned(),
                })
            }
            (Some(jwt), None) => jwt.to_owned(),
            (None, Some(uri)) => self.fetch_request_object(uri).await?,
        };
        let claims = self.verify_request_object(org, client, &jwt).await?;
        // §6.1: response_type and client_id outside the object must match those inside.
        for name in ["client_id", "response_type"] {
            if let (Some(inside), Some(outside)) = (claims.get(name), get(name)) {
                if inside.as_str() != Some(outside) {
                    return Err(RequestObjectError::object(format!(
                        "the request object's {name} differs from the request's {name}"
                    )));
                }
            }
        }
        if claims.contains_key("request") || claims.contains_key("request_uri") {
            return Err(RequestObjectError::object(
                "a request object may not contain request or request_uri (RFC 9101 §4)",
            ));
        }
        // RFC 9101 §5: a client that must sign its requests (or follows FAPI 2.0) gets only
        // what it signed; the query's other parameters could have been added by anyone.
        let security = &client.settings.security;
        if security.require_signed_request_object || security.is_fapi2() {
            let only_id: Vec<(String, String)> = query
                .iter()
                .filter(|(k, _)| k == "client_id")
                .cloned()
                .collect();
            return Ok(Some(merge(&only_id, &claims)));
        }
        Ok(Some(merge(query, &claims)))
    }

    /// Fetches the object a `request_uri` points at (fragment dropped), within the same
    /// limits and address guard as a `jwks_uri`.
    async fn fetch_request_object(&self, uri: &str) -> Result<String, RequestObjectError> {
        if uri.len() > MAX_REQUEST_URI_LENGTH {
            return Err(RequestObjectError::uri(format!(
                "request_uri is longer than {MAX_REQUEST_URI_LENGTH} characters"
            )));
        }
        if uri.starts_with("urn:") {
            return Err(RequestObjectError::uri(
                "request_uri must be an https URL where the request object can be fetched \
                 (pushed authorization requests are not supported)",
            ));
        }
        self.key_fetcher.fetch_jwt(uri).await.map_err(|e| {
            tracing::warn!(error = %e, "a request_uri could not be fetched");
            RequestObjectError::uri(format!("request_uri: {e}"))
        })
    }

    /// Verifies the object's signature and its `iss`, `aud`, `exp` and `nbf`; its claims.
    async fn verify_request_object(
        &self,
        org: &Organization,
        client: &OAuthClient,
        jwt: &str,
    ) -> Result<serde_json::Map<String, Value>, RequestObjectError> {
        let alg = header_alg(jwt)
            .ok_or_else(|| RequestObjectError::object("the request object is not a JWT"))?;
        if alg.eq_ignore_ascii_case("none") {
            return Err(RequestObjectError::object(
                "unsigned request objects (alg none) are not accepted: sign it with one of the \
                 client's keys (request_object_signing_alg_values_supported)",
            ));
        }
        let verified = self
            .verify_with_client_keys(
                client,
                jwt,
                "the request object does not verify with any of the client's keys",
            )
            .await
            .map_err(RequestObjectError::object)?;
        if !client.settings.security.allows_alg(verified.alg) {
            return Err(RequestObjectError::object(format!(
                "the request object is signed with {}; FAPI 2.0 allows PS256, ES256 or EdDSA",
                verified.alg.as_str()
            )));
        }
        if let Some(wanted) = client.settings.request_object_signing_alg {
            if verified.alg != wanted {
                return Err(RequestObjectError::object(format!(
                    "the request object is signed with {}; this client's requestObjectSigningAlg is {}",
                    verified.alg.as_str(),
                    wanted.as_str()
                )));
            }
        }
        let claims = verified.claims;
        if !claims.is_object() {
            return Err(RequestObjectError::object(
                "the request object's payload is not a JSON object",
            ));
        }
        let id = client.id.as_str();
        // FAPI 2.0 Message Signing §5.3.1: iss and aud are required, not only checked.
        if client.settings.security.is_fapi2() {
            for name in ["iss", "aud"] {
                if claims.get(name).is_none() {
                    return Err(RequestObjectError::object(format!(
                        "the request object needs {name} (FAPI 2.0)"
                    )));
                }
            }
        }
        if claims.get("iss").is_some_and(|i| i.as_str() != Some(id)) {
            return Err(RequestObjectError::object(
                "the request object's iss must be the client id",
            ));
        }
        if let Some(aud) = claims.get("aud") {
            let issuer = self.issuer(&org.slug);
            let endpoint = format!("{issuer}/api/v1/oauth/authorize");
            let ours = |a: &str| a == issuer || a == endpoint;
            let ok = match aud {
                Value::String(a) => ours(a),
                Value::Array(list) => list.iter().filter_map(Value::as_str).any(ours),
                _ => false,
            };
            if !ok {
                return Err(RequestObjectError::object(
                    "the request object's aud must be the issuer",
                ));
            }
        }
        let now = self.now().unix_timestamp();
        let fapi2 = client.settings.security.is_fapi2();
        let times = (|| {
            let (exp, nbf) = (seconds(&claims, "exp")?, seconds(&claims, "nbf")?);
            if exp.is_some_and(|exp| exp + LEEWAY <= now) {
                return Err("the request object has expired");
            }
            if nbf.is_some_and(|nbf| nbf > now + LEEWAY) {
                return Err("the request object is not valid yet (nbf)");
            }
            // FAPI 2.0 Message Signing §5.3.1: exp and nbf, at most 60 minutes apart, nbf no
            // more than 60 minutes in the past.
            if fapi2 {
                let (Some(exp), Some(nbf)) = (exp, nbf) else {
                    return Err("the request object needs exp and nbf (FAPI 2.0)");
                };
                if exp.saturating_sub(nbf) > 3600 {
                    return Err("the request object's exp is more than 60 minutes after its nbf");
                }
                if nbf < now - 3600 {
                    return Err("the request object's nbf is more than 60 minutes in the past");
                }
            }
            Ok(())
        })();
        times.map_err(RequestObjectError::object)?;
        let Value::Object(claims) = claims else {
            unreachable!("checked to be an object above")
        };
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_object_supersedes_the_query_and_the_query_fills_in() {
        let query = pairs(&[
            ("client_id", "app"),
            ("scope", "openid"),
            ("redirect_uri", "https://outside"),
            ("request", "x.y.z"),
            ("login_hint", "ada"),
        ]);
        let claims = json!({
            "iss": "app", "aud": "https://issuer", "exp": 1,
            "redirect_uri": "https://inside",
            "scope": "openid email",
            "max_age": 60,
            "claims": {"userinfo": {"email": null}},
            "nonce": null,
        });
        let merged = merge(&query, claims.as_object().unwrap());
        let get = |k: &str| merged.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("redirect_uri"), Some("https://inside"));
        assert_eq!(get("scope"), Some("openid email"));
        assert_eq!(get("max_age"), Some("60"));
        assert_eq!(get("claims"), Some(r#"{"userinfo":{"email":null}}"#));
        assert_eq!(get("login_hint"), Some("ada"));
        assert_eq!(get("client_id"), Some("app"));
        for absent in ["request", "iss", "aud", "exp", "nonce"] {
            assert_eq!(get(absent), None, "{absent}");
        }
        assert_eq!(merged.iter().filter(|(k, _)| k == "scope").count(), 1);
    }

    #[test]
    fn the_header_alg_is_read_without_verifying() {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        assert_eq!(header_alg(&format!("{h}.e30.")).as_deref(), Some("none"));
        assert_eq!(header_alg("garbage"), None);
    }
}
