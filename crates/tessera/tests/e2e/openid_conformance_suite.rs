//! A re-creation of the OpenID Foundation's conformance suite (`openid-certification/
//! conformance-suite`) against a running Tessera: the modules of the plans `oidcc-basic`,
//! `oidcc-config`, `oidcc-rp-initiated-logout`, `oidcc-formpost-basic` and `oidcc-dynamic`,
//! each one test named after the module (`oidcc-server` is [`oidcc_server`]), in a module
//! named after its plan where a module runs in several. Each test sends what the module sends
//! and asserts the conditions the module runs, FAILURE and WARNING conditions alike: the goal
//! is a certification run with no failure and no warning.
//!
//! The suite's static client is a confidential client with `client_secret_basic` (a second one
//! with `client_secret_post`), no PKCE (the suite sends none, except in the PKCE module),
//! made through the admin API, or in the dynamic plan through the registration endpoint as
//! the suite registers it (with `client_secret_basic`: the plan's `private_key_jwt` variant
//! needs assertion authentication, which Tessera does not offer yet),
//! scopes `openid profile email address phone offline_access`, and a user whose every standard
//! claim is set. Tessera runs on plain HTTP on loopback here; where the suite requires `https`,
//! these tests accept `http` on a loopback host and nothing else.

use std::collections::BTreeSet;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use tessera_testkit::TestServer;

use crate::support::{call, hidden, json, Browser};

const ORG: &str = "conformance";
const CALLBACK: &str = "https://rp.example/test/a/tessera/callback";
const USERNAME: &str = "buffy";
const PASSWORD: &str = "stake and garlic";

/// A client of the plan: its id and secret, or the key it signs its assertions with
/// (`private_key_jwt`, the dynamic plan's client authentication).
struct Client {
    id: String,
    secret: String,
    key: Option<tessera_crypto::jws::SigningKey>,
}

/// The registration policy the dynamic plan needs: open, under the suite's address, and no
/// PKCE demanded of confidential clients (the suite sends none).
async fn open_registration(s: &TestServer, key: &str) {
    let (st, p) = json(
        call(
            s,
            Method::PUT,
            &format!("/orgs/{ORG}/api/v1/admin/registration-policy"),
            Some(key),
            Some(json!({"mode": "open", "requirePkce": false,
                        "redirectUriPrefixes": ["https://rp.example/"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{p}");
}

/// An RSA public key for the registration request's `jwks` (RFC 7517 Appendix A.1), as the
/// suite's `GenerateRS256ClientJWKs` sends one.
const CLIENT_JWK: &str = r#"{"kty":"RSA","kid":"2011-04-29","use":"sig","alg":"RS256","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#;

/// `OIDCCCreateDynamicClientRegistrationRequest` and
/// `CallDynamicRegistrationEndpointAndVerifySuccessfulResponse`: a name, the code grant, the
/// client's public keys, the authentication method, `response_types`, the redirect URI and
/// contacts (`extra` adds or replaces members); 201 with JSON, the client's credentials and its
/// management credentials. Returns the client and the whole response.
async fn register_client(
    s: &TestServer,
    name: &str,
    method: &str,
    extra: Value,
) -> (Client, Value) {
    // GenerateRS256ClientJWKs: a private_key_jwt client's own key; any other client sends
    // a public key all the same.
    let key = (method == "private_key_jwt").then(|| {
        tessera_crypto::jws::SigningKey::generate(
            tessera_crypto::jws::Alg::RS256,
            format!("rp-{}", random(8)),
        )
        .unwrap()
        .0
    });
    let jwk: Value = match &key {
        Some(k) => k.public_jwk(),
        None => serde_json::from_str(CLIENT_JWK).unwrap(),
    };
    let mut body = json!({
        "client_name": name,
        "grant_types": ["authorization_code"],
        "jwks": {"keys": [jwk]},
        "token_endpoint_auth_method": method,
        "response_types": ["code"],
        "redirect_uris": [CALLBACK],
        "contacts": ["certification@oidf.example"],
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    let res = s
        .http
        .post(s.url(&format!("/orgs/{ORG}/api/v1/connect/register")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "EnsureHttpStatusCodeIs201");
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct.split(';').next().unwrap().trim(), "application/json");
    let (_, r) = json(res).await;
    assert!(
        r.get("error").is_none(),
        "CheckNoErrorFromDynamicRegistrationEndpoint: {r}"
    );
    // VerifyClientManagementCredentials: both or neither.
    assert_eq!(
        r.get("registration_access_token").is_some(),
        r.get("registration_client_uri").is_some()
    );
    assert!(secure_url(r["registration_client_uri"].as_str().unwrap()));
    // VerifyDynamicRegistrationResponseClientCredentials.
    let id = r["client_id"].as_str().expect("client_id").to_owned();
    assert_eq!(r["token_endpoint_auth_method"], method);
    let secret = match method {
        "none" | "private_key_jwt" => {
            assert!(r.get("client_secret").is_none());
            String::new()
        }
        _ => {
            let secret = r["client_secret"].as_str().expect("client_secret");
            assert!(r["client_secret_expires_at"].is_number());
            secret.to_owned()
        }
    };
    (Client { id, secret, key }, r)
}

/// The OP under test, with the suite's configuration.
struct Op {
    s: TestServer,
    /// The server's clock: the modules that wait (30 s for a reused code, a second or two
    /// for a later `auth_time` or `iat`) move it instead of sleeping.
    clock: tessera_domain::clock::MockClock,
    issuer: String,
    config: Value,
    jwks: jsonwebtoken::jwk::JwkSet,
    client: Client,
    client2: Client,
    post_client: Client,
}

/// How the token endpoint request authenticates (the plan's `client_auth_type`); a client
/// with a key always sends an assertion, whose `aud` is the token endpoint, or the issuer
/// with `JwtIssuer`.
#[derive(Clone, Copy)]
enum Auth {
    Basic,
    Post,
    JwtIssuer,
}

/// An authorization request as the suite builds it: parameters sorted by name.
struct AuthRequest {
    params: Vec<(String, String)>,
    state: Option<String>,
    nonce: Option<String>,
}

/// What came back to the redirect URI.
struct Callback {
    params: Vec<(String, String)>,
}

impl Callback {
    fn get(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

/// A token endpoint response that passed the suite's token checks.
struct Tokens {
    access_token: String,
    refresh_token: Option<String>,
    id_token: String,
    claims: Value,
}

fn random(n: usize) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let bytes: Vec<u8> = (0..n).map(|_| rand_byte()).collect();
    for b in bytes {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let _ = write!(out, "{}", alphabet[usize::from(b) % alphabet.len()] as char);
    }
    out
}

fn rand_byte() -> u8 {
    // The first byte of a version 4 UUID is random.
    uuid::Uuid::new_v4().as_bytes()[0]
}

/// The suite's random state and nonce: 10 alphanumerics, or for a longer one N−4 of them
/// followed by `-._~`.
fn state_value(len: usize) -> String {
    if len <= 10 {
        random(10)
    } else {
        format!("{}-._~", random(len - 4))
    }
}

async fn client(s: &TestServer, key: &str, body: Value) -> Client {
    let (st, c) = json(
        call(
            s,
            Method::POST,
            &format!("/orgs/{ORG}/api/v1/admin/oauth-clients"),
            Some(key),
            Some(body),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    Client {
        id: c["id"].as_str().unwrap().to_owned(),
        secret: c["secret"].as_str().unwrap().to_owned(),
        key: None,
    }
}

/// The OP with the suite's static clients and a user whose every standard claim is set.
async fn op() -> Op {
    let clock = tessera_domain::clock::MockClock::new(time::OffsetDateTime::now_utc());
    let s = TestServer::start_with_clock(std::sync::Arc::new(clock.clone())).await;
    s.org(ORG).await;
    let key = s.org_key(ORG, &["owner"], &[]).await;
    let mut profile = Map::new();
    for (k, v) in json!({
        "givenName": "Buffy", "familyName": "Summers", "middleName": "Anne",
        "nickname": "Buff", "profile": "https://sunnydale.example/buffy",
        "picture": "https://sunnydale.example/buffy.png", "website": "https://buffy.example",
        "gender": "female", "birthdate": "1981-01-19", "zoneinfo": "America/Los_Angeles",
        "locale": "en-US", "emailVerified": true, "phoneNumber": "+1 805 555 0100",
        "phoneNumberVerified": true,
        "address": {"formatted": "1630 Revello Drive\nSunnydale, CA 95037", "streetAddress": "1630 Revello Drive",
                    "locality": "Sunnydale", "region": "CA", "postalCode": "95037", "country": "US"},
    })
    .as_object()
    .unwrap()
    {
        profile.insert(k.clone(), v.clone());
    }
    s.services
        .create_user(
            &tessera_core::Context::cli(),
            ORG,
            tessera_core::users::NewUser {
                username: USERNAME.into(),
                email: Some("buffy@sunnydale.example".into()),
                name: Some("Buffy Summers".into()),
                password: Some(secrecy::SecretString::from(PASSWORD)),
                roles: vec![],
                profile,
            },
        )
        .await
        .unwrap();
    let body = |name: &str| {
        json!({
            "name": name, "redirectUris": [CALLBACK],
            "allowedScopes": ["openid", "profile", "email", "address", "phone", "offline_access"],
            "grantTypes": ["authorization_code", "refresh_token"],
            "requirePkce": false,
            "postLogoutRedirectUris": ["https://rp.example/test/a/tessera/post_logout_redirect"],
        })
    };
    let (client1, client2, post_client) = if dynamic_mode() {
        open_registration(&s, &key).await;
        // The plan's variant: `private_key_jwt` (the post client serves no module here).
        let reg = |name: &'static str, method: &'static str| {
            let s = &s;
            async move {
                register_client(
                    s,
                    name,
                    method,
                    json!({"grant_types": ["authorization_code", "refresh_token"]}),
                )
                .await
                .0
            }
        };
        (
            reg("Conformance client", "private_key_jwt").await,
            reg("Conformance client 2", "private_key_jwt").await,
            reg("Conformance client (post)", "client_secret_post").await,
        )
    } else {
        (
            client(&s, &key, body("Conformance client")).await,
            client(&s, &key, body("Conformance client 2")).await,
            client(&s, &key, body("Conformance client (post)")).await,
        )
    };
    let issuer = s.url(&format!("/orgs/{ORG}"));
    let res = s
        .http
        .get(s.url(&format!("/orgs/{ORG}/.well-known/openid-configuration")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let config: Value = res.json().await.unwrap();
    let jwks = s
        .http
        .get(config["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Op {
        s,
        clock,
        issuer,
        config,
        jwks,
        client: client1,
        client2,
        post_client,
    }
}

/// `https`, or `http` on a loopback host (the tests' only other scheme).
fn secure_url(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| {
        u.scheme() == "https"
            || (u.scheme() == "http"
                && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
    })
}

impl Op {
    /// Lets `d` pass on the server's clock.
    fn wait(&self, d: std::time::Duration) {
        self.clock
            .advance(time::Duration::try_from(d).expect("a short wait"));
    }

    /// The suite's default request (`client_id, nonce, redirect_uri, response_type, scope,
    /// state`), with `extra` added (or replacing) and the names in `omit` left out.
    fn request(&self, client: &Client, extra: &[(&str, &str)], omit: &[&str]) -> AuthRequest {
        let state = state_value(10);
        let nonce = state_value(10);
        let mut p: Vec<(String, String)> = vec![
            ("client_id".into(), client.id.clone()),
            ("nonce".into(), nonce.clone()),
            ("redirect_uri".into(), CALLBACK.into()),
            ("response_type".into(), "code".into()),
            ("scope".into(), "openid".into()),
            ("state".into(), state.clone()),
        ];
        if form_post_mode() {
            // SetAuthorizationEndpointRequestResponseModeToFormPost.
            p.push(("response_mode".into(), "form_post".into()));
        }
        for (k, v) in extra {
            p.retain(|(n, _)| n != k);
            p.push(((*k).to_owned(), (*v).to_owned()));
        }
        p.retain(|(n, _)| !omit.contains(&n.as_str()));
        p.sort();
        let has = |k: &str| p.iter().any(|(n, _)| n == k);
        AuthRequest {
            state: has("state").then(|| p.iter().find(|(n, _)| n == "state").unwrap().1.clone()),
            nonce: has("nonce").then(|| p.iter().find(|(n, _)| n == "nonce").unwrap().1.clone()),
            params: p,
        }
    }

    fn authorization_endpoint(&self) -> &str {
        self.config["authorization_endpoint"].as_str().unwrap()
    }

    /// Sends the browser to the authorization endpoint (GET, or POST as a form) and does what
    /// the suite's scripted browser does: signs in and consents on the pages it meets, until
    /// the OP redirects to the client. `None` when it shows a page that is neither (an error
    /// page).
    async fn authorize(&self, b: &Browser, req: &AuthRequest, post: bool) -> Option<Callback> {
        let endpoint = self.authorization_endpoint().to_owned();
        let mut res = if post {
            let form: Vec<(&str, &str)> = req
                .params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            b.post(&endpoint, &form, &[]).await
        } else {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(req.params.iter())
                .finish();
            b.get(&format!("{endpoint}?{q}")).await
        };
        for _ in 0..5 {
            if res.status() == StatusCode::SEE_OTHER {
                let loc = res.headers()["location"].to_str().unwrap().to_owned();
                if loc.starts_with(CALLBACK) {
                    // RejectAuthCodeInUrlQuery, RejectErrorInUrlQuery, CheckCallbackHttpMethodIsPost.
                    assert!(
                        !form_post_mode(),
                        "form_post asked, the query answered: {loc}"
                    );
                    let u = url::Url::parse(&loc).unwrap();
                    assert!(
                        u.fragment().is_none(),
                        "a code flow answers in the query, not the fragment"
                    );
                    return Some(Callback {
                        params: u.query_pairs().map(|(k, v)| (k.into(), v.into())).collect(),
                    });
                }
                assert!(
                    !loc.starts_with("https://rp.example"),
                    "the OP redirected to an unregistered address: {loc}"
                );
                res = b.get(&loc).await;
                continue;
            }
            let html = res.text().await.unwrap();
            let marker = format!("<form method=\"post\" action=\"{CALLBACK}\">");
            if let Some(at) = html.find(&marker) {
                // The form_post page: the browser posts its fields to the redirect URI, as
                // `application/x-www-form-urlencoded`.
                assert!(form_post_mode(), "a form_post page without form_post");
                let form = &html[at..html[at..].find("</form>").map_or(html.len(), |e| at + e)];
                return Some(Callback {
                    params: form_fields(form),
                });
            }
            let page = |path: &str| self.s.url(&format!("/orgs/{ORG}/{path}"));
            let same = [("sec-fetch-site", "same-origin")];
            if html.contains("name=\"password\"") {
                res = b
                    .post(
                        &page("login"),
                        &[
                            ("request", &hidden(&html, "request")),
                            ("csrf_token", &hidden(&html, "csrf_token")),
                            ("username", USERNAME),
                            ("password", PASSWORD),
                        ],
                        &same,
                    )
                    .await;
            } else if html.contains("name=\"decision\" value=\"allow\"") {
                res = b
                    .post(
                        &page("consent"),
                        &[
                            ("request", &hidden(&html, "request")),
                            ("csrf_token", &hidden(&html, "csrf_token")),
                            ("decision", "allow"),
                        ],
                        &same,
                    )
                    .await;
            } else {
                return None;
            }
        }
        panic!("the flow did not come back to the client");
    }

    /// 2.3: the authorization response of a successful request.
    fn check_success(&self, cb: &Callback, req: &AuthRequest) -> String {
        // ValidateIssIfPresentInAuthorizationResponse (FAILURE).
        if let Some(iss) = cb.get("iss") {
            assert_eq!(iss, self.issuer, "iss in the authorization response");
        }
        // CheckIfAuthorizationEndpointError (stop).
        assert!(cb.get("error").is_none(), "an error: {:?}", cb.params);
        // CheckStateInAuthorizationResponse (FAILURE).
        assert_eq!(cb.get("state"), req.state.as_deref(), "state echoed");
        let code = cb.get("code").expect("a code").to_owned();
        code
    }

    /// 2.7: an error response on the redirect URI.
    fn check_error(&self, cb: &Callback, req: &AuthRequest) -> String {
        assert_eq!(
            cb.get("state"),
            req.state.as_deref(),
            "state echoed exactly"
        );
        if let Some(iss) = cb.get("iss") {
            assert_eq!(iss, self.issuer);
        }
        let error = cb.get("error").expect("an error").to_owned();
        assert!(cb.get("code").is_none(), "no code with an error");
        // CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint (WARNING).
        for (k, _) in &cb.params {
            assert!(
                [
                    "error",
                    "error_description",
                    "error_uri",
                    "state",
                    "session_state",
                    "iss"
                ]
                .contains(&k.as_str()),
                "unexpected parameter {k} in an error response"
            );
        }
        if let Some(d) = cb.get("error_description") {
            // CR/LF/TAB (WARNING) and the allowed characters (FAILURE).
            assert!(d.bytes().all(|b| b == b' '
                || b == b'!'
                || (0x23..=0x5b).contains(&b)
                || (0x5d..=0x7e).contains(&b)));
        }
        error
    }

    /// 2.4 and 2.5: the token request for `code` and the suite's checks of the response and
    /// of the id_token.
    async fn token(
        &self,
        client: &Client,
        auth: Auth,
        code: &str,
        req: &AuthRequest,
        extra: &[(&str, &str)],
    ) -> Tokens {
        let res = self.token_request(client, auth, code, extra).await;
        assert_eq!(res.status(), 200, "CheckTokenEndpointHttpStatus200");
        let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
        assert!(cache.split(',').any(|p| p.trim() == "no-store"));
        let (_, t) = json(res).await;
        assert!(t.get("error").is_none(), "{t}");
        let access_token = t["access_token"].as_str().expect("access_token").to_owned();
        // CallProtectedResource accepts Bearer only (case-insensitive).
        assert!(t["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer"));
        // ExtractExpiresInFromTokenEndpointResponse (WARNING in oidcc-server) and
        // ValidateExpiresIn.
        let expires_in = t["expires_in"].as_i64().expect("expires_in");
        assert!(expires_in > 0 && expires_in <= 31_536_000);
        let id_token = t["id_token"].as_str().expect("an id_token").to_owned();
        let claims =
            self.check_id_token(client, &id_token, req.nonce.as_deref(), Some(&access_token));
        Tokens {
            access_token,
            refresh_token: t["refresh_token"].as_str().map(str::to_owned),
            id_token,
            claims,
        }
    }

    async fn token_request(
        &self,
        client: &Client,
        auth: Auth,
        code: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ];
        form.extend_from_slice(extra);
        self.send_token(client, auth, form).await
    }

    async fn send_token(
        &self,
        client: &Client,
        auth: Auth,
        mut form: Vec<(&str, &str)>,
    ) -> reqwest::Response {
        let endpoint = self.config["token_endpoint"].as_str().unwrap();
        let req = self
            .s
            .http
            .post(endpoint)
            .header("accept", "application/json");
        // A client with a key authenticates with an assertion, whatever the module asks of
        // secret clients (CreateClientAuthenticationAssertionClaims: aud = the token endpoint,
        // a minute of life).
        let assertion;
        if let Some(key) = &client.key {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let aud = match auth {
                Auth::JwtIssuer => self.issuer.clone(),
                _ => endpoint.to_owned(),
            };
            assertion = key
                .sign_jwt(
                    "JWT",
                    &json!({"iss": client.id, "sub": client.id, "aud": aud, "jti": random(20),
                            "nbf": now, "iat": now, "exp": now + 60}),
                )
                .unwrap();
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
            form.push(("client_assertion", &assertion));
            return req.form(&form).send().await.unwrap();
        }
        let req = match auth {
            Auth::Basic | Auth::JwtIssuer => {
                // RFC 6749 §2.3.1: each part form-urlencoded before base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let b = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    enc(&client.id),
                    enc(&client.secret)
                ));
                req.header("authorization", format!("Basic {b}"))
            }
            Auth::Post => {
                form.push(("client_id", &client.id));
                form.push(("client_secret", &client.secret));
                req
            }
        };
        req.form(&form).send().await.unwrap()
    }

    /// `PerformStandardIdTokenChecks`, the `at_hash` check and the id_token claim rules of
    /// `oidcc-server` (no claim that was not requested, no `name`).
    fn check_id_token(
        &self,
        client: &Client,
        id_token: &str,
        nonce: Option<&str>,
        access: Option<&str>,
    ) -> Value {
        // ValidateIdTokenSignature: a key of the JWKS with the header's kid, kty and alg.
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        let kid = header.kid.clone().expect("EnsureIdTokenContainsKid");
        let jwk = self.jwks.find(&kid).expect("the kid is published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.validate_aud = false;
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(id_token, &key, &v)
            .expect("the id_token verifies")
            .claims;
        // ValidateIdToken.
        assert_eq!(claims["iss"], self.issuer.as_str(), "Issuer mismatch");
        let aud_ok = match &claims["aud"] {
            Value::String(a) => a == &client.id,
            Value::Array(a) => a.contains(&json!(client.id)),
            _ => false,
        };
        assert!(aud_ok, "aud names our client");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let iat = claims["iat"].as_i64().unwrap();
        assert!(
            (now - 300..=now + 300).contains(&iat),
            "iat within 5 minutes"
        );
        assert!(claims["exp"].as_i64().unwrap() > now - 300, "not expired");
        if let Some(at) = claims.get("auth_time") {
            let at = at.as_i64().expect("auth_time is a number");
            assert!(at <= now + 300 && at > now - 366 * 86_400);
        }
        if let Some(acr) = claims.get("acr") {
            assert!(acr.as_str().is_some_and(|a| !a.is_empty()));
        }
        // ValidateIdTokenNonce.
        assert_eq!(
            claims.get("nonce").and_then(Value::as_str),
            nonce,
            "Nonce values mismatch"
        );
        // CheckForSubjectInIdToken.
        let sub = claims["sub"].as_str().unwrap();
        assert!(
            !sub.is_empty() && sub.len() <= 255 && sub.bytes().all(|b| (0x20..=0x7e).contains(&b))
        );
        // ValidateAtHash with the hash of the alg (SHA-512 for EdDSA).
        if let (Some(at_hash), Some(access)) = (claims.get("at_hash"), access) {
            use sha2::Digest;
            let digest: Vec<u8> = match header.alg {
                jsonwebtoken::Algorithm::EdDSA => sha2::Sha512::digest(access.as_bytes()).to_vec(),
                _ => sha2::Sha256::digest(access.as_bytes()).to_vec(),
            };
            let half = &digest[..digest.len() / 2];
            assert_eq!(
                at_hash.as_str().unwrap(),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(half),
                "Invalid at_hash in token"
            );
        }
        // EnsureIdTokenDoesNotContainNonRequestedClaims and EnsureIdTokenDoesNotContainName
        // (WARNING): the id_token of a code flow carries no identity claim.
        let allowed = [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
            "at_hash",
            "c_hash",
            "nbf",
            "jti",
            "sid",
            "s_hash",
        ];
        for k in claims.as_object().unwrap().keys() {
            assert!(
                allowed.contains(&k.as_str()),
                "non-requested claim {k} in the id_token"
            );
        }
        claims
    }

    /// `CallUserInfoEndpoint` and the checks of `AbstractOIDCCUserInfoTest`.
    async fn userinfo(&self, res: reqwest::Response, id_claims: &Value) -> Value {
        assert_eq!(res.status(), 200, "EnsureHttpStatusCodeIs200");
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(
            ct.split(';').next().unwrap().trim(),
            "application/json",
            "EnsureContentTypeJson"
        );
        let info: Value = res.json().await.unwrap();
        validate_standard_claims(&info);
        assert_eq!(
            info["sub"], id_claims["sub"],
            "VerifyUserInfoAndIdTokenInTokenEndpointSameSub"
        );
        info
    }

    async fn userinfo_get(&self, access: &str) -> reqwest::Response {
        self.s
            .http
            .get(self.config["userinfo_endpoint"].as_str().unwrap())
            .bearer_auth(access)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
    }

    /// The standard flow: authorization, token (Basic), id_token checks and the base
    /// userinfo GET (200).
    async fn standard_flow(&self, b: &Browser, req: &AuthRequest) -> Tokens {
        self.standard_flow_with(b, req, &self.client, Auth::Basic, &[])
            .await
    }

    async fn standard_flow_with(
        &self,
        b: &Browser,
        req: &AuthRequest,
        client: &Client,
        auth: Auth,
        token_extra: &[(&str, &str)],
    ) -> Tokens {
        let cb = self
            .authorize(b, req, false)
            .await
            .expect("a redirect back");
        let code = self.check_success(&cb, req);
        let t = self.token(client, auth, &code, req, token_extra).await;
        assert_eq!(self.userinfo_get(&t.access_token).await.status(), 200);
        t
    }
}

/// The hidden fields of a form, names and values unescaped, in order.
fn form_fields(form: &str) -> Vec<(String, String)> {
    let unescape = crate::support::unescape_html;
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|input| {
            let name = input.strip_prefix("name=\"")?.split('"').next()?;
            let value = input.split("value=\"").nth(1)?.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

/// `ValidateUserInfoStandardClaims` / `ValidateIdTokenStandardClaims`: the types of the
/// standard claims.
fn validate_standard_claims(v: &Value) {
    let o = v.as_object().expect("an object");
    assert!(!o.is_empty());
    for (k, val) in o {
        match k.as_str() {
            "sub" | "name" | "given_name" | "family_name" | "middle_name" | "nickname"
            | "preferred_username" | "profile" | "picture" | "website" | "email" | "gender"
            | "zoneinfo" | "locale" | "phone_number" => {
                let s = val.as_str().unwrap_or_else(|| panic!("{k} is a string"));
                assert!(!s.trim().is_empty() && s != "null", "{k} is not blank");
            }
            "email_verified" | "phone_number_verified" => assert!(val.is_boolean(), "{k}"),
            "birthdate" => {
                let s = val.as_str().unwrap();
                assert!(s.len() == 10 || s.len() == 4, "{s}");
            }
            "updated_at" => {
                let t = val.as_i64().expect("updated_at is a number");
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                assert!(
                    t <= now + 300 && t >= 631_152_000,
                    "EnsureUserInfoUpdatedAtValid"
                );
            }
            "address" => {
                for (_, part) in val.as_object().expect("address is an object") {
                    assert!(part.as_str().is_some_and(|s| !s.trim().is_empty()));
                }
            }
            _ => {}
        }
    }
}

/// `VerifyScopesReturnedInUserInfoClaims` (WARNING): every claim of every scope asked for.
fn assert_scope_claims(info: &Value, scopes: &str) {
    let keys: BTreeSet<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for scope in scopes.split(' ') {
        let wanted: &[&str] = match scope {
            "openid" => &["sub"],
            "profile" => &[
                "name",
                "given_name",
                "family_name",
                "middle_name",
                "nickname",
                "profile",
                "picture",
                "website",
                "gender",
                "birthdate",
                "zoneinfo",
                "locale",
                "updated_at",
                "preferred_username",
            ],
            "email" => &["email", "email_verified"],
            "address" => &["address"],
            "phone" => &["phone_number", "phone_number_verified"],
            _ => &[],
        };
        for w in wanted {
            assert!(
                keys.contains(w),
                "{w} missing from userinfo for scope {scope}: {info}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// oidcc-config-certification-test-plan

/// `oidcc-discovery-endpoint-verification`: the discovery document and the JWKS (the config
/// plan's module, which the dynamic plan runs too).
#[tokio::test]
async fn oidcc_discovery_endpoint_verification() {
    discovery_endpoint_verification().await;
}

async fn discovery_endpoint_verification() {
    let op = op().await;
    let res =
        op.s.http
            .get(op.s.url(&format!("/orgs/{ORG}/.well-known/openid-configuration")))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct.split(';').next().unwrap(), "application/json");
    let c: Value = res.json().await.unwrap();
    // CheckDiscEndpointIssuer, CheckDiscEndpointIssuerIsValidUrl.
    assert_eq!(c["issuer"], op.issuer.as_str());
    let iss = url::Url::parse(&op.issuer).unwrap();
    assert!(iss.query().is_none() && iss.fragment().is_none() && iss.username().is_empty());
    assert!(secure_url(&op.issuer));
    // OIDCCCheckDiscEndpointResponseTypesSupported.
    assert!(c["response_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("code")));
    // CheckForUnexpectedParametersInServerMetadata (WARNING): every member is one RFC 8414,
    // OpenID Connect Discovery or a registered extension defines.
    let known = [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
        "scopes_supported",
        "response_types_supported",
        "response_modes_supported",
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "service_documentation",
        "ui_locales_supported",
        "op_policy_uri",
        "op_tos_uri",
        "revocation_endpoint",
        "revocation_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
        "introspection_endpoint",
        "introspection_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
        "code_challenge_methods_supported",
        "userinfo_endpoint",
        "end_session_endpoint",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "userinfo_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
        "display_values_supported",
        "claim_types_supported",
        "claims_supported",
        "claims_locales_supported",
        "claims_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "require_request_uri_registration",
        "acr_values_supported",
        "frontchannel_logout_supported",
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
        "authorization_response_iss_parameter_supported",
        "prompt_values_supported",
        "device_authorization_endpoint",
        "pushed_authorization_request_endpoint",
        "require_pushed_authorization_requests",
        "dpop_signing_alg_values_supported",
        // draft-ietf-oauth-client-id-metadata-document §4 (OAuth Authorization Server
        // Metadata registry).
        "client_id_metadata_document_supported",
    ];
    for k in c.as_object().unwrap().keys() {
        assert!(
            known.contains(&k.as_str()),
            "unexpected discovery member {k}"
        );
    }
    // ValidateServerMetadataAgainstSchema: booleans are booleans, arrays hold strings.
    for (k, v) in c.as_object().unwrap() {
        if k.ends_with("_supported") && !k.starts_with("claims_parameter") {
            match v {
                Value::Bool(_) => {}
                Value::Array(a) => assert!(a.iter().all(Value::is_string), "{k}"),
                other => panic!("{k} is {other}"),
            }
        }
    }
    // CheckDiscEndpointSubjectTypesSupported, OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported.
    assert!(c["subject_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("public")));
    assert!(c["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("RS256")));
    // userinfo_signing_alg_values_supported: an array if present.
    if let Some(u) = c.get("userinfo_signing_alg_values_supported") {
        assert!(u.is_array());
    }
    // CheckDiscEndpointAllEndpointsAreHttps (every *_endpoint), CheckJwksUri.
    for (k, v) in c.as_object().unwrap() {
        if k.ends_with("_endpoint") {
            assert!(secure_url(v.as_str().unwrap()), "{k}");
        }
    }
    assert!(
        c.get("userinfo_endpoint").is_some(),
        "CheckDiscEndpointUserinfoEndpoint"
    );
    assert!(secure_url(c["jwks_uri"].as_str().unwrap()));
    // OIDCCCheckDiscEndpointClaimsSupported (WARNING), scopes (WARNING / FAILURE).
    assert!(c["claims_supported"].is_array());
    let scopes = c["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("openid")));
    for s in scopes {
        let s = s.as_str().unwrap();
        assert!(
            !s.is_empty()
                && s.bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        );
    }
    // grant_types_supported non-empty; code_challenge_methods_supported has S256.
    assert!(!c["grant_types_supported"].as_array().unwrap().is_empty());
    assert!(c["code_challenge_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("S256")));
    // request_object_signing_alg_values_supported, if present, contains RS256 (WARNING).
    if let Some(r) = c.get("request_object_signing_alg_values_supported") {
        assert!(r.as_array().unwrap().contains(&json!("RS256")));
    }
    // The JWKS: public keys only, well formed, each with a unique kid.
    let raw: Value =
        op.s.http
            .get(c["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let mut kids = BTreeSet::new();
    for k in raw["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(k.get(private).is_none(), "no private key material");
        }
        let kty = k["kty"].as_str().unwrap();
        let needs: &[&str] = match kty {
            "RSA" => &["n", "e"],
            "EC" => &["x", "y", "crv"],
            "OKP" => &["x", "crv"],
            other => panic!("unknown kty {other}"),
        };
        for n in needs {
            let v = k[n].as_str().unwrap();
            assert!(!v.contains('='), "{n} is unpadded base64url");
        }
        let kid = k["kid"].as_str().expect("every key has a kid");
        assert!(
            kids.insert(kid.to_owned()),
            "kid {kid} is used more than once"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// oidcc-basic-certification-test-plan

/// `oidcc-server`: the code flow with every check of the module.
async fn oidcc_server() {
    let op = op().await;
    let b = Browser::new();
    let req = op.request(&op.client, &[], &[]);
    let cb = op.authorize(&b, &req, false).await.unwrap();
    let code = op.check_success(&cb, &req);
    // EnsureMinimumAuthorizationCodeLength (128 bits) and ...Entropy (> 96 bits).
    assert!(code.len() >= 16);
    let mut counts = std::collections::HashMap::new();
    for ch in code.chars() {
        *counts.entry(ch).or_insert(0usize) += 1;
    }
    let n = code.chars().count() as f64;
    let entropy: f64 = counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum::<f64>()
        * n;
    assert!(entropy > 96.0, "{entropy}");
    let t = op.token(&op.client, Auth::Basic, &code, &req, &[]).await;
    assert!(t.claims.get("at_hash").is_some());
    assert_eq!(op.userinfo_get(&t.access_token).await.status(), 200);
}

/// `oidcc-response-type-missing`: an error on the redirect URI (`invalid_request` or
/// `unsupported_response_type`), never a code.
async fn oidcc_response_type_missing() {
    let op = op().await;
    let req = op.request(&op.client, &[], &["response_type"]);
    let cb = op
        .authorize(&Browser::new(), &req, false)
        .await
        .expect("a redirect with an error");
    let error = op.check_error(&cb, &req);
    assert!(["invalid_request", "unsupported_response_type"].contains(&error.as_str()));
}

async fn userinfo_module(how: &str) {
    let op = op().await;
    let b = Browser::new();
    let req = op.request(&op.client, &[], &[]);
    let t = op.standard_flow(&b, &req).await;
    let endpoint = op.config["userinfo_endpoint"].as_str().unwrap();
    let res = match how {
        "get" => op.userinfo_get(&t.access_token).await,
        "post-header" => {
            op.s.http
                .post(endpoint)
                .bearer_auth(&t.access_token)
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .unwrap()
        }
        _ => {
            op.s.http
                .post(endpoint)
                .form(&[("access_token", t.access_token.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    op.userinfo(res, &t.claims).await;
}

/// `oidcc-userinfo-get`.
async fn oidcc_userinfo_get() {
    userinfo_module("get").await;
}

/// `oidcc-userinfo-post-header`: POST with the bearer header and an empty form body.
async fn oidcc_userinfo_post_header() {
    userinfo_module("post-header").await;
}

/// `oidcc-userinfo-post-body`: POST with `access_token` in the form body (no warning: it is
/// supported).
async fn oidcc_userinfo_post_body() {
    userinfo_module("post-body").await;
}

/// `oidcc-ensure-request-without-nonce-succeeds-for-code-flow`.
async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow() {
    let op = op().await;
    let req = op.request(&op.client, &[], &["nonce"]);
    let cb = op.authorize(&Browser::new(), &req, false).await.unwrap();
    op.check_success(&cb, &req);
}

async fn scope_module(scope: &str, reversed_params: bool) -> (Op, Tokens, Value) {
    let op = op().await;
    // Skipped when discovery lacks a scope: it must list every one.
    let supported = op.config["scopes_supported"].as_array().unwrap().clone();
    for s in scope.split(' ') {
        assert!(supported.contains(&json!(s)), "scopes_supported lacks {s}");
    }
    let b = Browser::new();
    let mut req = op.request(&op.client, &[("scope", scope)], &[]);
    if reversed_params {
        req.params.reverse();
    }
    let t = op.standard_flow(&b, &req).await;
    let info = op
        .userinfo(op.userinfo_get(&t.access_token).await, &t.claims)
        .await;
    assert_scope_claims(&info, scope);
    (op, t, info)
}

/// `oidcc-scope-profile`.
async fn oidcc_scope_profile() {
    scope_module("openid profile", false).await;
}

/// `oidcc-scope-email`: and no `name` in the id_token or userinfo, no `email` in the id_token.
async fn oidcc_scope_email() {
    let (_, t, info) = scope_module("openid email", false).await;
    assert!(t.claims.get("email").is_none());
    assert!(
        info.get("name").is_none(),
        "EnsureUserInfoDoesNotContainName"
    );
}

/// `oidcc-scope-address`.
async fn oidcc_scope_address() {
    scope_module("openid address", false).await;
}

/// `oidcc-scope-phone`.
async fn oidcc_scope_phone() {
    scope_module("openid phone", false).await;
}

/// `oidcc-scope-all`.
async fn oidcc_scope_all() {
    scope_module("openid email phone address profile", false).await;
}

/// `oidcc-alternate-happy-flow` (formerly `oidcc-ensure-other-scope-order-succeeds`): the scope
/// `email openid` and the parameters in reverse order.
async fn oidcc_alternate_happy_flow() {
    let (_, t, info) = scope_module("email openid", true).await;
    assert!(t.claims.get("email").is_none());
    assert!(info.get("name").is_none());
}

async fn plain_module(extra: &[(&str, &str)]) {
    let op = op().await;
    let req = op.request(&op.client, extra, &[]);
    op.standard_flow(&Browser::new(), &req).await;
}

/// `oidcc-display-page`.
async fn oidcc_display_page() {
    plain_module(&[("display", "page")]).await;
}

/// `oidcc-display-popup`.
async fn oidcc_display_popup() {
    plain_module(&[("display", "popup")]).await;
}

/// `oidcc-ensure-request-with-unknown-parameter-succeeds` (RFC 6749 §3.1).
async fn oidcc_ensure_request_with_unknown_parameter_succeeds() {
    plain_module(&[("extra", "foobar")]).await;
}

/// `oidcc-login-hint`.
async fn oidcc_login_hint() {
    plain_module(&[("login_hint", "buffy@127.0.0.1")]).await;
}

/// `oidcc-ui-locales`.
async fn oidcc_ui_locales() {
    plain_module(&[("ui_locales", "se")]).await;
}

/// `oidcc-claims-locales`.
async fn oidcc_claims_locales() {
    plain_module(&[("claims_locales", "se")]).await;
}

/// `oidcc-prompt-login`: a second sign-in, with a later `auth_time`.
async fn oidcc_prompt_login() {
    let op = op().await;
    let b = Browser::new();
    let first = op
        .standard_flow(&b, &op.request(&op.client, &[], &[]))
        .await;
    op.wait(std::time::Duration::from_millis(1100));
    let req = op.request(&op.client, &[("prompt", "login")], &[]);
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(req.params.iter())
        .finish();
    // The login page again (the placeholder's screenshot).
    let res = b.get(&format!("{}?{q}", op.authorization_endpoint())).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("name=\"password\""));
    let second = op.standard_flow(&b, &req).await;
    assert!(
        second.claims["auth_time"].as_i64() > first.claims["auth_time"].as_i64(),
        "CheckSecondIdTokenAuthTimeIsLaterIfPresent"
    );
}

/// `oidcc-prompt-none-not-logged-in`: a 128-character state, echoed exactly, and an error
/// that asks for a user interface.
async fn oidcc_prompt_none_not_logged_in() {
    let op = op().await;
    let state = state_value(128);
    let req = op.request(&op.client, &[("prompt", "none"), ("state", &state)], &[]);
    assert_eq!(req.state.as_deref().map(str::len), Some(128));
    let cb = op.authorize(&Browser::new(), &req, false).await.unwrap();
    let error = op.check_error(&cb, &req);
    assert!([
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required"
    ]
    .contains(&error.as_str()));
}

async fn same_auth_twice(
    first_extra: &[(&str, &str)],
    second_extra: &[(&str, &str)],
) -> (Tokens, Tokens) {
    let op = op().await;
    let b = Browser::new();
    let first = op
        .standard_flow(&b, &op.request(&op.client, first_extra, &[]))
        .await;
    let second_extra: Vec<(&str, &str)> = second_extra
        .iter()
        .map(|(k, v)| {
            (
                *k,
                if *v == "$first_id_token" {
                    first.id_token.as_str()
                } else {
                    v
                },
            )
        })
        .collect();
    let second = op
        .standard_flow(&b, &op.request(&op.client, &second_extra, &[]))
        .await;
    // CheckIdTokenAuthTimeClaimsSameIfPresent, CheckIdTokenSubConsistentForSecondAuthorization.
    assert_eq!(first.claims["auth_time"], second.claims["auth_time"]);
    assert_eq!(first.claims["sub"], second.claims["sub"]);
    (first, second)
}

/// `oidcc-prompt-none-logged-in`: silently, the same sign-in.
async fn oidcc_prompt_none_logged_in() {
    same_auth_twice(&[], &[("prompt", "none")]).await;
}

/// `oidcc-id-token-hint`: `prompt=none` with the first id_token as hint.
async fn oidcc_id_token_hint() {
    same_auth_twice(
        &[],
        &[("prompt", "none"), ("id_token_hint", "$first_id_token")],
    )
    .await;
}

/// `oidcc-max-age-10000`: `auth_time` present both times, and the same.
async fn oidcc_max_age_10000() {
    let (first, second) = same_auth_twice(&[("max_age", "15000")], &[("max_age", "10000")]).await;
    assert!(first.claims.get("auth_time").is_some());
    assert!(second.claims.get("auth_time").is_some());
}

/// `oidcc-max-age-1`: after two seconds a new sign-in, with a later, recent `auth_time`.
async fn oidcc_max_age_1() {
    let op = op().await;
    let b = Browser::new();
    let first = op
        .standard_flow(&b, &op.request(&op.client, &[], &[]))
        .await;
    op.wait(std::time::Duration::from_secs(2));
    let second = op
        .standard_flow(&b, &op.request(&op.client, &[("max_age", "1")], &[]))
        .await;
    let at = second.claims["auth_time"]
        .as_i64()
        .expect("CheckIdTokenAuthTimeClaimPresentDueToMaxAge");
    assert!(at > first.claims["auth_time"].as_i64().unwrap());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(at >= now - 301, "CheckIdTokenAuthTimeIsRecentIfPresent");
}

async fn code_reuse(wait: bool) {
    let op = op().await;
    let b = Browser::new();
    let req = op.request(&op.client, &[], &[]);
    let cb = op.authorize(&b, &req, false).await.unwrap();
    let code = op.check_success(&cb, &req);
    let t = op.token(&op.client, Auth::Basic, &code, &req, &[]).await;
    assert_eq!(op.userinfo_get(&t.access_token).await.status(), 200);
    if wait {
        op.wait(std::time::Duration::from_secs(30));
    }
    let res = op.token_request(&op.client, Auth::Basic, &code, &[]).await;
    // ServerAllowedReusingAuthorizationCode (WARNING) / CheckTokenEndpointHttpStatus400.
    assert_eq!(res.status(), 400);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"));
    let (_, e) = json(res).await;
    assert_eq!(e["error"], "invalid_grant");
    let d = e["error_description"].as_str().unwrap();
    assert!(d.bytes().all(|b| b == b' '
        || b == b'!'
        || (0x23..=0x5b).contains(&b)
        || (0x5d..=0x7e).contains(&b)));
    // The access token of the first redemption is revoked (WARNING otherwise).
    let st = op.userinfo_get(&t.access_token).await.status();
    assert!(st.is_client_error(), "{st}");
}

/// `oidcc-codereuse`: the second redemption is `invalid_grant`.
async fn oidcc_codereuse() {
    code_reuse(false).await;
}

/// `oidcc-codereuse-30seconds`: the same, 30 seconds later, and the first access token no
/// longer works.
async fn oidcc_codereuse_30seconds() {
    code_reuse(true).await;
}

/// `oidcc-ensure-registered-redirect-uri`: an extension of the registered redirect URI gets an
/// error page, never a redirect to either address.
async fn oidcc_ensure_registered_redirect_uri() {
    let op = op().await;
    let bad = format!("{CALLBACK}/{}", random(10));
    let req = op.request(&op.client, &[("redirect_uri", &bad)], &[]);
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(req.params.iter())
        .finish();
    let res = Browser::new()
        .get(&format!("{}?{q}", op.authorization_endpoint()))
        .await;
    assert!(res.headers().get("location").is_none());
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("redirect_uri"));
}

/// `oidcc-ensure-post-request-succeeds`: the authorization request as a form POST.
async fn oidcc_ensure_post_request_succeeds() {
    let op = op().await;
    let b = Browser::new();
    let req = op.request(&op.client, &[], &[]);
    let cb = op
        .authorize(&b, &req, true)
        .await
        .expect("a callback within 30 seconds");
    let code = op.check_success(&cb, &req);
    op.token(&op.client, Auth::Basic, &code, &req, &[]).await;
}

/// `oidcc-server-client-secret-post`: `client_secret_post` at the token endpoint, which
/// discovery must list.
async fn oidcc_server_client_secret_post() {
    let op = op().await;
    let methods = op.config["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&json!("client_secret_post")));
    assert!(methods.contains(&json!("client_secret_basic")));
    let req = op.request(&op.post_client, &[], &[]);
    op.standard_flow_with(&Browser::new(), &req, &op.post_client, Auth::Post, &[])
        .await;
}

fn unsecured_jwt(claims: &Value) -> String {
    let b = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    format!("{}.{}.", b(&json!({"alg": "none"})), b(claims))
}

/// `oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported`: SKIPPED by
/// the suite (`skipTestIfNoneUnsupported`), since discovery lists no `none` among the request
/// object algorithms; sent anyway, the unsigned object is refused on the redirect URI, and the
/// request is never served without the state and nonce that were only in the object.
async fn oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported() {
    let op = op().await;
    let inner = op.request(&op.client, &[], &[]);
    let object: Map<String, Value> = inner
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut req = op.request(
        &op.client,
        &[("request", &unsecured_jwt(&Value::Object(object)))],
        // Outside the object only response_type, client_id, scope and redirect_uri.
        &["state", "nonce", "response_mode"],
    );
    req.state = None;
    let cb = op
        .authorize(&Browser::new(), &req, false)
        .await
        .expect("a redirect");
    assert_eq!(cb.get("error"), Some("invalid_request_object"));
    assert!(cb.get("code").is_none());
    assert_eq!(op.config["request_parameter_supported"], true);
    let algs = op.config["request_object_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(!algs.is_empty() && !algs.contains(&json!("none")));
}

/// `oidcc-ensure-request-object-with-redirect-uri`: SKIPPED by the suite (its object is
/// unsigned, and discovery lists no `none`). Sent anyway: the outer `redirect_uri` is
/// unregistered and the valid one is only inside the refused object, so an error page, never
/// a redirect to the registered address.
async fn oidcc_ensure_request_object_with_redirect_uri() {
    let op = op().await;
    let inner = op.request(&op.client, &[], &[]);
    let object: Map<String, Value> = inner
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let invalid = format!("{CALLBACK}_invalid");
    let req = op.request(
        &op.client,
        &[
            ("request", &unsecured_jwt(&Value::Object(object))),
            ("redirect_uri", &invalid),
        ],
        &["state", "nonce"],
    );
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(req.params.iter())
        .finish();
    let res = Browser::new()
        .get(&format!("{}?{q}", op.authorization_endpoint()))
        .await;
    assert!(
        res.headers().get("location").is_none(),
        "no redirect to a default address"
    );
    assert_eq!(res.status(), 400);
}

/// `oidcc-ensure-request-with-valid-pkce-succeeds`: a 128-character verifier of the whole
/// unreserved set.
async fn oidcc_ensure_request_with_valid_pkce_succeeds() {
    let op = op().await;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let verifier: String = (0..128)
        .map(|_| alphabet[usize::from(rand_byte()) % alphabet.len()] as char)
        .collect();
    use sha2::Digest;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let req = op.request(
        &op.client,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
        &[],
    );
    op.standard_flow_with(
        &Browser::new(),
        &req,
        &op.client,
        Auth::Basic,
        &[("code_verifier", &verifier)],
    )
    .await;
}

/// `oidcc-refresh-token`: `offline_access` with `prompt=consent`, a refresh with the same
/// scope one second later (no-store, bearer, expires_in, an id_token whose claims compare as
/// OIDC Core §12.2 says), userinfo with the new token, for two clients; then client 2's
/// refresh token presented by client 1 is `invalid_grant`.
async fn oidcc_refresh_token() {
    let op = op().await;
    assert!(op.config["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("offline_access")));
    assert!(op.config["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("refresh_token")));
    let mut last_refresh = String::new();
    for (i, client) in [&op.client, &op.client2].into_iter().enumerate() {
        let b = Browser::new();
        let req = op.request(
            client,
            &[("scope", "openid offline_access"), ("prompt", "consent")],
            &[],
        );
        let first = op
            .standard_flow_with(&b, &req, client, Auth::Basic, &[])
            .await;
        let rt = first.refresh_token.clone().expect("a refresh token");
        assert!(rt.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        op.wait(std::time::Duration::from_millis(1100));
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.as_str()),
        ];
        if i == 0 {
            form.push(("scope", "openid offline_access"));
        }
        let res = op.send_token(client, Auth::Basic, form).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
        assert!(
            cache.split(',').any(|p| p.trim() == "no-store"),
            "CheckTokenEndpointCacheHeaders"
        );
        let (_, t) = json(res).await;
        assert!(t["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer"));
        assert!(t["expires_in"].as_i64().unwrap() > 0);
        let access = t["access_token"].as_str().unwrap();
        if let Some(new_rt) = t["refresh_token"].as_str() {
            assert!(new_rt.len() >= 16);
            last_refresh = new_rt.to_owned();
        } else {
            last_refresh = rt.clone();
        }
        // CompareIdTokenClaims (OIDC Core §12.2).
        if let Some(id) = t["id_token"].as_str() {
            let c = op.check_id_token(client, id, None, Some(access));
            for k in ["iss", "sub", "aud", "auth_time", "azp"] {
                assert_eq!(c.get(k), first.claims.get(k), "{k}");
            }
            assert_ne!(c["iat"], first.claims["iat"], "a new iat");
        }
        assert_eq!(op.userinfo_get(access).await.status(), 200);
    }
    let res = op
        .send_token(
            &op.client,
            Auth::Basic,
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &last_refresh),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let (_, e) = json(res).await;
    assert_eq!(e["error"], "invalid_grant");
}

/// `oidcc-ensure-request-with-acr-values-succeeds`: `acr_values` from discovery; the id_token's
/// `acr` is one of them (WARNING otherwise).
async fn oidcc_ensure_request_with_acr_values_succeeds() {
    let op = op().await;
    let supported: Vec<String> = op.config["acr_values_supported"]
        .as_array()
        .expect("acr_values_supported")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let acr_values = supported.join(" ");
    let req = op.request(&op.client, &[("acr_values", &acr_values)], &[]);
    let t = op.standard_flow(&Browser::new(), &req).await;
    let acr = t.claims["acr"].as_str().expect("an acr claim");
    assert!(supported.iter().any(|s| s == acr), "{acr}");
    assert_eq!(t.claims["amr"], json!(["pwd"]));
}

/// `oidcc-claims-essential`: `claims={"userinfo":{"name":{"essential":true}}}` with the scope
/// `openid` alone: `name` at userinfo, not in the id_token.
async fn oidcc_claims_essential() {
    let op = op().await;
    assert_eq!(op.config["claims_parameter_supported"], true);
    let req = op.request(
        &op.client,
        &[("claims", r#"{"userinfo":{"name":{"essential":true}}}"#)],
        &[],
    );
    let t = op.standard_flow(&Browser::new(), &req).await;
    assert!(
        t.claims.get("name").is_none(),
        "EnsureIdTokenDoesNotContainName"
    );
    let info = op
        .userinfo(op.userinfo_get(&t.access_token).await, &t.claims)
        .await;
    assert_eq!(info["name"], "Buffy Summers", "EnsureUserInfoContainsName");
    assert_scope_claims(&info, "openid");
}

// ---------------------------------------------------------------------------------------------
// oidcc-rp-initiated-logout-certification-test-plan

const POST_LOGOUT: &str = "https://rp.example/test/a/tessera/post_logout_redirect";

/// The logout plan's first leg: a signed-in browser (a 128-character state) and its id_token.
async fn signed_in(op: &Op) -> (Browser, Tokens) {
    let b = Browser::new();
    let state = state_value(128);
    let req = op.request(&op.client, &[("state", &state)], &[]);
    let t = op.standard_flow(&b, &req).await;
    (b, t)
}

/// `CreateRandomEndSessionState`: letters, digits and punctuation, with `+`, space and `;`
/// replaced by `~`.
fn end_session_state() -> String {
    let punct = "!\"#$%&'()*,-./:<=>?@[\\]^_`{|}~";
    let mut s = random(60);
    for i in 0..30 {
        let c = punct.as_bytes()[(usize::from(rand_byte()) + i) % punct.len()] as char;
        s.push(c);
    }
    s
}

/// The end-session GET as `BuildRedirectToEndSessionEndpoint` builds it.
async fn end_session(op: &Op, b: &Browser, params: &[(&str, &str)]) -> reqwest::Response {
    let endpoint = op.config["end_session_endpoint"].as_str().unwrap();
    let url = if params.is_empty() {
        endpoint.to_owned()
    } else {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        format!("{endpoint}?{q}")
    };
    b.get(&url).await
}

/// After a logout, `prompt=none` must answer an error that asks for a user interface.
async fn prompt_none_after_logout(op: &Op, b: &Browser) {
    let state = state_value(128);
    let req = op.request(&op.client, &[("prompt", "none"), ("state", &state)], &[]);
    let cb = op.authorize(b, &req, false).await.unwrap();
    let error = op.check_error(&cb, &req);
    assert!(["interaction_required", "login_required"].contains(&error.as_str()));
}

/// The modules that must not be redirected: a page (an error, a confirmation or the signed-out
/// page), and no visit to the post-logout address.
fn no_redirect(res: &reqwest::Response) {
    assert!(
        res.headers()
            .get("location")
            .is_none_or(|l| !l.to_str().unwrap().starts_with("https://rp.example")),
        "the post-logout address was called"
    );
    assert!(
        res.status() == 200 || res.status() == 400,
        "{}",
        res.status()
    );
}

/// `oidcc-rp-initiated-logout-discovery-endpoint-verification`.
#[tokio::test]
async fn oidcc_rp_initiated_logout_discovery_endpoint_verification() {
    let op = op().await;
    assert!(secure_url(
        op.config["end_session_endpoint"].as_str().unwrap()
    ));
    for (k, v) in op.config.as_object().unwrap() {
        if k.ends_with("_endpoint") {
            assert!(secure_url(v.as_str().unwrap()), "{k}");
        }
    }
}

/// `oidcc-rp-initiated-logout`: the hint, the registered address and a state of punctuation:
/// back with exactly that state and nothing else; then `prompt=none` needs a sign-in.
#[tokio::test]
async fn oidcc_rp_initiated_logout() {
    let op = op().await;
    let (b, t) = signed_in(&op).await;
    let state = end_session_state();
    let res = end_session(
        &op,
        &b,
        &[
            ("id_token_hint", &t.id_token),
            ("post_logout_redirect_uri", POST_LOGOUT),
            ("state", &state),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let loc = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert!(loc.as_str().starts_with(POST_LOGOUT));
    let params: Vec<(String, String)> = loc
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    assert_eq!(
        params,
        vec![("state".to_owned(), state)],
        "CheckPostLogoutState"
    );
    prompt_none_after_logout(&op, &b).await;
}

/// `oidcc-rp-initiated-logout-no-state`: back without a state.
#[tokio::test]
async fn oidcc_rp_initiated_logout_no_state() {
    let op = op().await;
    let (b, t) = signed_in(&op).await;
    let res = end_session(
        &op,
        &b,
        &[
            ("id_token_hint", &t.id_token),
            ("post_logout_redirect_uri", POST_LOGOUT),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        POST_LOGOUT,
        "CheckNoPostLogoutState"
    );
    prompt_none_after_logout(&op, &b).await;
}

/// `oidcc-rp-initiated-logout-bad-post-logout-redirect-uri`: an unregistered address: an
/// error page.
#[tokio::test]
async fn oidcc_rp_initiated_logout_bad_post_logout_redirect_uri() {
    let op = op().await;
    let (b, t) = signed_in(&op).await;
    let res = end_session(
        &op,
        &b,
        &[
            ("id_token_hint", &t.id_token),
            (
                "post_logout_redirect_uri",
                "https://rp.example/test/a/tessera/bad_post_logout_redirect_uri",
            ),
            ("state", &end_session_state()),
        ],
    )
    .await;
    no_redirect(&res);
    assert!(res.text().await.unwrap().contains("not registered"));
}

/// `oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri`: `?foo=bar` added:
/// exact matching refuses it.
#[tokio::test]
async fn oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri() {
    let op = op().await;
    let (b, t) = signed_in(&op).await;
    let res = end_session(
        &op,
        &b,
        &[
            ("id_token_hint", &t.id_token),
            (
                "post_logout_redirect_uri",
                &format!("{POST_LOGOUT}?foo=bar"),
            ),
            ("state", &end_session_state()),
        ],
    )
    .await;
    no_redirect(&res);
    assert!(res.text().await.unwrap().contains("not registered"));
}

/// `oidcc-rp-initiated-logout-modified-id-token-hint`: the id_token re-headed as `alg: none`.
#[tokio::test]
async fn oidcc_rp_initiated_logout_modified_id_token_hint() {
    let op = op().await;
    let (b, t) = signed_in(&op).await;
    let payload = t.id_token.split('.').nth(1).unwrap();
    let none = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
    let res = end_session(
        &op,
        &b,
        &[
            ("id_token_hint", &format!("{none}.{payload}.")),
            ("post_logout_redirect_uri", POST_LOGOUT),
            ("state", &end_session_state()),
        ],
    )
    .await;
    no_redirect(&res);
}

/// `oidcc-rp-initiated-logout-bad-id-token-hint`: a hint made up by the client, signed HS256
/// with its secret.
#[tokio::test]
async fn oidcc_rp_initiated_logout_bad_id_token_hint() {
    let op = op().await;
    let (b, _) = signed_in(&op).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let fake = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": op.client.id, "aud": op.issuer, "sub": "SubjectID", "nonce": "flibble",
                "iat": now, "exp": now + 300}),
        &jsonwebtoken::EncodingKey::from_secret(op.client.secret.as_bytes()),
    )
    .unwrap();
    let res = end_session(
        &op,
        &b,
        &[
            ("id_token_hint", &fake),
            ("post_logout_redirect_uri", POST_LOGOUT),
            ("state", &end_session_state()),
        ],
    )
    .await;
    no_redirect(&res);
}

/// `oidcc-rp-initiated-logout-no-id-token-hint`: the address and a state, no hint and no
/// `client_id`: the user is asked, and nothing redirects.
#[tokio::test]
async fn oidcc_rp_initiated_logout_no_id_token_hint() {
    let op = op().await;
    let (b, _) = signed_in(&op).await;
    let res = end_session(
        &op,
        &b,
        &[
            ("post_logout_redirect_uri", POST_LOGOUT),
            ("state", &end_session_state()),
        ],
    )
    .await;
    no_redirect(&res);
}

/// `oidcc-rp-initiated-logout-no-params`: the user is asked, and once they confirm, signed out
/// on a page.
#[tokio::test]
async fn oidcc_rp_initiated_logout_no_params() {
    let op = op().await;
    let (b, _) = signed_in(&op).await;
    let res = end_session(&op, &b, &[]).await;
    no_redirect(&res);
    let html = res.text().await.unwrap();
    assert!(html.contains("Sign out?"));
    let res = b
        .post(
            op.config["end_session_endpoint"].as_str().unwrap(),
            &[
                ("csrf_token", &hidden(&html, "csrf_token")),
                ("logout", "yes"),
            ],
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    no_redirect(&res);
    assert!(res.text().await.unwrap().contains("You are signed out."));
    prompt_none_after_logout(&op, &b).await;
}

/// `oidcc-rp-initiated-logout-no-post-logout-redirect-uri`: the hint alone: signed out on a
/// page, never sent to the registered address.
#[tokio::test]
async fn oidcc_rp_initiated_logout_no_post_logout_redirect_uri() {
    let op = op().await;
    let (b, t) = signed_in(&op).await;
    let res = end_session(
        &op,
        &b,
        &[
            ("id_token_hint", &t.id_token),
            ("state", &end_session_state()),
        ],
    )
    .await;
    no_redirect(&res);
    assert!(res.text().await.unwrap().contains("You are signed out."));
}

/// `oidcc-rp-initiated-logout-only-state`: asked, then signed out on a page.
#[tokio::test]
async fn oidcc_rp_initiated_logout_only_state() {
    let op = op().await;
    let (b, _) = signed_in(&op).await;
    let state = end_session_state();
    let res = end_session(&op, &b, &[("state", &state)]).await;
    no_redirect(&res);
    let html = res.text().await.unwrap();
    assert!(html.contains("Sign out?"));
    let res = b
        .post(
            op.config["end_session_endpoint"].as_str().unwrap(),
            &[
                ("state", &hidden(&html, "state")),
                ("csrf_token", &hidden(&html, "csrf_token")),
                ("logout", "yes"),
            ],
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    no_redirect(&res);
    assert!(res.text().await.unwrap().contains("You are signed out."));
}

// ---------------------------------------------------------------------------------------------
// The plans: the basic plan with the default response mode, and the form-post plan with
// `response_mode=form_post`, which runs the same modules.

thread_local! {
    /// The response mode of the plan the current test belongs to.
    static FORM_POST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether the plan registers its clients dynamically (the dynamic plan).
    static DYNAMIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn form_post_mode() -> bool {
    FORM_POST.with(std::cell::Cell::get)
}

fn dynamic_mode() -> bool {
    DYNAMIC.with(std::cell::Cell::get)
}

/// The plan of the running test, for as long as it runs: a test that ends, or panics, leaves
/// the thread as it found it (a test harness may run the next test on the same thread).
struct Plan;

impl Plan {
    fn set(form_post: bool, dynamic: bool) -> Self {
        FORM_POST.with(|f| f.set(form_post));
        DYNAMIC.with(|f| f.set(dynamic));
        Plan
    }
}

impl Drop for Plan {
    fn drop(&mut self) {
        FORM_POST.with(|f| f.set(false));
        DYNAMIC.with(|f| f.set(false));
    }
}

macro_rules! plans {
    ($($module:ident),* $(,)?) => {
        /// `oidcc-basic-certification-test-plan`.
        mod basic_plan {
            $(
                #[tokio::test]
                async fn $module() {
                    let _plan = super::Plan::set(false, false);
                    super::$module().await;
                }
            )*
        }

        /// `oidcc-formpost-basic-certification-test-plan`: every module answered with
        /// `response_mode=form_post`.
        mod form_post_plan {
            $(
                #[tokio::test]
                async fn $module() {
                    let _plan = super::Plan::set(true, false);
                    super::$module().await;
                }
            )*
        }
    };
}

plans!(
    oidcc_server,
    oidcc_response_type_missing,
    oidcc_userinfo_get,
    oidcc_userinfo_post_header,
    oidcc_userinfo_post_body,
    oidcc_ensure_request_without_nonce_succeeds_for_code_flow,
    oidcc_scope_profile,
    oidcc_scope_email,
    oidcc_scope_address,
    oidcc_scope_phone,
    oidcc_scope_all,
    oidcc_alternate_happy_flow,
    oidcc_display_page,
    oidcc_display_popup,
    oidcc_ensure_request_with_unknown_parameter_succeeds,
    oidcc_login_hint,
    oidcc_ui_locales,
    oidcc_claims_locales,
    oidcc_prompt_login,
    oidcc_prompt_none_not_logged_in,
    oidcc_prompt_none_logged_in,
    oidcc_id_token_hint,
    oidcc_max_age_10000,
    oidcc_max_age_1,
    oidcc_codereuse,
    oidcc_codereuse_30seconds,
    oidcc_ensure_registered_redirect_uri,
    oidcc_ensure_post_request_succeeds,
    oidcc_server_client_secret_post,
    oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported,
    oidcc_ensure_request_object_with_redirect_uri,
    oidcc_ensure_request_with_valid_pkce_succeeds,
    oidcc_refresh_token,
    oidcc_ensure_request_with_acr_values_succeeds,
    oidcc_claims_essential,
);

// ---------------------------------------------------------------------------------------------
// oidcc-dynamic-certification-test-plan: clients registered through the registration endpoint
// as the suite registers them, authenticating with `private_key_jwt` as the plan's variant
// does. The module of signed request objects (`oidcc-request-uri-signed-rs256`) waits for
// request objects; the ones whose only check is a screenshot of the login page
// (`oidcc-registration-logo-uri`, `-policy-uri`, `-tos-uri`) need a human.

/// `oidcc-idtoken-rs256`: a client registered with `id_token_signed_response_alg=RS256` gets
/// RS256 id_tokens with a `kid`.
async fn oidcc_idtoken_rs256() {
    let op = op().await;
    let (client, reg) = register_client(
        &op.s,
        "RS256 client",
        "client_secret_basic",
        json!({"id_token_signed_response_alg": "RS256"}),
    )
    .await;
    assert_eq!(reg["id_token_signed_response_alg"], "RS256");
    let req = op.request(&client, &[], &[]);
    let t = op
        .standard_flow_with(&Browser::new(), &req, &client, Auth::Basic, &[])
        .await;
    let header = jsonwebtoken::decode_header(&t.id_token).unwrap();
    // EnsureIdTokenContainsKid, CheckIdTokenSignatureAlgorithm.
    assert!(header.kid.is_some());
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
}

/// `oidcc-idtoken-unsigned`: skipped, as certification allows, because discovery does not
/// offer `none` (`OIDCCCheckIdTokenSigningAlgValuesSupportedAlgNone`); a registration asking
/// for unsigned id_tokens is refused rather than silently given signed ones.
async fn oidcc_idtoken_unsigned() {
    let op = op().await;
    assert!(!op.config["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("none")));
    let res =
        op.s.http
            .post(op.config["registration_endpoint"].as_str().unwrap())
            .json(
                &json!({"client_name": "Unsigned", "redirect_uris": [CALLBACK],
                      "id_token_signed_response_alg": "none"}),
            )
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 400);
    let (_, e) = json(res).await;
    assert_eq!(e["error"], "invalid_client_metadata");
}

/// `oidcc-userinfo-rs256`: discovery lists RS256 for userinfo; a client registered with
/// `userinfo_signed_response_alg=RS256` gets `application/jwt` signed with a key of the JWKS,
/// RS256, with `iss`, `aud` and the id_token's `sub`, and no `nonce`.
async fn oidcc_userinfo_rs256() {
    let op = op().await;
    // CheckDiscEndpointUserinfoSigningAlgValuesSupportedContainsRS256.
    assert!(op.config["userinfo_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("RS256")));
    let (client, reg) = register_client(
        &op.s,
        "Signed userinfo client",
        "client_secret_basic",
        json!({"userinfo_signed_response_alg": "RS256"}),
    )
    .await;
    assert_eq!(reg["userinfo_signed_response_alg"], "RS256");
    let req = op.request(&client, &[("scope", "openid profile email")], &[]);
    let t = op
        .standard_flow_with(&Browser::new(), &req, &client, Auth::Basic, &[])
        .await;
    let res = op.userinfo_get(&t.access_token).await;
    assert_eq!(res.status(), 200);
    // EnsureContentTypeApplicationJwt.
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct.split(';').next().unwrap().trim(), "application/jwt");
    let jwt = res.text().await.unwrap();
    // ValidateUserInfoResponseSignature, ValidateUserInfoSigningAlgIsRS256.
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let jwk = op
        .jwks
        .find(header.kid.as_deref().expect("a kid"))
        .expect("the kid is published");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_aud = false;
    v.validate_exp = false;
    v.set_required_spec_claims::<&str>(&[]);
    let info =
        jsonwebtoken::decode::<Value>(&jwt, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &v)
            .expect("the userinfo JWT verifies")
            .claims;
    // ValidateSignedUserInfoResponseStandardJWTClaims.
    assert_eq!(info["iss"], op.issuer.as_str(), "Issuer mismatch");
    assert_eq!(info["aud"], client.id.as_str(), "Audience mismatch");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if let Some(iat) = info.get("iat") {
        let iat = iat.as_i64().unwrap();
        assert!(iat <= now + 300 && iat > now - 86_400);
    }
    assert!(info
        .get("exp")
        .is_none_or(|e| e.as_i64().unwrap() > now - 300));
    // EnsureUserInfoDoesNotContainNonce, VerifyUserInfoAndIdTokenInTokenEndpointSameSub.
    assert!(info.get("nonce").is_none());
    assert_eq!(info["sub"], t.claims["sub"]);
    assert_scope_claims(&info, "openid profile email");
    // The client of a plain one still gets JSON.
    let plain = op
        .userinfo(
            op.userinfo_get(
                &op.standard_flow(&Browser::new(), &op.request(&op.client, &[], &[]))
                    .await
                    .access_token,
            )
            .await,
            &json!({"sub": t.claims["sub"]}),
        )
        .await;
    assert!(plain.get("iss").is_none());
}

/// The suite's `AddQueryToRedirectUri`: the redirect URI with `?foo=bar`.
fn query_callback(query: &str) -> String {
    format!("{CALLBACK}?{query}")
}

/// `oidcc-redirect-uri-query-OK`: a registered redirect URI with a query, used exactly: the
/// code comes back with the query kept.
async fn oidcc_redirect_uri_query_ok() {
    let op = op().await;
    let uri = query_callback("foo=bar");
    let (client, _) = register_client(
        &op.s,
        "Query client",
        "client_secret_basic",
        json!({"redirect_uris": [uri]}),
    )
    .await;
    let req = op.request(&client, &[("redirect_uri", &uri)], &[]);
    let cb = op.authorize(&Browser::new(), &req, false).await.unwrap();
    // RFC 6749 §3.1.2: the query component is retained.
    assert_eq!(cb.get("foo"), Some("bar"));
    let code = op.check_success(&cb, &req);
    let res = op
        .send_token(
            &client,
            Auth::Basic,
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &uri),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, t) = json(res).await;
    op.check_id_token(
        &client,
        t["id_token"].as_str().unwrap(),
        req.nonce.as_deref(),
        t["access_token"].as_str(),
    );
}

/// The authorization request must end on an error page of the OP (the suite's placeholder
/// for a screenshot): no redirect to the client at all.
async fn expect_error_page(op: &Op, req: &AuthRequest) {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(req.params.iter())
        .finish();
    let res = Browser::new()
        .get(&format!("{}?{q}", op.authorization_endpoint()))
        .await;
    assert!(
        res.headers().get("location").is_none(),
        "AuthorizationEndpointRedirectedBackUnexpectedly"
    );
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("redirect_uri"));
}

/// `oidcc-redirect-uri-query-mismatch`: registered with `?foo=bar`, asked with `?foo=zot`.
async fn oidcc_redirect_uri_query_mismatch() {
    let op = op().await;
    let (client, _) = register_client(
        &op.s,
        "Query client",
        "client_secret_basic",
        json!({"redirect_uris": [query_callback("foo=bar")]}),
    )
    .await;
    let req = op.request(
        &client,
        &[("redirect_uri", &query_callback("foo=zot"))],
        &[],
    );
    expect_error_page(&op, &req).await;
}

/// `oidcc-redirect-uri-query-added`: registered without a query, asked with one.
async fn oidcc_redirect_uri_query_added() {
    let op = op().await;
    let req = op.request(
        &op.client,
        &[("redirect_uri", &query_callback("foo=bar"))],
        &[],
    );
    expect_error_page(&op, &req).await;
}

/// `oidcc-ensure-redirect-uri-in-authorization-request`: a client with two redirect URIs asks
/// without one (OIDC Core §3.1.2.1: required).
async fn oidcc_ensure_redirect_uri_in_authorization_request() {
    let op = op().await;
    let (client, _) = register_client(
        &op.s,
        "Two callbacks",
        "client_secret_basic",
        json!({"redirect_uris": [CALLBACK, format!("{CALLBACK}2")]}),
    )
    .await;
    let req = op.request(&client, &[], &["redirect_uri"]);
    expect_error_page(&op, &req).await;
}

/// `oidcc-redirect-uri-regfrag`: a redirect URI with a fragment is refused at registration
/// (400, `invalid_redirect_uri` or `invalid_client_metadata`).
async fn oidcc_redirect_uri_regfrag() {
    let op = op().await;
    let res = op
        .s
        .http
        .post(op.config["registration_endpoint"].as_str().unwrap())
        .json(&json!({"client_name": "Fragment", "grant_types": ["authorization_code"],
                      "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic",
                      "redirect_uris": [format!("{CALLBACK}#{}", random(5))]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct.split(';').next().unwrap().trim(), "application/json");
    let (_, e) = json(res).await;
    assert!(
        ["invalid_redirect_uri", "invalid_client_metadata"].contains(&e["error"].as_str().unwrap())
    );
}

/// `oidcc-registration-sector-uri` and `oidcc-registration-sector-bad`: skipped, because
/// discovery does not offer `pairwise` subjects.
async fn oidcc_registration_sector() {
    let op = op().await;
    assert_eq!(op.config["subject_types_supported"], json!(["public"]));
}

/// `oidcc-request-uri-unsigned`: SKIPPED by the suite (`skipTestIfNoneUnsupported`):
/// discovery lists no `none` request objects. Sent anyway, the unsigned object a
/// `request_uri` points at is refused on the redirect URI.
async fn oidcc_request_uri_unsigned() {
    let op = op().await;
    let algs = op.config["request_object_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(!algs.contains(&json!("none")));
    assert_eq!(op.config["request_uri_parameter_supported"], true);
    let inner = op.request(&op.client, &[], &[]);
    let object: Map<String, Value> = inner
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let server = crate::support::jwks_server(json!(unsecured_jwt(&Value::Object(object)))).await;
    let uri = format!("{}/requesturi/{}", server.origin, random(64));
    let req = op.request(&op.client, &[("request_uri", &uri)], &["nonce"]);
    let cb = op.authorize(&Browser::new(), &req, false).await.unwrap();
    assert_eq!(op.check_error(&cb, &req), "invalid_request_object");
}

/// `oidcc-request-uri-signed-rs256`: a client registered with `request_uris` and
/// `request_object_signing_alg: RS256` puts the whole request in an RS256 object with `iss`
/// and `aud`, served at its `request_uri` (with a fragment, CreateRandomRequestUriWithFragment);
/// outside it only response_type, client_id, scope and redirect_uri (and nothing else that
/// agrees). The flow completes with the object's state and nonce.
async fn oidcc_request_uri_signed_rs256() {
    let op = op().await;
    assert!(op.config["request_object_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("RS256")));
    let server = crate::support::jwks_server(json!(null)).await;
    let request_uri = format!("{}/requesturi/{}#{}", server.origin, random(64), random(43));
    let (client, reg) = register_client(
        &op.s,
        "Request objects",
        "private_key_jwt",
        json!({"request_uris": [request_uri], "request_object_signing_alg": "RS256"}),
    )
    .await;
    assert_eq!(reg["request_object_signing_alg"], "RS256");
    let key = client.key.as_ref().expect("the plan's clients have keys");
    let inner = op.request(&client, &[], &[]);
    let mut object: Map<String, Value> = inner
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    object.insert("aud".into(), json!(op.issuer));
    object.insert("iss".into(), json!(client.id));
    *server.set.lock().unwrap() = json!(key.sign_jwt("JWT", &Value::Object(object)).unwrap());
    let mut req = op.request(
        &client,
        &[("request_uri", &request_uri)],
        &["state", "nonce", "response_mode"],
    );
    req.state = inner.state.clone();
    req.nonce = inner.nonce.clone();
    let cb = op.authorize(&Browser::new(), &req, false).await.unwrap();
    let code = op.check_success(&cb, &req);
    op.token(&client, Auth::Basic, &code, &req, &[]).await;
}

/// `oidcc-server-rotate-keys`: after a rotation the JWKS has a new signing key and still the
/// old one, every key with a distinct `kid`.
async fn oidcc_server_rotate_keys() {
    let mut op = op().await;
    let fetch = || async {
        let raw: Value =
            op.s.http
                .get(op.config["jwks_uri"].as_str().unwrap())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(raw.clone()).unwrap();
        let kids: Vec<String> = raw["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                k["kid"]
                    .as_str()
                    .expect("CheckForKeyIdInServerJWKs")
                    .to_owned()
            })
            .collect();
        let distinct: BTreeSet<&String> = kids.iter().collect();
        assert_eq!(
            distinct.len(),
            kids.len(),
            "CheckDistinctKeyIdValueInServerJWKs"
        );
        (kids, set)
    };
    let (before, _) = fetch().await;
    op.s.services
        .rotate_keys(&tessera_core::Context::cli(), ORG)
        .await
        .unwrap();
    let (after, jwks) = fetch().await;
    op.jwks = jwks;
    // VerifyNewJwksHasNewSigningKey, VerifyNewJwksStillHasOldSigningKey (WARNING).
    assert!(after.iter().any(|k| !before.contains(k)));
    for k in &before {
        assert!(after.contains(k), "the old key {k} is still published");
    }
    // The old key still signs while every node learns of the new one; from then on the new
    // key signs (the suite does not check this; a relying party would).
    let t = op
        .standard_flow(&Browser::new(), &op.request(&op.client, &[], &[]))
        .await;
    let kid = jsonwebtoken::decode_header(&t.id_token)
        .unwrap()
        .kid
        .unwrap();
    assert!(
        before.contains(&kid),
        "the old key signs until the new one is everywhere"
    );
    op.clock.advance(time::Duration::seconds(
        tessera_core::keys::KEY_ACTIVATION_SECONDS,
    ));
    let t = op
        .standard_flow(&Browser::new(), &op.request(&op.client, &[], &[]))
        .await;
    let kid = jsonwebtoken::decode_header(&t.id_token)
        .unwrap()
        .kid
        .unwrap();
    assert!(!before.contains(&kid));
}

/// `oidcc-server` of the dynamic plan: the module, then a registered client deleted at the
/// end, as the suite's `UnregisterDynamicallyRegisteredClient` does (204), its credentials
/// dying with it.
async fn oidcc_server_dynamic() {
    oidcc_server().await;
    let op = op().await;
    let (client, reg) =
        register_client(&op.s, "Unregistered", "client_secret_basic", json!({})).await;
    let req = op.request(&client, &[], &[]);
    op.standard_flow_with(&Browser::new(), &req, &client, Auth::Basic, &[])
        .await;
    let res =
        op.s.http
            .delete(reg["registration_client_uri"].as_str().unwrap())
            .bearer_auth(reg["registration_access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 204);
    let res = op
        .send_token(
            &client,
            Auth::Basic,
            vec![
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    assert_eq!(res.status(), 401);
}

/// `oidcc-ensure-client-assertion-with-iss-aud-succeeds`: the token request's assertion
/// names the issuer as its audience (UpdateClientAuthenticationAssertionClaimsWithISSAud);
/// Tessera accepts it.
async fn oidcc_ensure_client_assertion_with_iss_aud_succeeds() {
    let op = op().await;
    assert!(
        op.client.key.is_some(),
        "the plan's clients use private_key_jwt"
    );
    let req = op.request(&op.client, &[], &[]);
    let cb = op.authorize(&Browser::new(), &req, false).await.unwrap();
    let code = op.check_success(&cb, &req);
    op.token(&op.client, Auth::JwtIssuer, &code, &req, &[])
        .await;
}

/// `GenerateRS256ClientJWKsWithKeyID` and `AddJwksUriToDynamicRegistrationRequest`: a client
/// whose keys are served at a `jwks_uri` of the suite (here a server on 127.0.0.1), with
/// `extra` registration metadata.
async fn register_by_reference(op: &Op, extra: Value) -> (Client, crate::support::JwksServer) {
    let key = tessera_crypto::jws::SigningKey::generate(
        tessera_crypto::jws::Alg::RS256,
        format!("rp-{}", random(8)),
    )
    .unwrap()
    .0;
    let server = crate::support::jwks_server(json!({"keys": [key.public_jwk()]})).await;
    let mut meta = json!({"jwks_uri": server.url, "jwks": null});
    for (k, v) in extra.as_object().unwrap() {
        meta[k] = v.clone();
    }
    let (mut client, reg) = register_client(&op.s, "By reference", "private_key_jwt", meta).await;
    assert_eq!(reg["jwks_uri"], server.url.as_str());
    assert!(reg.get("jwks").is_none());
    client.key = Some(key);
    (client, server)
}

/// `oidcc-registration-jwks-uri`: keys registered by reference; the flow authenticates with
/// them.
async fn oidcc_registration_jwks_uri() {
    let op = op().await;
    let (client, _keys) = register_by_reference(&op, json!({})).await;
    let req = op.request(&client, &[], &[]);
    op.standard_flow_with(&Browser::new(), &req, &client, Auth::Basic, &[])
        .await;
}

/// `oidcc-refresh-token-rp-key-rotation`: a refresh token, then the client puts a new key
/// with a new kid at its `jwks_uri`, waits (`jwks_refresh_delay`: the server's refetch
/// interval, one second in the tests), and refreshes with an assertion signed by the new key.
async fn oidcc_refresh_token_rp_key_rotation() {
    let op = op().await;
    let (mut client, keys) = register_by_reference(
        &op,
        json!({"grant_types": ["authorization_code", "refresh_token"]}),
    )
    .await;
    let req = op.request(
        &client,
        &[("scope", "openid offline_access"), ("prompt", "consent")],
        &[],
    );
    let first = op
        .standard_flow_with(&Browser::new(), &req, &client, Auth::Basic, &[])
        .await;
    let rt = first.refresh_token.clone().expect("a refresh token");
    let new_key = tessera_crypto::jws::SigningKey::generate(
        tessera_crypto::jws::Alg::RS256,
        format!("rp-{}", random(8)),
    )
    .unwrap()
    .0;
    *keys.set.lock().unwrap() = json!({"keys": [new_key.public_jwk()]});
    client.key = Some(new_key);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = op
        .send_token(
            &client,
            Auth::Basic,
            vec![("grant_type", "refresh_token"), ("refresh_token", &rt)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, t) = json(res).await;
    let access = t["access_token"].as_str().unwrap();
    if let Some(id) = t["id_token"].as_str() {
        let c = op.check_id_token(&client, id, None, Some(access));
        for k in ["iss", "sub", "aud", "auth_time", "azp"] {
            assert_eq!(c.get(k), first.claims.get(k), "{k}");
        }
    }
    assert_eq!(op.userinfo_get(access).await.status(), 200);
}

/// `oidcc-dynamic-certification-test-plan`.
mod dynamic_plan {
    macro_rules! dynamic {
        ($($module:ident => $f:path),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $module() {
                    let _plan = super::Plan::set(false, true);
                    $f().await;
                }
            )*
        };
    }

    dynamic!(
        oidcc_server => super::oidcc_server_dynamic,
        oidcc_idtoken_rs256 => super::oidcc_idtoken_rs256,
        oidcc_idtoken_unsigned => super::oidcc_idtoken_unsigned,
        oidcc_userinfo_rs256 => super::oidcc_userinfo_rs256,
        oidcc_ensure_redirect_uri_in_authorization_request =>
            super::oidcc_ensure_redirect_uri_in_authorization_request,
        oidcc_redirect_uri_query_ok => super::oidcc_redirect_uri_query_ok,
        oidcc_redirect_uri_query_mismatch => super::oidcc_redirect_uri_query_mismatch,
        oidcc_redirect_uri_query_added => super::oidcc_redirect_uri_query_added,
        oidcc_redirect_uri_regfrag => super::oidcc_redirect_uri_regfrag,
        oidcc_discovery_endpoint_verification => super::discovery_endpoint_verification,
        oidcc_registration_sector_uri => super::oidcc_registration_sector,
        oidcc_registration_sector_bad => super::oidcc_registration_sector,
        oidcc_server_rotate_keys => super::oidcc_server_rotate_keys,
        oidcc_request_uri_unsigned => super::oidcc_request_uri_unsigned,
        oidcc_request_uri_signed_rs256 => super::oidcc_request_uri_signed_rs256,
        oidcc_ensure_request_object_with_redirect_uri =>
            super::oidcc_ensure_request_object_with_redirect_uri,
        oidcc_refresh_token => super::oidcc_refresh_token,
        oidcc_ensure_client_assertion_with_iss_aud_succeeds =>
            super::oidcc_ensure_client_assertion_with_iss_aud_succeeds,
        oidcc_registration_jwks_uri => super::oidcc_registration_jwks_uri,
        oidcc_refresh_token_rp_key_rotation => super::oidcc_refresh_token_rp_key_rotation,
    );
}
