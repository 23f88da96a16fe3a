//! The protocol endpoints of an organization (OAuth 2.0 / OpenID Connect): discovery (OIDC
//! Discovery 1.0 and RFC 8414, both paths), JWKS, token (RFC 6749 §3.2), introspection
//! (RFC 7662) and revocation (RFC 7009). Errors here use the RFC 6749 §5.2 format, not the
//! admin API's, and every token response is `Cache-Control: no-store` (§5.1).

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use tessera_core::authorize::{PostedForm, UserInfo};
use tessera_core::oauth::TokenRequest;
use tessera_core::tokens::{parse_basic, ClientAuth, ClientCredentials, OAuthError};

use crate::auth::bearer;
use crate::{paths, AppState};

pub fn router(state: &AppState) -> Router<AppState> {
    // Browsers may call these from an origin a client of the organization allows; never the
    // authorization endpoint or the pages.
    let cors = Router::new()
        .route(paths::OIDC_DISCOVERY, get(openid_configuration))
        .route(paths::AS_METADATA_WELL_KNOWN_FIRST, get(as_metadata))
        .route(paths::JWKS, get(jwks))
        .route(paths::USERINFO, get(userinfo_get).post(userinfo_post))
        .route(paths::TOKEN, post(token))
        .route(paths::REVOKE, post(revoke))
        .route(paths::DEVICE_AUTHORIZATION, post(device_authorization))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), cors));
    Router::new()
        .merge(cors)
        .route(paths::AS_METADATA, get(as_metadata))
        .route(paths::INTROSPECT, post(introspect))
        .route(paths::AUTHORIZE, get(authorize_get).post(authorize_post))
        .route(paths::LOGIN, post(login))
        .route(paths::CONSENT, post(consent))
        .route(paths::DEVICE, get(device_get).post(device_post))
        .route(paths::REGISTER, post(crate::register::register))
        .route(
            paths::REGISTERED_CLIENT,
            get(crate::register::read)
                .put(crate::register::update)
                .delete(crate::register::remove),
        )
        .route(
            paths::END_SESSION,
            get(end_session_get).post(end_session_post),
        )
}

/// CORS for the endpoints above (Fetch standard): the origin is echoed when a client of the
/// organization lists it in `allowedCorsOrigins`; a preflight is answered here.
async fn cors(
    State(state): State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let org = req
        .uri()
        .path()
        .strip_prefix("/orgs/")
        .and_then(|p| p.split('/').next())
        .unwrap_or("")
        .to_owned();
    let allowed = match &origin {
        Some(o) => state.services.cors_allowed(&org, o).await,
        None => false,
    };
    let preflight = req.method() == http::Method::OPTIONS;
    let mut res = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (true, Some(o)) = (allowed, origin) {
        if let Ok(v) = HeaderValue::from_str(&o) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
    }
    res
}

/// An RFC 6749 §5.2 error response.
pub struct ProtocolError(pub OAuthError);

impl From<OAuthError> for ProtocolError {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ProtocolError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match &e {
            OAuthError::InvalidClient { .. } | OAuthError::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            OAuthError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            OAuthError::NotFound(_) => StatusCode::NOT_FOUND,
            OAuthError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthError::TemporarilyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            OAuthError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        };
        let description = match &e {
            OAuthError::ServerError(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut res = (
            status,
            Json(json!({"error": e.code(), "error_description": description})),
        )
            .into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        match &e {
            // RFC 6749 §5.2: a 401 names the authentication scheme.
            OAuthError::InvalidClient { .. } => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"tessera\""),
                );
            }
            // RFC 6750 §3.
            OAuthError::InvalidToken(_) | OAuthError::InsufficientScope(_) => {
                let v = format!("Bearer realm=\"tessera\", error=\"{}\"", e.code());
                if let Ok(v) = HeaderValue::from_str(&v) {
                    h.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            OAuthError::TooManyAttempts(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
            _ => {}
        }
        res
    }
}

type ProtocolResult<T> = Result<T, ProtocolError>;

fn invalid_request(m: impl Into<String>) -> ProtocolError {
    ProtocolError(OAuthError::InvalidRequest(m.into()))
}

/// The parameters of a form body; a repeated parameter is an error (RFC 6749 §3.2).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(headers: &HeaderMap, body: &[u8]) -> ProtocolResult<Self> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.split(';').next().map(str::trim) != Some("application/x-www-form-urlencoded") {
            return Err(invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        tessera_core::params::parse_unique(body)
            .map(Self)
            .map_err(|e| invalid_request(e.to_string()))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str) -> ProtocolResult<&str> {
        self.get(name)
            .ok_or_else(|| invalid_request(format!("{name} is required")))
    }
}

/// A protocol request's parts and its form body (at most 64 KiB).
async fn form_body(req: Request) -> ProtocolResult<(http::request::Parts, Bytes)> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| invalid_request("the body is too large"))?;
    Ok((parts, body))
}

/// Client authentication from the Authorization header or the body (RFC 6749 §2.3), or by a
/// client assertion (RFC 7521 §4.2): one method only; with the caller's address, which the
/// brakes and the audit use.
fn client_auth(parts: &http::request::Parts, form: &Form) -> ProtocolResult<ClientAuth> {
    let headers = &parts.headers;
    let (address, request_id) = crate::auth::request_origin(parts);
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    let assertion_type = form.get("client_assertion_type");
    let assertion = form.get("client_assertion");
    let credentials = if assertion_type.is_some() || assertion.is_some() {
        if headers.contains_key(header::AUTHORIZATION) || body_secret.is_some() {
            return Err(invalid_request(
                "use one client authentication method: a client assertion, Basic or client_secret, not two",
            ));
        }
        let (Some(kind), Some(assertion)) = (assertion_type, assertion) else {
            return Err(invalid_request(
                "client_assertion and client_assertion_type go together",
            ));
        };
        if kind != tessera_core::assertion::JWT_BEARER {
            return Err(invalid_request(format!(
                "client_assertion_type must be {}",
                tessera_core::assertion::JWT_BEARER
            )));
        }
        // The assertion names its client; a client_id sent too must agree (RFC 7521 §4.2).
        let Some(client_id) = tessera_core::assertion::assertion_subject(assertion) else {
            return Err(ProtocolError(OAuthError::InvalidClient {
                message: "client authentication failed".into(),
                basic: false,
            }));
        };
        if body_id.is_some_and(|b| b != client_id) {
            return Err(invalid_request(
                "client_id differs from the client assertion's subject",
            ));
        }
        ClientCredentials::Assertion {
            client_id,
            assertion: assertion.to_owned(),
        }
    } else if let Some(h) = headers.get(header::AUTHORIZATION) {
        let h = h
            .to_str()
            .map_err(|_| invalid_request("malformed Authorization header"))?;
        let (client_id, secret) = parse_basic(h)?;
        if body_secret.is_some() {
            return Err(invalid_request(
                "use one client authentication method: Basic or client_secret, not both",
            ));
        }
        if body_id.is_some_and(|b| b != client_id) {
            return Err(invalid_request(
                "client_id differs from the Basic credentials",
            ));
        }
        ClientCredentials::Basic { client_id, secret }
    } else {
        match (body_id, body_secret) {
            (Some(id), Some(secret)) => ClientCredentials::Post {
                client_id: id.to_owned(),
                secret: secret.to_owned(),
            },
            (Some(id), None) => ClientCredentials::None {
                client_id: id.to_owned(),
            },
            (None, _) => {
                return Err(ProtocolError(OAuthError::InvalidClient {
                    message: "client authentication required".into(),
                    basic: false,
                }))
            }
        }
    };
    Ok(ClientAuth {
        credentials,
        address,
        request_id,
    })
}

/// `POST …/oauth/token`.
async fn token(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let grant_type = form.require("grant_type")?;
    let auth = client_auth(&parts, &form)?;
    let req = TokenRequest::parse(grant_type, |k| form.get(k))?;
    let out = state.services.token(&org, &auth, req).await?;
    Ok(Json(out).into_response())
}

/// `POST …/oauth/introspect` (RFC 7662).
async fn introspect(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let auth = client_auth(&parts, &form)?;
    let token = form.require("token")?;
    let v = state.services.introspect(&org, &auth, token).await?;
    Ok(Json(v).into_response())
}

/// `POST …/oauth/revoke` (RFC 7009): 200 with an empty body, also for unknown tokens.
async fn revoke(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let auth = client_auth(&parts, &form)?;
    let token = form.require("token")?;
    let (ip, request_id) = crate::auth::request_origin(&parts);
    state
        .services
        .revoke(&org, &auth, token, ip, request_id)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// What the authorization server implements, for both discovery documents.
fn metadata(issuer: &str) -> Value {
    let auth_methods = json!([
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt"
    ]);
    let all_methods = json!([
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none"
    ]);
    // RFC 8414 §2: the algorithms of private_key_jwt assertions (never `none`).
    let assertion_algs: Vec<&str> = tessera_core::assertion::signing_algs();
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/api/v1/oauth/token"),
        "jwks_uri": format!("{issuer}/api/v1/oauth/jwks"),
        "introspection_endpoint": format!("{issuer}/api/v1/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/api/v1/oauth/revoke"),
        "authorization_endpoint": format!("{issuer}/api/v1/oauth/authorize"),
        "userinfo_endpoint": format!("{issuer}/api/v1/oauth/userinfo"),
        "end_session_endpoint": format!("{issuer}/api/v1/oauth/end_session"),
        "device_authorization_endpoint": format!("{issuer}/api/v1/oauth/device_authorization"),
        "registration_endpoint": format!("{issuer}/api/v1/connect/register"),
        "grant_types_supported": TokenRequest::GRANT_TYPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "acr",
            "amr",
            "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
            "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
            "updated_at", "email", "email_verified", "address", "phone_number",
            "phone_number_verified",
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": [tessera_core::authorize::ACR_PASSWORD],
        "token_endpoint_auth_methods_supported": all_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": all_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "userinfo_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "claims_parameter_supported": true,
        // Signed request objects by value and by reference (OIDC Core §6, RFC 9101), with
        // the algorithms of client assertions; `none` is not among them: unsigned objects
        // are refused.
        "request_parameter_supported": true,
        "request_uri_parameter_supported": true,
        "require_request_uri_registration": false,
        "request_object_signing_alg_values_supported": assertion_algs,
    })
}

async fn discovery(state: &AppState, org: &str) -> ProtocolResult<Response> {
    let org = state.services.protocol_org(org).await?;
    let issuer = state.services.issuer(&org.slug);
    let mut res = Json(metadata(&issuer)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}

/// `GET /orgs/{org}/.well-known/openid-configuration` (OIDC Discovery 1.0 §4).
async fn openid_configuration(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> ProtocolResult<Response> {
    discovery(&state, &org).await
}

/// `GET /.well-known/oauth-authorization-server/orgs/{org}` (RFC 8414 §3) and the same under
/// the organization's own path.
async fn as_metadata(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> ProtocolResult<Response> {
    discovery(&state, &org).await
}

/// `GET …/oauth/jwks`: the published keys (RFC 7517 §5).
async fn jwks(State(state): State<AppState>, Path(org): Path<String>) -> ProtocolResult<Response> {
    let org = state.services.protocol_org(&org).await?;
    let keys = state.services.jwks(&org).await.map_err(OAuthError::from)?;
    let mut res = Json(keys).into_response();
    // Short, so that a rotation reaches relying parties soon.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}

const SESSION_COOKIE: &str = "tessera_session";
/// The browser binding cookie: a random value the browser gets with the first form shown to
/// it. Every login, consent, device and logout form's CSRF token is a keyed hash of it, so a
/// form can be posted only by the browser it was shown in (no login CSRF).
const BROWSER_COOKIE: &str = "tessera_browser";
/// How long the browser binding lives (far longer than any pending request).
const BROWSER_COOKIE_MAX_AGE: i64 = 30 * 24 * 3600;

/// This browser's binding value, if it sent one.
fn browser_binding(state: &AppState, headers: &HeaderMap) -> Option<String> {
    crate::console::cookie(state, headers, BROWSER_COOKIE)
}

/// This browser's binding value for a page about to show a form: the one it sent, or a new
/// one with the `Set-Cookie` that gives it to the browser.
fn ensure_browser(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(b) = browser_binding(state, headers) {
        return (b, None);
    }
    match state.services.new_browser_binding() {
        Ok(b) => {
            let cookie =
                crate::console::set_cookie(state, BROWSER_COOKIE, &b, BROWSER_COOKIE_MAX_AGE);
            (b, Some(cookie))
        }
        // No randomness: no binding, so no form of this page can be posted (it says so).
        Err(e) => {
            tracing::error!(error = %e, "could not make a browser binding");
            (String::new(), None)
        }
    }
}

/// The binding of a posted form: none for a post from another site, whose token then
/// never verifies.
fn posted_browser(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if crate::edge::cross_site(headers, &state.config.public_url) {
        return None;
    }
    browser_binding(state, headers)
}

fn with_cookie(mut res: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    crate::console::cookie_value(headers, SESSION_COOKIE)
}

/// Renders what comes next in the flow.
fn next_response(org: &str, next: tessera_core::authorize::Next) -> Response {
    use tessera_core::authorize::Next;
    match next {
        Next::Respond(r) => respond(&r),
        Next::Redirect(url) => redirect(&url),
        Next::Login {
            request_id,
            csrf,
            client_name,
            error,
            username,
        } => crate::pages::login(
            &paths::for_org(paths::LOGIN, org),
            &client_name,
            &request_id,
            &csrf,
            error.as_deref(),
            username.as_deref(),
        ),
        Next::Consent {
            request_id,
            csrf,
            client_name,
            scopes,
        } => crate::pages::consent(
            &paths::for_org(paths::CONSENT, org),
            &client_name,
            &request_id,
            &csrf,
            &scopes,
        ),
    }
}

fn redirect(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => {
            let mut res = StatusCode::SEE_OTHER.into_response();
            res.headers_mut().insert(header::LOCATION, v);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            res
        }
        Err(_) => crate::pages::error("The redirect address is not valid."),
    }
}

/// An authorization response to the client, as its request asked: in the redirect URI's
/// query (`303`), or as a self-submitting form (`form_post`).
fn respond(r: &tessera_core::authorize::ClientResponse) -> Response {
    use tessera_core::authorize::ResponseMode;
    match r.mode {
        ResponseMode::Query => redirect(&r.location()),
        ResponseMode::FormPost => crate::pages::form_post(&r.redirect_uri, &r.params),
    }
}

fn flow_error(e: tessera_core::authorize::AuthorizeError) -> Response {
    use tessera_core::authorize::AuthorizeError;
    match e {
        AuthorizeError::Page(m) => crate::pages::error(&m),
        AuthorizeError::Respond(r) => respond(&r),
        AuthorizeError::Restart { message, url } => crate::pages::restart(&message, &url),
    }
}

fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn authorize_with(
    state: &AppState,
    org: &str,
    params: Vec<(String, String)>,
    headers: &HeaderMap,
) -> Response {
    let cookie = session_cookie(headers);
    let (browser, new_binding) = ensure_browser(state, headers);
    let res = match state
        .services
        .authorize(org, &params, cookie.as_deref(), &browser)
        .await
    {
        Ok(next) => next_response(org, next),
        Err(e) => flow_error(e),
    };
    with_cookie(res, new_binding)
}

/// `GET …/oauth/authorize` (RFC 6749 §4.1.1).
async fn authorize_get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let params = pairs(uri.query().unwrap_or("").as_bytes());
    authorize_with(&state, &org, params, &headers).await
}

/// `POST …/oauth/authorize`: the same request as a form (OIDC Core §3.1.2.1).
async fn authorize_post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authorize_with(&state, &org, pairs(&body), &headers).await
}

fn field<'a>(p: &'a [(String, String)], name: &str) -> &'a str {
    p.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// `POST /orgs/{org}/login`: the login form.
async fn login(State(state): State<AppState>, Path(org): Path<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return crate::pages::error("The form is too large.");
    };
    let (address, _) = crate::auth::request_origin(&parts);
    let p = pairs(&body);
    let browser = posted_browser(&state, &parts.headers);
    let result = state
        .services
        .login(
            &org,
            field(&p, "request"),
            PostedForm {
                csrf: field(&p, "csrf_token"),
                browser: browser.as_deref(),
            },
            field(&p, "username"),
            field(&p, "password"),
            address.as_deref(),
        )
        .await;
    match result {
        Ok((next, session)) => {
            let mut res = next_response(&org, next);
            if let Some(s) = session {
                let secure = if state.config.public_url.starts_with("https://") {
                    "; Secure"
                } else {
                    ""
                };
                let cookie = format!(
                    "{SESSION_COOKIE}={}; Path=/orgs/{org}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                    s.value, s.max_age
                );
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => flow_error(e),
    }
}

/// `POST …/oauth/device_authorization` (RFC 8628 §3.1).
async fn device_authorization(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let auth = client_auth(&parts, &form)?;
    let out = state
        .services
        .device_authorization(&org, &auth, form.get("scope"))
        .await?;
    Ok(Json(out).into_response())
}

fn device_step(org: &str, step: tessera_core::device::DeviceStep) -> Response {
    use tessera_core::device::DeviceStep;
    let action = paths::for_org(paths::DEVICE, org);
    match step {
        DeviceStep::Login {
            request_id,
            csrf,
            client_name,
        } => crate::pages::login(
            &paths::for_org(paths::LOGIN, org),
            &client_name,
            &request_id,
            &csrf,
            None,
            None,
        ),
        DeviceStep::EnterCode { error } => crate::pages::device_code(&action, error.as_deref()),
        DeviceStep::Confirm {
            user_code,
            client_name,
            scopes,
            csrf,
        } => crate::pages::device_confirm(&action, &user_code, &client_name, &scopes, &csrf),
        DeviceStep::Done { approved } => crate::pages::device_done(approved),
        DeviceStep::Restart { url } => crate::pages::restart(
            "This form was not opened in this browser, or was sent from another site, so it \
             was refused. Open the device page again here.",
            &url,
        ),
    }
}

fn device_error(e: OAuthError) -> Response {
    match e {
        OAuthError::NotFound(_) => crate::pages::error("This organization does not exist."),
        OAuthError::InvalidRequest(m) => crate::pages::error(&m),
        OAuthError::TemporarilyUnavailable(_) | OAuthError::TooManyAttempts(_) => {
            crate::pages::error_with(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is busy. Wait a moment and try again.",
            )
        }
        other => {
            tracing::error!(error = %other, "device page failed");
            crate::pages::error_with(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server failed. Try again.",
            )
        }
    }
}

/// `GET /orgs/{org}/device[?user_code=…]`: the page where a signed-in user enters the code.
async fn device_get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let q = pairs(parts.uri.query().unwrap_or_default().as_bytes());
    let code = field(&q, "user_code");
    let cookie = session_cookie(&parts.headers);
    let (ip, _) = crate::auth::request_origin(&parts);
    let (browser, new_binding) = ensure_browser(&state, &parts.headers);
    let res = match state
        .services
        .device_page_get(&org, Some(code), cookie.as_deref(), &browser, ip.as_deref())
        .await
    {
        Ok(step) => device_step(&org, step),
        Err(e) => device_error(e),
    };
    with_cookie(res, new_binding)
}

/// `POST /orgs/{org}/device`: `user_code`, `csrf_token`, `decision=allow|deny`.
async fn device_post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return crate::pages::error("The form is too large.");
    };
    let headers = &parts.headers;
    let (ip, _) = crate::auth::request_origin(&parts);
    let p = pairs(&body);
    let allow = match field(&p, "decision") {
        "allow" => true,
        "deny" => false,
        _ => return crate::pages::error("The decision must be allow or deny."),
    };
    let cookie = session_cookie(headers);
    // A post from another site never carries a token that verifies: refused as one.
    let csrf = if crate::edge::cross_site(headers, &state.config.public_url) {
        ""
    } else {
        field(&p, "csrf_token")
    };
    let (browser, new_binding) = ensure_browser(&state, headers);
    let res = match state
        .services
        .device_decide(
            &org,
            field(&p, "user_code"),
            PostedForm {
                csrf,
                browser: Some(&browser),
            },
            allow,
            cookie.as_deref(),
            ip.as_deref(),
        )
        .await
    {
        Ok(step) => device_step(&org, step),
        Err(e) => device_error(e),
    };
    with_cookie(res, new_binding)
}

/// `POST /orgs/{org}/consent`: `decision=allow|deny`.
async fn consent(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = pairs(&body);
    let allow = match field(&p, "decision") {
        "allow" => true,
        "deny" => false,
        _ => return crate::pages::error("The decision must be allow or deny."),
    };
    let cookie = session_cookie(&headers);
    let browser = posted_browser(&state, &headers);
    match state
        .services
        .consent(
            &org,
            field(&p, "request"),
            PostedForm {
                csrf: field(&p, "csrf_token"),
                browser: browser.as_deref(),
            },
            allow,
            cookie.as_deref(),
        )
        .await
    {
        Ok(next) => next_response(&org, next),
        Err(e) => flow_error(e),
    }
}

async fn userinfo_with(
    state: &AppState,
    org: &str,
    token: Option<String>,
) -> ProtocolResult<Response> {
    let token = token.ok_or_else(|| {
        ProtocolError(OAuthError::InvalidToken(
            "send the access token as a Bearer token".into(),
        ))
    })?;
    match state.services.userinfo(org, &token).await? {
        UserInfo::Json(v) => Ok(Json(v).into_response()),
        // OIDC Core §5.3.2: a signed response is `application/jwt`.
        UserInfo::Jwt(jwt) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwt"),
            )],
            jwt,
        )
            .into_response()),
    }
}

/// `GET …/oauth/userinfo` with `Authorization: Bearer` (OIDC Core §5.3.1).
async fn userinfo_get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> ProtocolResult<Response> {
    userinfo_with(&state, &org, bearer(&headers)).await
}

/// `POST …/oauth/userinfo`: the header, or `access_token` in a form body (RFC 6750 §2.2).
async fn userinfo_post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ProtocolResult<Response> {
    let from_body = if body.is_empty() {
        None
    } else {
        Form::parse(&headers, &body)?
            .get("access_token")
            .map(str::to_owned)
    };
    let token = match (bearer(&headers), from_body) {
        (Some(_), Some(_)) => return Err(invalid_request("send the access token one way only")),
        (a, b) => a.or(b),
    };
    userinfo_with(&state, &org, token).await
}

async fn end_session_with(
    state: &AppState,
    org: &str,
    params: Vec<(String, String)>,
    headers: &HeaderMap,
    posted: bool,
) -> Response {
    use tessera_core::logout::LoggedOut;
    let cookie = session_cookie(headers);
    let (browser, new_binding) = ensure_browser(state, headers);
    // Only a confirmation posted from Tessera's own page counts as the user's answer.
    let csrf = (posted && !crate::edge::cross_site(headers, &state.config.public_url))
        .then(|| field(&params, "csrf_token"))
        .filter(|t| !t.is_empty());
    let outcome = state
        .services
        .end_session(org, &params, cookie.as_deref(), &browser, csrf)
        .await;
    let ended = matches!(outcome, Ok(LoggedOut::Redirect(_) | LoggedOut::Page));
    let mut res = match outcome {
        Ok(LoggedOut::Redirect(url)) => redirect(&url),
        Ok(LoggedOut::Page) => crate::pages::signed_out(),
        Ok(LoggedOut::Confirm { params, csrf }) => {
            crate::pages::logout_confirm(&paths::for_org(paths::END_SESSION, org), &params, &csrf)
        }
        Err(e) => flow_error(e),
    };
    if ended && cookie.is_some() {
        let clear =
            format!("{SESSION_COOKIE}=; Path=/orgs/{org}; HttpOnly; SameSite=Lax; Max-Age=0");
        if let Ok(v) = HeaderValue::from_str(&clear) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    with_cookie(res, new_binding)
}

/// `GET …/oauth/end_session` (RP-Initiated Logout 1.0 §2).
async fn end_session_get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let params = pairs(uri.query().unwrap_or("").as_bytes());
    end_session_with(&state, &org, params, &headers, false).await
}

/// `POST …/oauth/end_session`.
async fn end_session_post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    end_session_with(&state, &org, pairs(&body), &headers, true).await
}
