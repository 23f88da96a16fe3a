//! argon2id for passwords and other secrets a person chose. Deliberately slow; never used for
//! generated secrets (see [`crate::hash`]).

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::random::{random_bytes, SecretRng};
use crate::CryptoError;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// The argon2 crate's defaults (19 MiB, 2 passes, 1 lane): the OWASP recommendation.
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl Argon2Params {
    /// Cheap parameters so that tests do not spend their time hashing. Never for production.
    pub fn testing() -> Self {
        Self {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Argon2Params,
}

impl PasswordHasher {
    pub fn new(params: Argon2Params) -> Self {
        Self { params }
    }

    pub fn params(&self) -> Argon2Params {
        self.params
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh 128-bit salt.
    pub fn hash(&self, password: &str, rng: &dyn SecretRng) -> Result<String, CryptoError> {
        let salt: [u8; 16] = random_bytes(rng)?;
        self.hash_with_salt(password, &salt)
    }

    fn hash_with_salt(&self, password: &str, salt: &[u8]) -> Result<String, CryptoError> {
        let failed = |e: &dyn std::fmt::Display| CryptoError::Password(e.to_string());
        let params = Params::new(
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            None,
        )
        .map_err(|e| failed(&e))?;
        let salt_string = SaltString::encode_b64(salt).map_err(|e| failed(&e))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        with_memory(&argon2, params.block_count(), |a, memory| {
            a.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
        })
        .map_err(|e| failed(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
            salt: Some(salt_string.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Verifies against a PHC string; the algorithm, version and parameters recorded in it win
    /// over ours, so old hashes keep verifying after the cost changes. What argon2's own
    /// verifier does, on the thread's kept memory (see [`with_memory`]).
    pub fn verify(&self, password: &str, phc: &str) -> Result<bool, CryptoError> {
        let parsed = PasswordHash::new(phc).map_err(|_| CryptoError::MalformedHash)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let (Ok(algorithm), Ok(params)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
        ) else {
            return Ok(false);
        };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(v) => v.unwrap_or_default(),
            Err(_) => return Ok(false),
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return Ok(false);
        };
        let mut out = vec![0u8; expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let computed = with_memory(&argon2, params.block_count(), |a, memory| {
            a.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
        });
        // `Output`'s equality is constant-time.
        Ok(computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected))
    }
}

/// The most memory a thread keeps between hashes: 64 MiB, well above the default cost (a
/// stored hash asking for more gets memory of its own, given back after).
const KEPT_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// argon2's memory, kept by the thread between hashes. argon2 otherwise allocates and
    /// zeroes its 19 MiB for every hash, about a tenth of the hash's time (two hashing threads
    /// side by side: 15.3–17.7 ms a hash against 13.7–15.3 ms with the memory kept). Every
    /// block is written before it is read, so what an earlier hash left is never used.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `blocks` blocks of this thread's kept memory.
fn with_memory<T>(
    argon2: &Argon2<'_>,
    blocks: usize,
    f: impl FnOnce(&Argon2<'_>, &mut [Block]) -> T,
) -> T {
    if blocks > KEPT_BLOCKS {
        let mut own = vec![Block::default(); blocks];
        return f(argon2, &mut own);
    }
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        f(argon2, &mut memory[..blocks])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = PasswordHasher::new(Argon2Params::testing());
        let rng = crate::SystemRng::new();
        let a = h.hash("hunter2hunter2", &rng).unwrap();
        let b = h.hash("hunter2hunter2", &rng).unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(h.verify("hunter2hunter2", &a).unwrap());
        assert!(!h.verify("hunter3hunter3", &a).unwrap());
        assert!(h.verify("x", "not a hash").is_err());
    }

    /// The same PHC string as argon2's own hasher for the same salt, and each side verifies
    /// the other's hashes, with the parameters recorded in the hash (not ours) applied.
    #[test]
    fn same_as_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let ours = PasswordHasher::new(Argon2Params::testing());
        let salt = [7u8; 16];
        let phc = ours.hash_with_salt("correct horse", &salt).unwrap();
        let p = Params::new(1024, 1, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
            .hash_password(b"correct horse", &SaltString::encode_b64(&salt).unwrap())
            .unwrap()
            .to_string();
        assert_eq!(phc, theirs);
        assert!(Argon2::default()
            .verify_password(b"correct horse", &PasswordHash::new(&phc).unwrap())
            .is_ok());

        // Other costs, another variant and an older version, as stored by others.
        for (alg, version, m, t) in [
            (Algorithm::Argon2id, Version::V0x13, 2048, 2),
            (Algorithm::Argon2i, Version::V0x13, 1024, 1),
            (Algorithm::Argon2d, Version::V0x10, 1024, 1),
        ] {
            let stored = Argon2::new(alg, version, Params::new(m, t, 1, None).unwrap())
                .hash_password(b"s3cret pass", &SaltString::encode_b64(&salt).unwrap())
                .unwrap()
                .to_string();
            assert!(ours.verify("s3cret pass", &stored).unwrap(), "{stored}");
            assert!(!ours.verify("s3cret pasS", &stored).unwrap(), "{stored}");
        }
        // The memory kept by a bigger hash serves a smaller one.
        assert!(ours.verify("correct horse", &phc).unwrap());
        // A hash without its output or salt never verifies.
        assert!(!ours.verify("x", "$argon2id$v=19$m=1024,t=1,p=1").unwrap());
    }
}
