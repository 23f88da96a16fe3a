//! The master key: the root of everything Tessera encrypts or keys at rest.
//!
//! It comes from `TESSERA_MASTER_KEY` (32 bytes as base64url or 64 hex digits: every node of a
//! cluster must share it) or, on a single machine, from `master.key` in the data dir, created
//! on first start with mode 0600. Purpose-bound sub-keys are derived from it with HKDF-SHA256
//! (RFC 5869), so one purpose's key reveals nothing about another's.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::hkdf;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretBox};

use crate::random::{random_bytes, SecretRng};

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("TESSERA_MASTER_KEY must be 32 bytes as base64url (43 characters) or hex (64 digits)")]
    BadEncoding,
    #[error("master key file {path}: {reason}")]
    File { path: String, reason: String },
}

/// The 256-bit master key. Cannot be printed.
pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn decode(s: &str) -> Result<[u8; 32], MasterKeyError> {
    let s = s.trim();
    let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| MasterKeyError::BadEncoding)?
    } else {
        URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| MasterKeyError::BadEncoding)?
    };
    bytes.try_into().map_err(|_| MasterKeyError::BadEncoding)
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// Parses the environment form of the key.
    pub fn from_encoded(s: &str) -> Result<Self, MasterKeyError> {
        decode(s).map(Self::from_bytes)
    }

    /// Reads the key file, creating it (mode 0600) with a fresh key when it does not exist.
    /// Refuses a file that others can read: the key would no longer be secret.
    pub fn load_or_create(path: &Path, rng: &dyn SecretRng) -> Result<Self, MasterKeyError> {
        let err = |reason: String| MasterKeyError::File {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(s) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(path)
                        .map_err(|e| err(e.to_string()))?
                        .permissions()
                        .mode();
                    if mode & 0o077 != 0 {
                        return Err(err(format!(
                            "is accessible to other users (mode {:o}); run chmod 600 on it",
                            mode & 0o777
                        )));
                    }
                }
                decode(&s)
                    .map(Self::from_bytes)
                    .map_err(|_| err("does not hold a 32-byte key".into()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes: [u8; 32] = random_bytes(rng).map_err(|e| err(e.to_string()))?;
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                match opts.open(path) {
                    Ok(mut f) => {
                        writeln!(f, "{}", URL_SAFE_NO_PAD.encode(bytes))
                            .and_then(|()| f.sync_all())
                            .map_err(|e| err(e.to_string()))?;
                        Ok(Self::from_bytes(bytes))
                    }
                    // Another process created it between our read and our create: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(path, rng)
                    }
                    Err(e) => Err(err(e.to_string())),
                }
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// A new random key in the encoded form `from_encoded` reads (base64url, 43 characters).
    pub fn generate_encoded(rng: &dyn SecretRng) -> Result<String, crate::CryptoError> {
        let bytes: [u8; 32] = random_bytes(rng)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A 256-bit sub-key for one purpose, e.g. `"api-key-hash"`.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"tessera master key v1");
        let prk = salt.extract(self.0.expose_secret());
        let info = [purpose.as_bytes()];
        let mut out = [0u8; 32];
        // Expanding 32 bytes from SHA-256 HKDF cannot fail (the limit is 255 * 32).
        if let Ok(okm) = prk.expand(&info, Len(32)) {
            let _ = okm.fill(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemRng;

    #[test]
    fn file_is_created_0600_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&p, &SystemRng::new()).unwrap();
        let b = MasterKey::load_or_create(&p, &SystemRng::new()).unwrap();
        assert_eq!(a.derive("x"), b.derive("x"));
        assert_ne!(a.derive("x"), a.derive("y"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = MasterKey::load_or_create(&p, &SystemRng::new()).unwrap_err();
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
    }

    #[test]
    fn generated_keys_read_back() {
        let a = MasterKey::generate_encoded(&SystemRng::new()).unwrap();
        let b = MasterKey::generate_encoded(&SystemRng::new()).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(MasterKey::from_encoded(&a).is_ok());
    }

    #[test]
    fn encodings() {
        let hex = "00".repeat(32);
        let b64 = URL_SAFE_NO_PAD.encode([0u8; 32]);
        assert_eq!(
            MasterKey::from_encoded(&hex).unwrap().derive("p"),
            MasterKey::from_encoded(&b64).unwrap().derive("p")
        );
        assert!(MasterKey::from_encoded("short").is_err());
    }
}
