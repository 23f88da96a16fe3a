//! The password grant, the device authorization grant (RFC 8628), token exchange (RFC 8693)
//! and the default clients of an organization.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{acme_client, acme_with_alice, call, hidden, json, ACME_CLIENTS as ADMIN};

const TOKEN: &str = "/orgs/acme-corp/api/v1/oauth/token";

/// A server with organization `acme-corp`, user `alice` and an admin key.
async fn acme() -> (TestServer, String) {
    acme_on(TestServer::start().await).await
}

async fn acme_on(s: TestServer) -> (TestServer, String) {
    let admin = acme_with_alice(&s).await;
    (s, admin)
}

/// Creates a client; its id and (for confidential clients) secret.
async fn client(s: &TestServer, admin: &str, body: Value) -> (String, Option<String>) {
    acme_client(s, admin, body).await
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

    // Successful sign-ins never count against the limits.
    for _ in 0..6 {
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
        assert_eq!(st, 200, "{v}");
    }
    // Per user, shared with the login form: five failures a minute (one above, four more)
    // pass; the sixth locks the user for a minute, the right password too.
    for _ in 0..5 {
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
    let count = |a: &str| methods.iter().filter(|(x, _)| *x == a).count();
    assert_eq!(
        (count("user.logged_in"), count("user.login_failed")),
        (7, 6),
        "{methods:?}"
    );
    assert!(methods.contains(&("user.logged_in", "password_grant")));
    assert!(methods.contains(&("user.login_failed", "password_grant")));
}

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn session_of(res: &reqwest::Response) -> String {
    res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn device_start(s: &TestServer, client_id: &str, scope: &str) -> (u16, Value) {
    json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/oauth/device_authorization"))
            .form(&[("client_id", client_id), ("scope", scope)])
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn poll(s: &TestServer, client_id: &str, device_code: &str) -> (u16, Value) {
    token(
        s,
        None,
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
    )
    .await
}

/// The browser side: open the complete verification URI, sign in if asked, then allow or deny.
/// Returns the session cookie and the final page.
async fn approve(
    s: &TestServer,
    browser: &reqwest::Client,
    complete_uri: &str,
    cookie: Option<&str>,
    decision: &str,
) -> (String, String) {
    let mut req = browser.get(complete_uri);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    // The browser binding that the page's forms are bound to, kept as a browser keeps it.
    let binding = crate::support::set_cookie(&res, "tessera_browser");
    let mut html = res.text().await.unwrap();
    let cookie = match cookie {
        Some(c) => c.to_owned(),
        None => {
            assert!(html.contains("name=\"password\""), "signs in first: {html}");
            let binding = binding.expect("a browser binding with the first form");
            let res = browser
                .post(s.url("/orgs/acme-corp/login"))
                .header("cookie", &binding)
                .form(&[
                    ("request", hidden(&html, "request").as_str()),
                    ("csrf_token", &hidden(&html, "csrf_token")),
                    ("username", "alice"),
                    ("password", "correct horse battery"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303);
            let back = res.headers()["location"].to_str().unwrap().to_owned();
            assert_eq!(back, complete_uri, "back to the device page");
            let cookie = format!("{binding}; {}", session_of(&res));
            html = browser
                .get(&back)
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            cookie
        }
    };
    assert!(html.contains("Allow this device?"), "{html}");
    let res = browser
        .post(s.url("/orgs/acme-corp/device"))
        .header("cookie", &cookie)
        .form(&[
            ("user_code", hidden(&html, "user_code").as_str()),
            ("csrf_token", &hidden(&html, "csrf_token")),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    (cookie, res.text().await.unwrap())
}

#[tokio::test]
async fn device_flow_completes_through_the_device_page_with_every_rfc8628_error() {
    let clock = tessera_domain::clock::MockClock::new(time::OffsetDateTime::now_utc());
    let (s, admin) =
        acme_on(TestServer::start_with_clock(std::sync::Arc::new(clock.clone())).await).await;
    let (cli, _) = client(
        &s,
        &admin,
        json!({"name": "Terminal", "isConfidential": false, "redirectUris": [], "grantTypes": [DEVICE_GRANT, "refresh_token"], "allowedScopes": ["openid", "profile"]}),
    )
    .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let (st, d) = device_start(&s, &cli, "openid profile").await;
    assert_eq!(st, 200, "{d}");
    let user_code = d["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert!(user_code.chars().enumerate().all(|(i, c)| if i == 4 {
        c == '-'
    } else {
        "BCDFGHJKLMNPQRSTVWXZ".contains(c)
    }));
    assert_eq!(d["verification_uri"], s.url("/orgs/acme-corp/device"));
    let complete = d["verification_uri_complete"].as_str().unwrap();
    assert_eq!(
        complete,
        format!("{}?user_code={user_code}", s.url("/orgs/acme-corp/device"))
    );
    assert_eq!(
        (d["expires_in"].as_i64(), d["interval"].as_i64()),
        (Some(600), Some(5))
    );
    let device_code = d["device_code"].as_str().unwrap();

    // Waiting for the user; polling faster than the interval slows the device down.
    let (st, v) = poll(&s, &cli, device_code).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (st, v) = poll(&s, &cli, device_code).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("slow_down")), "{v}");
    clock.advance(time::Duration::seconds(6));
    let (_, v) = poll(&s, &cli, device_code).await;
    assert_eq!(
        v["error"], "slow_down",
        "the interval grew to 10 s, and now to 15 s"
    );
    clock.advance(time::Duration::seconds(16));
    let (_, v) = poll(&s, &cli, device_code).await;
    assert_eq!(v["error"], "authorization_pending");

    // A wrong code on the page, then the real one through sign-in and consent.
    let html = browser
        .get(s.url("/orgs/acme-corp/device?user_code=BCDF-GHJK"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("That code is not valid or has expired."));
    let (cookie, done) = approve(&s, &browser, complete, None, "allow").await;
    assert!(done.contains("Device connected"), "{done}");

    let (st, t) = poll(&s, &cli, device_code).await;
    assert_eq!(st, 200, "{t}");
    assert!(t["access_token"].is_string() && t["refresh_token"].is_string());
    assert!(t["id_token"].is_string());
    assert_eq!(t["scope"], "openid profile");
    let (st, v) = poll(&s, &cli, device_code).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "single use"
    );
    // Another client cannot use the code either.
    let (other, _) = client(
        &s,
        &admin,
        json!({"name": "Other", "isConfidential": false, "redirectUris": [], "grantTypes": [DEVICE_GRANT]}),
    )
    .await;
    let (_, v) = poll(&s, &other, device_code).await;
    assert_eq!(v["error"], "invalid_grant");

    // Denied: access_denied. A decided code cannot be decided again.
    let (_, d2) = device_start(&s, &cli, "openid").await;
    let complete2 = d2["verification_uri_complete"].as_str().unwrap();
    let (_, done) = approve(&s, &browser, complete2, Some(&cookie), "deny").await;
    assert!(done.contains("Device refused"));
    let (st, v) = poll(&s, &cli, d2["device_code"].as_str().unwrap()).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("access_denied")));
    let html = browser
        .get(complete2)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("That code is not valid or has expired."));

    // Expired: expired_token, and the page refuses the code.
    let (_, d3) = device_start(&s, &cli, "openid").await;
    clock.advance(time::Duration::seconds(601));
    let (st, v) = poll(&s, &cli, d3["device_code"].as_str().unwrap()).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("expired_token")));

    // The page's form needs its CSRF token.
    let (_, d4) = device_start(&s, &cli, "openid").await;
    let res = browser
        .post(s.url("/orgs/acme-corp/device"))
        .header("cookie", &cookie)
        .form(&[
            ("user_code", d4["user_code"].as_str().unwrap()),
            ("csrf_token", "forged"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Open the device page again"));

    // Only clients with the grant; a scope outside the client's is refused.
    let (machine, secret) = client(
        &s,
        &admin,
        json!({"name": "Machine", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let (st, v) = json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/oauth/device_authorization"))
            .basic_auth(&machine, secret.as_deref())
            .form(&[("scope", "openid")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (st, v) = device_start(&s, &cli, "email").await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_scope")));

    // Guessing codes on the page is limited per address (30 a minute by default, counted in
    // windows of the server's clock, which this test has moved on: the 31st is refused).
    let mut last = String::new();
    for _ in 0..31 {
        last = browser
            .get(s.url("/orgs/acme-corp/device?user_code=BCDF-GHJK"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(
        last.contains("Too many attempts. Wait a minute and try again."),
        "{last}"
    );
}

#[tokio::test]
async fn a_fresh_organization_lists_its_two_default_clients() {
    let (s, admin) = acme().await;
    let res = call(&s, Method::GET, ADMIN, Some(&admin), None).await;
    assert_eq!(res.headers()["x-total-count"], "2");
    let (st, list) = json(res).await;
    assert_eq!(st, 200);
    let by_id = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {list}"))
            .clone()
    };
    let cli = by_id("tessera-cli");
    assert_eq!(cli["clientType"], "public");
    assert_eq!(cli["grantTypes"], json!([DEVICE_GRANT, "refresh_token"]));
    assert_eq!(cli["redirectUris"], json!([]));
    let console = by_id("tessera-console");
    assert_eq!(console["clientType"], "public");
    assert_eq!(console["requirePkce"], true);
    assert_eq!(
        console["grantTypes"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(console["redirectUris"], json!([s.url("/login/callback")]));
    // A client that acts for people gets `openid profile` when no scope is named; a machine
    // client gets none.
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(json!({"name": "Web", "redirectUris": ["https://app.example.com/cb"]})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, c["allowedScopes"].clone()),
        (201, json!(["openid", "profile"]))
    );
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(json!({"name": "Job", "redirectUris": [], "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    assert_eq!((st, c["allowedScopes"].clone()), (201, json!([])));
    // `clientType` alone sets the kind; sent with `isConfidential`, the two must agree.
    let (st, c) = json(call(&s, Method::POST, ADMIN, Some(&admin), Some(json!({"name": "Spa", "clientType": "public", "redirectUris": ["https://app.example.com/cb"]}))).await).await;
    assert_eq!(
        (st, c["isConfidential"].clone(), c.get("secret").is_none()),
        (201, json!(false), true),
        "{c}"
    );
    for (body, message) in [
        (
            json!({"name": "X", "clientType": "public", "isConfidential": true, "redirectUris": ["https://app.example.com/cb"]}),
            "'public' contradicts isConfidential: true",
        ),
        (
            json!({"name": "X", "clientType": "hybrid", "redirectUris": ["https://app.example.com/cb"]}),
            "unknown client type 'hybrid': use public or confidential",
        ),
    ] {
        let (st, v) = json(call(&s, Method::POST, ADMIN, Some(&admin), Some(body)).await).await;
        assert_eq!(st, 400, "{v}");
        assert_eq!(v["details"][0]["field"], "clientType");
        assert_eq!(v["details"][0]["message"], message);
    }
    // The CLI client works out of the box.
    let (st, d) = device_start(&s, "tessera-cli", "openid offline_access").await;
    assert_eq!(st, 200, "{d}");
}

const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";

use crate::support::jwt_claims as claims;

#[tokio::test]
async fn token_exchange_delegates_impersonates_and_follows_the_policy() {
    let clock = tessera_domain::clock::MockClock::new(time::OffsetDateTime::now_utc());
    let (s, admin) =
        acme_on(TestServer::start_with_clock(std::sync::Arc::new(clock.clone())).await).await;
    // A first-party app holding alice's token, and a gateway that exchanges it.
    let (app, app_secret) = client(
        &s,
        &admin,
        json!({"name": "App", "redirectUris": [], "grantTypes": ["password", "client_credentials"], "allowedScopes": ["openid", "profile", "email"]}),
    )
    .await;
    let app_secret = app_secret.unwrap();
    let (gw, gw_secret) = client(
        &s,
        &admin,
        json!({"name": "Gateway", "redirectUris": [], "grantTypes": [EXCHANGE_GRANT, "client_credentials"], "allowedScopes": ["profile", "email"], "tokenExchange": {"subjectClients": [app.clone()]}}),
    )
    .await;
    let gw_secret = gw_secret.unwrap();
    let (st, user) = token(
        &s,
        Some((&app, &app_secret)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "correct horse battery"),
            ("scope", "openid profile email"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{user}");
    let subject = user["access_token"].as_str().unwrap().to_owned();
    let (_, own) = token(
        &s,
        Some((&gw, &gw_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let actor = own["access_token"].as_str().unwrap().to_owned();
    let exchange = |extra: Vec<(&'static str, String)>| {
        let s = &s;
        let (gw, gw_secret) = (gw.clone(), gw_secret.clone());
        async move {
            let mut form: Vec<(&str, String)> = vec![("grant_type", EXCHANGE_GRANT.into())];
            form.extend(extra);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(s, Some((&gw, &gw_secret)), &form).await
        }
    };

    // Delegation: the new token is alice's, for the gateway, naming the gateway as actor.
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
        ("audience", "orders-api".into()),
    ])
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["issued_token_type"], AT);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v.get("refresh_token").is_none());
    assert_eq!(
        v["scope"], "profile email",
        "narrowed to what the gateway may have"
    );
    let c = claims(v["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], claims(&subject)["sub"]);
    assert_eq!(c["client_id"], gw.as_str());
    assert_eq!(c["aud"], "orders-api");
    assert_eq!(c["act"], json!({"sub": gw, "client_id": gw}));
    let (_, intro) = json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/oauth/introspect"))
            .basic_auth(&gw, Some(&gw_secret))
            .form(&[("token", v["access_token"].as_str().unwrap())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["act"]["sub"], gw.as_str());

    // For an API resource (RFC 8707 with RFC 8693): its identifier is the audience, with the
    // logical audience beside it when both are given, and its lifetime; a resource that is
    // not the organization's is invalid_target.
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/api-resources",
            Some(&admin),
            Some(
                json!({"identifier": "https://orders.example.com/api", "name": "Orders",
                "accessTokenLifetime": 120}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
        ("resource", "https://orders.example.com/api".into()),
    ])
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["aud"],
        "https://orders.example.com/api"
    );
    assert_eq!(v["expires_in"], 120);
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
        ("resource", "https://orders.example.com/api".into()),
        ("audience", "orders-api".into()),
    ])
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["aud"],
        json!(["https://orders.example.com/api", "orders-api"])
    );
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
        ("resource", "https://unknown.example.com/api".into()),
    ])
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );

    // Scope narrowing, and the errors of RFC 8693 §2.2.2.
    let (_, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
        ("scope", "email".into()),
    ])
    .await;
    assert_eq!(v["scope"], "email");
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
        ("scope", "openid".into()),
    ])
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_scope")));
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:saml2".into(),
        ),
    ])
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_request")));
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
        ("resource", "not a uri".into()),
    ])
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_target")));
    // An audience is a logical name, bounded, never markup.
    for bad in ["<script>alert(1)</script>", "a b", &"x".repeat(257)] {
        let (st, v) = exchange(vec![
            ("subject_token", subject.clone()),
            ("subject_token_type", AT.into()),
            ("actor_token", actor.clone()),
            ("actor_token_type", AT.into()),
            ("audience", bad.into()),
        ])
        .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_target")),
            "{bad}"
        );
        assert!(v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("audience"));
    }

    // Impersonation only when the policy allows it.
    let impersonate = vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.to_owned()),
    ];
    let (st, v) = exchange(impersonate.clone()).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{v}"
    );
    let (st, _) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{ADMIN}/{gw}"),
            Some(&admin),
            Some(json!({"tokenExchange": {"subjectClients": [app.clone()], "allowImpersonation": true}})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, v) = exchange(impersonate.clone()).await;
    assert_eq!(st, 200, "{v}");
    assert!(claims(v["access_token"].as_str().unwrap())
        .get("act")
        .is_none());

    // The actor is the caller: another client's token is not an actor_token here.
    let (_, app_own) = token(
        &s,
        Some((&app, &app_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let (st, v) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        (
            "actor_token",
            app_own["access_token"].as_str().unwrap().to_owned(),
        ),
        ("actor_token_type", AT.into()),
    ])
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    // Delegating a delegated token nests the earlier actor (RFC 8693 §4.1).
    let (st, _) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{ADMIN}/{gw}"),
            Some(&admin),
            Some(json!({"tokenExchange": {"subjectClients": [app.clone(), gw.clone()], "allowImpersonation": true}})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (_, first) = exchange(vec![
        ("subject_token", subject.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
    ])
    .await;
    let (st, second) = exchange(vec![
        (
            "subject_token",
            first["access_token"].as_str().unwrap().to_owned(),
        ),
        ("subject_token_type", AT.into()),
        ("actor_token", actor.clone()),
        ("actor_token_type", AT.into()),
    ])
    .await;
    assert_eq!(st, 200, "{second}");
    assert_eq!(
        claims(second["access_token"].as_str().unwrap())["act"],
        json!({"sub": gw, "client_id": gw, "act": {"sub": gw, "client_id": gw}})
    );

    // A subject token of a client the policy does not name.
    let (other, other_secret) = client(
        &s,
        &admin,
        json!({"name": "Other", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let (_, o) = token(
        &s,
        Some((&other, &other_secret.unwrap())),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let (st, v) = exchange(vec![
        (
            "subject_token",
            o["access_token"].as_str().unwrap().to_owned(),
        ),
        ("subject_token_type", AT.into()),
    ])
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unauthorized_client"))
    );

    // A token of another organization is not a subject here.
    s.org("globex").await;
    let globex_admin = s.org_key("globex", &["admin"], &[]).await;
    let (st, g) = json(
        call(
            &s,
            Method::POST,
            "/orgs/globex/api/v1/admin/oauth-clients",
            Some(&globex_admin),
            Some(json!({"name": "G", "redirectUris": [], "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let (_, gt) = json(
        s.http
            .post(s.url("/orgs/globex/api/v1/oauth/token"))
            .basic_auth(g["id"].as_str().unwrap(), g["secret"].as_str())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (st, v) = exchange(vec![
        (
            "subject_token",
            gt["access_token"].as_str().unwrap().to_owned(),
        ),
        ("subject_token_type", AT.into()),
    ])
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );

    // Revoked, then expired.
    let res = s
        .http
        .post(s.url("/orgs/acme-corp/api/v1/oauth/revoke"))
        .basic_auth(&app, Some(&app_secret))
        .form(&[("token", subject.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (st, v) = exchange(impersonate).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_grant")));
    clock.advance(time::Duration::seconds(3601));
    let (st, v) = exchange(vec![
        ("subject_token", actor.clone()),
        ("subject_token_type", AT.into()),
    ])
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired"
    );

    // The policy is validated and needs the grant type.
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{ADMIN}/{app}"),
            Some(&admin),
            Some(json!({"tokenExchange": {"subjectClients": ["not a client id!"]}})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    let fields: Vec<&str> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["tokenExchange.subjectClients[0]", "tokenExchange"]);
    // Public clients cannot have the grant at all.
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            ADMIN,
            Some(&admin),
            Some(json!({"name": "Spa", "isConfidential": false, "redirectUris": [], "grantTypes": [EXCHANGE_GRANT]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{v}");
}

/// RFC 8707 in the device flow: `resource` on the device authorization decides the scopes and
/// the audience of the tokens the device gets; an unknown one is refused at once.
#[tokio::test]
async fn device_flow_with_a_resource_indicator() {
    let (s, admin) = acme().await;
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/api-resources",
            Some(&admin),
            Some(json!({"identifier": "urn:acme:tv", "name": "TV API",
                "scopes": [{"name": "channels.read"}], "accessTokenLifetime": 300})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let (cli, _) = client(
        &s,
        &admin,
        json!({"name": "Terminal", "isConfidential": false, "redirectUris": [], "grantTypes": [DEVICE_GRANT], "allowedScopes": ["openid"]}),
    )
    .await;
    let start = |resource: &'static str| {
        let (s, cli) = (&s, cli.clone());
        async move {
            json(
                s.http
                    .post(s.url("/orgs/acme-corp/api/v1/oauth/device_authorization"))
                    .form(&[
                        ("client_id", cli.as_str()),
                        ("scope", "openid channels.read"),
                        ("resource", resource),
                    ])
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (st, v) = start("urn:acme:unknown").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );
    let (st, d) = start("urn:acme:tv").await;
    assert_eq!(st, 200, "{d}");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    approve(
        &s,
        &browser,
        d["verification_uri_complete"].as_str().unwrap(),
        None,
        "allow",
    )
    .await;
    let (st, v) = poll(&s, &cli, d["device_code"].as_str().unwrap()).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "openid channels.read");
    assert_eq!(v["expires_in"], 300);
    assert_eq!(
        crate::support::jwt_claims(v["access_token"].as_str().unwrap())["aud"],
        "urn:acme:tv"
    );
}
