//! The form body of the protocol endpoints (a repeated parameter is an error) and client
//! authentication: Basic, `client_secret` in the body, or a client assertion.

use axum::body::Bytes;
use axum::extract::Request;
use http::{header, HeaderMap};
use tessera_core::tokens::{parse_basic, ClientAuth, ClientCredentials, OAuthError};

use super::{invalid_request, ProtocolError, ProtocolResult};

/// The parameters of a form body; a repeated parameter is an error (RFC 6749 §3.2).
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    pub(super) fn parse(headers: &HeaderMap, body: &[u8]) -> ProtocolResult<Self> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.split(';').next().map(str::trim) != Some("application/x-www-form-urlencoded") {
            return Err(invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        tessera_core::params::parse_unique(body)
            .map(Self)
            .map_err(|e| invalid_request(e.to_string()))
    }

    /// The parameter `name`; an empty one is absent (RFC 6749 §3.1).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        tessera_core::params::get(&self.0, name)
    }

    /// Every parameter, in the order sent.
    pub(super) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Every value of a repeatable parameter (`resource`).
    pub(super) fn get_all(&self, name: &str) -> Vec<&str> {
        tessera_core::params::get_all(&self.0, name)
    }

    pub(super) fn require(&self, name: &str) -> ProtocolResult<&str> {
        self.get(name)
            .ok_or_else(|| invalid_request(format!("{name} is required")))
    }
}

/// A protocol request's parts and its form body (at most 64 KiB).
pub(super) async fn form_body(req: Request) -> ProtocolResult<(http::request::Parts, Bytes)> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| invalid_request("the body is too large"))?;
    Ok((parts, body))
}

/// Client authentication from the Authorization header or the body (RFC 6749 §2.3), or by a
/// client assertion (RFC 7521 §4.2): one method only; with the caller's address, which the
/// brakes and the audit use.
pub(super) fn client_auth(parts: &http::request::Parts, form: &Form) -> ProtocolResult<ClientAuth> {
    let headers = &parts.headers;
    let (address, request_id) = crate::auth::request_origin(parts);
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    let assertion_type = form.get("client_assertion_type");
    let assertion = form.get("client_assertion");
    let credentials = if assertion_type.is_some() || assertion.is_some() {
        if headers.contains_key(header::AUTHORIZATION) || body_secret.is_some() {
            return Err(invalid_request(
                "use one client authentication method: a client assertion, Basic or client_secret, not two",
            ));
        }
        let (Some(kind), Some(assertion)) = (assertion_type, assertion) else {
            return Err(invalid_request(
                "client_assertion and client_assertion_type go together",
            ));
        };
        if kind != tessera_core::assertion::JWT_BEARER {
            return Err(invalid_request(format!(
                "client_assertion_type must be {}",
                tessera_core::assertion::JWT_BEARER
            )));
        }
        // The assertion names its client; a client_id sent too must agree (RFC 7521 §4.2).
        let Some(client_id) = tessera_core::assertion::assertion_subject(assertion) else {
            return Err(ProtocolError(OAuthError::InvalidClient {
                message: "client authentication failed".into(),
                basic: false,
            }));
        };
        if body_id.is_some_and(|b| b != client_id) {
            return Err(invalid_request(
                "client_id differs from the client assertion's subject",
            ));
        }
        ClientCredentials::Assertion {
            client_id,
            assertion: assertion.to_owned(),
        }
    } else if let Some(h) = headers.get(header::AUTHORIZATION) {
        let h = h
            .to_str()
            .map_err(|_| invalid_request("malformed Authorization header"))?;
        let (client_id, secret) = parse_basic(h)?;
        if body_secret.is_some() {
            return Err(invalid_request(
                "use one client authentication method: Basic or client_secret, not both",
            ));
        }
        if body_id.is_some_and(|b| b != client_id) {
            return Err(invalid_request(
                "client_id differs from the Basic credentials",
            ));
        }
        ClientCredentials::Basic { client_id, secret }
    } else {
        match (body_id, body_secret) {
            (Some(id), Some(secret)) => ClientCredentials::Post {
                client_id: id.to_owned(),
                secret: secret.to_owned(),
            },
            (Some(id), None) => ClientCredentials::None {
                client_id: id.to_owned(),
            },
            (None, _) => {
                return Err(ProtocolError(OAuthError::InvalidClient {
                    message: "client authentication required".into(),
                    basic: false,
                }))
            }
        }
    };
    Ok(ClientAuth {
        credentials,
        address,
        request_id,
        dpop: None,
        proven: None,
    })
}
