//! API resources over REST: create, list and search, get, PUT, PATCH, DELETE, the RFC 9728
//! metadata document, validation naming every field, permissions, audit, and organization
//! isolation.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{call, json};

const R: &str = "/orgs/acme-corp/api/v1/admin/api-resources";

async fn setup() -> (TestServer, String) {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    s.org("globex").await;
    let key = s.org_key("acme-corp", &["admin"], &[]).await;
    (s, key)
}

fn mcp() -> Value {
    json!({
        "identifier": "https://mcp.example.com/mcp",
        "name": "Example MCP server",
        "description": "Tools for agents",
        "scopes": [
            {"name": "tools.read", "description": "List and call read-only tools"},
            {"name": "tools.write", "description": "Call tools that change things"}
        ],
        "accessTokenLifetime": 900,
        "accessTokenSignedResponseAlg": "RS256",
        "allowedClients": ["agent"]
    })
}

fn fields(v: &Value) -> Vec<&str> {
    v["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_whole_life_of_a_resource() {
    let (s, key) = setup().await;
    let (st, created) = json(call(&s, Method::POST, R, Some(&key), Some(mcp())).await).await;
    assert_eq!(st, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["identifier"], "https://mcp.example.com/mcp");
    assert_eq!(created["scopes"][0]["name"], "tools.read");
    assert_eq!(
        created["scopes"][0]["description"],
        "List and call read-only tools"
    );
    assert_eq!(created["accessTokenLifetime"], 900);
    assert_eq!(created["accessTokenSignedResponseAlg"], "RS256");
    assert_eq!(created["allowedClients"], json!(["agent"]));
    // RFC 3339 in UTC with exactly three fractional digits, as every timestamp.
    for field in ["createdAt", "updatedAt"] {
        let t = created[field].as_str().unwrap();
        assert!(
            t.len() == 24 && t.ends_with('Z') && t.as_bytes()[19] == b'.',
            "{field}: {t}"
        );
    }

    // The same identifier twice in one organization: 409.
    let (st, v) = json(call(&s, Method::POST, R, Some(&key), Some(mcp())).await).await;
    assert_eq!((st, v["error"].as_str()), (409, Some("conflict")), "{v}");

    let (st, got) = json(call(&s, Method::GET, &format!("{R}/{id}"), Some(&key), None).await).await;
    assert_eq!((st, &got), (200, &created));

    // A second one; the list is newest first, searchable by name and identifier.
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            R,
            Some(&key),
            Some(json!({"identifier": "urn:acme:billing", "name": "Billing API"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let res = call(&s, Method::GET, R, Some(&key), None).await;
    assert_eq!(res.headers()["x-total-count"], "2");
    let (_, list) = json(res).await;
    assert_eq!(list[0]["identifier"], "urn:acme:billing");
    assert_eq!(list[0]["allowedClients"], "*", "every client by default");
    assert_eq!(list[0]["accessTokenLifetime"], Value::Null);
    let (_, found) =
        json(call(&s, Method::GET, &format!("{R}?q=MCP"), Some(&key), None).await).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, found) = json(
        call(
            &s,
            Method::GET,
            &format!("{R}?q=acme:bill"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(found[0]["name"], "Billing API");
    let (st, v) =
        json(call(&s, Method::GET, &format!("{R}?limit=0"), Some(&key), None).await).await;
    assert_eq!((st, fields(&v)), (400, vec!["limit"]));

    // PUT replaces everything; the GET answer can be sent back as it is.
    let mut body = got.clone();
    body["name"] = json!("Renamed MCP");
    body["scopes"] = json!([{"name": "tools.read"}]);
    let (st, put) = json(
        call(
            &s,
            Method::PUT,
            &format!("{R}/{id}"),
            Some(&key),
            Some(body),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{put}");
    assert_eq!(put["name"], "Renamed MCP");
    assert_eq!(
        put["scopes"],
        json!([{"name": "tools.read", "description": null}])
    );
    assert_eq!(put["createdAt"], created["createdAt"]);

    // PATCH: a JSON merge patch; null clears an optional setting.
    let (st, patched) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{R}/{id}"),
            Some(&key),
            Some(json!({"accessTokenLifetime": null, "allowedClients": "*"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{patched}");
    assert_eq!(patched["accessTokenLifetime"], Value::Null);
    assert_eq!(patched["allowedClients"], "*");
    assert_eq!(patched["name"], "Renamed MCP", "untouched");
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{R}/{id}"),
            Some(&key),
            Some(json!({"identifier": "urn:acme:billing"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 409, "an identifier taken by the other resource: {v}");
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{R}/{id}"),
            Some(&key),
            Some(json!({"audience": "x"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "an unknown member: {v}");
    assert!(
        v.to_string().contains("audience"),
        "the unknown member is named: {v}"
    );
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{R}/{id}"),
            Some(&key),
            Some(json!({"accessTokenLifetime": "soon"})),
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["accessTokenLifetime"]), "{v}");

    // The audit log holds the three changes.
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?action=api_resource.updated",
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");

    let (st, _) =
        json(call(&s, Method::DELETE, &format!("{R}/{id}"), Some(&key), None).await).await;
    assert_eq!(st, 204);
    let (st, v) = json(call(&s, Method::GET, &format!("{R}/{id}"), Some(&key), None).await).await;
    assert_eq!((st, v["error"].as_str()), (404, Some("not_found")));
    let (st, _) =
        json(call(&s, Method::DELETE, &format!("{R}/{id}"), Some(&key), None).await).await;
    assert_eq!(st, 404);
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?action=api_resource.deleted",
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(log[0]["targetId"], id.as_str(), "{log}");
}

#[tokio::test]
async fn the_protected_resource_metadata_document() {
    let (s, key) = setup().await;
    let (_, created) = json(call(&s, Method::POST, R, Some(&key), Some(mcp())).await).await;
    let id = created["id"].as_str().unwrap();
    let (st, doc) = json(
        call(
            &s,
            Method::GET,
            &format!("{R}/{id}/metadata"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{doc}");
    // RFC 9728 §2: the resource, its authorization server (the organization's issuer, whose
    // discovery document is at its RFC 8414 well-known URL), scopes and bearer methods.
    assert_eq!(doc["resource"], "https://mcp.example.com/mcp");
    let issuer = doc["authorization_servers"][0].as_str().unwrap();
    assert!(issuer.ends_with("/orgs/acme-corp"), "{issuer}");
    assert_eq!(
        doc["scopes_supported"],
        json!(["tools.read", "tools.write"])
    );
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    assert_eq!(doc["resource_name"], "Example MCP server");
    let path = issuer
        .split_once("://")
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .1;
    let (st, disco) = json(
        call(
            &s,
            Method::GET,
            &format!("/{path}/.well-known/openid-configuration"),
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((st, disco["issuer"].as_str()), (200, Some(issuer)));
}

#[tokio::test]
async fn every_bad_field_is_named() {
    let (s, key) = setup().await;
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            R,
            Some(&key),
            Some(json!({
                "identifier": "https://api.example.com/#x",
                "name": " ",
                "scopes": [{"name": "has space"}, {"name": "ok"}, {"name": "ok"}],
                "accessTokenLifetime": 10,
                "accessTokenSignedResponseAlg": "none",
                "allowedClients": ["bad id with spaces"]
            })),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{v}");
    let f = fields(&v);
    for want in [
        "identifier",
        "name",
        "scopes[0].name",
        "scopes[2].name",
        "accessTokenLifetime",
        "accessTokenSignedResponseAlg",
        "allowedClients[0]",
    ] {
        assert!(f.contains(&want), "{want} not named: {v}");
    }
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            R,
            Some(&key),
            Some(json!({"identifier": "not a uri", "name": "x"})),
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["identifier"]));
    let (st, _) = json(
        call(
            &s,
            Method::GET,
            &format!("{R}/not-a-uuid"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn permissions_and_organizations() {
    let (s, admin) = setup().await;
    let (_, created) = json(call(&s, Method::POST, R, Some(&admin), Some(mcp())).await).await;
    let id = created["id"].as_str().unwrap().to_owned();

    // The viewer role reads, and only reads.
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let (st, _) =
        json(call(&s, Method::GET, &format!("{R}/{id}"), Some(&viewer), None).await).await;
    assert_eq!(st, 200);
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{R}/{id}"),
            Some(&viewer),
            Some(json!({"name": "x"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    assert!(v.to_string().contains("api-resources:edit"), "{v}");
    for (method, path, perm) in [
        (Method::POST, R.to_owned(), "api-resources:create"),
        (Method::DELETE, format!("{R}/{id}"), "api-resources:delete"),
    ] {
        let (st, v) = json(call(&s, method, &path, Some(&viewer), Some(mcp())).await).await;
        assert_eq!(st, 403, "{path}");
        assert!(v.to_string().contains(perm), "{v}");
    }
    // A key with only the read permission, and one without it.
    let reader = s.org_key("acme-corp", &[], &["api-resources:read"]).await;
    let (st, _) = json(call(&s, Method::GET, R, Some(&reader), None).await).await;
    assert_eq!(st, 200);
    let clients_only = s.org_key("acme-corp", &[], &["oauth-clients:read"]).await;
    let (st, v) = json(call(&s, Method::GET, R, Some(&clients_only), None).await).await;
    assert_eq!(st, 403);
    assert!(v.to_string().contains("api-resources:read"), "{v}");

    // Another organization's key sees nothing of acme's, and its own list is empty.
    let globex = s.org_key("globex", &["owner"], &[]).await;
    let (st, _) =
        json(call(&s, Method::GET, &format!("{R}/{id}"), Some(&globex), None).await).await;
    assert!(st == 403 || st == 404, "{st}");
    let g = "/orgs/globex/api/v1/admin/api-resources";
    let (st, _) =
        json(call(&s, Method::GET, &format!("{g}/{id}"), Some(&globex), None).await).await;
    assert_eq!(st, 404, "acme's resource is not globex's");
    let (_, list) = json(call(&s, Method::GET, g, Some(&globex), None).await).await;
    assert_eq!(list, json!([]));
    // The same identifier is free in another organization.
    let (st, _) = json(call(&s, Method::POST, g, Some(&globex), Some(mcp())).await).await;
    assert_eq!(st, 201);
}

/// A confidential `client_credentials` client of acme: (id, secret).
async fn machine(s: &TestServer, key: &str, id: &str) -> (String, String) {
    let (st, c) = json(
        call(
            s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/oauth-clients",
            Some(key),
            Some(json!({"clientId": id, "name": id, "redirectUris": [],
                "grantTypes": ["client_credentials"], "allowedScopes": ["own.scope"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    (id.to_owned(), c["secret"].as_str().unwrap().to_owned())
}

async fn post_form(
    s: &TestServer,
    path: &str,
    (id, secret): (&str, &str),
    params: &[(&str, &str)],
) -> (u16, Value) {
    json(
        s.http
            .post(s.url(path))
            .basic_auth(id, Some(secret))
            .form(params)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

const TOKEN: &str = "/orgs/acme-corp/api/v1/oauth/token";
const INTROSPECT: &str = "/orgs/acme-corp/api/v1/oauth/introspect";

/// RFC 8707 at the token endpoint: a token audience-bound to the resources asked for, their
/// scopes, lifetime and algorithm; unknown and disallowed resources are `invalid_target`; a
/// resource server introspecting a token meant for another resource finds it inactive.
#[tokio::test]
async fn resource_indicators_bind_tokens_to_api_resources() {
    let (s, key) = setup().await;
    let (agent, agent_secret) = machine(&s, &key, "agent").await;
    let (other, other_secret) = machine(&s, &key, "other").await;
    let (rs, rs_secret) = machine(&s, &key, "resource-server").await;
    let (st, _) = json(call(&s, Method::POST, R, Some(&key), Some(mcp())).await).await;
    assert_eq!(st, 201);
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            R,
            Some(&key),
            Some(json!({"identifier": "urn:acme:billing", "name": "Billing",
                "scopes": [{"name": "invoices.read"}]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let agent_auth = (agent.as_str(), agent_secret.as_str());
    let cc = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![("grant_type", "client_credentials")];
        p.extend_from_slice(extra);
        p
    };

    // One resource: its identifier is the audience, its scopes the default, its lifetime
    // and algorithm the token's.
    let (st, v) = post_form(
        &s,
        TOKEN,
        agent_auth,
        &cc(&[("resource", "https://mcp.example.com/mcp")]),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["expires_in"], 900);
    assert_eq!(v["scope"], "tools.read tools.write");
    let mcp_token = v["access_token"].as_str().unwrap().to_owned();
    let c = claims(&mcp_token);
    assert_eq!(c["aud"], "https://mcp.example.com/mcp");
    let header = mcp_token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256", "the resource's algorithm");

    // A scope of the resource, or of the client itself; anything else is invalid_scope.
    let (st, v) = post_form(
        &s,
        TOKEN,
        agent_auth,
        &cc(&[
            ("resource", "https://mcp.example.com/mcp"),
            ("scope", "tools.read own.scope"),
        ]),
    )
    .await;
    assert_eq!(
        (st, v["scope"].as_str()),
        (200, Some("tools.read own.scope")),
        "{v}"
    );
    let (st, v) = post_form(
        &s,
        TOKEN,
        agent_auth,
        &cc(&[
            ("resource", "https://mcp.example.com/mcp"),
            ("scope", "invoices.read"),
        ]),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_scope")),
        "{v}"
    );

    // The billing API allows every client; the MCP server only `agent`.
    let (st, v) = post_form(
        &s,
        TOKEN,
        (&other, &other_secret),
        &cc(&[("resource", "https://mcp.example.com/mcp")]),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("does not allow this client"));
    let (st, v) = post_form(
        &s,
        TOKEN,
        (&other, &other_secret),
        &cc(&[("resource", "urn:acme:billing")]),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let billing_token = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(v["expires_in"], 3600, "the client's own lifetime");

    // An unknown resource, and another organization's.
    let (st, v) = post_form(
        &s,
        TOKEN,
        agent_auth,
        &cc(&[("resource", "https://unknown.example.com/")]),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("https://unknown.example.com/"));

    // Two resources: both in the audience, every scope of both.
    let (st, v) = post_form(
        &s,
        TOKEN,
        agent_auth,
        &cc(&[
            ("resource", "https://mcp.example.com/mcp"),
            ("resource", "urn:acme:billing"),
        ]),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "tools.read tools.write invoices.read");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["aud"],
        json!(["https://mcp.example.com/mcp", "urn:acme:billing"])
    );
    // Other parameters still may not repeat.
    let (st, v) = post_form(
        &s,
        TOKEN,
        agent_auth,
        &cc(&[("scope", "tools.read"), ("scope", "tools.write")]),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );

    // The resource server of billing introspects: the MCP token is not meant for it, the
    // billing token is; without `resource`, both are active.
    let rs_auth = (rs.as_str(), rs_secret.as_str());
    let (_, v) = post_form(
        &s,
        INTROSPECT,
        rs_auth,
        &[("token", &mcp_token), ("resource", "urn:acme:billing")],
    )
    .await;
    assert_eq!(v, json!({"active": false}));
    let (_, v) = post_form(
        &s,
        INTROSPECT,
        rs_auth,
        &[("token", &billing_token), ("resource", "urn:acme:billing")],
    )
    .await;
    assert_eq!(
        (v["active"].as_bool(), v["aud"].as_str()),
        (Some(true), Some("urn:acme:billing"))
    );
    let (_, v) = post_form(&s, INTROSPECT, rs_auth, &[("token", &mcp_token)]).await;
    assert_eq!(v["active"], true);

    // A resource deleted: asking for it is invalid_target at once.
    let (_, list) =
        json(call(&s, Method::GET, &format!("{R}?q=billing"), Some(&key), None).await).await;
    let id = list[0]["id"].as_str().unwrap();
    call(&s, Method::DELETE, &format!("{R}/{id}"), Some(&key), None).await;
    let (st, v) = post_form(
        &s,
        TOKEN,
        (&other, &other_secret),
        &cc(&[("resource", "urn:acme:billing")]),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );
}

/// RFC 8707 with the password grant: the token for the resource asked for, its refresh token
/// keeping the resource; an unknown resource refused before the password is tried.
#[tokio::test]
async fn resource_indicators_with_the_password_grant() {
    let s = TestServer::start().await;
    let key = crate::support::acme_with_alice(&s).await;
    let (st, _) = json(call(&s, Method::POST, R, Some(&key), Some(mcp())).await).await;
    assert_eq!(st, 201);
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/oauth-clients",
            Some(&key),
            Some(
                json!({"clientId": "agent", "name": "First-party agent", "redirectUris": [],
                "grantTypes": ["password", "refresh_token"], "allowedScopes": ["openid"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let auth = ("agent", c["secret"].as_str().unwrap());
    let password = |resource: &'static str| {
        let auth = (auth.0, auth.1);
        let s = &s;
        async move {
            post_form(
                s,
                TOKEN,
                auth,
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", "correct horse battery"),
                    ("scope", "openid tools.read"),
                    ("resource", resource),
                ],
            )
            .await
        }
    };
    let (st, v) = password("https://unknown.example.com/").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_target")),
        "{v}"
    );
    let (st, v) = password("https://mcp.example.com/mcp").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "openid tools.read");
    assert_eq!(v["expires_in"], 900);
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["aud"],
        "https://mcp.example.com/mcp"
    );
    let (st, v) = post_form(
        &s,
        TOKEN,
        auth,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", v["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["aud"],
        "https://mcp.example.com/mcp",
        "the refresh token keeps the resource"
    );
}
