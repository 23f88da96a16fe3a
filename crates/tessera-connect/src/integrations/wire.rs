//! What both tools share on an open WebSocket: the authentication string, the request ids,
//! sending and receiving JSON messages, and the text for an answer out of protocol.

use aws_lc_rs::digest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError as WsProtocolError};
use tokio_tungstenite::tungstenite::Message;

use super::connect::Ws;
use super::tool::{Target, Tool};
use super::TestOutcome;

/// The obs-websocket authentication string, which Streamer.bot uses too:
/// `base64(sha256(base64(sha256(password + salt)) + challenge))`, standard base64 with padding
/// (obs-websocket protocol.md, "Creating an authentication string").
pub(super) fn auth_response(password: &str, salt: &str, challenge: &str) -> String {
    let secret = STANDARD.encode(digest::digest(
        &digest::SHA256,
        format!("{password}{salt}").as_bytes(),
    ));
    STANDARD.encode(digest::digest(
        &digest::SHA256,
        format!("{secret}{challenge}").as_bytes(),
    ))
}

/// A test's own identifiers for its requests; a test session sends each request once.
pub(super) const OBS_VERSION_REQUEST_ID: &str = "tessera-connection-test";
pub(super) const STREAMERBOT_AUTH_ID: &str = "tessera-authenticate";
pub(super) const STREAMERBOT_INFO_ID: &str = "tessera-get-info";

/// The next meaningful thing the server did.
pub(super) enum Incoming {
    Json(Value),
    NotJson(&'static str),
    Closed(Option<(u16, String)>),
    Broken(WsError),
}

pub(super) async fn receive(ws: &mut Ws) -> Incoming {
    loop {
        return match ws.next().await {
            Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                Ok(value) => Incoming::Json(value),
                Err(_) => Incoming::NotJson("text that is not JSON"),
            },
            Some(Ok(Message::Binary(_))) => Incoming::NotJson("a binary message"),
            Some(Ok(Message::Close(frame))) => {
                Incoming::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string())))
            }
            // tungstenite answers pings itself.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            None
            | Some(Err(
                WsError::ConnectionClosed
                | WsError::AlreadyClosed
                | WsError::Protocol(WsProtocolError::ResetWithoutClosingHandshake),
            )) => Incoming::Closed(None),
            Some(Err(e)) => Incoming::Broken(e),
        };
    }
}

/// Reads until the answer to request `id` (both protocols tag answers with the request's id),
/// skipping events and other traffic.
pub(super) async fn receive_answer(
    ws: &mut Ws,
    id_field: &[&str],
    id: &str,
) -> Result<Value, Incoming> {
    loop {
        match receive(ws).await {
            Incoming::Json(value) => {
                let mut field = &value;
                for key in id_field {
                    field = &field[*key];
                }
                if field == id {
                    return Ok(value);
                }
            }
            other => return Err(other),
        }
    }
}

pub(super) async fn send(ws: &mut Ws, value: &Value) -> Result<(), Incoming> {
    ws.send(Message::text(value.to_string()))
        .await
        .map_err(|e| match e {
            WsError::ConnectionClosed | WsError::AlreadyClosed => Incoming::Closed(None),
            e => Incoming::Broken(e),
        })
}

/// The other side did something its protocol does not allow at this point.
pub(super) fn unexpected(tool: Tool, target: &Target, while_: &str, got: Incoming) -> TestOutcome {
    let what = match got {
        Incoming::Json(_) => "sent a message that is not part of the protocol".to_owned(),
        Incoming::NotJson(what) => format!("sent {what}"),
        Incoming::Closed(None) => "closed the connection".to_owned(),
        Incoming::Closed(Some((code, reason))) if reason.is_empty() => {
            format!("closed the connection (code {code})")
        }
        Incoming::Closed(Some((code, reason))) => {
            format!("closed the connection (code {code}: {reason})")
        }
        Incoming::Broken(e) => format!("broke off the connection ({e})"),
    };
    TestOutcome::ProtocolError {
        message: format!(
            "{} {what} while {while_} — {}",
            target.address,
            tool.wrong_server_hint()
        ),
    }
}

/// A configured but empty password is no password.
pub(super) fn configured(password: Option<&str>) -> Option<&str> {
    password.filter(|p| !p.is_empty())
}

/// Reads the `challenge` and `salt` of a Hello's `authentication` object, if it has one.
pub(super) fn challenge(hello_auth: &Value) -> Option<Option<(&str, &str)>> {
    if hello_auth.is_null() {
        return Some(None);
    }
    match (
        hello_auth["challenge"].as_str(),
        hello_auth["salt"].as_str(),
    ) {
        (Some(challenge), Some(salt)) => Some(Some((challenge, salt))),
        _ => None,
    }
}
