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
                let (status, extra, body) = if path == "/.well-known/oauth-protected-resource" {
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
