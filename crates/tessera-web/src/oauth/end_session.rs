//! RP-Initiated Logout 1.0: the end-session endpoint and its confirmation.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use http::{header, HeaderMap};

use super::browser::{
    ensure_browser, field, flow_error, pairs, redirect, session_cookie, with_cookie, SESSION_COOKIE,
};
use crate::{paths, AppState};

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
        res.headers_mut().append(
            header::SET_COOKIE,
            crate::cookies::set_org_cookie(state, org, SESSION_COOKIE, "", 0),
        );
    }
    with_cookie(res, new_binding)
}

/// `GET …/oauth/end_session` (RP-Initiated Logout 1.0 §2).
pub(super) async fn end_session_get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let params = pairs(uri.query().unwrap_or("").as_bytes());
    end_session_with(&state, &org, params, &headers, false).await
}

/// `POST …/oauth/end_session`.
pub(super) async fn end_session_post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    end_session_with(&state, &org, pairs(&body), &headers, true).await
}
