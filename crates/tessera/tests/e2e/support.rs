//! Small helpers shared by the tests.

use reqwest::{Method, Response};
use serde_json::Value;
use tessera_testkit::TestServer;

/// Sends a request with an optional bearer key and JSON body.
pub async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Response {
    let mut req = s.http.request(method, s.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request")
}

/// Status and JSON body.
pub async fn json(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, v)
}

/// The `name=value` of the response's `Set-Cookie` named `name`, if any.
pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|kv| kv.starts_with(&format!("{name}=")))
}

/// Cookies by hand, as a browser keeps them for one site: every `Set-Cookie` is kept and
/// sent back; an empty value or `Max-Age=0` removes one.
#[derive(Default)]
pub struct Jar(pub std::collections::BTreeMap<String, String>);

impl Jar {
    /// The `Cookie` header.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the cookies a response sets.
    pub fn take(&mut self, res: &Response) {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_owned(), val.to_owned());
            }
        }
    }
}

/// A browser for the sign-in pages: no automatic redirects, and a [`Jar`]. Extra headers
/// (`Origin`, `Sec-Fetch-Site`) are the caller's, per request.
pub struct Browser {
    pub http: reqwest::Client,
    jar: std::sync::Mutex<Jar>,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar: Default::default(),
        }
    }

    /// One cookie's value.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().0.get(name).cloned()
    }

    async fn send(&self, mut req: reqwest::RequestBuilder, headers: &[(&str, &str)]) -> Response {
        let cookies = self.jar.lock().unwrap().header();
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request");
        self.jar.lock().unwrap().take(&res);
        res
    }

    pub async fn get(&self, url: &str) -> Response {
        self.send(self.http.get(url), &[]).await
    }

    pub async fn post(
        &self,
        url: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        self.send(self.http.post(url).form(form), headers).await
    }
}

/// The value of the hidden input `name` of a page, as a browser would post it (unescaped).
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    unescape_html(html[start..].split('"').next().unwrap())
}

/// Text of an HTML attribute or element as a browser reads it: the five named references
/// and decimal or hexadecimal numeric ones decoded.
pub fn unescape_html(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "amp" => Some('&'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A client's server on 127.0.0.1, as a relying party publishes its `jwks_uri` or a
/// `request_uri`: whatever path is asked, it serves the current document (a JWK Set as
/// `application/json`; a string, a request object, as `application/jwt`) and counts the
/// fetches.
pub struct JwksServer {
    /// `{origin}/jwks.json`.
    pub url: String,
    /// `http://127.0.0.1:{port}`.
    pub origin: String,
    pub set: std::sync::Arc<std::sync::Mutex<Value>>,
    pub fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

pub async fn jwks_server(initial: Value) -> JwksServer {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{origin}/jwks.json");
    let set = std::sync::Arc::new(std::sync::Mutex::new(initial));
    let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (served, counted) = (set.clone(), fetches.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (served, counted) = (served.clone(), counted.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let (body, ty) = match &*served.lock().unwrap() {
                    Value::String(jwt) => (jwt.clone(), "application/jwt"),
                    other => (other.to_string(), "application/json"),
                };
                let res = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {ty}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(res.as_bytes()).await;
            });
        }
    });
    JwksServer {
        url,
        origin,
        set,
        fetches,
    }
}

/// The claims of a JWT, read without verifying it (the tests verify signatures where that is
/// what they test).
pub fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims")
}

/// The client registry of organization `acme-corp`, where most tests work.
pub const ACME_CLIENTS: &str = "/orgs/acme-corp/api/v1/admin/oauth-clients";
/// The password of [`add_alice`]'s user.
pub const ALICE_PASSWORD: &str = "correct horse battery";

/// Organization `acme-corp` with user `alice` (an e-mail, a name and [`ALICE_PASSWORD`]), and
/// an admin key for it.
pub async fn acme_with_alice(s: &TestServer) -> String {
    s.org("acme-corp").await;
    s.services
        .create_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            tessera_core::users::NewUser {
                username: "alice".into(),
                email: Some("alice@example.com".into()),
                name: Some("Alice Liddell".into()),
                password: Some(secrecy::SecretString::from(ALICE_PASSWORD)),
                roles: vec![],
                ..Default::default()
            },
        )
        .await
        .expect("alice");
    s.org_key("acme-corp", &["admin"], &[]).await
}

/// Creates a client of `acme-corp` over REST (asserting the 201); its id and, for a client
/// that authenticates with a secret, the secret.
pub async fn acme_client(s: &TestServer, admin: &str, body: Value) -> (String, Option<String>) {
    let (st, c) = json(call(s, Method::POST, ACME_CLIENTS, Some(admin), Some(body)).await).await;
    assert_eq!(st, 201, "{c}");
    (
        c["id"].as_str().expect("id").to_owned(),
        c["secret"].as_str().map(str::to_owned),
    )
}

/// Reads one HTTP/1.1 request from `sock` (a test receiver's): its head (request line and
/// headers) and its body (by `content-length`). `None` when the peer closed first.
pub async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let (head_len, len) = loop {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..i]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, len);
        }
    };
    while data.len() < head_len + len {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&data[..head_len]).into_owned();
    Some((head, data[head_len..head_len + len].to_vec()))
}
