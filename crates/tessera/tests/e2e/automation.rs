//! Configuration as code end to end: `tessera apply` (dry run, twice, prune), `tessera export`
//! applied to an empty database, a bad file refused whole, and the same document over REST.

use std::process::{Command, Output, Stdio};

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::{backend, fresh_db, Backend, FreshDb, TestServer};

use crate::support::{call, json};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

fn tessera(db: &FreshDb, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(db.dir.path());
    if backend() == Backend::Postgres {
        c.arg("--database-url").arg(&db.url);
    }
    c.args(args)
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("TESSERA_CONFIG")
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_VAULT_KEYS")
        .env("TESSERA_LOG", "warn")
        .env("SHOP_BACKEND_SECRET", "backend-secret-from-the-environment")
        .stdin(Stdio::null())
        .output()
        .expect("run tessera")
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "tessera failed:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

const SHOP: &str = r#"
version: 1
organizations:
  - slug: shop
    name: Shop Inc
    clients:
      - clientId: storefront
        name: Storefront
        redirectUris: [https://shop.example.com/callback]
        grantTypes: [authorization_code, refresh_token]
        isConfidential: false
      - clientId: backend
        name: Backend
        redirectUris: []
        grantTypes: [client_credentials]
        secretFrom: {env: SHOP_BACKEND_SECRET}
      - clientId: reports
        name: Reports
        redirectUris: []
        grantTypes: [client_credentials]
    apiResources:
      - identifier: https://api.shop.example.com
        name: Shop API
        scopes:
          - name: orders.read
            description: Read orders
    roles:
      - name: auditor
        permissions: [audit-log:read, oauth-clients:read]
    webhooks:
      - url: https://hooks.shop.example.com/tessera
        events: [oauth_client.created, oauth_client.deleted]
"#;

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Dry run, apply, apply again (nothing to do), a change, prune; then export applied to an
/// empty database exports the same again.
#[tokio::test]
async fn apply_is_planned_idempotent_prunable_and_exports_round_trip() {
    let db = fresh_db().await;
    let files = tempfile::tempdir().unwrap();
    let file = write(files.path(), "shop.yaml", SHOP);

    let out = ok(&tessera(&db, &["apply", "-f", &file, "--dry-run"]));
    for line in [
        "+ organization shop",
        "+ client shop/storefront",
        "+ client shop/backend",
        "+ apiResource shop/https://api.shop.example.com",
        "+ role shop/auditor",
        "+ webhook shop/https://hooks.shop.example.com/tessera",
        "Dry run: nothing was changed.",
    ] {
        assert!(out.contains(line), "{line} missing from\n{out}");
    }
    let orgs = ok(&tessera(&db, &["org", "list"]));
    assert!(!orgs.contains("\"shop\""), "a dry run wrote: {orgs}");

    let out = ok(&tessera(&db, &["apply", "-f", &file]));
    assert!(out.contains("Applied."), "{out}");
    assert!(out.contains("Plan: 7 to create"), "{out}");
    // A generated secret for the client without secretFrom and for the webhook, once; none
    // for the client whose secret came from the environment.
    assert!(out.contains("client shop/reports: cs_live_"), "{out}");
    assert!(
        out.contains("webhook shop/https://hooks.shop.example.com/tessera: whsec_"),
        "{out}"
    );
    assert!(!out.contains("client shop/backend:"), "{out}");
    assert!(
        !out.contains("backend-secret-from-the-environment"),
        "{out}"
    );

    let again = ok(&tessera(&db, &["apply", "-f", &file]));
    assert!(
        again.contains("Plan: 0 to create, 0 to update, 0 to delete, 6 unchanged.")
            && again.contains("Nothing to do."),
        "the second run changed something:\n{again}"
    );

    // A changed name and a client no longer listed: updated; kept until --prune.
    let changed = SHOP.replace("name: Storefront", "name: Storefront 2").replace(
        "      - clientId: reports\n        name: Reports\n        redirectUris: []\n        grantTypes: [client_credentials]\n",
        "",
    );
    let file2 = write(files.path(), "shop2.yaml", &changed);
    let out = ok(&tessera(&db, &["apply", "-f", &file2]));
    assert!(out.contains("~ client shop/storefront (name)"), "{out}");
    assert!(!out.contains("- client"), "{out}");
    let out = ok(&tessera(&db, &["apply", "-f", &file2, "--prune"]));
    assert!(out.contains("- client shop/reports"), "{out}");
    assert!(
        !out.contains("tessera-"),
        "a default client was pruned:\n{out}"
    );
    let clients = ok(&tessera(&db, &["client", "list", "--org", "shop"]));
    assert!(!clients.contains("\"reports\""), "{clients}");
    assert!(clients.contains("tessera-console"), "{clients}");

    // Export, apply to an empty database, export again: the same document.
    let exported = ok(&tessera(&db, &["export", "--org", "shop"]));
    assert!(
        !exported.contains("cs_live_") && !exported.contains("whsec_"),
        "{exported}"
    );
    assert!(!exported.contains("tessera-console"), "{exported}");
    let e1 = write(files.path(), "export.yaml", &exported);
    let empty = fresh_db().await;
    let out = ok(&tessera(&empty, &["apply", "-f", &e1]));
    assert!(out.contains("+ organization shop"), "{out}");
    let reexported = ok(&tessera(&empty, &["export", "--org", "shop"]));
    assert_eq!(exported, reexported);
    // And in TOML, which applies as well (nothing to do).
    let toml = ok(&tessera(
        &empty,
        &["export", "--org", "shop", "--format", "toml"],
    ));
    let t = write(files.path(), "export.toml", &toml);
    let out = ok(&tessera(&empty, &["apply", "-f", &t]));
    assert!(out.contains("Nothing to do."), "{out}");
}

/// A bad file is refused whole: every error named by its path, nothing applied.
#[tokio::test]
async fn a_bad_file_is_refused_whole_with_every_error_named() {
    let db = fresh_db().await;
    let files = tempfile::tempdir().unwrap();
    let bad = r#"
organizations:
  - slug: fine
    clients:
      - clientId: good
        name: Good
        redirectUris: []
        grantTypes: [client_credentials]
  - slug: broken
    clients:
      - clientId: web
        name: Web
        redirectUris: [not-a-url]
      - name: No id
      - clientId: leaky
        name: Leaky
        secret: plain-text-secret-in-a-file
      - clientId: fromfile
        name: From file
        redirectUris: []
        grantTypes: [client_credentials]
        secretFrom: {file: missing-secret.txt}
    webhooks:
      - url: http://hooks.example.com/x
        events: [no.such_event]
    colour: blue
"#;
    let file = write(files.path(), "bad.yaml", bad);
    let o = tessera(&db, &["apply", "-f", &file]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for path in [
        "organizations[1].clients[0].redirectUris[0]",
        "organizations[1].clients[1].clientId",
        "organizations[1].clients[2].secret",
        "organizations[1].clients[3].secretFrom.file",
        "organizations[1].webhooks[0].url",
        "organizations[1].webhooks[0].events[0]",
        "organizations[1].colour",
        "nothing was applied",
    ] {
        assert!(err.contains(path), "{path} missing from\n{err}");
    }
    let orgs = ok(&tessera(&db, &["org", "list"]));
    assert!(
        !orgs.contains("\"fine\""),
        "part of a refused file was applied: {orgs}"
    );
    // Not even a parse: a file that is not YAML says where.
    let file = write(files.path(), "worse.yaml", "organizations: [\n");
    let o = tessera(&db, &["apply", "-f", &file]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not valid YAML"));
}

/// The same over REST for pipelines: plan, apply, nothing to do; `secretFrom` and other
/// organizations refused; every permission the plan needs checked first.
#[tokio::test]
async fn apply_over_rest() {
    let s = TestServer::start().await;
    s.org("acme-corp").await;
    let admin = s.org_key("acme-corp", &["admin"], &[]).await;
    let path = "/orgs/acme-corp/api/v1/admin/apply";
    let doc = json!({
        "organizations": [{
            "slug": "acme-corp",
            "clients": [{"clientId": "pipeline-app", "name": "Pipeline app", "redirectUris": [], "grantTypes": ["client_credentials"]}],
            "webhooks": [{"url": "https://hooks.example.com/acme"}]
        }]
    });
    let mut dry = doc.clone();
    dry["dryRun"] = json!(true);
    let (st, plan) = json(call(&s, Method::POST, path, Some(&admin), Some(dry)).await).await;
    assert_eq!(st, 200, "{plan}");
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["changes"].as_array().unwrap().len(), 2, "{plan}");
    assert_eq!(plan["changes"][0]["kind"], "client");
    let (st, _) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/oauth-clients/pipeline-app",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 404, "the dry run wrote");

    let (st, done) =
        json(call(&s, Method::POST, path, Some(&admin), Some(doc.clone())).await).await;
    assert_eq!(st, 200, "{done}");
    let secrets = done["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2, "{done}");
    assert!(secrets[0]["secret"]
        .as_str()
        .unwrap()
        .starts_with("cs_live_"));
    let (st, again) =
        json(call(&s, Method::POST, path, Some(&admin), Some(doc.clone())).await).await;
    assert_eq!(st, 200);
    assert_eq!(again["changes"], json!([]), "{again}");
    assert_eq!(again["unchanged"], 2);

    let (st, e) = json(
        call(&s, Method::POST, path, Some(&admin), Some(json!({"organizations": [
            {"slug": "other-org"},
            {"slug": "acme-corp", "clients": [{"clientId": "x", "name": "X", "redirectUris": [], "grantTypes": ["client_credentials"], "secretFrom": {"file": "/etc/passwd"}}]}
        ]}))).await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    let fields: Vec<&str> = e["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"organizations[0].slug"), "{e}");
    assert!(
        fields.contains(&"organizations[1].clients[0].secretFrom"),
        "{e}"
    );

    // A viewer may plan nothing it could not do.
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let mut more = doc.clone();
    more["organizations"][0]["clients"][0]["name"] = json!("Renamed");
    let (st, e) = json(call(&s, Method::POST, path, Some(&viewer), Some(more)).await).await;
    assert_eq!(st, 403, "{e}");
    assert!(e.to_string().contains("oauth-clients:edit"), "{e}");
    let v: Value = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/oauth-clients/pipeline-app",
            Some(&admin),
            None,
        )
        .await,
    )
    .await
    .1;
    assert_eq!(v["name"], "Pipeline app");
}
