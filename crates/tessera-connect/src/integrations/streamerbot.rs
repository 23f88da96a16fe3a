//! The Streamer.bot session: Hello, `Authenticate` (when asked), then `GetInfo`, falling back
//! to the version the Hello told.

use serde_json::json;

use super::connect::Ws;
use super::tool::{Target, Tool};
use super::wire::{
    auth_response, challenge, configured, receive, receive_answer, send, unexpected, Incoming,
    STREAMERBOT_AUTH_ID, STREAMERBOT_INFO_ID,
};
use super::TestOutcome;

pub(super) async fn streamerbot_session(
    ws: &mut Ws,
    target: &Target,
    password: Option<&str>,
) -> TestOutcome {
    let tool = Tool::StreamerBot;
    // The server speaks first with `"request": "Hello"`.
    let hello = match receive(ws).await {
        Incoming::Json(v) if v["request"] == "Hello" => v,
        other => return unexpected(tool, target, "Tessera waited for its Hello", other),
    };
    let hello_version = hello["info"]["version"].as_str().map(str::to_owned);
    let Some(auth) = challenge(&hello["authentication"]) else {
        return unexpected(tool, target, "greeting", Incoming::Json(hello));
    };

    if let Some((challenge, salt)) = auth {
        let Some(password) = configured(password) else {
            return TestOutcome::AuthFailed {
                message: format!(
                    "Authentication failed: Streamer.bot requires a password; enter the one set under {}.",
                    tool.settings()
                ),
            };
        };
        let authenticate = json!({
            "request": "Authenticate",
            "id": STREAMERBOT_AUTH_ID,
            "authentication": auth_response(password, salt, challenge),
        });
        if let Err(got) = send(ws, &authenticate).await {
            return unexpected(tool, target, "Tessera sent the password", got);
        }
        match receive_answer(ws, &["id"], STREAMERBOT_AUTH_ID).await {
            Ok(v) if v["status"] == "ok" => {}
            // `"status": "error"` is Streamer.bot's answer to a wrong authentication string.
            Ok(_) => {
                return TestOutcome::AuthFailed {
                    message: format!(
                        "Authentication failed: Streamer.bot rejected the password. Check it under {}.",
                        tool.settings()
                    ),
                };
            }
            // Streamer.bot may drop a client whose password is wrong without answering.
            Err(Incoming::Closed(_)) => {
                return TestOutcome::AuthFailed {
                    message: format!(
                        "Authentication failed: Streamer.bot closed the connection when the password was sent. Check it under {}.",
                        tool.settings()
                    ),
                };
            }
            Err(got) => return unexpected(tool, target, "Tessera sent the password", got),
        }
    }

    let get_info = json!({"request": "GetInfo", "id": STREAMERBOT_INFO_ID});
    if let Err(got) = send(ws, &get_info).await {
        return unexpected(tool, target, "Tessera asked for its version", got);
    }
    let info_version = match receive_answer(ws, &["id"], STREAMERBOT_INFO_ID).await {
        Ok(v) if v["status"] == "ok" => v["info"]["version"].as_str().map(str::to_owned),
        // A Streamer.bot without GetInfo still told its version in the Hello.
        Ok(_) => None,
        Err(got) => return unexpected(tool, target, "Tessera asked for its version", got),
    };
    match info_version.or(hello_version) {
        Some(version) => TestOutcome::Connected {
            message: format!("Connected to Streamer.bot {version} successfully!"),
            version,
        },
        None => TestOutcome::ProtocolError {
            message: format!(
                "Streamer.bot at {} did not tell its version.",
                target.address
            ),
        },
    }
}
