//! The attacks of the outside security review, each performed against a running server and
//! now refused: login and consent CSRF, cookie attribute injection through the organization
//! slug, logout with the wrong kind of hint or from a bare cross-site link, and the rest of
//! the findings (one test each). docs/security.md's table of controls names these tests.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{call, hidden, json, set_cookie, Browser};

const ORG: &str = "/orgs/acme-corp";
use crate::support::ACME_CLIENTS as ADMIN;
const REDIRECT: &str = "https://app.example.com/callback";
/// A valid S256 challenge (its verifier is not needed: no code is redeemed here).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const EVIL: &str = "https://evil.example";

struct Site {
    s: TestServer,
    admin: String,
    client_id: String,
}

async fn user(s: &TestServer, name: &str, password: &str) {
    s.services
        .create_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            tessera_core::users::NewUser {
                username: name.into(),
                email: None,
                name: None,
                password: Some(secrecy::SecretString::from(password.to_owned())),
                roles: vec![],
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn site() -> Site {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    user(&s, "alice", "alice's own password").await;
    user(&s, "mallory", "mallory's password").await;
    let admin = s.org_key("acme-corp", &["owner"], &[]).await;
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(json!({
                "name": "Dashboard",
                "isConfidential": false,
                "redirectUris": [REDIRECT],
                "postLogoutRedirectUris": ["https://app.example.com/bye"],
                "allowedScopes": ["openid", "profile"],
            })),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    Site {
        client_id: c["id"].as_str().unwrap().to_owned(),
        s,
        admin,
    }
}

impl Site {
    fn authorize_url(&self, extra: &[(&str, &str)]) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.extend_pairs([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile"),
            ("state", "st-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        q.extend_pairs(extra.iter().copied());
        self.s
            .url(&format!("{ORG}/api/v1/oauth/authorize?{}", q.finish()))
    }

    /// Opens the login page in `b`: the form's `request` and `csrf_token`.
    async fn login_form(&self, b: &Browser) -> (String, String) {
        let res = b.get(&self.authorize_url(&[])).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        (hidden(&html, "request"), hidden(&html, "csrf_token"))
    }

    /// Signs `b` in as `name` through its own login form (same-origin, as a browser posts
    /// it); the consent page that follows.
    async fn sign_in(&self, b: &Browser, name: &str, password: &str) -> String {
        let (req, csrf) = self.login_form(b).await;
        let res = b
            .post(
                &self.s.url(&format!("{ORG}/login")),
                &[
                    ("request", &req),
                    ("csrf_token", &csrf),
                    ("username", name),
                    ("password", password),
                ],
                &[("origin", &self.s.base), ("sec-fetch-site", "same-origin")],
            )
            .await;
        assert_eq!(res.status(), 200, "the consent page");
        assert!(b.cookie("tessera_session").is_some());
        res.text().await.unwrap()
    }

    /// Whether `b`'s session still signs it in: `prompt=none` gets past login.
    async fn signed_in(&self, b: &Browser) -> bool {
        let res = b.get(&self.authorize_url(&[("prompt", "none")])).await;
        let loc = res.headers()["location"].to_str().unwrap().to_owned();
        !loc.contains("login_required")
    }
}

fn refused_with_restart(status: StatusCode, html: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("Start again"), "{html}");
    assert!(html.contains("/api/v1/oauth/authorize?"), "{html}");
}

/// Finding 1: login CSRF. The attacker copies `request` and `csrf_token` from the login page
/// in their own browser and makes the victim's browser post them with the attacker's
/// credentials. Refused, whatever cookie the victim's browser holds, and no session is made.
#[tokio::test]
async fn login_forms_posted_from_another_browser_or_site_are_refused() {
    let site = site().await;
    let login = site.s.url(&format!("{ORG}/login"));
    let attacker = Browser::new();
    let (req, csrf) = site.login_form(&attacker).await;
    let form = [
        ("request", req.as_str()),
        ("csrf_token", csrf.as_str()),
        ("username", "mallory"),
        ("password", "mallory's password"),
    ];

    // The victim's browser, with no cookie of ours yet, posted to from evil.example.
    let victim = Browser::new();
    let res = victim.post(&login, &form, &[("origin", EVIL)]).await;
    assert!(set_cookie(&res, "tessera_session").is_none());
    let st = res.status();
    refused_with_restart(st, &res.text().await.unwrap());

    // The victim's browser with its own binding (it has seen a form of ours before), the
    // post carrying no Origin at all: the token belongs to another browser.
    site.login_form(&victim).await;
    assert!(victim.cookie("tessera_browser").is_some());
    let res = victim.post(&login, &form, &[]).await;
    assert!(set_cookie(&res, "tessera_session").is_none());
    let st = res.status();
    refused_with_restart(st, &res.text().await.unwrap());

    // Even the attacker's own browser cannot post the form from another site.
    for headers in [
        [("origin", EVIL), ("sec-fetch-site", "cross-site")],
        [("origin", "null"), ("sec-fetch-site", "cross-site")],
        [("origin", EVIL), ("x-unused", "-")],
    ] {
        let res = attacker.post(&login, &form, &headers).await;
        assert!(set_cookie(&res, "tessera_session").is_none());
        let st = res.status();
        refused_with_restart(st, &res.text().await.unwrap());
    }

    // The restart link starts the same request again, in this browser.
    let res = victim.post(&login, &form, &[]).await;
    let html = res.text().await.unwrap();
    let start = html.find("href=\"").unwrap() + 6;
    let link = crate::support::unescape_html(html[start..].split('"').next().unwrap());
    let res = victim.get(&link).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("name=\"password\""), "{page}");
    let (req2, csrf2) = (hidden(&page, "request"), hidden(&page, "csrf_token"));
    let res = victim
        .post(
            &login,
            &[
                ("request", &req2),
                ("csrf_token", &csrf2),
                ("username", "alice"),
                ("password", "alice's own password"),
            ],
            // Chromium sends `Origin: null` from a page with `Referrer-Policy: no-referrer`.
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res, "tessera_session").is_some());

    // And the attacker's own post, from the page itself, works (nothing else changed).
    let res = attacker
        .post(&login, &form, &[("origin", &site.s.base)])
        .await;
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res, "tessera_session").is_some());
}

/// Finding 1, consent: the attacker's consent form (`decision=allow`) posted by the
/// victim's signed-in browser from another site gives no code.
#[tokio::test]
async fn consent_forms_posted_from_another_browser_or_site_are_refused() {
    let site = site().await;
    let consent = site.s.url(&format!("{ORG}/consent"));
    let attacker = Browser::new();
    let page = site
        .sign_in(&attacker, "mallory", "mallory's password")
        .await;
    let (req, csrf) = (hidden(&page, "request"), hidden(&page, "csrf_token"));
    let victim = Browser::new();
    site.sign_in(&victim, "alice", "alice's own password").await;
    let form = [
        ("request", req.as_str()),
        ("csrf_token", csrf.as_str()),
        ("decision", "allow"),
    ];
    for headers in [vec![("origin", EVIL)], vec![]] {
        let res = victim.post(&consent, &form, &headers).await;
        assert!(res.headers().get("location").is_none());
        let st = res.status();
        refused_with_restart(st, &res.text().await.unwrap());
    }
    // Cross-site even from the attacker's own browser.
    let res = attacker
        .post(&consent, &form, &[("sec-fetch-site", "cross-site")])
        .await;
    assert_eq!(res.status(), 403);
    // From the page itself: a code.
    let res = attacker
        .post(&consent, &form, &[("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(res.status(), 303);
    let loc = res.headers()["location"].to_str().unwrap();
    assert!(loc.starts_with(REDIRECT) && loc.contains("code="), "{loc}");
}

/// Finding 1, device page: the confirmation form of another browser, or posted from another
/// site, approves nothing.
#[tokio::test]
async fn device_forms_posted_from_another_site_are_refused() {
    let site = site().await;
    let (st, c) = json(
        call(
            &site.s,
            Method::POST,
            ADMIN,
            Some(&site.admin),
            Some(
                json!({"name": "TV", "isConfidential": false, "redirectUris": [],
                        "grantTypes": ["urn:ietf:params:oauth:grant-type:device_code"],
                        "allowedScopes": ["openid"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let tv = c["id"].as_str().unwrap().to_owned();
    let (_, d) = json(
        site.s
            .http
            .post(
                site.s
                    .url(&format!("{ORG}/api/v1/oauth/device_authorization")),
            )
            .form(&[("client_id", tv.as_str()), ("scope", "openid")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let user_code = d["user_code"].as_str().unwrap();
    let victim = Browser::new();
    site.sign_in(&victim, "alice", "alice's own password").await;
    let page = victim
        .get(d["verification_uri_complete"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf_token");
    let device = site.s.url(&format!("{ORG}/device"));
    let form = [
        ("user_code", user_code),
        ("csrf_token", csrf.as_str()),
        ("decision", "allow"),
    ];
    let res = victim
        .post(
            &device,
            &form,
            &[("origin", EVIL), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Open the device page again"));
    let poll = || async {
        json(
            site.s
                .http
                .post(site.s.url(&format!("{ORG}/api/v1/oauth/token")))
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("device_code", d["device_code"].as_str().unwrap()),
                    ("client_id", tv.as_str()),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (_, v) = poll().await;
    assert_eq!(v["error"], "authorization_pending");
    let res = victim
        .post(&device, &form, &[("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Device connected"));
}

/// Finding 4: an organization segment that is not a slug never reaches a cookie, a page or a
/// log line: `404` before any handler.
#[tokio::test]
async fn an_invalid_organization_slug_is_a_404_before_anything_uses_it() {
    let site = site().await;
    let bad = "x%3B%20Domain%3Devil.example%3B%20Path%3D%2F";
    for path in [
        format!("/orgs/{bad}/api/v1/oauth/end_session"),
        format!("/orgs/{bad}/api/v1/oauth/authorize?client_id=a"),
        format!("/orgs/{bad}/device"),
        format!("/orgs/{bad}/.well-known/openid-configuration"),
        format!("/t/{bad}/api/v1/admin/oauth-clients"),
        format!("/.well-known/oauth-authorization-server/orgs/{bad}"),
        "/orgs/%3Cscript%3E/api/v1/oauth/jwks".to_owned(),
        "/orgs/Acme/api/v1/oauth/jwks".to_owned(),
    ] {
        let res = site.s.http.get(site.s.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(res.headers().get("set-cookie").is_none(), "{path}");
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("evil") && !body.contains("<script"),
            "{body}"
        );
    }
    let res = site
        .s
        .http
        .post(site.s.url(&format!("/orgs/{bad}/login")))
        .form(&[("request", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A valid slug is served as before.
    let res = site
        .s
        .http
        .get(site.s.url("/orgs/acme-corp/api/v1/oauth/jwks"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The tokens of a signed-in browser: an id_token and an access token for alice.
async fn tokens_for(site: &Site, b: &Browser) -> Value {
    const VERIFIER: &str = "a-verifier-that-is-long-enough-for-rfc7636-section-4-1-xyz";
    use base64::Engine;
    use sha2::Digest;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let res = b
        .get(&site.authorize_url(&[]).replace(CHALLENGE, &challenge))
        .await;
    let mut res = res;
    if res.status() == 200 {
        let html = res.text().await.unwrap();
        res = b
            .post(
                &site.s.url(&format!("{ORG}/consent")),
                &[
                    ("request", &hidden(&html, "request")),
                    ("csrf_token", &hidden(&html, "csrf_token")),
                    ("decision", "allow"),
                ],
                &[("sec-fetch-site", "same-origin")],
            )
            .await;
    }
    let loc = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (st, t) = json(
        site.s
            .http
            .post(site.s.url(&format!("{ORG}/api/v1/oauth/token")))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("client_id", site.client_id.as_str()),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    t
}

fn end_session_url(site: &Site, pairs: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().copied())
        .finish();
    site.s.url(&format!("{ORG}/api/v1/oauth/end_session?{q}"))
}

/// Finding 5: only an id_token of this organization may serve as `id_token_hint`; an access
/// token or a signed userinfo answer is refused and the session stays.
#[tokio::test]
async fn logout_refuses_an_access_token_as_id_token_hint() {
    let site = site().await;
    let b = Browser::new();
    site.sign_in(&b, "alice", "alice's own password").await;
    let t = tokens_for(&site, &b).await;
    let access = t["access_token"].as_str().unwrap();
    let res = b
        .get(&end_session_url(
            &site,
            &[
                ("id_token_hint", access),
                ("post_logout_redirect_uri", "https://app.example.com/bye"),
            ],
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("The id_token_hint is not an ID token issued here."));
    assert!(site.signed_in(&b).await, "the session stays");
    // Nor is a signed userinfo answer (a `JWT` of ours with `iss`, `sub` and `aud`, but no
    // `exp`: not an ID token).
    let (st, c) = json(
        call(
            &site.s,
            Method::PATCH,
            &format!("{ADMIN}/{}", site.client_id),
            Some(&site.admin),
            Some(json!({"userinfoSignedResponseAlg": "RS256"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{c}");
    let res = site
        .s
        .http
        .get(site.s.url(&format!("{ORG}/api/v1/oauth/userinfo")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let signed_userinfo = res.text().await.unwrap();
    assert_eq!(signed_userinfo.split('.').count(), 3, "{signed_userinfo}");
    let res = b
        .get(&end_session_url(
            &site,
            &[
                ("id_token_hint", &signed_userinfo),
                ("post_logout_redirect_uri", "https://app.example.com/bye"),
            ],
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("The id_token_hint is not an ID token issued here."));
    assert!(site.signed_in(&b).await, "the session stays");
    // The id_token itself is a hint: straight back, signed out, no question.
    let res = b
        .get(&end_session_url(
            &site,
            &[
                ("id_token_hint", t["id_token"].as_str().unwrap()),
                ("post_logout_redirect_uri", "https://app.example.com/bye"),
                ("state", "s1"),
            ],
        ))
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "https://app.example.com/bye?state=s1"
    );
    assert!(!site.signed_in(&b).await);
}

/// Finding 6: a bare cross-site `GET end_session` (no `id_token_hint`, or another user's)
/// asks the user; the session ends only when the page's own form is posted back.
#[tokio::test]
async fn logout_without_a_matching_hint_asks_the_user_first() {
    let site = site().await;
    let alice = Browser::new();
    site.sign_in(&alice, "alice", "alice's own password").await;
    let mallory = Browser::new();
    site.sign_in(&mallory, "mallory", "mallory's password")
        .await;
    let mallorys = tokens_for(&site, &mallory).await;

    // A link on evil.example (a top-level GET carries the Lax session cookie).
    for url in [
        end_session_url(&site, &[]),
        end_session_url(
            &site,
            &[
                ("client_id", &site.client_id),
                ("post_logout_redirect_uri", "https://app.example.com/bye"),
            ],
        ),
        end_session_url(
            &site,
            &[("id_token_hint", mallorys["id_token"].as_str().unwrap())],
        ),
    ] {
        let res = alice.get(&url).await;
        assert_eq!(res.status(), 200, "{url}");
        assert!(res.headers().get("location").is_none());
        assert!(set_cookie(&res, "tessera_session").is_none());
        let html = res.text().await.unwrap();
        assert!(html.contains("Sign out?"), "{html}");
        assert!(html.contains("method=\"post\""));
        assert!(site.signed_in(&alice).await, "{url}: nothing ended yet");
    }

    // The question, answered from another site, or with another browser's token: asked again.
    let res = alice
        .get(&end_session_url(
            &site,
            &[
                ("client_id", &site.client_id),
                ("post_logout_redirect_uri", "https://app.example.com/bye"),
                ("state", "s2"),
            ],
        ))
        .await;
    let html = res.text().await.unwrap();
    let csrf = hidden(&html, "csrf_token");
    let form = [
        ("client_id", site.client_id.as_str()),
        ("post_logout_redirect_uri", "https://app.example.com/bye"),
        ("state", "s2"),
        ("csrf_token", csrf.as_str()),
        ("logout", "yes"),
    ];
    let end = site.s.url(&format!("{ORG}/api/v1/oauth/end_session"));
    let res = alice
        .post(
            &end,
            &form,
            &[("origin", EVIL), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Sign out?"));
    let mallorys_token = {
        let html = mallory
            .get(&end_session_url(&site, &[]))
            .await
            .text()
            .await
            .unwrap();
        hidden(&html, "csrf_token")
    };
    let forged = [("csrf_token", mallorys_token.as_str()), ("logout", "yes")];
    let res = alice.post(&end, &forged, &[]).await;
    assert!(res.text().await.unwrap().contains("Sign out?"));
    assert!(site.signed_in(&alice).await);

    // The page's own form: signed out, and back to the registered address with its state.
    let res = alice
        .post(
            &end,
            &form,
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "https://app.example.com/bye?state=s2"
    );
    assert!(!site.signed_in(&alice).await);
    // Mallory was never signed out by any of this.
    assert!(site.signed_in(&mallory).await);
    // Without a session there is nothing to ask: the signed-out page.
    let res = Browser::new().get(&end_session_url(&site, &[])).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("You are signed out."));
}

/// Finding 7: API keys follow the rule of members. An `admin` key cannot revoke (nor create)
/// a key that holds more than it does, such as the `owner` key; an `owner` key can.
#[tokio::test]
async fn an_admin_key_cannot_revoke_the_owner_key() {
    let site = site().await;
    let s = &site.s;
    let keys = "/orgs/acme-corp/api/v1/admin/api-keys";
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (_, list) = json(call(s, Method::GET, keys, Some(&site.admin), None).await).await;
    let owner_key = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["roles"] == json!(["owner"]))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, e) = json(
        call(
            s,
            Method::DELETE,
            &format!("{keys}/{owner_key}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 403, "{e}");
    assert_eq!(e["error_description"], "missing permission users:delete");
    // Still alive: the owner key still works.
    let res = call(s, Method::GET, keys, Some(&site.admin), None).await;
    assert_eq!(res.status(), 200);
    // Nor can it make one.
    let (st, _) = json(
        call(
            s,
            Method::POST,
            keys,
            Some(&admin),
            Some(json!({"name": "escalate", "roles": ["owner"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    // A key that holds no more than the admin key is within its reach.
    let (st, viewer) = json(
        call(
            s,
            Method::POST,
            keys,
            Some(&admin),
            Some(json!({"name": "reader", "roles": ["viewer"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{viewer}");
    let res = call(
        s,
        Method::DELETE,
        &format!("{keys}/{}", viewer["id"].as_str().unwrap()),
        Some(&admin),
        None,
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    // The owner revokes the admin key.
    let (_, list) = json(call(s, Method::GET, keys, Some(&site.admin), None).await).await;
    let admin_id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["roles"] == json!(["admin"]))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = call(
        s,
        Method::DELETE,
        &format!("{keys}/{admin_id}"),
        Some(&site.admin),
        None,
    )
    .await;
    assert!(res.status().is_success());
}

/// Hardening: every response that carries a secret, key or token is `no-store`, and every
/// response is `nosniff` (one middleware).
#[tokio::test]
async fn secrets_are_never_cacheable_and_nothing_is_sniffed() {
    let site = site().await;
    let s = &site.s;
    let res = call(
        s,
        Method::POST,
        ADMIN,
        Some(&site.admin),
        Some(json!({"name": "Backend", "redirectUris": [], "grantTypes": ["client_credentials"]})),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let (_, c) = json(res).await;
    let id = c["id"].as_str().unwrap();
    // A token.
    let res = s
        .http
        .post(s.url("/orgs/acme-corp/api/v1/oauth/token"))
        .basic_auth(id, Some(c["secret"].as_str().unwrap()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let secret_paths = [
        (Method::POST, format!("{ADMIN}/{id}/secret"), None),
        (
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/api-keys".to_owned(),
            Some(json!({"name": "k", "roles": ["viewer"]})),
        ),
        (
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/graphql".to_owned(),
            Some(
                json!({"query": "mutation { adminRegenerateOauthClientSecret(id: \"x\") { secret } }"}),
            ),
        ),
        (Method::GET, format!("{ADMIN}/{id}"), None),
        (Method::GET, "/healthz".to_owned(), None),
        (
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/nothing-here".to_owned(),
            None,
        ),
    ];
    for (m, path, body) in secret_paths {
        let res = call(s, m, &path, Some(&site.admin), body).await;
        assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    // Public documents keep their own cache policy, and are nosniff too.
    let res = s
        .http
        .get(s.url("/orgs/acme-corp/api/v1/oauth/jwks"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
}

/// Finding 3: a deleted client's tokens stay dead when a new client takes its id.
#[tokio::test]
async fn a_deleted_clients_tokens_do_not_revive_when_its_id_is_reused() {
    let mut site = site().await;
    let reuse = json!({
        "name": "Reused", "clientId": "reuse", "isConfidential": false,
        "redirectUris": [REDIRECT], "allowedScopes": ["openid", "profile"],
    });
    let create = |body: Value| {
        let s = &site.s;
        let admin = site.admin.clone();
        async move {
            let (st, c) = json(call(s, Method::POST, ADMIN, Some(&admin), Some(body)).await).await;
            assert_eq!(st, 201, "{c}");
            c
        }
    };
    create(reuse.clone()).await;
    let checker = create(json!({"name": "Resource server", "redirectUris": [],
                                "grantTypes": ["client_credentials"]}))
    .await;
    site.client_id = "reuse".into();
    let b = Browser::new();
    site.sign_in(&b, "alice", "alice's own password").await;
    let t = tokens_for(&site, &b).await;
    let access = t["access_token"].as_str().unwrap().to_owned();
    let introspect = || async {
        json(
            site.s
                .http
                .post(site.s.url(&format!("{ORG}/api/v1/oauth/introspect")))
                .basic_auth(
                    checker["id"].as_str().unwrap(),
                    Some(checker["secret"].as_str().unwrap()),
                )
                .form(&[("token", access.as_str())])
                .send()
                .await
                .unwrap(),
        )
        .await
        .1
    };
    let userinfo = || async {
        site.s
            .http
            .get(site.s.url(&format!("{ORG}/api/v1/oauth/userinfo")))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(introspect().await["active"], true);
    assert_eq!(userinfo().await, 200);
    let res = call(
        &site.s,
        Method::DELETE,
        &format!("{ADMIN}/reuse"),
        Some(&site.admin),
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(introspect().await, json!({"active": false}));
    assert_eq!(userinfo().await, 401);
    // The same id again: the old token stays dead.
    create(reuse).await;
    assert_eq!(introspect().await, json!({"active": false}));
    assert_eq!(userinfo().await, 401);
    // The new client's own tokens work.
    let t = tokens_for(&site, &b).await;
    let res = site
        .s
        .http
        .get(site.s.url(&format!("{ORG}/api/v1/oauth/userinfo")))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn graphql(s: &TestServer, key: &str, query: &str) -> (u16, Value) {
    let res = s
        .http
        .post(s.url("/orgs/acme-corp/api/v1/admin/graphql"))
        .bearer_auth(key)
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    json(res).await
}

/// Finding 2: with a read-only key, 490 aliases of `adminAuditLog(limit: 500)` (a 20 KB query
/// for 245,000 rows) is refused before any database work, naming the limit; so are fewer
/// aliases whose lists add up past the row cap. A full page is still served.
#[tokio::test]
async fn graphql_aliases_cannot_multiply_lists_past_the_limits() {
    let site = site().await;
    let s = &site.s;
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let one =
        "adminAuditLog(limit: 500) { id action createdAt actor { type id name } before after }";
    let attack: String = (0..490).map(|i| format!("a{i}: {one} ")).collect();
    let attack = format!("{{ {attack} }}");
    assert!(attack.len() > 20_000);
    let (st, v) = graphql(s, &viewer, &attack).await;
    assert_eq!(st, 200);
    assert!(v.get("data").is_none(), "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["limit"], "aliases");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 30"));

    // Under the alias cap, the rows still add up: refused for its rows.
    let few: String = (0..3).map(|i| format!("a{i}: {one} ")).collect();
    let (_, v) = graphql(s, &viewer, &format!("{{ {few} }}")).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["limit"], "rows");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 1000 rows"));
    // Through a fragment and a variable: the same.
    let res = s
        .http
        .post(s.url("/orgs/acme-corp/api/v1/admin/graphql"))
        .bearer_auth(&viewer)
        .json(&json!({
            "query": "query Q($n: Int!) { a: adminAuditLog(limit: $n) { ...E } b: adminAuditLog(limit: $n) { ...E } } fragment E on AuditEvent { id }",
            "variables": {"n": 501},
        }))
        .send()
        .await
        .unwrap();
    let (_, v) = json(res).await;
    assert_eq!(v["errors"][0]["extensions"]["limit"], "rows", "{v}");

    // A full page with every field is served.
    let (st, v) = graphql(s, &viewer, &format!("{{ {one} }}")).await;
    assert_eq!(st, 200);
    assert!(v.get("errors").is_none(), "{v}");
    assert!(v["data"]["adminAuditLog"].is_array());
}

/// The console cookie also authenticates GraphQL; without its CSRF token a mutation is
/// `FORBIDDEN`, not an internal error.
#[tokio::test]
async fn graphql_over_the_console_cookie_needs_the_csrf_token() {
    let s = TestServer::start().await;
    let pw = crate::console::member(&s, "operator", &["admin"]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = crate::support::Jar::default();
    let res = crate::console::sign_in_http(&s, &http, &mut jar, "default", "operator", pw).await;
    assert_eq!(res.status(), 303);
    let res = http
        .post(s.url("/orgs/default/api/v1/admin/graphql"))
        .header("cookie", jar.header())
        .json(&json!({"query": "mutation { adminDeleteOauthClient(id: \"tessera-cli\") }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (_, v) = json(res).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("X-CSRF-Token"));
}

/// Hardening: slow-header clients are cut off after the header read timeout, idle keep-alive
/// connections after the same time, and the connection cap keeps the server serving.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_and_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = tessera_web::ServerLimits {
        max_connections: 64,
        header_read_timeout: std::time::Duration::from_secs(2),
        drain_timeout: std::time::Duration::from_secs(1),
        ..Default::default()
    };
    let s = TestServer::start_with_limits(limits).await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let started = std::time::Instant::now();

    // 200 clients that never finish their request head.
    let mut slow = vec![];
    for _ in 0..200 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(c);
    }
    // A real request still gets through (the cap's backlog drains as the slow ones are cut).
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        reqwest::get(s.url("/healthz")),
    )
    .await
    .expect("served while slow clients wait")
    .unwrap();
    assert_eq!(res.status(), 200);
    // Every slow client is closed by the server, long before 40 s.
    for mut c in slow {
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("closed by the server");
        // EOF, a 408 before closing, or a reset: all mean the server let go.
        if let Ok(n) = read {
            if n > 0 {
                let head = String::from_utf8_lossy(&buf[..n]);
                assert!(head.starts_with("HTTP/1.1 408"), "{head}");
            }
        }
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(15));

    // An idle keep-alive connection: served, kept a while, then closed.
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = c.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle_since = std::time::Instant::now();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), c.read(&mut buf))
        .await
        .expect("the idle connection is closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let idle = idle_since.elapsed();
    assert!(
        idle >= std::time::Duration::from_millis(1900) && idle < std::time::Duration::from_secs(6),
        "{idle:?}"
    );
}

/// Hardening (RFC 8707 §2): a resource indicator is an absolute URI without a fragment, or
/// `invalid_target`; `javascript:alert(1)` never becomes an audience.
#[tokio::test]
async fn resource_indicators_must_be_absolute_uris_without_a_fragment() {
    let site = site().await;
    let s = &site.s;
    let (_, c) = json(
        call(
            s,
            Method::POST,
            ADMIN,
            Some(&site.admin),
            Some(json!({"name": "M2M", "redirectUris": [], "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    let token = |resource: &'static str| {
        let req = s
            .http
            .post(s.url(&format!("{ORG}/api/v1/oauth/token")))
            .basic_auth(
                c["id"].as_str().unwrap(),
                Some(c["secret"].as_str().unwrap()),
            )
            .form(&[("grant_type", "client_credentials"), ("resource", resource)]);
        async move { json(req.send().await.unwrap()).await }
    };
    for bad in [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://api.example.com/#x",
        "api.example.com",
    ] {
        let (st, v) = token(bad).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_target")),
            "{bad}"
        );
        assert!(v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("resource"));
    }
    // A well-formed one that is no API resource of the organization: invalid_target too.
    let (st, v) = token("https://api.example.com/v1").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );
    let (st, _) = json(
        call(
            s,
            Method::POST,
            &ADMIN.replace("oauth-clients", "api-resources"),
            Some(&site.admin),
            Some(json!({"identifier": "https://api.example.com/v1", "name": "API"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let (st, v) = token("https://api.example.com/v1").await;
    assert_eq!(st, 200, "{v}");
}

/// Hardening: names shown on pages refuse control, bidirectional-override and invisible
/// characters; usernames follow one stated rule (ASCII, lowered), so the Kelvin sign does
/// not become `k`; a search term with a NUL is a 400, not "every client".
#[tokio::test]
async fn deceptive_names_usernames_and_search_terms_are_refused() {
    let site = site().await;
    let s = &site.s;
    for name in [
        "Tessera\u{202e}ILC",
        "Tes\u{200b}sera",
        "Tessera\u{2067}CLI",
        "a\u{7}b",
    ] {
        let (st, e) = json(
            call(
                s,
                Method::POST,
                ADMIN,
                Some(&site.admin),
                Some(
                    json!({"name": name, "redirectUris": [], "grantTypes": ["client_credentials"]}),
                ),
            )
            .await,
        )
        .await;
        assert_eq!(st, 400, "{name:?}");
        assert_eq!(e["details"][0]["field"], "name");
        assert!(e["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invisible"));
    }
    // The same for organizations, API keys and members' display names.
    let (st, e) = json(
        call(
            s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/api-keys",
            Some(&site.admin),
            Some(json!({"name": "ops\u{202e}", "roles": ["viewer"]})),
        )
        .await,
    )
    .await;
    assert_eq!((st, e["details"][0]["field"].as_str()), (400, Some("name")));
    for (username, field) in [("K\u{212a}", "username"), ("ａdmin", "username")] {
        let (st, e) = json(
            call(
                s,
                Method::POST,
                "/orgs/acme-corp/api/v1/admin/users",
                Some(&site.admin),
                Some(json!({"username": username, "password": "long enough password"})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 400, "{username:?}: {e}");
        assert_eq!(e["details"][0]["field"], field);
    }
    // Case folds by ASCII only: `ALICE` is alice, and signs in as her.
    let b = Browser::new();
    site.sign_in(&b, "ALICE", "alice's own password").await;
    // The Kelvin sign is nobody: no sign-in as `kk`, or as anyone.
    user(s, "kk", "kelvin's password").await;
    let b = Browser::new();
    let (req, csrf) = site.login_form(&b).await;
    let res = b
        .post(
            &s.url(&format!("{ORG}/login")),
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "K\u{212a}"),
                ("password", "kelvin's password"),
            ],
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Invalid username or password."));
    // q with a NUL.
    let (st, e) = json(
        call(
            s,
            Method::GET,
            &format!("{ADMIN}?q=%00"),
            Some(&site.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["details"][0]["field"], "q");
    let res = call(
        s,
        Method::GET,
        &format!("{ADMIN}?q=Dash"),
        Some(&site.admin),
        None,
    )
    .await;
    assert_eq!(res.headers()["x-total-count"], "1");
}

/// Hardening: the console's CSV export guards every cell (OWASP CSV injection): a client
/// named `;=1+6` or `|calc` is text, one cell, in any locale.
#[tokio::test]
async fn csv_export_cells_are_never_formulas() {
    let s = TestServer::start().await;
    let pw = crate::console::member(&s, "operator", &["admin"]).await;
    let key = s.org_key("default", &["admin"], &[]).await;
    for name in [";=1+6", "|calc", "=cmd|' /C calc'!A0", "@SUM(1)"] {
        let (st, c) = json(
            call(
                &s,
                Method::POST,
                "/orgs/default/api/v1/admin/oauth-clients",
                Some(&key),
                Some(
                    json!({"name": name, "redirectUris": [], "grantTypes": ["client_credentials"]}),
                ),
            )
            .await,
        )
        .await;
        assert_eq!(st, 201, "{c}");
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = crate::support::Jar::default();
    crate::console::sign_in_http(&s, &http, &mut jar, "default", "operator", pw).await;
    let res = http
        .get(s.url("/oauth-clients?format=csv"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    for guarded in [
        "\"';=1+6\"",
        "\"'|calc\"",
        "\"'=cmd|' /C calc'!A0\"",
        "\"'@SUM(1)\"",
    ] {
        assert!(csv.contains(guarded), "{guarded} in {csv}");
    }
    // No line has a field that starts unquoted.
    for line in csv
        .trim_start_matches('\u{feff}')
        .lines()
        .filter(|l| !l.is_empty())
    {
        assert!(line.starts_with('"'), "{line}");
    }
}

/// `X-Forwarded-For` names the client only when the peer is a configured trusted proxy;
/// otherwise it is ignored (a client cannot choose the address its failures count against).
#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    async fn audited_ip(s: &TestServer, forwarded: &str) -> Value {
        let key = s.org_key("default", &["admin"], &[]).await;
        let res = s
            .http
            .post(s.url("/orgs/default/api/v1/admin/api-keys"))
            .bearer_auth(&key)
            .header("x-forwarded-for", forwarded)
            .json(&json!({"name": "via proxy", "roles": ["viewer"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let (_, log) = json(
            call(
                s,
                Method::GET,
                "/orgs/default/api/v1/admin/audit-log?action=api_key.created",
                Some(&key),
                None,
            )
            .await,
        )
        .await;
        log[0]["ip"].clone()
    }
    let plain = TestServer::start().await;
    assert_eq!(audited_ip(&plain, "203.0.113.9").await, "127.0.0.1");
    let behind_proxy = TestServer::start_with_limits(tessera_web::ServerLimits {
        trusted_proxies: std::sync::Arc::from(vec!["127.0.0.0/8".parse::<ipnet::IpNet>().unwrap()]),
        ..Default::default()
    })
    .await;
    assert_eq!(
        audited_ip(&behind_proxy, "198.51.100.1, 203.0.113.9").await,
        "203.0.113.9"
    );
}
