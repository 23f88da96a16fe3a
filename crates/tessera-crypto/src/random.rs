//! Randomness, injected: [`SystemRng`] in production, [`SeededRng`] where a test needs
//! repeatable output. Secrets are 256 bits, base64url without padding (43 characters).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::SecretString;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::CryptoError;

/// A source of cryptographically strong random bytes.
pub trait SecretRng: Send + Sync + std::fmt::Debug {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError>;
}

/// The operating system's generator, through aws-lc.
#[derive(Debug, Default)]
pub struct SystemRng {
    inner: aws_lc_rs::rand::SystemRandom,
}

impl SystemRng {
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretRng for SystemRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        use aws_lc_rs::rand::SecureRandom;
        self.inner.fill(buf).map_err(|_| CryptoError::Random)
    }
}

/// A deterministic generator for tests: SHA-256 over (seed, counter). Never for production.
#[derive(Debug)]
pub struct SeededRng {
    seed: [u8; 32],
    counter: AtomicU64,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        Self {
            seed: s,
            counter: AtomicU64::new(0),
        }
    }
}

impl SecretRng for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in buf.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::SeqCst);
            let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
            ctx.update(&self.seed);
            ctx.update(&n.to_le_bytes());
            let d = ctx.finish();
            chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}

/// Random bytes of a fixed size.
pub fn random_bytes<const N: usize>(rng: &dyn SecretRng) -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    rng.fill(&mut b)?;
    Ok(b)
}

/// A new secret: `prefix` followed by 256 random bits in base64url (43 characters).
pub fn generate_secret(rng: &dyn SecretRng, prefix: &str) -> Result<SecretString, CryptoError> {
    let bytes: [u8; 32] = random_bytes(rng)?;
    let mut s = String::with_capacity(prefix.len() + 43);
    s.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut s);
    Ok(SecretString::from(s))
}

/// The last four characters of a secret, shown as `…abcd` so keys can be told apart.
pub fn secret_hint(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn secrets_have_prefix_and_256_bits() {
        let rng = SystemRng::new();
        let a = generate_secret(&rng, "sk_live_").unwrap();
        let b = generate_secret(&rng, "sk_live_").unwrap();
        assert!(a.expose_secret().starts_with("sk_live_"));
        assert_eq!(a.expose_secret().len(), 8 + 43);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn seeded_is_repeatable() {
        let a = generate_secret(&SeededRng::new(7), "x").unwrap();
        let b = generate_secret(&SeededRng::new(7), "x").unwrap();
        assert_eq!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn hint_is_last_four() {
        assert_eq!(secret_hint("sk_live_abcdWXYZ"), "…WXYZ");
        assert_eq!(secret_hint("ab"), "…ab");
    }
}
