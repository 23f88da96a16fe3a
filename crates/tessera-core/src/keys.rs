//! Signing keys per organization: one active key per algorithm (ES256 for access tokens,
//! RS256 always present for id_tokens, EdDSA available), private parts sealed by the vault,
//! a `kid` per key. Rotation makes new keys and retires the old ones; a retired key stays in
//! the JWKS until every token it could have signed has expired.
//!
//! Rotation is in two steps so that no node hands out a token that another node's JWKS
//! cannot verify yet: the new keys are published at once (every node learns of them through
//! the change feed, within a second at worst) and sign only [`KEY_ACTIVATION_SECONDS`] later;
//! the old keys sign until then.

use std::collections::HashMap;
use std::sync::Arc;

use tessera_crypto::jws::{Alg, SigningKey, VerifyingKey};
use tessera_crypto::RowId;
use tessera_domain::client::ACCESS_TOKEN_LIFETIME;
use tessera_domain::{AuditAction, OrgId, Organization, Permission, Timestamp};
use tessera_store::{SigningKeyRecord, Tx};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::cache::CHANGE_KEYS;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// How long after a rotation the new keys start signing: longer than the change feed takes
/// to reach every node at worst, so that every JWKS has them first.
pub const KEY_ACTIVATION_SECONDS: i64 = 2;

/// A key that signs, or will, or did until `retired_at`.
#[derive(Debug)]
pub struct SignerKey {
    pub key: Arc<SigningKey>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

/// The keys of one organization, ready to sign and verify.
#[derive(Debug)]
pub struct OrgKeys {
    /// The keys of each algorithm that are not retired, or retire in the future; oldest first.
    pub signers: HashMap<Alg, Vec<SignerKey>>,
    /// Every published key, by kid.
    pub verifying: HashMap<String, VerifyingKey>,
    /// The JWKS document (RFC 7517 §5).
    pub jwks: serde_json::Value,
}

/// How long a retired key stays published: the longest token lifetime, plus clock skew.
fn publish_window() -> time::Duration {
    time::Duration::seconds(*ACCESS_TOKEN_LIFETIME.end() + 300)
}

fn key_row<'a>(org: &'a str, kid: &'a str) -> RowId<'a> {
    crate::connections::cell(org, tessera_store::SealedColumn::SigningKey, kid)
}

impl OrgKeys {
    /// The key that signs with `alg` at `now`: the newest one not retired whose activation
    /// delay has passed; or else the one a rotation made moments ago is retiring (it signs
    /// until then); or else (the organization's first key) the oldest one.
    pub fn signing_key(&self, alg: Alg, now: Timestamp) -> Option<&Arc<SigningKey>> {
        // On every token: no allocation, two short walks over a handful of keys.
        let keys = self.signers.get(&alg)?;
        let live = || {
            keys.iter()
                .filter(move |k| k.retired_at.is_none_or(|r| r > now))
        };
        let activated = now - time::Duration::seconds(KEY_ACTIVATION_SECONDS);
        live()
            .rev()
            .find(|k| k.created_at <= activated)
            .or_else(|| live().find(|k| k.retired_at.is_some()))
            .or_else(|| live().next())
            .map(|k| &k.key)
    }
}

impl Services {
    /// The organization's keys, from the cache or the database; missing active keys are made.
    pub(crate) async fn org_keys(&self, org: OrgId) -> CoreResult<Arc<OrgKeys>> {
        if let Some(k) = self.caches.keys(org) {
            return Ok(k);
        }
        crate::cache::count_load(&self.caches.loads.keys);
        let mut records = {
            let mut tx = self.store.read().await?;
            tx.published_signing_keys(org, self.now()).await?
        };
        let missing: Vec<Alg> = Alg::KEYED
            .into_iter()
            .filter(|a| {
                !records
                    .iter()
                    .any(|r| r.alg == a.as_str() && r.retired_at.is_none())
            })
            .collect();
        if !missing.is_empty() {
            let mut tx = self.store.begin().await?;
            // One process makes them; another that asks at the same time waits here, then
            // finds them made, so that no node signs with a key another has not published.
            tx.lock_signing_keys(org).await?;
            let now_published = tx.published_signing_keys(org, self.now()).await?;
            for alg in missing {
                if !now_published
                    .iter()
                    .any(|r| r.alg == alg.as_str() && r.retired_at.is_none())
                {
                    self.insert_new_key(tx.as_mut(), org, alg).await?;
                }
            }
            records = tx.published_signing_keys(org, self.now()).await?;
            tx.commit().await?;
        }
        let keys = Arc::new(self.load_keys(org, &records)?);
        self.caches.remember_keys(org, Arc::clone(&keys));
        Ok(keys)
    }

    fn load_keys(&self, org: OrgId, records: &[SigningKeyRecord]) -> CoreResult<OrgKeys> {
        let org_s = org.to_string();
        let mut signers: HashMap<Alg, Vec<SignerKey>> = HashMap::new();
        let mut verifying = HashMap::new();
        let mut jwks = vec![];
        // Oldest first, so the newest active key of an algorithm wins.
        for r in records {
            let Some(alg) = Alg::parse(&r.alg) else {
                continue;
            };
            let pkcs8 = self
                .vault
                .open(key_row(&org_s, &r.id), &r.private_key)
                .map_err(|e| CoreError::internal(format!("signing key {}: {e}", r.id)))?;
            let key = SigningKey::from_pkcs8(alg, r.id.clone(), &pkcs8)
                .map_err(|e| CoreError::internal(format!("signing key {}: {e}", r.id)))?;
            // The RSA key signs PS256 too (FAPI 2.0 §5.4), published again under its own kid
            // with that `alg`, so that a verifier holds each kid to one algorithm.
            let mut keys = vec![key];
            if alg == Alg::RS256 {
                let ps = SigningKey::from_pkcs8(Alg::PS256, format!("{}-ps256", r.id), &pkcs8)
                    .map_err(|e| CoreError::internal(format!("signing key {}: {e}", r.id)))?;
                keys.push(ps);
            }
            for key in keys {
                verifying.insert(key.kid().to_owned(), key.verifying_key());
                jwks.push(key.public_jwk());
                if r.retired_at.is_none_or(|at| at > self.now()) {
                    signers.entry(key.alg()).or_default().push(SignerKey {
                        key: Arc::new(key),
                        created_at: r.created_at,
                        retired_at: r.retired_at,
                    });
                }
            }
        }
        Ok(OrgKeys {
            signers,
            verifying,
            jwks: serde_json::json!({ "keys": jwks }),
        })
    }

    async fn insert_new_key(&self, tx: &mut dyn Tx, org: OrgId, alg: Alg) -> CoreResult<String> {
        let kid = Uuid::new_v4().simple().to_string();
        let k = kid.clone();
        // RSA key generation takes a while: not on the async executor.
        let (key, pkcs8) = tokio::task::spawn_blocking(move || SigningKey::generate(alg, k))
            .await
            .map_err(CoreError::internal)?
            .map_err(CoreError::internal)?;
        let sealed = self
            .vault
            .seal(key_row(&org.to_string(), &kid), &pkcs8, self.rng.as_ref())
            .map_err(CoreError::internal)?;
        let now = self.now();
        tx.insert_signing_key(&SigningKeyRecord {
            id: kid.clone(),
            org_id: org,
            alg: alg.as_str().into(),
            private_key: sealed,
            public_jwk: key.public_jwk().to_string(),
            created_at: now,
            retired_at: None,
            publish_until: None,
        })
        .await?;
        tx.record_change(Some(org), CHANGE_KEYS, &org.to_string(), now)
            .await?;
        Ok(kid)
    }

    /// The public keys of an organization (JWKS).
    pub async fn jwks(&self, org: &Organization) -> CoreResult<serde_json::Value> {
        Ok(self.org_keys(org.id).await?.jwks.clone())
    }

    /// Makes new keys for every algorithm, published at once and signing from
    /// [`KEY_ACTIVATION_SECONDS`] later, when the old ones retire; those stay published until
    /// their tokens have expired.
    pub async fn rotate_keys(&self, ctx: &Context, org: &str) -> CoreResult<Vec<String>> {
        let mut tx = self.store.begin().await?;
        let org = self.org_for(tx.as_mut(), ctx, org, None).await?;
        if !ctx.principal.is_system_admin
            && !ctx.principal.has(org.id, Permission::OauthClientsEdit)
        {
            return Err(CoreError::Forbidden(Permission::OauthClientsEdit));
        }
        tx.lock_signing_keys(org.id).await?;
        let now = self.now();
        let mut kids = vec![];
        for alg in Alg::KEYED {
            let retire = now + time::Duration::seconds(KEY_ACTIVATION_SECONDS);
            tx.retire_signing_keys(org.id, alg.as_str(), retire, retire + publish_window())
                .await?;
            kids.push(self.insert_new_key(tx.as_mut(), org.id, alg).await?);
        }
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::SigningKeysRotated, "signing_keys")
                .org(org.id)
                .target(org.slug.to_string())
                .after(snapshot(&serde_json::json!({ "kids": kids }))),
        )
        .await?;
        tx.commit().await?;
        self.caches.forget_keys(org.id);
        Ok(kids)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn signer(kid: &str, created: i64, retired: Option<i64>) -> SignerKey {
        let (key, _) = SigningKey::generate(Alg::ES256, kid.into()).unwrap();
        SignerKey {
            key: Arc::new(key),
            created_at: tessera_domain::clock::from_millis(created * 1000),
            retired_at: retired.map(|r| tessera_domain::clock::from_millis(r * 1000)),
        }
    }

    fn signing(keys: &OrgKeys, at: i64) -> String {
        keys.signing_key(Alg::ES256, tessera_domain::clock::from_millis(at * 1000))
            .unwrap()
            .kid()
            .to_owned()
    }

    #[test]
    fn a_rotation_publishes_first_and_signs_later() {
        let d = KEY_ACTIVATION_SECONDS;
        // The first key signs at once.
        let keys = OrgKeys {
            signers: HashMap::from([(Alg::ES256, vec![signer("first", 100, None)])]),
            verifying: HashMap::new(),
            jwks: serde_json::json!({}),
        };
        assert_eq!(signing(&keys, 100), "first");
        // Rotated at 101 (the old key one second old): the old key signs until 101 + d.
        let keys = OrgKeys {
            signers: HashMap::from([(
                Alg::ES256,
                vec![signer("old", 100, Some(101 + d)), signer("new", 101, None)],
            )]),
            verifying: HashMap::new(),
            jwks: serde_json::json!({}),
        };
        assert_eq!(signing(&keys, 101), "old");
        assert_eq!(signing(&keys, 101 + d - 1), "old");
        assert_eq!(signing(&keys, 101 + d), "new");
        assert_eq!(signing(&keys, 500), "new");
        // Made in the same instant as the old key (a clock that stood still): the old one
        // still signs first, whatever order the keys come in.
        for order in [["old", "new"], ["new", "old"]] {
            let keys = OrgKeys {
                signers: HashMap::from([(
                    Alg::ES256,
                    order
                        .iter()
                        .map(|k| signer(k, 100, (*k == "old").then_some(100 + d)))
                        .collect(),
                )]),
                verifying: HashMap::new(),
                jwks: serde_json::json!({}),
            };
            assert_eq!(signing(&keys, 100), "old");
            assert_eq!(signing(&keys, 100 + d), "new");
        }
    }
}
