//! A fake obs-websocket v5 server on 127.0.0.1 for the connection tests, speaking the protocol
//! of <https://github.com/obsproject/obs-websocket/blob/master/docs/generated/protocol.md>:
//! Hello with a fresh challenge and salt, Identify checked against the password (close code
//! 4009 AuthenticationFailed when wrong), and `GetVersion`. Also the listener both fakes share,
//! and a silent variant that accepts TCP connections and never answers.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The obs-websocket version the fake claims (the plugin's, not OBS's).
const OBS_WEBSOCKET_VERSION: &str = "5.4.2";
const SUBPROTOCOL: &str = "obswebsocket.json";

/// A fake OBS Studio; stops when dropped.
pub struct FakeObs {
    pub port: u16,
    server: Server,
}

impl FakeObs {
    /// Answers as OBS `obs_version`, requiring `password` if there is one.
    pub async fn start(password: Option<&str>, obs_version: &str) -> Self {
        let config = Arc::new(Config {
            password: password.map(str::to_owned),
            obs_version: obs_version.to_owned(),
        });
        let server = listen(move |stream| session(stream, Arc::clone(&config))).await;
        FakeObs {
            port: server.port,
            server,
        }
    }

    /// Accepts TCP connections and never answers: the client must time out.
    pub async fn silent() -> Self {
        let server = listen(hold_silently).await;
        FakeObs {
            port: server.port,
            server,
        }
    }

    /// How many clients connected (at the TCP level) so far.
    pub fn connections(&self) -> usize {
        self.server.connections()
    }
}

struct Config {
    password: Option<String>,
    obs_version: String,
}

/// obs-websocket's WebSocketCloseCode values the fake uses.
const CLOSE_MESSAGE_DECODE_ERROR: u16 = 4002;
const CLOSE_UNKNOWN_OP_CODE: u16 = 4006;
const CLOSE_NOT_IDENTIFIED: u16 = 4007;
const CLOSE_AUTHENTICATION_FAILED: u16 = 4009;
const CLOSE_UNSUPPORTED_RPC_VERSION: u16 = 4010;

async fn session(stream: TcpStream, config: Arc<Config>) {
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, select_subprotocol).await else {
        return;
    };
    // A new challenge and salt per connection, as obs-websocket does.
    let auth = config
        .password
        .as_deref()
        .map(|password| (password, random_token(), random_token()));

    let mut hello = json!({
        "op": 0,
        "d": {"obsWebSocketVersion": OBS_WEBSOCKET_VERSION, "rpcVersion": 1},
    });
    if let Some((_, challenge, salt)) = &auth {
        hello["d"]["authentication"] = json!({"challenge": challenge, "salt": salt});
    }
    if send(&mut ws, &hello).await.is_err() {
        return;
    }

    let identify = match receive(&mut ws).await {
        Received::Json(v) => v,
        Received::Undecodable => {
            return close(
                &mut ws,
                CLOSE_MESSAGE_DECODE_ERROR,
                "Unable to decode message.",
            )
            .await
        }
        Received::Gone => return,
    };
    if identify["op"] != 1 {
        return close(
            &mut ws,
            CLOSE_NOT_IDENTIFIED,
            "The client must identify first.",
        )
        .await;
    }
    if let Some((password, challenge, salt)) = &auth {
        let expected = auth_string(password, salt, challenge);
        if identify["d"]["authentication"].as_str() != Some(expected.as_str()) {
            return close(
                &mut ws,
                CLOSE_AUTHENTICATION_FAILED,
                "Authentication failed.",
            )
            .await;
        }
    }
    if identify["d"]["rpcVersion"] != 1 {
        return close(
            &mut ws,
            CLOSE_UNSUPPORTED_RPC_VERSION,
            "Your requested RPC version is not supported by this server.",
        )
        .await;
    }
    if send(&mut ws, &json!({"op": 2, "d": {"negotiatedRpcVersion": 1}}))
        .await
        .is_err()
    {
        return;
    }

    loop {
        let message = match receive(&mut ws).await {
            Received::Json(v) => v,
            Received::Undecodable => {
                return close(
                    &mut ws,
                    CLOSE_MESSAGE_DECODE_ERROR,
                    "Unable to decode message.",
                )
                .await
            }
            Received::Gone => return,
        };
        if message["op"] != 6 {
            return close(&mut ws, CLOSE_UNKNOWN_OP_CODE, "Unknown OpCode.").await;
        }
        let response = answer(&message["d"], &config.obs_version);
        if send(&mut ws, &response).await.is_err() {
            return;
        }
    }
}

/// OpCode 7 RequestResponse to an OpCode 6 Request; only `GetVersion` is known.
fn answer(request: &Value, obs_version: &str) -> Value {
    let request_type = request["requestType"].clone();
    let request_id = request["requestId"].clone();
    if request_type == "GetVersion" {
        json!({"op": 7, "d": {
            "requestType": request_type,
            "requestId": request_id,
            "requestStatus": {"result": true, "code": 100},
            "responseData": {
                "obsVersion": obs_version,
                "obsWebSocketVersion": OBS_WEBSOCKET_VERSION,
                "rpcVersion": 1,
                "availableRequests": ["GetVersion"],
                "supportedImageFormats": ["png", "jpg"],
                "platform": "linux",
                "platformDescription": "Tessera test fake",
            },
        }})
    } else {
        // RequestStatus 204 UnknownRequestType.
        json!({"op": 7, "d": {
            "requestType": request_type,
            "requestId": request_id,
            "requestStatus": {
                "result": false,
                "code": 204,
                "comment": "Your request type is not valid.",
            },
        }})
    }
}

/// obs-websocket picks `obswebsocket.json` when the client offers it and falls back to JSON
/// without confirming a subprotocol when the client offers none.
#[allow(clippy::result_large_err)] // the signature is tungstenite's Callback
fn select_subprotocol(
    request: &Request,
    mut response: Response,
) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim() == SUBPROTOCOL);
    if offered {
        response.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    Ok(response)
}

/// The authentication string, computed here independently of the client's code so that the
/// fakes check it rather than mirror it: base64(sha256(base64(sha256(password + salt)) +
/// challenge)).
pub(super) fn auth_string(password: &str, salt: &str, challenge: &str) -> String {
    let mut inner = digest::Context::new(&digest::SHA256);
    inner.update(password.as_bytes());
    inner.update(salt.as_bytes());
    let secret = STANDARD.encode(inner.finish());
    let mut outer = digest::Context::new(&digest::SHA256);
    outer.update(secret.as_bytes());
    outer.update(challenge.as_bytes());
    STANDARD.encode(outer.finish())
}

/// 32 random bytes in base64, like the servers' challenges and salts.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    STANDARD.encode(bytes)
}

pub(super) enum Received {
    Json(Value),
    Undecodable,
    Gone,
}

pub(super) async fn receive(ws: &mut WebSocketStream<TcpStream>) -> Received {
    loop {
        return match ws.next().await {
            Some(Ok(Message::Text(text))) => serde_json::from_str(text.as_str())
                .map(Received::Json)
                .unwrap_or(Received::Undecodable),
            Some(Ok(Message::Binary(_))) => Received::Undecodable,
            // After a Close, keep reading so that tungstenite sends the reply frame; the next
            // read then ends the stream.
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => Received::Gone,
        };
    }
}

pub(super) async fn send(
    ws: &mut WebSocketStream<TcpStream>,
    value: &Value,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    ws.send(Message::text(value.to_string())).await
}

/// Closes with `code` and waits for the client's Close (RFC 6455 §7.1.1).
pub(super) async fn close(ws: &mut WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    if ws.close(Some(frame)).await.is_ok() {
        while let Some(Ok(_)) = ws.next().await {}
    }
}

/// Keeps the connection open and says nothing, like a firewall that lets the SYN through to a
/// hung process.
pub(super) async fn hold_silently(stream: TcpStream) {
    let _stream = stream;
    std::future::pending::<()>().await;
}

/// A TCP listener on 127.0.0.1:0 that runs `handler` for each connection; stopping it (on
/// Drop) stops the connections too.
pub(super) struct Server {
    pub port: u16,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Server {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(super) async fn listen<H, F>(handler: H) -> Server
where
    H: Fn(TcpStream) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let task = tokio::spawn(async move {
        // The sessions live in this set, so aborting the task drops the set, which aborts them.
        let mut sessions = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            sessions.spawn(handler(stream));
            while sessions.try_join_next().is_some() {}
        }
    });
    Server {
        port,
        connections,
        task,
    }
}
