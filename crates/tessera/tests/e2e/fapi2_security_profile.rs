//! The FAPI 2.0 Security Profile plan of the OpenID Foundation's conformance suite
//! (`FAPI2SPFinalTestPlan`, and the signed request modules of the Message Signing plan),
//! re-created for the DPoP + `private_key_jwt` variant: each module is a test named after it
//! (`fapi2-security-profile-final-happy-flow` → `..._happy_flow`), and checks what the suite's
//! module checks of the server, over real HTTP, with the suite's outcomes (the errors it
//! accepts, the warnings it would give treated as failures).
//!
//! [`Fapi`] is the suite's client side: a browser, clients with keys, client assertions and
//! DPoP proofs made as the suite makes them. The other sender-constraint tests use it too.

use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{redirect::Policy, Method, StatusCode};
use serde_json::{json, Value};
use tessera_crypto::jws::{Alg, SigningKey};
use tessera_testkit::TestServer;

use crate::support::{acme_client, acme_with_alice, call, hidden, json, set_cookie, ACME_CLIENTS};

pub(crate) const ORG: &str = "/orgs/acme-corp";
pub(crate) const REDIRECT: &str = "https://rp.example.com/cb";
pub(crate) const VERIFIER: &str = "fapi2-verifier-0123456789-0123456789-abcdefghijk";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub(crate) fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub(crate) fn sha256_b64(s: &str) -> String {
    use sha2::Digest;
    b64(&sha2::Sha256::digest(s.as_bytes()))
}

/// The claims of a JWT, unverified.
pub(crate) fn claims_of(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("base64url")).expect("JSON")
}

/// The header of a JWT, unverified.
pub(crate) fn header_of(jwt: &str) -> Value {
    let p = jwt.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("base64url")).expect("JSON")
}

/// A key pair of the client (ES256 unless said otherwise).
pub(crate) fn key(kid: &str) -> SigningKey {
    SigningKey::generate(Alg::ES256, kid.to_owned()).unwrap().0
}

/// The public JWK of `k` as a DPoP header carries it: no `kid`, `alg` or `use`.
pub(crate) fn bare_jwk(k: &SigningKey) -> Value {
    let mut jwk = k.public_jwk();
    let o = jwk.as_object_mut().unwrap();
    for m in ["kid", "alg", "use"] {
        o.remove(m);
    }
    jwk
}

/// The RFC 7638 thumbprint of `k`'s public key (P-256).
pub(crate) fn thumbprint(k: &SigningKey) -> String {
    let j = bare_jwk(k);
    sha256_b64(&format!(
        r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
        j["crv"].as_str().unwrap(),
        j["x"].as_str().unwrap(),
        j["y"].as_str().unwrap()
    ))
}

/// A DPoP proof (RFC 9449 §4.2) by `k`, with `extra` claims over the usual ones.
pub(crate) fn proof_with(k: &SigningKey, htm: &str, htu: &str, extra: Value) -> String {
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": bare_jwk(k)});
    let mut claims = json!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "htm": htm,
        "htu": htu,
        "iat": now(),
    });
    for (name, v) in extra.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = v.clone();
        }
    }
    k.sign_with_header(&header, &claims).unwrap()
}

/// A client of the organization with its assertion key.
pub(crate) struct Rp {
    pub id: String,
    pub key: SigningKey,
}

/// What a token request answered.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

/// The suite's client side against one server.
pub(crate) struct Fapi {
    pub s: TestServer,
    pub admin: String,
    browser: reqwest::Client,
    binding: Mutex<Option<String>>,
    session: Mutex<Option<String>>,
}

impl Fapi {
    pub(crate) async fn start() -> Self {
        Self::on(TestServer::start().await).await
    }

    pub(crate) async fn on(s: TestServer) -> Self {
        let admin = acme_with_alice(&s).await;
        Self {
            s,
            admin,
            browser: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            binding: Mutex::default(),
            session: Mutex::default(),
        }
    }

    pub(crate) fn issuer(&self) -> String {
        self.s.url(ORG)
    }

    pub(crate) fn endpoint(&self, name: &str) -> String {
        format!("{}/api/v1/oauth/{name}", self.issuer())
    }

    /// A FAPI 2.0 client (`securityProfile: fapi2`) with one ES256 key, as the suite
    /// registers it; `extra` fields over the defaults.
    pub(crate) async fn client(&self, extra: Value) -> Rp {
        let key = key(&format!("rp-{}", uuid::Uuid::new_v4()));
        let mut body = json!({
            "name": "FAPI RP",
            "redirectUris": [REDIRECT, format!("{REDIRECT}?dummy1=lorem&dummy2=ipsum")],
            "grantTypes": ["authorization_code", "refresh_token"],
            "allowedScopes": ["openid", "profile", "email"],
            "tokenEndpointAuthMethod": "private_key_jwt",
            "jwks": {"keys": [key.public_jwk()]},
            "idTokenSignedResponseAlg": "ES256",
            "securityProfile": "fapi2",
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (id, _) = acme_client(&self.s, &self.admin, body).await;
        Rp { id, key }
    }

    /// A client assertion of `rp` (as the suite makes it: aud the issuer, a minute of life),
    /// with `extra` claims over those (`null` removes one).
    pub(crate) fn assertion(&self, rp: &Rp, extra: Value) -> String {
        let mut claims = json!({
            "iss": rp.id, "sub": rp.id, "aud": self.issuer(),
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now(), "nbf": now(), "exp": now() + 60,
        });
        for (name, v) in extra.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = v.clone();
            }
        }
        rp.key.sign_jwt("JWT", &claims).unwrap()
    }

    /// The authorization request parameters the suite pushes for `rp`.
    pub(crate) fn request(&self, rp: &Rp) -> Vec<(String, String)> {
        let challenge = sha256_b64(VERIFIER);
        [
            ("client_id", rp.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile"),
            ("state", "fapi-state-1"),
            ("nonce", "fapi-nonce-1"),
            ("response_type", "code"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// POSTs `form` to a protocol endpoint with `rp`'s assertion (unless the form has one)
    /// and a DPoP proof of `dpop`, as the suite's client does.
    pub(crate) async fn post(
        &self,
        endpoint: &str,
        rp: &Rp,
        form: &[(String, String)],
        dpop: Option<&SigningKey>,
    ) -> Answer {
        let mut form = form.to_vec();
        if !form.iter().any(|(k, _)| k == "client_assertion") {
            form.push(("client_assertion_type".into(), JWT_BEARER.into()));
            form.push(("client_assertion".into(), self.assertion(rp, json!({}))));
        }
        let url = self.endpoint(endpoint);
        let mut r = self.s.http.post(&url).form(&form);
        if let Some(k) = dpop {
            r = r.header("DPoP", proof_with(k, "POST", &url, json!({})));
        }
        let res = r.send().await.unwrap();
        let headers = res.headers().clone();
        let (status, body) = json(res).await;
        Answer {
            status,
            body,
            headers,
        }
    }

    /// Pushes `form` (PAR, RFC 9126).
    pub(crate) async fn par(
        &self,
        rp: &Rp,
        form: &[(String, String)],
        dpop: Option<&SigningKey>,
    ) -> Answer {
        self.post("par", rp, form, dpop).await
    }

    /// Pushes the usual request and answers its `request_uri` (asserting the 201).
    pub(crate) async fn pushed(&self, rp: &Rp, dpop: Option<&SigningKey>) -> String {
        let a = self.par(rp, &self.request(rp), dpop).await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["request_uri"].as_str().unwrap().to_owned()
    }

    fn cookies(&self) -> Option<String> {
        let parts: Vec<String> = [
            self.binding.lock().unwrap().clone(),
            self.session.lock().unwrap().clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    fn keep_cookies(&self, res: &reqwest::Response) {
        if let Some(b) = set_cookie(res, "tessera_browser") {
            *self.binding.lock().unwrap() = Some(b);
        }
        if let Some(c) = set_cookie(res, "tessera_session") {
            *self.session.lock().unwrap() = Some(c);
        }
    }

    /// The browser at the authorization endpoint with `query`.
    pub(crate) async fn authorize(&self, query: &[(&str, &str)]) -> reqwest::Response {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let mut r = self
            .browser
            .get(format!("{}?{q}", self.endpoint("authorize")));
        if let Some(c) = self.cookies() {
            r = r.header("cookie", c);
        }
        let res = r.send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    /// The browser at `url` (with its cookies).
    pub(crate) async fn browse(&self, url: &str) -> reqwest::Response {
        let mut r = self.browser.get(url);
        if let Some(c) = self.cookies() {
            r = r.header("cookie", c);
        }
        let res = r.send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    async fn post_page(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut r = self.browser.post(self.s.url(path)).form(form);
        if let Some(c) = self.cookies() {
            r = r.header("cookie", c);
        }
        let res = r.send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    /// Follows the pages from an authorization response as the user: signs in as alice if
    /// asked, and allows (or denies) consent; the redirect back to the client.
    pub(crate) async fn through_pages(&self, mut res: reqwest::Response, allow: bool) -> url::Url {
        loop {
            if res.status() == StatusCode::SEE_OTHER {
                return url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
            }
            assert_eq!(res.status(), 200, "a page");
            let html = res.text().await.unwrap();
            let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
            res = if html.contains("name=\"password\"") {
                self.post_page(
                    "/orgs/acme-corp/login",
                    &[
                        ("request", &req),
                        ("csrf_token", &csrf),
                        ("username", "alice"),
                        ("password", "correct horse battery"),
                    ],
                )
                .await
            } else {
                let decision = if allow { "allow" } else { "deny" };
                self.post_page(
                    "/orgs/acme-corp/consent",
                    &[
                        ("request", &req),
                        ("csrf_token", &csrf),
                        ("decision", decision),
                    ],
                )
                .await
            };
        }
    }

    /// The front channel of a pushed request: `client_id` and `request_uri` (and `extra`),
    /// through the pages; the callback URL.
    pub(crate) async fn front_channel(
        &self,
        rp: &Rp,
        request_uri: &str,
        extra: &[(&str, &str)],
    ) -> url::Url {
        let mut q = vec![("client_id", rp.id.as_str()), ("request_uri", request_uri)];
        q.extend_from_slice(extra);
        let res = self.authorize(&q).await;
        self.through_pages(res, true).await
    }

    /// Redeems `code` for `rp` with DPoP key `dpop`.
    pub(crate) async fn redeem(&self, rp: &Rp, code: &str, dpop: Option<&SigningKey>) -> Answer {
        let form = pairs(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ]);
        self.post("token", rp, &form, dpop).await
    }

    /// The whole happy flow for `rp` with DPoP key `dpop`: the token answer.
    pub(crate) async fn happy(&self, rp: &Rp, dpop: &SigningKey) -> Answer {
        let uri = self.pushed(rp, None).await;
        let cb = self.front_channel(rp, &uri, &[]).await;
        let code = param(&cb, "code").expect("a code");
        let a = self.redeem(rp, &code, Some(dpop)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        a
    }

    /// GET userinfo with `token` under `scheme` and a proof by `dpop` (with `extra` claims).
    pub(crate) async fn userinfo(
        &self,
        scheme: &str,
        token: &str,
        dpop: Option<(&SigningKey, Value)>,
    ) -> reqwest::Response {
        let url = self.endpoint("userinfo");
        let mut r = self
            .s
            .http
            .get(&url)
            .header("authorization", format!("{scheme} {token}"));
        if let Some((k, extra)) = dpop {
            let mut claims = json!({"ath": sha256_b64(token)});
            for (n, v) in extra.as_object().unwrap() {
                claims[n] = v.clone();
            }
            r = r.header("DPoP", proof_with(k, "GET", &url, claims));
        }
        r.send().await.unwrap()
    }
}

pub(crate) fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(crate) fn param(u: &url::Url, k: &str) -> Option<String> {
    u.query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
}

/// The request with `name` replaced by `value` (`""` removes it).
fn with(mut req: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    req.retain(|(k, _)| k != name);
    if !value.is_empty() {
        req.push((name.to_owned(), value.to_owned()));
    }
    req
}

/// The error of a callback, with the state it carries.
fn callback_error(cb: &url::Url) -> (Option<String>, Option<String>) {
    (param(cb, "error"), param(cb, "state"))
}

fn assert_error(a: &Answer, status: &[u16], errors: &[&str]) {
    assert!(status.contains(&a.status), "{} {}", a.status, a.body);
    let e = a.body["error"].as_str().unwrap_or_default();
    assert!(errors.contains(&e), "{e}: {}", a.body);
}

// ---------------------------------------------------------------------------------------
// The modules.

#[tokio::test]
async fn fapi2_security_profile_final_discovery_end_point_verification() {
    let f = Fapi::start().await;
    let (st, d) = json(
        f.s.http
            .get(f.s.url("/orgs/acme-corp/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(d["issuer"], f.issuer());
    assert!(d["response_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("code")));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        d["pushed_authorization_request_endpoint"],
        f.endpoint("par")
    );
    assert!(d["require_pushed_authorization_requests"].is_boolean());
    let fapi_algs = ["PS256", "ES256", "EdDSA", "Ed25519"];
    for field in [
        "dpop_signing_alg_values_supported",
        "id_token_signing_alg_values_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "userinfo_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
    ] {
        let algs = d[field].as_array().unwrap_or_else(|| panic!("{field}"));
        assert!(
            algs.iter()
                .any(|a| fapi_algs.contains(&a.as_str().unwrap())),
            "{field}: {algs:?}"
        );
    }
    assert!(d["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("private_key_jwt")));
    assert!(d["code_challenge_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("S256")));
    assert!(d["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("openid")));
    assert!(d["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("authorization_code")));
    assert!(d["subject_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("public")));
    for field in ["token_endpoint", "jwks_uri", "authorization_endpoint"] {
        assert!(
            d[field].as_str().unwrap().starts_with(&f.issuer()),
            "{field}"
        );
    }
    // Every key of the JWKS has a kid; RSA keys have 2048 bits or more.
    let (_, jwks) = json(f.s.http.get(f.endpoint("jwks")).send().await.unwrap()).await;
    for k in jwks["keys"].as_array().unwrap() {
        assert!(k["kid"].is_string(), "{k}");
        if k["kty"] == "RSA" {
            let n = URL_SAFE_NO_PAD.decode(k["n"].as_str().unwrap()).unwrap();
            assert!(n.len() * 8 >= 2048);
        }
    }
}

#[tokio::test]
async fn fapi2_security_profile_final_happy_flow() {
    let f = Fapi::start().await;
    let (rp1, rp2) = (f.client(json!({})).await, f.client(json!({})).await);
    let (k1, k2) = (key("dpop-1"), key("dpop-2"));

    // Client 1: PAR without DPoP, the token request with it.
    let uri = f.pushed(&rp1, None).await;
    assert!(
        uri.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{uri}"
    );
    // The suite sends duplicates of the pushed parameters on the front channel.
    let cb = f
        .front_channel(
            &rp1,
            &uri,
            &[
                ("response_type", "code"),
                ("scope", "openid profile"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert!(cb.as_str().starts_with(REDIRECT), "{cb}");
    assert_eq!(param(&cb, "state").as_deref(), Some("fapi-state-1"));
    assert_eq!(param(&cb, "iss"), Some(f.issuer()));
    let code = param(&cb, "code").unwrap();
    assert!(
        URL_SAFE_NO_PAD.decode(&code).unwrap().len() >= 16,
        "128 bits"
    );
    let a = f.redeem(&rp1, &code, Some(&k1)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["cache-control"], "no-store");
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(a.body["token_type"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case("dpop"));
    let expires_in = a.body["expires_in"].as_i64().unwrap();
    assert!(expires_in > 0 && expires_in <= 31_536_000);
    let at = a.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&at)["cnf"]["jkt"], thumbprint(&k1));
    // The id_token: kid, ES256, the nonce, a session id.
    let id_token = a.body["id_token"].as_str().unwrap();
    let (h, c) = (header_of(id_token), claims_of(id_token));
    assert!(h["kid"].is_string());
    assert_eq!(h["alg"], "ES256");
    assert_eq!(c["iss"], f.issuer());
    assert_eq!(c["aud"], rp1.id);
    assert_eq!(c["nonce"], "fapi-nonce-1");
    assert!(c["sid"].is_string() && c["sub"].is_string());
    // The resource: userinfo with the proof, then the checks of the extra calls.
    let res = f.userinfo("DPoP", &at, Some((&k1, json!({})))).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("date"));
    let (_, info) = json(res).await;
    assert_eq!(info["sub"], c["sub"]);
    // The token in the query, without the header: refused.
    let res =
        f.s.http
            .get(format!("{}?access_token={at}", f.endpoint("userinfo")))
            .send()
            .await
            .unwrap();
    assert!(res.status().is_client_error());

    // Client 2: dpop_jkt in PAR (no DPoP header), the redirect URI with a query, the
    // parameters in reverse order, a 128-character state.
    let state = "s".repeat(128);
    let redirect = format!("{REDIRECT}?dummy1=lorem&dummy2=ipsum");
    let mut req = f.request(&rp2);
    req = with(req, "redirect_uri", &redirect);
    req = with(req, "state", &state);
    req.push(("dpop_jkt".into(), thumbprint(&k2)));
    req.reverse();
    let p = f.par(&rp2, &req, None).await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp2, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    assert_eq!(param(&cb, "dummy1").as_deref(), Some("lorem"));
    assert_eq!(param(&cb, "dummy2").as_deref(), Some("ipsum"));
    assert_eq!(param(&cb, "state").as_deref(), Some(state.as_str()));
    let form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", &redirect),
        ("code_verifier", VERIFIER),
    ]);
    let a2 = f.post("token", &rp2, &form, Some(&k2)).await;
    assert_eq!(a2.status, 200, "{}", a2.body);
    let at2 = a2.body["access_token"].as_str().unwrap();
    // Client 2's token with client 1's key: refused.
    let res = f.userinfo("DPoP", at2, Some((&k1, json!({})))).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn fapi2_security_profile_final_user_rejects_authentication() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let state = "r".repeat(128);
    let req = with(f.request(&rp), "state", &state);
    let p = f.par(&rp, &req, None).await;
    assert_eq!(p.status, 201, "{}", p.body);
    let res = f
        .authorize(&[
            ("client_id", rp.id.as_str()),
            ("request_uri", p.body["request_uri"].as_str().unwrap()),
        ])
        .await;
    let cb = f.through_pages(res, false).await;
    assert_eq!(
        callback_error(&cb),
        (Some("access_denied".into()), Some(state))
    );
    assert_eq!(param(&cb, "iss"), Some(f.issuer()));
    assert!(param(&cb, "code").is_none());
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_authorization_request_without_state_success() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let p = f.par(&rp, &with(f.request(&rp), "state", ""), None).await;
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    assert!(param(&cb, "code").is_some(), "{cb}");
    assert!(param(&cb, "state").is_none(), "{cb}");
    let a = f
        .redeem(&rp, &param(&cb, "code").unwrap(), Some(&key("d")))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(claims_of(a.body["id_token"].as_str().unwrap())
        .get("s_hash")
        .is_none());
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_authorization_request_without_nonce_success() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let p = f.par(&rp, &with(f.request(&rp), "nonce", ""), None).await;
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    let a = f
        .redeem(&rp, &param(&cb, "code").unwrap(), Some(&key("d")))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(claims_of(a.body["id_token"].as_str().unwrap())
        .get("nonce")
        .is_none());
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_authorization_request_with_64_char_nonce_success() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let nonce = "n".repeat(64);
    let p = f
        .par(&rp, &with(f.request(&rp), "nonce", &nonce), None)
        .await;
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    let a = f
        .redeem(&rp, &param(&cb, "code").unwrap(), Some(&key("d")))
        .await;
    assert_eq!(
        claims_of(a.body["id_token"].as_str().unwrap())["nonce"],
        nonce
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_other_scope_order_succeeds() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let p = f
        .par(&rp, &with(f.request(&rp), "scope", "profile openid"), None)
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    let a = f
        .redeem(&rp, &param(&cb, "code").unwrap(), Some(&key("d")))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn fapi2_security_profile_final_access_token_type_header_case_sensitivity() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("d");
    let a = f.happy(&rp, &k).await;
    let at = a.body["access_token"].as_str().unwrap();
    for scheme in ["dPoP", "DPOP", "dpop"] {
        let res = f.userinfo(scheme, at, Some((&k, json!({})))).await;
        assert_eq!(res.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn fapi2_security_profile_final_check_dpop_proof_nbf_exp() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("d");
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    let url = f.endpoint("token");
    let form = {
        let mut p = pairs(&[
            ("grant_type", "authorization_code"),
            ("code", &param(&cb, "code").unwrap()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_assertion_type", JWT_BEARER),
        ]);
        p.push(("client_assertion".into(), f.assertion(&rp, json!({}))));
        p
    };
    let extra = json!({"nbf": now(), "exp": now() + 300});
    let res =
        f.s.http
            .post(&url)
            .header("DPoP", proof_with(&k, "POST", &url, extra.clone()))
            .form(&form)
            .send()
            .await
            .unwrap();
    let (st, t) = json(res).await;
    assert_eq!(st, 200, "{t}");
    let at = t["access_token"].as_str().unwrap();
    let res = f.userinfo("DPoP", at, Some((&k, extra))).await;
    assert_eq!(res.status(), 200);
}

/// A proof made `skew` seconds off at PAR, the token endpoint and userinfo.
async fn proofs_with_skew(skew: i64) {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("d");
    let off = json!({"iat": now() + skew});
    let par_url = f.endpoint("par");
    let mut form = f.request(&rp);
    form.push(("client_assertion_type".into(), JWT_BEARER.into()));
    form.push(("client_assertion".into(), f.assertion(&rp, json!({}))));
    let res =
        f.s.http
            .post(&par_url)
            .header("DPoP", proof_with(&k, "POST", &par_url, off.clone()))
            .form(&form)
            .send()
            .await
            .unwrap();
    let (st, p) = json(res).await;
    assert_eq!(st, 201, "{p}");
    let cb = f
        .front_channel(&rp, p["request_uri"].as_str().unwrap(), &[])
        .await;
    let token_url = f.endpoint("token");
    let mut form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_assertion_type", JWT_BEARER),
    ]);
    form.push(("client_assertion".into(), f.assertion(&rp, json!({}))));
    let res =
        f.s.http
            .post(&token_url)
            .header("DPoP", proof_with(&k, "POST", &token_url, off.clone()))
            .form(&form)
            .send()
            .await
            .unwrap();
    let (st, t) = json(res).await;
    assert_eq!(st, 200, "{t}");
    let res = f
        .userinfo("DPoP", t["access_token"].as_str().unwrap(), Some((&k, off)))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_dpopproof_with_iat_10seconds_before_succeeds() {
    proofs_with_skew(-10).await;
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_dpopproof_with_iat_10seconds_after_succeeds() {
    proofs_with_skew(8).await;
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_mismatched_dpop_jkt_fails() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let mut req = f.request(&rp);
    req.push(("dpop_jkt".into(), thumbprint(&key("other"))));
    let a = f.par(&rp, &req, Some(&key("proof"))).await;
    assert_error(&a, &[400], &["invalid_request", "invalid_dpop_proof"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_token_endpoint_fails_with_mismatched_dpop_proof_jkt() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let (a_key, b_key) = (key("a"), key("b"));
    let uri = f.pushed(&rp, Some(&a_key)).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    let code = param(&cb, "code").unwrap();
    let a = f.redeem(&rp, &code, Some(&b_key)).await;
    assert_error(
        &a,
        &[400],
        &["invalid_request", "invalid_grant", "invalid_dpop_proof"],
    );
    // The code was not spent by the refusal: the right key still redeems it.
    let a = f.redeem(&rp, &code, Some(&a_key)).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_token_endpoint_fails_with_mismatched_dpop_jkt() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let mut req = f.request(&rp);
    req.push(("dpop_jkt".into(), thumbprint(&key("bogus"))));
    let p = f.par(&rp, &req, None).await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    let a = f
        .redeem(&rp, &param(&cb, "code").unwrap(), Some(&key("real")))
        .await;
    assert_error(
        &a,
        &[400],
        &["invalid_request", "invalid_grant", "invalid_dpop_proof"],
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_dpopproof_at_par_endpoint_binding_success() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("d");
    let uri = f.pushed(&rp, Some(&k)).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    let a = f.redeem(&rp, &param(&cb, "code").unwrap(), Some(&k)).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_dpop_auth_code_binding_success() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("d");
    let mut req = f.request(&rp);
    req.push(("dpop_jkt".into(), thumbprint(&k)));
    let p = f.par(&rp, &req, Some(&k)).await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    let a = f.redeem(&rp, &param(&cb, "code").unwrap(), Some(&k)).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_different_nonce_inside_and_outside_request_object() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[("nonce", "outside")]).await;
    let a = f
        .redeem(&rp, &param(&cb, "code").unwrap(), Some(&key("d")))
        .await;
    assert_eq!(
        claims_of(a.body["id_token"].as_str().unwrap())["nonce"],
        "fapi-nonce-1"
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_different_state_inside_and_outside_request_object() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[("state", "outside")]).await;
    assert_eq!(param(&cb, "state").as_deref(), Some("fapi-state-1"));
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_authorization_request_with_long_nonce() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let nonce = "n".repeat(384);
    let p = f
        .par(&rp, &with(f.request(&rp), "nonce", &nonce), None)
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    let a = f
        .redeem(&rp, &param(&cb, "code").unwrap(), Some(&key("d")))
        .await;
    assert_eq!(
        claims_of(a.body["id_token"].as_str().unwrap())["nonce"],
        nonce
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_authorization_request_with_long_state() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let state = "s".repeat(1000);
    let p = f
        .par(&rp, &with(f.request(&rp), "state", &state), None)
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    assert_eq!(param(&cb, "state"), Some(state));
}

#[tokio::test]
async fn fapi2_security_profile_final_state_only_outside_request_object_not_used() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let p = f.par(&rp, &with(f.request(&rp), "state", ""), None).await;
    let cb = f
        .front_channel(
            &rp,
            p.body["request_uri"].as_str().unwrap(),
            &[("state", "only-outside")],
        )
        .await;
    assert!(param(&cb, "code").is_some(), "{cb}");
    assert!(param(&cb, "state").is_none(), "{cb}");
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_request_object_without_redirect_uri_fails() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let a = f
        .par(&rp, &with(f.request(&rp), "redirect_uri", ""), None)
        .await;
    assert_error(&a, &[400], &["invalid_request", "invalid_request_object"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_redirect_uri_in_authorization_request() {
    // No redirect_uri anywhere: the PAR endpoint refuses (a FAPI 2.0 client has two).
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let a = f
        .par(&rp, &with(f.request(&rp), "redirect_uri", ""), None)
        .await;
    assert_error(&a, &[400], &["invalid_request", "invalid_request_object"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_unsigned_authorization_request_without_using_par_fails(
) {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let req = f.request(&rp);
    let q: Vec<(&str, &str)> = req.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = f.authorize(&q).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cb = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        callback_error(&cb),
        (Some("invalid_request".into()), Some("fapi-state-1".into()))
    );
    assert!(param(&cb, "error_description").unwrap().contains("PAR"));
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_response_type_code_idtoken_fails() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    for rt in ["code id_token", "token"] {
        let a = f
            .par(&rp, &with(f.request(&rp), "response_type", rt), None)
            .await;
        assert_error(
            &a,
            &[400],
            &[
                "unsupported_response_type",
                "invalid_request",
                "unauthorized_client",
            ],
        );
    }
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_response_type_token_fails() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let a = f
        .par(&rp, &with(f.request(&rp), "response_type", "token"), None)
        .await;
    assert_error(&a, &[400], &["unsupported_response_type"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_client_id_in_token_endpoint() {
    let f = Fapi::start().await;
    let (rp1, rp2) = (f.client(json!({})).await, f.client(json!({})).await);
    let uri = f.pushed(&rp1, None).await;
    let cb = f.front_channel(&rp1, &uri, &[]).await;
    // Client 2's id and an assertion naming client 2, signed with client 1's key.
    let forged = rp1
        .key
        .sign_jwt(
            "JWT",
            &json!({
                "iss": rp2.id, "sub": rp2.id, "aud": f.issuer(),
                "jti": uuid::Uuid::new_v4().to_string(),
                "iat": now(), "exp": now() + 60,
            }),
        )
        .unwrap();
    let form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", &rp2.id),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &forged),
    ]);
    let a = f.post("token", &rp1, &form, Some(&key("d"))).await;
    assert_error(&a, &[400, 401], &["invalid_client", "invalid_grant"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_holder_of_key_required() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    let a = f.redeem(&rp, &param(&cb, "code").unwrap(), None).await;
    assert_error(
        &a,
        &[400],
        &["invalid_request", "invalid_grant", "invalid_dpop_proof"],
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_authorization_code_is_bound_to_client() {
    let f = Fapi::start().await;
    let (rp1, rp2) = (f.client(json!({})).await, f.client(json!({})).await);
    let uri = f.pushed(&rp1, None).await;
    let cb = f.front_channel(&rp1, &uri, &[]).await;
    let a = f
        .redeem(&rp2, &param(&cb, "code").unwrap(), Some(&key("d")))
        .await;
    assert_error(&a, &[400], &["invalid_grant"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_attempt_reuse_authorization_code_after_one_second() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("d");
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    let code = param(&cb, "code").unwrap();
    let first = f.redeem(&rp, &code, Some(&k)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let again = f.redeem(&rp, &code, Some(&k)).await;
    assert_error(&again, &[400], &["invalid_grant"]);
    // What the first use issued is revoked.
    let at = first.body["access_token"].as_str().unwrap();
    let res = f.userinfo("DPoP", at, Some((&k, json!({})))).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_token_endpoint_fails_with_expired_auth_code() {
    let clock = tessera_domain::clock::MockClock::new(time::OffsetDateTime::now_utc());
    let f = Fapi::on(TestServer::start_with_clock(std::sync::Arc::new(clock.clone())).await).await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    clock.advance(time::Duration::seconds(62));
    // The proof and the assertion are made on the server's (moved) clock.
    let k = key("d");
    let url = f.endpoint("token");
    let later = now() + 62;
    let assertion = f.assertion(&rp, json!({"iat": later, "nbf": later, "exp": later + 60}));
    let form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &assertion),
    ]);
    let res =
        f.s.http
            .post(&url)
            .header("DPoP", proof_with(&k, "POST", &url, json!({"iat": later})))
            .form(&form)
            .send()
            .await
            .unwrap();
    let (st, body) = json(res).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

/// The token request with `assertion` instead of a good one.
async fn token_with_assertion(f: &Fapi, rp: &Rp, assertion: Option<String>) -> Answer {
    let uri = f.pushed(rp, None).await;
    let cb = f.front_channel(rp, &uri, &[]).await;
    let mut form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", &rp.id),
    ]);
    match assertion {
        Some(a) => {
            form.push(("client_assertion_type".into(), JWT_BEARER.into()));
            form.push(("client_assertion".into(), a));
        }
        // No assertion: the form must still have the member the helper looks for.
        None => form.push(("client_assertion".into(), String::new())),
    }
    f.post("token", rp, &form, Some(&key("d"))).await
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_client_assertion_in_token_endpoint() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let a = token_with_assertion(&f, &rp, None).await;
    assert_error(&a, &[400, 401], &["invalid_client", "invalid_request"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_client_assertion_with_exp_is_5_minutes_in_past_fails()
{
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let past = now() - 360;
    let bad = f.assertion(&rp, json!({"iat": past, "nbf": past, "exp": now() - 300}));
    let a = token_with_assertion(&f, &rp, Some(bad)).await;
    assert_error(&a, &[400, 401], &["invalid_client", "invalid_request"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_client_assertion_with_wrong_aud_fails() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let bad = f.assertion(
        &rp,
        json!({"aud": "https://fapidev-rs.authlete.net/api/userinfo"}),
    );
    let a = token_with_assertion(&f, &rp, Some(bad)).await;
    assert_error(&a, &[400, 401], &["invalid_client", "invalid_request"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_client_assertion_with_no_sub_fails() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let bad = f.assertion(&rp, json!({"sub": null}));
    let a = token_with_assertion(&f, &rp, Some(bad)).await;
    assert_error(&a, &[400, 401], &["invalid_client", "invalid_request"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_dpop_negative_tests() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let k = key("d");
    let a = f.happy(&rp, &k).await;
    let at = a.body["access_token"].as_str().unwrap().to_owned();
    let url = f.endpoint("userinfo");
    let ath = sha256_b64(&at);
    let good = |extra: Value| {
        let mut c = json!({"ath": ath});
        for (n, v) in extra.as_object().unwrap() {
            c[n] = v.clone();
        }
        proof_with(&k, "GET", &url, c)
    };
    let send = |proofs: Vec<String>, scheme: &'static str| {
        let mut r =
            f.s.http
                .get(&url)
                .header("authorization", format!("{scheme} {at}"));
        for p in proofs {
            r = r.header("DPoP", p);
        }
        r.send()
    };
    // The header name in capitals: fine.
    let res =
        f.s.http
            .get(&url)
            .header("authorization", format!("DPoP {at}"))
            .header("DPOP", good(json!({})))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    let sign = |header: Value, claims: Value| k.sign_with_header(&header, &claims).unwrap();
    let base_claims = || json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": "GET", "htu": url, "iat": now(), "ath": ath});
    let base_header = || json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": bare_jwk(&k)});
    let without = |v: Value, m: &str| {
        let mut v = v;
        v.as_object_mut().unwrap().remove(m);
        v
    };
    let other = key("other");
    let private_jwk = {
        let mut j = bare_jwk(&k);
        j["d"] = json!("AAAA");
        j
    };
    let mut refused: Vec<(&str, Vec<String>)> = vec![
        ("two proofs", vec![good(json!({})), good(json!({}))]),
        ("not a JWT", vec!["not-a-jwt".into()]),
    ];
    for m in ["typ", "alg", "jwk"] {
        refused.push((m, vec![sign(without(base_header(), m), base_claims())]));
    }
    for m in ["jti", "htm", "htu", "iat", "ath"] {
        refused.push((m, vec![sign(base_header(), without(base_claims(), m))]));
    }
    let mut wrong_typ = base_header();
    wrong_typ["typ"] = json!("dpop+jwt+wrongyousee");
    refused.push(("typ", vec![sign(wrong_typ, base_claims())]));
    let none = format!(
        "{}.{}.",
        b64(
            json!({"typ": "dpop+jwt", "alg": "none", "jwk": bare_jwk(&k)})
                .to_string()
                .as_bytes()
        ),
        b64(base_claims().to_string().as_bytes())
    );
    refused.push(("alg none", vec![none]));
    // One character in the middle of the signature changed.
    let good_sig = good(json!({}));
    let at = good_sig.rfind('.').unwrap() + 20;
    let changed = if &good_sig[at..=at] == "A" { "B" } else { "A" };
    let bad_sig = format!("{}{changed}{}", &good_sig[..at], &good_sig[at + 1..]);
    refused.push(("signature", vec![bad_sig]));
    let mut with_private = base_header();
    with_private["jwk"] = private_jwk;
    refused.push(("private key", vec![sign(with_private, base_claims())]));
    refused.push(("htm", vec![good(json!({"htm": "PUT"}))]));
    refused.push((
        "htu path",
        vec![good(json!({"htu": format!("{url}ohnonotagain")}))],
    ));
    refused.push(("iat in an hour", vec![good(json!({"iat": now() + 3600}))]));
    refused.push(("iat an hour ago", vec![good(json!({"iat": now() - 3600}))]));
    refused.push(("ath", vec![good(json!({"ath": sha256_b64("other")}))]));
    refused.push((
        "another key",
        vec![proof_with(&other, "GET", &url, json!({"ath": ath}))],
    ));
    for (what, proofs) in refused {
        let res = send(proofs, "DPoP").await.unwrap();
        assert!(
            matches!(res.status().as_u16(), 400 | 401),
            "{what}: {}",
            res.status()
        );
        let challenge = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("DPoP"), "{what}: {challenge}");
    }
    // A replayed proof.
    let once = good(json!({}));
    assert_eq!(
        send(vec![once.clone()], "DPoP").await.unwrap().status(),
        200
    );
    assert_eq!(send(vec![once], "DPoP").await.unwrap().status(), 401);
    // Accepted: htu with a query and fragment, normalized forms, unknown members.
    let upper = url.replacen("http://127.0.0.1", "HTTP://127.0.0.1", 1);
    for extra in [
        json!({"htu": format!("{url}?query=1#frag")}),
        json!({"htu": upper}),
        json!({"unknown": "member"}),
    ] {
        let res = send(vec![good(extra.clone())], "DPoP").await.unwrap();
        assert_eq!(res.status(), 200, "{extra}");
    }
    let mut odd_header = base_header();
    odd_header["unknown"] = json!("member");
    let res = send(vec![sign(odd_header, base_claims())], "DPoP")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // No proof with the DPoP scheme; the bound token as a bearer token.
    assert_eq!(send(vec![], "DPoP").await.unwrap().status(), 401);
    assert_eq!(send(vec![], "Bearer").await.unwrap().status(), 401);
    // And a correct one still works.
    assert_eq!(
        send(vec![good(json!({}))], "DPoP").await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_refresh_token() {
    let f = Fapi::start().await;
    let (rp1, rp2) = (f.client(json!({})).await, f.client(json!({})).await);
    let a = f.happy(&rp1, &key("first")).await;
    let rt = a.body["refresh_token"].as_str().unwrap().to_owned();
    assert!(rt.bytes().all(|b| (0x20..=0x7e).contains(&b)));
    let first_id = claims_of(a.body["id_token"].as_str().unwrap());
    // A new DPoP key: a confidential client's refresh token is not bound to one.
    let refresh = pairs(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("scope", "openid profile"),
    ]);
    let r = f.post("token", &rp1, &refresh, Some(&key("new"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(r.body["token_type"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case("dpop"));
    let id = claims_of(r.body["id_token"].as_str().unwrap());
    for same in ["iss", "sub", "aud", "auth_time", "sid"] {
        assert_eq!(id[same], first_id[same], "{same}");
    }
    // Not rotated: the same token works again later.
    assert!(r.body.get("refresh_token").is_none(), "{}", r.body);
    let again = f.post("token", &rp1, &refresh, Some(&key("again"))).await;
    assert_eq!(again.status, 200, "{}", again.body);
    // Without client authentication, without a proof, by another client: refused.
    let unauthenticated =
        f.s.http
            .post(f.endpoint("token"))
            .header(
                "DPoP",
                proof_with(&key("x"), "POST", &f.endpoint("token"), json!({})),
            )
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
                ("client_id", rp1.id.as_str()),
            ])
            .send()
            .await
            .unwrap();
    let (st, body) = json(unauthenticated).await;
    assert!(matches!(st, 400 | 401), "{st} {body}");
    assert!(["invalid_client", "invalid_grant", "invalid_request"]
        .contains(&body["error"].as_str().unwrap()));
    let no_proof = f.post("token", &rp1, &refresh, None).await;
    assert_error(
        &no_proof,
        &[400],
        &["invalid_request", "invalid_grant", "invalid_dpop_proof"],
    );
    let other = f.post("token", &rp2, &refresh, Some(&key("y"))).await;
    assert_error(&other, &[400], &["invalid_grant"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_par_ensure_reused_request_uri_prior_to_auth_completion_succeeds(
) {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let q = [("client_id", rp.id.as_str()), ("request_uri", uri.as_str())];
    // Loaded twice before signing in (a reload): the second load signs in and succeeds.
    let first = f.authorize(&q).await;
    assert_eq!(first.status(), 200);
    let second = f.authorize(&q).await;
    let cb = f.through_pages(second, true).await;
    assert!(param(&cb, "code").is_some(), "{cb}");
}

#[tokio::test]
async fn fapi2_security_profile_final_par_attempt_reuse_request_uri() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    assert!(param(&cb, "code").is_some());
    let res = f
        .authorize(&[("client_id", rp.id.as_str()), ("request_uri", uri.as_str())])
        .await;
    // No redirect URI on the front channel: the page says so.
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("invalid_request_uri"));
    // With the registered redirect URI on the front channel, the error goes there.
    let res = f
        .authorize(&[
            ("client_id", rp.id.as_str()),
            ("request_uri", uri.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "s-1"),
        ])
        .await;
    let cb = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        callback_error(&cb),
        (Some("invalid_request_uri".into()), Some("s-1".into()))
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_par_attempt_to_use_expired_request_uri() {
    let clock = tessera_domain::clock::MockClock::new(time::OffsetDateTime::now_utc());
    let f = Fapi::on(TestServer::start_with_clock(std::sync::Arc::new(clock.clone())).await).await;
    let rp = f.client(json!({})).await;
    let p = f.par(&rp, &f.request(&rp), None).await;
    let expires_in = p.body["expires_in"].as_i64().unwrap();
    assert!((5..31_536_000).contains(&expires_in));
    clock.advance(time::Duration::seconds(expires_in));
    let res = f
        .authorize(&[
            ("client_id", rp.id.as_str()),
            ("request_uri", p.body["request_uri"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("invalid_request_uri"));
}

#[tokio::test]
async fn fapi2_security_profile_final_par_ensure_jwt_client_assertions_nbf_8_seconds_in_the_future_is_accepted(
) {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let soon = now() + 8;
    let mut form = f.request(&rp);
    form.push(("client_assertion_type".into(), JWT_BEARER.into()));
    form.push((
        "client_assertion".into(),
        f.assertion(&rp, json!({"iat": soon, "nbf": soon, "exp": soon + 60})),
    ));
    let a = f.par(&rp, &form, None).await;
    assert_eq!(a.status, 201, "{}", a.body);
}

#[tokio::test]
async fn fapi2_security_profile_final_par_ensure_jwt_client_assertions_nbf_over_60_seconds_in_the_future_fails(
) {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let later = now() + 62;
    let mut form = f.request(&rp);
    form.push(("client_assertion_type".into(), JWT_BEARER.into()));
    form.push((
        "client_assertion".into(),
        f.assertion(&rp, json!({"iat": later, "nbf": later, "exp": later + 60})),
    ));
    let a = f.par(&rp, &form, None).await;
    assert_error(&a, &[400, 401], &["invalid_request", "invalid_client"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_par_attempt_to_use_request_uri_for_different_client() {
    let f = Fapi::start().await;
    let (rp1, rp2) = (f.client(json!({})).await, f.client(json!({})).await);
    let uri = f.pushed(&rp1, None).await;
    let res = f
        .authorize(&[
            ("client_id", rp2.id.as_str()),
            ("request_uri", uri.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "s-2"),
        ])
        .await;
    let cb = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        callback_error(&cb),
        (Some("invalid_request_uri".into()), Some("s-2".into()))
    );
    // And client 1 can still use it.
    let cb = f.front_channel(&rp1, &uri, &[]).await;
    assert!(param(&cb, "code").is_some());
}

#[tokio::test]
async fn fapi2_security_profile_final_par_authorization_request_containing_request_uri_form_param()
{
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let mut req = f.request(&rp);
    req.push(("request_uri".into(), "urn:fdc:authlete.com:a0b1c2".into()));
    let a = f.par(&rp, &req, None).await;
    assert_error(
        &a,
        &[400],
        &[
            "invalid_request",
            "invalid_request_object",
            "request_uri_not_supported",
        ],
    );
}

#[tokio::test]
async fn fapi2_security_profile_final_par_attempt_invalid_http_method() {
    let f = Fapi::start().await;
    let res = f.s.http.put(f.endpoint("par")).send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn fapi2_security_profile_final_par_ensure_pkce_required() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let req = with(
        with(f.request(&rp), "code_challenge", ""),
        "code_challenge_method",
        "",
    );
    let a = f.par(&rp, &req, None).await;
    assert_error(&a, &[400], &["invalid_request"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_pkce_code_verifier_required() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    let form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", REDIRECT),
    ]);
    let a = f.post("token", &rp, &form, Some(&key("d"))).await;
    assert_error(&a, &[400], &["invalid_grant"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_incorrect_pkce_code_verifier_rejected() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let uri = f.pushed(&rp, None).await;
    let cb = f.front_channel(&rp, &uri, &[]).await;
    let form = pairs(&[
        ("grant_type", "authorization_code"),
        ("code", &param(&cb, "code").unwrap()),
        ("redirect_uri", REDIRECT),
        (
            "code_verifier",
            "wrong-verifier-0123456789-0123456789-abcdefghijk",
        ),
    ]);
    let a = f.post("token", &rp, &form, Some(&key("d"))).await;
    assert_error(&a, &[400], &["invalid_grant"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_par_plain_pkce_rejected() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let req = with(
        with(f.request(&rp), "code_challenge_method", "plain"),
        "code_challenge",
        VERIFIER,
    );
    let a = f.par(&rp, &req, None).await;
    assert_error(&a, &[400], &["invalid_request"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_par_without_duplicate_parameters() {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let a = f.happy(&rp, &key("d")).await;
    assert!(a.body["access_token"].is_string());
}

/// A PAR request whose assertion's `aud` is `aud`: refused.
async fn par_with_audience(aud: Value) {
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let aud = match aud {
        Value::String(s) if s == "PAR" => json!(f.endpoint("par")),
        Value::String(s) if s == "TOKEN" => json!(f.endpoint("token")),
        Value::String(s) if s == "BOTH" => json!([f.issuer(), f.endpoint("token")]),
        other => other,
    };
    let mut form = f.request(&rp);
    form.push(("client_assertion_type".into(), JWT_BEARER.into()));
    form.push((
        "client_assertion".into(),
        f.assertion(&rp, json!({"aud": aud})),
    ));
    let a = f.par(&rp, &form, None).await;
    assert_error(&a, &[400, 401], &["invalid_request", "invalid_client"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_par_test_array_as_audience_fails() {
    par_with_audience(json!("BOTH")).await;
}

#[tokio::test]
async fn fapi2_security_profile_final_par_test_par_endpoint_url_as_audience_fails() {
    par_with_audience(json!("PAR")).await;
}

#[tokio::test]
async fn fapi2_security_profile_final_par_test_token_endpoint_url_as_audience_fails() {
    par_with_audience(json!("TOKEN")).await;
}

// The signed request modules (Message Signing plan): the request pushed as a request object.

/// The usual request as a request object signed by `signer`, with `extra` claims.
fn request_object(f: &Fapi, rp: &Rp, signer: &SigningKey, extra: Value) -> String {
    let mut claims = json!({
        "iss": rp.id, "aud": f.issuer(), "client_id": rp.id,
        "nbf": now(), "exp": now() + 300,
    });
    for (k, v) in f.request(rp) {
        claims[k] = json!(v);
    }
    for (n, v) in extra.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(n);
        } else {
            claims[n] = v.clone();
        }
    }
    signer.sign_jwt("oauth-authz-req+jwt", &claims).unwrap()
}

async fn signed_client(f: &Fapi) -> Rp {
    f.client(json!({"requireSignedRequestObject": true})).await
}

#[tokio::test]
async fn fapi2_message_signing_final_happy_flow_with_signed_request() {
    let f = Fapi::start().await;
    let rp = signed_client(&f).await;
    let k = key("d");
    // Only `request` and the client assertion (no client_id on the form); dpop_jkt inside.
    let jar = request_object(&f, &rp, &rp.key, json!({"dpop_jkt": thumbprint(&k)}));
    let p = f.par(&rp, &pairs(&[("request", &jar)]), None).await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    assert_eq!(param(&cb, "state").as_deref(), Some("fapi-state-1"));
    let code = param(&cb, "code").unwrap();
    // Bound by the dpop_jkt inside the object.
    assert_eq!(f.redeem(&rp, &code, Some(&key("other"))).await.status, 400);
    let a = f.redeem(&rp, &code, Some(&k)).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_request_object_with_multiple_aud_succeeds() {
    let f = Fapi::start().await;
    let rp = signed_client(&f).await;
    let jar = request_object(
        &f,
        &rp,
        &rp.key,
        json!({"aud": [f.issuer(), "https://other1.example.com", "invalid"]}),
    );
    let p = f.par(&rp, &pairs(&[("request", &jar)]), None).await;
    assert_eq!(p.status, 201, "{}", p.body);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_unsigned_request_at_par_endpoint_fails() {
    let f = Fapi::start().await;
    let rp = signed_client(&f).await;
    let a = f.par(&rp, &f.request(&rp), None).await;
    assert_error(&a, &[400], &["invalid_request", "invalid_request_object"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_ensure_matching_key_in_authorization_request() {
    let f = Fapi::start().await;
    let (rp1, rp2) = (signed_client(&f).await, signed_client(&f).await);
    // Client 1's request object signed with client 2's key.
    let jar = request_object(&f, &rp1, &rp2.key, json!({}));
    let a = f.par(&rp1, &pairs(&[("request", &jar)]), None).await;
    assert_error(&a, &[400], &["invalid_request", "invalid_request_object"]);
}

#[tokio::test]
async fn fapi2_security_profile_final_request_object_claims_are_enforced() {
    let f = Fapi::start().await;
    let rp = signed_client(&f).await;
    let cases = [
        ("without exp", json!({"exp": null})),
        ("without nbf", json!({"nbf": null})),
        ("expired", json!({"exp": now() - 3600})),
        ("bad aud", json!({"aud": "https://www.other1.example.com/"})),
        ("exp over 60 minutes", json!({"exp": now() + 70 * 60})),
        ("nbf over 60 minutes ago", json!({"nbf": now() - 70 * 60})),
        ("request_uri inside", json!({"request_uri": "urn:x"})),
    ];
    for (what, extra) in cases {
        let jar = request_object(&f, &rp, &rp.key, extra);
        let a = f.par(&rp, &pairs(&[("request", &jar)]), None).await;
        assert_error(&a, &[400], &["invalid_request_object"]);
        assert!(a.body["error_description"].is_string(), "{what}");
    }
    // Unsigned (alg none).
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(claims_of(&request_object(&f, &rp, &rp.key, json!({})))
            .to_string()
            .as_bytes())
    );
    let a = f.par(&rp, &pairs(&[("request", &unsigned)]), None).await;
    assert_error(&a, &[400], &["invalid_request_object"]);
}

/// The client object of a FAPI 2.0 client is held to the profile when saved.
#[tokio::test]
async fn fapi2_profile_clients_are_checked_when_saved() {
    let f = Fapi::start().await;
    let (st, e) = json(
        call(
            &f.s,
            Method::POST,
            ACME_CLIENTS,
            Some(&f.admin),
            Some(
                json!({"name": "Weak", "redirectUris": [REDIRECT], "securityProfile": "fapi2",
                        "grantTypes": ["authorization_code", "password"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    let fields: Vec<&str> = e["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in [
        "tokenEndpointAuthMethod",
        "grantTypes",
        "idTokenSignedResponseAlg",
    ] {
        assert!(fields.contains(&f), "{f}: {e}");
    }
    let (st, e) = json(
        call(
            &f.s,
            Method::POST,
            ACME_CLIENTS,
            Some(&f.admin),
            Some(json!({"name": "Odd", "redirectUris": [REDIRECT], "securityProfile": "fapi9"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert!(e.to_string().contains("securityProfile"), "{e}");
    // A FAPI client shows its switches; PKCE is on whatever was sent.
    let rp = f.client(json!({"requirePkce": false})).await;
    let (_, c) = json(
        call(
            &f.s,
            Method::GET,
            &format!("{ACME_CLIENTS}/{}", rp.id),
            Some(&f.admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(c["securityProfile"], "fapi2");
    assert_eq!(c["requirePkce"], true);
    assert_eq!(c["requirePushedAuthorizationRequests"], false);
    assert_eq!(c["dpopBoundAccessTokens"], false);
}

/// PS256 (FAPI 2.0 §5.4): id_tokens and access tokens signed with the organization's RSA key
/// under its own kid, verified by an independent library against the JWKS.
#[tokio::test]
async fn fapi2_ps256_tokens_verify_against_the_jwks() {
    let f = Fapi::start().await;
    let rp = f
        .client(
            json!({"idTokenSignedResponseAlg": "PS256", "accessTokenSignedResponseAlg": "PS256"}),
        )
        .await;
    let a = f.happy(&rp, &key("d")).await;
    let set: jsonwebtoken::jwk::JwkSet =
        f.s.http
            .get(f.endpoint("jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    for (token, aud) in [
        (a.body["id_token"].as_str().unwrap(), rp.id.clone()),
        (a.body["access_token"].as_str().unwrap(), f.issuer()),
    ] {
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::PS256);
        let kid = header.kid.unwrap();
        assert!(kid.ends_with("-ps256"), "{kid}");
        let jwk = set.find(&kid).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
        v.set_audience(&[aud]);
        v.set_issuer(&[f.issuer()]);
        jsonwebtoken::decode::<Value>(token, &key, &v).unwrap();
    }
    // The same RSA key under RS256's kid, with RS256.
    let (_, jwks) = json(f.s.http.get(f.endpoint("jwks")).send().await.unwrap()).await;
    let keys = jwks["keys"].as_array().unwrap();
    let ps = keys.iter().find(|k| k["alg"] == "PS256").unwrap();
    let rs = keys.iter().find(|k| k["alg"] == "RS256").unwrap();
    assert_eq!(ps["n"], rs["n"]);
    assert_eq!(format!("{}-ps256", rs["kid"].as_str().unwrap()), ps["kid"]);
    // And userinfo answers a DPoP-bound PS256 token.
    let k = key("u");
    let a = f.happy(&rp, &k).await;
    let res = f
        .userinfo(
            "DPoP",
            a.body["access_token"].as_str().unwrap(),
            Some((&k, json!({}))),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn fapi2_security_profile_final_test_claims_parameter_identity_claims() {
    // Discovery says claims_parameter_supported, so the module runs: every claim of
    // claims_supported asked for in the id_token and at userinfo (with DPoP).
    let f = Fapi::start().await;
    let rp = f.client(json!({})).await;
    let claims = json!({
        "id_token": {"name": null, "email": null},
        "userinfo": {"name": null, "email": null, "preferred_username": null},
    });
    let p = f
        .par(
            &rp,
            &with(f.request(&rp), "claims", &claims.to_string()),
            None,
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cb = f
        .front_channel(&rp, p.body["request_uri"].as_str().unwrap(), &[])
        .await;
    let k = key("d");
    let a = f.redeem(&rp, &param(&cb, "code").unwrap(), Some(&k)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let id = claims_of(a.body["id_token"].as_str().unwrap());
    assert_eq!(id["name"], "Alice Liddell");
    assert_eq!(id["email"], "alice@example.com");
    let res = f
        .userinfo(
            "DPoP",
            a.body["access_token"].as_str().unwrap(),
            Some((&k, json!({}))),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let (_, info) = json(res).await;
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["name"], "Alice Liddell");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["preferred_username"], "alice");
}
