//! The "Test Connection" button of the integrations: a short WebSocket session with OBS Studio
//! (obs-websocket v5) or Streamer.bot on the streamer's network that proves the address, the
//! port and the password are right, and reads the tool's version for the success message.
//!
//! Protocols: <https://github.com/obsproject/obs-websocket/blob/master/docs/generated/protocol.md>
//! and <https://docs.streamer.bot/api/websocket>. Both authenticate the same way (a salted,
//! challenged SHA-256, see `auth_response`) so the password never crosses the network.
//!
//! Every failure becomes a [`TestOutcome`] with a sentence for the console that says which of
//! the usual causes it is: a timeout (firewall, wrong host), a refusal (tool not running, wrong
//! port), a rejected password, or something on that port that is not the tool.

use std::net::SocketAddr;
use std::time::Duration;

use aws_lc_rs::digest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError as WsProtocolError};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What a connection test found. `message()` is the sentence shown inline in the console.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TestOutcome {
    /// The handshake, the authentication (if any) and the version request all succeeded.
    Connected { version: String, message: String },
    /// The tool wants a password and the configured one is wrong, or none is configured.
    AuthFailed { message: String },
    /// The test did not finish within its time limit (typically a firewall dropping packets).
    TimedOut { message: String },
    /// No connection could be opened: refused, unreachable, or the host name did not resolve.
    Unreachable { message: String },
    /// Something answered, but not as obs-websocket v5 / Streamer.bot does.
    ProtocolError { message: String },
}

impl TestOutcome {
    /// The sentence for the console.
    pub fn message(&self) -> &str {
        match self {
            TestOutcome::Connected { message, .. }
            | TestOutcome::AuthFailed { message }
            | TestOutcome::TimedOut { message }
            | TestOutcome::Unreachable { message }
            | TestOutcome::ProtocolError { message } => message,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, TestOutcome::Connected { .. })
    }
}

/// Tests an obs-websocket v5 server (built into OBS Studio 28 and later): Hello, Identify (with
/// the password when the server asks for one), then `GetVersion` for the OBS version.
pub async fn test_obs(
    host: &str,
    port: u16,
    password: Option<&str>,
    timeout: Duration,
) -> TestOutcome {
    let target = Target::new(host, port, "/");
    run(Tool::Obs, &target, password, timeout).await
}

/// Tests a Streamer.bot WebSocket server: Hello, `Authenticate` (when the server asks for it),
/// then `GetInfo` for the Streamer.bot version.
pub async fn test_streamerbot(
    host: &str,
    port: u16,
    endpoint: &str,
    password: Option<&str>,
    timeout: Duration,
) -> TestOutcome {
    let target = Target::new(host, port, endpoint);
    run(Tool::StreamerBot, &target, password, timeout).await
}

/// The obs-websocket authentication string, which Streamer.bot uses too:
/// `base64(sha256(base64(sha256(password + salt)) + challenge))`, standard base64 with padding
/// (obs-websocket protocol.md, "Creating an authentication string").
fn auth_response(password: &str, salt: &str, challenge: &str) -> String {
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
const OBS_VERSION_REQUEST_ID: &str = "tessera-connection-test";
const STREAMERBOT_AUTH_ID: &str = "tessera-authenticate";
const STREAMERBOT_INFO_ID: &str = "tessera-get-info";

/// Both tools answer in a few kilobytes; the limit keeps a wrong address that streams data at
/// us from filling memory.
const MAX_MESSAGE_BYTES: usize = 1 << 20;

type Ws = WebSocketStream<TcpStream>;

#[derive(Debug, Clone, Copy)]
enum Tool {
    Obs,
    StreamerBot,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Obs => "OBS",
            Tool::StreamerBot => "Streamer.bot",
        }
    }

    /// Where the user finds the WebSocket server's port and password in the tool itself.
    fn settings(self) -> &'static str {
        match self {
            Tool::Obs => "Tools → obs-websocket Settings",
            Tool::StreamerBot => "Servers/Clients → WebSocket Server",
        }
    }

    fn not_running_hint(self) -> &'static str {
        match self {
            Tool::Obs => "is OBS running with its WebSocket server enabled?",
            Tool::StreamerBot => "is Streamer.bot running with its WebSocket server started?",
        }
    }

    fn wrong_server_hint(self) -> String {
        match self {
            Tool::Obs => format!(
                "check that this is the port of OBS's WebSocket server ({}); OBS 28 or later is required.",
                self.settings()
            ),
            Tool::StreamerBot => format!(
                "check the port and endpoint against Streamer.bot's WebSocket server ({}).",
                self.settings()
            ),
        }
    }

    /// obs-websocket v5 negotiates its encoding with a subprotocol (protocol.md, "Connecting to
    /// obs-websocket"); asking for `obswebsocket.json` pins JSON, and its confirmation shows the
    /// server is v5. Streamer.bot has no subprotocol.
    fn subprotocol(self) -> Option<&'static str> {
        match self {
            Tool::Obs => Some("obswebsocket.json"),
            Tool::StreamerBot => None,
        }
    }
}

/// Where to connect, in the forms the messages and the handshake need.
struct Target {
    /// Without brackets, for name resolution.
    host: String,
    port: u16,
    /// `host:port`, IPv6 in brackets, for messages.
    address: String,
    endpoint: String,
    url: String,
}

impl Target {
    fn new(host: &str, port: u16, endpoint: &str) -> Self {
        let host = host.trim();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        // An IPv6 literal must be bracketed in a URL (RFC 3986 §3.2.2) and in `host:port`.
        let authority_host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let endpoint = endpoint.trim();
        let endpoint = if endpoint.starts_with('/') {
            endpoint.to_owned()
        } else {
            format!("/{endpoint}")
        };
        let address = format!("{authority_host}:{port}");
        Target {
            host: host.to_owned(),
            port,
            url: format!("ws://{address}{endpoint}"),
            address,
            endpoint,
        }
    }
}

/// How far a test got, so that a timeout can say where it stopped.
#[derive(Debug, Clone, Copy)]
enum Progress {
    Resolving,
    Connecting,
    Talking,
}

/// Runs one test under one deadline: name resolution, TCP connect, WebSocket handshake and the
/// tool's own exchange all count against `timeout`, and running out at any of them is
/// [`TestOutcome::TimedOut`]. The WebSocket is then closed politely within what remains.
async fn run(
    tool: Tool,
    target: &Target,
    password: Option<&str>,
    timeout: Duration,
) -> TestOutcome {
    let deadline = Instant::now() + timeout;
    let mut progress = Progress::Resolving;
    let attempt = tokio::time::timeout_at(deadline, async {
        let mut ws = open(tool, target, &mut progress).await?;
        let outcome = match tool {
            Tool::Obs => obs_session(&mut ws, target, password).await,
            Tool::StreamerBot => streamerbot_session(&mut ws, target, password).await,
        };
        Ok::<_, TestOutcome>((outcome, ws))
    })
    .await;
    let outcome = match attempt {
        Ok(Ok((outcome, ws))) => {
            close_politely(ws, deadline).await;
            outcome
        }
        Ok(Err(outcome)) => outcome,
        Err(_elapsed) => timed_out(tool, target, timeout, progress),
    };
    tracing::debug!(
        tool = tool.name(),
        address = %target.address,
        ?outcome,
        "integration connection test finished"
    );
    outcome
}

/// Resolves, connects and does the WebSocket handshake, each failure with its own message.
async fn open(tool: Tool, target: &Target, progress: &mut Progress) -> Result<Ws, TestOutcome> {
    let mut request = target.url.as_str().into_client_request().map_err(|e| {
        TestOutcome::Unreachable {
            message: format!(
                "Could not connect to {}: {} is not a valid WebSocket address ({e}) — check the host and endpoint.",
                target.address, target.url
            ),
        }
    })?;
    if let Some(subprotocol) = tool.subprotocol() {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(subprotocol),
        );
    }

    *progress = Progress::Resolving;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| TestOutcome::Unreachable {
            message: format!(
                "Could not connect to {}: the host name could not be resolved ({e}) — check the host.",
                target.address
            ),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(TestOutcome::Unreachable {
            message: format!(
                "Could not connect to {}: the host name has no address — check the host.",
                target.address
            ),
        });
    }

    *progress = Progress::Connecting;
    let tcp = TcpStream::connect(&addrs[..])
        .await
        .map_err(|e| connect_failed(tool, target, &e))?;
    // The exchange is a few small request/answer messages; Nagle would only delay them.
    let _ = tcp.set_nodelay(true);

    *progress = Progress::Talking;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let (ws, _response) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .map_err(|e| handshake_failed(tool, target, e))?;
    Ok(ws)
}

fn connect_failed(tool: Tool, target: &Target, e: &std::io::Error) -> TestOutcome {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused => TestOutcome::Unreachable {
            message: format!(
                "Could not connect to {}: connection refused — {}",
                target.address,
                tool.not_running_hint()
            ),
        },
        // The operating system gave up before our own deadline.
        ErrorKind::TimedOut => TestOutcome::TimedOut {
            message: connect_timeout_message(tool, target, "the operating system's limit"),
        },
        _ => TestOutcome::Unreachable {
            message: format!(
                "Could not connect to {}: {e} — check the host, and that Tessera's server can reach it on your network.",
                target.address
            ),
        },
    }
}

fn handshake_failed(tool: Tool, target: &Target, e: WsError) -> TestOutcome {
    let message = match &e {
        // Streamer.bot answers an unknown path with an HTTP error instead of upgrading.
        WsError::Http(response)
            if matches!(tool, Tool::StreamerBot) && response.status().as_u16() == 404 =>
        {
            format!(
            "{} has no WebSocket server at the endpoint \"{}\" (HTTP 404) — check the endpoint under {}.",
            target.address,
            target.endpoint,
            tool.settings()
        )
        }
        WsError::Http(response) => format!(
            "{} answered HTTP {} instead of opening a WebSocket at \"{}\" — {}",
            target.address,
            response.status(),
            target.endpoint,
            tool.wrong_server_hint()
        ),
        // obs-websocket v5 always confirms the `obswebsocket.json` subprotocol; v4 and other
        // servers do not.
        WsError::Protocol(WsProtocolError::SecWebSocketSubProtocolError(_)) => format!(
            "{} is not obs-websocket 5: it did not accept the obswebsocket.json subprotocol — {}",
            target.address,
            tool.wrong_server_hint()
        ),
        _ => format!(
            "The WebSocket handshake with {} failed ({e}) — {}",
            target.address,
            tool.wrong_server_hint()
        ),
    };
    TestOutcome::ProtocolError { message }
}

fn connect_timeout_message(tool: Tool, target: &Target, after: &str) -> String {
    format!(
        "Timed out after {after} connecting to {} — check that {} is running, the port is right, and no firewall or router blocks it.",
        target.address,
        tool.name()
    )
}

fn timed_out(tool: Tool, target: &Target, timeout: Duration, progress: Progress) -> TestOutcome {
    let after = human_duration(timeout);
    let message = match progress {
        Progress::Resolving => format!(
            "Timed out after {after} looking up the host of {} — check the host name and that Tessera's server can resolve it.",
            target.address
        ),
        Progress::Connecting => connect_timeout_message(tool, target, &after),
        // The port accepted the connection, so no firewall is in the way: whatever listens there
        // does not speak the tool's protocol (or is hung).
        Progress::Talking => format!(
            "Timed out after {after} waiting for {} to answer at {} — the port accepted the connection but nothing answered; {}",
            tool.name(),
            target.address,
            tool.wrong_server_hint()
        ),
    };
    TestOutcome::TimedOut { message }
}

fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if d.subsec_millis() == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// RFC 6455 §7.1.1: send a Close frame, then wait for the server's Close and its end of the TCP
/// connection — but never past the test's deadline (the outcome is already known).
async fn close_politely(mut ws: Ws, deadline: Instant) {
    let _ = tokio::time::timeout_at(deadline, async {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        if ws.close(Some(frame)).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

/// The next meaningful thing the server did.
enum Incoming {
    Json(Value),
    NotJson(&'static str),
    Closed(Option<(u16, String)>),
    Broken(WsError),
}

async fn receive(ws: &mut Ws) -> Incoming {
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
async fn receive_answer(ws: &mut Ws, id_field: &[&str], id: &str) -> Result<Value, Incoming> {
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

async fn send(ws: &mut Ws, value: &Value) -> Result<(), Incoming> {
    ws.send(Message::text(value.to_string()))
        .await
        .map_err(|e| match e {
            WsError::ConnectionClosed | WsError::AlreadyClosed => Incoming::Closed(None),
            e => Incoming::Broken(e),
        })
}

/// The other side did something its protocol does not allow at this point.
fn unexpected(tool: Tool, target: &Target, while_: &str, got: Incoming) -> TestOutcome {
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
fn configured(password: Option<&str>) -> Option<&str> {
    password.filter(|p| !p.is_empty())
}

/// Reads the `challenge` and `salt` of a Hello's `authentication` object, if it has one.
fn challenge(hello_auth: &Value) -> Option<Option<(&str, &str)>> {
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

async fn obs_session(ws: &mut Ws, target: &Target, password: Option<&str>) -> TestOutcome {
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

async fn streamerbot_session(ws: &mut Ws, target: &Target, password: Option<&str>) -> TestOutcome {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::obs::FakeObs;
    use crate::fakes::streamerbot::FakeStreamerBot;

    const LOCALHOST: &str = "127.0.0.1";
    const PATIENT: Duration = Duration::from_secs(5);
    const SHORT: Duration = Duration::from_millis(300);

    /// A port nothing listens on: bound, then released.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    }

    #[test]
    fn auth_string_matches_an_independently_computed_vector() {
        // The example of obs-websocket's protocol.md, computed with Python's hashlib/base64:
        // secret = b64(sha256("supersecretpassword" + salt)) =
        // "Ln68W1UNXYyY7xDwp+h5foYLI6bzI1qZjKokTa5ZdwE=".
        assert_eq!(
            auth_response(
                "supersecretpassword",
                "PZVbYpvAnZut2SS6JNJytDm9",
                "ztTBnnuqrqaKDzRM3xcVdbYm"
            ),
            "zZgWipvwSGrw748kHN4gNpBC1IaeiiWX3Hjkrm849Sc="
        );
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        for host in ["::1", "[::1]", " ::1 "] {
            let target = Target::new(host, 4455, "/");
            assert_eq!(target.url, "ws://[::1]:4455/");
            assert_eq!(target.address, "[::1]:4455");
            assert_eq!(target.host, "::1");
        }
        let target = Target::new("obs.lan", 8080, "ws");
        assert_eq!(target.url, "ws://obs.lan:8080/ws");
        assert_eq!(target.endpoint, "/ws");
        assert_eq!(
            Target::new("127.0.0.1", 8080, "").url,
            "ws://127.0.0.1:8080/"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(5)), "5 s");
        assert_eq!(human_duration(Duration::from_millis(300)), "300 ms");
        assert_eq!(human_duration(Duration::from_millis(2500)), "2.5 s");
    }

    #[test]
    fn outcomes_serialize_with_their_result() {
        let outcome = TestOutcome::Connected {
            version: "30.1.2".into(),
            message: "Connected to OBS 30.1.2 successfully!".into(),
        };
        assert!(outcome.is_success());
        assert_eq!(
            serde_json::to_value(&outcome).unwrap(),
            json!({
                "result": "connected",
                "version": "30.1.2",
                "message": "Connected to OBS 30.1.2 successfully!",
            })
        );
        let outcome = TestOutcome::AuthFailed {
            message: "no".into(),
        };
        assert!(!outcome.is_success());
        assert_eq!(outcome.message(), "no");
        assert_eq!(
            serde_json::to_value(&outcome).unwrap()["result"],
            "auth_failed"
        );
    }

    #[tokio::test]
    async fn obs_without_password() {
        let obs = FakeObs::start(None, "30.1.2").await;
        let outcome = test_obs(LOCALHOST, obs.port, None, PATIENT).await;
        assert_eq!(
            outcome,
            TestOutcome::Connected {
                version: "30.1.2".into(),
                message: "Connected to OBS 30.1.2 successfully!".into(),
            }
        );
        assert_eq!(outcome.message(), "Connected to OBS 30.1.2 successfully!");
        assert_eq!(obs.connections(), 1);
    }

    #[tokio::test]
    async fn obs_with_password() {
        let obs = FakeObs::start(Some("hunter2"), "30.1.2").await;
        let outcome = test_obs(LOCALHOST, obs.port, Some("hunter2"), PATIENT).await;
        assert!(outcome.is_success(), "{outcome:?}");
        assert_eq!(outcome.message(), "Connected to OBS 30.1.2 successfully!");
    }

    #[tokio::test]
    async fn obs_ignores_a_password_it_does_not_ask_for() {
        let obs = FakeObs::start(None, "31.0.0").await;
        let outcome = test_obs(LOCALHOST, obs.port, Some("unused"), PATIENT).await;
        assert_eq!(outcome.message(), "Connected to OBS 31.0.0 successfully!");
    }

    #[tokio::test]
    async fn obs_wrong_password() {
        let obs = FakeObs::start(Some("hunter2"), "30.1.2").await;
        let outcome = test_obs(LOCALHOST, obs.port, Some("hunter3"), PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::AuthFailed { .. }),
            "{outcome:?}"
        );
        assert_eq!(
            outcome.message(),
            "Authentication failed: OBS rejected the password. Check it under Tools → obs-websocket Settings."
        );
    }

    #[tokio::test]
    async fn obs_password_required_but_missing() {
        let obs = FakeObs::start(Some("hunter2"), "30.1.2").await;
        for password in [None, Some("")] {
            let outcome = test_obs(LOCALHOST, obs.port, password, PATIENT).await;
            assert!(
                matches!(outcome, TestOutcome::AuthFailed { .. }),
                "{outcome:?}"
            );
            assert!(
                outcome.message().contains("OBS requires a password"),
                "{outcome:?}"
            );
        }
    }

    #[tokio::test]
    async fn obs_silent_server_times_out() {
        let obs = FakeObs::silent().await;
        let started = std::time::Instant::now();
        let outcome = test_obs(LOCALHOST, obs.port, None, SHORT).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(outcome, TestOutcome::TimedOut { .. }),
            "{outcome:?}"
        );
        assert!(
            outcome.message().starts_with("Timed out after 300 ms"),
            "{outcome:?}"
        );
        assert_eq!(obs.connections(), 1);
    }

    #[tokio::test]
    async fn obs_closed_port_is_unreachable() {
        let port = closed_port();
        let outcome = test_obs(LOCALHOST, port, None, PATIENT).await;
        assert_eq!(
            outcome,
            TestOutcome::Unreachable {
                message: format!(
                    "Could not connect to 127.0.0.1:{port}: connection refused — is OBS running with its WebSocket server enabled?"
                ),
            }
        );
    }

    #[tokio::test]
    async fn obs_test_against_streamerbot_is_a_protocol_error() {
        let bot = FakeStreamerBot::start(None, "0.2.4", "/").await;
        let outcome = test_obs(LOCALHOST, bot.port, None, PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::ProtocolError { .. }),
            "{outcome:?}"
        );
        assert!(
            outcome.message().contains("obswebsocket.json"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn streamerbot_without_password() {
        let bot = FakeStreamerBot::start(None, "0.2.4", "/").await;
        let outcome = test_streamerbot(LOCALHOST, bot.port, "/", None, PATIENT).await;
        assert_eq!(
            outcome,
            TestOutcome::Connected {
                version: "0.2.4".into(),
                message: "Connected to Streamer.bot 0.2.4 successfully!".into(),
            }
        );
        assert_eq!(bot.connections(), 1);
    }

    #[tokio::test]
    async fn streamerbot_with_password_and_endpoint() {
        let bot = FakeStreamerBot::start(Some("s3cret"), "0.2.5", "/ws").await;
        let outcome = test_streamerbot(LOCALHOST, bot.port, "/ws", Some("s3cret"), PATIENT).await;
        assert_eq!(
            outcome.message(),
            "Connected to Streamer.bot 0.2.5 successfully!"
        );
    }

    #[tokio::test]
    async fn streamerbot_wrong_password() {
        let bot = FakeStreamerBot::start(Some("s3cret"), "0.2.4", "/").await;
        let outcome = test_streamerbot(LOCALHOST, bot.port, "/", Some("nope"), PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::AuthFailed { .. }),
            "{outcome:?}"
        );
        assert!(
            outcome
                .message()
                .starts_with("Authentication failed: Streamer.bot rejected the password"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn streamerbot_password_required_but_missing() {
        let bot = FakeStreamerBot::start(Some("s3cret"), "0.2.4", "/").await;
        let outcome = test_streamerbot(LOCALHOST, bot.port, "/", None, PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::AuthFailed { .. }),
            "{outcome:?}"
        );
        assert!(
            outcome
                .message()
                .contains("Streamer.bot requires a password"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn streamerbot_silent_server_times_out() {
        let bot = FakeStreamerBot::silent().await;
        let started = std::time::Instant::now();
        let outcome = test_streamerbot(LOCALHOST, bot.port, "/", None, SHORT).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(outcome, TestOutcome::TimedOut { .. }),
            "{outcome:?}"
        );
        assert_eq!(bot.connections(), 1);
    }

    #[tokio::test]
    async fn streamerbot_closed_port_is_unreachable() {
        let port = closed_port();
        let outcome = test_streamerbot(LOCALHOST, port, "/", None, PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::Unreachable { .. }),
            "{outcome:?}"
        );
        assert!(
            outcome.message().contains("connection refused"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn streamerbot_wrong_endpoint_names_it() {
        let bot = FakeStreamerBot::start(None, "0.2.4", "/").await;
        let outcome = test_streamerbot(LOCALHOST, bot.port, "/wrong", None, PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::ProtocolError { .. }),
            "{outcome:?}"
        );
        assert!(outcome.message().contains("\"/wrong\""), "{outcome:?}");
        assert!(outcome.message().contains("404"), "{outcome:?}");
    }

    #[tokio::test]
    async fn streamerbot_test_against_obs_is_a_protocol_error() {
        let obs = FakeObs::start(None, "30.1.2").await;
        let outcome = test_streamerbot(LOCALHOST, obs.port, "/", None, PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::ProtocolError { .. }),
            "{outcome:?}"
        );
    }
}
