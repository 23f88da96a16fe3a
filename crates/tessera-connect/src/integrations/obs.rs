//! The OBS Studio session (obs-websocket v5): Hello, Identify (with the password when asked),
//! then `GetVersion`.

use serde_json::{json, Value};

use super::connect::Ws;
use super::tool::{Target, Tool};
use super::wire::{
    auth_response, challenge, configured, receive, receive_answer, send, unexpected, Incoming,
    OBS_VERSION_REQUEST_ID,
};
use super::TestOutcome;

pub(super) async fn obs_session(
    ws: &mut Ws,
    target: &Target,
    password: Option<&str>,
) -> TestOutcome {
    let tool = Tool::Obs;
    // OpCode 0 Hello: the server speaks first.
    let hello = match receive(ws).await {
        Incoming::Json(v) if v["op"] == 0 && v["d"]["rpcVersion"].is_u64() => v,
        other => return unexpected(tool, target, "Tessera waited for its Hello", other),
    };
    let Some(auth) = challenge(&hello["d"]["authentication"]) else {
        return unexpected(tool, target, "greeting", Incoming::Json(hello));
    };

    // OpCode 1 Identify, rpcVersion 1 (the only one there is), no event subscriptions: the test
    // only needs requests.
    let mut identify = json!({"op": 1, "d": {"rpcVersion": 1, "eventSubscriptions": 0}});
    if let Some((challenge, salt)) = auth {
        let Some(password) = configured(password) else {
            return TestOutcome::AuthFailed {
                message: format!(
                    "Authentication failed: OBS requires a password; enter the one set under {}.",
                    tool.settings()
                ),
            };
        };
        identify["d"]["authentication"] = Value::String(auth_response(password, salt, challenge));
    }
    if let Err(got) = send(ws, &identify).await {
        return unexpected(tool, target, "Tessera identified itself", got);
    }

    // OpCode 2 Identified, or the server closes with WebSocketCloseCode 4009
    // AuthenticationFailed.
    match receive(ws).await {
        Incoming::Json(v) if v["op"] == 2 => {}
        Incoming::Closed(Some((4009, _))) => {
            return TestOutcome::AuthFailed {
                message: format!(
                    "Authentication failed: OBS rejected the password. Check it under {}.",
                    tool.settings()
                ),
            };
        }
        other => return unexpected(tool, target, "Tessera identified itself", other),
    }

    // OpCode 6 Request GetVersion → OpCode 7 RequestResponse with the same requestId.
    let request = json!({
        "op": 6,
        "d": {"requestType": "GetVersion", "requestId": OBS_VERSION_REQUEST_ID},
    });
    if let Err(got) = send(ws, &request).await {
        return unexpected(tool, target, "Tessera asked for its version", got);
    }
    let response = match receive_answer(ws, &["d", "requestId"], OBS_VERSION_REQUEST_ID).await {
        Ok(v) if v["op"] == 7 => v,
        Ok(v) => {
            let got = Incoming::Json(v);
            return unexpected(tool, target, "Tessera asked for its version", got);
        }
        Err(got) => return unexpected(tool, target, "Tessera asked for its version", got),
    };
    let status = &response["d"]["requestStatus"];
    if status["result"] != true {
        return TestOutcome::ProtocolError {
            message: format!(
                "OBS at {} refused GetVersion (code {}{}).",
                target.address,
                status["code"],
                status["comment"]
                    .as_str()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            ),
        };
    }
    match response["d"]["responseData"]["obsVersion"].as_str() {
        Some(version) => TestOutcome::Connected {
            version: version.to_owned(),
            message: format!("Connected to OBS {version} successfully!"),
        },
        None => TestOutcome::ProtocolError {
            message: format!(
                "OBS at {} answered GetVersion without its version.",
                target.address
            ),
        },
    }
}
