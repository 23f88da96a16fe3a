//! Reading a platform's answer: tokens and channels out of each platform's shape, and every
//! refusal sorted into a [`PlatformError`] with the platform's own explanation.

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;
use tessera_domain::Platform;

use super::transport::Answer;
use super::{Identity, PlatformError, TokenSet};

/// The longest platform explanation carried into an error text.
const MAX_MESSAGE: usize = 200;

/// Which call an answer belongs to; decides how a refusal is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Code,
    Refresh,
    Revoke,
    Identity,
    Validate,
}

impl Op {
    fn what(self) -> &'static str {
        match self {
            Op::Code => "the authorization code",
            Op::Refresh => "the token refresh",
            Op::Revoke => "the token revocation",
            Op::Identity => "the channel lookup",
            Op::Validate => "the token validation",
        }
    }
}

/// A token endpoint's answer as tokens, or the refusal sorted.
pub(super) fn token_answer(p: Platform, op: Op, a: &Answer) -> Result<TokenSet, PlatformError> {
    if !a.status.is_success() {
        return Err(classify(p, op, a));
    }
    let name = p.display_name();
    let text = |k: &str| {
        a.body
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let Some(access) = text("access_token") else {
        return Err(PlatformError::Rejected(match platform_message(&a.body) {
            Some(m) => format!("{name} answered {} without an access token: {m}", op.what()),
            None => format!("{name} answered {} without an access token", op.what()),
        }));
    };
    let scopes = match a.body.get("scope") {
        // Twitch sends an array, the others a space-separated string (RFC 6749).
        Some(Value::Array(v)) => Some(
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_owned).collect()),
        _ => None,
    };
    Ok(TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: text("refresh_token").map(|r| SecretString::from(r.to_owned())),
        expires_in: a.body.get("expires_in").and_then(as_i64),
        scopes,
    })
}

/// A number, or a string holding one (some platforms send `"3600"`).
pub(super) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            // Truncation is intended: a fractional second count is still a second count.
            .or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a revocation was refused only because the token is already unusable
/// (RFC 7009's `invalid_token`, Twitch's and Trovo's "Invalid token").
pub(super) fn already_invalid(a: &Answer) -> bool {
    if a.status != StatusCode::BAD_REQUEST {
        return false;
    }
    let error = a.body.get("error").and_then(Value::as_str).unwrap_or("");
    let message = a.body.get("message").and_then(Value::as_str).unwrap_or("");
    [error, message]
        .iter()
        .any(|s| s.eq_ignore_ascii_case("invalid_token") || s.eq_ignore_ascii_case("invalid token"))
}

/// The platform's own explanation: OAuth's `error_description`, Twitch's and Trovo's
/// `message`, Google APIs' `error.message`, or a bare `error` code. Shortened and stripped of
/// control characters so it reads as one line.
fn platform_message(body: &Value) -> Option<String> {
    let m = nonempty(body.get("error_description"))
        .or_else(|| nonempty(body.get("message")))
        .or_else(|| nonempty(body.get("error").and_then(|e| e.get("message"))))
        .or_else(|| nonempty(body.get("error")))?;
    // Without its final full stop it can be followed by "; what to do".
    Some(
        m.trim_end_matches('.')
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_MESSAGE)
            .collect(),
    )
}

fn nonempty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Sorts a refusal (any non-2xx answer).
pub(super) fn classify(p: Platform, op: Op, a: &Answer) -> PlatformError {
    let name = p.display_name();
    let code = a.status.as_u16();
    let said = platform_message(&a.body);
    let suffix = said
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    if a.status == StatusCode::TOO_MANY_REQUESTS {
        return PlatformError::RateLimited;
    }
    if a.status.is_server_error() {
        let reason = a.status.canonical_reason().unwrap_or("Server Error");
        // A body that only repeats the status line adds nothing.
        let suffix = if said.as_deref() == Some(reason) {
            ""
        } else {
            &suffix
        };
        return PlatformError::Unavailable(format!(
            "{name} answered {code} {reason}{suffix}; try again later"
        ));
    }
    let grant_refused = || {
        PlatformError::InvalidGrant(match op {
            Op::Refresh => format!(
                "{name} no longer accepts the refresh token{suffix}; connect the platform again"
            ),
            _ => format!("{name} refused {}{suffix}; try connecting again", op.what()),
        })
    };
    let client_refused = || {
        PlatformError::InvalidClient(format!(
            "{name} refused the app credentials{suffix}; check the client ID and secret"
        ))
    };
    // OAuth error codes (RFC 6749 §5.2): Google, Kick.
    match a.body.get("error").and_then(Value::as_str) {
        Some("invalid_grant") => return grant_refused(),
        Some("invalid_client" | "unauthorized_client") => return client_refused(),
        _ => {}
    }
    let token_call = matches!(op, Op::Code | Op::Refresh);
    if token_call && matches!(code, 400 | 401 | 403) {
        // Twitch and Trovo say what they refuse in prose rather than with an OAuth code.
        let prose = [body_str(&a.body, "message"), body_str(&a.body, "error")]
            .join(" ")
            .to_ascii_lowercase();
        let prose_platform = matches!(p, Platform::Twitch | Platform::Trovo);
        if prose_platform && (prose.contains("client") || prose.contains("secret")) {
            return client_refused();
        }
        let grant = match p {
            Platform::Trovo => true,
            Platform::Twitch => op == Op::Refresh || prose.contains("code"),
            Platform::Youtube | Platform::Kick => false,
        };
        // On a refresh, a plain 400/401 is the refresh token being refused.
        if grant || (op == Op::Refresh && code != 403) {
            return grant_refused();
        }
    }
    tracing::debug!(platform = %p, status = code, call = op.what(), "platform refused a call");
    PlatformError::Rejected(format!(
        "{name} refused {} (HTTP {code}){suffix}",
        op.what()
    ))
}

fn body_str<'a>(body: &'a Value, k: &str) -> &'a str {
    body.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The channel out of an identity answer, in the platform's shape.
pub(super) fn read_identity(p: Platform, body: &Value) -> Result<Identity, PlatformError> {
    let name = p.display_name();
    let unreadable = || {
        PlatformError::Rejected(format!(
            "{name} answered the channel lookup without a channel"
        ))
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (id, channel_name) = match p {
        Platform::Twitch => {
            let u = body
                .get("data")
                .and_then(|d| d.get(0))
                .ok_or_else(unreadable)?;
            (
                text(u.get("id")),
                text(u.get("display_name")).or_else(|| text(u.get("login"))),
            )
        }
        Platform::Youtube => {
            let Some(c) = body.get("items").and_then(|d| d.get(0)) else {
                return Err(PlatformError::Rejected(
                    "this Google account has no YouTube channel; create one on YouTube, then \
                     connect again"
                        .to_owned(),
                ));
            };
            (
                text(c.get("id")),
                text(c.get("snippet").and_then(|s| s.get("title"))),
            )
        }
        Platform::Kick => {
            let c = body
                .get("data")
                .and_then(|d| d.get(0))
                .ok_or_else(unreadable)?;
            (text(c.get("broadcaster_user_id")), text(c.get("slug")))
        }
        Platform::Trovo => (
            text(body.get("channelId")),
            text(body.get("nickName")).or_else(|| text(body.get("userName"))),
        ),
    };
    let channel_id = id.ok_or_else(unreadable)?;
    Ok(Identity {
        // A channel without a readable name is still the channel; its id stands in.
        channel_name: channel_name.unwrap_or_else(|| channel_id.clone()),
        channel_id,
    })
}
