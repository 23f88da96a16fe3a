//! Tessera's access tokens (RFC 9068): [`AccessTokenClaims`], what every grant signs as an
//! `at+jwt` and what introspection, userinfo, revocation and token exchange read back through
//! [`Services::active_claims`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::client::OAuthClient;
use tessera_domain::clock::to_millis;
use tessera_domain::{OrgId, Organization};

use crate::tokens::{signing_alg, OAuthResult};
use crate::Services;

/// The claims of an access token (RFC 9068 §2.2, with `act` from RFC 8693 §4.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The user's id, or for a machine's token the client's id (never equal, RFC 9068 §5).
    pub sub: String,
    pub aud: Audience,
    pub client_id: String,
    /// The incarnation of the client: its creation time in milliseconds. A client deleted and
    /// created again under the same id is another incarnation, so the first one's tokens
    /// never come back to life. Absent only on tokens from before the claim existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_created_at: Option<i64>,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// Space-separated, absent when no scope was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The claims an authorization's claims request asked for at userinfo (OIDC Core §5.5),
    /// beyond those of its scopes: userinfo has no other way to know them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo_claims: Vec<String>,
    /// Who acts for the subject, in an exchanged token (RFC 8693 §4.1), nested for prior
    /// actors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Value>,
    /// The key a DPoP-bound token is bound to (RFC 9449 §6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// The user's role names in the organization, when the `roles` scope was granted
    /// (RFC 9068 §7.2.1.1 `roles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// A token's confirmation claim (RFC 7800 §3.1) as DPoP uses it: the JWK SHA-256 thumbprint
/// of the key (RFC 9449 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

/// A token's audience (RFC 7519 §4.1.3): one string, or several when the token is meant for
/// several resources (RFC 8707 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// One value as a string, several as an array.
    pub fn of(mut values: Vec<String>) -> Self {
        if values.len() == 1 {
            Self::One(values.remove(0))
        } else {
            Self::Many(values)
        }
    }

    pub fn contains(&self, value: &str) -> bool {
        match self {
            Self::One(v) => v == value,
            Self::Many(vs) => vs.iter().any(|v| v == value),
        }
    }
}

impl From<String> for Audience {
    fn from(v: String) -> Self {
        Self::One(v)
    }
}

impl AccessTokenClaims {
    /// Claims for `client`, issued by `iss` to `aud` at `now` (seconds) for `lifetime`
    /// seconds, with no scope, userinfo claims or actor yet.
    pub(crate) fn new(
        iss: String,
        client: &OAuthClient,
        sub: String,
        aud: impl Into<Audience>,
        jti: String,
        now: i64,
        lifetime: i64,
    ) -> Self {
        Self {
            iss,
            sub,
            aud: aud.into(),
            client_id: client.id.as_str().to_owned(),
            client_created_at: Some(client_incarnation(client)),
            jti,
            iat: now,
            exp: now + lifetime,
            scope: None,
            userinfo_claims: Vec::new(),
            act: None,
            cnf: None,
            roles: None,
        }
    }

    /// Bound to `key` when the request proved one (RFC 9449 §6).
    pub(crate) fn bound_to(mut self, key: Option<&crate::dpop::ProvenKey>) -> Self {
        self.cnf = key.map(|k| Confirmation {
            jkt: k.jkt().to_owned(),
        });
        self
    }

    /// The `token_type` of a response with this token (RFC 9449 §5).
    pub(crate) fn token_type(&self) -> &'static str {
        if self.cnf.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }

    /// The granted scope; an empty one is left out of the token.
    pub(crate) fn with_scope(mut self, scope: &str) -> Self {
        self.scope = (!scope.is_empty()).then(|| scope.to_owned());
        self
    }

    /// The granted scopes, one by one.
    pub(crate) fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
    }
}

/// The SHA-256 of a token: the key of the verified-token cache (never the token itself).
fn token_digest(token: &str) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The incarnation of a client, as [`AccessTokenClaims::client_created_at`] carries it.
pub(crate) fn client_incarnation(client: &OAuthClient) -> i64 {
    to_millis(client.created_at)
}

impl Services {
    /// Signs access token claims (RFC 9068 `at+jwt`) with the organization's active key of
    /// `alg`: the client's `accessTokenSignedResponseAlg` (ES256 unless it chose RS256 or
    /// EdDSA), or an API resource's, which wins over it.
    pub(crate) async fn sign_access_token(
        &self,
        org: &Organization,
        alg: tessera_domain::client::SigningAlg,
        claims: &AccessTokenClaims,
    ) -> OAuthResult<String> {
        self.sign_with(org, signing_alg(alg), "at+jwt", claims)
            .await
    }

    /// The claims of an access token if it is active in this organization right now: its
    /// signature verifies with one of the organization's keys, it is unexpired, it was issued
    /// here, its client still exists (the same incarnation), and it was not revoked.
    pub(crate) async fn active_claims(
        &self,
        org: &Organization,
        token: &str,
    ) -> OAuthResult<Option<AccessTokenClaims>> {
        let keys = self.org_keys(org.id).await?;
        let now = to_millis(self.now()) / 1000;
        // A token verified before is not verified again (the signature is most of the cost
        // of an introspection); what may have changed since is checked below, every time.
        let digest = token_digest(token);
        let claims = match self.caches.verified.get(&(org.id, digest)) {
            // Its key retired since: no longer active.
            Some(v) if !keys.verifying.contains_key(&v.kid) => return Ok(None),
            Some(v) => v.claims.clone(),
            None => {
                crate::cache::count_load(&self.caches.loads.verified);
                let Some(kid) = tessera_crypto::jws::peek_kid(token) else {
                    return Ok(None);
                };
                // A token signed by another organization's key finds no key here.
                let Some(vk) = keys.verifying.get(&kid) else {
                    return Ok(None);
                };
                let Ok(v) = tessera_crypto::jws::verify(token, vk) else {
                    return Ok(None);
                };
                if v.header["typ"] != "at+jwt" {
                    return Ok(None);
                }
                // Signed by this organization, so the shape is ours; anything else is not
                // active.
                let Ok(claims) = serde_json::from_value::<AccessTokenClaims>(v.claims) else {
                    return Ok(None);
                };
                if claims.exp > now {
                    self.caches.verified.insert(
                        (org.id, digest),
                        std::sync::Arc::new(crate::cache::VerifiedToken {
                            kid,
                            claims: claims.clone(),
                        }),
                    );
                }
                claims
            }
        };
        if claims.exp <= now || claims.iss != self.issuer(&org.slug) {
            return Ok(None);
        }
        // A deleted client's tokens stop working at once, and stay dead when a new client
        // is created under the same id: the token names the client's incarnation.
        let Some(client) = self.cached_client(org.id, &claims.client_id).await? else {
            return Ok(None);
        };
        let incarnation = client_incarnation(&client.client);
        let same_client = match claims.client_created_at {
            Some(i) => i == incarnation,
            // A token from before the claim existed: it cannot predate its client.
            None => claims.iat >= incarnation / 1000,
        };
        // Every token of the client revoked at once (the client stays): a token issued in
        // that second or before is inactive.
        let cut_off = client
            .client
            .tokens_revoked_at
            .is_some_and(|at| claims.iat <= to_millis(at) / 1000);
        if !same_client || cut_off || self.is_revoked(org.id, &claims.jti).await? {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// Whether the token `jti` of `org` was revoked: from the organization's live revocations,
    /// read once and kept until the next revocation (see `cache.rs`).
    pub(crate) async fn is_revoked(&self, org: OrgId, jti: &str) -> OAuthResult<bool> {
        use crate::cache::{RevokedSet, REVOKED_PER_ORG};
        use std::sync::atomic::Ordering;
        use std::sync::Arc;
        let set = if let Some(s) = self.caches.revoked.get(&org) {
            s
        } else {
            crate::cache::count_load(&self.caches.loads.revoked);
            let generation = self.caches.revoked_generation.load(Ordering::Acquire);
            let jtis = {
                let mut tx = self.store.read().await?;
                tx.live_revoked_tokens(org, self.now(), REVOKED_PER_ORG + 1)
                    .await?
            };
            let set = Arc::new(if jtis.len() > REVOKED_PER_ORG as usize {
                RevokedSet::TooMany
            } else {
                RevokedSet::Jtis(jtis.into_iter().map(String::into_boxed_str).collect())
            });
            if self.caches.revoked_generation.load(Ordering::Acquire) == generation {
                self.caches.revoked.insert(org, Arc::clone(&set));
            }
            set
        };
        match &*set {
            RevokedSet::Jtis(jtis) => Ok(jtis.contains(jti)),
            RevokedSet::TooMany => {
                let mut tx = self.store.read().await?;
                Ok(tx.is_token_revoked(org, jti).await?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "http://127.0.0.1/o/acme".into(),
            sub: "svc".into(),
            aud: Audience::One("http://127.0.0.1/o/acme".into()),
            client_id: "svc".into(),
            client_created_at: Some(1_700_000_000_123),
            jti: "j1".into(),
            iat: 1_700_000_000,
            exp: 1_700_000_300,
            scope: None,
            userinfo_claims: Vec::new(),
            act: None,
            cnf: None,
            roles: None,
        }
    }

    #[test]
    fn empty_parts_are_left_out_of_the_token() {
        let v = serde_json::to_value(claims()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "aud",
                "client_created_at",
                "client_id",
                "exp",
                "iat",
                "iss",
                "jti",
                "sub"
            ]
        );
    }

    #[test]
    fn scopes_split_and_round_trip() {
        let mut c = claims();
        c.scope = Some("openid profile".into());
        c.userinfo_claims = vec!["email".into()];
        c.act = Some(serde_json::json!({"sub": "agent"}));
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["openid", "profile"]);
        let back: AccessTokenClaims =
            serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert_eq!(claims().with_scope("").scopes().count(), 0);
    }

    #[test]
    fn a_token_from_before_the_incarnation_claim_still_reads() {
        let mut v = serde_json::to_value(claims()).unwrap();
        v.as_object_mut().unwrap().remove("client_created_at");
        let c: AccessTokenClaims = serde_json::from_value(v).unwrap();
        assert_eq!(c.client_created_at, None);
    }
}
