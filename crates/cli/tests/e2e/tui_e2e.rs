//! End to end: the real `pryx` TUI in tmux over a sidecar core and a scripted model. A channel
//! added from another terminal shows up on the Integrations screen, a prompt streams its answer,
//! a `shell.exec` waits for approval and completes once approved, and quitting leaves no pryx
//! process behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::tui_harness;

use common::{Env, ScriptedLlm, Turn, call};
use serde_json::json;
use std::time::Duration;
use tui_harness::Tmux;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_streams_approved_shell_card_completes_and_quit_leaves_nothing() {
    assert!(
        tui_harness::have_tmux(),
        "tmux is needed (scripts/test.sh installs it)"
    );
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push_all([
        Turn::text("Hello from the scripted model, streamed in small pieces.").with_chunk_chars(4),
        Turn::tool_calls([call(
            "c1",
            "shell.exec",
            json!({"command": "echo shell-ran-ok"}),
        )])
        .with_text("Running it now."),
        Turn::text("The command printed shell-ran-ok."),
    ]);
    let home = env.home.path();
    let tmux = Tmux::start(home, env.ws(), &[], &[]);
    tmux.wait_connected(WAIT).await;
    let core = tui_harness::wait_core(home, None, WAIT).await;

    // The Integrations screen over the real core: the empty state says how to add a channel,
    // and one added from another terminal shows up without a key press.
    tmux.keys(&["M-3"]);
    tmux.wait_text("pryx channels add tg", WAIT).await;
    let added = env.run(&["channels", "add", "hook", "--kind", "webhook"]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    tmux.wait_text("› hook", WAIT).await;
    tmux.keys(&["M-1"]);

    tmux.type_text("say hello");
    tmux.keys(&["Enter"]);
    // The next prompt only once the turn has ended (no streaming cursor, no spinner): typed
    // while it still runs, the TUI refuses it.
    let answer = "Hello from the scripted model, streamed in small pieces.";
    tmux.wait_for("the first turn to end", WAIT, |s| {
        s.contains(answer) && !s.contains('▍') && !s.contains("working…")
    })
    .await;

    tmux.type_text("run the echo");
    tmux.keys(&["Enter"]);
    tmux.wait_text("Approve shell.exec?", WAIT).await;
    tmux.keys(&["y"]);
    let screen = tmux
        .wait_text("The command printed shell-ran-ok.", WAIT)
        .await;
    assert!(screen.contains("⚙ shell.exec · ✓"), "{screen}");
    assert!(!screen.contains("Approve shell.exec?"), "{screen}");
    assert_eq!(server.remaining(), 0);

    tmux.keys(&["C-q"]);
    tui_harness::wait_none(home, Duration::from_secs(3)).await;
    assert!(
        tmux.wait_closed(Duration::from_secs(3)).await,
        "the window closes with the TUI"
    );
    assert_eq!(tui_harness::state_of(core.pid), None, "the core was reaped");
    // A clean stop removes metadata.json.
    assert!(!home.join("metadata.json").exists());
}
