//! The pages of the interactive flow: login, consent, the device pages, logout, the
//! form_post response and the error pages. Server-rendered HTML from askama templates
//! (`templates/pages/`, which escape every value) with no script but form_post's; every form
//! carries its CSRF token. Each page sets its own Content-Security-Policy; the other security
//! headers (no framing, no referrer, no caching) come from the edge for every response.
//!
//! Form fields are named as the interface fixes them: `username` and `password` on the login
//! form; submit buttons named `decision` with `allow` and `deny` on the consent form.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

/// The policy of the flow's pages: their one inline stylesheet, nothing else.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// Renders a page with `status` and `csp`.
fn render<T: Template>(status: StatusCode, page: &T, csp: &str) -> Response {
    let mut res = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be drawn; the server log has the details.",
            )
                .into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage<'a> {
    title: &'a str,
    client: &'a str,
    org: &'a str,
    action: &'a str,
    request: &'a str,
    csrf: &'a str,
    error: Option<&'a str>,
    username: &'a str,
}

/// The login form, posting to `action`.
pub fn login(action: &str, s: Signing<'_>, username: Option<&str>) -> Response {
    let page = LoginPage {
        title: "Sign in",
        client: s.client,
        org: s.org,
        action,
        request: s.request,
        csrf: s.csrf,
        error: s.error,
        username: username.unwrap_or(""),
    };
    render(StatusCode::OK, &page, PAGE_CSP)
}

/// What the sign-in pages say and carry: the application, the organization, and the saved
/// request with its CSRF token.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    pub client: &'a str,
    pub org: &'a str,
    pub request: &'a str,
    pub csrf: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "pages/second_factor.html")]
struct SecondFactorPage<'a> {
    title: &'a str,
    client: &'a str,
    org: &'a str,
    action: &'a str,
    request: &'a str,
    csrf: &'a str,
    error: Option<&'a str>,
}

/// The second step of a sign-in: the authenticator app's code, or a recovery code.
pub fn second_factor(action: &str, s: Signing<'_>) -> Response {
    let page = SecondFactorPage {
        title: "Two-step verification",
        client: s.client,
        org: s.org,
        action,
        request: s.request,
        csrf: s.csrf,
        error: s.error,
    };
    render(StatusCode::OK, &page, PAGE_CSP)
}

#[derive(Template)]
#[template(path = "pages/consent.html")]
struct ConsentPage<'a> {
    title: &'a str,
    client: &'a str,
    action: &'a str,
    request: &'a str,
    csrf: &'a str,
    scopes: &'a [String],
    resources: &'a [tessera_core::authorize::ConsentResource],
}

/// The consent form: the scopes asked for, and each API resource asked for with its scopes
/// and their descriptions; allow or deny.
pub fn consent(
    action: &str,
    client_name: &str,
    request_id: &str,
    csrf: &str,
    scopes: &[String],
    resources: &[tessera_core::authorize::ConsentResource],
) -> Response {
    let page = ConsentPage {
        title: "Allow access",
        client: client_name,
        action,
        request: request_id,
        csrf,
        scopes,
        resources,
    };
    render(StatusCode::OK, &page, PAGE_CSP)
}

#[derive(Template)]
#[template(path = "pages/device_code.html")]
struct DeviceCodePage<'a> {
    title: &'a str,
    action: &'a str,
    error: Option<&'a str>,
}

/// The device page's first step: the code shown on the device.
pub fn device_code(action: &str, error: Option<&str>) -> Response {
    let page = DeviceCodePage {
        title: "Connect a device",
        action,
        error,
    };
    render(StatusCode::OK, &page, PAGE_CSP)
}

#[derive(Template)]
#[template(path = "pages/device_confirm.html")]
struct DeviceConfirmPage<'a> {
    title: &'a str,
    action: &'a str,
    code: &'a str,
    client: &'a str,
    scopes: &'a [String],
    csrf: &'a str,
}

/// The device page's confirmation: the code (to compare with the device), the client and its
/// scopes; allow or deny.
pub fn device_confirm(
    action: &str,
    user_code: &str,
    client_name: &str,
    scopes: &[String],
    csrf: &str,
) -> Response {
    let page = DeviceConfirmPage {
        title: "Allow this device",
        action,
        code: user_code,
        client: client_name,
        scopes,
        csrf,
    };
    render(StatusCode::OK, &page, PAGE_CSP)
}

/// A page that says one thing: a title, a message (shown as an error, and announced to
/// screen readers with `alert`), and a link to start again.
#[derive(Template)]
#[template(path = "pages/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    error: bool,
    alert: bool,
    again: Option<&'a str>,
}

fn message(status: StatusCode, title: &str, message: &str, error: bool) -> Response {
    let page = MessagePage {
        title,
        message,
        error,
        alert: false,
        again: None,
    };
    render(status, &page, PAGE_CSP)
}

/// The device page's last step.
pub fn device_done(approved: bool) -> Response {
    if approved {
        message(
            StatusCode::OK,
            "Device connected",
            "You can return to your device now.",
            false,
        )
    } else {
        message(
            StatusCode::OK,
            "Device refused",
            "The device was not given access. You can close this window.",
            false,
        )
    }
}

/// After logout without a way back to the application.
pub fn signed_out() -> Response {
    message(
        StatusCode::OK,
        "Signed out",
        "You are signed out. You can close this window.",
        false,
    )
}

/// The one script of the sign-in pages: it submits the form_post page's form, and the page's
/// Content-Security-Policy allows exactly this text by its hash.
pub const FORM_POST_SCRIPT: &str = "document.forms[0].submit();";
/// `base64(SHA-256(FORM_POST_SCRIPT))`, for `script-src` (a test recomputes it).
const FORM_POST_SCRIPT_HASH: &str = "8lDeP0UDwCO6/RhblgeH/ctdBzjVpJxrXizsnIk3cEQ=";

#[derive(Template)]
#[template(path = "pages/form_post.html")]
struct FormPostPage<'a> {
    title: &'a str,
    action: &'a str,
    params: &'a [(String, String)],
    script: &'a str,
}

/// OAuth 2.0 Form Post Response Mode §2: the authorization response as a form that the
/// browser posts to the client's redirect URI. The form submits itself; without scripts its
/// button does. The policy still forbids every other script, framing and referrers.
pub fn form_post(redirect_uri: &str, params: &[(String, String)]) -> Response {
    let page = FormPostPage {
        title: "Returning to the application",
        action: redirect_uri,
        params,
        script: FORM_POST_SCRIPT,
    };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{FORM_POST_SCRIPT_HASH}'; frame-ancestors 'none'"
    );
    render(StatusCode::OK, &page, &csp)
}

/// A form refused because this browser was not given it (login CSRF and the like): the
/// reason, and a link that starts the same request again in this browser.
pub fn restart(message: &str, url: &str) -> Response {
    let page = MessagePage {
        title: "Form refused",
        message,
        error: true,
        alert: true,
        again: Some(url),
    };
    render(StatusCode::FORBIDDEN, &page, PAGE_CSP)
}

#[derive(Template)]
#[template(path = "pages/logout_confirm.html")]
struct LogoutConfirmPage<'a> {
    title: &'a str,
    action: &'a str,
    params: &'a [(String, String)],
    csrf: &'a str,
}

/// RP-Initiated Logout 1.0 §2: the question asked before a session ends without an
/// `id_token_hint` of the signed-in user. The form posts the request back with its token.
pub fn logout_confirm(action: &str, params: &[(String, String)], csrf: &str) -> Response {
    let page = LogoutConfirmPage {
        title: "Sign out",
        action,
        params,
        csrf,
    };
    render(StatusCode::OK, &page, PAGE_CSP)
}

/// An application on the account page, its times as text.
#[derive(Debug, Clone)]
pub struct AccountAppRow {
    pub client_id: String,
    pub name: String,
    pub scopes: String,
    pub granted: String,
    pub last_used: String,
}

/// A session on the account page.
#[derive(Debug, Clone)]
pub struct AccountSessionRow {
    pub signed_in: String,
    pub expires: String,
    pub current: bool,
    pub method: String,
}

/// The account page.
#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct AccountPage<'a> {
    pub title: &'a str,
    pub org: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub apps: &'a [AccountAppRow],
    pub sessions: &'a [AccountSessionRow],
    pub totp_enabled: bool,
    pub recovery_left: usize,
    /// A set-up in progress: the secret and its `otpauth://` URI, shown once.
    pub enrol_secret: Option<&'a str>,
    pub enrol_uri: Option<&'a str>,
    /// Recovery codes just made, shown once.
    pub recovery_codes: &'a [String],
}

/// Renders the account page.
pub fn account(status: StatusCode, page: &AccountPage<'_>) -> Response {
    render(status, page, PAGE_CSP)
}

/// An error the user must see, because sending it to the client is not safe.
pub fn error(message_text: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "Sign-in request refused",
        message_text,
        true,
    )
}

/// The server's own failure (or a busy database), with its status.
pub fn error_with(status: StatusCode, message_text: &str) -> Response {
    message(status, "Something went wrong", message_text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `<script>` as the templates escape it (askama writes numeric references).
    const ESCAPED_SCRIPT: &str = "&#60;script&#62;";

    async fn body(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_page_renders_escaped_with_its_headers() {
        let evil = "<script>alert(1)</script>\"'&";
        for r in [
            login(
                "/orgs/a/login",
                Signing {
                    client: evil,
                    org: evil,
                    request: "r",
                    csrf: "c",
                    error: Some(evil),
                },
                Some(evil),
            ),
            second_factor(
                "/orgs/a/login/second-factor",
                Signing {
                    client: evil,
                    org: evil,
                    request: "r",
                    csrf: "c",
                    error: Some(evil),
                },
            ),
            consent(
                "/orgs/a/consent",
                evil,
                "r",
                "c",
                &[evil.to_owned()],
                &[tessera_core::authorize::ConsentResource {
                    name: evil.to_owned(),
                    identifier: evil.to_owned(),
                    scopes: vec![(evil.to_owned(), Some(evil.to_owned()))],
                }],
            ),
            error(evil),
            restart(evil, evil),
            logout_confirm("/x", &[(evil.to_owned(), evil.to_owned())], evil),
        ] {
            let h = r.headers().clone();
            assert!(h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"));
            // The rest of the security headers come from the edge, for every response
            // (`edge::tests`).
            let html = body(r).await;
            assert!(!html.contains("<script>"), "{html}");
            assert!(html.contains(ESCAPED_SCRIPT), "{html}");
            assert!(
                !html.contains("\"'&"),
                "quotes and ampersand escaped: {html}"
            );
        }
        let html = body(login(
            "/x",
            Signing {
                client: "App",
                org: "Acme",
                request: "req-1",
                csrf: "tok-1",
                error: None,
            },
            None,
        ))
        .await;
        assert!(html.contains("Acme"), "the organization is named");
        for needle in [
            "name=\"username\"",
            "name=\"password\"",
            "name=\"csrf_token\" value=\"tok-1\"",
            "name=\"request\" value=\"req-1\"",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        let html = body(consent("/x", "App", "r", "t", &["openid".into()], &[])).await;
        assert!(html.contains("name=\"decision\" value=\"allow\""));
        assert!(html.contains("name=\"decision\" value=\"deny\""));
    }

    #[test]
    fn the_form_post_script_is_the_one_its_policy_allows() {
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(FORM_POST_SCRIPT.as_bytes()));
        assert_eq!(hash, FORM_POST_SCRIPT_HASH);
        let r = form_post("https://app.example/cb", &[("code".into(), "c1".into())]);
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains(&format!("'sha256-{FORM_POST_SCRIPT_HASH}'")),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[tokio::test]
    async fn the_form_post_page_escapes_what_it_carries() {
        let evil = "<script>alert(1)</script>\"'&";
        let html = body(form_post(evil, &[(evil.to_owned(), evil.to_owned())])).await;
        // One script: the page's own, exactly the text its policy allows.
        assert_eq!(html.matches("<script>").count(), 1, "{html}");
        assert!(html.contains(&format!("<script>{FORM_POST_SCRIPT}</script>")));
        assert!(html.contains(ESCAPED_SCRIPT), "{html}");
        assert!(html.contains("method=\"post\""));
    }
}
