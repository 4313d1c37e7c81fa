//! Sidecar supervision with the real binaries: a killed core comes back with the session intact,
//! one that keeps dying opens the error panel (and `r` retries), the core never outlives the TUI
//! (quit, SIGKILL, closed terminal), and a core the TUI only attached to keeps running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::tui_harness;

use common::{Env, ScriptedLlm, Turn};
use std::time::{Duration, Instant};
use tui_harness::Tmux;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_core_is_back_within_two_seconds_with_history_intact() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push_all([
        Turn::text("First answer before the crash."),
        Turn::text("Second answer after the restart."),
    ]);
    let home = env.home.path();
    let tmux = Tmux::start(home, env.ws(), &[], &[]);
    tmux.wait_connected(WAIT).await;
    let first = tui_harness::wait_core(home, None, WAIT).await;
    tmux.type_text("before");
    tmux.keys(&["Enter"]);
    tmux.wait_text("First answer before the crash.", WAIT).await;

    tui_harness::signal(first.pid, "KILL");
    let killed = Instant::now();
    let second = tui_harness::wait_core(home, Some(first.pid), Duration::from_secs(2)).await;
    assert!(killed.elapsed() <= Duration::from_secs(2));
    let tui = tui_harness::tui(home).unwrap();
    assert_eq!(second.ppid, tui.pid, "the new core is the TUI's child");
    assert_ne!(
        tui_harness::state_of(first.pid),
        Some('Z'),
        "the dead core was reaped"
    );
    tmux.wait_for("the reconnected status bar", WAIT, |s| {
        tui_harness::connected(s) && s.contains("First answer before the crash.")
    })
    .await;
    // The status bar may still show the connection to the killed core: typing waits until the
    // TUI is attached to the new one.
    tui_harness::wait_attached(home, second.pid, WAIT).await;

    // Same session, same transcript: the next prompt continues it.
    tmux.type_text("after");
    tmux.keys(&["Enter"]);
    let screen = tmux
        .wait_text("Second answer after the restart.", WAIT)
        .await;
    assert!(
        screen.contains("First answer before the crash."),
        "{screen}"
    );
    let reqs = server.requests();
    let history = reqs[1].body["messages"].to_string();
    assert!(
        history.contains("First answer before the crash."),
        "{history}"
    );

    tmux.keys(&["C-q"]);
    tui_harness::wait_none(home, Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_deaths_in_a_row_open_the_error_panel_and_r_retries() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let home = env.home.path();
    // A tenth of the real schedule: 100, 200, 400, 800, 1600 ms.
    let tmux = Tmux::start(home, env.ws(), &[], &[("PRYX_SIDECAR_BACKOFF_MS", "100")]);
    tmux.wait_connected(WAIT).await;
    let mut last = None;
    for _ in 0..6 {
        let core = tui_harness::wait_core(home, last, WAIT).await;
        tui_harness::signal(core.pid, "KILL");
        last = Some(core.pid);
    }
    let screen = tmux.wait_text("The core is not running", WAIT).await;
    assert!(screen.contains("The core keeps failing"), "{screen}");
    assert!(screen.contains("6 failed attempt(s)."), "{screen}");
    // Which lines the log holds depends on how far each killed core got; that it is shown does not.
    assert!(
        screen.contains("Last log lines:"),
        "the core's log is shown: {screen}"
    );
    assert!(
        tui_harness::cores(home).is_empty(),
        "no restart after giving up"
    );
    assert_ne!(tui_harness::state_of(last.unwrap()), Some('Z'));

    tmux.keys(&["r"]);
    tui_harness::wait_core(home, last, WAIT).await;
    let screen = tmux.wait_connected(WAIT).await;
    assert!(!screen.contains("The core is not running"), "{screen}");

    tmux.keys(&["C-q"]);
    tui_harness::wait_none(home, Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_the_tui_takes_the_core_down_within_a_second() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let home = env.home.path();
    let tmux = Tmux::start(home, env.ws(), &[], &[]);
    tmux.wait_connected(WAIT).await;
    let core = tui_harness::wait_core(home, None, WAIT).await;
    let tui = tui_harness::tui(home).unwrap();
    tui_harness::signal(tui.pid, "KILL");
    // It exits (with its parent gone, reaping it is init's job).
    tui_harness::wait_exited(core.pid, Duration::from_secs(1)).await;
    tui_harness::wait_none(home, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_terminal_stops_the_core() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let home = env.home.path();
    let tmux = Tmux::start(home, env.ws(), &[], &[]);
    tmux.wait_connected(WAIT).await;
    tui_harness::wait_core(home, None, WAIT).await;
    tmux.close();
    tui_harness::wait_none(home, Duration::from_secs(3)).await;
    assert!(
        !home.join("metadata.json").exists(),
        "the core stopped cleanly"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_core_keeps_running_after_the_tui_quits() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push(Turn::text("Answered by the shared core."));
    let home = env.home.path();
    let mut serve = env
        .cmd()
        .args(["serve", "--port", "0", "--announce"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(serve.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.trim().parse::<u16>().is_ok(), "{line:?}");

    let tmux = Tmux::start(home, env.ws(), &[], &[]);
    tmux.wait_connected(WAIT).await;
    tmux.type_text("hello");
    tmux.keys(&["Enter"]);
    tmux.wait_text("Answered by the shared core.", WAIT).await;
    let cores = tui_harness::cores(home);
    assert_eq!(cores.len(), 1, "{cores:?}");
    assert_eq!(cores[0].pid, serve.id(), "no sidecar was started");

    tmux.keys(&["C-q"]);
    let end = Instant::now() + Duration::from_secs(3);
    while tui_harness::tui(home).is_some() && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tui_harness::tui(home), None, "the TUI quit");
    assert!(
        serve.try_wait().unwrap().is_none(),
        "the attached core still runs"
    );
    tui_harness::signal(serve.id(), "TERM");
    assert!(serve.wait().unwrap().success());
}

#[test]
fn without_a_terminal_pryx_explains_instead_of_starting_a_core() {
    let env = Env::new("http://127.0.0.1:9", "openai-compatible", "gpt-4o");
    let out = env.run(&[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs an interactive terminal"), "{stderr}");
    assert!(tui_harness::procs(env.home.path()).is_empty());
    assert!(!env.home.path().join("metadata.json").exists());
}
