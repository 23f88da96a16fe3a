//! The console: server-rendered pages (askama templates under `templates/console/`) over the
//! same services as the REST and GraphQL APIs, so the three can never disagree.
//!
//! No JavaScript framework and nothing fetched from elsewhere: native forms and `<dialog>`,
//! one stylesheet and one small script (copy to clipboard, opening dialogs in place), both
//! served from here. Every page works without the script: dialogs are also reachable as
//! pages (`?create=1`, `…/delete`), and whatever the script does, a form does too.
//!
//! Protection, once for every page: a `Content-Security-Policy` that allows only this
//! origin's script and style and forbids framing, `Referrer-Policy: no-referrer`, no caching;
//! every state-changing request is a `POST` whose form carries the session's CSRF token,
//! checked by [`csrf_guard`] before any handler runs.

pub mod admin;
pub mod clients;
pub mod connections;
pub mod export;
pub mod forms;
pub mod login;
mod resources;
pub mod views;
mod webhooks;

pub use crate::cookies::{cookie, cookie_name, cookie_value, set_cookie};
use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use subtle::ConstantTimeEq;
use tessera_core::console::ConsoleCaller;
use tessera_core::CoreError;
use tessera_core::ErrorKind;

use crate::auth::request_origin;
use crate::AppState;

/// The console session cookie.
pub const SESSION_COOKIE: &str = "tessera_console";
/// The cookie of a sign-in in progress: its `state`, organization and where to return.
pub const LOGIN_COOKIE: &str = "tessera_console_login";
/// The form field (and, on the admin API, the `X-CSRF-Token` header) of the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

const STYLE: &str = include_str!("../../assets/console.css");
const SCRIPT: &str = include_str!("../../assets/console.js");
pub const STYLE_PATH: &str = "/console/static/console.css";
pub const SCRIPT_PATH: &str = "/console/static/console.js";

/// Every console route.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { redirect("/oauth-clients") }))
        .route(STYLE_PATH, get(style))
        .route(SCRIPT_PATH, get(script))
        .route("/login", get(login::start))
        .route(
            tessera_core::console::CONSOLE_CALLBACK_PATH,
            get(login::callback),
        )
        .route("/logout", post(login::sign_out))
        .route("/switch-org", post(login::switch_org))
        .route("/oauth-clients", get(clients::list).post(clients::create))
        .route(
            "/oauth-clients/{client_id}",
            get(clients::edit).post(clients::save),
        )
        .route(
            "/oauth-clients/{client_id}/active",
            post(clients::set_active),
        )
        .route(
            "/oauth-clients/{client_id}/delete",
            get(clients::confirm_delete).post(clients::delete),
        )
        .route("/oauth-clients/{client_id}/secret", post(clients::secret))
        .route(
            "/oauth-clients/{client_id}/revoke-tokens",
            post(clients::revoke_tokens),
        )
        .route("/audit-log", get(admin::audit_log))
        .route("/members", get(admin::members).post(admin::create_member))
        .route("/members/{id}", post(admin::update_member))
        .route("/security-policy", post(admin::set_security_policy))
        .route(
            "/members/{id}/access",
            get(admin::member_access).post(admin::change_member_access),
        )
        .route(
            "/api-keys",
            get(admin::api_keys).post(admin::create_api_key),
        )
        .route("/api-keys/{id}/revoke", post(admin::revoke_api_key))
        .route(
            "/api-resources",
            get(resources::list).post(resources::create),
        )
        .route("/api-resources/{id}", post(resources::update))
        .route("/api-resources/{id}/delete", post(resources::delete))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", get(webhooks::deliveries))
        .route("/webhooks/{id}/delete", post(webhooks::delete))
        .route("/webhooks/{id}/{action}", post(webhooks::set_active))
        .route(
            "/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(webhooks::redeliver),
        )
        .merge(connections::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf_guard,
        ))
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// A signed-in console request. Without a live session the browser is sent to sign in and
/// brought back to the page it asked for.
pub struct Console(pub ConsoleCaller);

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // Back to the page asked for; after a form's POST (which has no page of its own),
        // to the page the form lives on.
        let back = if parts.method == http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned()
        } else {
            page_of(parts.uri.path())
        };
        let to_login = || {
            let mut url = url::form_urlencoded::Serializer::for_suffix(String::from("/login?"), 7);
            url.append_pair("return_to", &back);
            redirect(&url.finish())
        };
        let Some(c) = cookie(state, &parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let (ip, request_id) = request_origin(parts);
        match state.services.console_caller(&c, ip, request_id).await {
            Ok(caller) => Ok(Console(caller)),
            Err(CoreError::Unauthenticated(_)) => Err(to_login()),
            Err(e) => Err(error_page(&e)),
        }
    }
}

/// The page a form posting to `path` lives on: `/members/{id}` → `/members`,
/// `/oauth-clients/{id}/secret` → `/oauth-clients/{id}`, the Connections sub-pages to
/// themselves.
fn page_of(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["oauth-clients", id, ..] => format!("/oauth-clients/{id}"),
        ["dashboard", "connections", "credentials", ..] => {
            "/dashboard/connections/credentials".into()
        }
        ["dashboard", "connections", "bot", ..] => "/dashboard/connections/bot".into(),
        ["dashboard", ..] => "/dashboard/connections".into(),
        ["switch-org" | "logout", ..] => "/oauth-clients".into(),
        [first, ..] => format!("/{first}"),
        [] => "/oauth-clients".into(),
    }
}

/// A page's query string. A bad one (`?offset=abc`) is a page that says what was wrong, not
/// the API's JSON error.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(q)) => Ok(Query(q)),
            Err(e) => Err(views::message_page(
                StatusCode::BAD_REQUEST,
                "Bad address",
                &format!("The address of this page is not valid: {}.", e.body_text()),
            )),
        }
    }
}

/// Middleware: every request that changes something (anything but GET and HEAD) must carry
/// the CSRF token of the session it rides on, in the form or in `X-CSRF-Token`. The token is
/// a keyed hash of the session cookie, so a page of another origin can neither read nor make
/// it; SameSite=Lax on the cookie is the second wall.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), http::Method::GET | http::Method::HEAD) {
        return next.run(req).await;
    }
    let refused = || {
        views::message_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form has expired or did not come from this console. Go back, reload the page and try again.",
        )
    };
    let Some(session) = cookie(&state, req.headers(), SESSION_COOKIE) else {
        return refused();
    };
    let expected = state.services.console_csrf(&session);
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config.body_limit).await else {
        return views::message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The form is too large.",
        );
    };
    let presented = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            forms::Form::parse(&bytes)
                .get(CSRF_FIELD)
                .map(str::to_owned)
        });
    let ok = presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())));
    if !ok {
        return refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// `303 See Other` to a path of the console.
pub fn redirect(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    no_store_page(res)
}

/// The policy of every console page (the other security headers, `no-store` among them, come
/// from the edge).
pub fn no_store_page(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    res
}

/// Renders a template as a page with the console's headers.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => no_store_page(
            (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            views::message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be drawn; the server log has the details.",
            )
        }
    }
}

/// A service error on its way to becoming a page, so that handlers can use `?`: which page
/// each kind of error gets is decided once, in [`error_page`]. Errors a form shows next to a
/// field are matched before they get here.
#[derive(Debug)]
pub struct PageError(pub CoreError);

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        Self(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(&self.0)
    }
}

/// What a console handler answers: its page, or the page of the error that stopped it.
pub type PageResult = Result<Response, PageError>;

/// `text` as a sentence on a page: a capital first letter and a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The page for a service error that no form can show next to a field.
pub fn error_page(e: &CoreError) -> Response {
    let (status, title) = match e.kind() {
        ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "Invalid input"),
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "Not found"),
        ErrorKind::Conflict => (StatusCode::CONFLICT, "Conflict"),
        ErrorKind::Unauthenticated => (StatusCode::UNAUTHORIZED, "Signed out"),
        ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "Not allowed"),
        ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable"),
        ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
    };
    let message = match e {
        // The console speaks to a person: a sentence, not an API message.
        CoreError::Forbidden(p) => format!("You do not have the permission {p}."),
        CoreError::SystemAdminOnly(what) => format!("Only a system administrator may {what}."),
        _ => match e.kind() {
            ErrorKind::Internal => {
                e.report();
                "Internal error; the server log has the details.".to_owned()
            }
            ErrorKind::Unavailable => sentence(&e.public_message()),
            _ => e.public_message(),
        },
    };
    views::message_page(status, title, &message)
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn an_unavailable_service_reads_as_a_sentence() {
        assert_eq!(
            super::sentence(tessera_core::error::DATABASE_UNAVAILABLE),
            "The database is busy or not reachable; try again shortly."
        );
        assert_eq!(
            super::sentence("Twitch did not answer."),
            "Twitch did not answer."
        );
        assert_eq!(super::sentence(""), "");
    }

    #[test]
    fn a_form_returns_to_its_page() {
        assert_eq!(page_of("/members/123"), "/members");
        assert_eq!(page_of("/oauth-clients/abc/secret"), "/oauth-clients/abc");
        assert_eq!(page_of("/oauth-clients"), "/oauth-clients");
        assert_eq!(
            page_of("/dashboard/connections/credentials/twitch/delete"),
            "/dashboard/connections/credentials"
        );
        assert_eq!(
            page_of("/dashboard/connections/twitch/connect"),
            "/dashboard/connections"
        );
        assert_eq!(page_of("/switch-org"), "/oauth-clients");
        assert_eq!(page_of("/api-keys/k-1/revoke"), "/api-keys");
    }
}
