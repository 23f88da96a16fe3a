//! Which tool a test talks to ([`Tool`], with the hints its messages give) and where
//! ([`Target`], the address in the forms the messages and the handshake need).

#[derive(Debug, Clone, Copy)]
pub(super) enum Tool {
    Obs,
    StreamerBot,
}

impl Tool {
    pub(super) fn name(self) -> &'static str {
        match self {
            Tool::Obs => "OBS",
            Tool::StreamerBot => "Streamer.bot",
        }
    }

    /// Where the user finds the WebSocket server's port and password in the tool itself.
    pub(super) fn settings(self) -> &'static str {
        match self {
            Tool::Obs => "Tools → obs-websocket Settings",
            Tool::StreamerBot => "Servers/Clients → WebSocket Server",
        }
    }

    pub(super) fn not_running_hint(self) -> &'static str {
        match self {
            Tool::Obs => "is OBS running with its WebSocket server enabled?",
            Tool::StreamerBot => "is Streamer.bot running with its WebSocket server started?",
        }
    }

    pub(super) fn wrong_server_hint(self) -> String {
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
    pub(super) fn subprotocol(self) -> Option<&'static str> {
        match self {
            Tool::Obs => Some("obswebsocket.json"),
            Tool::StreamerBot => None,
        }
    }
}

/// Where to connect, in the forms the messages and the handshake need.
pub(super) struct Target {
    /// Without brackets, for name resolution.
    pub(super) host: String,
    pub(super) port: u16,
    /// `host:port`, IPv6 in brackets, for messages.
    pub(super) address: String,
    pub(super) endpoint: String,
    pub(super) url: String,
}

impl Target {
    pub(super) fn new(host: &str, port: u16, endpoint: &str) -> Self {
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
