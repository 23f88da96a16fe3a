//! What the fake remembers: per platform its apps, settings, call counts and the codes and
//! tokens it issued.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tessera_domain::Platform;

use super::FailMode;

/// What an issued code is bound to.
pub(super) struct Code {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) challenge: Option<String>,
    pub(super) scopes: Vec<String>,
}

/// What an issued token is bound to. `grant` ties the tokens of one authorization together
/// (revoking a refresh token ends its access tokens too); `seq` orders issuance.
#[derive(Clone)]
pub(super) struct Tok {
    pub(super) client_id: String,
    pub(super) grant: u64,
    pub(super) seq: u64,
    pub(super) scopes: Vec<String>,
}

/// One platform's state.
pub(super) struct Plat {
    pub(super) apps: HashMap<String, String>,
    pub(super) identity: (String, String),
    pub(super) expires_in: i64,
    pub(super) fail: Option<(FailMode, u32)>,
    pub(super) token_delay: Duration,
    pub(super) deny_next: bool,
    pub(super) calls: HashMap<String, u32>,
    /// Refreshes accepted, per app (client id).
    pub(super) refreshes: HashMap<String, u32>,
    /// Refresh tokens presented that were spent, revoked or never issued.
    pub(super) refused_refreshes: u32,
    pub(super) revoked: Vec<String>,
    pub(super) codes: HashMap<String, Code>,
    pub(super) access: HashMap<String, Tok>,
    pub(super) refresh: HashMap<String, Tok>,
    pub(super) last_authorize: Option<Vec<(String, String)>>,
}

pub(super) struct State0 {
    pub(super) plats: HashMap<Platform, Plat>,
    pub(super) counter: u64,
}

impl State0 {
    pub(super) fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    pub(super) fn plat(&mut self, p: Platform) -> &mut Plat {
        self.plats.get_mut(&p).expect("every platform has a state")
    }
}

pub(super) type Shared = Arc<Mutex<State0>>;
