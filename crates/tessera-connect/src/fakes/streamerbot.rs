//! A fake Streamer.bot WebSocket server on 127.0.0.1 for the connection tests, speaking the
//! protocol of <https://docs.streamer.bot/api/websocket>: Hello (with a fresh challenge and salt
//! when a password is set), `Authenticate` checked against the password (status "error" and a
//! close when wrong), and `GetInfo`. Only the configured endpoint upgrades; any other path gets
//! HTTP 404 in the handshake.

use std::sync::Arc;

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use super::obs::{
    auth_string, close, hold_silently, listen, random_token, receive, send, Received, Server,
};

/// A fake Streamer.bot; stops when dropped.
pub struct FakeStreamerBot {
    pub port: u16,
    server: Server,
}

impl FakeStreamerBot {
    /// Answers as Streamer.bot `version` at `endpoint` (e.g. "/"), requiring `password` if there
    /// is one.
    pub async fn start(password: Option<&str>, version: &str, endpoint: &str) -> Self {
        let endpoint = if endpoint.starts_with('/') {
            endpoint.to_owned()
        } else {
            format!("/{endpoint}")
        };
        let config = Arc::new(Config {
            password: password.map(str::to_owned),
            version: version.to_owned(),
            endpoint,
            instance_id: uuid_like(),
        });
        let server = listen(move |stream| session(stream, Arc::clone(&config))).await;
        FakeStreamerBot {
            port: server.port,
            server,
        }
    }

    /// Accepts TCP connections and never answers: the client must time out.
    pub async fn silent() -> Self {
        let server = listen(hold_silently).await;
        FakeStreamerBot {
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
    version: String,
    endpoint: String,
    instance_id: String,
}

impl Config {
    fn info(&self) -> Value {
        json!({
            "instanceId": self.instance_id,
            "name": "Streamer.bot",
            "os": "windows",
            "osVersion": "Microsoft Windows NT 10.0.22631.0",
            "version": self.version,
            "source": "streamerbot",
        })
    }
}

/// RFC 6455 close code 1008 (policy violation) for a client that failed to authenticate.
const CLOSE_POLICY_VIOLATION: u16 = 1008;

async fn session(stream: TcpStream, config: Arc<Config>) {
    let endpoint = config.endpoint.clone();
    #[allow(clippy::result_large_err)] // the signature is tungstenite's Callback
    let check_path =
        move |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
            if request.uri().path() == endpoint {
                Ok(response)
            } else {
                let mut refusal = ErrorResponse::new(Some("Not Found".to_owned()));
                *refusal.status_mut() = StatusCode::NOT_FOUND;
                Err(refusal)
            }
        };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check_path).await else {
        return;
    };

    // A new challenge and salt per connection.
    let auth = config
        .password
        .as_deref()
        .map(|password| (password, random_token(), random_token()));
    let mut hello = json!({
        "request": "Hello",
        "info": config.info(),
        "timestamp": "2024-06-01T12:00:00.0000000+00:00",
        "session": uuid_like(),
    });
    if let Some((_, challenge, salt)) = &auth {
        hello["authentication"] = json!({"challenge": challenge, "salt": salt});
    }
    if send(&mut ws, &hello).await.is_err() {
        return;
    }

    let mut authenticated = auth.is_none();
    loop {
        let request = match receive(&mut ws).await {
            Received::Json(v) => v,
            Received::Undecodable => {
                let reply = json!({"status": "error", "error": "Invalid request"});
                if send(&mut ws, &reply).await.is_err() {
                    return;
                }
                continue;
            }
            Received::Gone => return,
        };
        let id = request["id"].clone();
        let reply = match (request["request"].as_str(), &auth) {
            (Some("Authenticate"), None) => json!({"id": id, "status": "ok"}),
            (Some("Authenticate"), Some((password, challenge, salt))) => {
                let expected = auth_string(password, salt, challenge);
                if request["authentication"].as_str() == Some(expected.as_str()) {
                    authenticated = true;
                    json!({"id": id, "status": "ok"})
                } else {
                    let reply =
                        json!({"id": id, "status": "error", "error": "Authentication failed"});
                    if send(&mut ws, &reply).await.is_ok() {
                        close(&mut ws, CLOSE_POLICY_VIOLATION, "Authentication failed").await;
                    }
                    return;
                }
            }
            (Some(_), _) if !authenticated => {
                json!({"id": id, "status": "error", "error": "Authentication required"})
            }
            (Some("GetInfo"), _) => json!({"id": id, "status": "ok", "info": config.info()}),
            _ => json!({"id": id, "status": "error", "error": "Unknown request"}),
        };
        if send(&mut ws, &reply).await.is_err() {
            return;
        }
    }
}

/// A random identifier in the 8-4-4-4-12 form Streamer.bot uses for instances and sessions.
fn uuid_like() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
