//! The Connections API of an organization, under `/orgs/{org}/api/v1` (and `/t/{org}/api/v1`):
//! platform cards, app credentials, connect / callback / disconnect, the fresh-token API for
//! consumers, integrations (OBS, Streamer.bot), StreamElements tokens and bot connections;
//! and the system-wide platform switches under `/api/v1/system/providers`.
//!
//! Handlers parse, call one service and render. The callback is the one route a browser
//! reaches from a platform: it always answers with a redirect to the Connections page, with
//! `connected=` or a readable `error=`, never with an error page.

pub(crate) mod cards;
pub(crate) mod connect;
pub(crate) mod credentials;
pub(crate) mod integrations;
pub(crate) mod providers;
pub(crate) mod streamelements;
pub(crate) mod token;

use axum::routing::{delete, get, patch, post, put};
use axum::Router;

use crate::{paths, AppState};

pub(crate) use cards::{bots, cards};
pub(crate) use connect::{authorize, authorize_bot, callback, disconnect, disconnect_bot};
pub(crate) use credentials::{delete_credentials, list_credentials, put_credentials};
pub(crate) use integrations::{
    create_integration, delete_integration, list_integrations, test_integration, update_integration,
};
pub(crate) use providers::{list_providers, patch_provider};
pub(crate) use streamelements::{add_se, delete_se, list_se};
pub(crate) use token::token;

/// Where the console shows connections; the callback sends the browser back there.
pub const DASHBOARD_CONNECTIONS: &str = "/dashboard/connections";
pub const DASHBOARD_BOT: &str = "/dashboard/connections/bot";

/// Routes relative to `/orgs/{org}/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::CONNECTIONS, get(cards))
        .route(paths::CONNECTIONS_CREDENTIALS, get(list_credentials))
        .route(
            paths::CONNECTIONS_CREDENTIALS_PLATFORM,
            put(put_credentials).delete(delete_credentials),
        )
        .route(paths::CONNECTIONS_PLATFORM, delete(disconnect))
        .route(paths::CONNECTIONS_PLATFORM_AUTHORIZE, post(authorize))
        .route(paths::CONNECTIONS_PLATFORM_CALLBACK, get(callback))
        .route(paths::CONNECTIONS_PLATFORM_TOKEN, get(token))
        .route(
            paths::INTEGRATIONS,
            get(list_integrations).post(create_integration),
        )
        .route(
            paths::INTEGRATIONS_ID,
            patch(update_integration).delete(delete_integration),
        )
        .route(paths::INTEGRATIONS_ID_TEST, post(test_integration))
        .route(paths::STREAMELEMENTS_TOKENS, get(list_se).post(add_se))
        .route(paths::STREAMELEMENTS_TOKENS_ID, delete(delete_se))
        .route(paths::BOT_CONNECTIONS, get(bots))
        .route(
            paths::BOT_CONNECTIONS_PLATFORM_AUTHORIZE,
            post(authorize_bot),
        )
        .route(paths::BOT_CONNECTIONS_PLATFORM, delete(disconnect_bot))
}

/// Routes relative to `/api/v1/system`.
pub fn system_router() -> Router<AppState> {
    Router::new()
        .route(paths::PROVIDERS, get(list_providers))
        .route(paths::PROVIDERS_PLATFORM, patch(patch_provider))
        .route(
            paths::DISCORD_BOT,
            get(providers::get_discord_bot)
                .put(providers::put_discord_bot)
                .delete(providers::delete_discord_bot),
        )
}
