//! Client authentication by assertion: `private_key_jwt` and `client_secret_jwt` (RFC 7523
//! §2.2 and §3, OIDC Core §9). The client signs a short-lived JWT with one of the keys of its
//! `jwks`, or makes its HMAC with its secret (kept sealed for that); Tessera checks the
//! signature, who it is from and for, its lifetime, and that its `jti` was never seen before.
//! Nothing here answers the client: every failure is one reason for the audit log, and the
//! caller answers the same `invalid_client` as for a wrong secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::sync::Arc;

use serde_json::Value;
use tessera_crypto::jwk::{verify_with_keys, ClientVerified, PublicJwk};
use tessera_domain::client::{OAuthClient, TokenAuthMethod};
use tessera_store::SealedColumn;

use crate::cache::CachedClient;
use tessera_domain::Organization;

use crate::tokens::OAuthResult;
use crate::Services;

/// `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
pub(crate) const LEEWAY: i64 = 60;

/// The longest an assertion may live (`exp` at most this far ahead): its `jti` is kept that
/// long, and a long-lived assertion is a stolen credential waiting to happen.
pub const MAX_LIFETIME: i64 = 3600;

/// The endpoints that authenticate clients, under the issuer: an assertion may name any of
/// them, or the issuer itself, as its audience (RFC 7523 §3 item 3; OIDC Core §9 names the
/// token endpoint, FAPI 2.0 the issuer).
const AUDIENCE_PATHS: [&str; 5] = [
    "/api/v1/oauth/token",
    "/api/v1/oauth/introspect",
    "/api/v1/oauth/revoke",
    "/api/v1/oauth/device_authorization",
    "/api/v1/oauth/par",
];

/// The HMACs a `client_secret_jwt` assertion may be made with (RFC 7518 §3.2).
pub const HMAC_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];

/// The algorithms an assertion may be signed with, for discovery.
pub fn signing_algs() -> Vec<&'static str> {
    tessera_crypto::jwk::ClientAlg::ALL
        .iter()
        .map(|a| a.as_str())
        .collect()
}

/// The client an assertion says it is from (`sub`, which must equal `iss`), read without
/// verifying anything: it only picks the keys to verify it with.
pub fn assertion_subject(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("sub")?.as_str().map(str::to_owned)
}

pub(crate) fn seconds(claims: &Value, name: &str) -> Result<Option<i64>, &'static str> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or("a time claim (exp, nbf or iat) is not a number"),
    }
}

/// A client's keys as last fetched from its `jwks_uri`.
#[derive(Debug)]
pub struct FetchedKeys {
    keys: Vec<PublicJwk>,
    at: std::time::Instant,
}

const NO_KEY: &str = "the assertion does not verify with any of the client's keys";
/// Why a `client_secret_jwt` assertion was refused when no secret verifies it.
pub(crate) const NO_SECRET: &str = "the assertion does not verify with any of the client's secrets";

impl Services {
    /// The keys at `uri`: the cached copy, or a fresh one when `fresh` (or none is cached).
    async fn keys_at(&self, uri: &str, fresh: bool) -> Result<Arc<FetchedKeys>, &'static str> {
        if !fresh {
            if let Some(k) = self.fetched_keys.get(uri) {
                return Ok(k);
            }
        }
        let json = self.key_fetcher.fetch(uri).await.map_err(|e| {
            tracing::warn!(error = %e, "a client's jwks_uri could not be fetched");
            "the client's jwks_uri could not be fetched"
        })?;
        let keys = tessera_crypto::jwk::parse_jwks(&json).map_err(|e| {
            tracing::warn!(error = %e, "a client's jwks_uri holds no usable JWK Set");
            "the client's jwks_uri holds no usable JWK Set"
        })?;
        let fetched = Arc::new(FetchedKeys {
            keys,
            at: std::time::Instant::now(),
        });
        self.fetched_keys.insert(uri.to_owned(), fetched.clone());
        Ok(fetched)
    }

    /// Verifies a JWT the client signed (an assertion, a request object) with the client's
    /// keys: its `jwks`, or those at its `jwks_uri`, fetched again (at most once per
    /// `jwks_refetch_interval`) when the cached copy verifies nothing, since the client may
    /// have rotated its keys. `no_key` is the reason given when no key verifies it.
    pub(crate) async fn verify_with_client_keys(
        &self,
        client: &OAuthClient,
        jwt: &str,
        no_key: &'static str,
    ) -> Result<ClientVerified, &'static str> {
        let s = &client.settings;
        if let Some(jwks) = &s.jwks {
            return verify_with_keys(jwt, jwks.keys()).map_err(|_| no_key);
        }
        let Some(uri) = &s.jwks_uri else {
            return Err("the client has no keys");
        };
        let cached = self.keys_at(uri, false).await?;
        if let Ok(v) = verify_with_keys(jwt, &cached.keys) {
            return Ok(v);
        }
        if cached.at.elapsed() < self.config.jwks_refetch_interval {
            return Err(no_key);
        }
        let fresh = self.keys_at(uri, true).await?;
        verify_with_keys(jwt, &fresh.keys).map_err(|_| no_key)
    }

    /// The claims of a `client_secret_jwt` assertion whose HMAC (HS256, HS384 or HS512) one of
    /// the client's live secrets verifies.
    fn verify_with_client_secret(
        &self,
        cached: &CachedClient,
        jwt: &str,
    ) -> Result<Value, &'static str> {
        let mut parts = jwt.splitn(3, '.');
        let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("the assertion is not a JWT");
        };
        let header: Value = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("the assertion is not a JWT")?;
        let alg = match header["alg"].as_str() {
            Some(a) if a == HMAC_ALGS[0] => aws_lc_rs::hmac::HMAC_SHA256,
            Some(a) if a == HMAC_ALGS[1] => aws_lc_rs::hmac::HMAC_SHA384,
            Some(a) if a == HMAC_ALGS[2] => aws_lc_rs::hmac::HMAC_SHA512,
            _ => return Err("a client_secret_jwt assertion is signed with HS256, HS384 or HS512"),
        };
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "the assertion is not a JWT")?;
        let signed = &jwt[..h.len() + 1 + p.len()];
        let now = self.now();
        let org = cached.client.org_id.to_string();
        let verified = cached
            .secrets
            .iter()
            .filter(|x| x.expires_at.is_none_or(|e| e > now))
            .filter_map(|x| {
                let row = crate::connections::cell(&org, SealedColumn::ClientSecret, &x.id);
                self.vault.open(row, x.sealed.as_deref()?).ok()
            })
            .any(|secret| {
                let key = aws_lc_rs::hmac::Key::new(alg, &secret);
                aws_lc_rs::hmac::verify(&key, signed.as_bytes(), &sig).is_ok()
            });
        if !verified {
            return Err(NO_SECRET);
        }
        URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .filter(Value::is_object)
            .ok_or("the assertion's payload is not a JSON object")
    }

    /// Checks a client assertion for `cached`'s client (`private_key_jwt` with its keys,
    /// `client_secret_jwt` with its secret): `Ok(Err(reason))` when it does not authenticate
    /// the client, with the reason for the audit log.
    pub(crate) async fn check_assertion(
        &self,
        org: &Organization,
        cached: &CachedClient,
        assertion: &str,
    ) -> OAuthResult<Result<(), &'static str>> {
        let client = &cached.client;
        let verified =
            if client.settings.token_endpoint_auth_method == TokenAuthMethod::ClientSecretJwt {
                self.verify_with_client_secret(cached, assertion)
            } else {
                match self
                .verify_with_client_keys(client, assertion, NO_KEY)
                .await
            {
                Ok(v) if !client.settings.security.allows_alg(v.alg) => Err(
                    "the assertion's algorithm is not one FAPI 2.0 allows (PS256, ES256, EdDSA)",
                ),
                other => other.map(|v| v.claims),
            }
            };
        let claims = match verified {
            Ok(claims) => claims,
            Err(reason) => return Ok(Err(reason)),
        };
        let id = client.id.as_str();
        // §3 items 1 and 2: issued by the client, about the client.
        if claims["iss"].as_str() != Some(id) || claims["sub"].as_str() != Some(id) {
            return Ok(Err("the assertion's iss and sub must be the client id"));
        }
        // Item 3: meant for this authorization server.
        let issuer = self.issuer(&org.slug);
        if client.settings.security.is_fapi2() {
            // FAPI 2.0 §5.3.2.1 item 8: the issuer identifier as the one string value.
            if claims["aud"].as_str() != Some(issuer.as_str()) {
                return Ok(Err(
                    "the assertion's aud must be the issuer identifier, as a single string (FAPI 2.0)",
                ));
            }
        }
        let ours =
            |a: &str| a == issuer || AUDIENCE_PATHS.iter().any(|p| a == format!("{issuer}{p}"));
        let aud_ok = match &claims["aud"] {
            Value::String(a) => ours(a),
            Value::Array(list) => list.iter().filter_map(Value::as_str).any(ours),
            _ => false,
        };
        if !aud_ok {
            return Ok(Err(
                "the assertion's aud names neither the issuer nor the endpoint",
            ));
        }
        // Items 4 to 6: unexpired, already valid, not from the future, and short-lived.
        let now = self.now().unix_timestamp();
        let times = (|| {
            let exp = seconds(&claims, "exp")?.ok_or("the assertion has no exp")?;
            if exp + LEEWAY <= now {
                return Err("the assertion has expired");
            }
            if exp > now + MAX_LIFETIME {
                return Err("the assertion expires more than an hour ahead");
            }
            if seconds(&claims, "nbf")?.is_some_and(|nbf| nbf > now + LEEWAY) {
                return Err("the assertion is not valid yet (nbf)");
            }
            if seconds(&claims, "iat")?.is_some_and(|iat| iat > now + LEEWAY) {
                return Err("the assertion was issued in the future (iat)");
            }
            Ok(exp)
        })();
        let exp = match times {
            Ok(exp) => exp,
            Err(reason) => return Ok(Err(reason)),
        };
        // Item 7: a jti, used once.
        let jti = match claims["jti"].as_str() {
            Some(j) if !j.is_empty() && j.len() <= 256 => j,
            _ => return Ok(Err("the assertion has no jti of 1 to 256 characters")),
        };
        let expires_at = time::OffsetDateTime::from_unix_timestamp(exp + LEEWAY)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let fresh = {
            let mut tx = self.store.begin().await?;
            let fresh = tx.use_client_assertion(org.id, id, jti, expires_at).await?;
            tx.commit().await?;
            fresh
        };
        if !fresh {
            return Ok(Err("the assertion's jti was used before (a replay)"));
        }
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_is_read_from_the_payload() {
        let claims = URL_SAFE_NO_PAD.encode(r#"{"iss":"app","sub":"app"}"#);
        assert_eq!(
            assertion_subject(&format!("h.{claims}.s")).as_deref(),
            Some("app")
        );
        assert_eq!(assertion_subject("not a jwt"), None);
        assert_eq!(assertion_subject("a.b.c"), None);
    }
}
