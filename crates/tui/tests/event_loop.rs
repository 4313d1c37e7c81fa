#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Drives the real event loop with scripted keys and a fake core: prompts, approvals and results
//! travel through the action channel, and the screen shows the outcome.

mod common;

use common::fake::{FakeCore, wait_for_call};
use common::{approval, ev};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures_util::stream;
use pryx_protocol::EventKind;
use pryx_tui::{AppState, ConnectionState, CoreUpdate, Theme, drive};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

type Keys = mpsc::UnboundedSender<std::io::Result<TermEvent>>;

fn press(keys: &Keys, code: KeyCode, mods: KeyModifiers) {
    keys.send(Ok(TermEvent::Key(KeyEvent::new(code, mods))))
        .unwrap();
}

fn type_text(keys: &Keys, text: &str) {
    for c in text.chars() {
        press(keys, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

#[tokio::test]
async fn prompt_approval_and_answer_round_trip() {
    let (core, updates) = FakeCore::new();
    let calls = core.calls.clone();
    let calls2 = core.calls.clone();
    let called = core.called.clone();
    let pulled = core.pulled.clone();
    let (keys, key_rx) = mpsc::unbounded_channel();
    let input = Box::pin(stream::unfold(key_rx, |mut rx| async move {
        rx.recv().await.map(|k| (k, rx))
    }));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut state = AppState::new(None);

    let script = async {
        // Push core updates and wait until the UI has taken each one.
        let push = |items: Vec<CoreUpdate>| {
            let n = items.len();
            for u in items {
                updates.send(u).unwrap();
            }
            let pulled = pulled.clone();
            async move {
                pulled.acquire_many(n as u32).await.unwrap().forget();
            }
        };
        push(vec![CoreUpdate::Connection(ConnectionState::Connected)]).await;
        type_text(&keys, "run the tests");
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        // Without a session the loop creates one, then sends the prompt to it.
        wait_for_call(&calls, &called, "send_prompt s1 run the tests").await;
        push(vec![
            CoreUpdate::Event(ev(EventKind::TurnStarted, "s1", json!({}))),
            CoreUpdate::Event(ev(EventKind::SessionDelta, "s1", json!({"text": "Running them now."}))),
            CoreUpdate::Event(ev(EventKind::ToolRequest, "s1",
                json!({"tool_call_id": "tc2", "call_id": "c1", "tool": "shell.exec", "arguments": {"command": "cargo test"}}))),
            CoreUpdate::Event(ev(EventKind::ApprovalNeeded, "s1", approval("a1", "s1", "cargo test"))),
        ])
        .await;
        // Typing while the approval is up answers it; `s` means for the session.
        press(&keys, KeyCode::Char('s'), KeyModifiers::NONE);
        wait_for_call(&calls, &called, "answer a1 approve session").await;
        let outcome = json!({"outcome": "answered", "decision": "approve", "scope": "session", "surface": "tui"});
        let reply = json!({"role": "assistant", "content": [{"type": "text", "text": "All 12 tests pass."}]});
        push(vec![
            CoreUpdate::Event(ev(EventKind::ApprovalResolved, "s1", json!({"id": "a1", "tool_call_id": "tc2", "outcome": outcome}))),
            CoreUpdate::Event(ev(EventKind::ToolExecuting, "s1", json!({"tool_call_id": "tc2", "tool": "shell.exec"}))),
            CoreUpdate::Event(ev(EventKind::ToolComplete, "s1",
                json!({"tool_call_id": "tc2", "tool": "shell.exec", "is_error": false, "duration_ms": 2310}))),
            CoreUpdate::Event(ev(EventKind::SessionDelta, "s1", json!({"text": "All 12"}))),
            CoreUpdate::Event(ev(EventKind::SessionMessage, "s1", json!({"role": "assistant", "content": reply}))),
            CoreUpdate::Event(ev(EventKind::TurnCompleted, "s1", json!({"stop": "completed", "steps": 2, "cost_usd": 0.01}))),
        ])
        .await;
        // The finished turn refreshes the session's totals.
        wait_for_call(&calls, &called, "load_session s1").await;
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let theme = Theme::plain();
    let run = drive(
        &mut terminal,
        Arc::new(core),
        &mut state,
        input,
        &theme,
        Duration::from_secs(3600),
    );
    let (result, ()) =
        tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(run, script) })
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the loop should finish; calls: {:?}",
                    calls2.lock().unwrap()
                )
            });
    result.unwrap();

    assert!(state.quit);
    assert!(state.chat.approvals.is_empty());
    assert!(!state.chat.turn_running);
    let calls = calls.lock().unwrap().clone();
    let pos = |c: &str| calls.iter().position(|x| x == c).unwrap();
    assert!(pos("create_session") < pos("send_prompt s1 run the tests"));
    let screen = terminal.backend().to_string();
    assert!(screen.contains("› run the tests"), "{screen}");
    assert!(screen.contains("⚙ shell.exec · ✓ ok · 2310 ms"), "{screen}");
    assert!(screen.contains("All 12 tests pass."), "{screen}");
    // Totals come from the core after the turn (the fake reports 2000 in / 500 out).
    assert!(screen.contains("2.0k in · 500 out"), "{screen}");
}

#[tokio::test]
async fn a_closed_event_stream_shows_the_error_panel_and_retry_reaches_the_core() {
    let (core, updates) = FakeCore::new();
    let calls = core.calls.clone();
    let called = core.called.clone();
    let core_pulled = core.pulled.clone();
    let (keys, key_rx) = mpsc::unbounded_channel();
    let input = Box::pin(stream::unfold(key_rx, |mut rx| async move {
        rx.recv().await.map(|k| (k, rx))
    }));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut state = AppState::new(None);
    let script = async {
        drop(updates);
        core_pulled.acquire().await.unwrap().forget();
        // The panel is modal: `r` retries instead of typing.
        press(&keys, KeyCode::Char('r'), KeyModifiers::NONE);
        wait_for_call(&calls, &called, "retry").await;
        // The input stream ending stops the loop.
        drop(keys);
    };
    let theme = Theme::plain();
    let run = drive(
        &mut terminal,
        Arc::new(core),
        &mut state,
        input,
        &theme,
        Duration::from_secs(3600),
    );
    let (result, ()) =
        tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(run, script) })
            .await
            .expect("the loop should finish");
    result.unwrap();
    assert!(state.error_panel_open());
    assert!(state.chat.input.is_empty());
    let screen = terminal.backend().to_string();
    assert!(screen.contains("The core is not running"), "{screen}");
}
