//! End to end: first run of the real `pryx` TUI (in tmux, supervising its own core) on a data dir
//! with no provider. The setup screen appears; a local preset pointed at aimock is saved, tested
//! and given a default model; a prompt in chat then gets aimock's answer; quitting leaves no pryx
//! process behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::tui_harness;

use common::Aimock;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tui_harness::Tmux;

const WAIT: Duration = Duration::from_secs(30);

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aimock")
}

/// The line of the list the cursor is on (the highlight symbol starts it).
fn cursor_line(screen: &str) -> Option<String> {
    screen
        .lines()
        .map(|l| l.trim_start_matches(['│', ' ']))
        .find(|l| l.starts_with("› "))
        .map(str::to_string)
}

/// Moves the preset cursor to the top, then down until it is on `name`, waiting for each move
/// to show.
async fn choose_preset(tmux: &Tmux, name: &str) {
    tmux.keys(&["Home"]);
    tmux.wait_for("the cursor on the first preset", WAIT, |s| {
        cursor_line(s).is_some_and(|l| l.contains("OpenAI"))
    })
    .await;
    for _ in 0..20 {
        let screen = tmux.screen();
        let line = cursor_line(&screen).unwrap_or_default();
        if line.contains(name) {
            return;
        }
        tmux.keys(&["Down"]);
        tmux.wait_for("the cursor to move", WAIT, |s| {
            cursor_line(s).unwrap_or_default() != line
        })
        .await;
    }
    panic!("preset {name} not found; screen:\n{}", tmux.screen());
}

async fn first_run_to_the_test_step(tmux: &Tmux, mock: &Aimock) -> String {
    tmux.wait_text("Pryx has no model provider yet", WAIT).await;
    tmux.wait_text("LM Studio", WAIT).await;
    choose_preset(tmux, "LM Studio").await;
    tmux.keys(&["Enter"]);
    tmux.wait_text("Where does it listen?", WAIT).await;
    tmux.keys(&["C-u"]);
    tmux.wait_for("an empty address", WAIT, |s| !s.contains("127.0.0.1:1234"))
        .await;
    let url = mock.base_url();
    tmux.type_text(&url);
    tmux.wait_text(&url, WAIT).await;
    tmux.keys(&["Enter"]);
    tmux.wait_for("the test's outcome", WAIT, |s| {
        s.contains("answered in") || s.contains("✗")
    })
    .await
}

fn prepare() -> (Aimock, tempfile::TempDir, tempfile::TempDir) {
    assert!(
        tui_harness::have_tmux(),
        "tmux is needed (scripts/test.sh installs it)"
    );
    let mock = Aimock::start(&fixtures());
    let home = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("greeting.txt"), "hello from the workspace\n").unwrap();
    (mock, home, ws)
}

async fn chat_and_quit(tmux: &Tmux, home: &Path) {
    tmux.type_text("what does the greeting say");
    tmux.keys(&["Enter"]);
    let screen = tmux
        .wait_text("The greeting says: hello from the workspace.", WAIT)
        .await;
    assert!(screen.contains("⚙ fs.read · ✓"), "{screen}");
    let core = tui_harness::cores(home);
    assert_eq!(core.len(), 1, "the TUI runs its own core: {core:?}");
    tmux.keys(&["C-q"]);
    tui_harness::wait_none(home, Duration::from_secs(5)).await;
    assert!(
        tmux.wait_closed(Duration::from_secs(3)).await,
        "the window closes with the TUI"
    );
    assert_eq!(
        tui_harness::state_of(core[0].pid),
        None,
        "the core was reaped"
    );
}

async fn model_step_to_chat(tmux: &Tmux, home: &Path, model: &str) {
    tmux.keys(&["Enter"]);
    tmux.wait_text("Choose the model new sessions run on", WAIT)
        .await;
    tmux.wait_for("the model under the cursor", WAIT, |s| {
        cursor_line(s).is_some_and(|l| l.contains(model))
    })
    .await;
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text("Setup done", WAIT).await;
    assert!(screen.contains(model), "{screen}");
    assert!(!screen.contains("Set up a model provider"), "{screen}");
    chat_and_quit(tmux, home).await;
}

/// The setup as a first-time user meets it: nothing configured at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_sets_up_a_local_provider_and_chats() {
    let (mock, home, ws) = prepare();
    let tmux = Tmux::start(home.path(), ws.path(), &[], &[]);
    let screen = first_run_to_the_test_step(&tmux, &mock).await;
    assert!(screen.contains("answered in"), "{screen}");
    model_step_to_chat(&tmux, home.path(), "lmstudio/").await;
}

/// The same setup when config already names a default model of the preset (but no provider is
/// configured), so the test call has a model to try: test, model list, chat and quit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_tests_picks_the_model_and_chats() {
    let (mock, home, ws) = prepare();
    let model = "lmstudio/qwen/qwen3-coder-30b";
    std::fs::write(
        home.path().join("config.json"),
        serde_json::json!({"defaults": {"model": model}}).to_string(),
    )
    .unwrap();
    let tmux = Tmux::start(home.path(), ws.path(), &[], &[]);
    let screen = first_run_to_the_test_step(&tmux, &mock).await;
    assert!(
        screen.contains(&format!("✓ {model} answered in")),
        "{screen}"
    );
    model_step_to_chat(&tmux, home.path(), model).await;
    let config = std::fs::read_to_string(home.path().join("config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        config["providers"]["lmstudio"]["base_url"],
        mock.base_url(),
        "{config:#}"
    );
    assert_eq!(config["defaults"]["model"], model, "{config:#}");
}
