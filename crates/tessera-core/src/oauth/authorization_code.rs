//! The authorization code grant (RFC 6749 §4.1.3): a code is redeemed once, by the client it
//! was issued to, with the redirect URI and the PKCE verifier (RFC 7636 §4.6) of its request;
//! a second redemption revokes what the first issued (§4.1.2).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;
use tessera_domain::client::GrantType;
use tessera_store::{AuthCode, Redemption};

use crate::cache::CHANGE_REVOKED;
use crate::tokens::{ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::Services;

/// `BASE64URL(SHA-256(verifier))` (RFC 7636 §4.2, S256).
fn s256(verifier: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl Services {
    /// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
    pub(crate) async fn authorization_code(
        self: &Arc<Self>,
        org: &tessera_domain::Organization,
        auth: &ClientAuth,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        resources: &[&str],
    ) -> OAuthResult<TokenResponse> {
        let cached = self
            .grant_client(org, auth, GrantType::AuthorizationCode)
            .await?;
        let client = &cached.client;
        let key = self.sender_key(client, auth)?;
        let bad = |m: &str| OAuthError::InvalidGrant(m.to_owned());
        let hash = self.handle_hash.hash(code);
        let now = self.now();
        let jti = self.random_jti()?;
        let lifetime = client.settings.access_token_lifetime;
        let access_expires = now + time::Duration::seconds(lifetime);
        // The code is read and checked first, then redeemed in one trip with what it issues
        // (one write under SQLite's single writer instead of a transaction of four). The
        // redemption is conditional on the code being unredeemed still, so of two concurrent
        // redemptions one wins and the other is a replay; a failed check writes nothing and
        // leaves the code unspent.
        let found = self.read_code(org.id, &hash).await?;
        if found.redeemed_at.is_some() {
            return Err(self
                .code_replayed(org, client.id.as_str(), found, now)
                .await);
        }
        if found.client_id != client.id.as_str() {
            return Err(bad("the code was issued to another client"));
        }
        if found.expires_at <= now {
            return Err(bad("the code has expired"));
        }
        if redirect_uri != Some(found.redirect_uri.as_str()) {
            return Err(bad("redirect_uri does not match the authorization request"));
        }
        match (&found.code_challenge, verifier) {
            (Some(challenge), Some(v)) => {
                if !valid_verifier(v) || !bool::from(s256(v).as_bytes().ct_eq(challenge.as_bytes()))
                {
                    return Err(bad("the code_verifier does not match the code_challenge"));
                }
            }
            (Some(_), None) => return Err(bad("code_verifier is required")),
            (None, Some(_)) => return Err(bad("the authorization request had no code_challenge")),
            (None, None) => {}
        }
        // RFC 9449 §10: a code bound to a key (`dpop_jkt`) needs a proof made with it.
        if let Some(bound) = &found.dpop_jkt {
            if key.map(|k| k.jkt()) != Some(bound.as_str()) {
                return Err(OAuthError::InvalidDpopProof(
                    "the code is bound to a DPoP key (dpop_jkt): send a proof made with it".into(),
                ));
            }
        }
        // RFC 8707 §2.2: the token may be for fewer of the authorization's resources. Refused
        // here, nothing is written and the code stays unspent.
        let (all, targets) = self
            .narrowed_targets(org.id, client, &found.resources, resources)
            .await?;
        let scope = targets.narrow_scope(&all, &found.scope);
        // A refresh token when the client may use the refresh_token grant, in the same write.
        let (refresh_token, refresh_row) = if client
            .settings
            .grant_types
            .contains(&GrantType::RefreshToken)
        {
            let grant = super::Grant {
                dpop_jkt: super::refresh_binding(client, key),
                ..granted(&found)
            };
            let (value, mut row) = self.refresh_record(org.id, client, grant, None)?;
            // The family is named after the code's access token, so a replay of the code can
            // end it (RFC 6749 §4.1.2: revoke what the first redemption issued).
            row.family_id = jti.clone();
            (Some(value), Some(row))
        } else {
            (None, None)
        };
        let redeemed = self
            .store
            .redeem_code(&Redemption {
                org: org.id,
                code_hash: &hash,
                at: now,
                jti: &jti,
                access_expires,
                refresh: refresh_row.as_ref(),
            })
            .await?;
        if !redeemed {
            // Redeemed by a concurrent request since it was read: this one is the replay.
            let earlier = self.read_code(org.id, &hash).await?;
            return Err(self
                .code_replayed(org, client.id.as_str(), earlier, now)
                .await);
        }

        let grant = super::Grant {
            scope: &scope,
            ..granted(&found)
        };
        let issue = super::Issue {
            refresh_token,
            jti: Some(&jti),
            key,
        };
        self.token_response(org, client, grant, &targets, issue)
            .await
    }
}

impl Services {
    /// The code of this hash as stored now (`invalid_grant` when there is none).
    async fn read_code(&self, org: tessera_domain::OrgId, hash: &str) -> OAuthResult<AuthCode> {
        self.store
            .read_code(org, hash)
            .await?
            .ok_or_else(|| OAuthError::InvalidGrant("the code is not valid".into()))
    }

    /// A code presented again after its redemption (RFC 6749 §4.1.2): what the first
    /// redemption issued is revoked (the access token and the refresh tokens it started), and
    /// the answer says the code was used. Presented by another client, nothing is touched.
    async fn code_replayed(
        &self,
        org: &tessera_domain::Organization,
        client_id: &str,
        earlier: AuthCode,
        now: tessera_domain::Timestamp,
    ) -> OAuthError {
        let bad = |m: &str| OAuthError::InvalidGrant(m.to_owned());
        if earlier.client_id != client_id {
            return bad("the code was issued to another client");
        }
        let (Some(j), Some(exp)) = (&earlier.access_jti, earlier.access_expires) else {
            return bad("the code has already been used");
        };
        let revoked = async {
            let mut tx = self.store.begin().await?;
            if tx.revoke_token(org.id, j, exp, now).await? {
                tx.record_change(Some(org.id), CHANGE_REVOKED, j, now)
                    .await?;
            }
            // The refresh tokens that redemption started (their family is named after the
            // access token's jti).
            tx.revoke_refresh_family(org.id, j, now).await?;
            tx.commit().await
        };
        if let Err(e) = revoked.await {
            return e.into();
        }
        self.caches.forget_revocations(org.id);
        bad("the code has already been used")
    }
}

/// What a redeemed code granted.
fn granted(code: &AuthCode) -> super::Grant<'_> {
    super::Grant {
        user: code.user_id,
        scope: &code.scope,
        auth_time: code.auth_time,
        nonce: code.nonce.as_deref(),
        claims: code.claims.as_ref(),
        resources: &code.resources,
        sid: code.sid.as_deref(),
        dpop_jkt: None,
        amr: &code.amr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// RFC 7636 §4.1: an accepted verifier is 43 to 128 unreserved characters; its S256
        /// challenge is 43 base64url characters.
        #[test]
        fn accepted_verifiers_are_unreserved_and_bounded(v in "[ -~]{0,140}") {
            if valid_verifier(&v) {
                proptest::prop_assert!((43..=128).contains(&v.len()));
                proptest::prop_assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
                proptest::prop_assert_eq!(s256(&v).len(), 43);
            }
        }

        #[test]
        fn unreserved_verifiers_of_the_right_length_are_accepted(v in "[A-Za-z0-9._~-]{43,128}") {
            proptest::prop_assert!(valid_verifier(&v));
        }
    }
}
