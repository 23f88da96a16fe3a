//! Fakes of the outside world for tests, on 127.0.0.1: the four platforms' OAuth endpoints and
//! APIs ([`platforms`]), an obs-websocket v5 server ([`obs`]) and a Streamer.bot WebSocket
//! server ([`streamerbot`]). Compiled for this crate's tests and with the `fakes` feature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod obs;
pub mod platforms;
pub mod streamerbot;
