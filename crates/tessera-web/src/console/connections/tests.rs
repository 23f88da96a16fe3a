//! The three pages rendered with sample data, and the banners.

use askama::Template;

use super::super::forms::FieldErrors;
use super::super::views::tests::{check, layout, EVIL};
use super::*;

fn sample_linked(failed: bool) -> Linked {
    Linked {
        channel_name: EVIL.into(),
        channel_id: "123".into(),
        first_scopes: vec!["a".into(), "b".into(), "c".into()],
        more: 2,
        all_scopes: vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()],
        connected: "c".into(),
        updated: "u".into(),
        expiry: Some("Token expires 2026-01-01 00:00 UTC (auto-refresh)".into()),
        refresh_failed: failed,
        missing_scopes: vec![EVIL.into()],
    }
}

#[test]
fn the_connections_pages_render_with_sample_data() {
    let html = ConnectionsPage {
        l: layout(),
        cards: vec![
            Card {
                platform: "twitch",
                name: "Twitch",
                state: "connected",
                message: "Connected",
                linked: Some(sample_linked(true)),
            },
            Card {
                platform: "kick",
                name: "Kick",
                state: "not_configured",
                message: "Set up app credentials to connect this platform.",
                linked: None,
            },
        ],
        integrations: vec![IntegrationRow {
            id: "i-1".into(),
            kind: "OBS Studio",
            label: EVIL.into(),
            address: "127.0.0.1:4455/".into(),
            enabled: true,
            has_password: true,
            tested: Some((false, "Authentication failed".into())),
        }],
        tokens: vec![SeRow {
            id: "t-1".into(),
            platform: "Twitch",
            label: EVIL.into(),
            hint: "…wxyz".into(),
            created: "c".into(),
        }],
        platforms: vec![("twitch", "Twitch")],
        can_edit: true,
        can_create: true,
        can_delete: true,
        can_bots: true,
        system_admin: true,
        forms: ConnectionsForms {
            integration_open: true,
            se_open: true,
            ..ConnectionsForms::default()
        },
    }
    .render()
    .unwrap();
    check(
        &html,
        &[
            "Connect your streaming platforms to Tessera.",
            "App Credentials",
            "Bot Connections",
            "+2",
            "Token expires 2026-01-01 00:00 UTC (auto-refresh)",
            "expiry failed",
            "Are you sure you want to disconnect Twitch? This will revoke the connection but keep your app credentials.",
            "Set up app credentials to connect this platform.",
            "Set Up",
            "Token: …wxyz",
            "Authentication failed",
            "Add Integration",
            "Add StreamElements Token",
        ],
    );
    let html = CredentialsPage {
        l: layout(),
        rows: vec![CredentialRow {
            platform: "twitch",
            name: "Twitch",
            configured: true,
            hint: "…abcd".into(),
            redirect_uri: "http://x/orgs/acme/api/v1/connections/twitch/callback".into(),
            updated: "u".into(),
            client_id: EVIL.into(),
            errors: FieldErrors::default(),
        }],
    }
    .render()
    .unwrap();
    check(
        &html,
        &["…abcd", "/connections/twitch/callback", "Client Secret"],
    );
    let html = BotsPage {
        l: layout(),
        rows: vec![BotRow {
            platform: "twitch",
            name: "Twitch",
            custom: false,
            managed: false,
            enabled: true,
            credentials_configured: true,
            bot_name: EVIL.into(),
            linked: None,
        }],
        can_connect: true,
        can_disconnect: true,
    }
    .render()
    .unwrap();
    check(&html, &["Global Bot", "Connect Bot"]);
}

#[test]
fn banners_say_fixed_sentences_only() {
    let q = PageQuery {
        connected: Some("twitch".into()),
        ..PageQuery::default()
    };
    assert_eq!(banner(&q).0.unwrap(), "Successfully connected to Twitch!");
    let q = PageQuery {
        connected: Some("<b>evil</b>".into()),
        ..PageQuery::default()
    };
    assert_eq!(banner(&q), (None, None));
    let q = PageQuery {
        error: Some("made up <b>".into()),
        platform: Some("kick".into()),
        ..PageQuery::default()
    };
    assert_eq!(
        banner(&q).1.unwrap(),
        "The connection to Kick failed. Try again."
    );
}
