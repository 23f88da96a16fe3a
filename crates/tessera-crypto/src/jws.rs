//! Signing keys and compact JWS (RFC 7515) for JWTs: ES256 (the default for access tokens),
//! RS256 (always published, for id_tokens), PS256 (RSASSA-PSS, RFC 7518 §3.5, with the RSA
//! key of RS256), EdDSA (Ed25519, RFC 8037). Keys are generated and
//! used with aws-lc; private keys leave this module only as PKCS#8 bytes for the vault.
//!
//! Signing is a direct aws-lc call on a pre-parsed key: no per-token parsing, so the cost of a
//! token is one signature.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::CryptoError;

/// A JWS algorithm Tessera signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    ES256,
    RS256,
    PS256,
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 4] = [Alg::ES256, Alg::RS256, Alg::PS256, Alg::EdDSA];
    /// The algorithms that have keys of their own: PS256 signs with RS256's RSA key.
    pub const KEYED: [Alg; 3] = [Alg::ES256, Alg::RS256, Alg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

enum Inner {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private signing key with its key id.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    inner: Inner,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} {})", self.alg.as_str(), self.kid)
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    /// A new key and its PKCS#8 encoding (to be sealed in the vault).
    pub fn generate(alg: Alg, kid: String) -> Result<(Self, Vec<u8>), CryptoError> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            Alg::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| CryptoError::Key)?
                    .as_ref()
                    .to_vec()
            }
            Alg::RS256 | Alg::PS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map_err(|_| CryptoError::Key)?
                .as_ref()
                .to_vec(),
            Alg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| CryptoError::Key)?
                .as_ref()
                .to_vec(),
        };
        let key = Self::from_pkcs8(alg, kid, &pkcs8)?;
        Ok((key, pkcs8))
    }

    pub fn from_pkcs8(alg: Alg, kid: String, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let inner = match alg {
            Alg::ES256 => Inner::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(|_| CryptoError::Key)?,
            ),
            Alg::RS256 | Alg::PS256 => {
                Inner::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| CryptoError::Key)?)
            }
            Alg::EdDSA => Inner::Ed(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| CryptoError::Key)?,
            ),
        };
        Ok(Self {
            kid,
            alg,
            inner,
            rng: SystemRandom::new(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Signs the signing input in `out` and appends `.` and the signature in base64url. The
    /// signature is encoded from aws-lc's own value: no copy of it on the heap.
    fn append_signature(&self, out: &mut String) -> Result<(), CryptoError> {
        match &self.inner {
            Inner::Ec(k) => {
                let sig = k
                    .sign(&self.rng, out.as_bytes())
                    .map_err(|_| CryptoError::Key)?;
                out.push('.');
                URL_SAFE_NO_PAD.encode_string(sig.as_ref(), out);
            }
            Inner::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                let padding: &dyn signature::RsaEncoding = if self.alg == Alg::PS256 {
                    &signature::RSA_PSS_SHA256
                } else {
                    &signature::RSA_PKCS1_SHA256
                };
                k.sign(padding, &self.rng, out.as_bytes(), &mut sig)
                    .map_err(|_| CryptoError::Key)?;
                out.push('.');
                URL_SAFE_NO_PAD.encode_string(sig, out);
            }
            Inner::Ed(k) => {
                let sig = k.sign(out.as_bytes());
                out.push('.');
                URL_SAFE_NO_PAD.encode_string(sig.as_ref(), out);
            }
        }
        Ok(())
    }

    /// A compact JWS over `claims` (anything serializing to a JSON object), with header
    /// `{alg, typ, kid}`. The claims are serialized once, straight into the bytes that are
    /// encoded: no `serde_json::Value` in between (the token path signs typed claims).
    pub fn sign_jwt<T: serde::Serialize + ?Sized>(
        &self,
        typ: &str,
        claims: &T,
    ) -> Result<String, CryptoError> {
        let claims = serde_json::to_vec(claims).map_err(|e| CryptoError::Claims(e.to_string()))?;
        self.sign_jwt_json(typ, &claims)
    }

    /// [`Self::sign_jwt`] over claims already serialized as a JSON object.
    pub fn sign_jwt_json(&self, typ: &str, claims: &[u8]) -> Result<String, CryptoError> {
        #[derive(serde::Serialize)]
        struct Header<'a> {
            alg: &'static str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            typ,
            kid: &self.kid,
        })
        .map_err(|e| CryptoError::Claims(e.to_string()))?;
        self.sign_parts(&header, claims)
    }

    /// A compact JWS over `claims` with this header as given (its `alg` must be the key's):
    /// what a client signs, such as a DPoP proof with the public key in `jwk` (RFC 9449 §4.2).
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> Result<String, CryptoError> {
        self.sign_parts(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// `b64(header).b64(claims).b64(signature)` in one buffer sized up front.
    fn sign_parts(&self, header: &[u8], claims: &[u8]) -> Result<String, CryptoError> {
        let mut out = String::with_capacity((header.len() + claims.len()) * 4 / 3 + 360);
        URL_SAFE_NO_PAD.encode_string(header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut out);
        self.append_signature(&mut out)?;
        Ok(out)
    }

    /// The public half as a JWK (RFC 7517 §4; EC per RFC 7518 §6.2, RSA §6.3, OKP RFC 8037).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = match &self.inner {
            Inner::Ec(k) => {
                let p = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..65])})
            }
            Inner::Rsa(k) => {
                let pk = k.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(pk.modulus().big_endian_without_leading_zero()),
                    "e": b64(pk.exponent().big_endian_without_leading_zero()),
                })
            }
            Inner::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(k.public_key().as_ref())})
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!(self.alg.as_str());
        jwk["use"] = json!("sig");
        jwk
    }

    /// The verifying half.
    pub fn verifying_key(&self) -> VerifyingKey {
        let (alg, bytes) = match &self.inner {
            Inner::Ec(k) => (Alg::ES256, k.public_key().as_ref().to_vec()),
            Inner::Rsa(k) => (self.alg, k.public_key().as_ref().to_vec()),
            Inner::Ed(k) => (Alg::EdDSA, k.public_key().as_ref().to_vec()),
        };
        VerifyingKey {
            kid: self.kid.clone(),
            alg,
            bytes,
        }
    }
}

/// A public key that checks signatures.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub alg: Alg,
    bytes: Vec<u8>,
}

impl VerifyingKey {
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let alg: &dyn signature::VerificationAlgorithm = match self.alg {
            Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Alg::EdDSA => &signature::ED25519,
        };
        signature::UnparsedPublicKey::new(alg, &self.bytes)
            .verify(msg, sig)
            .is_ok()
    }
}

/// A compact JWS whose signature checked out.
#[derive(Debug)]
pub struct Verified {
    pub header: Value,
    pub claims: Value,
}

/// The `kid` of a compact JWS, without verifying anything.
pub fn peek_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("kid")?.as_str().map(str::to_owned)
}

/// Verifies a compact JWS with `key`: the header's `alg` and `kid` must be the key's (no
/// algorithm confusion, RFC 8725 §3.1), the signature must verify, the claims must be a JSON
/// object.
pub fn verify(token: &str, key: &VerifyingKey) -> Result<Verified, CryptoError> {
    let mut parts = token.splitn(3, '.');
    let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CryptoError::BadToken);
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(CryptoError::BadToken)?;
    if header["alg"].as_str() != Some(key.alg.as_str()) || header["kid"].as_str() != Some(&key.kid)
    {
        return Err(CryptoError::BadToken);
    }
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| CryptoError::BadToken)?;
    let signed = &token[..h.len() + 1 + p.len()];
    if !key.verify(signed.as_bytes(), &sig) {
        return Err(CryptoError::BadToken);
    }
    let claims: Value = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(Value::is_object)
        .ok_or(CryptoError::BadToken)?;
    Ok(Verified { header, claims })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in Alg::ALL {
            let (key, pkcs8) = SigningKey::generate(alg, format!("k-{}", alg.as_str())).unwrap();
            let again = SigningKey::from_pkcs8(alg, key.kid().into(), &pkcs8).unwrap();
            let claims = json!({"sub": "x", "n": 1});
            let t = again.sign_jwt("at+jwt", &claims).unwrap();
            assert_eq!(peek_kid(&t).as_deref(), Some(key.kid()));
            let v = verify(&t, &key.verifying_key()).unwrap();
            assert_eq!(v.claims, claims);
            assert_eq!(v.header["typ"], "at+jwt");
            assert_eq!(key.public_jwk()["kid"], key.kid());

            // Tampering with the payload breaks it.
            let mut parts: Vec<&str> = t.split('.').collect();
            let other = URL_SAFE_NO_PAD.encode(json!({"sub": "y", "n": 1}).to_string());
            parts[1] = &other;
            assert!(
                verify(&parts.join("."), &key.verifying_key()).is_err(),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn wrong_key_or_alg_is_refused() {
        let (a, _) = SigningKey::generate(Alg::ES256, "a".into()).unwrap();
        let (b, _) = SigningKey::generate(Alg::ES256, "a".into()).unwrap();
        let t = a.sign_jwt("at+jwt", &json!({})).unwrap();
        assert!(verify(&t, &b.verifying_key()).is_err());
        let (r, _) = SigningKey::generate(Alg::EdDSA, "a".into()).unwrap();
        assert!(
            verify(&t, &r.verifying_key()).is_err(),
            "alg must match the key"
        );
        assert!(verify("a.b", &a.verifying_key()).is_err());
        assert!(verify("not a token", &a.verifying_key()).is_err());
    }
}

#[cfg(test)]
mod header_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    proptest::proptest! {
        /// Any string, and any three dot-separated parts, is handled without a panic, and
        /// nothing made up verifies.
        #[test]
        fn any_token_is_refused_or_verified(t in "[ -~]{0,120}") {
            let (key, _) = SigningKey::generate(Alg::ES256, "k1".into()).unwrap();
            let _ = peek_kid(&t);
            proptest::prop_assert!(verify(&t, &key.verifying_key()).is_err());
        }

        /// A signed token whose header was changed (another `alg`, `kid` or `typ`, `none`)
        /// never verifies.
        #[test]
        fn a_changed_header_never_verifies(
            alg in proptest::sample::select(vec!["none", "HS256", "RS256", "EdDSA", "ES384", "ES256"]),
            kid in "[a-z0-9]{0,4}",
            typ in proptest::sample::select(vec!["JWT", "at+jwt", ""]),
        ) {
            let (key, _) = SigningKey::generate(Alg::ES256, "k1".into()).unwrap();
            let token = key.sign_jwt("at+jwt", &serde_json::json!({"sub": "x"})).unwrap();
            let mut parts = token.splitn(3, '.');
            let (_, payload, sig) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            let header = serde_json::json!({"alg": alg, "kid": kid, "typ": typ});
            let forged = format!("{}.{payload}.{sig}", b64(&header));
            let same = alg == "ES256" && kid == "k1" && typ == "at+jwt";
            if !same {
                proptest::prop_assert!(verify(&forged, &key.verifying_key()).is_err());
            }
        }
    }
}
