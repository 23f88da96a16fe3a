//! What the browser pages of the flow share: the session and browser-binding cookies, the
//! form parameters, and rendering what comes next (a page, a redirect or the response to
//! the client).

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::{paths, AppState};

pub(super) const SESSION_COOKIE: &str = "tessera_session";
/// The browser binding cookie: a random value the browser gets with the first form shown to
/// it. Every login, consent, device and logout form's CSRF token is a keyed hash of it, so a
/// form can be posted only by the browser it was shown in (no login CSRF).
const BROWSER_COOKIE: &str = "tessera_browser";
/// How long the browser binding lives (far longer than any pending request).
const BROWSER_COOKIE_MAX_AGE: i64 = 30 * 24 * 3600;

/// This browser's binding value, if it sent one.
fn browser_binding(state: &AppState, headers: &HeaderMap) -> Option<String> {
    crate::cookies::cookie(state, headers, BROWSER_COOKIE)
}

/// This browser's binding value for a page about to show a form: the one it sent, or a new
/// one with the `Set-Cookie` that gives it to the browser.
pub(crate) fn ensure_browser(
    state: &AppState,
    headers: &HeaderMap,
) -> (String, Option<HeaderValue>) {
    if let Some(b) = browser_binding(state, headers) {
        return (b, None);
    }
    match state.services.new_browser_binding() {
        Ok(b) => {
            let cookie =
                crate::cookies::set_cookie(state, BROWSER_COOKIE, &b, BROWSER_COOKIE_MAX_AGE);
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
pub(crate) fn posted_browser(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if crate::edge::cross_site(headers, &state.config.public_url) {
        return None;
    }
    browser_binding(state, headers)
}

pub(crate) fn with_cookie(mut res: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    crate::cookies::cookie_value(headers, SESSION_COOKIE)
}

/// Renders what comes next in the flow.
pub(super) fn next_response(org: &str, next: tessera_core::authorize::Next) -> Response {
    use tessera_core::authorize::Next;
    match next {
        Next::Respond(r) => respond(&r),
        Next::Redirect(url) => redirect(&url),
        Next::Login {
            request_id,
            csrf,
            client_name,
            org_name,
            error,
            username,
        } => crate::pages::login(
            &paths::for_org(paths::LOGIN, org),
            crate::pages::Signing {
                client: &client_name,
                org: &org_name,
                request: &request_id,
                csrf: &csrf,
                error: error.as_deref(),
            },
            username.as_deref(),
        ),
        Next::SecondFactor {
            request_id,
            csrf,
            client_name,
            org_name,
            error,
        } => crate::pages::second_factor(
            &paths::for_org(paths::LOGIN_SECOND_FACTOR, org),
            crate::pages::Signing {
                client: &client_name,
                org: &org_name,
                request: &request_id,
                csrf: &csrf,
                error: error.as_deref(),
            },
        ),
        Next::Consent {
            request_id,
            csrf,
            client_name,
            scopes,
            resources,
        } => crate::pages::consent(
            &paths::for_org(paths::CONSENT, org),
            &client_name,
            &request_id,
            &csrf,
            &scopes,
            &resources,
        ),
    }
}

pub(crate) fn redirect(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => {
            let mut res = StatusCode::SEE_OTHER.into_response();
            // No `Referer` to the client and no caching: the edge's headers.
            res.headers_mut().insert(header::LOCATION, v);
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

pub(super) fn flow_error(e: tessera_core::authorize::AuthorizeError) -> Response {
    use tessera_core::authorize::AuthorizeError;
    match e {
        AuthorizeError::Page(m) => crate::pages::error(&m),
        AuthorizeError::Respond(r) => respond(&r),
        AuthorizeError::Restart { message, url } => crate::pages::restart(&message, &url),
    }
}

pub(crate) fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn field<'a>(p: &'a [(String, String)], name: &str) -> &'a str {
    p.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}
