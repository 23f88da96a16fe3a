//! oauth4webapi, a strict client library, as a FAPI 2.0 client (`interop/fapi/flow.mjs`, its
//! packages installed by the test command from `interop/fapi/package-lock.json`): a signed
//! request object pushed with DPoP and `private_key_jwt`, the real login and consent pages,
//! the code redeemed with DPoP, userinfo and a refresh, every DPoP nonce challenge answered;
//! then a logout, whose logout token its back-channel receiver checks with jose.

use base64::Engine;
use serde_json::{json, Value};
use tessera_crypto::jws::{Alg, SigningKey};
use tessera_testkit::TestServer;

use crate::fapi2_security_profile::{claims_of, Fapi, REDIRECT};
use crate::support::acme_client;

/// PKCS#8 bytes as PEM.
fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn oauth4webapi_does_par_dpop_private_key_jwt_and_signed_requests_and_hears_the_logout() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/fapi");
    let installed = dir.join("node_modules/oauth4webapi").is_dir();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !(installed && node) {
        assert!(
            std::env::var("TESSERA_TEST_REQUIRE_NODE").as_deref() != Ok("1"),
            "node or interop/fapi/node_modules is missing (npm ci --prefix interop/fapi)"
        );
        eprintln!("skipped: node or oauth4webapi is not installed (npm ci --prefix interop/fapi)");
        return;
    }
    // Nonces required, so that the library's nonce handling is exercised too.
    let f = Fapi::on(TestServer::start_with_dpop_nonces().await).await;
    let (key, pkcs8) = SigningKey::generate(Alg::ES256, "oauth4webapi".into()).unwrap();
    // A port for the receiver, named in the client's backchannelLogoutUri.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (id, _) = acme_client(
        &f.s,
        &f.admin,
        json!({
            "name": "oauth4webapi",
            "redirectUris": [REDIRECT],
            "grantTypes": ["authorization_code", "refresh_token"],
            "allowedScopes": ["openid", "profile"],
            "tokenEndpointAuthMethod": "private_key_jwt",
            "jwks": {"keys": [key.public_jwk()]},
            "idTokenSignedResponseAlg": "ES256",
            "securityProfile": "fapi2",
            "requireSignedRequestObject": true,
            "backchannelLogoutUri": format!("http://127.0.0.1:{port}/bc"),
            "backchannelLogoutSessionRequired": true,
        }),
    )
    .await;
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new("node")
            .arg(dir.join("flow.mjs"))
            .env("ISSUER", f.issuer())
            .env("ORIGIN", f.s.url(""))
            .env("CLIENT_ID", &id)
            .env("CLIENT_PKCS8", pem(&pkcs8))
            .env("REDIRECT_URI", REDIRECT)
            .env("BC_PORT", port.to_string())
            .env("LOGIN_PATH", "/orgs/acme-corp/login")
            .env("CONSENT_PATH", "/orgs/acme-corp/consent")
            .env("USERNAME", "alice")
            .env("PASSWORD", "correct horse battery")
            .output(),
    )
    .await
    .expect("the library finishes within a minute")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        v["token_type"].as_str().map(str::to_lowercase).as_deref(),
        Some("dpop"),
        "{v}"
    );
    assert_eq!(
        v["refreshed_token_type"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("dpop")
    );
    // Bound to the library's key; PAR and the token endpoint each asked for a nonce.
    let at = claims_of(v["access_token"].as_str().unwrap());
    assert_eq!(at["cnf"]["jkt"], v["dpop_jkt"]);
    assert!(v["nonce_retries"].as_i64().unwrap() >= 1, "{v}");
    assert_eq!(v["userinfo_sub"], at["sub"]);
    // The logout token: once, for this session.
    assert_eq!(v["logout_tokens"], 1);
    assert_eq!(v["logout"]["sid"], v["id_token_sid"]);
    assert_eq!(v["logout"]["typ"], "logout+jwt");
    assert!(
        v["logout"]["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object()
    );
}
