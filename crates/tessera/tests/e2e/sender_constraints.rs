//! Sender-constrained tokens and what goes with them, outside the FAPI profile: DPoP on every
//! grant with the attacks it stops (a stolen token without the key, a replayed proof, on
//! another node too), server nonces, DPoP-bound refresh tokens of public clients, the
//! per-client switches (PAR required, DPoP required), PAR for public clients, `dpop_jkt` on
//! the front channel, and back-channel logout to a receiver that checks the logout token.

use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::{json, Value};
use tessera_crypto::jws::SigningKey;
use tessera_testkit::TestServer;

use crate::fapi2_security_profile::{
    claims_of, key, now, pairs, param, proof_with, sha256_b64, thumbprint, Fapi, Rp, REDIRECT,
    VERIFIER,
};
use crate::support::{acme_client, call, json, ACME_CLIENTS};

/// A confidential client with a secret and the client credentials grant.
async fn machine(f: &Fapi, extra: Value) -> (String, String) {
    let mut body = json!({"name": "Worker", "redirectUris": [], "grantTypes": ["client_credentials"],
                          "allowedScopes": ["read"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (id, secret) = acme_client(&f.s, &f.admin, body).await;
    (id, secret.unwrap())
}

/// A token request of `id`/`secret` with `form`, and a proof header when given.
async fn token(
    f: &Fapi,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
    proof: Option<String>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut r =
        f.s.http
            .post(f.endpoint("token"))
            .basic_auth(id, Some(secret))
            .form(form);
    if let Some(p) = proof {
        r = r.header("DPoP", p);
    }
    let res = r.send().await.unwrap();
    let headers = res.headers().clone();
    let (st, v) = json(res).await;
    (st, v, headers)
}

#[tokio::test]
async fn dpop_binds_client_credentials_tokens_and_introspection_shows_the_key() {
    let f = Fapi::start().await;
    let (id, secret) = machine(&f, json!({})).await;
    let k = key("worker");
    let url = f.endpoint("token");
    let (st, t, h) = token(
        &f,
        &id,
        &secret,
        &[("grant_type", "client_credentials")],
        Some(proof_with(&k, "POST", &url, json!({}))),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    assert!(h.contains_key("dpop-nonce"), "a nonce for the next proof");
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(claims_of(at)["cnf"]["jkt"], thumbprint(&k));
    let res =
        f.s.http
            .post(f.endpoint("introspect"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", at)])
            .send()
            .await
            .unwrap();
    let (_, i) = json(res).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["token_type"], "DPoP");
    assert_eq!(i["cnf"]["jkt"], thumbprint(&k));
    // Without a proof: a bearer token, as before.
    let (st, t, _) = token(
        &f,
        &id,
        &secret,
        &[("grant_type", "client_credentials")],
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(t["token_type"], "Bearer");
    assert!(claims_of(t["access_token"].as_str().unwrap())
        .get("cnf")
        .is_none());
}

#[tokio::test]
async fn a_replayed_or_broken_proof_is_refused_at_the_token_endpoint_and_on_another_node() {
    let f = Fapi::start().await;
    let (id, secret) = machine(&f, json!({})).await;
    let k = key("worker");
    let url = f.endpoint("token");
    let proof = proof_with(&k, "POST", &url, json!({}));
    let form = [("grant_type", "client_credentials")];
    let (st, _, _) = token(&f, &id, &secret, &form, Some(proof.clone())).await;
    assert_eq!(st, 200);
    let (st, e, _) = token(&f, &id, &secret, &form, Some(proof)).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{e}"
    );
    assert!(e["error_description"].as_str().unwrap().contains("replay"));
    // A proof spent on another node is spent here (the jti is in the database).
    let other =
        f.s.second_node(Arc::new(tessera_domain::clock::SystemClock))
            .await;
    let org = other.protocol_org("acme-corp").await.unwrap();
    let shared = proof_with(&k, "POST", &url, json!({}));
    let target = tessera_core::dpop::ProofTarget {
        method: "POST",
        url: &url,
        access_token: None,
    };
    other
        .check_dpop(
            &org,
            &tessera_core::dpop::DpopProof(shared.clone()),
            target,
            false,
        )
        .await
        .expect("the first use");
    let (st, e, _) = token(&f, &id, &secret, &form, Some(shared)).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")));
    // A proof for another endpoint, another method, too old, two proofs.
    for bad in [
        proof_with(&k, "POST", &f.endpoint("introspect"), json!({})),
        proof_with(&k, "GET", &url, json!({})),
        proof_with(&k, "POST", &url, json!({"iat": now() - 600})),
    ] {
        let (st, e, _) = token(&f, &id, &secret, &form, Some(bad)).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{e}"
        );
    }
    let res =
        f.s.http
            .post(&url)
            .basic_auth(&id, Some(&secret))
            .header("DPoP", proof_with(&k, "POST", &url, json!({})))
            .header("DPoP", proof_with(&k, "POST", &url, json!({})))
            .form(&form)
            .send()
            .await
            .unwrap();
    let (st, e) = json(res).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")));
}

#[tokio::test]
async fn a_stolen_dpop_bound_token_is_useless_without_the_key() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("owner");
    let a = f.happy(&rp, &k).await;
    let at = a.body["access_token"].as_str().unwrap();
    // The thief has the token, not the key: as a bearer token, with its own key's proof,
    // with the owner's proof replayed.
    assert_eq!(f.userinfo("Bearer", at, None).await.status(), 401);
    let thief = key("thief");
    let res = f.userinfo("DPoP", at, Some((&thief, json!({})))).await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("DPoP error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
    let url = f.endpoint("userinfo");
    let owners = proof_with(&k, "GET", &url, json!({"ath": sha256_b64(at)}));
    let send = |p: String| {
        f.s.http
            .get(&url)
            .header("authorization", format!("DPoP {at}"))
            .header("DPoP", p)
            .send()
    };
    assert_eq!(send(owners.clone()).await.unwrap().status(), 200);
    assert_eq!(send(owners).await.unwrap().status(), 401);
}

#[tokio::test]
async fn server_nonces_are_asked_for_and_a_retry_may_reuse_the_client_assertion() {
    let f = Fapi::on(TestServer::start_with_dpop_nonces().await).await;
    let (id, secret) = machine(&f, json!({})).await;
    let k = key("worker");
    let url = f.endpoint("token");
    let form = [("grant_type", "client_credentials")];
    // RFC 9449 §8: no nonce → 400 use_dpop_nonce with the nonce to use.
    let (st, e, h) = token(
        &f,
        &id,
        &secret,
        &form,
        Some(proof_with(&k, "POST", &url, json!({}))),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("use_dpop_nonce")),
        "{e}"
    );
    let nonce = h["dpop-nonce"].to_str().unwrap().to_owned();
    assert!(nonce.len() >= 43, "256 bits: {nonce}");
    assert!(nonce
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)));
    let (st, t, h) = token(
        &f,
        &id,
        &secret,
        &form,
        Some(proof_with(&k, "POST", &url, json!({"nonce": nonce}))),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert!(h.contains_key("dpop-nonce"));
    // A nonce the server never gave.
    let (st, e, h) = token(
        &f,
        &id,
        &secret,
        &form,
        Some(proof_with(&k, "POST", &url, json!({"nonce": "made-up"}))),
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (400, Some("use_dpop_nonce")));
    assert!(h.contains_key("dpop-nonce"));
    // A private_key_jwt client retries with the same assertion: its jti was not spent by
    // the nonce error.
    let rp = f.client(json!({})).await;
    let assertion = f.assertion(&rp, json!({}));
    let send = |proof: String| {
        f.s.http
            .post(&url)
            .header("DPoP", proof)
            .form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
            ])
            .send()
    };
    let first = send(proof_with(&k, "POST", &url, json!({}))).await.unwrap();
    assert_eq!(first.status(), 400);
    let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let (_, e) = json(
        send(proof_with(&k, "POST", &url, json!({"nonce": nonce})))
            .await
            .unwrap(),
    )
    .await;
    // The FAPI client may not use client_credentials: the assertion was accepted.
    assert_eq!(e["error"], "unauthorized_client", "{e}");
}

/// A public client's code flow with DPoP (no PAR): the token answer and the client id.
async fn public_flow(f: &Fapi, k: &SigningKey, front: &[(&str, &str)]) -> (String, Value) {
    let (id, _) = acme_client(
        &f.s,
        &f.admin,
        json!({"name": "SPA", "isConfidential": false, "redirectUris": [REDIRECT],
               "allowedScopes": ["openid", "profile"]}),
    )
    .await;
    let challenge = sha256_b64(VERIFIER);
    let mut q = vec![
        ("client_id", id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    q.extend_from_slice(front);
    let res = f.authorize(&q).await;
    let cb = f.through_pages(res, true).await;
    let url = f.endpoint("token");
    let res =
        f.s.http
            .post(&url)
            .header("DPoP", proof_with(k, "POST", &url, json!({})))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &param(&cb, "code").unwrap()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", &id),
            ])
            .send()
            .await
            .unwrap();
    let (st, t) = json(res).await;
    assert_eq!(st, 200, "{t}");
    (id, t)
}

#[tokio::test]
async fn a_public_clients_refresh_tokens_are_bound_to_its_key() {
    let f = Fapi::start().await;
    let k = key("spa");
    let (id, t) = public_flow(&f, &k, &[]).await;
    assert_eq!(t["token_type"], "DPoP");
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let url = f.endpoint("token");
    let refresh = |rt: String, proof: Option<String>| {
        let mut r = f.s.http.post(&url).form(&[
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt),
            ("client_id", id.clone()),
        ]);
        if let Some(p) = proof {
            r = r.header("DPoP", p);
        }
        r.send()
    };
    // A stolen refresh token: without a proof, or with another key, refused and not spent.
    for proof in [
        None,
        Some(proof_with(&key("thief"), "POST", &url, json!({}))),
    ] {
        let (st, e) = json(refresh(rt.clone(), proof).await.unwrap()).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{e}"
        );
    }
    let (st, t2) = json(
        refresh(rt.clone(), Some(proof_with(&k, "POST", &url, json!({}))))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{t2}");
    assert_eq!(
        claims_of(t2["access_token"].as_str().unwrap())["cnf"]["jkt"],
        thumbprint(&k)
    );
    // The rotated token is bound too.
    let rt2 = t2["refresh_token"].as_str().unwrap().to_owned();
    let (st, _) = json(
        refresh(
            rt2,
            Some(proof_with(&key("thief"), "POST", &url, json!({}))),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn dpop_jkt_on_the_front_channel_binds_the_code() {
    let f = Fapi::start().await;
    let k = key("spa");
    let jkt = thumbprint(&k);
    let (_, t) = public_flow(&f, &k, &[("dpop_jkt", jkt.as_str())]).await;
    assert_eq!(
        claims_of(t["access_token"].as_str().unwrap())["cnf"]["jkt"],
        jkt
    );
    // Malformed: refused at the authorization endpoint.
    let (id, _) = acme_client(
        &f.s,
        &f.admin,
        json!({"name": "SPA2", "isConfidential": false, "redirectUris": [REDIRECT]}),
    )
    .await;
    let challenge = sha256_b64(VERIFIER);
    let res = f
        .authorize(&[
            ("client_id", id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("dpop_jkt", "not-a-thumbprint"),
        ])
        .await;
    let cb = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(param(&cb, "error").as_deref(), Some("invalid_request"));
    assert!(param(&cb, "error_description")
        .unwrap()
        .contains("dpop_jkt"));
}

#[tokio::test]
async fn the_client_switches_require_par_dpop_and_signed_requests() {
    let f = Fapi::start().await;
    // dpopBoundAccessTokens: no proof, no token.
    let (id, secret) = machine(&f, json!({"dpopBoundAccessTokens": true})).await;
    let (st, e, _) = token(
        &f,
        &id,
        &secret,
        &[("grant_type", "client_credentials")],
        None,
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{e}"
    );
    assert!(e["error_description"]
        .as_str()
        .unwrap()
        .contains("DPoP-bound"));
    // requirePushedAuthorizationRequests and requireSignedRequestObject on a plain public
    // client: the front channel alone is refused to the redirect URI.
    for (switch, says) in [
        ("requirePushedAuthorizationRequests", "PAR"),
        ("requireSignedRequestObject", "signed request object"),
    ] {
        let (id, _) = acme_client(
            &f.s,
            &f.admin,
            json!({"name": "SPA", "isConfidential": false, "redirectUris": [REDIRECT], switch: true}),
        )
        .await;
        let challenge = sha256_b64(VERIFIER);
        let res = f
            .authorize(&[
                ("client_id", id.as_str()),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("state", "st"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
            .await;
        let cb = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(
            param(&cb, "error").as_deref(),
            Some("invalid_request"),
            "{switch}"
        );
        assert!(
            param(&cb, "error_description").unwrap().contains(says),
            "{cb}"
        );
        assert_eq!(param(&cb, "state").as_deref(), Some("st"));
    }
    // A PATCH turns a switch off again; the object shows it.
    let (st, c) = json(
        call(
            &f.s,
            Method::PATCH,
            &format!("{ACME_CLIENTS}/{id}"),
            Some(&f.admin),
            Some(json!({"dpopBoundAccessTokens": false, "backchannelLogoutUri": "https://rp.example.com/bc#x"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{c}");
    assert!(c.to_string().contains("backchannelLogoutUri"), "{c}");
}

#[tokio::test]
async fn a_public_client_pushes_its_request_and_the_request_uri_is_its_alone() {
    let f = Fapi::start().await;
    let (id, _) = acme_client(
        &f.s,
        &f.admin,
        json!({"name": "SPA", "isConfidential": false, "redirectUris": [REDIRECT],
               "requirePushedAuthorizationRequests": true, "allowedScopes": ["openid"]}),
    )
    .await;
    let challenge = sha256_b64(VERIFIER);
    let push = |extra: Vec<(&'static str, String)>| {
        let mut form = pairs(&[
            ("client_id", id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "st"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
        for (k, v) in extra {
            form.retain(|(n, _)| n != k);
            form.push((k.to_owned(), v));
        }
        f.s.http.post(f.endpoint("par")).form(&form).send()
    };
    let res = push(vec![]).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let (_, p) = json(res).await;
    let uri = p["request_uri"].as_str().unwrap().to_owned();
    assert_eq!(p["expires_in"], 60);
    // Bad pushes are answered at once, in JSON.
    let (st, e) = json(push(vec![("scope", "admin".into())]).await.unwrap()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_scope")),
        "{e}"
    );
    let (st, e) = json(
        push(vec![("redirect_uri", "https://evil.example.com/cb".into())])
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 400, "{e}");
    let res =
        f.s.http
            .post(f.endpoint("par"))
            .form(&[("client_id", "nobody")])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 401);
    // The request_uri works for its client, once.
    let cb = f
        .front_channel(
            &Rp {
                id: id.clone(),
                key: key("unused"),
            },
            &uri,
            &[],
        )
        .await;
    assert!(param(&cb, "code").is_some(), "{cb}");
    assert_eq!(param(&cb, "state").as_deref(), Some("st"));
    let res = f
        .authorize(&[("client_id", id.as_str()), ("request_uri", uri.as_str())])
        .await;
    assert_eq!(res.status(), 400);
}

/// A back-channel logout receiver: records every `logout_token` posted, and answers 500 to
/// the first `fail` posts.
struct Receiver {
    url: String,
    tokens: Arc<Mutex<Vec<String>>>,
}

async fn receiver(fail: usize) -> Receiver {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&tokens);
    let posts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (seen, posts) = (Arc::clone(&seen), Arc::clone(&posts));
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let n = match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            let n = posts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let status = if n < fail {
                                "500 Internal Server Error"
                            } else {
                                let token = url::form_urlencoded::parse(body.as_bytes())
                                    .find(|(k, _)| k == "logout_token")
                                    .map(|(_, v)| v.into_owned())
                                    .unwrap_or_default();
                                seen.lock().unwrap().push(token);
                                "200 OK"
                            };
                            let _ = sock
                                .write_all(
                                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                                        .as_bytes(),
                                )
                                .await;
                            return;
                        }
                    }
                }
            });
        }
    });
    Receiver { url, tokens }
}

impl Receiver {
    async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.tokens.lock().unwrap().clone();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Verifies a logout token as a relying party does (Back-Channel Logout §2.6), with an
/// independent JOSE library and the organization's JWKS.
async fn verify_logout_token(f: &Fapi, token: &str, client_id: &str) -> Value {
    let set: jsonwebtoken::jwk::JwkSet =
        f.s.http
            .get(f.endpoint("jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let key =
        jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[client_id]);
    v.set_issuer(&[f.issuer()]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap()
        .claims;
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].is_string() && claims["iat"].is_i64());
    claims
}

/// A code flow of a confidential client with a back-channel logout URI: its id, the id_token
/// and its claims.
async fn signed_in(f: &Fapi, bc: &str) -> (String, String, Value) {
    let (id, secret) = acme_client(
        &f.s,
        &f.admin,
        json!({"name": "Portal", "redirectUris": [REDIRECT], "allowedScopes": ["openid"],
               "backchannelLogoutUri": bc, "backchannelLogoutSessionRequired": true,
               "postLogoutRedirectUris": ["https://rp.example.com/bye"]}),
    )
    .await;
    let challenge = sha256_b64(VERIFIER);
    let res = f
        .authorize(&[
            ("client_id", id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let cb = f.through_pages(res, true).await;
    let (st, t, _) = token(
        f,
        &id,
        &secret.unwrap(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &param(&cb, "code").unwrap()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let raw = t["id_token"].as_str().unwrap().to_owned();
    (id, raw.clone(), claims_of(&raw))
}

/// The user logs out at the end-session endpoint, with the id_token as hint.
async fn log_out(f: &Fapi, id_token: &str) {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "https://rp.example.com/bye"),
        ])
        .finish();
    let res = f
        .browse(&format!("{}?{q}", f.endpoint("end_session")))
        .await;
    assert_eq!(res.status(), 303, "logged out at once");
}

#[tokio::test]
async fn logout_sends_a_logout_token_to_the_clients_of_the_session() {
    let f = Fapi::start().await;
    let rx = receiver(0).await;
    let (id, raw, id_token) = signed_in(&f, &rx.url).await;
    let sid = id_token["sid"].as_str().unwrap().to_owned();
    log_out(&f, &raw).await;
    let got = rx.wait_for(1, 10).await;
    assert_eq!(got.len(), 1, "one logout token");
    let claims = verify_logout_token(&f, &got[0], &id).await;
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["sub"], id_token["sub"]);
    // Only once, whatever the worker does next.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(rx.tokens.lock().unwrap().len(), 1);
    let d =
        f.s.services
            .logout_deliveries("acme-corp", &id)
            .await
            .unwrap();
    assert_eq!(d.len(), 1);
    assert!(d[0].delivered_at.is_some());
}

#[tokio::test]
async fn deactivating_the_user_logs_them_out_of_the_clients_with_retries() {
    let f = Fapi::start().await;
    // The receiver fails the first post; the retry comes 10 seconds later.
    let rx = receiver(1).await;
    let (id, _, id_token) = signed_in(&f, &rx.url).await;
    let alice = id_token["sub"].as_str().unwrap();
    f.s.services
        .update_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            alice,
            tessera_core::users::UserPatch {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let got = rx.wait_for(1, 20).await;
    assert_eq!(got.len(), 1, "delivered on the retry");
    let claims = verify_logout_token(&f, &got[0], &id).await;
    assert_eq!(claims["sub"], alice);
    // The worker records the delivery after the receiver has answered: wait for it.
    let mut d = Vec::new();
    for _ in 0..100 {
        d =
            f.s.services
                .logout_deliveries("acme-corp", &id)
                .await
                .unwrap();
        if d[0].delivered_at.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(d[0].delivered_at.is_some(), "recorded as delivered");
    assert_eq!(d[0].attempts, 2);
    assert_eq!(d[0].last_error, None);
}

#[tokio::test]
async fn a_logout_token_for_an_unknown_session_is_never_sent() {
    // A session that signed in to no back-channel client sends nothing; one that did is
    // named by its own sid only.
    let f = Fapi::start().await;
    let rx = receiver(0).await;
    let (_, raw, first) = signed_in(&f, &rx.url).await;
    let (_, _, second) = signed_in(&f, &rx.url).await;
    // The same browser session signed in to both: one sid.
    assert_eq!(first["sid"], second["sid"]);
    log_out(&f, &raw).await;
    let got = rx.wait_for(2, 10).await;
    assert_eq!(got.len(), 2, "one per client of the session");
    for t in &got {
        assert_eq!(claims_of(t)["sid"], first["sid"]);
    }
    // A later pass finds nothing more to send.
    assert_eq!(f.s.services.backchannel_pass().await.unwrap(), 0);
    assert_eq!(rx.tokens.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_expired_session_is_logged_out_of_its_clients_once_across_nodes() {
    let clock = tessera_domain::clock::MockClock::new(time::OffsetDateTime::now_utc());
    let f = Fapi::on(TestServer::start_with_clock(Arc::new(clock.clone())).await).await;
    let rx = receiver(0).await;
    let (id, _, id_token) = signed_in(&f, &rx.url).await;
    // The session expires (12 hours); three nodes run their passes at the same moment.
    clock.advance(time::Duration::hours(13));
    let nodes = [
        f.s.second_node(Arc::new(clock.clone())).await,
        f.s.second_node(Arc::new(clock.clone())).await,
        f.s.second_node(Arc::new(clock.clone())).await,
    ];
    let passes = nodes.iter().map(|n| n.backchannel_pass());
    // On SQLite the other "nodes" are other processes: one may find the database busy and
    // leave the work to a later pass, as the worker does.
    let delivered: usize = futures_util::future::join_all(passes)
        .await
        .into_iter()
        .filter_map(Result::ok)
        .sum();
    assert!(delivered <= 1);
    for _ in 0..10 {
        if !rx.tokens.lock().unwrap().is_empty() {
            break;
        }
        let _ = nodes[0].backchannel_pass().await;
    }
    let got = rx.wait_for(1, 5).await;
    assert_eq!(got.len(), 1, "one logout token, by one node");
    for n in &nodes {
        let _ = n.backchannel_pass().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(rx.tokens.lock().unwrap().len(), 1);
    assert_eq!(claims_of(&got[0])["sid"], id_token["sid"]);
    assert_eq!(
        f.s.services
            .logout_deliveries("acme-corp", &id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_organization_can_require_par_of_every_client() {
    let f = Fapi::start().await;
    let policy = "/orgs/acme-corp/api/v1/admin/registration-policy";
    let (st, p) = json(
        call(
            &f.s,
            Method::PUT,
            policy,
            Some(&f.admin),
            Some(json!({"requirePushedAuthorizationRequests": true})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["requirePushedAuthorizationRequests"], true);
    for path in [
        "/orgs/acme-corp/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/orgs/acme-corp",
    ] {
        let (_, d) = json(f.s.http.get(f.s.url(path)).send().await.unwrap()).await;
        assert_eq!(d["require_pushed_authorization_requests"], true, "{path}");
    }
    // A client without a switch of its own: the front channel alone is refused, PAR works.
    let (id, _) = acme_client(
        &f.s,
        &f.admin,
        json!({"name": "SPA", "isConfidential": false, "redirectUris": [REDIRECT],
               "allowedScopes": ["openid"]}),
    )
    .await;
    let challenge = sha256_b64(VERIFIER);
    let plain = [
        ("client_id", id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let res = f.authorize(&plain).await;
    let cb = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(param(&cb, "error").as_deref(), Some("invalid_request"));
    let res =
        f.s.http
            .post(f.endpoint("par"))
            .form(&plain)
            .send()
            .await
            .unwrap();
    let (st, pushed) = json(res).await;
    assert_eq!(st, 201, "{pushed}");
    let cb = f
        .front_channel(
            &Rp {
                id: id.clone(),
                key: key("unused"),
            },
            pushed["request_uri"].as_str().unwrap(),
            &[],
        )
        .await;
    assert!(param(&cb, "code").is_some(), "{cb}");
    // Off again: the default.
    let (_, p) = json(call(&f.s, Method::PUT, policy, Some(&f.admin), Some(json!({}))).await).await;
    assert_eq!(p["requirePushedAuthorizationRequests"], false);
    let (_, d) = json(
        f.s.http
            .get(f.s.url("/orgs/acme-corp/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(d["require_pushed_authorization_requests"], false);
}

/// Found in review: a refresh token spent before the client followed FAPI 2.0 stays spent
/// (no rotation under the profile must not revive it); FAPI 2.0 refuses RS256 proofs; a
/// client that must sign its requests gets only what it signed.
#[tokio::test]
async fn profile_and_signed_request_rules_hold_at_runtime() {
    let f = Fapi::start().await;
    let rp = f.client(json!({"securityProfile": null})).await;
    let k = key("d");
    let a = f.happy(&rp, &k).await;
    let old = a.body["refresh_token"].as_str().unwrap().to_owned();
    let refresh = pairs(&[("grant_type", "refresh_token"), ("refresh_token", &old)]);
    let r = f.post("token", &rp, &refresh, Some(&k)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["refresh_token"].is_string(),
        "rotated before the profile"
    );
    let (st, c) = json(
        call(
            &f.s,
            Method::PATCH,
            &format!("{ACME_CLIENTS}/{}", rp.id),
            Some(&f.admin),
            Some(json!({"securityProfile": "fapi2"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{c}");
    let r = f.post("token", &rp, &refresh, Some(&k)).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{}",
        r.body
    );
    // An RS256 DPoP proof under FAPI 2.0.
    let rsa = SigningKey::generate(tessera_crypto::jws::Alg::RS256, "rsa".into())
        .unwrap()
        .0;
    let url = f.endpoint("token");
    let proof = rsa
        .sign_with_header(
            &json!({"typ": "dpop+jwt", "alg": "RS256",
                    "jwk": crate::fapi2_security_profile::bare_jwk(&rsa)}),
            &json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": "POST", "htu": url, "iat": now()}),
        )
        .unwrap();
    let mut form = f.request(&rp);
    form.push((
        "client_assertion_type".into(),
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
    ));
    form.push(("client_assertion".into(), f.assertion(&rp, json!({}))));
    let par = f.endpoint("par");
    let rsa_par = rsa
        .sign_with_header(
            &json!({"typ": "dpop+jwt", "alg": "RS256",
                    "jwk": crate::fapi2_security_profile::bare_jwk(&rsa)}),
            &json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": "POST", "htu": par, "iat": now()}),
        )
        .unwrap();
    // At PAR the proof only binds the code; at the token endpoint the key is refused.
    let res =
        f.s.http
            .post(&par)
            .header("DPoP", rsa_par)
            .form(&form)
            .send()
            .await
            .unwrap();
    let (st, p) = json(res).await;
    assert_eq!(st, 201, "{p}");
    let cb = f
        .front_channel(&rp, p["request_uri"].as_str().unwrap(), &[])
        .await;
    let mut token_form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
    ]);
    token_form.push(("client_assertion".into(), f.assertion(&rp, json!({}))));
    let res =
        f.s.http
            .post(&url)
            .header("DPoP", proof)
            .form(&token_form)
            .send()
            .await
            .unwrap();
    let (st, e) = json(res).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{e}"
    );
    assert!(e["error_description"]
        .as_str()
        .unwrap()
        .contains("FAPI 2.0"));

    // requireSignedRequestObject without PAR: a front-channel state outside the object is
    // not used.
    let signer = f
        .client(json!({"securityProfile": null, "requireSignedRequestObject": true}))
        .await;
    let challenge = sha256_b64(VERIFIER);
    let object = signer
        .key
        .sign_jwt(
            "oauth-authz-req+jwt",
            &json!({"iss": signer.id, "aud": f.issuer(), "client_id": signer.id,
                    "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid",
                    "code_challenge": challenge, "code_challenge_method": "S256",
                    "exp": now() + 60, "nbf": now()}),
        )
        .unwrap();
    let res = f
        .authorize(&[
            ("client_id", signer.id.as_str()),
            ("request", object.as_str()),
            ("state", "added-outside"),
        ])
        .await;
    let cb = f.through_pages(res, true).await;
    assert!(param(&cb, "code").is_some(), "{cb}");
    assert_eq!(param(&cb, "state"), None, "only what was signed: {cb}");
}

/// An administrator sees and ends what a member handed out: their consents (withdrawing one
/// revokes the client's refresh tokens from them) and their sign-in sessions (ending them
/// logs the browser out and tells the back-channel clients).
#[tokio::test]
async fn admins_see_and_revoke_a_members_consents_and_sessions() {
    let f = Fapi::start().await;
    let rx = receiver(0).await;
    let (id, _, id_token) = signed_in(&f, &rx.url).await;
    let alice = id_token["sub"].as_str().unwrap().to_owned();
    let base = format!("/orgs/acme-corp/api/v1/admin/users/{alice}");
    let (st, consents) = json(
        call(
            &f.s,
            Method::GET,
            &format!("{base}/consents"),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{consents}");
    assert_eq!(consents[0]["clientId"], id);
    assert_eq!(consents[0]["clientName"], "Portal");
    assert_eq!(consents[0]["scopes"], json!(["openid"]));
    assert!(consents[0]["grantedAt"].as_str().unwrap().ends_with('Z'));
    let (st, sessions) = json(
        call(
            &f.s,
            Method::GET,
            &format!("{base}/sessions"),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(
        sessions[0]["id"], id_token["sid"],
        "the sid of the id_tokens"
    );
    // GraphQL shows the same.
    let (st, v) = json(
        f.s.http
            .post(f.s.url("/orgs/acme-corp/api/v1/admin/graphql"))
            .bearer_auth(&f.admin)
            .json(&json!({"query": format!("{{ adminUserConsents(id: \"{alice}\") {{ clientId scopes }} adminUserSessions(id: \"{alice}\") {{ id }} }}")}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["adminUserConsents"][0]["clientId"], id, "{v}");
    assert_eq!(
        v["data"]["adminUserSessions"][0]["id"], id_token["sid"],
        "{v}"
    );
    // A viewer reads, never ends.
    let viewer = f.s.org_key("acme-corp", &["viewer"], &[]).await;
    let (st, _) = json(
        call(
            &f.s,
            Method::DELETE,
            &format!("{base}/sessions"),
            Some(&viewer),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    // Withdraw the consent: gone, and asked again next time.
    let (st, _) = json(
        call(
            &f.s,
            Method::DELETE,
            &format!("{base}/consents/{id}"),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 204);
    let (_, consents) = json(
        call(
            &f.s,
            Method::GET,
            &format!("{base}/consents"),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(consents, json!([]));
    let (st, _) = json(
        call(
            &f.s,
            Method::DELETE,
            &format!("{base}/consents/{id}"),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
    // End the sessions: none left; the back-channel client hears of it.
    let (st, _) = json(
        call(
            &f.s,
            Method::DELETE,
            &format!("{base}/sessions"),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 204);
    let (_, sessions) = json(
        call(
            &f.s,
            Method::GET,
            &format!("{base}/sessions"),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(sessions, json!([]));
    let got = rx.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(claims_of(&got[0])["sid"], id_token["sid"]);
    // Unknown user: 404.
    let (st, _) = json(
        call(
            &f.s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/users/00000000-0000-0000-0000-000000000000/sessions",
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
}
