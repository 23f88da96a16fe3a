//! The pages of the interactive flow: login, consent and the error page. Server-rendered
//! HTML with no script; every form carries its CSRF token; every page forbids framing
//! (`frame-ancestors 'none'`), sends no referrer and is not cached.
//!
//! Form fields are named as the interface fixes them: `username` and `password` on the login
//! form; submit buttons named `decision` with `allow` and `deny` on the consent form.

use axum::response::{Html, IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f6f8;margin:0;display:flex;\
min-height:100vh;align-items:center;justify-content:center}main{background:#fff;padding:2rem;\
border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.1);width:100%;max-width:22rem}h1{font-size:1.25rem;\
margin-top:0}label{display:block;margin:.75rem 0 .25rem}input[type=text],input[type=password]{width:100%;\
box-sizing:border-box;padding:.5rem;border:1px solid #ccd;border-radius:4px}button{margin-top:1rem;\
padding:.5rem 1rem;border:0;border-radius:4px;background:#2554c7;color:#fff;font-size:1rem;cursor:pointer}\
button.secondary{background:#e4e6eb;color:#222;margin-left:.5rem}.error{color:#b00020}ul{padding-left:1.2rem}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    );
    let mut res = (status, Html(html)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    res
}

/// The login form, posting to `action`.
pub fn login(
    action: &str,
    client_name: &str,
    request_id: &str,
    csrf: &str,
    error: Option<&str>,
    username: Option<&str>,
) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{error}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{request}\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <label for=\"username\">Username</label>\
         <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        client = escape(client_name),
        action = escape(action),
        request = escape(request_id),
        csrf = escape(csrf),
        username = escape(username.unwrap_or("")),
    );
    page(StatusCode::OK, "Sign in", &body)
}

/// The consent form: the scopes asked for, allow or deny.
pub fn consent(
    action: &str,
    client_name: &str,
    request_id: &str,
    csrf: &str,
    scopes: &[String],
) -> Response {
    let items: String = if scopes.is_empty() {
        "<li>basic access</li>".to_owned()
    } else {
        scopes
            .iter()
            .map(|s| format!("<li><code>{}</code></li>", escape(s)))
            .collect()
    };
    let body = format!(
        "<h1>Allow access?</h1><p><strong>{client}</strong> asks for:</p><ul>{items}</ul>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{request}\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
        client = escape(client_name),
        action = escape(action),
        request = escape(request_id),
        csrf = escape(csrf),
    );
    page(StatusCode::OK, "Allow access", &body)
}

/// The device page's first step: the code shown on the device.
pub fn device_code(action: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Connect a device</h1><p>Enter the code shown on your device.</p>{error}\
         <form method=\"get\" action=\"{action}\">\
         <label for=\"user_code\">Code</label>\
         <input type=\"text\" id=\"user_code\" name=\"user_code\" autocomplete=\"off\" \
         autocapitalize=\"characters\" placeholder=\"XXXX-XXXX\" required autofocus>\
         <button type=\"submit\">Continue</button></form>",
        action = escape(action),
    );
    page(StatusCode::OK, "Connect a device", &body)
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
    let items: String = if scopes.is_empty() {
        "<li>basic access</li>".to_owned()
    } else {
        scopes
            .iter()
            .map(|s| format!("<li><code>{}</code></li>", escape(s)))
            .collect()
    };
    let body = format!(
        "<h1>Allow this device?</h1><p>Check that your device shows the code \
         <strong>{code}</strong>.</p><p><strong>{client}</strong> asks for:</p><ul>{items}</ul>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
        code = escape(user_code),
        client = escape(client_name),
        action = escape(action),
        csrf = escape(csrf),
    );
    page(StatusCode::OK, "Allow this device", &body)
}

/// The device page's last step.
pub fn device_done(approved: bool) -> Response {
    if approved {
        page(
            StatusCode::OK,
            "Device connected",
            "<h1>Device connected</h1><p>You can return to your device now.</p>",
        )
    } else {
        page(
            StatusCode::OK,
            "Device refused",
            "<h1>Device refused</h1><p>The device was not given access. You can close this window.</p>",
        )
    }
}

/// After logout without a way back to the application.
pub fn signed_out() -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        "<h1>Signed out</h1><p>You are signed out. You can close this window.</p>",
    )
}

/// The one script of the sign-in pages: it submits the form_post page's form, and the page's
/// Content-Security-Policy allows exactly this text by its hash.
pub const FORM_POST_SCRIPT: &str = "document.forms[0].submit();";
/// `base64(SHA-256(FORM_POST_SCRIPT))`, for `script-src` (a test recomputes it).
const FORM_POST_SCRIPT_HASH: &str = "8lDeP0UDwCO6/RhblgeH/ctdBzjVpJxrXizsnIk3cEQ=";

/// OAuth 2.0 Form Post Response Mode §2: the authorization response as a form that the
/// browser posts to the client's redirect URI. The form submits itself; without scripts its
/// button does. The policy still forbids every other script, framing and referrers.
pub fn form_post(redirect_uri: &str, params: &[(String, String)]) -> Response {
    let hidden: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let body = format!(
        "<h1>Returning to the application</h1>\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <button type=\"submit\">Continue</button></form>\
         <script>{FORM_POST_SCRIPT}</script>",
        action = escape(redirect_uri),
    );
    let mut res = page(StatusCode::OK, "Returning to the application", &body);
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{FORM_POST_SCRIPT_HASH}'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// A form refused because this browser was not given it (login CSRF and the like): the
/// reason, and a link that starts the same request again in this browser.
pub fn restart(message: &str, url: &str) -> Response {
    let body = format!(
        "<h1>Form refused</h1><p class=\"error\" role=\"alert\">{}</p>\
         <p><a href=\"{}\">Start again</a></p>",
        escape(message),
        escape(url),
    );
    page(StatusCode::FORBIDDEN, "Form refused", &body)
}

/// RP-Initiated Logout 1.0 §2: the question asked before a session ends without an
/// `id_token_hint` of the signed-in user. The form posts the request back with its token.
pub fn logout_confirm(action: &str, params: &[(String, String)], csrf: &str) -> Response {
    let hidden: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let body = format!(
        "<h1>Sign out?</h1><p>Do you want to sign out? You will need to sign in again to \
         use the applications of this organization.</p>\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"logout\" value=\"yes\">Sign out</button></form>\
         <p>If you did not ask to sign out, close this window: you stay signed in.</p>",
        action = escape(action),
        csrf = escape(csrf),
    );
    page(StatusCode::OK, "Sign out", &body)
}

/// An error the user must see, because sending it to the client is not safe.
pub fn error(message: &str) -> Response {
    let body = format!(
        "<h1>Sign-in request refused</h1><p class=\"error\">{}</p>",
        escape(message)
    );
    page(StatusCode::BAD_REQUEST, "Sign-in request refused", &body)
}

/// The server's own failure (or a busy database), with its status.
pub fn error_with(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Something went wrong</h1><p class=\"error\">{}</p>",
        escape(message)
    );
    page(status, "Something went wrong", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_page_renders_escaped_with_its_headers() {
        let evil = "<script>alert(1)</script>\"'&";
        for r in [
            login("/orgs/a/login", evil, "r", "c", Some(evil), Some(evil)),
            consent("/orgs/a/consent", evil, "r", "c", &[evil.to_owned()]),
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
            assert!(html.contains("&lt;script&gt;"));
        }
        let html = body(login("/x", "App", "req-1", "tok-1", None, None)).await;
        for needle in [
            "name=\"username\"",
            "name=\"password\"",
            "name=\"csrf_token\" value=\"tok-1\"",
            "name=\"request\" value=\"req-1\"",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        let html = body(consent("/x", "App", "r", "t", &["openid".into()])).await;
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
        // One script: the page's own.
        assert_eq!(html.matches("<script>").count(), 1, "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("method=\"post\""));
    }
}
