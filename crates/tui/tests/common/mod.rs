//! Fixtures shared by the integration tests: sample data, a renderer and a fake core.
#![allow(dead_code)]

pub mod fake;

use pryx_protocol::api::{PendingApproval, SessionSummary};
use pryx_protocol::{Event, EventPayload};
use pryx_testkit::events::{
    event, text_delta, tool_executing, tool_ran, tool_request, turn_started, user_message,
};
use pryx_tui::{AppState, Theme, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

/// An event of `session` (the TUI reads no versions).
pub fn ev(session: &str, payload: impl Into<EventPayload>) -> Event {
    event(session, None, payload)
}

pub fn summary(id: &str, title: &str, tokens: u64, cost: f64) -> SessionSummary {
    SessionSummary {
        id: id.into(),
        workspace_id: None,
        title: title.into(),
        status: "idle".into(),
        model: Some("anthropic/claude-sonnet-4".into()),
        created_at: "2026-01-27T12:00:00Z".into(),
        updated_at: "2026-01-27T14:05:09Z".into(),
        total_tokens_in: tokens,
        total_tokens_out: tokens / 4,
        total_cost_usd: cost,
        busy: false,
        snippet: None,
    }
}

/// The approval of `cargo test` (call `tc2`), showing `preview`.
pub fn approval(id: &str, session: &str, preview: &str) -> PendingApproval {
    PendingApproval {
        fingerprint: "f".into(),
        rule: "shell-always-asks".into(),
        reason: "Shell commands need your approval".into(),
        preview: preview.into(),
        timeout_secs: 120,
        created_at: "2026-01-27T12:00:00Z".into(),
        ..pryx_testkit::events::approval(
            id,
            session,
            "tc2",
            "shell.exec",
            json!({"command": "cargo test"}),
        )
    }
}

/// Renders the state into a `w`×`h` test terminal and returns the backend.
pub fn render(state: &AppState, w: u16, h: u16, theme: &Theme) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| ui::draw(f, state, theme)).unwrap();
    terminal.backend().clone()
}

/// A chat in session `s1` with a streamed answer, a finished tool card and a running one.
pub fn streaming_chat() -> AppState {
    let mut s = AppState::new(None);
    s.on_core(pryx_tui::CoreUpdate::Connection(
        pryx_tui::ConnectionState::Connected,
    ));
    s.on_response(pryx_tui::Response::SessionCreated(summary(
        "s1",
        "Fix the build",
        12_400,
        0.0312,
    )));
    let events = [
        ev("s1", user_message(1, "Why does the build fail?")),
        ev("s1", turn_started()),
        ev("s1", text_delta("Let me read the manifest first.")),
        ev(
            "s1",
            tool_request("tc1", "fs.read", json!({"path": "Cargo.toml"})),
        ),
        ev("s1", tool_executing("tc1", "fs.read")),
        ev("s1", tool_ran("tc1", "fs.read", false, 4)),
        ev(
            "s1",
            text_delta("The workspace lists a crate that does not exist. "),
        ),
        ev("s1", text_delta("I will run the tests to")),
        ev(
            "s1",
            tool_request(
                "tc2",
                "shell.exec",
                json!({"command": "cargo test", "timeout_secs": 120}),
            ),
        ),
        ev("s1", tool_executing("tc2", "shell.exec")),
    ];
    for e in &events {
        s.apply(e);
    }
    s
}
