//! Stored hashes of secrets. A stored hash names its algorithm (`hmac-sha256$…` or an argon2
//! PHC string `$argon2id$…`), so the algorithm can change later without a flag day.
//!
//! Generated secrets carry 256 bits of entropy, so a keyed SHA-256 is as strong as any slow
//! hash against guessing, and costs a microsecond. The key ([`HashKey`]) is derived from the
//! master key, so a stolen database alone does not allow offline checks of guessed keys.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::password::PasswordHasher;
use crate::CryptoError;

const HMAC_PREFIX: &str = "hmac-sha256$";

/// The server-side key of the keyed hash.
#[derive(Clone)]
pub struct HashKey {
    key: hmac::Key,
}

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(…)")
    }
}

impl HashKey {
    pub fn new(bytes: &[u8; 32]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
        }
    }

    /// The stored form of a generated secret: `hmac-sha256$` + base64url(HMAC(key, secret)).
    /// Deterministic, so it doubles as the lookup key of the secret.
    pub fn hash(&self, secret: &str) -> String {
        let mut buf = [0u8; STORED_LEN];
        String::from_utf8_lossy(self.stored_form(secret, &mut buf)).into_owned()
    }

    /// [`Self::hash`] written into `buf`, without a `String`: the token path checks a secret
    /// on every request.
    fn stored_form<'b>(&self, secret: &str, buf: &'b mut [u8; STORED_LEN]) -> &'b [u8] {
        let tag = hmac::sign(&self.key, secret.as_bytes());
        buf[..HMAC_PREFIX.len()].copy_from_slice(HMAC_PREFIX.as_bytes());
        // 32 bytes are always 43 characters of unpadded base64url: the buffer fits them.
        let written = URL_SAFE_NO_PAD
            .encode_slice(tag.as_ref(), &mut buf[HMAC_PREFIX.len()..])
            .unwrap_or_default();
        &buf[..HMAC_PREFIX.len() + written]
    }
}

/// The length of the stored form: the prefix and a 256-bit tag in unpadded base64url.
const STORED_LEN: usize = HMAC_PREFIX.len() + 43;

/// A parsed stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredHash {
    HmacSha256(String),
    Argon2(String),
}

impl StoredHash {
    /// The stored text, as [`StoredHash::parse`] took it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::HmacSha256(s) | Self::Argon2(s) => s,
        }
    }

    pub fn parse(stored: &str) -> Result<Self, CryptoError> {
        if stored.starts_with(HMAC_PREFIX) {
            Ok(Self::HmacSha256(stored.to_owned()))
        } else if stored.starts_with("$argon2") {
            Ok(Self::Argon2(stored.to_owned()))
        } else {
            Err(CryptoError::MalformedHash)
        }
    }

    /// Checks a presented secret in constant time (HMAC) or with argon2's own verifier.
    pub fn verify(
        &self,
        presented: &str,
        key: &HashKey,
        passwords: &PasswordHasher,
    ) -> Result<bool, CryptoError> {
        match self {
            Self::HmacSha256(expected) => {
                let mut buf = [0u8; STORED_LEN];
                // One constant-time comparison of the whole tag (aws-lc's), not one per byte.
                Ok(aws_lc_rs::constant_time::verify_slices_are_equal(
                    key.stored_form(presented, &mut buf),
                    expected.as_bytes(),
                )
                .is_ok())
            }
            Self::Argon2(phc) => passwords.verify(presented, phc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::Argon2Params;

    #[test]
    fn keyed_hash_verifies_and_depends_on_key() {
        let k1 = HashKey::new(&[1; 32]);
        let k2 = HashKey::new(&[2; 32]);
        let h = k1.hash("sk_live_abc");
        assert!(h.starts_with("hmac-sha256$"));
        assert_ne!(h, k2.hash("sk_live_abc"));
        let p = PasswordHasher::new(Argon2Params::testing());
        let stored = StoredHash::parse(&h).unwrap();
        assert!(stored.verify("sk_live_abc", &k1, &p).unwrap());
        assert!(!stored.verify("sk_live_abd", &k1, &p).unwrap());
        assert!(!stored.verify("sk_live_abc", &k2, &p).unwrap());
    }

    #[test]
    fn argon2_hashes_are_recognised() {
        let p = PasswordHasher::new(Argon2Params::testing());
        let phc = p.hash("correct horse", &crate::SeededRng::new(1)).unwrap();
        let stored = StoredHash::parse(&phc).unwrap();
        let k = HashKey::new(&[0; 32]);
        assert!(stored.verify("correct horse", &k, &p).unwrap());
        assert!(!stored.verify("wrong horse", &k, &p).unwrap());
        assert!(StoredHash::parse("md5$abc").is_err());
    }
}
