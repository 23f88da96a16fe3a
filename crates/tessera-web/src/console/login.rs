//! Signing in to the console through the organization's own authorization endpoint, the
//! organization switcher, and signing out.

use super::Query;
use axum::body::Bytes;
use axum::extract::State;
use http::request::Parts;
use http::{header, HeaderMap, StatusCode};
use serde::Deserialize;
use tessera_core::console::{Switch, CONSOLE_SESSION_HOURS};
use tessera_core::{Context, CoreError};
use tessera_domain::org::DEFAULT_ORG_SLUG;
use tessera_domain::Principal;

use super::forms::Form;
use super::views::LoginPage;
use super::{
    cookie, redirect, render, set_cookie, Console, PageResult, LOGIN_COOKIE, SESSION_COOKIE,
};
use crate::AppState;

/// How long a sign-in may take between leaving for the login page and coming back.
const LOGIN_COOKIE_SECONDS: i64 = 600;

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    org: Option<String>,
    return_to: Option<String>,
    choose: Option<String>,
}

/// Only a path of this console may be returned to (never `//host` or `https://…`).
/// Browsers drop tabs and new lines from a `Location` and read `\\` as `/`, so a path holding
/// any of them could turn into `//host` on the way.
fn safe_return(to: Option<&str>) -> String {
    match to {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.chars().any(|c| c.is_control() || c == '\\') =>
        {
            p.to_owned()
        }
        _ => "/oauth-clients".to_owned(),
    }
}

/// `GET /login`: off to the sign-in page of the organization named by `org`, else of the one
/// used last in this browser, else of `default`. `?choose=1` (and an organization that does not
/// exist) shows the page asking which organization instead.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> PageResult {
    let return_to = safe_return(q.return_to.as_deref());
    let named = q
        .org
        .map(|o| o.trim().to_ascii_lowercase())
        .filter(|o| !o.is_empty());
    let last = || {
        cookie(&state, &headers, "tessera_console_org")
            .unwrap_or_else(|| DEFAULT_ORG_SLUG.to_owned())
    };
    let org = match named {
        Some(org) => org,
        None if q.choose.is_some() => {
            return Ok(render(
                StatusCode::OK,
                &LoginPage {
                    org: last(),
                    return_to,
                    error: None,
                },
            ))
        }
        None => last(),
    };
    match state.services.console_sign_in(&org).await {
        Ok(start) => {
            let mut res = redirect(&start.authorize_url);
            // state|org|return_to: what the callback needs, bound to this browser.
            let value = format!(
                "{}|{}|{}",
                start.state,
                org,
                url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
            );
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, LOGIN_COOKIE, &value, LOGIN_COOKIE_SECONDS),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, "tessera_console_org", &org, 400 * 86_400),
            );
            Ok(res)
        }
        Err(CoreError::NotFound { .. }) => Ok(render(
            StatusCode::NOT_FOUND,
            &LoginPage {
                org: org.clone(),
                return_to,
                error: Some(format!("There is no organization '{org}'.")),
            },
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /login/callback`: the authorization response (RFC 6749 §4.1.2). The `state` must be
/// the one this browser left with; the code is redeemed with the matching PKCE verifier.
pub async fn callback(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<CallbackQuery>,
) -> PageResult {
    let failed = |org: &str, message: String| {
        let mut res = render(
            StatusCode::BAD_REQUEST,
            &LoginPage {
                org: org.to_owned(),
                return_to: "/oauth-clients".into(),
                error: Some(message),
            },
        );
        res.headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", 0));
        res
    };
    let pending = cookie(&state, &parts.headers, LOGIN_COOKIE);
    let Some((expected, org, return_to)) = pending.as_deref().and_then(|v| {
        let mut it = v.splitn(3, '|');
        Some((it.next()?, it.next()?, it.next().unwrap_or("")))
    }) else {
        return Ok(failed(
            DEFAULT_ORG_SLUG,
            "The sign-in took too long or was started in another browser. Sign in again.".into(),
        ));
    };
    let return_to = safe_return(
        url::form_urlencoded::parse(format!("r={return_to}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .as_deref(),
    );
    if q.state.as_deref() != Some(expected) {
        return Ok(failed(
            org,
            "The sign-in response does not belong to this browser. Sign in again.".into(),
        ));
    }
    if let Some(err) = q.error {
        let message = match err.as_str() {
            "access_denied" => "The sign-in was cancelled.".to_owned(),
            _ => format!("The sign-in failed: {}", q.error_description.unwrap_or(err)),
        };
        return Ok(failed(org, message));
    }
    let Some(code) = q.code else {
        return Ok(failed(org, "The sign-in response carried no code.".into()));
    };
    let (ip, request_id) = crate::auth::request_origin(&parts);
    let origin = Context {
        principal: Principal::system(),
        ip,
        request_id,
    };
    let existing = cookie(&state, &parts.headers, SESSION_COOKIE);
    match state
        .services
        .console_finish_sign_in(&origin, org, &code, expected, existing.as_deref())
        .await
    {
        Ok(session) => {
            let mut res = redirect(&return_to);
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    &state,
                    SESSION_COOKIE,
                    &session,
                    CONSOLE_SESSION_HOURS * 3600,
                ),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, LOGIN_COOKIE, "", 0),
            );
            Ok(res)
        }
        Err(CoreError::Forbidden(_)) => Ok(failed(
            org,
            "Your account may not enter the console (it lacks admin:access). Ask an administrator for a role.".into(),
        )),
        Err(CoreError::Unauthenticated(m)) => Ok(failed(org, format!("{m}. Sign in again."))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`: ends the session everywhere it was signed in.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    if let Some(c) = cookie(&state, &headers, SESSION_COOKIE) {
        state.services.console_sign_out(&c).await?;
    }
    let mut res = super::views::message_page(
        StatusCode::OK,
        "Signed out",
        "You are signed out of the console.",
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(res)
}

/// `POST /switch-org`: show another organization, signing in there first when needed.
pub async fn switch_org(
    State(state): State<AppState>,
    Console(caller): Console,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = Form::parse(&body);
    let target = form.text("org").to_ascii_lowercase();
    let Some(session) = cookie(&state, &headers, SESSION_COOKIE) else {
        return Ok(redirect("/login"));
    };
    let switched = state
        .services
        .console_switch(&session, &caller, &target)
        .await?;
    Ok(match switched {
        Switch::Switched => redirect("/oauth-clients"),
        Switch::SignInFirst(org) => {
            let mut url = url::form_urlencoded::Serializer::for_suffix(String::from("/login?"), 7);
            url.append_pair("org", &org);
            redirect(&url.finish())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn only_console_paths_are_returned_to() {
        assert_eq!(safe_return(Some("/members?x=1")), "/members?x=1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "members",
            "/\t/evil.example",
            "/\n/evil.example",
            "/a\\b",
        ] {
            assert_eq!(safe_return(Some(bad)), "/oauth-clients", "{bad}");
        }
        assert_eq!(safe_return(None), "/oauth-clients");
    }
}
