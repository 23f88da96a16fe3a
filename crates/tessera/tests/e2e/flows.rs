//! The interactive flow over real HTTP, as a browser and a relying party would drive it:
//! authorize, the login and consent forms, the code redeemed with PKCE, the id_token checked
//! with an independent library, userinfo, and the security behaviours of quality.md.

use base64::Engine;
use reqwest::{redirect::Policy, Method, StatusCode};
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{
    acme_client, acme_with_alice, call, hidden, json, set_cookie, ACME_CLIENTS as ADMIN,
};

const AUTHORIZE: &str = "/orgs/acme-corp/api/v1/oauth/authorize";
const TOKEN: &str = "/orgs/acme-corp/api/v1/oauth/token";
const REDIRECT: &str = "https://app.example.com/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9d8yJk0ZQ5Y5hR5u5cXQ2wbYc-long-enough";

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(b).to_vec()
}

fn challenge(v: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(v.as_bytes()))
}

struct Flow {
    s: TestServer,
    admin: String,
    /// A browser: no automatic redirects, cookies by hand.
    browser: reqwest::Client,
    /// The browser binding cookie it was given with its first form (sent with every request,
    /// as a browser would).
    binding: std::sync::Mutex<Option<String>>,
    client_id: String,
}

async fn setup(extra: Value) -> Flow {
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let mut body = json!({"name": "Dashboard", "isConfidential": false, "redirectUris": [REDIRECT, "http://127.0.0.1:8400/cb"], "allowedScopes": ["openid", "profile", "email"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (client_id, _) = acme_client(&s, &admin, body).await;
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    Flow {
        client_id,
        s,
        admin,
        browser,
        binding: Default::default(),
    }
}

fn location(res: &reqwest::Response) -> url::Url {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "expected a redirect");
    url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap()
}

fn query(u: &url::Url, k: &str) -> Option<String> {
    u.query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
}

impl Flow {
    fn authorize_url(&self, extra: &[(&str, &str)]) -> String {
        let ch = challenge(VERIFIER);
        let mut p: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile email"),
            ("state", "st-123"),
            ("nonce", "nonce-456"),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            p.retain(|(n, _)| n != k);
            if !v.is_empty() {
                p.push((k, v));
            }
        }
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(p)
            .finish();
        self.s.url(&format!("{AUTHORIZE}?{q}"))
    }

    /// The cookies this browser sends: its binding, and `cookie`.
    fn cookies(&self, cookie: Option<&str>) -> Option<String> {
        let binding = self.binding.lock().unwrap().clone();
        match (binding, cookie) {
            (Some(b), Some(c)) => Some(format!("{b}; {c}")),
            (b, c) => b.or(c.map(str::to_owned)),
        }
    }

    fn keep_binding(&self, res: &reqwest::Response) {
        if let Some(b) = set_cookie(res, "tessera_browser") {
            *self.binding.lock().unwrap() = Some(b);
        }
    }

    async fn get(&self, url: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut r = self.browser.get(url);
        if let Some(c) = self.cookies(cookie) {
            r = r.header("cookie", c);
        }
        let res = r.send().await.unwrap();
        self.keep_binding(&res);
        res
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut r = self.browser.post(self.s.url(path)).form(form);
        if let Some(c) = self.cookies(cookie) {
            r = r.header("cookie", c);
        }
        let res = r.send().await.unwrap();
        self.keep_binding(&res);
        res
    }

    /// Authorize, log in, consent: the code and the session cookie.
    async fn code(&self, extra: &[(&str, &str)]) -> (String, String) {
        let res = self.get(&self.authorize_url(extra), None).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        let html = res.text().await.unwrap();
        let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
        let res = self
            .post(
                "/orgs/acme-corp/login",
                &[
                    ("request", &req),
                    ("csrf_token", &csrf),
                    ("username", "alice"),
                    ("password", "correct horse battery"),
                ],
                None,
            )
            .await;
        let cookie = set_cookie(&res, "tessera_session").expect("a session cookie");
        assert!(res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly"));
        if res.status() == StatusCode::SEE_OTHER {
            // Consent was given before: straight back to the client.
            let loc = location(&res);
            return (query(&loc, "code").unwrap(), cookie);
        }
        let html = res.text().await.unwrap();
        assert!(html.contains("name=\"decision\" value=\"allow\""), "{html}");
        let res = self
            .post(
                "/orgs/acme-corp/consent",
                &[
                    ("request", &req),
                    ("csrf_token", &csrf),
                    ("decision", "allow"),
                ],
                Some(&cookie),
            )
            .await;
        let loc = location(&res);
        assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));
        assert_eq!(query(&loc, "iss"), Some(self.s.url("/orgs/acme-corp")));
        (query(&loc, "code").unwrap(), cookie)
    }

    async fn redeem(&self, code: &str, verifier: &str) -> (u16, Value) {
        let res = self
            .s
            .http
            .post(self.s.url(TOKEN))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", &self.client_id),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap();
        json(res).await
    }
}

#[tokio::test]
async fn code_flow_with_pkce_issues_verifiable_tokens() {
    let f = setup(json!({})).await;
    let (code, cookie) = f.code(&[]).await;
    let (st, t) = f.redeem(&code, VERIFIER).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "openid profile email");
    let access = t["access_token"].as_str().unwrap();
    let id_token = t["id_token"].as_str().unwrap();

    // The id_token, checked by an independent library against the JWKS.
    let set: jsonwebtoken::jwk::JwkSet =
        f.s.http
            .get(f.s.url("/orgs/acme-corp/api/v1/oauth/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let key =
        jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[&f.client_id]);
    v.set_issuer(&[f.s.url("/orgs/acme-corp")]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &v)
        .unwrap()
        .claims;
    assert_eq!(claims["nonce"], "nonce-456");
    assert_eq!(claims["azp"], f.client_id.as_str());
    assert!(claims["auth_time"].is_i64());
    let digest = sha256(access.as_bytes());
    assert_eq!(
        claims["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    );

    // userinfo by scope, with the header and in a form body.
    let (st, u) = json(
        f.s.http
            .get(f.s.url("/orgs/acme-corp/api/v1/oauth/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["sub"], claims["sub"]);
    assert_eq!(u["preferred_username"], "alice");
    assert_eq!(u["name"], "Alice Liddell");
    assert_eq!(u["email"], "alice@example.com");
    let (st, u2) = json(
        f.s.http
            .post(f.s.url("/orgs/acme-corp/api/v1/oauth/userinfo"))
            .form(&[("access_token", access)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, &u2), (200, &u));
    let res =
        f.s.http
            .get(f.s.url("/orgs/acme-corp/api/v1/oauth/userinfo"))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));

    // With the session and remembered consent, the next authorization is one redirect.
    let res = f
        .get(&f.authorize_url(&[("state", "second")]), Some(&cookie))
        .await;
    let loc = location(&res);
    assert!(loc.as_str().starts_with(REDIRECT));
    assert_eq!(query(&loc, "state").as_deref(), Some("second"));
    assert!(query(&loc, "code").is_some());
}

#[tokio::test]
async fn codes_are_single_use_and_a_replay_revokes_the_first_token() {
    let f = setup(json!({})).await;
    let (code, _) = f.code(&[]).await;
    let (st, t) = f.redeem(&code, VERIFIER).await;
    assert_eq!(st, 200);
    let access = t["access_token"].as_str().unwrap().to_owned();
    let (st, e) = f.redeem(&code, VERIFIER).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")));
    let res =
        f.s.http
            .get(f.s.url("/orgs/acme-corp/api/v1/oauth/userinfo"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 401, "the first redemption's token is revoked");
    // And so is the refresh token it gave.
    let (st, e) = refresh(&f, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
}

// Several runtime threads, so that the fifty requests truly race.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_redemptions_have_exactly_one_winner() {
    let f = setup(json!({})).await;
    let (code, _) = f.code(&[]).await;
    let mut tasks = vec![];
    for _ in 0..50 {
        let http = f.s.http.clone();
        let url = f.s.url(TOKEN);
        let (code, id) = (code.clone(), f.client_id.clone());
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_id", &id),
                    ("code_verifier", VERIFIER),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            400 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn pkce_is_enforced() {
    let f = setup(json!({})).await;
    let (code, _) = f.code(&[]).await;
    let (st, e) = f
        .redeem(&code, "wrong-verifier-wrong-verifier-wrong-verifier-x")
        .await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")));
    // A public client without a challenge: refused at the authorization endpoint.
    let res = f
        .get(
            &f.authorize_url(&[("code_challenge", ""), ("code_challenge_method", "")]),
            None,
        )
        .await;
    let loc = location(&res);
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));
    let res = f
        .get(
            &f.authorize_url(&[("code_challenge_method", "plain")]),
            None,
        )
        .await;
    assert_eq!(
        query(&location(&res), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn untrusted_clients_and_redirects_get_an_error_page_never_a_redirect() {
    let f = setup(json!({})).await;
    for extra in [
        vec![("redirect_uri", "https://app.example.com/callback/")],
        vec![("redirect_uri", "https://app.example.com/callbackx")],
        vec![("redirect_uri", "https://app.example.com/callback?x=1")],
        vec![("redirect_uri", "https://evil.example.com/callback")],
        vec![("client_id", "unknown-client")],
    ] {
        let res = f.get(&f.authorize_url(&extra), None).await;
        assert_eq!(res.status(), 400, "{extra:?}");
        assert!(res.headers().get("location").is_none());
        assert!(res.headers().get("access-control-allow-origin").is_none());
    }
    // The port of a loopback redirect may vary.
    let res = f
        .get(
            &f.authorize_url(&[("redirect_uri", "http://127.0.0.1:51234/cb")]),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    // A disabled client: error page.
    call(
        &f.s,
        Method::PATCH,
        &format!("{ADMIN}/{}", f.client_id),
        Some(&f.admin),
        Some(json!({"isActive": false})),
    )
    .await;
    let res = f.get(&f.authorize_url(&[]), None).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn prompt_none_login_errors_and_denial() {
    let f = setup(json!({})).await;
    let res = f.get(&f.authorize_url(&[("prompt", "none")]), None).await;
    let loc = location(&res);
    assert_eq!(query(&loc, "error").as_deref(), Some("login_required"));
    assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));
    assert_eq!(query(&loc, "iss"), Some(f.s.url("/orgs/acme-corp")));

    // A wrong password shows the form again with the message.
    let html = f
        .get(&f.authorize_url(&[]), None)
        .await
        .text()
        .await
        .unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "alice"),
                ("password", "wrong"),
            ],
            None,
        )
        .await;
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Invalid username or password."));
    // A forged CSRF token is refused.
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", "forged"),
                ("username", "alice"),
                ("password", "correct horse battery"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Start again"));
    // Deny sends access_denied.
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery"),
            ],
            None,
        )
        .await;
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let res = f
        .post(
            "/orgs/acme-corp/consent",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("decision", "deny"),
            ],
            Some(&cookie),
        )
        .await;
    let loc = location(&res);
    assert_eq!(query(&loc, "error").as_deref(), Some("access_denied"));
    // Logged in but without consent, prompt=none asks for it.
    let res = f
        .get(&f.authorize_url(&[("prompt", "none")]), Some(&cookie))
        .await;
    assert_eq!(
        query(&location(&res), "error").as_deref(),
        Some("consent_required")
    );

    // A name that matches nobody fails the same way and is not recorded.
    let html = f
        .get(&f.authorize_url(&[]), None)
        .await
        .text()
        .await
        .unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "correct-horse-typed-here"),
                ("password", "x"),
            ],
            None,
        )
        .await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Invalid username or password."));
    // Sign-ins and failed sign-ins of existing users are audited, as the user, without secrets.
    let (st, log) = json(
        call(
            &f.s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?limit=50",
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{log}");
    let logins: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("user.log"))
        .collect();
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert_eq!(logins[0]["action"], "user.logged_in");
    assert_eq!(logins[1]["action"], "user.login_failed");
    assert_eq!(logins[1]["after"]["reason"], "wrong password");
    for e in &logins {
        assert_eq!(e["actor"]["type"], "user");
        assert_eq!(e["actor"]["name"], "alice");
        assert_eq!(e["targetType"], "user");
        assert_eq!(e["after"]["clientId"], f.client_id.as_str());
    }
    let text = log.to_string();
    assert!(!text.contains("correct horse") && !text.contains("correct-horse-typed-here"));
}

#[tokio::test]
async fn clients_without_consent_skip_it_and_confidential_clients_authenticate() {
    let f =
        setup(json!({"isConfidential": true, "requireConsent": false, "requirePkce": false})).await;
    let (_, c) = json(
        call(
            &f.s,
            Method::POST,
            &format!("{ADMIN}/{}/secret", f.client_id),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    let secret = c["secret"].as_str().unwrap().to_owned();
    let html = f
        .get(
            &f.authorize_url(&[("code_challenge", ""), ("code_challenge_method", "")]),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery"),
            ],
            None,
        )
        .await;
    let code = query(&location(&res), "code").unwrap();
    // Without the secret: invalid_client; with it, and without PKCE (none was sent): tokens.
    let res =
        f.s.http
            .post(f.s.url(TOKEN))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &f.client_id),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 401);
    let res =
        f.s.http
            .post(f.s.url(TOKEN))
            .basic_auth(&f.client_id, Some(&secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
    let (st, e) = json(res).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "a verifier for a code issued without PKCE"
    );
}

async fn refresh(f: &Flow, token: &str) -> (u16, Value) {
    let res =
        f.s.http
            .post(f.s.url(TOKEN))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
                ("client_id", &f.client_id),
            ])
            .send()
            .await
            .unwrap();
    json(res).await
}

use crate::support::jwt_claims as claims;

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let f = setup(json!({})).await;
    let (code, _) = f.code(&[]).await;
    let (_, t0) = f.redeem(&code, VERIFIER).await;
    let r0 = t0["refresh_token"]
        .as_str()
        .expect("a refresh token for a client with the grant")
        .to_owned();
    let (st, t1) = refresh(&f, &r0).await;
    assert_eq!(st, 200, "{t1}");
    let r1 = t1["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r0, r1, "rotated on every use");
    // The refreshed id_token keeps iss, sub, aud, azp and auth_time (OIDC Core §12.2).
    let (c0, c1) = (
        claims(t0["id_token"].as_str().unwrap()),
        claims(t1["id_token"].as_str().unwrap()),
    );
    for k in ["iss", "sub", "aud", "azp", "auth_time"] {
        assert_eq!(c0[k], c1[k], "{k}");
    }
    // Narrowing the scope is allowed, widening is not.
    let (st, t2) = json(
        f.s.http
            .post(f.s.url(TOKEN))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &r1),
                ("client_id", &f.client_id),
                ("scope", "openid"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, t2["scope"].as_str()), (200, Some("openid")));
    let r2 = t2["refresh_token"].as_str().unwrap().to_owned();
    // Introspection sees the live refresh token.
    let (_, conf_secret) = {
        let (_, c) = json(
            call(
                &f.s,
                Method::POST,
                ADMIN,
                Some(&f.admin),
                Some(
                    json!({"name": "RS", "redirectUris": [], "grantTypes": ["client_credentials"]}),
                ),
            )
            .await,
        )
        .await;
        (
            c["id"].as_str().unwrap().to_owned(),
            c["secret"].as_str().unwrap().to_owned(),
        )
    };
    let rs_id = {
        let (_, list) = json(
            call(
                &f.s,
                Method::GET,
                &format!("{ADMIN}?q=RS"),
                Some(&f.admin),
                None,
            )
            .await,
        )
        .await;
        list[0]["id"].as_str().unwrap().to_owned()
    };
    let introspect = |tok: String| {
        let (http, url, id, secret) = (
            f.s.http.clone(),
            f.s.url("/orgs/acme-corp/api/v1/oauth/introspect"),
            rs_id.clone(),
            conf_secret.clone(),
        );
        async move {
            json(
                http.post(url)
                    .basic_auth(id, Some(secret))
                    .form(&[("token", tok)])
                    .send()
                    .await
                    .unwrap(),
            )
            .await
            .1
        }
    };
    let v = introspect(r2.clone()).await;
    assert_eq!(
        (v["active"].as_bool(), v["token_type"].as_str()),
        (Some(true), Some("refresh_token"))
    );
    assert_eq!(
        introspect(r1.clone()).await,
        json!({"active": false}),
        "spent"
    );

    // Reuse of a spent token revokes the whole family, including the newest.
    let (st, e) = refresh(&f, &r1).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")));
    let (st, e) = refresh(&f, &r2).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "family revoked"
    );
}

// Several runtime threads, so that the fifty requests truly race.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_refreshes_have_exactly_one_winner() {
    let f = setup(json!({})).await;
    let (code, _) = f.code(&[]).await;
    let (_, t0) = f.redeem(&code, VERIFIER).await;
    let r0 = t0["refresh_token"].as_str().unwrap().to_owned();
    let mut tasks = vec![];
    for _ in 0..50 {
        let (http, url, id, tok) = (
            f.s.http.clone(),
            f.s.url(TOKEN),
            f.client_id.clone(),
            r0.clone(),
        );
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &tok),
                    ("client_id", &id),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            400 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    // No grace period by default: one winner; the others are reuse, which ends the family.
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_family() {
    let f = setup(json!({})).await;
    let (code, _) = f.code(&[]).await;
    let (_, t0) = f.redeem(&code, VERIFIER).await;
    let r0 = t0["refresh_token"].as_str().unwrap().to_owned();
    let res =
        f.s.http
            .post(f.s.url("/orgs/acme-corp/api/v1/oauth/revoke"))
            .form(&[
                ("token", r0.as_str()),
                ("client_id", &f.client_id),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    let (st, e) = refresh(&f, &r0).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")));
    // A disabled client cannot refresh.
    let (code, _) = f.code(&[]).await;
    let (_, t) = f.redeem(&code, VERIFIER).await;
    call(
        &f.s,
        Method::PATCH,
        &format!("{ADMIN}/{}", f.client_id),
        Some(&f.admin),
        Some(json!({"isActive": false})),
    )
    .await;
    let (st, e) = refresh(&f, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_honours_registered_addresses_only() {
    let f = setup(json!({"postLogoutRedirectUris": ["https://app.example.com/bye"]})).await;
    let (code, cookie) = f.code(&[]).await;
    let (_, t) = f.redeem(&code, VERIFIER).await;
    let id_token = t["id_token"].as_str().unwrap().to_owned();
    let end = "/orgs/acme-corp/api/v1/oauth/end_session";
    // An unregistered address is refused, never followed.
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://evil.example.com/"),
        ])
        .finish();
    let res = f.get(&f.s.url(&format!("{end}?{q}")), Some(&cookie)).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    // The registered one, with state, after the session ends.
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://app.example.com/bye"),
            ("state", "s-9"),
        ])
        .finish();
    let res = f.get(&f.s.url(&format!("{end}?{q}")), Some(&cookie)).await;
    let loc = location(&res);
    assert_eq!(loc.as_str(), "https://app.example.com/bye?state=s-9");
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // The old cookie no longer signs anyone in.
    let res = f
        .get(&f.authorize_url(&[("prompt", "none")]), Some(&cookie))
        .await;
    assert_eq!(
        query(&location(&res), "error").as_deref(),
        Some("login_required")
    );
    // Without a redirect: a page; a forged hint: refused.
    let res = f.get(&f.s.url(end), None).await;
    assert_eq!(res.status(), 200);
    let res = f
        .get(&f.s.url(&format!("{end}?id_token_hint=a.b.c")), None)
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn cors_follows_the_clients_allowed_origins_and_never_covers_authorize() {
    let f = setup(json!({"allowedCorsOrigins": ["https://spa.example.com"]})).await;
    let with_origin = |method: reqwest::Method, path: &str, origin: &str| {
        f.browser
            .request(method, f.s.url(path))
            .header("origin", origin.to_owned())
    };
    let res = with_origin(
        reqwest::Method::GET,
        "/orgs/acme-corp/api/v1/oauth/jwks",
        "https://spa.example.com",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://spa.example.com"
    );
    let res = with_origin(
        reqwest::Method::GET,
        "/orgs/acme-corp/api/v1/oauth/jwks",
        "https://evil.example.com",
    )
    .send()
    .await
    .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let res = with_origin(reqwest::Method::OPTIONS, TOKEN, "https://spa.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://spa.example.com"
    );
    assert!(res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let res = with_origin(reqwest::Method::POST, TOKEN, "https://spa.example.com")
        .form(&[("grant_type", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://spa.example.com",
        "errors too"
    );
    let res = with_origin(
        reqwest::Method::GET,
        &f.authorize_url(&[]).replace(&f.s.base, ""),
        "https://spa.example.com",
    )
    .send()
    .await
    .unwrap();
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "never on authorize"
    );
    // A new client's origin is allowed at once.
    call(
        &f.s,
        Method::PATCH,
        &format!("{ADMIN}/{}", f.client_id),
        Some(&f.admin),
        Some(json!({"allowedCorsOrigins": ["https://other.example.com"]})),
    )
    .await;
    let res = with_origin(
        reqwest::Method::GET,
        "/orgs/acme-corp/api/v1/oauth/jwks",
        "https://other.example.com",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://other.example.com"
    );
    let res = with_origin(
        reqwest::Method::GET,
        "/orgs/acme-corp/api/v1/oauth/jwks",
        "https://spa.example.com",
    )
    .send()
    .await
    .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    let f = setup(json!({})).await;
    let html = f
        .get(&f.authorize_url(&[]), None)
        .await
        .text()
        .await
        .unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let mut messages = vec![];
    for _ in 0..7 {
        let res = f
            .post(
                "/orgs/acme-corp/login",
                &[
                    ("request", &req),
                    ("csrf_token", &csrf),
                    ("username", "alice"),
                    ("password", "guess"),
                ],
                None,
            )
            .await;
        messages.push(res.text().await.unwrap());
    }
    // Five failures a minute are allowed; the sixth locks the user for a minute.
    assert!(messages[..6]
        .iter()
        .all(|m| m.contains("Invalid username or password.")));
    assert!(messages[6].contains("Too many sign-in attempts."));
    // Even the right password waits now.
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery"),
            ],
            None,
        )
        .await;
    assert!(res.headers().get("set-cookie").is_none());
    // The lockout is audited once (an event for webhooks), by the system, naming the user.
    let key = f.s.org_key("acme-corp", &["admin"], &[]).await;
    let log: serde_json::Value =
        f.s.http
            .get(f.s.url("/orgs/acme-corp/api/v1/admin/audit-log?action=user.locked_out"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["targetId"], "alice");
    assert_eq!(entries[0]["actor"]["type"], "system");
}

#[tokio::test]
async fn clients_may_choose_es256_or_eddsa_id_tokens() {
    let f = setup(json!({"idTokenSignedResponseAlg": "ES256"})).await;
    let (code, _) = f.code(&[]).await;
    let (_, t) = f.redeem(&code, VERIFIER).await;
    let id_token = t["id_token"].as_str().unwrap();
    let set: jsonwebtoken::jwk::JwkSet =
        f.s.http
            .get(f.s.url("/orgs/acme-corp/api/v1/oauth/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let key =
        jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[&f.client_id]);
    assert_eq!(
        jsonwebtoken::decode::<Value>(id_token, &key, &v)
            .unwrap()
            .claims["nonce"],
        "nonce-456"
    );
    let (st, c) = json(
        call(
            &f.s,
            Method::PATCH,
            &format!("{ADMIN}/{}", f.client_id),
            Some(&f.admin),
            Some(json!({"idTokenSignedResponseAlg": "HS256"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, c["details"][0]["field"].as_str()),
        (400, Some("idTokenSignedResponseAlg"))
    );
    let (_, c) = json(
        call(
            &f.s,
            Method::PATCH,
            &format!("{ADMIN}/{}", f.client_id),
            Some(&f.admin),
            Some(json!({"idTokenSignedResponseAlg": "EdDSA"})),
        )
        .await,
    )
    .await;
    assert_eq!(c["idTokenSignedResponseAlg"], "EdDSA");
    let (code, _) = f.code(&[]).await;
    let (_, t) = f.redeem(&code, VERIFIER).await;
    assert_eq!(
        jsonwebtoken::decode_header(t["id_token"].as_str().unwrap())
            .unwrap()
            .alg,
        jsonwebtoken::Algorithm::EdDSA
    );
}

/// OIDC Core §5.5: the `claims` parameter asks for individual claims in the id_token and at
/// userinfo; they survive a refresh; a malformed one is `invalid_request` on the redirect URI.
#[tokio::test]
async fn the_claims_parameter_releases_individual_claims() {
    let f = setup(
        json!({"allowedScopes": ["openid"], "grantTypes": ["authorization_code", "refresh_token"]}),
    )
    .await;
    let claims = r#"{"id_token":{"email":null,"preferred_username":{"essential":true}},"userinfo":{"name":null,"http://example.com/groups":null}}"#;
    let (code, _) = f.code(&[("scope", "openid"), ("claims", claims)]).await;
    let (st, t) = f.redeem(&code, VERIFIER).await;
    assert_eq!(st, 200, "{t}");
    let id = t["id_token"].as_str().unwrap();
    let payload = crate::support::jwt_claims(id);
    assert_eq!(payload["email"], "alice@example.com");
    assert_eq!(payload["preferred_username"], "alice");
    assert!(payload.get("name").is_none());
    let info = |token: String| {
        let http = f.s.http.clone();
        let url = f.s.url("/orgs/acme-corp/api/v1/oauth/userinfo");
        async move {
            json(http.get(url).bearer_auth(token).send().await.unwrap())
                .await
                .1
        }
    };
    let u = info(t["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(u["name"], "Alice Liddell");
    assert!(u.get("email").is_none(), "only what was asked for: {u}");
    // After a refresh, the same.
    let (_, r) = json(
        f.s.http
            .post(f.s.url(TOKEN))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ("client_id", &f.client_id),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let u = info(r["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(u["name"], "Alice Liddell");
    // A malformed request.
    let res = f
        .get(
            &f.authorize_url(&[("scope", "openid"), ("claims", "{not json")]),
            None,
        )
        .await;
    let loc = location(&res);
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_request"));
    assert!(query(&loc, "error_description")
        .unwrap()
        .starts_with("claims is not valid JSON"));
}

/// A request object the client signs with `key`: the whole request (state and nonce only
/// here), from the client to the issuer, five minutes of life; `changes` set (or, null,
/// remove) claims.
fn request_object(f: &Flow, key: &tessera_crypto::jws::SigningKey, changes: Value) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({
        "iss": f.client_id, "aud": f.s.url("/orgs/acme-corp"), "exp": now + 300, "iat": now,
        "client_id": f.client_id, "response_type": "code", "redirect_uri": REDIRECT,
        "scope": "openid email", "state": "st-123", "nonce": "nonce-in-object",
        "code_challenge": challenge(VERIFIER), "code_challenge_method": "S256",
    });
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    key.sign_jwt("oauth-authz-req+jwt", &claims).unwrap()
}

/// A client with an RS256 and an ES256 key (its `jwks`), and those keys.
async fn keyed_flow() -> (Flow, Vec<tessera_crypto::jws::SigningKey>) {
    use tessera_crypto::jws::{Alg, SigningKey};
    let keys: Vec<SigningKey> = [Alg::RS256, Alg::ES256]
        .iter()
        .map(|a| {
            SigningKey::generate(*a, format!("rp-{}", a.as_str()))
                .unwrap()
                .0
        })
        .collect();
    let jwks = json!({"keys": keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>()});
    (setup(json!({"jwks": jwks})).await, keys)
}

/// Only the parameters OAuth 2.0 requires outside a request object (OIDC Core §6.1), the
/// `scope` narrower than the object's.
const OUTSIDE: [(&str, &str); 5] = [
    ("scope", "openid"),
    ("state", ""),
    ("nonce", ""),
    ("code_challenge", ""),
    ("code_challenge_method", ""),
];

/// OIDC Core §6 and RFC 9101: a signed request object, by value or by reference, is the
/// request: its state, nonce, scope and PKCE challenge are the ones used, with either key.
#[tokio::test]
async fn signed_request_objects_by_value_and_by_reference_are_the_request() {
    let (f, keys) = keyed_flow().await;
    let discovery: Value =
        f.s.http
            .get(f.s.url("/orgs/acme-corp/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(discovery["request_parameter_supported"], true);
    assert_eq!(discovery["request_uri_parameter_supported"], true);
    assert_eq!(discovery["require_request_uri_registration"], false);
    let algs = discovery["request_object_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("RS256")) && algs.contains(&json!("ES256")));
    assert!(
        !algs.contains(&json!("none")),
        "unsigned objects are refused"
    );

    let server = crate::support::jwks_server(json!(null)).await;
    for (i, key) in keys.iter().enumerate() {
        let jwt = request_object(&f, key, json!({}));
        let mut outside = OUTSIDE.to_vec();
        let uri;
        if i == 0 {
            outside.push(("request", &jwt));
        } else {
            // By reference, with the hash of the object as the fragment (§6.2).
            *server.set.lock().unwrap() = json!(jwt);
            uri = format!("{}/requests/{i}#{}", server.origin, challenge(&jwt));
            outside.push(("request_uri", &uri));
        }
        let (code, _) = f.code(&outside).await;
        let (st, t) = f.redeem(&code, VERIFIER).await;
        assert_eq!(st, 200, "{t}");
        assert_eq!(t["scope"], "openid email", "the object's scope");
        assert_eq!(
            claims(t["id_token"].as_str().unwrap())["nonce"],
            "nonce-in-object"
        );
    }
    assert_eq!(server.fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Every refused request object is an error on the redirect URI naming what was wrong (OIDC
/// Core §3.1.2.6), with the state of the query, and never a code.
#[tokio::test]
async fn refused_request_objects_say_why_on_the_redirect_uri() {
    let (f, keys) = keyed_flow().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let other = tessera_crypto::jws::SigningKey::generate(
        tessera_crypto::jws::Alg::RS256,
        "rp-RS256".into(),
    )
    .unwrap()
    .0;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none"})),
        b64(&json!({"client_id": f.client_id, "state": "inside"}))
    );
    let good = request_object(&f, &keys[0], json!({}));
    let server = crate::support::jwks_server(json!("not a jwt")).await;
    let not_a_jwt = format!("{}/requests/1", server.origin);
    let long = format!("https://rp.example/{}", "a".repeat(600));
    // The parameters besides the query's, the error, and what its description says.
    type Case<'a> = (Vec<(&'a str, String)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("request", unsigned)],
            "invalid_request_object",
            "unsigned",
        ),
        (
            vec![("request", request_object(&f, &other, json!({})))],
            "invalid_request_object",
            "does not verify",
        ),
        (
            vec![(
                "request",
                request_object(&f, &keys[0], json!({"iss": "someone"})),
            )],
            "invalid_request_object",
            "iss",
        ),
        (
            vec![(
                "request",
                request_object(&f, &keys[1], json!({"aud": "https://other.example"})),
            )],
            "invalid_request_object",
            "aud",
        ),
        (
            vec![(
                "request",
                request_object(&f, &keys[0], json!({"exp": now - 600})),
            )],
            "invalid_request_object",
            "expired",
        ),
        (
            vec![(
                "request",
                request_object(&f, &keys[0], json!({"nbf": now + 600})),
            )],
            "invalid_request_object",
            "nbf",
        ),
        (
            vec![(
                "request",
                request_object(&f, &keys[0], json!({"client_id": "another"})),
            )],
            "invalid_request_object",
            "client_id",
        ),
        (
            vec![(
                "request",
                request_object(&f, &keys[0], json!({"request_uri": "https://rp.example/r"})),
            )],
            "invalid_request_object",
            "may not contain",
        ),
        (
            vec![
                ("request", good.clone()),
                ("request_uri", "https://rp.example/r".into()),
            ],
            "invalid_request",
            "not both",
        ),
        (
            vec![("request_uri", not_a_jwt)],
            "invalid_request_uri",
            "did not answer a JWT",
        ),
        (
            vec![("request_uri", "http://127.0.0.1:1/requests/2".into())],
            "invalid_request_uri",
            "could not be fetched",
        ),
        (vec![("request_uri", long)], "invalid_request_uri", "512"),
        (
            vec![(
                "request_uri",
                "urn:ietf:params:oauth:request_uri:abc".into(),
            )],
            "invalid_request_uri",
            "unknown, was used already, or has expired",
        ),
    ];
    for (extra, error, says) in cases {
        let mut outside: Vec<(&str, &str)> = vec![("scope", "openid"), ("nonce", "")];
        outside.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        let res = f.get(&f.authorize_url(&outside), None).await;
        let loc = location(&res);
        assert!(loc.as_str().starts_with(REDIRECT), "{loc}");
        assert_eq!(query(&loc, "error").as_deref(), Some(error), "{loc}");
        let description = query(&loc, "error_description").unwrap();
        assert!(description.contains(says), "{says}: {description}");
        assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));
        assert!(query(&loc, "code").is_none());
    }

    // A client with a requestObjectSigningAlg accepts that algorithm only.
    let (st, c) = json(
        call(
            &f.s,
            Method::PATCH,
            &format!("{ADMIN}/{}", f.client_id),
            Some(&f.admin),
            Some(json!({"requestObjectSigningAlg": "ES256"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, c["requestObjectSigningAlg"].as_str()),
        (200, Some("ES256"))
    );
    let res = f.get(&f.authorize_url(&[("request", &good)]), None).await;
    let loc = location(&res);
    assert_eq!(
        query(&loc, "error").as_deref(),
        Some("invalid_request_object")
    );
    assert!(query(&loc, "error_description")
        .unwrap()
        .contains("signed with RS256; this client's requestObjectSigningAlg is ES256"));
    let es = request_object(&f, &keys[1], json!({}));
    let (code, _) = f.code(&[("request", &es), ("nonce", "")]).await;
    assert_eq!(f.redeem(&code, VERIFIER).await.0, 200);

    // The object's redirect_uri is the one checked: an unregistered one inside is an error
    // page, although the query's is registered.
    let jwt = request_object(
        &f,
        &keys[1],
        json!({"redirect_uri": "https://evil.example/cb"}),
    );
    let res = f.get(&f.authorize_url(&[("request", &jwt)]), None).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    // And a refused object whose query has no usable redirect_uri is a page that says why.
    let res = f
        .get(
            &f.authorize_url(&[("request", &good[..good.len() - 4]), ("redirect_uri", "")]),
            None,
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("The request object was refused") && html.contains("redirect_uri"),
        "{html}"
    );
}

#[tokio::test]
async fn scopes_at_the_authorization_endpoint_narrow_as_at_the_token_endpoint() {
    let f = setup(json!({})).await;
    // A scope the client may not have: invalid_scope, back at the client with its state.
    let res = f
        .get(&f.authorize_url(&[("scope", "openid admin")]), None)
        .await;
    let loc = location(&res);
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(
        query(&loc, "error_description").as_deref(),
        Some("scope 'admin' is not allowed for this client")
    );
    assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));
    // Repeats are dropped and the order kept (RFC 6749 §3.3).
    let (code, _) = f.code(&[("scope", "email openid email")]).await;
    let (st, t) = f.redeem(&code, VERIFIER).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["scope"], "email openid");
    // No scope asks for none (not for everything the client may have).
    let (code, _) = f.code(&[("scope", "")]).await;
    let (st, t) = f.redeem(&code, VERIFIER).await;
    assert_eq!(st, 200, "{t}");
    assert!(t["scope"].as_str().unwrap_or("").is_empty(), "{t}");
    assert!(t.get("id_token").is_none(), "{t}");
}

/// POSTs to the token endpoint as the flow's public client.
async fn token_form(f: &Flow, params: &[(&str, &str)]) -> (u16, Value) {
    let mut p = params.to_vec();
    p.push(("client_id", &f.client_id));
    json(f.s.http.post(f.s.url(TOKEN)).form(&p).send().await.unwrap()).await
}

/// RFC 8707 in the interactive flow: `resource` on authorize binds the code; the token is
/// audience-bound to it with its scopes; the token request and refresh may narrow, never
/// widen; an unknown resource is `invalid_target` on the redirect URI.
#[tokio::test]
async fn resource_indicators_in_the_code_flow_and_refresh() {
    let f = setup(json!({"grantTypes": ["authorization_code", "refresh_token"]})).await;
    let resources = "/orgs/acme-corp/api/v1/admin/api-resources";
    for body in [
        json!({"identifier": "https://mcp.example.com/mcp", "name": "Example MCP server",
               "scopes": [{"name": "tools.read", "description": "List and call read-only tools"}],
               "accessTokenLifetime": 600}),
        json!({"identifier": "urn:acme:billing", "name": "Billing",
               "scopes": [{"name": "invoices.read"}]}),
    ] {
        let (st, v) =
            json(call(&f.s, Method::POST, resources, Some(&f.admin), Some(body)).await).await;
        assert_eq!(st, 201, "{v}");
    }

    // Unknown: refused to the redirect URI, before any sign-in.
    let res = f
        .get(
            &f.authorize_url(&[("resource", "https://unknown.example.com/")]),
            None,
        )
        .await;
    let loc = location(&res);
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_target"));
    assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));

    // Both resources; the scopes of both and openid.
    let url = format!(
        "{}&resource={}",
        f.authorize_url(&[
            ("resource", "https://mcp.example.com/mcp"),
            ("scope", "openid tools.read invoices.read"),
        ]),
        "urn%3Aacme%3Abilling"
    );
    let res = f.get(&url, None).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery"),
            ],
            None,
        )
        .await;
    let cookie = set_cookie(&res, "tessera_session").unwrap();
    let consent = res.text().await.unwrap();
    assert!(
        consent.contains("Example MCP server"),
        "the consent page names the resource"
    );
    assert!(
        consent.contains("List and call read-only tools"),
        "and its scopes"
    );
    let res = f
        .post(
            "/orgs/acme-corp/consent",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("decision", "allow"),
            ],
            Some(&cookie),
        )
        .await;
    let code = query(&location(&res), "code").unwrap();

    // Asking at the token endpoint for a resource the authorization did not name: refused,
    // and the code is not spent by it.
    let redeem = |extra: Option<&'static str>| {
        let code = code.clone();
        let f = &f;
        async move {
            let mut p = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ];
            if let Some(r) = extra {
                p.push(("resource", r));
            }
            token_form(f, &p).await
        }
    };
    let (st, v) = redeem(Some("https://other.example.com/")).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );
    // Narrowed to the MCP server: its audience, lifetime and scopes (not billing's).
    let (st, v) = redeem(Some("https://mcp.example.com/mcp")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["expires_in"], 600);
    assert_eq!(v["scope"], "openid tools.read");
    let at = claims(v["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], "https://mcp.example.com/mcp");
    assert!(
        v["id_token"].is_string(),
        "the id_token is still the client's"
    );
    let rt = v["refresh_token"].as_str().unwrap().to_owned();

    // Refresh: for billing only, then for both (the family's resources).
    let (st, v) = token_form(
        &f,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("resource", "urn:acme:billing"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["aud"],
        "urn:acme:billing"
    );
    assert_eq!(v["scope"], "openid invoices.read");
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    let (st, v) = token_form(
        &f,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("resource", "https://elsewhere.example.com/"),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "never widens: {v}"
    );
    let (st, v) = token_form(
        &f,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(st, 200, "the refused request did not spend the token: {v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["aud"],
        json!(["https://mcp.example.com/mcp", "urn:acme:billing"])
    );
    assert_eq!(v["scope"], "openid tools.read invoices.read");
}

/// Client ID Metadata Documents: with the organization's policy on, a `client_id` that is the
/// URL of a document describing the client works as a public client through the whole code
/// flow; the consent page names the document's host; a document that does not name itself is
/// refused; with the policy off, such a client id is unknown.
#[tokio::test]
async fn client_id_metadata_documents_are_public_clients() {
    let mut f = setup(json!({})).await;
    let doc_server = crate::support::jwks_server(json!({})).await;
    let url = doc_server.url.clone();
    *doc_server.set.lock().unwrap() = json!({
        "client_id": url,
        "client_name": "Research Agent",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "scope": "openid profile"
    });
    f.client_id = url.clone();
    let disco = |f: &Flow| {
        let url = f.s.url("/orgs/acme-corp/.well-known/openid-configuration");
        let http = f.s.http.clone();
        async move { json(http.get(url).send().await.unwrap()).await.1 }
    };
    assert_eq!(
        disco(&f).await["client_id_metadata_document_supported"],
        false
    );

    // The policy off: an unknown client, an error page, nothing fetched.
    let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        doc_server.fetches.load(std::sync::atomic::Ordering::SeqCst),
        0
    );

    let policy = "/orgs/acme-corp/api/v1/admin/registration-policy";
    let (st, p) = json(
        call(
            &f.s,
            Method::PUT,
            policy,
            Some(&f.admin),
            Some(json!({"clientIdMetadataDocuments": true})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, p["clientIdMetadataDocuments"].as_bool()),
        (200, Some(true)),
        "{p}"
    );
    assert_eq!(
        disco(&f).await["client_id_metadata_document_supported"],
        true
    );

    // The whole flow with the document's URL as the client id.
    let res = f
        .get(&f.authorize_url(&[("scope", "openid profile")]), None)
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = f
        .post(
            "/orgs/acme-corp/login",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery"),
            ],
            None,
        )
        .await;
    let cookie = set_cookie(&res, "tessera_session").unwrap();
    let consent = res.text().await.unwrap();
    assert!(
        consent.contains("Research Agent (127.0.0.1)"),
        "the consent page names the document's host: {consent}"
    );
    let res = f
        .post(
            "/orgs/acme-corp/consent",
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("decision", "allow"),
            ],
            Some(&cookie),
        )
        .await;
    let code = query(&location(&res), "code").unwrap();
    let (st, v) = f.redeem(&code, VERIFIER).await;
    assert_eq!(st, 200, "{v}");
    let at = claims(v["access_token"].as_str().unwrap());
    assert_eq!(at["client_id"], url.as_str());
    let (st, v) = refresh(&f, v["refresh_token"].as_str().unwrap()).await;
    assert_eq!(st, 200, "a public client's refresh: {v}");

    // A document that names another client id: refused (after its cached copy expires; a
    // new URL here, the same server answering).
    let other = format!("{}/other.json", doc_server.origin);
    f.client_id = other;
    let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
    assert_eq!(res.status(), 400, "a document must name itself");
    // Secrets are refused too.
    f.client_id = format!("{}/secret.json", doc_server.origin);
    *doc_server.set.lock().unwrap() = json!({
        "client_id": f.client_id,
        "redirect_uris": [REDIRECT],
        "client_secret": "s3cr3t"
    });
    let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
    assert_eq!(res.status(), 400, "a document carries no secret");
}

/// A loopback server that answers every request with `response` (raw HTTP) and then holds
/// the connection open for 30 s, counting the requests.
async fn raw_server(response: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(response.as_bytes()).await;
                // Held open, as a slow server would (a short body never completes).
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            });
        }
    });
    (origin, hits)
}

/// The metadata fetcher's guards, through the authorization endpoint: a document that
/// redirects (even to a good one), one too large, and a client id that is not an https URL
/// (loopback http is allowed only by the development setting these tests run with) are each
/// an unknown client — an error page, never a redirect to the client.
#[tokio::test]
async fn client_metadata_documents_are_fetched_with_guards() {
    let mut f = setup(json!({})).await;
    call(
        &f.s,
        Method::PUT,
        "/orgs/acme-corp/api/v1/admin/registration-policy",
        Some(&f.admin),
        Some(json!({"clientIdMetadataDocuments": true})),
    )
    .await;
    // A good document elsewhere, and a server that redirects to it.
    let good = crate::support::jwks_server(json!({})).await;
    *good.set.lock().unwrap() = json!({"client_id": good.url, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"});
    let (redirecting, hits) = raw_server(format!(
        "HTTP/1.1 302 Found\r\nlocation: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        good.url
    ))
    .await;
    f.client_id = format!("{redirecting}/client.json");
    let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
    assert_eq!(res.status(), 400, "a redirect is not followed");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(good.fetches.load(std::sync::atomic::Ordering::SeqCst), 0);

    // More than 64 KiB.
    let huge_client = "x".repeat(70_000);
    let (big, _) = raw_server(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{{\"client_name\":\"{huge_client}\"}}",
        huge_client.len() + 17
    ))
    .await;
    f.client_id = format!("{big}/client.json");
    let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
    assert_eq!(res.status(), 400, "a huge document is refused");

    // Not a URL Tessera would fetch: no path, a fragment, credentials, another scheme.
    for bad in [
        good.origin.clone(),
        format!("{}#frag", good.url),
        good.url.replace("http://", "http://user:pw@"),
        good.url.replace("http://", "ftp://"),
    ] {
        f.client_id = bad.clone();
        let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert_eq!(good.fetches.load(std::sync::atomic::Ordering::SeqCst), 0);

    // The good one itself works, and is fetched once however often it is used. (The policy
    // change above also reaches this node's change follower, which forgets the documents
    // fetched so far: let it arrive first, so that it cannot empty the cache mid-count.)
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    f.client_id = good.url.clone();
    for _ in 0..3 {
        let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(
        good.fetches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "cached"
    );
}

/// Server-side request forgery through client metadata documents: with fetches as in
/// production, a client id that names a loopback, private, link-local or metadata address —
/// literally or through a name that resolves to one — is never fetched; an unknown client.
#[tokio::test]
async fn client_metadata_documents_never_reach_internal_addresses() {
    let s = TestServer::start_without_internal_fetches().await;
    let admin = acme_with_alice(&s).await;
    call(
        &s,
        Method::PUT,
        "/orgs/acme-corp/api/v1/admin/registration-policy",
        Some(&admin),
        Some(json!({"clientIdMetadataDocuments": true})),
    )
    .await;
    let doc = crate::support::jwks_server(json!({})).await;
    *doc.set.lock().unwrap() = json!({"client_id": doc.url, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"});
    let port = doc.origin.rsplit(':').next().unwrap().to_owned();
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    for client_id in [
        doc.url.clone(),
        format!("https://127.0.0.1:{port}/jwks.json"),
        format!("https://localhost:{port}/jwks.json"),
        "https://10.1.2.3/client.json".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://[::1]/client.json".to_owned(),
    ] {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", client_id.as_str()),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let res = browser
            .get(s.url(&format!("{AUTHORIZE}?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{client_id}");
    }
    assert_eq!(
        doc.fetches.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the internal server"
    );
}

/// A document that never finishes answering is given up after the fetch timeout (5 s): an
/// unknown client, and the authorization endpoint answers.
#[tokio::test]
async fn a_slow_client_metadata_document_is_given_up() {
    let mut f = setup(json!({})).await;
    call(
        &f.s,
        Method::PUT,
        "/orgs/acme-corp/api/v1/admin/registration-policy",
        Some(&f.admin),
        Some(json!({"clientIdMetadataDocuments": true})),
    )
    .await;
    // Headers, then a body that never comes.
    let (slow, hits) = raw_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{".into(),
    )
    .await;
    f.client_id = format!("{slow}/client.json");
    let started = std::time::Instant::now();
    let res = f.get(&f.authorize_url(&[("scope", "openid")]), None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_secs(4) && took < std::time::Duration::from_secs(10),
        "given up after the timeout, not before and not much after: {took:?}"
    );
}

/// The registration policy reaches every node: a node that accepted a client metadata
/// document stops accepting it as soon as another node turns the policy off (the change
/// feed), not when its cached copy of the document expires.
#[tokio::test]
async fn a_policy_change_on_one_node_drops_documents_on_the_others() {
    let mut f = setup(json!({})).await;
    let policy = |on: bool| {
        let (s, admin) = (&f.s, f.admin.clone());
        async move {
            call(
                s,
                Method::PUT,
                "/orgs/acme-corp/api/v1/admin/registration-policy",
                Some(&admin),
                Some(json!({"clientIdMetadataDocuments": on})),
            )
            .await
            .status()
        }
    };
    assert_eq!(policy(true).await, 200);
    let doc = crate::support::jwks_server(json!({})).await;
    *doc.set.lock().unwrap() = json!({"client_id": doc.url, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"});
    f.client_id = doc.url.clone();
    let url = url::Url::parse(&f.authorize_url(&[("scope", "openid")])).unwrap();
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let other =
        f.s.second_node(std::sync::Arc::new(tessera_domain::SystemClock))
            .await;
    other.spawn_change_poller(std::time::Duration::from_millis(100));
    let accepted = |node: std::sync::Arc<tessera_core::Services>, params: Vec<(String, String)>| async move {
        !matches!(
            node.authorize("acme-corp", &params, None, "browser").await,
            Err(tessera_core::authorize::AuthorizeError::Page(_))
        )
    };
    assert!(
        accepted(other.clone(), params.clone()).await,
        "the other node accepts it"
    );
    assert_eq!(policy(false).await, 200);
    let started = std::time::Instant::now();
    while accepted(other.clone(), params.clone()).await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "still accepted on the other node after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The `roles` scope (and the seed's `role`): the user's roles in the organization as a
/// `roles` claim in the id_token, at userinfo, in the access token and its introspection.
#[tokio::test]
async fn the_roles_scope_puts_the_users_roles_in_every_token() {
    let f = setup(json!({"allowedScopes": ["openid", "role", "roles"]})).await;
    let alice =
        f.s.services
            .list_users(&tessera_core::Context::cli(), "acme-corp")
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.username.as_str() == "alice")
            .unwrap();
    f.s.services
        .update_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            &alice.id.to_string(),
            tessera_core::users::UserPatch {
                roles: Some(vec!["viewer".into(), "admin".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for scope in ["openid role", "openid roles"] {
        let (code, _) = f.code(&[("scope", scope)]).await;
        let (st, t) = f.redeem(&code, VERIFIER).await;
        assert_eq!(st, 200, "{t}");
        let decode = |jwt: &str| -> Value {
            let p = jwt.split('.').nth(1).unwrap();
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .unwrap(),
            )
            .unwrap()
        };
        let mut want = vec!["admin", "viewer"];
        let sorted = |v: &Value| {
            let mut r: Vec<String> = v
                .as_array()
                .unwrap_or_else(|| panic!("roles: {v}"))
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            r.sort();
            r
        };
        want.sort();
        let at = t["access_token"].as_str().unwrap();
        assert_eq!(
            sorted(&decode(t["id_token"].as_str().unwrap())["roles"]),
            want,
            "{scope}"
        );
        assert_eq!(sorted(&decode(at)["roles"]), want);
        let (_, info) = json(
            f.s.http
                .get(f.s.url("/orgs/acme-corp/api/v1/oauth/userinfo"))
                .bearer_auth(at)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(sorted(&info["roles"]), want, "{info}");
    }
    // Without the scope: no roles anywhere.
    let (code, _) = f.code(&[("scope", "openid")]).await;
    let (_, t) = f.redeem(&code, VERIFIER).await;
    assert!(!t["id_token"].as_str().unwrap().is_empty());
    let p = t["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap();
    assert!(claims.get("roles").is_none());
}
