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

/// The operating system's generator, through aws-lc (its CTR-DRBG, seeded and reseeded from
/// the kernel).
///
/// Small draws (a token's `jti`, a code, a handle: at most [`POOLED_MAX`] bytes) come from a
/// per-thread pool that one call to aws-lc fills with [`POOL_BYTES`] bytes: a call costs about
/// 0.8 µs whatever its size (the DRBG's state update is most of it), a copy out of the pool a
/// few nanoseconds. The bytes are the generator's output all the same, each handed out once:
/// a draw takes the pool's next bytes and zeroes them there, so no secret lingers in it.
/// Tessera never forks, so no two processes share a pool.
#[derive(Debug, Default)]
pub struct SystemRng {
    inner: aws_lc_rs::rand::SystemRandom,
}

/// The bytes one fill of a thread's pool draws.
pub const POOL_BYTES: usize = 512;
/// The largest draw served from the pool; larger ones go to aws-lc directly.
pub const POOLED_MAX: usize = 64;

struct Pool {
    bytes: [u8; POOL_BYTES],
    /// The next unused byte; `POOL_BYTES` when the pool is empty.
    next: usize,
}

thread_local! {
    static POOL: std::cell::RefCell<Pool> = const {
        std::cell::RefCell::new(Pool { bytes: [0; POOL_BYTES], next: POOL_BYTES })
    };
}

impl SystemRng {
    pub fn new() -> Self {
        Self::default()
    }

    fn fill_direct(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        use aws_lc_rs::rand::SecureRandom;
        self.inner.fill(buf).map_err(|_| CryptoError::Random)
    }
}

impl SecretRng for SystemRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        if buf.len() > POOLED_MAX {
            return self.fill_direct(buf);
        }
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            if POOL_BYTES - pool.next < buf.len() {
                if let Err(e) = self.fill_direct(&mut pool.bytes) {
                    // Nothing of a failed fill is ever handed out.
                    pool.bytes.fill(0);
                    pool.next = POOL_BYTES;
                    return Err(e);
                }
                pool.next = 0;
            }
            let range = pool.next..pool.next + buf.len();
            buf.copy_from_slice(&pool.bytes[range.clone()]);
            pool.bytes[range].fill(0);
            pool.next += buf.len();
            Ok(())
        })
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
    fn draws_from_the_pool_are_distinct_and_leave_nothing_behind() {
        let rng = SystemRng::new();
        // More draws than one fill of the pool holds, of every pooled size and one larger.
        let mut seen = std::collections::HashSet::new();
        for len in [16usize, 32, 7, POOLED_MAX, POOLED_MAX + 1]
            .into_iter()
            .cycle()
            .take(200)
        {
            let mut b = vec![0u8; len];
            rng.fill(&mut b).unwrap();
            assert!(b.iter().any(|&x| x != 0), "{len} bytes all zero");
            assert!(seen.insert(b), "a draw of {len} bytes repeated");
        }
        // What was handed out is zeroed in the pool; only what is still to come is not.
        POOL.with(|pool| {
            let pool = pool.borrow();
            assert!(pool.bytes[..pool.next].iter().all(|&x| x == 0));
            assert!(pool.next == POOL_BYTES || pool.bytes[pool.next..].iter().any(|&x| x != 0));
        });
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
