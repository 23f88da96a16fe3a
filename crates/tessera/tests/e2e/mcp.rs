//! The whole chain of the MCP authorization specification against a small resource server
//! protected by Tessera, as `docs/mcp.md` walks it: a 401 naming the protected-resource
//! metadata, that metadata (from Tessera's admin API), the authorization server's metadata,
//! a client known by its Client ID Metadata Document, authorize with `resource`, a token whose
//! `aud` is the resource, and the resource server checking it by introspection with its own
//! identifier; a token for another resource is refused by this resource server.

use std::sync::Arc;

use reqwest::{redirect::Policy, Method};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{acme_with_alice, call, hidden, json, jwt_claims, set_cookie};

/// A resource server on 127.0.0.1: `/.well-known/oauth-protected-resource` serves its
/// metadata; `/mcp` answers 200 to a bearer token that Tessera's introspection says is
/// active for its identifier, and 401 with the challenge otherwise.
struct ResourceServer {
    origin: String,
}

async fn resource_server(
    metadata: Value,
    introspect_url: String,
    rs_client: (String, String),
) -> ResourceServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_resource(listener, metadata, introspect_url, rs_client)
}

/// A resource server on an address already bound (so that its own URL can be the resource's
/// identifier).
fn serve_resource(
    listener: tokio::net::TcpListener,
    metadata: Value,
    introspect_url: String,
    rs_client: (String, String),
) -> ResourceServer {
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let challenge =
        format!("Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource\"");
    let shared = Arc::new((
        metadata,
        introspect_url,
        rs_client,
        challenge,
        reqwest::Client::new(),
    ));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let (metadata, introspect_url, (rs_id, rs_secret), challenge, http) = &*shared;
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let path = text.split(' ').nth(1).unwrap_or("").to_owned();
                let bearer = text
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        (k.eq_ignore_ascii_case("authorization")).then(|| v.trim().to_owned())
                    })
                    .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned));
                // Also at the path-aware address (RFC 9728 §3.1: the well-known suffix before
                // the resource's path), which clients try first.
                let (status, extra, body) =
                    if path.starts_with("/.well-known/oauth-protected-resource") {
                        ("200 OK", String::new(), metadata.to_string())
                    } else {
                        let active = match &bearer {
                            None => false,
                            Some(token) => {
                                let v: Value = http
                                    .post(introspect_url)
                                    .basic_auth(rs_id, Some(rs_secret))
                                    .form(&[
                                        ("token", token.as_str()),
                                        ("resource", metadata["resource"].as_str().unwrap()),
                                    ])
                                    .send()
                                    .await
                                    .unwrap()
                                    .json()
                                    .await
                                    .unwrap();
                                v["active"] == true
                            }
                        };
                        if active {
                            (
                                "200 OK",
                                String::new(),
                                json!({"tools": ["search"]}).to_string(),
                            )
                        } else {
                            (
                                "401 Unauthorized",
                                format!("www-authenticate: {challenge}\r\n"),
                                json!({"error": "invalid_token"}).to_string(),
                            )
                        }
                    };
                let res = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(res.as_bytes()).await;
            });
        }
    });
    ResourceServer { origin }
}

#[tokio::test]
async fn the_mcp_authorization_chain_end_to_end() {
    let s = tessera_testkit::TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let admin_api = "/orgs/acme-corp/api/v1/admin";

    // The operator: two API resources, the registration policy that accepts client ID
    // metadata documents, and a confidential client for the resource servers' introspection.
    let mut ids = vec![];
    for (identifier, name) in [
        ("https://mcp.example.com/mcp", "Example MCP server"),
        ("https://other.example.com/mcp", "Another MCP server"),
    ] {
        let (st, r) = json(
            call(
                &s,
                Method::POST,
                &format!("{admin_api}/api-resources"),
                Some(&admin),
                Some(json!({"identifier": identifier, "name": name,
                    "scopes": [{"name": "tools", "description": "Use the tools"}]})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    call(
        &s,
        Method::PUT,
        &format!("{admin_api}/registration-policy"),
        Some(&admin),
        Some(json!({"clientIdMetadataDocuments": true})),
    )
    .await;
    let (_, rs) = json(
        call(
            &s,
            Method::POST,
            &format!("{admin_api}/oauth-clients"),
            Some(&admin),
            Some(
                json!({"clientId": "resource-servers", "name": "Resource servers",
                "redirectUris": [], "grantTypes": ["client_credentials"]}),
            ),
        )
        .await,
    )
    .await;
    let rs_client = (
        "resource-servers".to_owned(),
        rs["secret"].as_str().unwrap().to_owned(),
    );
    let introspect = s.url("/orgs/acme-corp/api/v1/oauth/introspect");
    let mut servers = vec![];
    for id in &ids {
        let (st, metadata) = json(
            call(
                &s,
                Method::GET,
                &format!("{admin_api}/api-resources/{id}/metadata"),
                Some(&admin),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(st, 200);
        servers.push(resource_server(metadata, introspect.clone(), rs_client.clone()).await);
    }
    let mcp = &servers[0];

    // The client, step by step. 1: the resource server's 401 names its metadata.
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(format!("{}/mcp", mcp.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let metadata_url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    // 2: the protected-resource metadata names the resource and its authorization server.
    let prm: Value = http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resource = prm["resource"].as_str().unwrap().to_owned();
    assert_eq!(resource, "https://mcp.example.com/mcp");
    let issuer = prm["authorization_servers"][0].as_str().unwrap().to_owned();
    // 3: the authorization server's metadata (RFC 8414, the well-known URL with the
    // issuer's path after it).
    let path = issuer
        .split_once("://")
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .1;
    let asm: Value = http
        .get(s.url(&format!("/.well-known/oauth-authorization-server/{path}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asm["issuer"], issuer.as_str());
    assert_eq!(asm["client_id_metadata_document_supported"], true);
    assert!(asm["code_challenge_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("S256")));
    // 4: the client is known by its metadata document.
    let doc_server = crate::support::jwks_server(json!({})).await;
    let client_id = doc_server.url.clone();
    let redirect = "http://127.0.0.1:33418/callback";
    *doc_server.set.lock().unwrap() = json!({
        "client_id": client_id, "client_name": "Research Agent",
        "redirect_uris": [redirect], "token_endpoint_auth_method": "none",
        "scope": "openid"
    });
    // 5: authorize with the resource and PKCE; the user signs in and consents.
    let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
    let challenge_s256 = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
    };
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", redirect),
            ("scope", "tools"),
            ("resource", resource.as_str()),
            ("state", "xyz"),
            ("code_challenge", challenge_s256.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let res = http
        .get(format!(
            "{}?{q}",
            asm["authorization_endpoint"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let binding = set_cookie(&res, "tessera_browser").unwrap();
    let html = res.text().await.unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = http
        .post(s.url("/orgs/acme-corp/login"))
        .header("cookie", &binding)
        .form(&[
            ("request", req.as_str()),
            ("csrf_token", csrf.as_str()),
            ("username", "alice"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    let session = set_cookie(&res, "tessera_session").unwrap();
    let consent = res.text().await.unwrap();
    assert!(consent.contains("Research Agent (127.0.0.1)"), "{consent}");
    assert!(consent.contains("Example MCP server") && consent.contains("Use the tools"));
    let res = http
        .post(s.url("/orgs/acme-corp/consent"))
        .header("cookie", format!("{binding}; {session}"))
        .form(&[
            ("request", req.as_str()),
            ("csrf_token", csrf.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    // 6: the token, with the resource again (RFC 8707 §2.2), audience-bound to it.
    let (st, tokens) = json(
        http.post(asm["token_endpoint"].as_str().unwrap())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
                ("client_id", client_id.as_str()),
                ("code_verifier", verifier),
                ("resource", resource.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(token)["aud"], resource.as_str());
    assert_eq!(jwt_claims(token)["client_id"], client_id.as_str());
    // 7: the resource server accepts it; the other resource's server refuses it.
    let res = http
        .get(format!("{}/mcp", mcp.origin))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = http
        .get(format!("{}/mcp", servers[1].origin))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        401,
        "a token for resource A is refused by resource B"
    );
}

/// The OAuth client of the official MCP TypeScript SDK (`@modelcontextprotocol/sdk`, installed
/// by the test command from `interop/mcp/package-lock.json`) drives the chain against a test
/// resource server whose own URL is the API resource: discovery from the server URL,
/// dynamic registration, authorize with PKCE and `resource`, the code redeemed; the token
/// opens the resource server.
#[tokio::test]
async fn the_mcp_typescript_sdk_gets_a_token_for_the_resource() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/mcp");
    let installed = dir.join("node_modules/@modelcontextprotocol/sdk").is_dir();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !(installed && node) {
        assert!(
            std::env::var("TESSERA_TEST_REQUIRE_NODE").as_deref() != Ok("1"),
            "node or interop/mcp/node_modules is missing (npm ci --prefix interop/mcp)"
        );
        eprintln!("skipped: node or the MCP SDK is not installed (npm ci --prefix interop/mcp)");
        return;
    }
    let s = tessera_testkit::TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let admin_api = "/orgs/acme-corp/api/v1/admin";
    let (st, p) = json(
        call(
            &s,
            Method::PUT,
            &format!("{admin_api}/registration-policy"),
            Some(&admin),
            Some(json!({"mode": "open", "allowedScopes": ["openid", "tools"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{p}");
    let (_, rs) = json(
        call(
            &s,
            Method::POST,
            &format!("{admin_api}/oauth-clients"),
            Some(&admin),
            Some(
                json!({"clientId": "resource-servers", "name": "Resource servers",
                "redirectUris": [], "grantTypes": ["client_credentials"]}),
            ),
        )
        .await,
    )
    .await;
    let rs_client = (
        "resource-servers".to_owned(),
        rs["secret"].as_str().unwrap().to_owned(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mcp_url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (st, r) = json(
        call(
            &s,
            Method::POST,
            &format!("{admin_api}/api-resources"),
            Some(&admin),
            Some(json!({"identifier": mcp_url, "name": "Test MCP server",
                "scopes": [{"name": "tools", "description": "Use the tools"}]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{r}");
    let (_, metadata) = json(
        call(
            &s,
            Method::GET,
            &format!(
                "{admin_api}/api-resources/{}/metadata",
                r["id"].as_str().unwrap()
            ),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    let _rs = serve_resource(
        listener,
        metadata,
        s.url("/orgs/acme-corp/api/v1/oauth/introspect"),
        rs_client,
    );
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new("node")
            .arg(dir.join("chain.mjs"))
            .env("MCP_URL", &mcp_url)
            .env("ORIGIN", s.url(""))
            .env("LOGIN_PATH", "/orgs/acme-corp/login")
            .env("CONSENT_PATH", "/orgs/acme-corp/consent")
            .env("USERNAME", "alice")
            .env("PASSWORD", "correct horse battery")
            .output(),
    )
    .await
    .expect("the SDK finishes within a minute")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["result"], "AUTHORIZED", "{v}");
    assert_eq!(v["status"], 200, "the MCP server accepts the token: {v}");
    let claims = jwt_claims(v["access_token"].as_str().unwrap());
    assert_eq!(
        claims["aud"],
        mcp_url.as_str(),
        "audience-bound to the resource"
    );
    assert_eq!(claims["scope"], "tools");
}
