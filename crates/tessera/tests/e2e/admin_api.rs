//! The admin API over real HTTP: authentication, permissions, organization isolation, error
//! format, audit log, operations endpoints and middleware.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;

use crate::support::{call, json};

const ACME: &str = "/orgs/acme-corp/api/v1/admin";

async fn server_with_acme() -> TestServer {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    s
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let s = TestServer::start().await;
    let (st, v) = json(call(&s, Method::GET, "/healthz", None, None).await).await;
    assert_eq!((st, v["status"].as_str()), (200, Some("ok")));
    let (st, v) = json(call(&s, Method::GET, "/readyz", None, None).await).await;
    assert_eq!((st, v["status"].as_str()), (200, Some("ready")));
    let res = call(&s, Method::GET, "/metrics", None, None).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("tessera_http_requests_total"), "{text}");
    assert!(text.contains("status=\"2xx\""), "{text}");
    // The token-path caches: the budget is fixed, and a lookup of an unknown organization
    // is a load.
    assert!(
        text.contains("tessera_cache_budget_bytes{cache=\"clients\"} 83886080"),
        "{text}"
    );
    let loads = |t: &str| -> u64 {
        t.lines()
            .find_map(|l| l.strip_prefix("tessera_cache_loads_total{cache=\"organizations\"} "))
            .and_then(|v| v.parse().ok())
            .expect("the organizations loads")
    };
    let before = loads(&text);
    let _ = call(
        &s,
        Method::GET,
        "/orgs/no-such-org/.well-known/openid-configuration",
        None,
        None,
    )
    .await;
    let res = call(&s, Method::GET, "/metrics", None, None).await;
    assert!(loads(&res.text().await.unwrap()) > before);
    let (st, doc) = json(call(&s, Method::GET, "/api/v1/openapi.json", None, None).await).await;
    assert_eq!(st, 200);
    assert_eq!(doc["info"]["title"], "Tessera admin API");
    assert!(doc["paths"]["/orgs/{org}/api/v1/admin/oauth-clients"]["post"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn request_ids_are_set_and_propagated() {
    let s = TestServer::start().await;
    let res = call(&s, Method::GET, "/healthz", None, None).await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let res = s
        .http
        .get(s.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn missing_wrong_and_revoked_keys_are_401() {
    let s = server_with_acme().await;
    let path = format!("{ACME}/audit-log");
    let res = call(&s, Method::GET, &path, None, None).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let (_, v) = json(res).await;
    assert_eq!(v["error"], "unauthorized");
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("Authorization"));

    let wrong = format!("sk_live_{}", "A".repeat(43));
    let (st, v) = json(call(&s, Method::GET, &path, Some(&wrong), None).await).await;
    assert_eq!(st, 401);
    assert_eq!(v["error_description"], "invalid API key");
    let (st, _) = json(call(&s, Method::GET, &path, Some("garbage"), None).await).await;
    assert_eq!(st, 401);

    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let victim = s.org_key("acme-corp", &["viewer"], &[]).await;
    assert_eq!(
        call(&s, Method::GET, &path, Some(&victim), None)
            .await
            .status(),
        200
    );
    let (_, keys) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/api-keys"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    let victim_id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| victim.ends_with(k["hint"].as_str().unwrap().trim_start_matches('…')))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = call(
        &s,
        Method::DELETE,
        &format!("{ACME}/api-keys/{victim_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    let (st, v) = json(call(&s, Method::GET, &path, Some(&victim), None).await).await;
    assert_eq!(st, 401, "revoked at once");
    assert_eq!(v["error_description"], "API key has been revoked");
    let (st, _) = json(
        call(
            &s,
            Method::DELETE,
            &format!("{ACME}/api-keys/{victim_id}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 409, "already revoked");
}

#[tokio::test]
async fn another_organizations_key_gets_404() {
    let s = server_with_acme().await;
    s.org("globex").await;
    let globex = s.org_key("globex", &["owner"], &[]).await;
    for path in ["audit-log", "api-keys", "users"] {
        let (st, v) = json(
            call(
                &s,
                Method::GET,
                &format!("{ACME}/{path}"),
                Some(&globex),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(st, 404, "{path}");
        assert_eq!(v["error"], "not_found");
    }
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/api-keys"),
            Some(&globex),
            Some(json!({"name": "x", "roles": ["viewer"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
    // And a missing organization looks the same as a hidden one.
    let (st, _) = json(
        call(
            &s,
            Method::GET,
            "/orgs/nope/api/v1/admin/audit-log",
            Some(&globex),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn viewer_reads_but_gets_403_naming_the_permission_on_writes() {
    let s = server_with_acme().await;
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    for path in ["audit-log", "api-keys", "users"] {
        assert_eq!(
            call(
                &s,
                Method::GET,
                &format!("{ACME}/{path}"),
                Some(&viewer),
                None
            )
            .await
            .status(),
            200,
            "{path}"
        );
    }
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/api-keys"),
            Some(&viewer),
            Some(json!({"name": "x", "roles": ["viewer"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(v["error"], "forbidden");
    assert_eq!(v["error_description"], "missing permission api-keys:create");
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/users"),
            Some(&viewer),
            Some(json!({"username": "bob"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(v["error_description"], "missing permission users:create");

    // A key without audit-log:read cannot read the log.
    let narrow = s.org_key("acme-corp", &[], &["users:read"]).await;
    let (st, v) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log"),
            Some(&narrow),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(v["error_description"], "missing permission audit-log:read");
}

#[tokio::test]
async fn keys_cannot_grant_more_than_their_holder_has() {
    let s = server_with_acme().await;
    let limited = s
        .org_key("acme-corp", &["viewer"], &["api-keys:create"])
        .await;
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/api-keys"),
            Some(&limited),
            Some(json!({"name": "x", "roles": ["owner"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .starts_with("missing permission"));
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/api-keys"),
            Some(&limited),
            Some(json!({"name": "x", "roles": ["viewer"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
}

#[tokio::test]
async fn api_key_created_over_http_is_shown_once_and_audited() {
    let s = server_with_acme().await;
    // Granting users:* needs users:delete, which only owners hold.
    let admin = s.org_key("acme-corp", &["owner"], &[]).await;
    let res = s
        .http
        .post(s.url(&format!("{ACME}/api-keys")))
        .bearer_auth(&admin)
        .header("x-request-id", "req-create-key")
        .json(&json!({"name": "deploy bot", "roles": ["viewer"], "permissions": ["users:*"]}))
        .send()
        .await
        .unwrap();
    let (st, created) = json(res).await;
    assert_eq!(st, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() == 51, "{key}");
    assert_eq!(
        created["hint"].as_str().unwrap(),
        format!("…{}", &key[47..])
    );
    assert_eq!(
        created["permissions"],
        json!(["users:read", "users:create", "users:edit", "users:delete"])
    );
    assert_eq!(created["orgId"].as_str().map(str::len), Some(36));

    // The new key works, and is never shown again.
    assert_eq!(
        call(&s, Method::GET, &format!("{ACME}/users"), Some(&key), None)
            .await
            .status(),
        200
    );
    let listing = call(
        &s,
        Method::GET,
        &format!("{ACME}/api-keys"),
        Some(&admin),
        None,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(!listing.contains(&key[8..]), "listing never holds a key");
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    let text = log.to_string();
    assert!(!text.contains(&key[8..]), "audit never holds a key");
    let ev = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["requestId"] == "req-create-key")
        .expect("event with our request id");
    assert_eq!(ev["action"], "api_key.created");
    assert_eq!(ev["actor"]["type"], "api_key");
    assert_eq!(ev["actor"]["name"], "test");
    assert_eq!(ev["ip"], "127.0.0.1");
    assert_eq!(ev["after"]["name"], "deploy bot");
    assert_eq!(ev["before"], Value::Null);

    // lastUsedAt is recorded (off the request path).
    let mut used = Value::Null;
    for _ in 0..50 {
        let (_, keys) = json(
            call(
                &s,
                Method::GET,
                &format!("{ACME}/api-keys"),
                Some(&admin),
                None,
            )
            .await,
        )
        .await;
        used = keys
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == "deploy bot")
            .unwrap()["lastUsedAt"]
            .clone();
        if !used.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used.is_string(), "lastUsedAt recorded");
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let s = server_with_acme().await;
    let admin = s.org_key("acme-corp", &["owner"], &[]).await;
    let path = format!("{ACME}/api-keys");
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&admin),
            Some(json!({"name": "x", "roles": ["viewer"], "colour": "red"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(v["error"], "invalid_request");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{v}"
    );

    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&admin),
            Some(json!({"name": "", "roles": ["viewer", "boss", "Bad Role"]})),
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
    assert_eq!(fields, ["name", "roles[2]"], "{v}");
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&admin),
            Some(json!({"name": "x", "roles": ["boss"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(v["details"][0]["field"], "roles[0]");
    assert!(v["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown role 'boss'"));
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&admin),
            Some(json!({"name": "x", "permissions": ["oauth-clients:fly"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(v["details"][0]["field"], "permissions[0]");

    let res = s
        .http
        .post(s.url(&path))
        .bearer_auth(&admin)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let (st, v) = json(res).await;
    assert_eq!(st, 400);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON body"),
        "{v}"
    );
    let (st, v) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log?limit=abc"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        v["error_description"].as_str().unwrap().contains("limit"),
        "{v}"
    );
    let (st, v) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log?limit=0"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, v["details"][0]["field"].as_str()),
        (400, Some("limit"))
    );

    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/users"),
            Some(&admin),
            Some(json!({"username": "bob smith", "email": "nope", "password": "short"})),
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
    assert_eq!(fields, ["username", "email", "password"], "{v}");

    let big = "x".repeat(2 * 1024 * 1024);
    let res = s
        .http
        .post(s.url(&path))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (st, v) = json(res).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (413, Some("invalid_request")),
        "body limit"
    );
    let res = call(
        &s,
        Method::PUT,
        &format!("{ACME}/audit-log"),
        Some(&admin),
        None,
    )
    .await;
    assert!(res.headers().contains_key("allow"));
    let (st, v) = json(res).await;
    assert_eq!((st, v["error"].as_str()), (405, Some("method_not_allowed")));
    let (st, v) = json(call(&s, Method::GET, "/no/such/route", None, None).await).await;
    assert_eq!((st, v["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn users_are_created_without_echoing_passwords_and_are_unique() {
    let s = server_with_acme().await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let body = json!({"username": "Alice", "email": "alice@example.com", "name": "Alice A", "password": "correct horse battery", "roles": ["viewer"]});
    let res = call(
        &s,
        Method::POST,
        &format!("{ACME}/users"),
        Some(&admin),
        Some(body.clone()),
    )
    .await;
    let (st, v) = json(res).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["username"], "alice");
    // Creating a user is no way around the grant rules: no role beyond the caller's own.
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/users"),
            Some(&admin),
            Some(json!({"username": "carol", "roles": ["owner"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(v["error_description"], "missing permission users:delete");
    assert!(!v.to_string().contains("correct horse"));
    assert!(!v.to_string().contains("argon2"));
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &format!("{ACME}/users"),
            Some(&admin),
            Some(body),
        )
        .await,
    )
    .await;
    assert_eq!(st, 409);
    assert_eq!(v["error"], "conflict");
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log?action=user.created"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert!(!log.to_string().contains("correct horse"));
}

#[tokio::test]
async fn alias_base_serves_the_same_api() {
    let s = server_with_acme().await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let (a, x) = json(
        call(
            &s,
            Method::GET,
            "/t/acme-corp/api/v1/admin/audit-log",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    let (b, y) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((a, b), (200, 200));
    assert_eq!(x, y);
}

#[tokio::test]
async fn audit_log_pages_newest_first_and_records_bootstrap() {
    let s = TestServer::start().await;
    let root = s.system_key().await;
    let (st, log) = json(
        call(
            &s,
            Method::GET,
            "/orgs/default/api/v1/admin/audit-log",
            Some(&root),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "system.bootstrapped",
            "user.created",
            "oauth_client.created",
            "oauth_client.created",
            "organization.created"
        ]
    );

    for i in 0..5 {
        s.services
            .create_user(
                &tessera_core::Context::cli(),
                "default",
                tessera_core::users::NewUser {
                    username: format!("u{i}"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let res = call(
        &s,
        Method::GET,
        "/orgs/default/api/v1/admin/audit-log?limit=3",
        Some(&root),
        None,
    )
    .await;
    let next = res.headers()["x-next-before"].to_str().unwrap().to_owned();
    let (_, page1) = json(res).await;
    let ids1: Vec<i64> = page1
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids1.len(), 3);
    assert!(ids1.windows(2).all(|w| w[0] > w[1]), "newest first");
    let (_, page2) = json(
        call(
            &s,
            Method::GET,
            &format!("/orgs/default/api/v1/admin/audit-log?limit=3&before={next}"),
            Some(&root),
            None,
        )
        .await,
    )
    .await;
    let ids2: Vec<i64> = page2
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids2.len(), 3);
    assert!(ids2[0] < ids1[2]);
}

#[tokio::test]
async fn organizations_are_managed_by_system_administrators_only() {
    let s = server_with_acme().await;
    let root = s.system_key().await;
    let owner = s.org_key("acme-corp", &["owner"], &[]).await;
    let path = "/api/v1/system/organizations";
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            path,
            Some(&owner),
            Some(json!({"slug": "initech"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(
        v["error_description"],
        "only a system administrator may create organizations"
    );
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            path,
            Some(&root),
            Some(json!({"slug": "initech", "name": "Initech"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["slug"], "initech");
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            path,
            Some(&root),
            Some(json!({"slug": "initech"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 409);
    assert_eq!(
        v["error_description"],
        "organization 'initech' already exists"
    );
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            path,
            Some(&root),
            Some(json!({"slug": "Bad_Slug"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(v["details"][0]["field"], "slug");
    let (_, all) = json(call(&s, Method::GET, path, Some(&root), None).await).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let (_, mine) = json(call(&s, Method::GET, path, Some(&owner), None).await).await;
    let slugs: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        ["acme-corp"],
        "an organization's key sees only its organization"
    );
}

#[tokio::test]
async fn custom_roles_grant_their_permissions() {
    let s = server_with_acme().await;
    let owner = s.org_key("acme-corp", &["owner"], &[]).await;
    let path = format!("{ACME}/roles");
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&owner),
            Some(
                json!({"name": "auditor", "permissions": ["audit-log:read", "oauth-clients:read"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        v,
        json!({"name": "auditor", "permissions": ["oauth-clients:read", "audit-log:read"], "builtIn": false})
    );
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&owner),
            Some(json!({"name": "auditor", "permissions": ["audit-log:read"]})),
        )
        .await,
    )
    .await;
    assert_eq!((st, v["error"].as_str()), (409, Some("conflict")));
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&owner),
            Some(json!({"name": "admin", "permissions": ["audit-log:read"]})),
        )
        .await,
    )
    .await;
    assert_eq!((st, v["details"][0]["field"].as_str()), (400, Some("name")));
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&owner),
            Some(json!({"name": "x", "permissions": ["audit-log:read", "nope"]})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, v["details"][0]["field"].as_str()),
        (400, Some("permissions[1]"))
    );
    let (_, roles) = json(call(&s, Method::GET, &path, Some(&owner), None).await).await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["owner", "admin", "viewer", "auditor"]);

    // A key with the custom role can do exactly what the role says.
    let auditor = s.org_key("acme-corp", &["auditor"], &[]).await;
    assert_eq!(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log"),
            Some(&auditor),
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/oauth-clients"),
            Some(&auditor),
            None
        )
        .await
        .status(),
        200
    );
    let (st, v) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/users"),
            Some(&auditor),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, v["error_description"].as_str()),
        (403, Some("missing permission users:read"))
    );

    // Nobody defines a role with more than they hold.
    let editor = s
        .org_key("acme-corp", &[], &["users:edit", "users:read"])
        .await;
    let (st, v) = json(
        call(
            &s,
            Method::POST,
            &path,
            Some(&editor),
            Some(json!({"name": "boss", "permissions": ["api-keys:create"]})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, v["error_description"].as_str()),
        (403, Some("missing permission api-keys:create"))
    );
    let (_, log) = json(
        call(
            &s,
            Method::GET,
            &format!("{ACME}/audit-log?action=role.created"),
            Some(&owner),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
}

/// `GET …/audit-log?from=&to=`: an inclusive range of RFC 3339 times; a bad one is a 400
/// naming it; GraphQL takes the same; the console filters by day and exports the events.
#[tokio::test]
async fn the_audit_log_takes_a_date_range_and_exports() {
    let s = tessera_testkit::TestServer::start().await;
    s.org("acme-corp").await;
    let key = s.org_key("acme-corp", &["admin"], &[]).await;
    let (st, _) = crate::support::json(
        crate::support::call(
            &s,
            reqwest::Method::POST,
            crate::support::ACME_CLIENTS,
            Some(&key),
            Some(serde_json::json!({"name": "Audited", "redirectUris": [], "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);
    let log = |q: String| {
        let s = &s;
        let key = key.clone();
        async move {
            crate::support::json(
                crate::support::call(
                    s,
                    reqwest::Method::GET,
                    &format!("/orgs/acme-corp/api/v1/admin/audit-log?{q}"),
                    Some(&key),
                    None,
                )
                .await,
            )
            .await
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .replace('+', "%2B")
    };
    let (st, all) = log(format!(
        "from={}&to={}",
        fmt(now - time::Duration::hours(1)),
        fmt(now + time::Duration::hours(1))
    ))
    .await;
    assert_eq!(st, 200, "{all}");
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "oauth_client.created"));
    let (_, later) = log(format!("from={}", fmt(now + time::Duration::hours(1)))).await;
    assert_eq!(later, serde_json::json!([]));
    let (_, earlier) = log(format!("to={}", fmt(now - time::Duration::hours(1)))).await;
    assert_eq!(earlier, serde_json::json!([]));
    let (st, e) = log("from=yesterday".into()).await;
    assert_eq!(
        (st, e["details"][0]["field"].as_str()),
        (400, Some("from")),
        "{e}"
    );
    let (st, e) = log(format!(
        "from={}&to={}",
        fmt(now),
        fmt(now - time::Duration::hours(1))
    ))
    .await;
    assert_eq!(
        (st, e["details"][0]["field"].as_str()),
        (400, Some("to")),
        "{e}"
    );
    // GraphQL.
    let (st, v) = crate::support::json(
        s.http
            .post(s.url("/orgs/acme-corp/api/v1/admin/graphql"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"query": format!("{{ adminAuditLog(from: \"{}\") {{ action }} }}",
                (now + time::Duration::hours(1)).format(&time::format_description::well_known::Rfc3339).unwrap())}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["adminAuditLog"], serde_json::json!([]), "{v}");
}
