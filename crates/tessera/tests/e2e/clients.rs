//! The OAuth client registry over REST: every row of the admin API table for clients, the
//! seeds' examples verbatim, the validation rules, secrets shown once, audit, permissions and
//! organization isolation.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_domain::client::ClientId;
use tessera_testkit::TestServer;

use crate::support::{call, json};

const T: &str = "/t/acme-corp/api/v1/admin/oauth-clients";
use crate::support::ACME_CLIENTS as O;

async fn setup() -> (TestServer, String) {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let key = s.org_key("acme-corp", &["admin"], &[]).await;
    (s, key)
}

async fn verify(s: &TestServer, client_id: &str, secret: &str) -> bool {
    let org = s
        .services
        .get_org(&tessera_core::Context::cli(), "acme-corp", None)
        .await
        .unwrap();
    s.services
        .verify_client_secret(org.id, &ClientId::parse(client_id).unwrap(), secret)
        .await
        .unwrap()
}

fn fields(v: &Value) -> Vec<String> {
    v["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn seed_examples_work_verbatim_on_the_alias() {
    let (s, key) = setup().await;
    // "Create Confidential Client"
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            T,
            Some(&key),
            Some(json!({
                "name": "Backend Service",
                "redirectUris": ["https://api.example.com/callback"],
                "isConfidential": true,
                "grantTypes": ["client_credentials"],
                "allowedScopes": ["admin.read", "admin.write"]
            })),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let secret = c["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("cs_live_") && secret.len() == 8 + 43,
        "{secret}"
    );
    assert_eq!(c["clientType"], "confidential");
    assert_eq!(c["grantTypes"], json!(["client_credentials"]));
    assert_eq!(c["allowedScopes"], json!(["admin.read", "admin.write"]));
    assert_eq!(
        uuid::Uuid::parse_str(c["id"].as_str().unwrap()).map(|u| u.get_version_num()),
        Ok(4)
    );
    assert_eq!(c["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(
        c["secrets"][0]["hint"].as_str().unwrap(),
        format!("…{}", &secret[secret.len() - 4..])
    );
    assert!(verify(&s, c["id"].as_str().unwrap(), secret).await);

    // "Create Public Client (SPA)"
    let (st, spa) = json(
        call(
            &s,
            Method::POST,
            T,
            Some(&key),
            Some(json!({
                "name": "React Dashboard",
                "isConfidential": false,
                "redirectUris": [
                    "http://localhost:3000/callback",
                    "https://dashboard.example.com/callback"
                ],
                "grantTypes": ["authorization_code", "refresh_token"],
                "allowedScopes": ["openid", "profile"]
            })),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{spa}");
    assert_eq!(spa.get("secret"), None, "a public client has no secret");
    assert_eq!(spa["clientType"], "public");
    assert_eq!(spa["requirePkce"], true);
    assert_eq!(spa["secrets"], json!([]));
    let fields_expected = [
        "id",
        "name",
        "description",
        "clientType",
        "isConfidential",
        "redirectUris",
        "postLogoutRedirectUris",
        "allowedCorsOrigins",
        "allowedScopes",
        "grantTypes",
        "isActive",
        "requirePkce",
        "requireConsent",
        "clientUri",
        "logoUri",
        "accessTokenLifetime",
        "refreshTokenLifetime",
        "idTokenSignedResponseAlg",
        "accessTokenSignedResponseAlg",
        "userinfoSignedResponseAlg",
        "requestObjectSigningAlg",
        "tokenEndpointAuthMethod",
        "jwks",
        "jwksUri",
        "tokenExchange",
        "secrets",
        "createdAt",
        "updatedAt",
        "requirePushedAuthorizationRequests",
        "dpopBoundAccessTokens",
        "requireSignedRequestObject",
        "backchannelLogoutUri",
        "backchannelLogoutSessionRequired",
        "securityProfile",
    ];
    let mut got: Vec<&str> = spa
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    got.sort_unstable();
    let mut want = fields_expected.to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[tokio::test]
async fn the_secret_is_shown_once_and_nowhere_else() {
    let (s, key) = setup().await;
    let (_, c) = json(
        call(
            &s,
            Method::POST,
            O,
            Some(&key),
            Some(json!({"name": "App", "redirectUris": ["https://a.example/cb"]})),
        )
        .await,
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let secret = c["secret"].as_str().unwrap().to_owned();
    let tail = &secret[8..];
    for path in [
        format!("{O}/{id}"),
        O.to_owned(),
        "/orgs/acme-corp/api/v1/admin/audit-log".to_owned(),
    ] {
        let text = call(&s, Method::GET, &path, Some(&key), None)
            .await
            .text()
            .await
            .unwrap();
        assert!(!text.contains(tail), "{path} leaks the secret");
        assert!(!text.contains("\"secret\""), "{path} has a secret field");
    }
    let (_, regen) = json(
        call(
            &s,
            Method::POST,
            &format!("{O}/{id}/secret"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    let new = regen["secret"].as_str().unwrap();
    let text = call(
        &s,
        Method::GET,
        "/orgs/acme-corp/api/v1/admin/audit-log",
        Some(&key),
        None,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(!text.contains(&new[8..]), "audit never holds a secret");
    assert!(!text.contains("hmac-sha256"), "nor a hash");
}

#[tokio::test]
async fn rules_are_400s_naming_the_field() {
    let (s, key) = setup().await;
    let post = |body: Value| {
        let s = &s;
        let key = key.clone();
        async move { json(call(s, Method::POST, O, Some(&key), Some(body)).await).await }
    };
    let (st, v) = post(json!({"name": "Pub", "isConfidential": false, "redirectUris": ["https://a.example/cb"], "grantTypes": ["authorization_code", "client_credentials"]})).await;
    assert_eq!(st, 400);
    assert_eq!(fields(&v), ["grantTypes[1]"]);
    assert!(v["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("public client"));
    let (_, v) = post(json!({"name": "Pub", "isConfidential": false, "redirectUris": [], "grantTypes": ["password"]})).await;
    assert_eq!(fields(&v), ["grantTypes[0]"]);

    let (st, v) = post(json!({"name": "App", "redirectUris": [
        "https://a.example/cb", "https://a.example/cb#frag", "http://evil.example/cb",
        "relative/cb", "https://a.example/cb", "javascript:alert(1)"
    ]}))
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        fields(&v),
        [
            "redirectUris[1]",
            "redirectUris[2]",
            "redirectUris[3]",
            "redirectUris[4]",
            "redirectUris[5]"
        ],
        "{v}"
    );

    let (_, v) = post(json!({"name": "App", "redirectUris": ["https://a.example/cb"],
        "allowedCorsOrigins": ["https://a.example/", "https://a.example/path", "https://ok.example"],
        "allowedScopes": ["openid", "profile", "admin.read", "octo_api.read_only", "has space", "quo\"te"],
        "grantTypes": ["authorization_code", "implicit"],
        "accessTokenLifetime": 0, "refreshTokenLifetime": -5,
        "clientUri": "ftp://x.example"})).await;
    assert_eq!(
        fields(&v),
        [
            "allowedCorsOrigins[0]",
            "allowedCorsOrigins[1]",
            "allowedScopes[4]",
            "allowedScopes[5]",
            "grantTypes[1]",
            "clientUri",
            "accessTokenLifetime",
            "refreshTokenLifetime"
        ],
        "{v}"
    );
    let (_, v) =
        post(json!({"name": "x".repeat(201), "redirectUris": ["https://a.example/cb"]})).await;
    assert_eq!(fields(&v), ["name"]);
    let (_, v) = post(json!({"name": "  ", "redirectUris": ["https://a.example/cb"]})).await;
    assert_eq!(fields(&v), ["name"]);
    let (_, v) = post(json!({"redirectUris": ["https://a.example/cb"]})).await;
    assert_eq!(fields(&v), ["name"], "missing name: {v}");
    // Every rule at once: a missing name and a missing redirect URI are both named.
    let (_, v) = post(json!({"redirectUris": []})).await;
    assert_eq!(fields(&v), ["name", "redirectUris"], "{v}");
    let (_, v) = post(json!({"name": "App"})).await;
    assert_eq!(fields(&v), ["redirectUris"], "missing redirectUris: {v}");
    let (_, v) = post(json!({"name": "App", "redirectUris": []})).await;
    assert_eq!(
        fields(&v),
        ["redirectUris"],
        "authorization_code needs a redirect URI: {v}"
    );
    let (st, _) =
        post(json!({"name": "M2M", "redirectUris": [], "grantTypes": ["client_credentials"]}))
            .await;
    assert_eq!(st, 201, "no redirect needed without authorization_code");
    let (_, v) = post(json!({"name": "App", "redirectUris": [], "colour": "red"})).await;
    assert_eq!(fields(&v), ["colour"]);
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("unknown field `colour`"));
    let (_, v) =
        post(json!({"name": "App", "redirectUris": ["https://a.example/cb"], "isActive": "yes"}))
            .await;
    assert_eq!(fields(&v), ["isActive"], "{v}");
    let (_, v) = post(json!({"name": "App", "redirectUris": ["https://a.example/cb", 7]})).await;
    assert_eq!(fields(&v), ["redirectUris[1]"], "{v}");
    let (_, v) = post(json!({"name": "App", "redirectUris": [], "grantTypes": ["client_credentials"], "clientId": "has space"})).await;
    assert_eq!(fields(&v), ["clientId"]);
}

#[tokio::test]
async fn trailing_slash_is_another_registration() {
    let (s, key) = setup().await;
    let (st, c) = json(call(&s, Method::POST, O, Some(&key), Some(json!({"name": "App", "redirectUris": ["https://a.example/callback", "https://a.example/callback/"]}))).await).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(
        c["redirectUris"],
        json!(["https://a.example/callback", "https://a.example/callback/"])
    );
}

#[tokio::test]
async fn chosen_ids_are_unique_and_immutable() {
    let (s, key) = setup().await;
    let body = json!({"name": "CLI", "clientId": "acme-cli", "isConfidential": false, "redirectUris": ["http://127.0.0.1:9000/cb"]});
    let (st, c) = json(call(&s, Method::POST, O, Some(&key), Some(body.clone())).await).await;
    assert_eq!((st, c["id"].as_str()), (201, Some("acme-cli")));
    let (st, v) = json(call(&s, Method::POST, O, Some(&key), Some(body)).await).await;
    assert_eq!(st, 409);
    assert_eq!(
        v["error_description"],
        "client id 'acme-cli' already exists in this organization"
    );
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{O}/acme-cli"),
            Some(&key),
            Some(json!({"clientId": "renamed"})),
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["clientId".to_owned()]));
    // A GET body sent back as a PUT is accepted (read-only fields are ignored).
    let (_, mut got) =
        json(call(&s, Method::GET, &format!("{O}/acme-cli"), Some(&key), None).await).await;
    got["name"] = json!("CLI v2");
    let (st, put) = json(
        call(
            &s,
            Method::PUT,
            &format!("{O}/acme-cli"),
            Some(&key),
            Some(got.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{put}");
    assert_eq!(put["name"], "CLI v2");
    got["id"] = json!("other");
    let (st, v) = json(
        call(
            &s,
            Method::PUT,
            &format!("{O}/acme-cli"),
            Some(&key),
            Some(got),
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["id".to_owned()]));
}

#[tokio::test]
async fn list_searches_pages_and_counts() {
    let (s, key) = setup().await;
    for i in 0..12 {
        let name = if i % 3 == 0 {
            format!("Mobile App {i}")
        } else {
            format!("Service {i}")
        };
        let (st, _) = json(call(&s, Method::POST, O, Some(&key), Some(json!({"name": name, "clientId": format!("client-{i:02}"), "redirectUris": [], "grantTypes": ["client_credentials"]}))).await).await;
        assert_eq!(st, 201);
    }
    let res = call(
        &s,
        Method::GET,
        &format!("{O}?limit=5&offset=0"),
        Some(&key),
        None,
    )
    .await;
    // The twelve and the organization's two default clients.
    assert_eq!(res.headers()["x-total-count"], "14");
    let (_, page1) = json(res).await;
    let ids: Vec<&str> = page1
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "client-11",
            "client-10",
            "client-09",
            "client-08",
            "client-07"
        ],
        "newest first"
    );
    let (_, page3) = json(
        call(
            &s,
            Method::GET,
            &format!("{O}?limit=5&offset=10"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(page3.as_array().unwrap().len(), 4);
    let res = call(&s, Method::GET, &format!("{O}?q=mobile"), Some(&key), None).await;
    assert_eq!(res.headers()["x-total-count"], "4");
    let res = call(
        &s,
        Method::GET,
        &format!("{O}?q=CLIENT-0"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(res.headers()["x-total-count"], "10", "by id, any case");
    let (st, v) = json(
        call(
            &s,
            Method::GET,
            &format!("{O}?limit=1000"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["limit".to_owned()]));
    let (st, _) = json(
        call(
            &s,
            Method::GET,
            &format!("{O}?order=name"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "unknown query parameters are refused");
}

#[tokio::test]
async fn enable_disable_replace_and_delete_are_audited_at_once() {
    let (s, key) = setup().await;
    let (_, c) = json(call(&s, Method::POST, O, Some(&key), Some(json!({"name": "App", "redirectUris": ["https://a.example/cb"], "allowedScopes": ["openid"]}))).await).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let one = format!("{O}/{id}");
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &one,
            Some(&key),
            Some(json!({"isActive": false})),
        )
        .await,
    )
    .await;
    assert_eq!((st, v["isActive"].as_bool()), (200, Some(false)));
    assert_eq!(v["name"], "App", "the rest is unchanged");
    assert_eq!(v.get("secret"), None);
    let (_, got) = json(call(&s, Method::GET, &one, Some(&key), None).await).await;
    assert_eq!(got["isActive"], false, "reflected at once");
    let (_, v) = json(
        call(
            &s,
            Method::PATCH,
            &one,
            Some(&key),
            Some(json!({"isActive": true})),
        )
        .await,
    )
    .await;
    assert_eq!(v["isActive"], true);

    let (st, v) = json(call(&s, Method::PUT, &one, Some(&key), Some(json!({"name": "App 2", "redirectUris": ["https://a.example/cb2"], "description": "d"}))).await).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["redirectUris"], json!(["https://a.example/cb2"]));
    assert_eq!(
        v["allowedScopes"],
        json!(["openid", "profile"]),
        "PUT replaces: an omitted field takes its default"
    );
    assert_eq!(v["createdAt"], c["createdAt"]);
    assert_eq!(
        v["secrets"].as_array().unwrap().len(),
        1,
        "the secret survives an edit"
    );
    let (_, v) = json(
        call(
            &s,
            Method::PATCH,
            &one,
            Some(&key),
            Some(json!({"description": null})),
        )
        .await,
    )
    .await;
    assert_eq!(v["description"], Value::Null);
    let (st, v) = json(
        call(
            &s,
            Method::PATCH,
            &one,
            Some(&key),
            Some(json!({"redirectUris": ["https://a.example/cb#x"]})),
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["redirectUris[0]".to_owned()]));

    assert_eq!(
        call(&s, Method::DELETE, &one, Some(&key), None)
            .await
            .status(),
        204
    );
    assert_eq!(
        call(&s, Method::GET, &one, Some(&key), None).await.status(),
        404
    );
    assert_eq!(
        call(&s, Method::DELETE, &one, Some(&key), None)
            .await
            .status(),
        404
    );

    let (_, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?limit=20",
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["targetId"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "oauth_client.deleted",
            "oauth_client.updated",
            "oauth_client.updated",
            "oauth_client.enabled",
            "oauth_client.disabled",
            "oauth_client.created"
        ]
    );
    let updated = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "oauth_client.updated")
        .unwrap();
    assert_eq!(updated["before"]["name"], "App 2");
    assert_eq!(updated["after"]["description"], Value::Null);
    assert_eq!(
        updated["before"]["secrets"],
        json!([]),
        "audit pictures carry no secret metadata"
    );
    let created = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "oauth_client.created")
        .unwrap();
    assert_eq!(created["after"]["name"], "App");
    assert_eq!(created["actor"]["type"], "api_key");
}

#[tokio::test]
async fn secrets_regenerate_with_grace_or_are_chosen() {
    let (s, key) = setup().await;
    let (_, c) = json(call(&s, Method::POST, O, Some(&key), Some(json!({"name": "Backend", "redirectUris": [], "grantTypes": ["client_credentials"]}))).await).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let first = c["secret"].as_str().unwrap().to_owned();
    let path = format!("{O}/{id}/secret");

    // Plain regeneration: the old secret dies at once.
    let (st, r) = json(call(&s, Method::POST, &path, Some(&key), None).await).await;
    assert_eq!(st, 200, "{r}");
    let second = r["secret"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert!(!verify(&s, &id, &first).await);
    assert!(verify(&s, &id, &second).await);
    assert_eq!(r["secrets"].as_array().unwrap().len(), 1);

    // With a grace period both work, and the old one shows its expiry.
    let (_, r) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&key),
            Some(json!({"previousSecretValidFor": 3600})),
        )
        .await,
    )
    .await;
    let third = r["secret"].as_str().unwrap().to_owned();
    assert!(verify(&s, &id, &second).await);
    assert!(verify(&s, &id, &third).await);
    let secrets = r["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2);
    assert!(secrets[0]["expiresAt"].is_string());
    assert!(secrets[1]["expiresAt"].is_null());

    // lastUsedAt is recorded off the request path.
    let mut used = Value::Null;
    for _ in 0..50 {
        let (_, got) =
            json(call(&s, Method::GET, &format!("{O}/{id}"), Some(&key), None).await).await;
        used = got["secrets"][1]["lastUsedAt"].clone();
        if used.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used.is_string(), "lastUsedAt recorded");

    // An operator-chosen secret: hashed with argon2id, not echoed.
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&key),
            Some(json!({"secret": "short"})),
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["secret".to_owned()]));
    let (st, r) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&key),
            Some(json!({"secret": "my-own-very-long-secret-value"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r.get("secret"), None, "the operator knows it already");
    assert!(verify(&s, &id, "my-own-very-long-secret-value").await);
    assert!(
        !verify(&s, &id, &third).await,
        "previous secrets die at once"
    );
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&key),
            Some(json!({"previousSecretValidFor": 0})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, fields(&v)),
        (400, vec!["previousSecretValidFor".to_owned()])
    );

    let (_, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?action=oauth_client.secret_set",
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert!(!log.to_string().contains("my-own-very-long"));

    // Public clients have no secret to regenerate; making one confidential issues one.
    let (_, p) = json(call(&s, Method::POST, O, Some(&key), Some(json!({"name": "SPA", "isConfidential": false, "redirectUris": ["https://a.example/cb"]}))).await).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &format!("{O}/{pid}/secret"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((st, fields(&v)), (400, vec!["isConfidential".to_owned()]));
    let (_, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{O}/{pid}"),
            Some(&key),
            Some(json!({"isConfidential": true})),
        )
        .await,
    )
    .await;
    let issued = v["secret"].as_str().unwrap();
    assert!(verify(&s, &pid, issued).await);
    let (_, v) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{O}/{pid}"),
            Some(&key),
            Some(json!({"isConfidential": false})),
        )
        .await,
    )
    .await;
    assert_eq!(v["secrets"], json!([]), "a public client keeps no secret");
    assert!(!verify(&s, &pid, issued).await);
}

#[tokio::test]
async fn permissions_and_organizations_are_enforced() {
    let (s, key) = setup().await;
    let (_, c) = json(
        call(
            &s,
            Method::POST,
            O,
            Some(&key),
            Some(json!({"name": "App", "redirectUris": ["https://a.example/cb"]})),
        )
        .await,
    )
    .await;
    let one = format!("{O}/{}", c["id"].as_str().unwrap());
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    assert_eq!(
        call(&s, Method::GET, O, Some(&viewer), None).await.status(),
        200
    );
    assert_eq!(
        call(&s, Method::GET, &one, Some(&viewer), None)
            .await
            .status(),
        200
    );
    for (method, path, body, perm) in [
        (
            Method::POST,
            O.to_owned(),
            Some(json!({"name": "x", "redirectUris": []})),
            "oauth-clients:create",
        ),
        (
            Method::PATCH,
            one.clone(),
            Some(json!({"isActive": false})),
            "oauth-clients:edit",
        ),
        (
            Method::PUT,
            one.clone(),
            Some(json!({"name": "x", "redirectUris": ["https://a.example/cb"]})),
            "oauth-clients:edit",
        ),
        (
            Method::POST,
            format!("{one}/secret"),
            None,
            "oauth-clients:edit",
        ),
        (Method::DELETE, one.clone(), None, "oauth-clients:delete"),
    ] {
        let (st, v) = json(call(&s, method.clone(), &path, Some(&viewer), body).await).await;
        assert_eq!(st, 403, "{method} {path}");
        assert_eq!(v["error_description"], format!("missing permission {perm}"));
    }
    s.org("globex").await;
    let globex = s.org_key("globex", &["owner"], &[]).await;
    let theirs = one.replace("acme-corp", "globex");
    let (st, v) = json(call(&s, Method::GET, &theirs, Some(&globex), None).await).await;
    assert_eq!(st, 404, "another organization's client: {v}");
    assert_eq!(
        call(&s, Method::DELETE, &theirs, Some(&globex), None)
            .await
            .status(),
        404
    );
    assert_eq!(
        call(&s, Method::GET, &one, Some(&globex), None)
            .await
            .status(),
        404
    );
}

/// `tokenEndpointAuthMethod` agrees with the client type (alone, `none` makes a public
/// client); `userinfoSignedResponseAlg` is set and cleared by PATCH; both show in the object.
#[tokio::test]
async fn token_endpoint_auth_method_and_userinfo_alg() {
    let (s, key) = setup().await;
    let post = |body: Value| call(&s, Method::POST, O, Some(&key), Some(body));
    let (st, c) = json(
        post(
            json!({"name": "SPA", "redirectUris": ["https://spa.example/cb"],
                    "tokenEndpointAuthMethod": "none"}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["clientType"], "public");
    assert!(c.get("secret").is_none());
    let (st, e) = json(
        post(
            json!({"name": "Bad", "redirectUris": ["https://spa.example/cb"],
                    "isConfidential": true, "tokenEndpointAuthMethod": "none"}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(fields(&e), vec!["tokenEndpointAuthMethod"]);
    let (st, e) = json(
        post(
            json!({"name": "Bad", "redirectUris": ["https://spa.example/cb"],
                    "tokenEndpointAuthMethod": "tls_client_auth",
                    "userinfoSignedResponseAlg": "HS256",
                    "requestObjectSigningAlg": "none"}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        fields(&e),
        vec![
            "userinfoSignedResponseAlg",
            "requestObjectSigningAlg",
            "tokenEndpointAuthMethod"
        ]
    );

    let (st, c) = json(
        post(
            json!({"name": "Web", "redirectUris": ["https://web.example/cb"],
                    "tokenEndpointAuthMethod": "client_secret_post",
                    "userinfoSignedResponseAlg": "ES256",
                    "requestObjectSigningAlg": "PS256"}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["clientType"], "confidential");
    assert_eq!(c["tokenEndpointAuthMethod"], "client_secret_post");
    assert_eq!(c["userinfoSignedResponseAlg"], "ES256");
    assert_eq!(c["requestObjectSigningAlg"], "PS256");
    let id = c["id"].as_str().unwrap().to_owned();
    let path = format!("{O}/{id}");
    let patch = |body: Value| call(&s, Method::PATCH, &path, Some(&key), Some(body));
    // null clears: plain JSON again, and the type's default method.
    let (st, c) = json(
        patch(
            json!({"userinfoSignedResponseAlg": null, "tokenEndpointAuthMethod": null,
                     "requestObjectSigningAlg": null}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["userinfoSignedResponseAlg"], Value::Null);
    assert_eq!(c["requestObjectSigningAlg"], Value::Null);
    assert_eq!(c["tokenEndpointAuthMethod"], "client_secret_basic");
    // Turning the client public brings the public default.
    let (st, c) = json(patch(json!({"isConfidential": false})).await).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["tokenEndpointAuthMethod"], "none");
    // A GET body sent back as it is replaces nothing.
    let (_, got) = json(call(&s, Method::GET, &format!("{O}/{id}"), Some(&key), None).await).await;
    let (st, put) = json(
        call(
            &s,
            Method::PUT,
            &format!("{O}/{id}"),
            Some(&key),
            Some(got.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{put}");
    assert_eq!(
        put["tokenEndpointAuthMethod"],
        got["tokenEndpointAuthMethod"]
    );
}

/// `POST …/oauth-clients/{id}/revoke-tokens` (and GraphQL's
/// `adminRevokeOauthClientTokens`): every token of the client inactive at once, its refresh
/// tokens revoked; the client stays and gets new tokens; audited; `oauth-clients:edit` only.
#[tokio::test]
async fn all_tokens_of_a_client_are_revoked_and_the_client_stays() {
    let (s, key) = setup().await;
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            O,
            Some(&key),
            Some(
                json!({"clientId": "worker", "name": "Worker", "redirectUris": [],
                        "grantTypes": ["client_credentials"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let secret = c["secret"].as_str().unwrap().to_owned();
    let token = || async {
        let (_, t) = json(
            s.http
                .post(s.url("/orgs/acme-corp/api/v1/oauth/token"))
                .basic_auth("worker", Some(&secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        t["access_token"].as_str().unwrap().to_owned()
    };
    let active = |t: String| {
        let secret = secret.clone();
        let s = &s;
        async move {
            let (_, v) = json(
                s.http
                    .post(s.url("/orgs/acme-corp/api/v1/oauth/introspect"))
                    .basic_auth("worker", Some(&secret))
                    .form(&[("token", t.as_str())])
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            v["active"] == true
        }
    };
    let (a, b) = (token().await, token().await);
    assert!(active(a.clone()).await && active(b.clone()).await);
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let path = format!("{O}/worker/revoke-tokens");
    let (st, _) = json(call(&s, Method::POST, &path, Some(&viewer), None).await).await;
    assert_eq!(st, 403);
    let (st, r) = json(call(&s, Method::POST, &path, Some(&key), None).await).await;
    assert_eq!(st, 200, "{r}");
    assert!(r["tokensRevokedAt"].as_str().unwrap().ends_with('Z'));
    assert!(!active(a).await && !active(b).await, "inactive at once");
    // The client stays: a token from the next second on is active.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = token().await;
    assert!(active(fresh.clone()).await);
    let (st, _) = json(call(&s, Method::GET, &format!("{O}/worker"), Some(&key), None).await).await;
    assert_eq!(st, 200);
    // GraphQL does the same.
    let (st, v) = json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/admin/graphql"))
            .bearer_auth(&key)
            .json(&json!({"query": "mutation { adminRevokeOauthClientTokens(id: \"worker\") }"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(v["data"]["adminRevokeOauthClientTokens"].is_string(), "{v}");
    assert!(!active(fresh).await);
    // Audited; an unknown client is a 404.
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log",
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    let revoked = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "oauth_client.tokens_revoked")
        .count();
    assert_eq!(revoked, 2);
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            &format!("{O}/nobody/revoke-tokens"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
}

/// `GET …/oauth-clients?sort=&isActive=&clientType=&grantType=`: sorted and filtered, the
/// total of the filtered list in `X-Total-Count`; a bad value is a 400 naming the parameter;
/// GraphQL takes the same arguments.
#[tokio::test]
async fn the_client_list_sorts_and_filters() {
    let (s, key) = setup().await;
    for (id, name, extra) in [
        (
            "b-web",
            "Billing web",
            json!({"redirectUris": ["https://b.example/cb"]}),
        ),
        (
            "a-spa",
            "Analytics SPA",
            json!({"isConfidential": false, "redirectUris": ["https://a.example/cb"]}),
        ),
        (
            "c-job",
            "Cron job",
            json!({"redirectUris": [], "grantTypes": ["client_credentials"], "isActive": false}),
        ),
    ] {
        let mut body = json!({"clientId": id, "name": name});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, c) = json(call(&s, Method::POST, O, Some(&key), Some(body)).await).await;
        assert_eq!(st, 201, "{c}");
    }
    let list = |query: &'static str| {
        let s = &s;
        let key = key.clone();
        async move {
            let res = call(s, Method::GET, &format!("{O}?{query}"), Some(&key), None).await;
            let total = res
                .headers()
                .get("x-total-count")
                .map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
            let (st, v) = json(res).await;
            let ids: Vec<String> = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| c["id"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (st, ids, total, v)
        }
    };
    // The organization's default clients are listed too: only ours are looked at.
    let ours = |ids: Vec<String>| -> Vec<String> {
        ids.into_iter()
            .filter(|i| ["a-spa", "b-web", "c-job"].contains(&i.as_str()))
            .collect()
    };
    let (_, ids, _, _) = list("sort=name").await;
    assert_eq!(ours(ids), ["a-spa", "b-web", "c-job"]);
    let (_, ids, _, _) = list("sort=-name").await;
    assert_eq!(ours(ids), ["c-job", "b-web", "a-spa"]);
    let (_, ids, _, _) = list("sort=createdAt").await;
    assert_eq!(ours(ids), ["b-web", "a-spa", "c-job"]);
    let (_, ids, total, _) = list("isActive=false").await;
    assert_eq!((ids, total), (vec!["c-job".to_owned()], Some(1)));
    let (_, ids, _, _) = list("clientType=public&sort=name").await;
    assert!(ours(ids.clone()) == ["a-spa"], "{ids:?}");
    let (_, ids, total, _) = list("grantType=client_credentials").await;
    assert_eq!((ours(ids), total), (vec!["c-job".to_owned()], Some(1)));
    for (query, field) in [
        ("sort=size", "sort"),
        ("isActive=yes", "isActive"),
        ("clientType=robot", "clientType"),
        ("grantType=magic", "grantType"),
    ] {
        let (st, _, _, v) = list(query).await;
        assert_eq!(st, 400, "{query}: {v}");
        assert_eq!(v["details"][0]["field"], field, "{v}");
    }
    // GraphQL: the same arguments.
    let (st, v) = json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/admin/graphql"))
            .bearer_auth(&key)
            .json(&json!({"query": "{ adminOauthClients(sort: \"-name\", isActive: true, clientType: \"confidential\") { totalCount items { id } } }"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let ids: Vec<&str> = v["data"]["adminOauthClients"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"b-web") && !ids.contains(&"a-spa") && !ids.contains(&"c-job"),
        "{ids:?}"
    );
}

/// Create takes an operator-chosen `secret` (the seed's Client Secret field): stored, never
/// returned, working at once; the same rules as `POST …/secret`; not for a client without a
/// secret, and not on a replace.
#[tokio::test]
async fn a_client_is_created_with_a_chosen_secret() {
    let (s, key) = setup().await;
    let chosen = "my-own-secret-of-some-length";
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            O,
            Some(&key),
            Some(
                json!({"clientId": "mine", "name": "Mine", "redirectUris": [],
                        "grantTypes": ["client_credentials"], "secret": chosen,
                        "clientUri": "https://mine.example.com"}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert!(
        c.get("secret").is_none(),
        "a chosen secret is not echoed: {c}"
    );
    assert_eq!(c["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(c["clientUri"], "https://mine.example.com");
    let res = s
        .http
        .post(s.url("/orgs/acme-corp/api/v1/oauth/token"))
        .basic_auth("mine", Some(chosen))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for (body, says) in [
        (
            json!({"name": "Short", "redirectUris": [], "grantTypes": ["client_credentials"], "secret": "short"}),
            "16 to 512",
        ),
        (
            json!({"name": "Spaced", "redirectUris": [], "grantTypes": ["client_credentials"], "secret": "has a space inside it"}),
            "white space",
        ),
        (
            json!({"name": "Public", "isConfidential": false, "redirectUris": ["https://p.example/cb"], "secret": "my-own-secret-of-some-length"}),
            "no secret",
        ),
    ] {
        let (st, e) = json(call(&s, Method::POST, O, Some(&key), Some(body)).await).await;
        assert_eq!(st, 400, "{e}");
        assert_eq!(e["details"][0]["field"], "secret", "{e}");
        assert!(e.to_string().contains(says), "{says}: {e}");
    }
    let (st, e) = json(
        call(
            &s,
            Method::PUT,
            &format!("{O}/mine"),
            Some(&key),
            Some(json!({"name": "Mine", "redirectUris": [], "grantTypes": ["client_credentials"], "secret": chosen})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    // GraphQL takes it too.
    let (st, v) = json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/admin/graphql"))
            .bearer_auth(&key)
            .json(&json!({"query": "mutation($i: OauthClientInput!) { adminCreateOauthClient(input: $i) { secret client { id } } }",
                          "variables": {"i": {"clientId": "via-gql", "name": "G", "redirectUris": [],
                                              "grantTypes": ["client_credentials"], "secret": chosen}}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(
        v["data"]["adminCreateOauthClient"]["secret"].is_null(),
        "{v}"
    );
}

/// Another node drops a changed client once. Its poller reads the change feed again over the
/// last few seconds (for changes that commit after a later-numbered one); what it applied at
/// the previous read is skipped, so the client is not read from the database again at every
/// poll for as long as its change stays in that window (twenty reads a second here before).
#[tokio::test]
async fn another_node_reloads_a_changed_client_once() {
    let (s, key) = setup().await;
    let (st, c) = json(call(&s, Method::POST, O, Some(&key), Some(json!({"name": "Backend", "isConfidential": true, "grantTypes": ["client_credentials"], "allowedScopes": ["api.read"]}))).await).await;
    assert_eq!(st, 201, "{c}");
    let id = c["id"].as_str().unwrap();
    let secret = c["secret"].as_str().unwrap();
    let org = s
        .services
        .get_org(&tessera_core::Context::cli(), "acme-corp", None)
        .await
        .unwrap();
    let other = s
        .second_node(std::sync::Arc::new(tessera_domain::SystemClock))
        .await;
    other.spawn_change_poller(std::time::Duration::from_millis(50));
    let cid = ClientId::parse(id).unwrap();
    let loads = || {
        other
            .cache_figures()
            .iter()
            .find(|f| f.name == "clients")
            .map(|f| f.loads)
            .unwrap()
    };
    assert!(other
        .verify_client_secret(org.id, &cid, secret)
        .await
        .unwrap());
    // Before counting: the other node's first polls take in the client's creation (still
    // inside the look-back window) and drop its entry once, and it writes the secret's first
    // use; on SQLite that write and the change below would race for the file's one writer.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(other
        .verify_client_secret(org.id, &cid, secret)
        .await
        .unwrap());
    let before = loads();
    // Two stores on one SQLite file take turns at its one writer: a change that meets the
    // other node's write gets 503 temporarily_unavailable, "try again shortly", as a client
    // would.
    let mut tries = 0;
    let (st, body) = loop {
        let (st, body) = json(
            call(
                &s,
                Method::PATCH,
                &format!("{O}/{id}"),
                Some(&key),
                Some(json!({"name": "Backend v2"})),
            )
            .await,
        )
        .await;
        tries += 1;
        if st != 503 || tries == 40 {
            break (st, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert_eq!(st, 200, "{body}");
    // A second of requests on the other node: twenty polls, all inside the look-back window.
    for _ in 0..100 {
        assert!(other
            .verify_client_secret(org.id, &cid, secret)
            .await
            .unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let reloads = loads() - before;
    // Once for the change (twice where the database also announces it: the announcement,
    // then the poll that reads it as new).
    assert!(
        (1..=2).contains(&reloads),
        "the client was read {reloads} times after one change"
    );
}
