//! The vault: AES-256-GCM encryption at rest for private signing keys, platform credentials
//! and tokens.
//!
//! Sealed values look like `v1.<key id>.<nonce>.<ciphertext+tag>` (base64url): the record
//! names its key, so keys can rotate and old records stay readable while a re-encryption
//! runs. Every seal binds the row's identity (organization, table, row id, column) as
//! associated data, so a ciphertext copied into another row, or another column, fails to open.
//! Nonces are 96 random bits per seal (NIST SP 800-38D §8.2.2).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::master::MasterKey;
use crate::random::{random_bytes, SecretRng};
use crate::CryptoError;

/// Where a sealed value lives; bound into its ciphertext.
#[derive(Debug, Clone, Copy)]
pub struct RowId<'a> {
    pub org: &'a str,
    pub table: &'a str,
    pub row: &'a str,
    pub column: &'a str,
}

impl RowId<'_> {
    fn aad(&self) -> Vec<u8> {
        // Length-prefixed, so no two identities can encode alike.
        let mut out = Vec::new();
        for part in [self.org, self.table, self.row, self.column] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

struct RingKey {
    id: String,
    key: LessSafeKey,
}

/// A key ring: seals with the current key, opens with any key it holds.
pub struct Vault {
    keys: Vec<RingKey>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "Vault({ids:?})")
    }
}

fn ring_key(master: &MasterKey) -> Result<RingKey, CryptoError> {
    let bytes = master.derive("vault-aes-256-gcm");
    let fingerprint = master.derive("vault-key-id");
    let id: String = fingerprint[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let unbound = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| CryptoError::Vault)?;
    Ok(RingKey {
        id,
        key: LessSafeKey::new(unbound),
    })
}

impl Vault {
    /// A vault keyed by `current` that can still open what `previous` keys sealed.
    pub fn new(current: &MasterKey, previous: &[&MasterKey]) -> Result<Self, CryptoError> {
        let mut keys = vec![ring_key(current)?];
        for p in previous {
            keys.push(ring_key(p)?);
        }
        Ok(Self { keys })
    }

    /// A ring whose current key is the first of `keys` (when there are any); the later ones,
    /// and the master key's own vault key (what seals were made with before any key was
    /// configured), still open. This is how the vault key rotates without touching the master
    /// key, whose other sub-keys verify stored hashes.
    pub fn with_keys(master: &MasterKey, keys: &[&MasterKey]) -> Result<Self, CryptoError> {
        let mut ring = Vec::new();
        for k in keys {
            ring.push(ring_key(k)?);
        }
        ring.push(ring_key(master)?);
        let mut seen = std::collections::HashSet::new();
        ring.retain(|k| seen.insert(k.id.clone()));
        Ok(Self { keys: ring })
    }

    /// Every key id the ring can open, the current one first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// The id of the key a sealed value names, if it is one.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        let mut parts = sealed.split('.');
        match (parts.next(), parts.next()) {
            (Some("v1"), Some(kid)) => Some(kid),
            _ => None,
        }
    }

    /// Seals `plaintext` again under the current key, for re-encryption; `None` when it is
    /// under the current key already.
    pub fn reseal(
        &self,
        row: RowId<'_>,
        sealed: &str,
        rng: &dyn SecretRng,
    ) -> Result<Option<String>, CryptoError> {
        if Self::key_id_of(sealed) == Some(self.current_key_id()) {
            return Ok(None);
        }
        let plain = self.open(row, sealed)?;
        self.seal(row, &plain, rng).map(Some)
    }

    /// The id of the key new seals use.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn seal(
        &self,
        row: RowId<'_>,
        plaintext: &[u8],
        rng: &dyn SecretRng,
    ) -> Result<String, CryptoError> {
        let k = &self.keys[0];
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes(rng)?;
        let mut buf = plaintext.to_vec();
        k.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(row.aad()),
                &mut buf,
            )
            .map_err(|_| CryptoError::Vault)?;
        Ok(format!(
            "v1.{}.{}.{}",
            k.id,
            URL_SAFE_NO_PAD.encode(nonce_bytes),
            URL_SAFE_NO_PAD.encode(&buf)
        ))
    }

    pub fn open(&self, row: RowId<'_>, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(kid), Some(nonce), Some(ct), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CryptoError::Vault);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or(CryptoError::Vault)?;
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(CryptoError::Vault)?;
        let mut buf = URL_SAFE_NO_PAD.decode(ct).map_err(|_| CryptoError::Vault)?;
        let plain = key
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(row.aad()),
                &mut buf,
            )
            .map_err(|_| CryptoError::Vault)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemRng;

    fn row(r: &str) -> RowId<'_> {
        RowId {
            org: "o1",
            table: "signing_keys",
            row: r,
            column: "private_key",
        }
    }

    #[test]
    fn seals_and_opens_only_in_its_own_row() {
        let m = MasterKey::from_bytes([3; 32]);
        let v = Vault::new(&m, &[]).unwrap();
        let rng = SystemRng::new();
        let a = v.seal(row("k1"), b"private bytes", &rng).unwrap();
        let b = v.seal(row("k1"), b"private bytes", &rng).unwrap();
        assert_ne!(a, b, "fresh nonce each time");
        assert!(!a.contains("private"));
        assert_eq!(v.open(row("k1"), &a).unwrap(), b"private bytes");
        assert!(v.open(row("k2"), &a).is_err(), "moved to another row");
        let other_column = RowId {
            column: "public_jwk",
            ..row("k1")
        };
        assert!(v.open(other_column, &a).is_err());
        let mut tampered = a.clone();
        tampered.pop();
        tampered.push(if a.ends_with('A') { 'B' } else { 'A' });
        assert!(v.open(row("k1"), &tampered).is_err());
    }

    #[test]
    fn configured_keys_rotate_without_the_master_key() {
        let master = MasterKey::from_bytes([9; 32]);
        let k1 = MasterKey::from_bytes([1; 32]);
        let k2 = MasterKey::from_bytes([2; 32]);
        let rng = SystemRng::new();
        let before = Vault::with_keys(&master, &[]).unwrap();
        assert_eq!(before.key_ids().len(), 1);
        let old = before.seal(row("r"), b"secret", &rng).unwrap();
        let ring = Vault::with_keys(&master, &[&k1]).unwrap();
        assert_ne!(ring.current_key_id(), before.current_key_id());
        let moved = ring.reseal(row("r"), &old, &rng).unwrap().unwrap();
        assert_eq!(Vault::key_id_of(&moved), Some(ring.current_key_id()));
        assert!(ring.reseal(row("r"), &moved, &rng).unwrap().is_none());
        let next = Vault::with_keys(&master, &[&k2, &k1]).unwrap();
        assert_eq!(next.open(row("r"), &moved).unwrap(), b"secret");
        assert!(Vault::with_keys(&master, &[&k2])
            .unwrap()
            .open(row("r"), &moved)
            .is_err());
        assert!(
            ring.reseal(row("other"), &old, &rng).is_err(),
            "row identity still binds"
        );
    }

    #[test]
    fn old_keys_still_open_after_rotation() {
        let old = MasterKey::from_bytes([1; 32]);
        let new = MasterKey::from_bytes([2; 32]);
        let rng = SystemRng::new();
        let sealed = Vault::new(&old, &[])
            .unwrap()
            .seal(row("k"), b"x", &rng)
            .unwrap();
        let ring = Vault::new(&new, &[&old]).unwrap();
        assert_eq!(ring.open(row("k"), &sealed).unwrap(), b"x");
        assert!(Vault::new(&new, &[])
            .unwrap()
            .open(row("k"), &sealed)
            .is_err());
        assert_ne!(
            ring.current_key_id(),
            Vault::new(&old, &[]).unwrap().current_key_id()
        );
    }
}
