//! `private_key_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9) over real HTTP: a client with keys
//! and no secret authenticates with assertions signed by any of its keys, at the token and
//! introspection endpoints; every broken rule of §3 is the same `invalid_client`, told apart
//! in the audit log; a used assertion never works again.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_crypto::jws::{Alg, SigningKey};
use tessera_testkit::TestServer;

use crate::support::{call, json};

use crate::support::ACME_CLIENTS as ADMIN;
const TOKEN: &str = "/orgs/acme-corp/api/v1/oauth/token";
const INTROSPECT: &str = "/orgs/acme-corp/api/v1/oauth/introspect";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct Keyed {
    s: TestServer,
    admin: String,
    id: String,
    keys: Vec<SigningKey>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The claims a client library sends (openid-client, oauth4webapi): iss = sub = the client,
/// aud = the token endpoint, a minute of life, a random jti.
fn claims(k: &Keyed, aud: &str) -> Value {
    json!({
        "iss": k.id, "sub": k.id, "aud": aud,
        "iat": now(), "exp": now() + 60,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

async fn keyed() -> Keyed {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let keys: Vec<SigningKey> = Alg::ALL
        .iter()
        .map(|a| {
            SigningKey::generate(*a, format!("client-{}", a.as_str()))
                .unwrap()
                .0
        })
        .collect();
    let jwks = json!({"keys": keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>()});
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(json!({"name": "Signer", "redirectUris": [],
                        "grantTypes": ["client_credentials"], "allowedScopes": ["read"],
                        "tokenEndpointAuthMethod": "private_key_jwt", "jwks": jwks})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    // No secret: the keys are the credential.
    assert!(c.get("secret").is_none(), "{c}");
    assert_eq!(c["secrets"], json!([]));
    assert_eq!(c["clientType"], "confidential");
    assert_eq!(c["jwks"], jwks);
    Keyed {
        id: c["id"].as_str().unwrap().to_owned(),
        s,
        admin,
        keys,
    }
}

async fn with_assertion(
    k: &Keyed,
    path: &str,
    assertion: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    k.s.http
        .post(k.s.url(path))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn cc(k: &Keyed, assertion: &str) -> reqwest::Response {
    with_assertion(k, TOKEN, assertion, &[("grant_type", "client_credentials")]).await
}

#[tokio::test]
async fn every_key_signs_assertions_that_authenticate_once() {
    let k = keyed().await;
    let token_url = k.s.url(TOKEN);
    let issuer = k.s.url("/orgs/acme-corp");
    let discovery: Value =
        k.s.http
            .get(k.s.url("/orgs/acme-corp/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("private_key_jwt")));
    let algs = discovery["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .clone();
    for key in &k.keys {
        assert!(algs.contains(&json!(key.alg().as_str())));
        // aud = the token endpoint (OIDC Core §9) and aud = the issuer (FAPI 2.0) both work.
        for aud in [&token_url, &issuer] {
            let assertion = key.sign_jwt("JWT", &claims(&k, aud)).unwrap();
            let res = cc(&k, &assertion).await;
            assert_eq!(res.status(), 200, "{}", key.alg().as_str());
            let (_, t) = json(res).await;
            let access = t["access_token"].as_str().unwrap().to_owned();
            // The same assertion again is a replay.
            let res = cc(&k, &assertion).await;
            assert_eq!(res.status(), 401);
            let (_, e) = json(res).await;
            assert_eq!(e["error"], "invalid_client");
            // Introspection authenticates the same way, the audience its own URL.
            let intro = key
                .sign_jwt("JWT", &claims(&k, &k.s.url(INTROSPECT)))
                .unwrap();
            let (st, v) =
                json(with_assertion(&k, INTROSPECT, &intro, &[("token", access.as_str())]).await)
                    .await;
            assert_eq!((st, &v["active"]), (200, &json!(true)), "{v}");
            assert_eq!(v["client_id"], k.id.as_str());
        }
    }
    // client_id may come along, and must name the same client.
    let a = k.keys[0].sign_jwt("JWT", &claims(&k, &token_url)).unwrap();
    let res = with_assertion(
        &k,
        TOKEN,
        &a,
        &[("grant_type", "client_credentials"), ("client_id", &k.id)],
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn broken_assertions_are_one_invalid_client_with_reasons_in_the_audit_log() {
    let k = keyed().await;
    let token_url = k.s.url(TOKEN);
    let key = &k.keys[0];
    let with = |patch: Value| {
        let mut c = claims(&k, &token_url);
        for (name, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(name);
            } else {
                c[name] = v.clone();
            }
        }
        key.sign_jwt("JWT", &c).unwrap()
    };
    let (stranger, _) = SigningKey::generate(Alg::ES256, "client-ES256".into()).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            with(json!({"aud": "https://elsewhere.example/token"})),
            "the assertion's aud names neither the issuer nor the endpoint",
        ),
        (
            with(json!({"exp": now() - 120})),
            "the assertion has expired",
        ),
        (
            with(json!({"exp": now() + 7200})),
            "the assertion expires more than an hour ahead",
        ),
        (with(json!({"exp": null})), "the assertion has no exp"),
        (
            with(json!({"nbf": now() + 600})),
            "the assertion is not valid yet (nbf)",
        ),
        (
            with(json!({"jti": null})),
            "the assertion has no jti of 1 to 256 characters",
        ),
        (
            with(json!({"iss": "someone-else"})),
            "the assertion's iss and sub must be the client id",
        ),
        (
            stranger.sign_jwt("JWT", &claims(&k, &token_url)).unwrap(),
            "the assertion does not verify with any of the client's keys",
        ),
        (
            {
                // alg none, with the client's own claims.
                use base64::Engine;
                let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                format!(
                    "{}.{}.",
                    b.encode(r#"{"alg":"none"}"#),
                    b.encode(claims(&k, &token_url).to_string())
                )
            },
            "the assertion does not verify with any of the client's keys",
        ),
    ];
    for (assertion, reason) in &cases {
        let res = cc(&k, assertion).await;
        assert_eq!(res.status(), 401, "{reason}");
        let (_, e) = json(res).await;
        assert_eq!(e["error"], "invalid_client", "{reason}");
        assert_eq!(e["error_description"], "client authentication failed");
    }
    // A secret for this client, or an assertion for a client with a secret, fail the same.
    let res =
        k.s.http
            .post(k.s.url(TOKEN))
            .basic_auth(&k.id, Some("cs_live_guess"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 401);
    let (st, other) = json(
        call(
            &k.s,
            Method::POST,
            ADMIN,
            Some(&k.admin),
            Some(json!({"name": "Secret holder", "redirectUris": [],
                        "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let other_id = other["id"].as_str().unwrap();
    let mut c = claims(&k, &token_url);
    c["iss"] = json!(other_id);
    c["sub"] = json!(other_id);
    let res = cc(&k, &key.sign_jwt("JWT", &c).unwrap()).await;
    assert_eq!(res.status(), 401);

    let (_, log) = json(
        call(
            &k.s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?limit=50",
            Some(&k.admin),
            None,
        )
        .await,
    )
    .await;
    let recorded: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "oauth_client.authentication_failed")
        .map(|e| e["after"]["reason"].as_str().unwrap())
        .collect();
    for (_, reason) in &cases {
        assert!(recorded.contains(reason), "{reason} in {recorded:?}");
    }
    for reason in [
        "a secret sent for a client that authenticates with a JWT (private_key_jwt or client_secret_jwt)",
        "an assertion sent for a client that uses neither private_key_jwt nor client_secret_jwt",
    ] {
        assert!(recorded.contains(&reason), "{reason} in {recorded:?}");
    }
}

#[tokio::test]
async fn malformed_requests_and_key_rules_are_named() {
    let k = keyed().await;
    let a = k.keys[0]
        .sign_jwt("JWT", &claims(&k, &k.s.url(TOKEN)))
        .unwrap();
    // (form, with a Basic header too, what the error says)
    type Case<'a> = (Vec<(&'a str, &'a str)>, bool, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("client_assertion_type", "urn:example:saml"),
                ("client_assertion", &a),
            ],
            false,
            "client_assertion_type must be",
        ),
        (vec![("client_assertion", &a)], false, "go together"),
        (
            vec![
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            true,
            "one client authentication method",
        ),
        (
            vec![
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
                ("client_id", "another"),
            ],
            false,
            "differs from the client assertion's subject",
        ),
    ];
    for (mut form, basic, needle) in cases {
        form.push(("grant_type", "client_credentials"));
        let mut req = k.s.http.post(k.s.url(TOKEN)).form(&form);
        if basic {
            req = req.basic_auth(&k.id, Some("x"));
        }
        let (st, e) = json(req.send().await.unwrap()).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (400, Some("invalid_request")),
            "{e}"
        );
        assert!(
            e["error_description"].as_str().unwrap().contains(needle),
            "{e}"
        );
    }

    // The keys: required by private_key_jwt, public only, each rule named on `jwks`.
    let create = |body: Value| call(&k.s, Method::POST, ADMIN, Some(&k.admin), Some(body));
    for (jwks, needle) in [
        (
            Value::Null,
            "private_key_jwt needs the client's public keys",
        ),
        (
            json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
            "private key material",
        ),
        (json!({"keys": []}), "'keys' is empty"),
        (json!([1]), "JWK Set"),
    ] {
        let (st, e) = json(
            create(json!({"name": "Bad keys", "redirectUris": [],
                          "grantTypes": ["client_credentials"],
                          "tokenEndpointAuthMethod": "private_key_jwt", "jwks": jwks}))
            .await,
        )
        .await;
        assert_eq!(st, 400, "{e}");
        assert_eq!(e["details"][0]["field"], "jwks", "{e}");
        assert!(
            e["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{e}"
        );
    }

    // No secret to regenerate; switching to a secret method makes one, shown once.
    let path = format!("{ADMIN}/{}", k.id);
    let (st, e) = json(
        call(
            &k.s,
            Method::POST,
            &format!("{path}/secret"),
            Some(&k.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["details"][0]["field"], "tokenEndpointAuthMethod");
    let (st, c) = json(
        call(
            &k.s,
            Method::PATCH,
            &path,
            Some(&k.admin),
            Some(json!({"tokenEndpointAuthMethod": "client_secret_basic"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{c}");
    let secret = c["secret"].as_str().expect("a new secret, shown once");
    let res =
        k.s.http
            .post(k.s.url(TOKEN))
            .basic_auth(&k.id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    // And assertions no longer authenticate it.
    let a = k.keys[1]
        .sign_jwt("JWT", &claims(&k, &k.s.url(TOKEN)))
        .unwrap();
    assert_eq!(cc(&k, &a).await.status(), 401);
}

/// Keys by reference (`jwksUri`): fetched when first needed and kept; a key the copy lacks
/// makes Tessera fetch again, but not more than once per refetch interval (one second in the
/// tests, ten by default), so a client that rotates its keys is served and nobody can make
/// Tessera hammer a URL.
#[tokio::test]
async fn keys_by_reference_are_fetched_kept_and_fetched_again_after_a_rotation() {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (first, _) = SigningKey::generate(Alg::RS256, "rp-1".into()).unwrap();
    let keys = crate::support::jwks_server(json!({"keys": [first.public_jwk()]})).await;
    let create = |body: Value| call(&s, Method::POST, ADMIN, Some(&admin), Some(body));
    // Both ways at once is refused.
    let (st, e) = json(
        create(
            json!({"name": "Both", "redirectUris": [], "grantTypes": ["client_credentials"],
                      "tokenEndpointAuthMethod": "private_key_jwt", "jwksUri": keys.url,
                      "jwks": {"keys": [first.public_jwk()]}}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["details"][0]["field"], "jwksUri");
    let (st, c) = json(
        create(json!({"name": "By reference", "redirectUris": [],
                      "grantTypes": ["client_credentials"],
                      "tokenEndpointAuthMethod": "private_key_jwt", "jwksUri": keys.url}))
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["jwksUri"], keys.url.as_str());
    let id = c["id"].as_str().unwrap().to_owned();
    let k = Keyed {
        s,
        admin,
        id,
        keys: vec![],
    };
    let token_url = k.s.url(TOKEN);
    let sign = |key: &SigningKey| key.sign_jwt("JWT", &claims(&k, &token_url)).unwrap();
    use std::sync::atomic::Ordering;
    assert_eq!(
        keys.fetches.load(Ordering::SeqCst),
        0,
        "nothing fetched before it is needed"
    );
    for _ in 0..3 {
        assert_eq!(cc(&k, &sign(&first)).await.status(), 200);
    }
    assert_eq!(
        keys.fetches.load(Ordering::SeqCst),
        1,
        "fetched once, then kept"
    );

    // The client rotates: a new key with a new kid.
    let (second, _) = SigningKey::generate(Alg::RS256, "rp-2".into()).unwrap();
    *keys.set.lock().unwrap() = json!({"keys": [second.public_jwk()]});
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(cc(&k, &sign(&second)).await.status(), 200, "fetched again");
    assert_eq!(keys.fetches.load(Ordering::SeqCst), 2);
    // An unknown key right away does not make it fetch again.
    let (stranger, _) = SigningKey::generate(Alg::RS256, "rp-3".into()).unwrap();
    for _ in 0..3 {
        assert_eq!(cc(&k, &sign(&stranger)).await.status(), 401);
    }
    assert_eq!(
        keys.fetches.load(Ordering::SeqCst),
        2,
        "no refetch within the interval"
    );
    // The retired key no longer works once the copy is fresh.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(cc(&k, &sign(&first)).await.status(), 401);
}

/// `client_secret_jwt` (RFC 7523 §2.2 with an HMAC, OIDC Core §9): the client makes its
/// assertion with its secret, which Tessera keeps sealed for that; the secret itself is not
/// accepted in its place, an assertion is used once, and a regenerated secret replaces the old.
#[tokio::test]
async fn client_secret_jwt_assertions_are_made_with_the_secret() {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(
                json!({"name": "Hmac", "redirectUris": [], "grantTypes": ["client_credentials"],
                        "allowedScopes": ["read"], "tokenEndpointAuthMethod": "client_secret_jwt"}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["tokenEndpointAuthMethod"], "client_secret_jwt");
    let id = c["id"].as_str().unwrap().to_owned();
    let secret = c["secret"].as_str().unwrap().to_owned();
    let aud = s.url(TOKEN);
    let make = |secret: &str, alg: jsonwebtoken::Algorithm| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &json!({"iss": id, "sub": id, "aud": aud, "iat": now(), "exp": now() + 60,
                    "jti": uuid::Uuid::new_v4().to_string()}),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let token = |assertion: String| {
        s.http
            .post(s.url(TOKEN))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion.as_str()),
            ])
            .send()
    };
    for alg in [
        jsonwebtoken::Algorithm::HS256,
        jsonwebtoken::Algorithm::HS384,
        jsonwebtoken::Algorithm::HS512,
    ] {
        let a = make(&secret, alg);
        let (st, t) = json(token(a.clone()).await.unwrap()).await;
        assert_eq!(st, 200, "{alg:?}: {t}");
        // Used once.
        let (st, e) = json(token(a).await.unwrap()).await;
        assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
    }
    // Another secret, the secret itself (Basic), a key-signed assertion: refused.
    let (st, _) = json(
        token(make(
            "cs_live_not-the-secret",
            jsonwebtoken::Algorithm::HS256,
        ))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(st, 401);
    let res = s
        .http
        .post(s.url(TOKEN))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A regenerated secret replaces the old one.
    let (st, r) = json(
        call(
            &s,
            Method::POST,
            &format!("{ADMIN}/{id}/secret"),
            Some(&admin),
            Some(json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{r}");
    let new_secret = r["secret"].as_str().unwrap().to_owned();
    let (st, _) = json(
        token(make(&new_secret, jsonwebtoken::Algorithm::HS256))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    let (st, _) = json(
        token(make(&secret, jsonwebtoken::Algorithm::HS256))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 401);
    // A client moved from client_secret_basic to client_secret_jwt gets a new secret (the
    // old one was kept only hashed), shown once.
    let (st, b) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(
                json!({"name": "Basic", "redirectUris": [], "grantTypes": ["client_credentials"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let basic_id = b["id"].as_str().unwrap();
    let (st, moved) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{ADMIN}/{basic_id}"),
            Some(&admin),
            Some(json!({"tokenEndpointAuthMethod": "client_secret_jwt"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{moved}");
    let fresh = moved["secret"].as_str().expect("a new secret, once");
    assert_ne!(fresh, b["secret"].as_str().unwrap());
    // A chosen secret too short for an HMAC key is refused.
    let (st, e) = json(
        call(
            &s,
            Method::POST,
            &format!("{ADMIN}/{id}/secret"),
            Some(&admin),
            Some(json!({"secret": "sixteen-chars-ok-elsewhere"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert!(e.to_string().contains("256 bits"), "{e}");
    // Leaving client_secret_jwt makes a new secret: no sealed copy outlives the method.
    let (st, left) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{ADMIN}/{id}"),
            Some(&admin),
            Some(json!({"tokenEndpointAuthMethod": "client_secret_basic"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{left}");
    let basic_secret = left["secret"].as_str().expect("a new secret");
    assert_ne!(basic_secret, new_secret);
    let res = s
        .http
        .post(s.url(TOKEN))
        .basic_auth(&id, Some(basic_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, d) = json(
        s.http
            .get(s.url("/orgs/acme-corp/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(d["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("client_secret_jwt")));
    assert!(d["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("HS256")));
}
