//! One test under one deadline: resolving, connecting and the WebSocket handshake, each way
//! they fail (or time out) put into words, and the polite close at the end.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError as WsProtocolError};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use super::obs::obs_session;
use super::streamerbot::streamerbot_session;
use super::tool::{Target, Tool};
use super::TestOutcome;

/// Both tools answer in a few kilobytes; the limit keeps a wrong address that streams data at
/// us from filling memory.
const MAX_MESSAGE_BYTES: usize = 1 << 20;

pub(super) type Ws = WebSocketStream<TcpStream>;

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
pub(super) async fn run(
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

pub(super) fn human_duration(d: Duration) -> String {
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
