//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) and its login and
//! consent forms.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{header, HeaderMap};
use tessera_core::authorize::PostedForm;

use super::browser::{
    ensure_browser, field, flow_error, next_response, pairs, posted_browser, session_cookie,
    with_cookie, SESSION_COOKIE,
};
use crate::AppState;

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
pub(super) async fn authorize_get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let params = pairs(uri.query().unwrap_or("").as_bytes());
    authorize_with(&state, &org, params, &headers).await
}

/// `POST …/oauth/authorize`: the same request as a form (OIDC Core §3.1.2.1).
pub(super) async fn authorize_post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authorize_with(&state, &org, pairs(&body), &headers).await
}

/// `POST /orgs/{org}/login`: the login form.
pub(super) async fn login(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> Response {
    sign_in_step(state, org, req, false).await
}

/// `POST /orgs/{org}/login/second-factor`: the code after a right password.
pub(super) async fn login_second_factor(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> Response {
    sign_in_step(state, org, req, true).await
}

/// A posted step of the sign-in (the password, or the second factor's code); a session
/// cookie when it ends one.
async fn sign_in_step(state: AppState, org: String, req: Request, second: bool) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return crate::pages::error("The form is too large.");
    };
    let (address, _) = crate::auth::request_origin(&parts);
    let p = pairs(&body);
    let browser = posted_browser(&state, &parts.headers);
    let form = PostedForm {
        csrf: field(&p, "csrf_token"),
        browser: browser.as_deref(),
    };
    let result = if second {
        state
            .services
            .login_second_factor(
                &org,
                field(&p, "request"),
                form,
                field(&p, "code"),
                address.as_deref(),
            )
            .await
    } else {
        state
            .services
            .login(
                &org,
                field(&p, "request"),
                form,
                field(&p, "username"),
                field(&p, "password"),
                address.as_deref(),
            )
            .await
    };
    match result {
        Ok((next, session)) => {
            let mut res = next_response(&org, next);
            if let Some(s) = session {
                res.headers_mut().append(
                    header::SET_COOKIE,
                    crate::cookies::set_org_cookie(
                        &state,
                        &org,
                        SESSION_COOKIE,
                        &s.value,
                        s.max_age,
                    ),
                );
            }
            res
        }
        Err(e) => flow_error(e),
    }
}

/// `POST /orgs/{org}/consent`: `decision=allow|deny`.
pub(super) async fn consent(
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
