//! The admin REST API's explorer (Swagger UI on `GET …/admin/explorer`): served with its
//! assets by Tessera, its own `tessera-explorer` client made on first use, and its sign-in
//! (authorization code + PKCE, as Swagger UI does it) giving a token the admin API takes for
//! the member, with the member's permissions, and only from that client.

use base64::Engine;
use reqwest::Method;
use serde_json::json;
use tessera_testkit::TestServer;

use crate::support::{acme_client, acme_with_alice, call, hidden, Browser, ALICE_PASSWORD};

const VERIFIER: &str = "explorer-verifier-0123456789-abcdefghijklmnopqrstuv";

/// Signs `username` in through `client` with PKCE and returns the access token.
async fn token_of(
    s: &TestServer,
    client: &str,
    redirect: &str,
    username: &str,
    password: &str,
) -> String {
    let b = Browser::new();
    let ch = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(VERIFIER.as_bytes()));
    let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let login = b
        .get(&format!(
            "{}/orgs/acme-corp/api/v1/oauth/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid&state=x&code_challenge={ch}&code_challenge_method=S256",
            s.base,
            enc(redirect)
        ))
        .await
        .text()
        .await
        .unwrap();
    let res = b
        .post(
            &format!("{}/orgs/acme-corp/login", s.base),
            &[
                ("request", &hidden(&login, "request")),
                ("csrf_token", &hidden(&login, "csrf_token")),
                ("username", username),
                ("password", password),
            ],
            &[],
        )
        .await;
    assert_eq!(
        res.status(),
        303,
        "signed in without a consent page (first-party)"
    );
    let back = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert!(back.as_str().starts_with(redirect), "{back}");
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let t: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/orgs/acme-corp/api/v1/oauth/token", s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("client_id", client),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t["access_token"].as_str().expect("access_token").to_owned()
}

#[tokio::test]
async fn the_rest_explorer_signs_members_in_with_its_own_client() {
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    s.services
        .create_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            tessera_core::users::NewUser {
                username: "ops".into(),
                password: Some(secrecy::SecretString::from("ops password 123")),
                roles: vec!["viewer".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let http = reqwest::Client::new();
    // The page and its assets, from Tessera itself, under a strict policy.
    let res = http
        .get(format!("{}/orgs/acme-corp/api/v1/admin/explorer", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let page = res.text().await.unwrap();
    let redirect = format!("{}/assets/swagger-ui/oauth2-redirect.html", s.base);
    assert!(page.contains("data-client=\"tessera-explorer\""), "{page}");
    assert!(
        page.contains(&format!("data-redirect=\"{redirect}\"")),
        "{page}"
    );
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "init.js",
        "oauth2-redirect.js",
        "oauth2-redirect.html",
    ] {
        let res = http
            .get(format!("{}/assets/swagger-ui/{asset}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        assert!(!res.bytes().await.unwrap().is_empty());
    }
    assert_eq!(
        http.get(format!("{}/orgs/nowhere/api/v1/admin/explorer", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Its client: public, PKCE, redirect to the page above, made once.
    let (st, c) = crate::support::json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/oauth-clients/tessera-explorer",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["clientType"], "public");
    assert_eq!(c["redirectUris"], json!([redirect]));

    // A member with admin:access signs in there; the API takes the token as them.
    let token = token_of(&s, "tessera-explorer", &redirect, "ops", "ops password 123").await;
    let (st, list) = crate::support::json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/oauth-clients",
            Some(&token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{list}");
    // A viewer reads but does not write.
    let (st, e) = crate::support::json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/oauth-clients",
            Some(&token),
            Some(json!({"name": "x", "redirectUris": ["https://x.example/cb"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403, "{e}");
    // Not in another organization, and not a token of another client.
    s.org("other-org").await;
    let res = call(
        &s,
        Method::GET,
        "/orgs/other-org/api/v1/admin/oauth-clients",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(res.status(), 401);
    let (app, _) = acme_client(
        &s,
        &admin,
        json!({"name": "App", "isConfidential": false, "requireConsent": false,
               "redirectUris": ["https://app.example.com/cb"], "allowedScopes": ["openid"]}),
    )
    .await;
    let other = token_of(
        &s,
        &app,
        "https://app.example.com/cb",
        "ops",
        "ops password 123",
    )
    .await;
    let res = call(
        &s,
        Method::GET,
        "/orgs/acme-corp/api/v1/admin/oauth-clients",
        Some(&other),
        None,
    )
    .await;
    assert_eq!(
        res.status(),
        401,
        "an application's token is no admin credential"
    );
    // A member without admin:access gets nothing.
    let alice = token_of(&s, "tessera-explorer", &redirect, "alice", ALICE_PASSWORD).await;
    let res = call(
        &s,
        Method::GET,
        "/orgs/acme-corp/api/v1/admin/oauth-clients",
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(res.status(), 403);
}
