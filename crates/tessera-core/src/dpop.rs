//! DPoP (RFC 9449): proofs of possession of a client's key, checked at the token and PAR
//! endpoints (§5) and at userinfo (§7), and the server nonces (§8).
//!
//! A proof is a JWT of type `dpop+jwt` signed with the private key whose public half rides in
//! its header (`jwk`); it names the request (`htm`, `htu`), is fresh (`iat`), is used once
//! (`jti`, kept in the same table as client assertions' so that every node sees it), and at a
//! resource carries the hash of the access token (`ath`). Tokens issued with a proof are bound
//! to the key's RFC 7638 thumbprint (`cnf.jkt`), so a stolen token is useless without the key.
//!
//! Nonces are stateless: an HMAC (with a key derived from the master key, so every node
//! agrees) of the organization and the current five-minute window; the one of the window before
//! is accepted too, so a nonce lives between five and ten minutes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use subtle::ConstantTimeEq;
use tessera_crypto::jwk::{verify_with_keys, PublicJwk};
use tessera_domain::Organization;

use tessera_domain::client::OAuthClient;

use crate::tokens::{ClientAuth, OAuthError, OAuthResult};
use crate::Services;

/// How far in the past a proof's `iat` may be, in seconds (its `jti` is kept this long).
const MAX_AGE: i64 = 300;
/// How far in the future a proof's `iat` may be (clock skew), in seconds.
const MAX_SKEW: i64 = 60;
/// The length of a nonce window, in seconds.
const NONCE_WINDOW: i64 = 300;

/// The algorithms a proof may be signed with, for discovery's
/// `dpop_signing_alg_values_supported`.
pub fn signing_algs() -> Vec<&'static str> {
    crate::assertion::signing_algs()
}

/// A DPoP proof as the request carried it, not yet checked.
#[derive(Clone, PartialEq, Eq)]
pub struct DpopProof(pub String);

opaque_debug!(DpopProof);

/// The key a request proved possession of: its thumbprint (`jkt`). Made only by
/// [`Services::check_dpop`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenKey {
    jkt: String,
    /// The algorithm of the proof.
    alg: tessera_crypto::jwk::ClientAlg,
}

impl ProvenKey {
    pub fn jkt(&self) -> &str {
        &self.jkt
    }
}

/// How an access token came to a resource endpoint: with `Authorization: Bearer` (or in a
/// form body, RFC 6750 §2) or `Authorization: DPoP` (RFC 9449 §7.1), and the proof sent
/// with it.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    pub token: &'a str,
    pub dpop_scheme: bool,
    pub proof: Option<&'a DpopProof>,
    pub method: &'a str,
}

impl<'a> Presented<'a> {
    /// A bearer token with no proof (in-process callers, tests).
    pub fn bearer(token: &'a str) -> Self {
        Self {
            token,
            dpop_scheme: false,
            proof: None,
            method: "GET",
        }
    }
}

/// What a proof is checked against: the request's method and URL, and at a resource the
/// access token it comes with.
#[derive(Debug, Clone, Copy)]
pub struct ProofTarget<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub access_token: Option<&'a str>,
}

fn invalid(m: impl Into<String>) -> OAuthError {
    OAuthError::InvalidDpopProof(m.into())
}

/// `BASE64URL(SHA-256(token))`: the `ath` of a proof sent with an access token (§4.2).
pub fn token_hash(token: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// Whether two URLs name the same resource once the query and fragment are dropped and both
/// are normalized (§4.3 item 9: RFC 3986 §6.2.2 and §6.2.3: case, default ports, dot
/// segments).
fn same_target(htu: &str, url: &str) -> bool {
    let norm = |s: &str| {
        let mut u = url::Url::parse(s).ok()?;
        u.set_query(None);
        u.set_fragment(None);
        Some((
            u.scheme().to_owned(),
            u.host_str().map(str::to_ascii_lowercase),
            u.port_or_known_default(),
            u.path().to_owned(),
        ))
    };
    matches!((norm(htu), norm(url)), (Some(a), Some(b)) if a == b)
}

impl Services {
    /// The nonce in force for `org_slug` in window `w`.
    fn nonce_for(&self, org_slug: &str, w: i64) -> String {
        // The HMAC's base64url part (256 bits), without the stored form's prefix.
        let h = self.handle_hash.hash(&format!("dpop-nonce|{org_slug}|{w}"));
        h.rsplit('$').next().unwrap_or_default().to_owned()
    }

    fn nonce_window(&self) -> i64 {
        self.now().unix_timestamp().div_euclid(NONCE_WINDOW)
    }

    /// The nonce clients of `org_slug` should put in their next proofs (`DPoP-Nonce`).
    pub fn dpop_nonce(&self, org_slug: &str) -> String {
        self.nonce_for(org_slug, self.nonce_window())
    }

    fn nonce_is_current(&self, org_slug: &str, nonce: &str) -> bool {
        let w = self.nonce_window();
        [w, w - 1].into_iter().any(|w| {
            bool::from(
                self.nonce_for(org_slug, w)
                    .as_bytes()
                    .ct_eq(nonce.as_bytes()),
            )
        })
    }

    /// Checks a proof for a request to `target` (RFC 9449 §4.3) and spends its `jti`: the
    /// key it proves. A nonce is required when `require_nonce`; one that is present must be
    /// current either way (`use_dpop_nonce`, with the current one, tells the client to retry).
    pub async fn check_dpop(
        &self,
        org: &Organization,
        proof: &DpopProof,
        target: ProofTarget<'_>,
        require_nonce: bool,
    ) -> OAuthResult<ProvenKey> {
        let jwt = proof.0.as_str();
        if jwt.len() > 8 * 1024 {
            return Err(invalid("the DPoP proof is too large"));
        }
        // Items 1 to 5: one well-formed JWT of type dpop+jwt whose header holds a public key
        // of an asymmetric algorithm, and whose signature that key verifies.
        let header: Value = jwt
            .split('.')
            .next()
            .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| invalid("the DPoP proof is not a JWT"))?;
        if header["typ"].as_str() != Some("dpop+jwt") {
            return Err(invalid("the DPoP proof's typ must be dpop+jwt"));
        }
        let alg = header["alg"].as_str().unwrap_or_default();
        if tessera_crypto::jwk::ClientAlg::parse(alg).is_none() {
            return Err(invalid(format!(
                "the DPoP proof's alg must be one of {}",
                signing_algs().join(", ")
            )));
        }
        let key = PublicJwk::parse(&header["jwk"])
            .map_err(|e| invalid(format!("the DPoP proof's jwk: {e}")))?;
        let verified = verify_with_keys(jwt, std::slice::from_ref(&key))
            .map_err(|_| invalid("the DPoP proof's signature does not verify with its jwk"))?;
        let (claims, alg) = (verified.claims, verified.alg);
        // Items 7 to 9: the request it was made for.
        if claims["htm"].as_str() != Some(target.method) {
            return Err(invalid(format!(
                "the DPoP proof's htm must be {}",
                target.method
            )));
        }
        if !claims["htu"]
            .as_str()
            .is_some_and(|u| same_target(u, target.url))
        {
            return Err(invalid(format!(
                "the DPoP proof's htu must be {}",
                target.url
            )));
        }
        // Item 11: at a resource, the token it comes with.
        if let Some(token) = target.access_token {
            if claims["ath"].as_str() != Some(token_hash(token).as_str()) {
                return Err(invalid(
                    "the DPoP proof's ath is not the hash of the access token",
                ));
            }
        }
        // Item 12: fresh.
        let now = self.now().unix_timestamp();
        let iat = crate::assertion::seconds(&claims, "iat")
            .map_err(invalid)?
            .ok_or_else(|| invalid("the DPoP proof has no iat"))?;
        if iat > now + MAX_SKEW || iat < now - MAX_AGE {
            return Err(invalid(
                "the DPoP proof's iat is not within 5 minutes of now",
            ));
        }
        // Item 10: the server's nonce, when it asks for one or one is sent.
        match claims["nonce"].as_str() {
            Some(n) if self.nonce_is_current(org.slug.as_str(), n) => {}
            Some(_) => {
                return Err(OAuthError::UseDpopNonce(
                    "the DPoP proof's nonce is not current: use the one in DPoP-Nonce".into(),
                ))
            }
            None if require_nonce => {
                return Err(OAuthError::UseDpopNonce(
                    "the DPoP proof needs the server's nonce: use the one in DPoP-Nonce".into(),
                ))
            }
            None => {}
        }
        // Item 6 and §11.1: a jti, used once across every node.
        let jti = match claims["jti"].as_str() {
            Some(j) if !j.is_empty() && j.len() <= 256 => j,
            _ => return Err(invalid("the DPoP proof has no jti of 1 to 256 characters")),
        };
        let jkt = key.thumbprint();
        let expires_at =
            time::OffsetDateTime::from_unix_timestamp(iat.max(now) + MAX_AGE + MAX_SKEW)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let fresh = {
            let mut tx = self.store.begin().await?;
            let fresh = tx
                .use_client_assertion(org.id, &format!("dpop#{jkt}"), jti, expires_at)
                .await?;
            tx.commit().await?;
            fresh
        };
        if !fresh {
            return Err(invalid("the DPoP proof's jti was used before (a replay)"));
        }
        Ok(ProvenKey { jkt, alg })
    }

    /// Checks how an active token was presented at the resource endpoint at `path` (RFC 9449
    /// §7): a DPoP-bound token only with the DPoP scheme and a proof made with its key for
    /// this request and this token; a token sent with the DPoP scheme only with a good proof.
    pub(crate) async fn check_presentation(
        &self,
        org: &Organization,
        claims: &crate::oauth::AccessTokenClaims,
        presented: Presented<'_>,
        path: &str,
    ) -> OAuthResult<()> {
        if claims.cnf.is_none() && !presented.dpop_scheme {
            return Ok(());
        }
        if !presented.dpop_scheme {
            return Err(OAuthError::InvalidToken(
                "the access token is DPoP-bound: send it with the DPoP scheme and a proof".into(),
            ));
        }
        let Some(proof) = presented.proof else {
            return Err(invalid("the DPoP scheme needs a DPoP proof"));
        };
        let url = format!("{}{path}", self.issuer(&org.slug));
        let target = ProofTarget {
            method: presented.method,
            url: &url,
            access_token: Some(presented.token),
        };
        let key = self.check_dpop(org, proof, target, false).await?;
        match &claims.cnf {
            Some(cnf) if cnf.jkt != key.jkt() => Err(invalid(
                "the DPoP proof is made with another key than the token is bound to",
            )),
            _ => Ok(()),
        }
    }

    /// `auth` with its DPoP proof (if any) checked for a request to the endpoint at `path`
    /// under the issuer (§4.3): `proven` filled in.
    pub(crate) async fn prove<'a>(
        &self,
        org: &Organization,
        auth: &'a ClientAuth,
        path: &str,
    ) -> OAuthResult<std::borrow::Cow<'a, ClientAuth>> {
        // Without a proof there is nothing to add: the request's own, not a copy of it.
        let Some(proof) = &auth.dpop else {
            return Ok(std::borrow::Cow::Borrowed(auth));
        };
        let url = format!("{}{path}", self.issuer(&org.slug));
        let target = ProofTarget {
            method: "POST",
            url: &url,
            access_token: None,
        };
        // Boxed: a request without a proof does not carry this future's room inline.
        let key =
            Box::pin(self.check_dpop(org, proof, target, self.config.dpop_require_nonce)).await?;
        Ok(std::borrow::Cow::Owned(ClientAuth {
            proven: Some(key),
            ..auth.clone()
        }))
    }

    /// The key `client`'s new tokens are bound to: the one the request proved. A client whose
    /// tokens must be bound (`dpopBoundAccessTokens`, the fapi2 profile) gets an error
    /// without one. (Nonces are asked for in [`Services::prove`], before the client
    /// authenticates, so that a retry with the nonce may present the same client assertion.)
    pub(crate) fn sender_key<'a>(
        &self,
        client: &OAuthClient,
        auth: &'a ClientAuth,
    ) -> OAuthResult<Option<&'a ProvenKey>> {
        let security = &client.settings.security;
        match &auth.proven {
            None if security.requires_dpop() => Err(invalid(
                "this client's access tokens are DPoP-bound: send a DPoP proof (RFC 9449)",
            )),
            Some(k) if !security.allows_alg(k.alg) => Err(invalid(
                "the DPoP proof's algorithm is not one FAPI 2.0 allows (PS256, ES256, EdDSA)",
            )),
            other => Ok(other.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_compare_without_query_and_with_normal_forms() {
        assert!(same_target(
            "https://id.example/orgs/a/api/v1/oauth/token",
            "https://id.example/orgs/a/api/v1/oauth/token"
        ));
        assert!(same_target(
            "HTTPS://ID.example:443/orgs/a/api/v1/oauth/token?x=1#f",
            "https://id.example/orgs/a/api/v1/oauth/token"
        ));
        assert!(!same_target(
            "https://id.example/orgs/b/api/v1/oauth/token",
            "https://id.example/orgs/a/api/v1/oauth/token"
        ));
        assert!(!same_target(
            "http://id.example/orgs/a/api/v1/oauth/token",
            "https://id.example/orgs/a/api/v1/oauth/token"
        ));
        assert!(!same_target("not a url", "https://id.example/"));
    }

    #[test]
    fn the_token_hash_is_base64url_sha256() {
        // RFC 9449 §7.1's example access token and its ath.
        assert_eq!(
            token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
