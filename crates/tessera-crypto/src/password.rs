//! argon2id for passwords and other secrets a person chose. Deliberately slow; never used for
//! generated secrets (see [`crate::hash`]).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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

    fn argon2(&self) -> Result<Argon2<'static>, CryptoError> {
        let p = Params::new(
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            None,
        )
        .map_err(|e| CryptoError::Password(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh 128-bit salt.
    pub fn hash(&self, password: &str, rng: &dyn SecretRng) -> Result<String, CryptoError> {
        let salt_bytes: [u8; 16] = random_bytes(rng)?;
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| CryptoError::Password(e.to_string()))?;
        let h = self
            .argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| CryptoError::Password(e.to_string()))?;
        Ok(h.to_string())
    }

    /// Verifies against a PHC string; the parameters recorded in it win over ours, so old
    /// hashes keep verifying after the cost changes.
    pub fn verify(&self, password: &str, phc: &str) -> Result<bool, CryptoError> {
        let parsed = PasswordHash::new(phc).map_err(|_| CryptoError::MalformedHash)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    }
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
}
