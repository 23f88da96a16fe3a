//! Public keys that clients publish as JWKs (RFC 7517), for checking what they sign: client
//! assertions (RFC 7523, `private_key_jwt` of OIDC Core §9). RSA keys verify RS256/384/512 and
//! PS256/384/512 (RFC 7518 §3.3, §3.5; at least 2048 bits), EC keys ES256 (P-256) and ES384
//! (P-384), OKP keys EdDSA (Ed25519, RFC 8037). Symmetric keys and private key material are
//! refused: a client's JWK Set is public.

use aws_lc_rs::signature::{self, RsaParameters, RsaPublicKeyComponents, VerificationAlgorithm};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::CryptoError;

/// An algorithm a client may sign an assertion with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAlg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

impl ClientAlg {
    pub const ALL: [ClientAlg; 9] = [
        ClientAlg::RS256,
        ClientAlg::RS384,
        ClientAlg::RS512,
        ClientAlg::PS256,
        ClientAlg::PS384,
        ClientAlg::PS512,
        ClientAlg::ES256,
        ClientAlg::ES384,
        ClientAlg::EdDSA,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientAlg::RS256 => "RS256",
            ClientAlg::RS384 => "RS384",
            ClientAlg::RS512 => "RS512",
            ClientAlg::PS256 => "PS256",
            ClientAlg::PS384 => "PS384",
            ClientAlg::PS512 => "PS512",
            ClientAlg::ES256 => "ES256",
            ClientAlg::ES384 => "ES384",
            ClientAlg::EdDSA => "EdDSA",
        }
    }

    /// Parses an algorithm name; `Ed25519`, the fully-specified name of EdDSA over Ed25519
    /// (RFC 9864), is EdDSA.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "Ed25519" {
            return Some(ClientAlg::EdDSA);
        }
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    fn rsa(self) -> Option<&'static RsaParameters> {
        Some(match self {
            ClientAlg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            ClientAlg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            ClientAlg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            ClientAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            ClientAlg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            ClientAlg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed point (`0x04 || x || y`) on P-256 or P-384.
    Ec {
        p384: bool,
        point: Vec<u8>,
    },
    Ed25519(Vec<u8>),
}

/// A client's public key, parsed from its JWK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: Option<String>,
    /// The `alg` the JWK declares, if it declares one: then only that one.
    pub alg: Option<ClientAlg>,
    material: Material,
}

fn member<'a>(jwk: &'a Value, name: &str) -> Result<&'a str, String> {
    jwk.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("'{name}' is missing or not a string"))
}

fn b64_member(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(member(jwk, name)?)
        .map_err(|_| format!("'{name}' is not unpadded base64url"))
}

impl PublicJwk {
    /// Parses one JWK; the error says what is wrong with it.
    pub fn parse(jwk: &Value) -> Result<Self, String> {
        if !jwk.is_object() {
            return Err("a key must be a JSON object".into());
        }
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            if jwk.get(private).is_some() {
                return Err(format!(
                    "'{private}' is private key material: publish only public keys"
                ));
            }
        }
        if let Some(u) = jwk.get("use") {
            if u.as_str() != Some("sig") {
                return Err("'use' must be 'sig' when given".into());
            }
        }
        let kid = match jwk.get("kid") {
            None => None,
            Some(Value::String(k)) if !k.is_empty() && k.len() <= 200 => Some(k.clone()),
            Some(_) => return Err("'kid' must be a string of 1 to 200 characters".into()),
        };
        let alg = match jwk.get("alg") {
            None => None,
            Some(a) => Some(
                a.as_str()
                    .and_then(ClientAlg::parse)
                    .ok_or_else(|| format!("unsupported 'alg' {a}: use one of {}", names()))?,
            ),
        };
        let material = match member(jwk, "kty")? {
            "RSA" => {
                let n = b64_member(jwk, "n")?;
                let e = b64_member(jwk, "e")?;
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 {
                    return Err("an RSA key must have at least 2048 bits".into());
                }
                Material::Rsa { n, e }
            }
            "EC" => {
                let (p384, len) = match member(jwk, "crv")? {
                    "P-256" => (false, 32),
                    "P-384" => (true, 48),
                    other => {
                        return Err(format!("unsupported curve '{other}': use P-256 or P-384"))
                    }
                };
                let (x, y) = (b64_member(jwk, "x")?, b64_member(jwk, "y")?);
                if x.len() != len || y.len() != len {
                    return Err("'x' and 'y' do not fit the curve".into());
                }
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Material::Ec { p384, point }
            }
            "OKP" => {
                if member(jwk, "crv")? != "Ed25519" {
                    return Err("unsupported OKP curve: use Ed25519".into());
                }
                let x = b64_member(jwk, "x")?;
                if x.len() != 32 {
                    return Err("'x' is not an Ed25519 public key".into());
                }
                Material::Ed25519(x)
            }
            other => return Err(format!("unsupported 'kty' '{other}': use RSA, EC or OKP")),
        };
        let key = Self { kid, alg, material };
        if let Some(a) = alg {
            if !key.fits(a) {
                return Err(format!("'alg' {} does not fit the key type", a.as_str()));
            }
        }
        Ok(key)
    }

    /// The key's JWK SHA-256 thumbprint (RFC 7638 §3), base64url: the members its key type
    /// requires, in lexicographic order, without whitespace. DPoP binds tokens to it
    /// (RFC 9449 §6.1 `jkt`).
    pub fn thumbprint(&self) -> String {
        let b = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
        let canonical = match &self.material {
            Material::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(e), b(n))
            }
            Material::Ec { p384, point } => {
                let len = (point.len() - 1) / 2;
                format!(
                    r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                    if *p384 { "P-384" } else { "P-256" },
                    b(&point[1..=len]),
                    b(&point[1 + len..])
                )
            }
            Material::Ed25519(x) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b(x)),
        };
        b(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// Whether the key's type can verify `alg`.
    fn fits(&self, alg: ClientAlg) -> bool {
        match &self.material {
            Material::Rsa { .. } => alg.rsa().is_some(),
            Material::Ec { p384: false, .. } => alg == ClientAlg::ES256,
            Material::Ec { p384: true, .. } => alg == ClientAlg::ES384,
            Material::Ed25519(_) => alg == ClientAlg::EdDSA,
        }
    }

    /// Whether this key may verify a JWS with this header `alg` (and `kid`, when the header
    /// names one).
    pub fn accepts(&self, alg: ClientAlg, kid: Option<&str>) -> bool {
        self.fits(alg)
            && self.alg.is_none_or(|a| a == alg)
            && kid.is_none_or(|k| self.kid.as_deref() == Some(k))
    }

    fn verify(&self, alg: ClientAlg, msg: &[u8], sig: &[u8]) -> bool {
        match &self.material {
            Material::Rsa { n, e } => alg.rsa().is_some_and(|params| {
                RsaPublicKeyComponents { n, e }
                    .verify(params, msg, sig)
                    .is_ok()
            }),
            Material::Ec { p384, point } => {
                let a: &dyn VerificationAlgorithm = if *p384 {
                    &signature::ECDSA_P384_SHA384_FIXED
                } else {
                    &signature::ECDSA_P256_SHA256_FIXED
                };
                signature::UnparsedPublicKey::new(a, point)
                    .verify(msg, sig)
                    .is_ok()
            }
            Material::Ed25519(x) => signature::UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(msg, sig)
                .is_ok(),
        }
    }
}

fn names() -> String {
    ClientAlg::ALL
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a JWK Set (`{"keys": [...]}`); the error names the key and what is wrong with it.
pub fn parse_jwks(set: &Value) -> Result<Vec<PublicJwk>, String> {
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| "must be a JWK Set: an object with a 'keys' array".to_owned())?;
    if keys.is_empty() {
        return Err("'keys' is empty".into());
    }
    if keys.len() > 20 {
        return Err("at most 20 keys".into());
    }
    let mut out: Vec<PublicJwk> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let key = PublicJwk::parse(k).map_err(|e| format!("keys[{i}]: {e}"))?;
        if let Some(kid) = &key.kid {
            if out.iter().any(|o| o.kid.as_ref() == Some(kid)) {
                return Err(format!("keys[{i}]: the kid '{kid}' is used twice"));
            }
        }
        out.push(key);
    }
    Ok(out)
}

/// A compact JWS verified with one of a client's keys.
#[derive(Debug)]
pub struct ClientVerified {
    pub alg: ClientAlg,
    pub claims: Value,
}

/// Splits a compact JWS and reads its header's `alg` and `kid` (nothing verified).
pub fn peek_header(token: &str) -> Result<(ClientAlg, Option<String>), CryptoError> {
    let h = token.split('.').next().ok_or(CryptoError::BadToken)?;
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(CryptoError::BadToken)?;
    let alg = header["alg"]
        .as_str()
        .and_then(ClientAlg::parse)
        .ok_or(CryptoError::BadToken)?;
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok((alg, kid))
}

/// Verifies a compact JWS with the first of `keys` that accepts its header (by `kid` when it
/// names one, else every key of a fitting type is tried). The header's `alg` must be one Tessera
/// knows (never `none` or a symmetric one, RFC 8725 §3.1); the claims must be a JSON object.
pub fn verify_with_keys(token: &str, keys: &[PublicJwk]) -> Result<ClientVerified, CryptoError> {
    let (alg, kid) = peek_header(token)?;
    let mut parts = token.splitn(3, '.');
    let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CryptoError::BadToken);
    };
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| CryptoError::BadToken)?;
    let signed = &token[..h.len() + 1 + p.len()];
    let ok = keys
        .iter()
        .filter(|k| k.accepts(alg, kid.as_deref()))
        .any(|k| k.verify(alg, signed.as_bytes(), &sig));
    if !ok {
        return Err(CryptoError::BadToken);
    }
    let claims: Value = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(Value::is_object)
        .ok_or(CryptoError::BadToken)?;
    Ok(ClientVerified { alg, claims })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws::{Alg, SigningKey};
    use serde_json::json;

    /// RFC 7638 §3.1's example key and its thumbprint.
    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            PublicJwk::parse(&jwk).unwrap().thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    /// Tessera's own signing keys stand in for a client's: their public JWKs parse, and what
    /// they sign verifies, by kid or without one.
    #[test]
    fn client_keys_verify_what_they_sign() {
        for alg in Alg::ALL {
            let (key, _) = SigningKey::generate(alg, format!("c-{}", alg.as_str())).unwrap();
            let jwks = json!({"keys": [key.public_jwk()]});
            let keys = parse_jwks(&jwks).unwrap();
            let t = key.sign_jwt("JWT", &json!({"iss": "c"})).unwrap();
            let v = verify_with_keys(&t, &keys).unwrap();
            assert_eq!(v.claims["iss"], "c");
            assert_eq!(v.alg.as_str(), alg.as_str());
            // Without a kid in the JWK, the key is still tried.
            let mut bare = key.public_jwk();
            bare.as_object_mut().unwrap().remove("kid");
            let keys = parse_jwks(&json!({"keys": [bare]})).unwrap();
            assert!(
                verify_with_keys(&t, &keys).is_err(),
                "the header names a kid the set lacks"
            );
            // Another key of the same type does not verify it.
            let (other, _) = SigningKey::generate(alg, format!("c-{}", alg.as_str())).unwrap();
            let keys = parse_jwks(&json!({"keys": [other.public_jwk()]})).unwrap();
            assert!(verify_with_keys(&t, &keys).is_err());
        }
    }

    #[test]
    fn bad_sets_and_tokens_are_named_or_refused() {
        let (key, _) = SigningKey::generate(Alg::ES256, "k".into()).unwrap();
        let mut private = key.public_jwk();
        private["d"] = json!("AAAA");
        for (set, needle) in [
            (json!([]), "JWK Set"),
            (json!({"keys": []}), "empty"),
            (json!({"keys": [private]}), "keys[0]: 'd' is private"),
            (
                json!({"keys": [{"kty": "oct", "k": "AAAA"}]}),
                "private key material",
            ),
            (json!({"keys": [{"kty": "oct"}]}), "unsupported 'kty'"),
            (
                json!({"keys": [{"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}]}),
                "curve",
            ),
            (
                json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}),
                "2048 bits",
            ),
            (
                json!({"keys": [key.public_jwk(), key.public_jwk()]}),
                "used twice",
            ),
            (
                json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([0u8; 32]), "alg": "ES256"}]}),
                "does not fit",
            ),
        ] {
            let e = parse_jwks(&set).unwrap_err();
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
        let keys = parse_jwks(&json!({"keys": [key.public_jwk()]})).unwrap();
        // `none` and HS256 are never accepted.
        for header in [json!({"alg": "none"}), json!({"alg": "HS256", "kid": "k"})] {
            let t = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode("{}")
            );
            assert!(verify_with_keys(&t, &keys).is_err());
        }
    }
}
