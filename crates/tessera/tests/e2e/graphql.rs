//! The GraphQL admin API: every operation, parity with REST field by field, the same
//! validation fields, permissions, organizations, limits.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{call, json};

const GQL: &str = "/orgs/acme-corp/api/v1/admin/graphql";
const REST: &str = "/orgs/acme-corp/api/v1/admin/oauth-clients";

const CLIENT_FIELDS: &str = "id name description clientType isConfidential redirectUris \
    postLogoutRedirectUris allowedCorsOrigins allowedScopes grantTypes isActive requirePkce \
    requireConsent clientUri logoUri accessTokenLifetime refreshTokenLifetime \
    idTokenSignedResponseAlg accessTokenSignedResponseAlg userinfoSignedResponseAlg requestObjectSigningAlg tokenEndpointAuthMethod jwks jwksUri requirePushedAuthorizationRequests dpopBoundAccessTokens requireSignedRequestObject backchannelLogoutUri backchannelLogoutSessionRequired securityProfile tokenExchange { subjectClients allowImpersonation } \
    secrets { id hint createdAt expiresAt lastUsedAt } createdAt updatedAt";

async fn gql(
    s: &TestServer,
    path: &str,
    key: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Value) {
    let mut req = s
        .http
        .post(s.url(path))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    json(req.send().await.unwrap()).await
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

async fn acme() -> (TestServer, String) {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    (s, admin)
}

#[tokio::test]
async fn every_operation_works_and_matches_rest_field_by_field() {
    let (s, admin) = acme().await;
    let create = format!(
        "mutation($input: OauthClientInput!) {{ adminCreateOauthClient(input: $input) {{ secret client {{ {CLIENT_FIELDS} }} }} }}"
    );
    let body = json!({"name": "Backend", "description": "Nightly jobs", "redirectUris": ["https://app.example.com/cb"], "grantTypes": ["authorization_code", "refresh_token", "client_credentials"], "allowedScopes": ["openid", "read"], "allowedCorsOrigins": ["https://app.example.com"], "accessTokenLifetime": 600});

    // The same creation through both faces.
    let mut rest_body = body.clone();
    rest_body["clientId"] = json!("via-rest");
    let (st, rest) = json(call(&s, Method::POST, REST, Some(&admin), Some(rest_body)).await).await;
    assert_eq!(st, 201, "{rest}");
    let mut gql_body = body.clone();
    gql_body["clientId"] = json!("via-graphql");
    let (st, v) = gql(&s, GQL, Some(&admin), &create, json!({"input": gql_body})).await;
    assert_eq!(st, 200, "{v}");
    assert!(v.get("errors").is_none(), "{v}");
    let made = &v["data"]["adminCreateOauthClient"];
    assert!(
        made["secret"].as_str().unwrap().starts_with("cs_live_"),
        "secret once"
    );
    let same = |a: &Value, b: &Value| {
        let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
        let skip = ["id", "createdAt", "updatedAt", "secrets", "secret"];
        let ka: Vec<&String> = a.keys().filter(|k| !skip.contains(&k.as_str())).collect();
        let kb: Vec<&String> = b.keys().filter(|k| !skip.contains(&k.as_str())).collect();
        let (mut ka, mut kb) = (ka, kb);
        ka.sort();
        kb.sort();
        assert_eq!(ka, kb, "the same fields");
        for k in ka {
            assert_eq!(a[k], b[k], "field {k}");
        }
        assert_eq!(
            a["secrets"].as_array().unwrap().len(),
            b["secrets"].as_array().unwrap().len()
        );
    };
    same(&rest, &made["client"]);

    // Update through both: disable, clear the description, narrow the scopes.
    let patch = json!({"isActive": false, "description": null, "allowedScopes": ["openid"]});
    let (st, rest) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{REST}/via-rest"),
            Some(&admin),
            Some(patch.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let update = format!(
        "mutation($id: ID!, $input: OauthClientUpdateInput!) {{ adminUpdateOauthClient(id: $id, input: $input) {{ {CLIENT_FIELDS} }} }}"
    );
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        &update,
        json!({"id": "via-graphql", "input": patch}),
    )
    .await;
    assert!(v.get("errors").is_none(), "{v}");
    let updated = &v["data"]["adminUpdateOauthClient"];
    assert_eq!(updated["isActive"], false);
    assert_eq!(updated["description"], Value::Null);
    same(&rest, updated);

    // Read one and the list (the organization's two default clients and these two).
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        &format!("{{ adminOauthClient(id: \"via-graphql\") {{ {CLIENT_FIELDS} }} }}"),
        json!({}),
    )
    .await;
    let (_, rest) = json(
        call(
            &s,
            Method::GET,
            &format!("{REST}/via-rest"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    same(&rest, &v["data"]["adminOauthClient"]);
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "{ adminOauthClients(q: \"via\", limit: 1) { totalCount items { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(v["data"]["adminOauthClients"]["totalCount"], 2);
    assert_eq!(
        v["data"]["adminOauthClients"]["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "{ adminOauthClients { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(v["data"]["adminOauthClients"]["totalCount"], 4);

    // A new secret, the old one kept for a minute.
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "mutation { adminRegenerateOauthClientSecret(id: \"via-graphql\", previousSecretValidFor: 60) { secret client { secrets { id expiresAt } } } }",
        json!({}),
    )
    .await;
    let r = &v["data"]["adminRegenerateOauthClientSecret"];
    assert!(r["secret"].as_str().unwrap().starts_with("cs_live_"), "{v}");
    assert_eq!(r["client"]["secrets"].as_array().unwrap().len(), 2);

    // The audit log and the API keys.
    let (_, v) = gql(&s, GQL, Some(&admin), "{ adminAuditLog(limit: 5, action: \"oauth_client.created\") { id action targetId actor { type name } after } }", json!({})).await;
    let events = v["data"]["adminAuditLog"].as_array().unwrap();
    assert_eq!(events[0]["targetId"], "via-graphql", "{v}");
    assert_eq!(events[0]["actor"]["type"], "api_key");
    assert!(!v.to_string().contains("cs_live_"), "no secret in the log");
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "{ adminApiKeys { id name hint roles permissions createdAt } }",
        json!({}),
    )
    .await;
    assert!(v.get("errors").is_none(), "{v}");
    assert_eq!(v["data"]["adminApiKeys"][0]["roles"], json!(["admin"]));

    // Delete; then it is NOT_FOUND.
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "mutation { adminDeleteOauthClient(id: \"via-graphql\") }",
        json!({}),
    )
    .await;
    assert_eq!(v["data"]["adminDeleteOauthClient"], true);
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "{ adminOauthClient(id: \"via-graphql\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");

    // The /t/{org} alias serves the same API.
    let (st, v) = gql(
        &s,
        "/t/acme-corp/api/v1/admin/graphql",
        Some(&admin),
        "{ adminOauthClients { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        (st, v["data"]["adminOauthClients"]["totalCount"].as_i64()),
        (200, Some(3))
    );
}

#[tokio::test]
async fn errors_name_the_same_fields_and_the_same_rules_as_rest() {
    let (s, admin) = acme().await;
    let bad = json!({"name": "", "redirectUris": ["https://ok.example/cb", "https://app.example.com/cb#frag"], "grantTypes": ["magic"]});
    let (st, rest) =
        json(call(&s, Method::POST, REST, Some(&admin), Some(bad.clone())).await).await;
    assert_eq!(st, 400);
    let rest_fields: Vec<&str> = rest["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "mutation($input: OauthClientInput!) { adminCreateOauthClient(input: $input) { client { id } } }",
        json!({"input": bad}),
    )
    .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    let ext = &v["errors"][0]["extensions"];
    let gql_fields: Vec<&str> = ext["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(gql_fields, rest_fields);
    assert_eq!(ext["field"], rest_fields[0]);
    assert!(gql_fields.contains(&"redirectUris[1]"));

    // Another organization's client is NOT_FOUND, as in REST.
    s.org("globex").await;
    let globex = s.org_key("globex", &["admin"], &[]).await;
    let (_, v) = gql(
        &s,
        "/orgs/globex/api/v1/admin/graphql",
        Some(&globex),
        "{ adminOauthClient(id: \"tessera-cli\") { id } }",
        json!({}),
    )
    .await;
    assert!(v.get("errors").is_none(), "its own default client: {v}");
    let (_, v) = gql(
        &s,
        GQL,
        Some(&globex),
        "{ adminOauthClients { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            "/orgs/globex/api/v1/admin/oauth-clients",
            Some(&globex),
            Some(json!({"name": "Globex only", "clientId": "globex-only", "redirectUris": [], "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    for q in [
        "{ adminOauthClient(id: \"globex-only\") { id } }",
        "mutation { adminDeleteOauthClient(id: \"globex-only\") }",
        "mutation { adminRegenerateOauthClientSecret(id: \"globex-only\") { secret } }",
        "mutation { adminUpdateOauthClient(id: \"globex-only\", input: {isActive: false}) { id } }",
    ] {
        let (_, v) = gql(&s, GQL, Some(&admin), q, json!({})).await;
        assert_eq!(code(&v), "NOT_FOUND", "{q}: {v}");
    }

    // A viewer can query, not mutate.
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let (_, v) = gql(
        &s,
        GQL,
        Some(&viewer),
        "{ adminOauthClients { totalCount } }",
        json!({}),
    )
    .await;
    assert!(v.get("errors").is_none(), "{v}");
    let (_, v) = gql(
        &s,
        GQL,
        Some(&viewer),
        "mutation { adminDeleteOauthClient(id: \"tessera-cli\") }",
        json!({}),
    )
    .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("oauth-clients:delete"));

    // Nothing without a key, introspection included.
    let (st, v) = gql(&s, GQL, None, "{ __schema { types { name } } }", json!({})).await;
    assert_eq!((st, code(&v)), (401, "UNAUTHENTICATED"));
    let (st, v) = gql(
        &s,
        GQL,
        Some(&viewer),
        "{ __schema { queryType { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["data"]["__schema"]["queryType"]["name"], "Query");

    // Too deep.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(14),
        "} ".repeat(14)
    );
    let (_, v) = gql(&s, GQL, Some(&viewer), &deep, json!({})).await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{v}"
    );
    // Not a GraphQL request.
    let res = s
        .http
        .post(s.url(GQL))
        .bearer_auth(&viewer)
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn graphiql_is_served_with_its_assets_from_tessera_itself() {
    let (s, _) = acme().await;
    for path in [GQL, "/t/acme-corp/api/v1/admin/graphql"] {
        let res = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        let html = res.text().await.unwrap();
        assert!(html.contains(&format!("data-endpoint=\"{GQL}\"")), "{html}");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "nothing from the internet"
        );
        for asset in [
            "/assets/graphiql/react.production.min.js",
            "/assets/graphiql/react-dom.production.min.js",
            "/assets/graphiql/graphiql.min.js",
            "/assets/graphiql/graphiql.min.css",
            "/assets/graphiql/init.js",
        ] {
            assert!(html.contains(asset));
            let res = s.http.get(s.url(asset)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{asset}");
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/"));
            assert!(!res.bytes().await.unwrap().is_empty());
        }
    }
    let res = s
        .http
        .get(s.url("/assets/graphiql/secret.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// The introspection query GraphiQL sends (graphql-js `getIntrospectionQuery`) fits the limits.
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description specifiedByURL fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

#[tokio::test]
async fn the_explorers_introspection_query_is_answered_for_a_key_only() {
    let (s, admin) = acme().await;
    let (st, v) = gql(&s, GQL, Some(&admin), INTROSPECTION, json!({})).await;
    assert_eq!(st, 200);
    assert!(v.get("errors").is_none(), "{v}");
    let types = v["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "OauthClient"));
    let res = s
        .http
        .post(s.url(GQL))
        .json(&json!({"query": INTROSPECTION}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
}

/// GraphiQL starts in a real browser under the page's CSP, from Tessera's own assets.
#[tokio::test]
async fn graphiql_renders_in_a_real_browser() {
    let Some(chromium) = tessera_testkit::chromium() else {
        return;
    };
    let (s, _) = acme().await;
    let profile = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            // Small /dev/shm in containers crashes the renderer otherwise.
            "--disable-dev-shm-usage",
            // Nothing but 127.0.0.1: no update, sync, variations or safe-browsing calls.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pings",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=127.0.0.1",
            "--virtual-time-budget=10000",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            &s.url(GQL),
        ])
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("graphiql-container") && dom.contains("graphiql-sidebar"),
        "GraphiQL did not start: {dom}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A client's keys travel as JSON both ways; clearing the keys of a `private_key_jwt` client
/// is refused on `jwks`, as REST refuses it.
#[tokio::test]
async fn client_keys_are_json_in_graphql() {
    let (s, admin) = acme().await;
    let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
                                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]});
    let (st, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "mutation($input: OauthClientInput!) { adminCreateOauthClient(input: $input) { secret client { id tokenEndpointAuthMethod jwks } } }",
        json!({"input": {"clientId": "signer", "name": "Signer", "redirectUris": [],
                         "grantTypes": ["client_credentials"],
                         "tokenEndpointAuthMethod": "private_key_jwt", "jwks": jwks}}),
    )
    .await;
    assert_eq!(st, 200);
    assert!(v.get("errors").is_none(), "{v}");
    let made = &v["data"]["adminCreateOauthClient"];
    assert_eq!(
        made["secret"],
        Value::Null,
        "no secret for a private_key_jwt client"
    );
    assert_eq!(made["client"]["tokenEndpointAuthMethod"], "private_key_jwt");
    assert_eq!(made["client"]["jwks"], jwks);
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "mutation { adminUpdateOauthClient(id: \"signer\", input: {jwks: null}) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "jwks");
}

const RESOURCE_FIELDS: &str = "id identifier name description scopes { name description } \
    accessTokenLifetime accessTokenSignedResponseAlg allowedClients createdAt updatedAt";

/// API resources through GraphQL: the same objects as REST, field for field; the same
/// validation fields; a viewer reads and does not write.
#[tokio::test]
async fn api_resources_match_rest_field_by_field() {
    let (s, admin) = acme().await;
    let rest = "/orgs/acme-corp/api/v1/admin/api-resources";
    let create = format!(
        "mutation($input: ApiResourceInput!) {{ adminCreateApiResource(input: $input) {{ {RESOURCE_FIELDS} }} }}"
    );
    let input = json!({"identifier": "https://mcp.example.com/mcp", "name": "MCP",
        "scopes": [{"name": "tools.read", "description": "Read tools"}],
        "accessTokenLifetime": 600, "allowedClients": ["agent"]});
    let (st, v) = gql(&s, GQL, Some(&admin), &create, json!({"input": input})).await;
    assert_eq!(st, 200);
    let made = v["data"]["adminCreateApiResource"].clone();
    assert_eq!(made["allowedClients"], json!(["agent"]), "{v}");
    let id = made["id"].as_str().unwrap().to_owned();
    let (_, from_rest) =
        json(call(&s, Method::GET, &format!("{rest}/{id}"), Some(&admin), None).await).await;
    assert_eq!(made, from_rest, "GraphQL and REST show the same object");

    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        &format!("query {{ adminApiResources(q: \"mcp\") {{ totalCount items {{ {RESOURCE_FIELDS} }} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(v["data"]["adminApiResources"]["totalCount"], 1, "{v}");
    assert_eq!(v["data"]["adminApiResources"]["items"][0], from_rest);

    let update = format!(
        "mutation($id: ID!, $input: ApiResourceUpdateInput!) {{ adminUpdateApiResource(id: $id, input: $input) {{ {RESOURCE_FIELDS} }} }}"
    );
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        &update,
        json!({"id": id, "input": {"name": "Renamed", "accessTokenLifetime": null, "allowedClients": "*"}}),
    )
    .await;
    let updated = &v["data"]["adminUpdateApiResource"];
    assert_eq!(updated["name"], "Renamed", "{v}");
    assert_eq!(updated["accessTokenLifetime"], Value::Null);
    assert_eq!(updated["allowedClients"], "*");
    assert_eq!(updated["scopes"], from_rest["scopes"], "untouched");

    // Validation names the same fields as REST.
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        &create,
        json!({"input": {"identifier": "not a uri", "name": "X", "scopes": [{"name": "a b"}]}}),
    )
    .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    let fields: Vec<&str> = v["errors"][0]["extensions"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["identifier", "scopes[0].name"]);

    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let (_, v) = gql(
        &s,
        GQL,
        Some(&viewer),
        "query($id: ID!) { adminApiResource(id: $id) { name } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(v["data"]["adminApiResource"]["name"], "Renamed", "{v}");
    let (_, v) = gql(
        &s,
        GQL,
        Some(&viewer),
        "mutation($id: ID!) { adminDeleteApiResource(id: $id) }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    let (_, v) = gql(
        &s,
        GQL,
        Some(&admin),
        "mutation($id: ID!) { adminDeleteApiResource(id: $id) }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(v["data"]["adminDeleteApiResource"], true, "{v}");
}
