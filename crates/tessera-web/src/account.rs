//! The end users' account page, `/orgs/{org}/account` (see `tessera_core::account`): shown to
//! the organization's signed-in user, or off to its sign-in and back; one form endpoint for
//! its actions, each form bound to the browser.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::{header, HeaderMap, StatusCode};
use tessera_core::account::AccountCaller;
use tessera_core::mfa::TotpEnrolment;
use tessera_core::CoreError;
use tessera_domain::Timestamp;

use crate::oauth::browser::{
    ensure_browser, field, pairs, posted_browser, redirect, session_cookie,
};
use crate::pages::{AccountAppRow, AccountPage, AccountSessionRow};
use crate::{paths, AppState};

/// The cookie that carries a sign-in's `state` to the callback (scoped to the organization).
const ACCOUNT_LOGIN_COOKIE: &str = "tessera_account_login";
const ACCOUNT_LOGIN_SECONDS: i64 = 600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ACCOUNT, get(show).post(act))
        .route(paths::ACCOUNT_CALLBACK, get(callback))
}

/// What a page shows beside the account itself.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    error: Option<String>,
    enrolment: Option<TotpEnrolment>,
    recovery: Vec<String>,
}

fn when(t: Timestamp) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn server_error(e: &CoreError) -> Response {
    tracing::error!(error = %e, "account page failed");
    let status = match e {
        CoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    crate::pages::error_with(status, "The account page could not be shown. Try again.")
}

/// The signed-in user, or the response that signs them in first.
async fn caller(
    state: &AppState,
    org: &str,
    headers: &HeaderMap,
) -> Result<AccountCaller, Response> {
    let cookie = session_cookie(headers);
    match state.services.account_caller(org, cookie.as_deref()).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(sign_in(state, org).await),
        Err(CoreError::NotFound { .. }) => Err(crate::pages::error_with(
            StatusCode::NOT_FOUND,
            &format!("There is no organization '{org}'."),
        )),
        Err(e) => Err(server_error(&e)),
    }
}

/// Off to the organization's sign-in, the `state` kept in a cookie of this browser.
async fn sign_in(state: &AppState, org: &str) -> Response {
    match state.services.account_sign_in(org).await {
        Ok(start) => {
            let mut res = redirect(&start.authorize_url);
            res.headers_mut().append(
                header::SET_COOKIE,
                crate::cookies::set_org_cookie(
                    state,
                    org,
                    ACCOUNT_LOGIN_COOKIE,
                    &start.state,
                    ACCOUNT_LOGIN_SECONDS,
                ),
            );
            res
        }
        Err(e) => server_error(&e),
    }
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    org: &str,
    c: &AccountCaller,
    status: StatusCode,
    extras: Extras,
) -> Response {
    let overview = match state.services.account_overview(c).await {
        Ok(o) => o,
        Err(e) => return server_error(&e),
    };
    let apps: Vec<AccountAppRow> = overview
        .apps
        .iter()
        .map(|a| AccountAppRow {
            client_id: a.client_id.clone(),
            name: a.client_name.clone(),
            scopes: a.scopes.join(" "),
            granted: when(a.granted_at),
            last_used: a.last_used_at.map_or_else(|| "never".into(), when),
        })
        .collect();
    let sessions: Vec<AccountSessionRow> = overview
        .sessions
        .iter()
        .map(|s| AccountSessionRow {
            signed_in: when(s.auth_time),
            expires: when(s.expires_at),
            current: s.current,
            method: if s.amr.split(' ').any(|m| m == "otp") {
                "password and code".into()
            } else {
                "password".into()
            },
        })
        .collect();
    let (browser, new_binding) = ensure_browser(state, headers);
    let csrf = state.services.account_csrf(&browser, c);
    let action = paths::for_org(paths::ACCOUNT, org);
    let page = AccountPage {
        title: "Your account",
        org: &c.org.name,
        action: &action,
        csrf: &csrf,
        username: c.user.username.as_str(),
        name: c.user.name.as_deref().unwrap_or(""),
        email: c.user.email.as_ref().map_or("", |e| e.as_str()),
        notice: extras.notice.as_deref(),
        error: extras.error.as_deref(),
        apps: &apps,
        sessions: &sessions,
        totp_enabled: overview.second_factor.enabled,
        recovery_left: overview.second_factor.recovery_codes_left,
        enrol_secret: extras.enrolment.as_ref().map(|e| e.secret.as_str()),
        enrol_uri: extras.enrolment.as_ref().map(|e| e.uri.as_str()),
        recovery_codes: &extras.recovery,
    };
    crate::oauth::browser::with_cookie(crate::pages::account(status, &page), new_binding)
}

/// `GET /orgs/{org}/account`.
async fn show(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    uri: http::Uri,
) -> Response {
    let c = match caller(&state, &org, &headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let q = pairs(uri.query().unwrap_or("").as_bytes());
    // Notices after a change (post, redirect, get): fixed texts, never the query's.
    let notice = match field(&q, "done") {
        "profile" => Some("Your profile is saved."),
        "revoked" => Some("The application's access is revoked."),
        "sessions" => Some("You are signed out everywhere else."),
        "password" => Some("Your password is changed."),
        "totp-off" => Some("Two-step verification is off."),
        _ => None,
    };
    let extras = Extras {
        notice: notice.map(str::to_owned),
        ..Extras::default()
    };
    render(&state, &headers, &org, &c, StatusCode::OK, extras).await
}

/// `GET /orgs/{org}/account/callback`: back from the sign-in.
async fn callback(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    uri: http::Uri,
) -> Response {
    let q = pairs(uri.query().unwrap_or("").as_bytes());
    let expected = crate::cookies::cookie_value(&headers, ACCOUNT_LOGIN_COOKIE);
    let clear = crate::cookies::set_org_cookie(&state, &org, ACCOUNT_LOGIN_COOKIE, "", 0);
    let fail = |m: &str| {
        let mut res = crate::pages::error_with(StatusCode::BAD_REQUEST, m);
        res.headers_mut().append(header::SET_COOKIE, clear.clone());
        res
    };
    let got = field(&q, "state");
    let Some(expected) = expected.filter(|e| !got.is_empty() && e == got) else {
        return fail(
            "The sign-in response does not belong to this browser. Open your account page again.",
        );
    };
    if !field(&q, "error").is_empty() {
        return fail("The sign-in was cancelled or failed. Open your account page again.");
    }
    match state
        .services
        .account_finish_sign_in(&org, field(&q, "code"), &expected)
        .await
    {
        Ok(()) => {
            let mut res = redirect(&paths::for_org(paths::ACCOUNT, &org));
            res.headers_mut().append(header::SET_COOKIE, clear);
            res
        }
        Err(CoreError::Unauthenticated(m)) => fail(&format!("{m}. Open your account page again.")),
        Err(e) => server_error(&e),
    }
}

/// `POST /orgs/{org}/account`: `action` = `profile`, `revoke`, `sessions`, `password`,
/// `totp-start`, `totp-confirm` or `totp-remove`.
async fn act(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = match caller(&state, &org, &headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let p = pairs(&body);
    let browser = posted_browser(&state, &headers);
    if !state
        .services
        .account_csrf_ok(browser.as_deref(), &c, field(&p, "csrf_token"))
    {
        let extras = Extras {
            error: Some("This form was not opened in this browser, or was sent from another site, so it was refused. Try again here.".into()),
            ..Extras::default()
        };
        return render(&state, &headers, &org, &c, StatusCode::FORBIDDEN, extras).await;
    }
    let s = &state.services;
    let done = |what: &str| {
        redirect(&format!(
            "{}?done={what}",
            paths::for_org(paths::ACCOUNT, &org)
        ))
    };
    let outcome: Result<Response, CoreError> = match field(&p, "action") {
        "profile" => s
            .account_update_profile(&c, field(&p, "name"), field(&p, "email"))
            .await
            .map(|_| done("profile")),
        "revoke" => s
            .account_revoke_app(&c, field(&p, "client_id"))
            .await
            .map(|()| done("revoked")),
        "sessions" => s
            .account_end_other_sessions(&c)
            .await
            .map(|_| done("sessions")),
        "password" => s
            .account_change_password(
                &c,
                field(&p, "current_password"),
                field(&p, "new_password"),
                field(&p, "confirm_password"),
            )
            .await
            .map(|()| done("password")),
        "totp-start" => match s.account_totp_start(&c).await {
            Ok(e) => {
                let extras = Extras {
                    enrolment: Some(e),
                    ..Extras::default()
                };
                return render(&state, &headers, &org, &c, StatusCode::OK, extras).await;
            }
            Err(e) => Err(e),
        },
        "totp-confirm" => match s.account_totp_confirm(&c, field(&p, "code")).await {
            Ok(codes) => {
                let extras = Extras {
                    recovery: codes,
                    ..Extras::default()
                };
                return render(&state, &headers, &org, &c, StatusCode::OK, extras).await;
            }
            Err(e) => Err(e),
        },
        "totp-remove" => s
            .account_totp_remove(&c, &field(&p, "password").to_owned().into())
            .await
            .map(|()| done("totp-off")),
        other => Err(CoreError::invalid(
            "action",
            format!("unknown action '{other}'"),
        )),
    };
    match outcome {
        Ok(res) => res,
        Err(CoreError::Validation(v)) => {
            let extras = Extras {
                error: Some(v.to_string()),
                ..Extras::default()
            };
            render(&state, &headers, &org, &c, StatusCode::BAD_REQUEST, extras).await
        }
        Err(e @ (CoreError::NotFound { .. } | CoreError::Conflict(_))) => {
            let extras = Extras {
                error: Some(e.to_string()),
                ..Extras::default()
            };
            render(&state, &headers, &org, &c, StatusCode::BAD_REQUEST, extras).await
        }
        Err(e) => server_error(&e),
    }
}
