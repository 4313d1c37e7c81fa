#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Drives the real event loop with scripted keys and a fake core: prompts, approvals and results
//! travel through the action channel, and the screen shows the outcome.

use crate::common;

use common::fake::{FakeCore, wait_for_call};
use common::{approval, ev};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures_util::stream;
use pryx_protocol::api::{ApprovalAnswer, ApprovalDecision, ApprovalOutcome, ApprovalScope};
use pryx_protocol::{Surface, TurnStop};
use pryx_testkit::events::{
    approval_resolved, assistant_message, text_delta, tool_executing, tool_ran, tool_request,
    turn_completed, turn_started,
};
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
            CoreUpdate::Event(ev("s1", turn_started())),
            CoreUpdate::Event(ev("s1", text_delta("Running them now."))),
            CoreUpdate::Event(ev(
                "s1",
                tool_request("tc2", "shell.exec", json!({"command": "cargo test"})),
            )),
            CoreUpdate::Event(ev("s1", approval("a1", "s1", "cargo test"))),
        ])
        .await;
        // Typing while the approval is up answers it; `s` means for the session.
        press(&keys, KeyCode::Char('s'), KeyModifiers::NONE);
        wait_for_call(&calls, &called, "answer a1 approve session").await;
        let outcome = ApprovalOutcome::Answered(ApprovalAnswer {
            decision: ApprovalDecision::Approve,
            scope: ApprovalScope::Session,
            surface: Surface::Tui,
        });
        push(vec![
            CoreUpdate::Event(ev("s1", approval_resolved("a1", "tc2", outcome))),
            CoreUpdate::Event(ev("s1", tool_executing("tc2", "shell.exec"))),
            CoreUpdate::Event(ev("s1", tool_ran("tc2", "shell.exec", false, 2310))),
            CoreUpdate::Event(ev("s1", text_delta("All 12"))),
            CoreUpdate::Event(ev("s1", assistant_message(4, "All 12 tests pass."))),
            CoreUpdate::Event(ev("s1", turn_completed(TurnStop::Completed, 2, 0.01))),
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

/// Where the UI is, as the frame probe last saw it.
fn phase(s: &AppState) -> &'static str {
    use pryx_tui::screens::setup::Step;
    let Some(setup) = &s.setup else {
        return "chat";
    };
    match &setup.step {
        Step::Presets if setup.presets.is_some() => "presets",
        Step::Key { .. } => "key",
        Step::Tested(r) if r.ok => "tested",
        Step::Models(Some(_)) => "models",
        _ => "busy",
    }
}

#[tokio::test]
async fn first_run_setup_saves_tests_and_sets_the_default_model_in_order() {
    use pryx_tui::{FrameProbe, drive_probed};
    let (core, updates) = FakeCore::unconfigured();
    let calls = core.calls.clone();
    let (keys, key_rx) = mpsc::unbounded_channel();
    let input = Box::pin(stream::unfold(key_rx, |mut rx| async move {
        rx.recv().await.map(|k| (k, rx))
    }));
    let (seen_tx, mut seen) = tokio::sync::watch::channel("");
    let probe = FrameProbe(Arc::new(move |s: &AppState| {
        seen_tx.send_replace(phase(s));
        false
    }));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut state = AppState::new(None);
    let script = async {
        updates
            .send(CoreUpdate::Connection(ConnectionState::Connected))
            .unwrap();
        let mut reach = async |want: &str| {
            seen.wait_for(|p| *p == want).await.unwrap();
        };
        reach("presets").await;
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        reach("key").await;
        type_text(&keys, "sk-good");
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        reach("tested").await;
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        reach("models").await;
        press(&keys, KeyCode::Down, KeyModifiers::NONE);
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        reach("chat").await;
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let theme = Theme::plain();
    let run = drive_probed(
        &mut terminal,
        Arc::new(core),
        &mut state,
        input,
        &theme,
        Duration::from_secs(3600),
        Some(&probe),
    );
    let (result, ()) =
        tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(run, script) })
            .await
            .unwrap_or_else(|_| panic!("setup should finish; calls: {:?}", calls.lock().unwrap()));
    result.unwrap();
    let calls = calls.lock().unwrap().clone();
    let setup_calls: Vec<&str> = calls
        .iter()
        .map(String::as_str)
        .filter(|c| {
            ["put_provider", "test_provider", "set_default_model"]
                .iter()
                .any(|p| c.starts_with(p))
        })
        .collect();
    assert_eq!(
        setup_calls,
        [
            "put_provider openai preset=openai key=sk-good env=- base_url=- model=gpt-4o-mini",
            "test_provider openai -",
            "set_default_model openai/o3",
        ]
    );
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Setup done: OpenAI answers"), "{screen}");
    assert!(!screen.contains("sk-good"), "{screen}");
}
