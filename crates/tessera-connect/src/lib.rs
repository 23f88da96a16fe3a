//! Tessera's adapters to the outside: the streaming platforms' OAuth endpoints and APIs
//! (Twitch, YouTube, Kick, Trovo), the WebSocket connection tests of the tools on a
//! streamer's machine (OBS Studio through obs-websocket v5, Streamer.bot), and the public keys
//! that OAuth clients publish at their `jwks_uri`.
//!
//! This crate does I/O with the outside world and nothing else: it stores nothing and knows no
//! organization. The service layer (`tessera-core`) decides when to call it, keeps what it
//! returns in the vault, and records what happened in the audit log.

pub mod client_keys;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod integrations;
pub mod oauth;
pub mod platform;
pub mod trace;

pub use platform::{Pkce, ProviderConfig, ProviderOverrides, Providers};
