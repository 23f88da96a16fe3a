//! The token endpoint for machines over real HTTP: client authentication, client_credentials,
//! RFC 6749 §5.2 errors, JWT access tokens checked by an independent library against the
//! JWKS, introspection, revocation, discovery and key rotation.

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{call, json};

use crate::support::ACME_CLIENTS as ADMIN;
const TOKEN: &str = "/orgs/acme-corp/api/v1/oauth/token";
const INTROSPECT: &str = "/orgs/acme-corp/api/v1/oauth/introspect";
const REVOKE: &str = "/orgs/acme-corp/api/v1/oauth/revoke";

struct Setup {
    s: TestServer,
    admin: String,
    id: String,
    secret: String,
}

async fn client(s: &TestServer, admin: &str, body: Value) -> (String, Option<String>) {
    let (st, c) = json(call(s, Method::POST, ADMIN, Some(admin), Some(body)).await).await;
    assert_eq!(st, 201, "{c}");
    (
        c["id"].as_str().unwrap().to_owned(),
        c["secret"].as_str().map(str::to_owned),
    )
}

async fn setup() -> Setup {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (id, secret) = client(
        &s,
        &admin,
        json!({"name": "Backend Service", "redirectUris": [], "grantTypes": ["client_credentials"], "allowedScopes": ["admin.read", "admin.write"]}),
    )
    .await;
    Setup {
        s,
        admin,
        id,
        secret: secret.unwrap(),
    }
}

/// POSTs a form, optionally with HTTP Basic.
async fn form(
    s: &TestServer,
    path: &str,
    basic: Option<(&str, &str)>,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = s.http.post(s.url(path)).form(params);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    req.send().await.unwrap()
}

async fn token(st: &Setup) -> String {
    let res = form(
        &st.s,
        TOKEN,
        Some((&st.id, &st.secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let (code, v) = json(res).await;
    assert_eq!(code, 200, "{v}");
    v["access_token"].as_str().unwrap().to_owned()
}

async fn introspect(st: &Setup, org_path: &str, tok: &str) -> Value {
    let res = form(
        &st.s,
        org_path,
        Some((&st.id, &st.secret)),
        &[("token", tok)],
    )
    .await;
    let (code, v) = json(res).await;
    assert_eq!(code, 200, "{v}");
    v
}

#[tokio::test]
async fn both_client_authentication_methods_issue_tokens() {
    let st = setup().await;
    // client_secret_basic, as the seed's curl -u
    let res = form(
        &st.s,
        TOKEN,
        Some((&st.id, &st.secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let (code, v) = json(res).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(
        v["scope"], "admin.read admin.write",
        "absent scope: everything allowed"
    );
    assert_eq!(v.as_object().unwrap().len(), 4, "{v}");
    // client_secret_post, as the seed's curl -d
    let res = form(
        &st.s,
        TOKEN,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &st.id),
            ("client_secret", &st.secret),
            ("scope", "admin.read"),
        ],
    )
    .await;
    let (code, v) = json(res).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["scope"], "admin.read");
}

/// An id tried before its client existed is remembered as unknown (here and in the copy the
/// serving thread keeps of its last lookup); creating the client forgets that at once.
#[tokio::test]
async fn a_client_created_after_its_id_was_tried_gets_a_token_at_once() {
    let st = setup().await;
    let grant = [("grant_type", "client_credentials")];
    // Twice: the first read finds nothing in the database, the second the cached "unknown".
    for _ in 0..2 {
        let res = form(&st.s, TOKEN, Some(("svc-later", "not-yet")), &grant).await;
        let (code, v) = json(res).await;
        assert_eq!(
            (code, v["error"].as_str()),
            (401, Some("invalid_client")),
            "{v}"
        );
    }
    let (id, secret) = client(
        &st.s,
        &st.admin,
        json!({"name": "Later", "clientId": "svc-later", "redirectUris": [], "grantTypes": ["client_credentials"], "allowedScopes": ["admin.read"]}),
    )
    .await;
    assert_eq!(id, "svc-later");
    let res = form(&st.s, TOKEN, Some((&id, &secret.unwrap())), &grant).await;
    let (code, v) = json(res).await;
    assert_eq!(code, 200, "{v}");
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded_before_base64() {
    let st = setup().await;
    let path = format!("{ADMIN}/{}/secret", st.id);
    let chosen = "p@ss:word+plus%and-more";
    let (code, _) = json(
        call(
            &st.s,
            Method::POST,
            &path,
            Some(&st.admin),
            Some(json!({"secret": chosen})),
        )
        .await,
    )
    .await;
    assert_eq!(code, 200);
    // RFC 6749 §2.3.1: each part form-urlencoded, then base64.
    let encoded: String = url::form_urlencoded::byte_serialize(chosen.as_bytes()).collect();
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{encoded}", st.id))
    );
    let res =
        st.s.http
            .post(st.s.url(TOKEN))
            .header("authorization", header)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    let (code, v) = json(res).await;
    assert_eq!(code, 200, "{v}");
}

#[tokio::test]
async fn failures_are_the_right_rfc_errors() {
    let st = setup().await;
    let s = &st.s;
    let cc = [("grant_type", "client_credentials")];
    let expect = |res: (u16, Value), code: u16, error: &str| {
        assert_eq!(
            (res.0, res.1["error"].as_str()),
            (code, Some(error)),
            "{}",
            res.1
        );
        assert!(res.1["error_description"].is_string());
    };
    // Wrong secret and unknown client: 401 with WWW-Authenticate.
    let res = form(s, TOKEN, Some((&st.id, "cs_live_wrong")), &cc).await;
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    expect(json(res).await, 401, "invalid_client");
    expect(
        json(form(s, TOKEN, Some(("nobody", &st.secret)), &cc).await).await,
        401,
        "invalid_client",
    );
    expect(
        json(form(s, TOKEN, None, &cc).await).await,
        401,
        "invalid_client",
    );
    // Public client.
    let (pub_id, _) = client(
        s,
        &st.admin,
        json!({"name": "SPA", "isConfidential": false, "redirectUris": ["https://a.example/cb"]}),
    )
    .await;
    expect(
        json(
            form(
                s,
                TOKEN,
                None,
                &[("grant_type", "client_credentials"), ("client_id", &pub_id)],
            )
            .await,
        )
        .await,
        400,
        "unauthorized_client",
    );
    expect(
        json(form(s, TOKEN, Some((&pub_id, "x")), &cc).await).await,
        401,
        "invalid_client",
    );
    // A confidential client without the grant.
    let (web_id, web_secret) = client(
        s,
        &st.admin,
        json!({"name": "Web", "redirectUris": ["https://a.example/cb"]}),
    )
    .await;
    expect(
        json(form(s, TOKEN, Some((&web_id, &web_secret.unwrap())), &cc).await).await,
        400,
        "unauthorized_client",
    );
    // Unsupported grant, missing grant, scope outside allowed.
    expect(
        json(
            form(
                s,
                TOKEN,
                Some((&st.id, &st.secret)),
                &[("grant_type", "magic")],
            )
            .await,
        )
        .await,
        400,
        "unsupported_grant_type",
    );
    expect(
        json(
            form(
                s,
                TOKEN,
                Some((&st.id, &st.secret)),
                &[("scope", "admin.read")],
            )
            .await,
        )
        .await,
        400,
        "invalid_request",
    );
    expect(
        json(
            form(
                s,
                TOKEN,
                Some((&st.id, &st.secret)),
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "admin.read admin.delete"),
                ],
            )
            .await,
        )
        .await,
        400,
        "invalid_scope",
    );
    // Repeated parameters, two authentication methods, wrong content type.
    let body = format!(
        "grant_type=client_credentials&grant_type=client_credentials&client_id={}&client_secret={}",
        st.id, st.secret
    );
    let res = s
        .http
        .post(s.url(TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    expect(json(res).await, 400, "invalid_request");
    expect(
        json(
            form(
                s,
                TOKEN,
                Some((&st.id, &st.secret)),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_secret", &st.secret),
                ],
            )
            .await,
        )
        .await,
        400,
        "invalid_request",
    );
    let res = s
        .http
        .post(s.url(TOKEN))
        .basic_auth(&st.id, Some(&st.secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    expect(json(res).await, 400, "invalid_request");
    let res = s
        .http
        .post(s.url(TOKEN))
        .header("authorization", "Basic !!!")
        .form(&cc)
        .send()
        .await
        .unwrap();
    expect(json(res).await, 401, "invalid_client");
    // Disabled: no new tokens.
    call(
        s,
        Method::PATCH,
        &format!("{ADMIN}/{}", st.id),
        Some(&st.admin),
        Some(json!({"isActive": false})),
    )
    .await;
    expect(
        json(form(s, TOKEN, Some((&st.id, &st.secret)), &cc).await).await,
        400,
        "unauthorized_client",
    );
    // Unknown organization.
    let res = form(
        s,
        "/orgs/nope/api/v1/oauth/token",
        Some((&st.id, &st.secret)),
        &cc,
    )
    .await;
    assert_eq!(res.status(), 404);
}

/// The JWKS document as `jsonwebtoken` reads it, fetched over HTTP.
async fn jwks(s: &TestServer, org: &str) -> jsonwebtoken::jwk::JwkSet {
    s.http
        .get(s.url(&format!("/orgs/{org}/api/v1/oauth/jwks")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn verify_with(set: &jsonwebtoken::jwk::JwkSet, token: &str, issuer: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.expect("kid");
    let jwk = set.find(&kid).expect("the token's kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[issuer]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap()
        .claims
}

#[tokio::test]
async fn access_tokens_are_rfc9068_jwts_that_verify_against_the_jwks() {
    let st = setup().await;
    let tok = token(&st).await;
    let issuer = st.s.url("/orgs/acme-corp");
    let set = jwks(&st.s, "acme-corp").await;
    assert_eq!(
        set.keys.len(),
        4,
        "ES256, RS256, PS256 (the RSA key again) and EdDSA are published"
    );
    let claims = verify_with(&set, &tok, &issuer);
    assert_eq!(
        jsonwebtoken::decode_header(&tok).unwrap().alg,
        jsonwebtoken::Algorithm::ES256
    );
    assert_eq!(claims["sub"], st.id.as_str());
    assert_eq!(claims["client_id"], st.id.as_str());
    assert_eq!(claims["scope"], "admin.read admin.write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims["jti"].as_str().unwrap().len() >= 22, "128-bit jti");
    // A resource indicator, naming an API resource of the organization, becomes the
    // audience.
    let (st_code, _) = json(
        call(
            &st.s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/api-resources",
            Some(&st.admin),
            Some(json!({"identifier": "https://api.example.com", "name": "API"})),
        )
        .await,
    )
    .await;
    assert_eq!(st_code, 201);
    let res = form(
        &st.s,
        TOKEN,
        Some((&st.id, &st.secret)),
        &[
            ("grant_type", "client_credentials"),
            ("resource", "https://api.example.com"),
        ],
    )
    .await;
    let (_, v) = json(res).await;
    let tok = v["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(tok).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut val = jsonwebtoken::Validation::new(header.alg);
    val.set_audience(&["https://api.example.com"]);
    assert!(jsonwebtoken::decode::<Value>(tok, &key, &val).is_ok());
    // The lifetime comes from the client.
    call(
        &st.s,
        Method::PATCH,
        &format!("{ADMIN}/{}", st.id),
        Some(&st.admin),
        Some(json!({"accessTokenLifetime": 120})),
    )
    .await;
    let (_, v) = json(
        form(
            &st.s,
            TOKEN,
            Some((&st.id, &st.secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    assert_eq!(v["expires_in"], 120);
}

#[tokio::test]
async fn introspection_is_authoritative() {
    let st = setup().await;
    let tok = token(&st).await;
    let v = introspect(&st, INTROSPECT, &tok).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["client_id"], st.id.as_str());
    assert_eq!(v["scope"], "admin.read admin.write");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["iss"], st.s.url("/orgs/acme-corp"));
    for junk in ["garbage", "a.b.c", &format!("{tok}x")] {
        assert_eq!(
            introspect(&st, INTROSPECT, junk).await,
            json!({"active": false})
        );
    }
    // Only a confidential client of the organization may ask.
    let res = form(
        &st.s,
        INTROSPECT,
        Some((&st.id, "wrong")),
        &[("token", &tok)],
    )
    .await;
    assert_eq!(res.status(), 401);
    let (pub_id, _) = client(
        &st.s,
        &st.admin,
        json!({"name": "SPA", "isConfidential": false, "redirectUris": ["https://a.example/cb"]}),
    )
    .await;
    let res = form(
        &st.s,
        INTROSPECT,
        None,
        &[("token", &tok), ("client_id", &pub_id)],
    )
    .await;
    assert_eq!(res.status(), 401);

    // A disabled client's tokens stay active until they expire; a disabled client cannot
    // introspect.
    let (rs_id, rs_secret) = client(&st.s, &st.admin, json!({"name": "Resource server", "redirectUris": [], "grantTypes": ["client_credentials"]})).await;
    let rs_secret = rs_secret.unwrap();
    call(
        &st.s,
        Method::PATCH,
        &format!("{ADMIN}/{}", st.id),
        Some(&st.admin),
        Some(json!({"isActive": false})),
    )
    .await;
    let res = form(
        &st.s,
        INTROSPECT,
        Some((&rs_id, &rs_secret)),
        &[("token", &tok)],
    )
    .await;
    assert_eq!(json(res).await.1["active"], true);
    let res = form(
        &st.s,
        INTROSPECT,
        Some((&st.id, &st.secret)),
        &[("token", &tok)],
    )
    .await;
    assert_eq!(json(res).await.1["error"], "unauthorized_client");
    call(
        &st.s,
        Method::PATCH,
        &format!("{ADMIN}/{}", st.id),
        Some(&st.admin),
        Some(json!({"isActive": true})),
    )
    .await;

    // A token of another organization is inactive here, even with the same client id.
    st.s.org("globex").await;
    let globex_admin = st.s.org_key("globex", &["admin"], &[]).await;
    let (code, _) = json(call(&st.s, Method::POST, "/orgs/globex/api/v1/admin/oauth-clients", Some(&globex_admin), Some(json!({"name": "G", "redirectUris": [], "grantTypes": ["client_credentials"], "clientId": "globex-backend"}))).await).await;
    assert_eq!(code, 201);
    let (_, g) = json(
        call(
            &st.s,
            Method::POST,
            "/orgs/globex/api/v1/admin/oauth-clients/globex-backend/secret",
            Some(&globex_admin),
            None,
        )
        .await,
    )
    .await;
    let g_secret = g["secret"].as_str().unwrap().to_owned();
    let res = form(
        &st.s,
        "/orgs/globex/api/v1/oauth/token",
        Some(("globex-backend", &g_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let (_, gv) = json(res).await;
    let g_tok = gv["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        introspect(&st, INTROSPECT, &g_tok).await,
        json!({"active": false})
    );
    let res = form(
        &st.s,
        "/orgs/globex/api/v1/oauth/introspect",
        Some(("globex-backend", &g_secret)),
        &[("token", &tok)],
    )
    .await;
    assert_eq!(
        json(res).await.1,
        json!({"active": false}),
        "and ours is inactive there"
    );

    // Deleting the client makes its tokens inactive at once.
    call(
        &st.s,
        Method::PATCH,
        &format!("{ADMIN}/{}", st.id),
        Some(&st.admin),
        Some(json!({"isActive": true})),
    )
    .await;
    let (other_id, other_secret) = client(
        &st.s,
        &st.admin,
        json!({"name": "Introspector", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let other_secret = other_secret.unwrap();
    assert_eq!(
        call(
            &st.s,
            Method::DELETE,
            &format!("{ADMIN}/{}", st.id),
            Some(&st.admin),
            None
        )
        .await
        .status(),
        204
    );
    let res = form(
        &st.s,
        INTROSPECT,
        Some((&other_id, &other_secret)),
        &[("token", &tok)],
    )
    .await;
    assert_eq!(json(res).await.1, json!({"active": false}));
}

#[tokio::test]
async fn revoked_tokens_are_inactive() {
    let st = setup().await;
    let tok = token(&st).await;
    let res = form(
        &st.s,
        REVOKE,
        Some((&st.id, &st.secret)),
        &[("token", &tok), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(
        introspect(&st, INTROSPECT, &tok).await,
        json!({"active": false})
    );
    // Unknown and already revoked tokens: still 200 (RFC 7009 §2.2).
    assert_eq!(
        form(
            &st.s,
            REVOKE,
            Some((&st.id, &st.secret)),
            &[("token", "nonsense")]
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        form(
            &st.s,
            REVOKE,
            Some((&st.id, &st.secret)),
            &[("token", &tok)]
        )
        .await
        .status(),
        200
    );
    // Another client's token is refused; bad credentials are 401.
    let (other_id, other_secret) = client(
        &st.s,
        &st.admin,
        json!({"name": "Other", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let mine = token(&st).await;
    let (code, v) = json(
        form(
            &st.s,
            REVOKE,
            Some((&other_id, &other_secret.unwrap())),
            &[("token", &mine)],
        )
        .await,
    )
    .await;
    assert_eq!(
        (code, v["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    assert_eq!(introspect(&st, INTROSPECT, &mine).await["active"], true);
    assert_eq!(
        form(&st.s, REVOKE, Some((&st.id, "bad")), &[("token", &mine)])
            .await
            .status(),
        401
    );
    let (_, log) = json(
        call(
            &st.s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?action=token.revoked",
            Some(&st.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        log.as_array().unwrap().len(),
        1,
        "one revocation, audited once"
    );
    assert_eq!(log[0]["actor"]["type"], "oauth_client");
}

/// A token is verified once however often it is introspected (the verified-token cache), and
/// the cache changes no answer: revocation, the client's deletion, another organization and
/// expiry are exact on every use.
#[tokio::test]
async fn introspection_verifies_once_and_stays_exact() {
    let st = setup().await;
    let loads = || async {
        let text = call(&st.s, Method::GET, "/metrics", None, None)
            .await
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("tessera_cache_loads_total{cache=\"verified_tokens\"} "))
            .and_then(|v| v.parse::<u64>().ok())
            .expect("the verified-token loads")
    };
    let tok = token(&st).await;
    let before = loads().await;
    for _ in 0..5 {
        assert_eq!(introspect(&st, INTROSPECT, &tok).await["active"], true);
    }
    assert_eq!(
        loads().await - before,
        1,
        "verified once, then from the cache"
    );

    // Revoked: inactive at once, although its signature is in the cache.
    let res = form(
        &st.s,
        REVOKE,
        Some((&st.id, &st.secret)),
        &[("token", &tok)],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(introspect(&st, INTROSPECT, &tok).await["active"], false);

    // Another organization's introspection never sees this organization's tokens.
    let other = token(&st).await;
    assert_eq!(introspect(&st, INTROSPECT, &other).await["active"], true);
    st.s.org("globex").await;
    let gadmin = st.s.org_key("globex", &["admin"], &[]).await;
    let (code, made) = json(
        call(
            &st.s,
            Method::POST,
            "/orgs/globex/api/v1/admin/oauth-clients",
            Some(&gadmin),
            Some(json!({"name": "Globex RS", "redirectUris": [], "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    assert_eq!(code, 201, "{made}");
    let (gid, gsecret) = (
        made["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().map(str::to_owned),
    );
    let (code, v) = json(
        form(
            &st.s,
            "/orgs/globex/api/v1/oauth/introspect",
            Some((&gid, &gsecret.unwrap())),
            &[("token", &other)],
        )
        .await,
    )
    .await;
    assert_eq!((code, v), (200, json!({"active": false})));

    // The client deleted: its cached token is inactive too (asked by another client).
    let (rs, rs_secret) = client(
        &st.s,
        &st.admin,
        json!({"name": "Resource server", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let rs_secret = rs_secret.unwrap();
    let ask = |t: String| {
        let (rs, rs_secret) = (rs.clone(), rs_secret.clone());
        let s = &st.s;
        async move {
            json(form(s, INTROSPECT, Some((&rs, &rs_secret)), &[("token", &t)]).await)
                .await
                .1
        }
    };
    assert_eq!(ask(other.clone()).await["active"], true);
    let st_del = call(
        &st.s,
        Method::DELETE,
        &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{}", st.id),
        Some(&st.admin),
        None,
    )
    .await
    .status();
    assert_eq!(st_del, 204);
    assert_eq!(ask(other).await, json!({"active": false}));
}

#[tokio::test]
async fn discovery_documents_list_what_is_implemented() {
    let st = setup().await;
    let issuer = st.s.url("/orgs/acme-corp");
    let mut docs = vec![];
    for path in [
        "/orgs/acme-corp/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/orgs/acme-corp",
        "/orgs/acme-corp/.well-known/oauth-authorization-server",
    ] {
        let (code, v) = json(call(&st.s, Method::GET, path, None, None).await).await;
        assert_eq!(code, 200, "{path}");
        docs.push(v);
    }
    let d = &docs[0];
    assert_eq!(d["issuer"], issuer.as_str());
    assert_eq!(d["token_endpoint"], format!("{issuer}/api/v1/oauth/token"));
    assert_eq!(d["jwks_uri"], format!("{issuer}/api/v1/oauth/jwks"));
    assert_eq!(
        d["introspection_endpoint"],
        format!("{issuer}/api/v1/oauth/introspect")
    );
    assert_eq!(
        d["revocation_endpoint"],
        format!("{issuer}/api/v1/oauth/revoke")
    );
    assert_eq!(
        d["grant_types_supported"],
        json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    assert_eq!(
        d["device_authorization_endpoint"],
        format!("{issuer}/api/v1/oauth/device_authorization")
    );
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none"
        ])
    );
    // RFC 8414 §2: the assertion algorithms (HMACs for client_secret_jwt), never `none`.
    let algs = d["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("RS256")) && algs.contains(&json!("PS256")));
    assert!(algs.contains(&json!("HS256")));
    assert!(!algs.iter().any(|a| a == "none"));
    // Request objects and DPoP proofs: asymmetric only.
    for field in [
        "request_object_signing_alg_values_supported",
        "dpop_signing_alg_values_supported",
    ] {
        assert!(!d[field]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "none" || a.as_str().unwrap().starts_with("HS")));
    }
    assert_eq!(
        d["authorization_endpoint"],
        format!("{issuer}/api/v1/oauth/authorize")
    );
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        d["registration_endpoint"],
        format!("{issuer}/api/v1/connect/register")
    );
    assert_eq!(docs[1], docs[0]);
    assert_eq!(docs[2], docs[0]);
    assert_eq!(
        call(
            &st.s,
            Method::GET,
            "/orgs/nope/.well-known/openid-configuration",
            None,
            None
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_verifiable() {
    let st = setup().await;
    let before = token(&st).await;
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();
    let kids =
        st.s.services
            .rotate_keys(&tessera_core::Context::cli(), "acme-corp")
            .await
            .unwrap();
    assert_eq!(kids.len(), 3);
    // Published at once; the old key signs until every node has had time to publish the new
    // one, and the new key from then on.
    let set = jwks(&st.s, "acme-corp").await;
    assert_eq!(
        set.keys.len(),
        8,
        "new keys published at once, old keys stay published"
    );
    let meanwhile = token(&st).await;
    let kid = jsonwebtoken::decode_header(&meanwhile)
        .unwrap()
        .kid
        .unwrap();
    assert_eq!(kid, old_kid, "the old key signs for the first moments");
    tokio::time::sleep(std::time::Duration::from_secs(
        tessera_core::keys::KEY_ACTIVATION_SECONDS as u64,
    ))
    .await;
    let after = token(&st).await;
    let new_kid = jsonwebtoken::decode_header(&after).unwrap().kid.unwrap();
    assert_ne!(
        old_kid, new_kid,
        "signs with the new key once it is published everywhere"
    );
    assert!(kids.contains(&new_kid));
    let set = jwks(&st.s, "acme-corp").await;
    assert_eq!(set.keys.len(), 8, "old keys stay published");
    let issuer = st.s.url("/orgs/acme-corp");
    verify_with(&set, &before, &issuer);
    verify_with(&set, &after, &issuer);
    assert_eq!(introspect(&st, INTROSPECT, &before).await["active"], true);
    let (_, log) = json(
        call(
            &st.s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?action=signing_keys.rotated",
            Some(&st.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn repeated_failed_client_authentication_is_braked_per_client_and_address() {
    let st = setup().await;
    // The quota of failures, and one more.
    let limit = tessera_core::limits::CLIENT_AUTH_FAILURES_PER_MINUTE;
    for _ in 0..=limit {
        let res = form(
            &st.s,
            TOKEN,
            Some((&st.id, "cs_live_guess")),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(res.status(), 401);
    }
    // Now even the right secret of this client from this address waits.
    let res = form(
        &st.s,
        TOKEN,
        Some((&st.id, &st.secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "60");
    let (_, v) = json(res).await;
    assert_eq!(v["error"], "temporarily_unavailable");
    let res = form(
        &st.s,
        INTROSPECT,
        Some((&st.id, &st.secret)),
        &[("token", "x")],
    )
    .await;
    assert_eq!(res.status(), 429, "introspection too");

    // Another client of the organization, from the same address, is not braked.
    let (other, other_secret) = client(
        &st.s,
        &st.admin,
        json!({"name": "Other", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let res = form(
        &st.s,
        TOKEN,
        Some((&other, &other_secret.unwrap())),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(res.status(), 200);

    // Nor is a client of the same id at another organization: failures at one organization
    // never lock out another's clients.
    st.s.org("globex").await;
    let globex = st.s.org_key("globex", &["admin"], &[]).await;
    let (st2, c) = json(
        call(
            &st.s,
            Method::POST,
            "/orgs/globex/api/v1/admin/oauth-clients",
            Some(&globex),
            Some(
                json!({"name": "Same id", "clientId": st.id, "redirectUris": [],
                        "grantTypes": ["client_credentials"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st2, 201, "{c}");
    let res = form(
        &st.s,
        "/orgs/globex/api/v1/oauth/token",
        Some((&st.id, c["secret"].as_str().unwrap())),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(res.status(), 200);
}

/// Finding 8: an unknown client, a wrong secret, a secret for a public client, no secret for
/// a confidential one, and introspection by a public client all answer the same
/// `invalid_client`, so client ids cannot be enumerated; the reason is in the audit log only.
#[tokio::test]
async fn failed_client_authentication_looks_the_same_whatever_the_reason() {
    let st = setup().await;
    let (public, _) = client(
        &st.s,
        &st.admin,
        json!({"name": "SPA", "isConfidential": false, "redirectUris": ["https://a.example/cb"]}),
    )
    .await;
    let cc = [("grant_type", "client_credentials")];
    let attempts: Vec<(reqwest::Response, &str)> = vec![
        (
            form(&st.s, TOKEN, Some(("nobody", "cs_live_x")), &cc).await,
            "unknown client",
        ),
        (
            form(&st.s, TOKEN, Some((&st.id, "cs_live_wrong")), &cc).await,
            "wrong or expired secret",
        ),
        (
            form(&st.s, TOKEN, Some((&public, "some secret")), &cc).await,
            "a secret sent for a public client",
        ),
        (
            form(
                &st.s,
                TOKEN,
                None,
                &[("grant_type", "client_credentials"), ("client_id", &st.id)],
            )
            .await,
            "no secret sent for a confidential client",
        ),
        (
            form(
                &st.s,
                INTROSPECT,
                None,
                &[("token", "x"), ("client_id", &public)],
            )
            .await,
            "introspection by a public client",
        ),
    ];
    let mut bodies = vec![];
    for (res, _) in attempts.iter() {
        assert_eq!(res.status(), 401);
    }
    let reasons: Vec<&str> = attempts.iter().map(|(_, r)| *r).collect();
    for (res, _) in attempts {
        let (_, v) = json(res).await;
        assert_eq!(v["error"], "invalid_client");
        bodies.push(v["error_description"].as_str().unwrap().to_owned());
    }
    assert!(
        bodies.iter().all(|b| b == "client authentication failed"),
        "{bodies:?}"
    );
    // The audit log tells them apart.
    let (_, log) = json(
        call(
            &st.s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?limit=20",
            Some(&st.admin),
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
    for r in reasons {
        assert!(recorded.contains(&r), "{r} in {recorded:?}");
    }
    let unknown = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["targetId"] == "nobody")
        .unwrap();
    assert_eq!(unknown["ip"], "127.0.0.1");
}

/// RFC 9068 §5: one `sub` never names both a user and a client. A client id equal to a user's
/// id is refused; and userinfo with a machine's token (the seed's "user or agent") answers
/// the client's own identity.
#[tokio::test]
async fn a_client_id_never_names_a_user_and_userinfo_describes_an_agent() {
    let st = setup().await;
    let s = &st.s;
    let user = s
        .services
        .create_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            tessera_core::users::NewUser {
                username: "alice".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (code, e) = json(
        call(
            s,
            Method::POST,
            ADMIN,
            Some(&st.admin),
            Some(
                json!({"name": "Impostor", "clientId": user.id.to_string(), "redirectUris": [],
                        "grantTypes": ["client_credentials"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(code, 400, "{e}");
    assert_eq!(e["details"][0]["field"], "clientId");
    assert!(e["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("RFC 9068"));

    // A machine with `openid`: userinfo names the client.
    let (id, secret) = client(
        s,
        &st.admin,
        json!({"name": "Reporting job", "redirectUris": [], "grantTypes": ["client_credentials"],
               "allowedScopes": ["openid", "reports.read"]}),
    )
    .await;
    let res = form(
        s,
        TOKEN,
        Some((&id, &secret.unwrap())),
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    let (_, t) = json(res).await;
    let (code, info) = json(
        s.http
            .get(s.url("/orgs/acme-corp/api/v1/oauth/userinfo"))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{info}");
    assert_eq!(info, json!({"sub": id, "name": "Reporting job"}));
}

/// RFC 9068 §2.1: RS256 access tokens are possible: `accessTokenSignedResponseAlg` chooses
/// the algorithm (ES256 by default) for every grant; introspection accepts each one.
#[tokio::test]
async fn clients_choose_how_their_access_tokens_are_signed() {
    let st = setup().await;
    let s = &st.s;
    let (code, e) = json(
        call(
            s,
            Method::POST,
            ADMIN,
            Some(&st.admin),
            Some(
                json!({"name": "Bad", "redirectUris": [], "grantTypes": ["client_credentials"],
                        "accessTokenSignedResponseAlg": "HS256"}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(e["details"][0]["field"], "accessTokenSignedResponseAlg");
    let set = jwks(s, "acme-corp").await;
    for alg in ["ES256", "RS256", "EdDSA"] {
        let (id, secret) = client(
            s,
            &st.admin,
            json!({"name": alg, "redirectUris": [], "grantTypes": ["client_credentials"],
                   "accessTokenSignedResponseAlg": alg}),
        )
        .await;
        let (_, c) = json(
            call(
                s,
                Method::GET,
                &format!("{ADMIN}/{id}"),
                Some(&st.admin),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(c["accessTokenSignedResponseAlg"], alg);
        let res = form(
            s,
            TOKEN,
            Some((&id, secret.as_deref().unwrap())),
            &[("grant_type", "client_credentials")],
        )
        .await;
        let (_, t) = json(res).await;
        let token = t["access_token"].as_str().unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg);
        verify_with(&set, token, &s.url("/orgs/acme-corp"));
        assert_eq!(
            introspect(&st, INTROSPECT, token).await["active"],
            true,
            "{alg}"
        );
    }
}
