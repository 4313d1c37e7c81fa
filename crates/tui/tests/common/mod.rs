//! Fixtures shared by the integration tests: sample data, a renderer and a fake core.
#![allow(dead_code)]

pub mod fake;

use pryx_protocol::api::SessionSummary;
use pryx_protocol::{Event, EventKind, Surface};
use pryx_tui::{AppState, Theme, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

pub fn ev(kind: EventKind, session: &str, payload: Value) -> Event {
    Event::new(
        kind,
        session,
        Surface::Core,
        payload,
        "2026-01-27T12:00:00Z",
    )
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

pub fn approval(id: &str, session: &str, preview: &str) -> Value {
    json!({"id": id, "session_id": session, "tool_call_id": "tc2", "tool": "shell.exec",
        "arguments": {"command": "cargo test"}, "fingerprint": "f", "rule": "shell-always-asks",
        "reason": "Shell commands need your approval", "preview": preview, "timeout_secs": 120,
        "created_at": "2026-01-27T12:00:00Z"})
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
    let user =
        json!({"role": "user", "content": [{"type": "text", "text": "Why does the build fail?"}]});
    let events = [
        ev(
            EventKind::SessionMessage,
            "s1",
            json!({"role": "user", "content": user}),
        ),
        ev(EventKind::TurnStarted, "s1", json!({})),
        ev(
            EventKind::SessionDelta,
            "s1",
            json!({"text": "Let me read the manifest first."}),
        ),
        ev(
            EventKind::ToolRequest,
            "s1",
            json!({"tool_call_id": "tc1", "call_id": "c1", "tool": "fs.read", "arguments": {"path": "Cargo.toml"}}),
        ),
        ev(
            EventKind::ToolExecuting,
            "s1",
            json!({"tool_call_id": "tc1", "tool": "fs.read"}),
        ),
        ev(
            EventKind::ToolComplete,
            "s1",
            json!({"tool_call_id": "tc1", "tool": "fs.read", "is_error": false, "duration_ms": 4}),
        ),
        ev(
            EventKind::SessionDelta,
            "s1",
            json!({"text": "The workspace lists a crate that does not exist. "}),
        ),
        ev(
            EventKind::SessionDelta,
            "s1",
            json!({"text": "I will run the tests to"}),
        ),
        ev(
            EventKind::ToolRequest,
            "s1",
            json!({"tool_call_id": "tc2", "call_id": "c2", "tool": "shell.exec", "arguments": {"command": "cargo test", "timeout_secs": 120}}),
        ),
        ev(
            EventKind::ToolExecuting,
            "s1",
            json!({"tool_call_id": "tc2", "tool": "shell.exec"}),
        ),
    ];
    for e in &events {
        s.apply(e);
    }
    s
}
