//! The password grant, the device authorization grant (RFC 8628), token exchange (RFC 8693)
//! and the default clients of an organization.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{call, json};

const ADMIN: &str = "/orgs/acme-corp/api/v1/admin/oauth-clients";
const TOKEN: &str = "/orgs/acme-corp/api/v1/oauth/token";

/// A server with organization `acme-corp`, user `alice` and an admin key.
async fn acme() -> (TestServer, String) {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    s.services
        .create_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            tessera_core::users::NewUser {
                username: "alice".into(),
                email: Some("alice@example.com".into()),
                name: Some("Alice Liddell".into()),
                password: Some(secrecy::SecretString::from("correct horse battery")),
                roles: vec![],
            },
        )
        .await
        .unwrap();
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    (s, admin)
}

/// Creates a client; its id and (for confidential clients) secret.
async fn client(s: &TestServer, admin: &str, body: Value) -> (String, Option<String>) {
    let (st, c) = json(call(s, Method::POST, ADMIN, Some(admin), Some(body)).await).await;
    assert_eq!(st, 201, "{c}");
    (
        c["id"].as_str().unwrap().to_owned(),
        c["secret"].as_str().map(str::to_owned),
    )
}

async fn token(s: &TestServer, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> (u16, Value) {
    let mut req = s.http.post(s.url(TOKEN)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.unwrap();
    let retry_after = res.headers().get("retry-after").cloned();
    let (st, mut v) = json(res).await;
    if let Some(r) = retry_after {
        v["retryAfterHeader"] = json!(r.to_str().unwrap());
    }
    (st, v)
}

#[tokio::test]
async fn password_grant_only_for_confidential_clients_that_have_it() {
    let (s, admin) = acme().await;
    let (id, secret) = client(
        &s,
        &admin,
        json!({"name": "Legacy", "redirectUris": [], "grantTypes": ["password", "refresh_token"], "allowedScopes": ["openid", "profile"]}),
    )
    .await;
    let secret = secret.unwrap();
    let (st, v) = token(
        &s,
        Some((&id, &secret)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "correct horse battery"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "openid");
    assert!(v["refresh_token"].is_string() && v["id_token"].is_string());
    let (st, intro) = json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/oauth/introspect"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", v["access_token"].as_str().unwrap())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(intro["active"], true);
    assert_eq!(intro["client_id"], id.as_str());

    // The refresh token it gave works.
    let (st, _) = token(
        &s,
        Some((&id, &secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", v["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(st, 200);

    // Wrong password, a scope the client may not have, a missing parameter.
    let (st, v) = token(
        &s,
        Some((&id, &secret)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "wrong"),
        ],
    )
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_grant")));
    let (st, v) = token(
        &s,
        Some((&id, &secret)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "correct horse battery"),
            ("scope", "email"),
        ],
    )
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_scope")));
    let (st, v) = token(
        &s,
        Some((&id, &secret)),
        &[("grant_type", "password"), ("username", "alice")],
    )
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(v["error_description"], "password is required");

    // Per user: the login form's five attempts a minute are spent (two above, and three more).
    for _ in 0..3 {
        let (st, _) = token(
            &s,
            Some((&id, &secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "wrong"),
            ],
        )
        .await;
        assert_eq!(st, 400);
    }
    let (st, v) = token(
        &s,
        Some((&id, &secret)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "correct horse battery"),
        ],
    )
    .await;
    assert_eq!(st, 429, "{v}");
    assert_eq!(v["error"], "temporarily_unavailable");
    assert_eq!(v["retryAfterHeader"], "60");

    // A client without the grant, and a public client, which cannot have it at all.
    let (other, other_secret) = client(
        &s,
        &admin,
        json!({"name": "Machine", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let (st, v) = token(
        &s,
        Some((&other, &other_secret.unwrap())),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "correct horse battery"),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(json!({"name": "Spa", "isConfidential": false, "redirectUris": [], "grantTypes": ["password"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{v}");

    // Audited as the user, with the method.
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?limit=50",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    let methods: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("user.log"))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["after"]["method"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(methods.len(), 5, "{methods:?}");
    assert!(methods.contains(&("user.logged_in", "password_grant")));
    assert!(methods.contains(&("user.login_failed", "password_grant")));
}
