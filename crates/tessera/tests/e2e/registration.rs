//! Dynamic client registration (RFC 7591) and management (RFC 7592) under the organization's
//! policy, and the admin API that sets the policy and issues initial access tokens.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{call, json};

const REGISTER: &str = "/orgs/acme-corp/api/v1/connect/register";
const POLICY: &str = "/orgs/acme-corp/api/v1/admin/registration-policy";
const TOKENS: &str = "/orgs/acme-corp/api/v1/admin/registration-tokens";

async fn register(
    s: &TestServer,
    bearer: Option<&str>,
    body: Value,
) -> (u16, Value, Option<String>) {
    let mut req = s.http.post(s.url(REGISTER)).json(&body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.unwrap();
    let www = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(res.headers()["cache-control"], "no-store");
    let (st, v) = json(res).await;
    (st, v, www)
}

async fn manage(
    s: &TestServer,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = s.http.request(method, uri);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    json(req.send().await.unwrap()).await
}

#[tokio::test]
async fn registration_follows_the_policy_and_registered_clients_manage_themselves() {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let app = json!({"client_name": "Third Party", "redirect_uris": ["https://apps.example.com/cb"], "scope": "openid email", "software_id": "ignored-metadata"});

    // Closed until an operator opens it.
    let (st, v, _) = register(&s, None, app.clone()).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (403, Some("access_denied")),
        "{v}"
    );
    let (st, p) = json(call(&s, Method::GET, POLICY, Some(&admin), None).await).await;
    assert_eq!(st, 200);
    assert_eq!(
        p,
        json!({"mode": "closed", "allowedGrantTypes": ["authorization_code", "refresh_token"], "allowedScopes": ["openid", "profile", "email", "address", "phone", "offline_access"], "redirectUriPrefixes": [], "requirePkce": true, "clientIdMetadataDocuments": false, "unusedClientLifetime": null, "preset": null, "requirePushedAuthorizationRequests": false})
    );
    let (st, v) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "sometimes"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "open", "allowedGrantTypes": ["password"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(v["details"][0]["field"], "allowedGrantTypes[0]");
    let (st, _) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "open", "redirectUriPrefixes": ["https://apps.example.com/"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);

    // Registered: a confidential client with a secret and a registration access token.
    let (st, c, _) = register(&s, None, app.clone()).await;
    assert_eq!(st, 201, "{c}");
    let id = c["client_id"].as_str().unwrap().to_owned();
    assert!(c["client_secret"].as_str().unwrap().starts_with("cs_live_"));
    assert_eq!(c["client_secret_expires_at"], 0);
    let rat = c["registration_access_token"].as_str().unwrap().to_owned();
    assert!(rat.starts_with("rat_"));
    let uri = c["registration_client_uri"].as_str().unwrap().to_owned();
    assert_eq!(uri, s.url(&format!("{REGISTER}/{id}")));
    assert_eq!(c["grant_types"], json!(["authorization_code"]));
    assert_eq!(c["response_types"], json!(["code"]));
    assert_eq!(c["scope"], "openid email");
    assert_eq!(c["client_name"], "Third Party");
    // An ordinary client in the admin API, asking users for consent.
    let (st, a) = json(
        call(
            &s,
            Method::GET,
            &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        (a["name"].as_str(), a["requireConsent"].as_bool()),
        (Some("Third Party"), Some(true))
    );
    let (st, _) = json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/oauth/introspect"))
            .basic_auth(&id, c["client_secret"].as_str())
            .form(&[("token", "nothing")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "its secret authenticates it");

    // A public client; the metadata errors of RFC 7591 §3.2.2.
    let (st, p, _) = register(&s, None, json!({"redirect_uris": ["https://apps.example.com/spa"], "token_endpoint_auth_method": "none"})).await;
    assert_eq!(st, 201);
    assert!(p.get("client_secret").is_none());
    for (body, error) in [
        (
            json!({"redirect_uris": ["https://apps.example.com/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://elsewhere.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["http://apps.example.com/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://apps.example.com/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://apps.example.com/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://apps.example.com/cb"], "scope": "admin"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "https://apps.example.com/cb"}),
            "invalid_client_metadata",
        ),
        (json!({}), "invalid_redirect_uri"),
    ] {
        let (st, v, _) = register(&s, None, body.clone()).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some(error)),
            "{body} → {v}"
        );
        assert!(v["error_description"].as_str().unwrap().len() > 5);
    }
    let res = s
        .http
        .post(s.url(REGISTER))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (st, v) = json(res).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );

    // RFC 7592: read, replace, delete — only with the client's own registration token.
    let (st, r) = manage(&s, Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["client_id"], id.as_str());
    assert!(r.get("client_secret").is_none(), "never shown again");
    for token in [
        None,
        Some("rat_wrong"),
        Some(p["registration_access_token"].as_str().unwrap()),
    ] {
        let res = s.http.get(&uri);
        let res = match token {
            Some(t) => res.bearer_auth(t),
            None => res,
        }
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), 401);
        assert!(res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token"));
    }
    let (st, v) = manage(
        &s,
        Method::PUT,
        &uri,
        Some(&rat),
        Some(
            json!({"client_id": "someone-else", "redirect_uris": ["https://apps.example.com/cb"]}),
        ),
    )
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_request")));
    // What an operator set beyond the metadata survives the developer's PUT.
    let admin_path = format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}");
    let (st, _) = json(
        call(
            &s,
            Method::PATCH,
            &admin_path,
            Some(&admin),
            Some(json!({"isActive": false, "accessTokenLifetime": 900})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, u) = manage(&s, Method::PUT, &uri, Some(&rat), Some(json!({"client_id": id, "client_name": "Renamed", "redirect_uris": ["https://apps.example.com/cb2"], "scope": "openid"}))).await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["client_name"], "Renamed");
    let (_, a) = json(call(&s, Method::GET, &admin_path, Some(&admin), None).await).await;
    assert_eq!(
        (a["isActive"].as_bool(), a["accessTokenLifetime"].as_i64()),
        (Some(false), Some(900)),
        "{a}"
    );
    assert_eq!(a["name"], "Renamed");
    assert_eq!(u["redirect_uris"], json!(["https://apps.example.com/cb2"]));
    let (st, v) = manage(
        &s,
        Method::PUT,
        &uri,
        Some(&rat),
        Some(json!({"client_id": id, "redirect_uris": ["https://apps.example.com/cb#x"]})),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
    let (st, _) = manage(&s, Method::DELETE, &uri, Some(&rat), None).await;
    assert_eq!(st, 204);
    let (st, _) = manage(&s, Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(st, 401);
    let (st, _) = json(
        call(
            &s,
            Method::GET,
            &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);

    // Token mode: an initial access token is needed, and stops working when revoked.
    let (st, _) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "token"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, v, www) = register(&s, None, app.clone()).await;
    assert_eq!((st, v["error"].as_str()), (401, Some("invalid_token")));
    assert!(www.unwrap().starts_with("Bearer"));
    let (st, t) = json(
        call(
            &s,
            Method::POST,
            TOKENS,
            Some(&admin),
            Some(json!({"expiresIn": 3600})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{t}");
    let iat = t["token"].as_str().unwrap().to_owned();
    assert!(iat.starts_with("iat_"));
    let (st, _, _) = register(&s, Some(&iat), app.clone()).await;
    assert_eq!(st, 201);
    let (st, list) = json(call(&s, Method::GET, TOKENS, Some(&admin), None).await).await;
    assert_eq!(st, 200);
    assert_eq!(list[0]["id"], t["id"]);
    assert!(list[0].get("token").is_none() && !list.to_string().contains(&iat));
    let (st, _) = json(
        call(
            &s,
            Method::DELETE,
            &format!("{TOKENS}/{}", t["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 204);
    let (st, _, _) = register(&s, Some(&iat), app.clone()).await;
    assert_eq!(st, 401);
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            TOKENS,
            Some(&admin),
            Some(json!({"expiresIn": 5})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{v}");

    // Registrations are limited per address (30 a minute by default), with Retry-After.
    let (st, _) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "open"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let mut refused = None;
    for n in 0..31 {
        let res = s
            .http
            .post(s.url(REGISTER))
            .json(&app)
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            refused = Some((
                n,
                res.headers()["retry-after"].to_str().unwrap().to_owned(),
                json(res).await.1,
            ));
            break;
        }
        assert_eq!(res.status(), 201);
    }
    let (n, retry, v) = refused.expect("a 429 within the minute's budget");
    assert!(n < 30, "earlier attempts count too");
    assert_eq!(retry, "60");
    assert_eq!(v["error"], "temporarily_unavailable");

    // A viewer may read the policy but not change it.
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let (st, _) = json(call(&s, Method::GET, POLICY, Some(&viewer), None).await).await;
    assert_eq!(st, 200);
    let (st, _) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&viewer),
            Some(json!({"mode": "open"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
}

/// The registration policy decides whether a registered confidential client may do without
/// PKCE (the OpenID conformance suite's dynamic clients send none); a public one never may.
/// Registered clients ask for `id_token_signed_response_alg` and `token_endpoint_auth_method`
/// by their RFC 7591 names.
#[tokio::test]
async fn the_policy_decides_pkce_for_registered_confidential_clients() {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let put = |body: Value| call(&s, Method::PUT, POLICY, Some(&admin), Some(body));
    let (st, p) = json(put(json!({"mode": "open", "requirePkce": false})).await).await;
    assert_eq!((st, p["requirePkce"].as_bool()), (200, Some(false)), "{p}");
    let (st, c, _) = register(
        &s,
        None,
        json!({"client_name": "Suite", "redirect_uris": ["https://rp.example/cb"],
               "token_endpoint_auth_method": "client_secret_post",
               "id_token_signed_response_alg": "ES256"}),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["id_token_signed_response_alg"], "ES256");
    // What the client asked for is what it registered (RFC 7591 §3.2.1), and no more.
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_post");
    assert!(c.get("userinfo_signed_response_alg").is_none(), "{c}");
    let id = c["client_id"].as_str().unwrap();
    let (_, admin_view) = json(
        call(
            &s,
            Method::GET,
            &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(admin_view["requirePkce"], false);
    assert_eq!(admin_view["tokenEndpointAuthMethod"], "client_secret_post");
    assert_eq!(admin_view["userinfoSignedResponseAlg"], Value::Null);
    // Its management read says the same.
    let (st, read) = manage(
        &s,
        Method::GET,
        c["registration_client_uri"].as_str().unwrap(),
        c["registration_access_token"].as_str(),
        None,
    )
    .await;
    assert_eq!(st, 200, "{read}");
    assert_eq!(read["token_endpoint_auth_method"], "client_secret_post");

    // Signed userinfo (OIDC Registration §2), and its unknown algorithms named.
    let (st, c, _) = register(
        &s,
        None,
        json!({"client_name": "Signed", "redirect_uris": ["https://rp.example/cb"],
               "userinfo_signed_response_alg": "RS256"}),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["userinfo_signed_response_alg"], "RS256");
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");
    let (st, e, _) = register(
        &s,
        None,
        json!({"client_name": "Unsigned", "redirect_uris": ["https://rp.example/cb"],
               "userinfo_signed_response_alg": "none"}),
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["error"], "invalid_client_metadata");
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("userinfo_signed_response_alg"),
        "{e}"
    );
    // Request objects signed with one algorithm (OIDC Registration §2), never none; the
    // request_uris are checked, not kept.
    let (st, c, _) = register(
        &s,
        None,
        json!({"client_name": "JAR", "redirect_uris": ["https://rp.example/cb"],
               "request_object_signing_alg": "PS256",
               "request_uris": ["https://rp.example/request#abc"]}),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["request_object_signing_alg"], "PS256");
    for (bad, names) in [
        (
            json!({"request_object_signing_alg": "none"}),
            "request_object_signing_alg",
        ),
        (
            json!({"request_uris": "https://rp.example/r"}),
            "request_uris",
        ),
    ] {
        let mut body = json!({"client_name": "Bad", "redirect_uris": ["https://rp.example/cb"]});
        for (k, v) in bad.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, e, _) = register(&s, None, body).await;
        assert_eq!(st, 400, "{e}");
        assert_eq!(e["error"], "invalid_client_metadata");
        assert!(
            e["error_description"].as_str().unwrap().contains(names),
            "{e}"
        );
    }
    // A redirect URI with a fragment is refused (RFC 6749 §3.1.2).
    let (st, e, _) = register(
        &s,
        None,
        json!({"client_name": "Frag", "redirect_uris": ["https://rp.example/cb#frag"]}),
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert!(
        ["invalid_redirect_uri", "invalid_client_metadata"].contains(&e["error"].as_str().unwrap()),
        "{e}"
    );
    // A public client needs PKCE whatever the policy says.
    let (_, c, _) = register(
        &s,
        None,
        json!({"client_name": "SPA", "redirect_uris": ["https://rp.example/cb"],
               "token_endpoint_auth_method": "none"}),
    )
    .await;
    let id = c["client_id"].as_str().unwrap();
    let (_, admin_view) = json(
        call(
            &s,
            Method::GET,
            &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(admin_view["requirePkce"], true);
}

/// `unusedClientLifetime`: a registered client that got no token within it is deleted by the
/// cleanup (with an audit event by the system), one that got a token lives on, and clients
/// the admin API made are never touched.
#[tokio::test]
async fn registered_clients_never_used_expire() {
    let clock = std::sync::Arc::new(tessera_domain::MockClock::new(
        tessera_domain::clock::from_millis(1_800_000_000_000),
    ));
    let s = TestServer::start_with_clock(clock.clone()).await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (st, v) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "open", "unusedClientLifetime": 60})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "under an hour: {v}");
    assert_eq!(v["details"][0]["field"], "unusedClientLifetime");
    let (st, _) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "open", "allowedGrantTypes": ["authorization_code", "refresh_token"], "unusedClientLifetime": 86_400})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let app = |name: &str| {
        json!({"client_name": name, "redirect_uris": ["https://apps.example.com/cb"],
               "token_endpoint_auth_method": "client_secret_basic",
               "grant_types": ["authorization_code", "refresh_token"]})
    };
    let (st, idle, _) = register(&s, None, app("Idle")).await;
    assert_eq!(st, 201, "{idle}");
    let (_, busy, _) = register(&s, None, app("Busy")).await;
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/oauth-clients",
            Some(&admin),
            Some(
                json!({"clientId": "admin-made", "name": "Admin made", "redirectUris": [],
                "grantTypes": ["client_credentials"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);

    // Twenty hours on, the busy client authenticates at the token endpoint (a grant attempt
    // that reaches its grant: the use is noted); a day and an hour after registration, the
    // idle one goes.
    clock.advance(time::Duration::hours(20));
    let res = s
        .http
        .post(s.url("/orgs/acme-corp/api/v1/oauth/token"))
        .basic_auth(
            busy["client_id"].as_str().unwrap(),
            busy["client_secret"].as_str(),
        )
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        400,
        "invalid_grant, but the client authenticated"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    clock.advance(time::Duration::hours(5));
    assert_eq!(s.services.expire_unused_clients().await.unwrap(), 1);
    let get = |id: String| {
        let (s, admin) = (&s, admin.clone());
        async move {
            call(
                s,
                Method::GET,
                &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}"),
                Some(&admin),
                None,
            )
            .await
            .status()
        }
    };
    assert_eq!(
        get(idle["client_id"].as_str().unwrap().to_owned()).await,
        404
    );
    assert_eq!(
        get(busy["client_id"].as_str().unwrap().to_owned()).await,
        200
    );
    assert_eq!(get("admin-made".to_owned()).await, 200);
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?action=oauth_client.deleted",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(log[0]["targetId"], idle["client_id"], "{log}");
    assert_eq!(log[0]["actor"]["type"], "system");
    // A day after its last use, the busy one goes too.
    clock.advance(time::Duration::hours(20));
    assert_eq!(s.services.expire_unused_clients().await.unwrap(), 1);
    assert_eq!(
        get(busy["client_id"].as_str().unwrap().to_owned()).await,
        404
    );
}

/// The `mcp` preset: public clients with loopback or private-use-scheme redirects register;
/// a confidential client, or a web redirect, is refused naming why.
#[tokio::test]
async fn the_mcp_preset_registers_agents_on_the_users_machine_only() {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (st, p) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "open", "preset": "mcp", "allowedScopes": ["openid", "tools"]})),
        )
        .await,
    )
    .await;
    assert_eq!((st, p["preset"].as_str()), (200, Some("mcp")), "{p}");
    let agent = |redirect: &str, method: &str| {
        json!({"client_name": "Agent", "redirect_uris": [redirect],
               "token_endpoint_auth_method": method, "scope": "tools"})
    };
    for redirect in [
        "http://127.0.0.1:33418/callback",
        "http://[::1]/cb",
        "com.example.agent:/cb",
    ] {
        let (st, v, _) = register(&s, None, agent(redirect, "none")).await;
        assert_eq!(st, 201, "{redirect}: {v}");
        assert_eq!(v["token_endpoint_auth_method"], "none");
    }
    let (st, v, _) = register(&s, None, agent("https://agent.example.com/cb", "none")).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_redirect_uri")),
        "{v}"
    );
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("loopback"));
    let (st, v, _) = register(
        &s,
        None,
        agent("http://127.0.0.1:33418/callback", "client_secret_basic"),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_client_metadata")),
        "{v}"
    );
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("public clients only"));
    let (st, v) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"preset": "web"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "an unknown preset: {v}");
}

/// The sender-constraint metadata (RFC 9126 §6, RFC 9449 §5.2, RFC 9101 §10.5, Back-Channel
/// Logout §2.2) registers and reads back; a bad value is named in RFC 7591's words.
#[tokio::test]
async fn registration_takes_the_sender_constraint_metadata() {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (st, _) = json(
        call(
            &s,
            Method::PUT,
            POLICY,
            Some(&admin),
            Some(json!({"mode": "open"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, v, _) = register(
        &s,
        None,
        json!({"client_name": "Bank", "redirect_uris": ["https://bank.example/cb"],
               "require_pushed_authorization_requests": true, "dpop_bound_access_tokens": true,
               "require_signed_request_object": true,
               "backchannel_logout_uri": "https://bank.example/bc",
               "backchannel_logout_session_required": true}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    for k in [
        "require_pushed_authorization_requests",
        "dpop_bound_access_tokens",
        "require_signed_request_object",
        "backchannel_logout_session_required",
    ] {
        assert_eq!(v[k], true, "{k}");
    }
    assert_eq!(v["backchannel_logout_uri"], "https://bank.example/bc");
    let (st, v, _) = register(
        &s,
        None,
        json!({"client_name": "Bad", "redirect_uris": ["https://bank.example/cb"],
               "backchannel_logout_uri": "ftp://bank.example/bc"}),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("backchannel_logout_uri"),
        "{v}"
    );
    let (st, v, _) = register(
        &s,
        None,
        json!({"client_name": "Bad", "redirect_uris": ["https://bank.example/cb"],
               "dpop_bound_access_tokens": "yes"}),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
}
