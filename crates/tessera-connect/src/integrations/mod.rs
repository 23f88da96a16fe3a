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

use std::time::Duration;

mod connect;
mod obs;
mod streamerbot;
mod tool;
mod wire;

use connect::run;
use tool::{Target, Tool};

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

#[cfg(test)]
mod tests;
