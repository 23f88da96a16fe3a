//! Tessera's cryptography, in one place so it can be reviewed in one place.
//!
//! - [`random`]: the injected source of randomness, and the 256-bit secrets made from it.
//! - [`hash`]: keyed SHA-256 (HMAC) for generated secrets — microseconds to verify, which keeps
//!   slow hashes off hot paths — and the stored-hash format that names its algorithm.
//! - [`password`]: argon2id for secrets a person chose, whose entropy is unknown.
//! - [`vault`]: AES-256-GCM at rest, with a key ring and the row's identity as associated data.
//! - [`jws`]: signing keys (ES256, RS256, EdDSA), compact JWS and JWKs.
//! - [`master`]: the master key (from the environment or a 0600 file) and the sub-keys derived
//!   from it with HKDF, one per purpose.
//!
//! This crate knows nothing of storage, HTTP or the domain; it only turns bytes into bytes.

pub mod hash;
pub mod jwk;
pub mod jws;
pub mod master;
pub mod password;
pub mod random;
pub mod vault;

pub use hash::{HashKey, StoredHash};
pub use jws::{Alg, SigningKey, VerifyingKey};
pub use master::{MasterKey, MasterKeyError};
pub use password::{Argon2Params, PasswordHasher};
pub use random::{generate_secret, secret_hint, SecretRng, SeededRng, SystemRng};
pub use vault::{RowId, Vault};

/// Errors of this crate. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the system random number generator failed")]
    Random,
    #[error("password hashing failed: {0}")]
    Password(String),
    #[error("a stored hash is malformed")]
    MalformedHash,
    #[error("a sealed value cannot be opened here")]
    Vault,
    #[error("a signing key could not be generated or read")]
    Key,
    #[error("the token is malformed or its signature does not verify")]
    BadToken,
    #[error("the claims cannot be written as JSON: {0}")]
    Claims(String),
}
