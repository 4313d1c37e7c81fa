#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The provider setup, step by step, driven through the fake core and rendered into an 80×24
//! test terminal; and the `/model` picker.

use crate::common;

use common::fake::{BAD_KEY, FakeCore};
use common::{render, summary};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use pryx_tui::{Action, AppState, ConnectionState, CoreUpdate, Response, Theme, perform};
use ratatui::style::Color;
use std::collections::VecDeque;
use tokio::sync::mpsc;

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// Performs `actions` against the core and feeds the answers back, until none is left.
async fn settle(state: &mut AppState, core: &FakeCore, actions: Vec<Action>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut queue = VecDeque::from(actions);
    while let Some(a) = queue.pop_front() {
        perform(core, a, &tx).await;
        while let Ok(r) = rx.try_recv() {
            queue.extend(state.on_response(r));
        }
    }
}

async fn press(state: &mut AppState, core: &FakeCore, code: KeyCode) {
    let actions = state.handle_key(key(code));
    settle(state, core, actions).await;
}

async fn type_text(state: &mut AppState, core: &FakeCore, text: &str) {
    for c in text.chars() {
        press(state, core, KeyCode::Char(c)).await;
    }
}

/// A TUI that just connected to a core without providers: setup is open on its first step.
async fn first_run() -> (AppState, FakeCore) {
    let (core, _updates) = FakeCore::unconfigured();
    let mut s = AppState::new(None);
    let actions = s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    settle(&mut s, &core, actions).await;
    assert!(s.setup.is_some(), "an empty provider list opens setup");
    (s, core)
}

/// Setup after `key` was entered for OpenAI and tested.
async fn tested(key_text: &str) -> (AppState, FakeCore) {
    let (mut s, core) = first_run().await;
    press(&mut s, &core, KeyCode::Enter).await;
    type_text(&mut s, &core, key_text).await;
    press(&mut s, &core, KeyCode::Enter).await;
    (s, core)
}

fn screen(s: &AppState) -> String {
    render(s, 80, 24, &Theme::plain()).to_string()
}

fn calls(core: &FakeCore) -> Vec<String> {
    core.calls.lock().unwrap().clone()
}

#[tokio::test]
async fn setup_presets() {
    let (s, core) = first_run().await;
    assert_eq!(
        calls(&core),
        ["pending_approvals", "list_providers", "list_presets"]
    );
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
}

#[tokio::test]
async fn setup_key_entry_shows_no_key_characters() {
    let (mut s, core) = first_run().await;
    press(&mut s, &core, KeyCode::Enter).await;
    type_text(&mut s, &core, "sk-proj-SuperSecret42").await;
    let out = screen(&s);
    for part in ["sk-", "proj", "SuperSecret", "42"] {
        assert!(!out.contains(part), "{part:?} shows: {out}");
    }
    assert!(out.contains("(21 characters)"), "{out}");
    assert!(!calls(&core).iter().any(|c| c.starts_with("put_provider")));
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
}

#[tokio::test]
async fn setup_test_ok() {
    let (s, core) = tested("sk-good").await;
    assert_eq!(
        calls(&core)[3..],
        [
            "put_provider openai preset=openai key=sk-good env=- base_url=- model=gpt-4o-mini",
            "test_provider openai -",
        ]
    );
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
}

#[tokio::test]
async fn setup_test_failed_shows_the_whole_error_and_goes_back_to_the_key() {
    let (mut s, core) = tested(BAD_KEY).await;
    let out = screen(&s);
    assert!(
        out.contains("req_8f2c1d0e9b7a4c3e"),
        "the error is cut: {out}"
    );
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
    press(&mut s, &core, KeyCode::Enter).await;
    let out = screen(&s);
    assert!(out.contains("step 2 of 4: key"), "{out}");
    assert!(out.contains("(type or paste it)"), "a fresh field: {out}");
}

#[tokio::test]
async fn setup_model_pick() {
    let (mut s, core) = tested("sk-good").await;
    press(&mut s, &core, KeyCode::Enter).await;
    assert_eq!(calls(&core).last().unwrap(), "list_models openai");
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
    // The suggested model is preselected; Enter makes it the default and setup ends in chat.
    press(&mut s, &core, KeyCode::Enter).await;
    assert_eq!(
        calls(&core).last().unwrap(),
        "set_default_model openai/gpt-4o-mini"
    );
    assert!(s.setup.is_none());
    let out = screen(&s);
    assert!(out.contains("Setup done: OpenAI answers"), "{out}");
    assert!(out.contains("gpt-4o-mini"), "{out}");
}

#[tokio::test]
async fn setup_with_the_key_from_the_environment() {
    let (mut s, core) = first_run().await;
    press(&mut s, &core, KeyCode::Enter).await;
    press(&mut s, &core, KeyCode::Down).await;
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
    press(&mut s, &core, KeyCode::Enter).await;
    assert!(calls(&core).contains(
        &"put_provider openai preset=openai key=- env=OPENAI_API_KEY base_url=- model=gpt-4o-mini"
            .to_string()
    ));
}

#[tokio::test]
async fn setup_local_address() {
    let (mut s, core) = first_run().await;
    press(&mut s, &core, KeyCode::Down).await;
    press(&mut s, &core, KeyCode::Down).await;
    press(&mut s, &core, KeyCode::Enter).await;
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
}

#[tokio::test]
async fn esc_skips_setup_into_chat_with_a_hint() {
    let (mut s, core) = first_run().await;
    press(&mut s, &core, KeyCode::Esc).await;
    let out = screen(&s);
    assert!(out.contains("Type /setup when you want"), "{out}");
    assert!(
        out.contains("Ask anything"),
        "the chat input is back: {out}"
    );
}

#[tokio::test]
async fn chat_model_picker() {
    let (core, _updates) = FakeCore::new();
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    s.on_response(Response::SessionCreated(summary(
        "s1",
        "Fix the build",
        0,
        0.0,
    )));
    type_text(&mut s, &core, "/model").await;
    press(&mut s, &core, KeyCode::Enter).await;
    assert_eq!(calls(&core).last().unwrap(), "list_models -");
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
    press(&mut s, &core, KeyCode::Char('G')).await;
    press(&mut s, &core, KeyCode::Enter).await;
    assert_eq!(
        calls(&core).last().unwrap(),
        "update_session s1 model=anthropic/claude-sonnet-4 policy=-"
    );
    assert_eq!(s.chat.model.as_deref(), Some("anthropic/claude-sonnet-4"));
}

#[tokio::test]
async fn setup_renders_at_every_size_and_without_colors() {
    let mut states = vec![first_run().await.0, tested("sk-good").await.0];
    states.push(tested(BAD_KEY).await.0);
    let (mut picking, core) = tested("sk-good").await;
    press(&mut picking, &core, KeyCode::Enter).await;
    states.push(picking);
    for s in &states {
        for w in (1..=130).step_by(7) {
            for h in (1..=40).step_by(3) {
                render(s, w, h, &Theme::plain());
            }
        }
        for cell in render(s, 80, 24, &Theme::plain()).buffer().content() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
        }
    }
}

/// Names and errors from the core carrying terminal controls show escaped.
#[tokio::test]
async fn setup_escapes_what_the_core_sends() {
    let (mut s, _core) = first_run().await;
    let mut presets = common::presets();
    presets[0].name = "Open\x1b]0;EVIL\x07AI".into();
    presets[0].env_found = Some("KEY\x1b[2J".into());
    s.on_response(Response::Presets(presets));
    let out = screen(&s);
    assert!(!out.contains('\x1b'), "{out}");
    assert!(out.contains("Open␛]0;EVIL␇AI"), "{out}");
}

#[tokio::test]
async fn setup_local_provider_without_a_model_list_takes_a_typed_model_name() {
    let (mut s, core) = first_run().await;
    press(&mut s, &core, KeyCode::Down).await;
    press(&mut s, &core, KeyCode::Down).await;
    press(&mut s, &core, KeyCode::Enter).await;
    press(&mut s, &core, KeyCode::Enter).await;
    let out = screen(&s);
    assert!(out.contains("step 3 of 4: test"), "{out}");
    press(&mut s, &core, KeyCode::Enter).await;
    let out = screen(&s);
    assert!(out.contains("lists no models"), "{out}");
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
    press(&mut s, &core, KeyCode::Enter).await;
    assert!(
        screen(&s).contains("Type the name of a model"),
        "empty names are refused"
    );
    type_text(&mut s, &core, "llama3.1:8b").await;
    press(&mut s, &core, KeyCode::Enter).await;
    let last = calls(&core).last().unwrap().clone();
    assert!(
        last.starts_with("set_default_model ") && last.ends_with("/llama3.1:8b"),
        "{last}"
    );
    assert!(s.setup.is_none(), "setup ends in chat");
}
