//! Tests of the connection tests against the fake OBS and Streamer.bot servers: every outcome,
//! and the helpers behind the messages.

use std::time::Duration;

use serde_json::json;

use super::connect::human_duration;
use super::tool::Target;
use super::wire::auth_response;
use super::*;
use crate::fakes::obs::FakeObs;
use crate::fakes::streamerbot::FakeStreamerBot;

const LOCALHOST: &str = "127.0.0.1";
const PATIENT: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(300);

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn auth_string_matches_an_independently_computed_vector() {
    // The example of obs-websocket's protocol.md, computed with Python's hashlib/base64:
    // secret = b64(sha256("supersecretpassword" + salt)) =
    // "Ln68W1UNXYyY7xDwp+h5foYLI6bzI1qZjKokTa5ZdwE=".
    assert_eq!(
        auth_response(
            "supersecretpassword",
            "PZVbYpvAnZut2SS6JNJytDm9",
            "ztTBnnuqrqaKDzRM3xcVdbYm"
        ),
        "zZgWipvwSGrw748kHN4gNpBC1IaeiiWX3Hjkrm849Sc="
    );
}

#[test]
fn ipv6_hosts_are_bracketed() {
    for host in ["::1", "[::1]", " ::1 "] {
        let target = Target::new(host, 4455, "/");
        assert_eq!(target.url, "ws://[::1]:4455/");
        assert_eq!(target.address, "[::1]:4455");
        assert_eq!(target.host, "::1");
    }
    let target = Target::new("obs.lan", 8080, "ws");
    assert_eq!(target.url, "ws://obs.lan:8080/ws");
    assert_eq!(target.endpoint, "/ws");
    assert_eq!(
        Target::new("127.0.0.1", 8080, "").url,
        "ws://127.0.0.1:8080/"
    );
}

#[test]
fn durations_read_naturally() {
    assert_eq!(human_duration(Duration::from_secs(5)), "5 s");
    assert_eq!(human_duration(Duration::from_millis(300)), "300 ms");
    assert_eq!(human_duration(Duration::from_millis(2500)), "2.5 s");
}

#[test]
fn outcomes_serialize_with_their_result() {
    let outcome = TestOutcome::Connected {
        version: "30.1.2".into(),
        message: "Connected to OBS 30.1.2 successfully!".into(),
    };
    assert!(outcome.is_success());
    assert_eq!(
        serde_json::to_value(&outcome).unwrap(),
        json!({
            "result": "connected",
            "version": "30.1.2",
            "message": "Connected to OBS 30.1.2 successfully!",
        })
    );
    let outcome = TestOutcome::AuthFailed {
        message: "no".into(),
    };
    assert!(!outcome.is_success());
    assert_eq!(outcome.message(), "no");
    assert_eq!(
        serde_json::to_value(&outcome).unwrap()["result"],
        "auth_failed"
    );
}

#[tokio::test]
async fn obs_without_password() {
    let obs = FakeObs::start(None, "30.1.2").await;
    let outcome = test_obs(LOCALHOST, obs.port, None, PATIENT).await;
    assert_eq!(
        outcome,
        TestOutcome::Connected {
            version: "30.1.2".into(),
            message: "Connected to OBS 30.1.2 successfully!".into(),
        }
    );
    assert_eq!(outcome.message(), "Connected to OBS 30.1.2 successfully!");
    assert_eq!(obs.connections(), 1);
}

#[tokio::test]
async fn obs_with_password() {
    let obs = FakeObs::start(Some("hunter2"), "30.1.2").await;
    let outcome = test_obs(LOCALHOST, obs.port, Some("hunter2"), PATIENT).await;
    assert!(outcome.is_success(), "{outcome:?}");
    assert_eq!(outcome.message(), "Connected to OBS 30.1.2 successfully!");
}

#[tokio::test]
async fn obs_ignores_a_password_it_does_not_ask_for() {
    let obs = FakeObs::start(None, "31.0.0").await;
    let outcome = test_obs(LOCALHOST, obs.port, Some("unused"), PATIENT).await;
    assert_eq!(outcome.message(), "Connected to OBS 31.0.0 successfully!");
}

#[tokio::test]
async fn obs_wrong_password() {
    let obs = FakeObs::start(Some("hunter2"), "30.1.2").await;
    let outcome = test_obs(LOCALHOST, obs.port, Some("hunter3"), PATIENT).await;
    assert!(
        matches!(outcome, TestOutcome::AuthFailed { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.message(),
        "Authentication failed: OBS rejected the password. Check it under Tools → obs-websocket Settings."
    );
}

#[tokio::test]
async fn obs_password_required_but_missing() {
    let obs = FakeObs::start(Some("hunter2"), "30.1.2").await;
    for password in [None, Some("")] {
        let outcome = test_obs(LOCALHOST, obs.port, password, PATIENT).await;
        assert!(
            matches!(outcome, TestOutcome::AuthFailed { .. }),
            "{outcome:?}"
        );
        assert!(
            outcome.message().contains("OBS requires a password"),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn obs_silent_server_times_out() {
    let obs = FakeObs::silent().await;
    let started = std::time::Instant::now();
    let outcome = test_obs(LOCALHOST, obs.port, None, SHORT).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(outcome, TestOutcome::TimedOut { .. }),
        "{outcome:?}"
    );
    assert!(
        outcome.message().starts_with("Timed out after 300 ms"),
        "{outcome:?}"
    );
    assert_eq!(obs.connections(), 1);
}

#[tokio::test]
async fn obs_closed_port_is_unreachable() {
    let port = closed_port();
    let outcome = test_obs(LOCALHOST, port, None, PATIENT).await;
    assert_eq!(
        outcome,
        TestOutcome::Unreachable {
            message: format!(
                "Could not connect to 127.0.0.1:{port}: connection refused — is OBS running with its WebSocket server enabled?"
            ),
        }
    );
}

#[tokio::test]
async fn obs_test_against_streamerbot_is_a_protocol_error() {
    let bot = FakeStreamerBot::start(None, "0.2.4", "/").await;
    let outcome = test_obs(LOCALHOST, bot.port, None, PATIENT).await;
    assert!(
        matches!(outcome, TestOutcome::ProtocolError { .. }),
        "{outcome:?}"
    );
    assert!(
        outcome.message().contains("obswebsocket.json"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn streamerbot_without_password() {
    let bot = FakeStreamerBot::start(None, "0.2.4", "/").await;
    let outcome = test_streamerbot(LOCALHOST, bot.port, "/", None, PATIENT).await;
    assert_eq!(
        outcome,
        TestOutcome::Connected {
            version: "0.2.4".into(),
            message: "Connected to Streamer.bot 0.2.4 successfully!".into(),
        }
    );
    assert_eq!(bot.connections(), 1);
}

#[tokio::test]
async fn streamerbot_with_password_and_endpoint() {
    let bot = FakeStreamerBot::start(Some("s3cret"), "0.2.5", "/ws").await;
    let outcome = test_streamerbot(LOCALHOST, bot.port, "/ws", Some("s3cret"), PATIENT).await;
    assert_eq!(
        outcome.message(),
        "Connected to Streamer.bot 0.2.5 successfully!"
    );
}

#[tokio::test]
async fn streamerbot_wrong_password() {
    let bot = FakeStreamerBot::start(Some("s3cret"), "0.2.4", "/").await;
    let outcome = test_streamerbot(LOCALHOST, bot.port, "/", Some("nope"), PATIENT).await;
    assert!(
        matches!(outcome, TestOutcome::AuthFailed { .. }),
        "{outcome:?}"
    );
    assert!(
        outcome
            .message()
            .starts_with("Authentication failed: Streamer.bot rejected the password"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn streamerbot_password_required_but_missing() {
    let bot = FakeStreamerBot::start(Some("s3cret"), "0.2.4", "/").await;
    let outcome = test_streamerbot(LOCALHOST, bot.port, "/", None, PATIENT).await;
    assert!(
        matches!(outcome, TestOutcome::AuthFailed { .. }),
        "{outcome:?}"
    );
    assert!(
        outcome
            .message()
            .contains("Streamer.bot requires a password"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn streamerbot_silent_server_times_out() {
    let bot = FakeStreamerBot::silent().await;
    let started = std::time::Instant::now();
    let outcome = test_streamerbot(LOCALHOST, bot.port, "/", None, SHORT).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(outcome, TestOutcome::TimedOut { .. }),
        "{outcome:?}"
    );
    assert_eq!(bot.connections(), 1);
}

#[tokio::test]
async fn streamerbot_closed_port_is_unreachable() {
    let port = closed_port();
    let outcome = test_streamerbot(LOCALHOST, port, "/", None, PATIENT).await;
    assert!(
        matches!(outcome, TestOutcome::Unreachable { .. }),
        "{outcome:?}"
    );
    assert!(
        outcome.message().contains("connection refused"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn streamerbot_wrong_endpoint_names_it() {
    let bot = FakeStreamerBot::start(None, "0.2.4", "/").await;
    let outcome = test_streamerbot(LOCALHOST, bot.port, "/wrong", None, PATIENT).await;
    assert!(
        matches!(outcome, TestOutcome::ProtocolError { .. }),
        "{outcome:?}"
    );
    assert!(outcome.message().contains("\"/wrong\""), "{outcome:?}");
    assert!(outcome.message().contains("404"), "{outcome:?}");
}

#[tokio::test]
async fn streamerbot_test_against_obs_is_a_protocol_error() {
    let obs = FakeObs::start(None, "30.1.2").await;
    let outcome = test_streamerbot(LOCALHOST, obs.port, "/", None, PATIENT).await;
    assert!(
        matches!(outcome, TestOutcome::ProtocolError { .. }),
        "{outcome:?}"
    );
}
