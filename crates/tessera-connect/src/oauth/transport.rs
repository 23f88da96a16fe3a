//! Sending a request to a platform and reading its answer, with network failures turned into
//! [`PlatformError::Unavailable`] texts that carry no token.

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use tessera_domain::Platform;

use super::{AppCredentials, PlatformError};

/// The largest answer read from a platform; their token and identity answers are a few KiB.
const MAX_BODY: usize = 1024 * 1024;

/// A platform's answer: its status and its body as JSON (`Null` when it was not JSON).
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Value,
}

/// A POST to Trovo's open platform, which names the app in a `Client-ID` header.
pub(super) fn trovo_post(
    http: &reqwest::Client,
    url: &str,
    creds: &AppCredentials,
) -> RequestBuilder {
    http.post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .header("Client-ID", &creds.client_id)
}

/// `base` with `pairs` added to its query (kept as text if `base` does not parse).
pub(super) fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            u.query_pairs_mut().extend_pairs(pairs);
            u.into()
        }
        Err(_) => {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}{q}")
        }
    }
}

/// Sends a request and reads the answer, turning network failures into `Unavailable`.
pub(super) async fn send(p: Platform, req: RequestBuilder) -> Result<Answer, PlatformError> {
    use tracing::Instrument as _;
    let span = tracing::info_span!(
        "platform.request",
        platform = p.display_name(),
        status = tracing::field::Empty
    );
    async move {
        let answer = send_in_span(p, req).await;
        if let Ok(a) = &answer {
            tracing::Span::current().record("status", a.status.as_u16());
        }
        answer
    }
    .instrument(span)
    .await
}

async fn send_in_span(p: Platform, req: RequestBuilder) -> Result<Answer, PlatformError> {
    let name = p.display_name();
    let req = crate::trace::outbound(req);
    let mut resp = req.send().await.map_err(|e| unreachable_error(p, &e))?;
    let status = resp.status();
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if bytes.len() + c.len() > MAX_BODY {
                    return Err(PlatformError::Rejected(format!(
                        "{name} answered with more than {MAX_BODY} bytes (HTTP {})",
                        status.as_u16()
                    )));
                }
                bytes.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => return Err(unreachable_error(p, &e)),
        }
    }
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// A transport failure as a readable text. reqwest's own text names the URL, which can carry
/// a token (Kick's revocation), so only the underlying causes are shown.
fn unreachable_error(p: Platform, e: &reqwest::Error) -> PlatformError {
    let name = p.display_name();
    if e.is_timeout() {
        return PlatformError::Unavailable(format!("{name} did not answer in time"));
    }
    let mut cause = None;
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        cause = Some(s.to_string());
        src = s.source();
    }
    let kind = if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    PlatformError::Unavailable(match cause {
        Some(c) => format!("{name} did not answer: {kind} ({c})"),
        None => format!("{name} did not answer: {kind}"),
    })
}
