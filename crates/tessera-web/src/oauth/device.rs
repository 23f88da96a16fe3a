//! The device authorization grant (RFC 8628): the device authorization endpoint and the
//! page where a signed-in user enters and confirms the code.

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use tessera_core::authorize::PostedForm;
use tessera_core::tokens::OAuthError;

use super::browser::{ensure_browser, field, pairs, session_cookie, with_cookie};
use super::form::{client_auth, form_body, Form};
use super::ProtocolResult;
use crate::{paths, AppState};

/// `POST …/oauth/device_authorization` (RFC 8628 §3.1).
pub(super) async fn device_authorization(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let auth = client_auth(&parts, &form)?;
    let out = state
        .services
        .device_authorization(&org, &auth, form.get("scope"), &form.get_all("resource"))
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
            org_name,
        } => crate::pages::login(
            &paths::for_org(paths::LOGIN, org),
            crate::pages::Signing {
                client: &client_name,
                org: &org_name,
                request: &request_id,
                csrf: &csrf,
                error: None,
            },
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
pub(super) async fn device_get(
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
pub(super) async fn device_post(
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
