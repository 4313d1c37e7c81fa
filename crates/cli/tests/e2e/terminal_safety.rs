#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Nothing a model, a tool or an extension says can drive the user's terminal: hostile text
//! (OSC 52 clipboard, OSC 0/2 titles, OSC 8 links, CSI clears and cursor moves, DCS, C1
//! controls, `\r` overwrites, bidi overrides) goes through the real binary under a pty and the
//! bytes are parsed by a terminal emulator: no sequence acts, and the screen shows escaped forms.

use crate::common;

use common::pty::Effects;
use common::*;
use serde_json::json;
use std::process::{Command, Stdio};

/// Runs `pryx ARGS` under a pseudo-terminal (util-linux `script`) and returns the raw bytes the
/// terminal received.
fn under_pty(env: &Env, args: &str) -> Vec<u8> {
    let pryx = env!("CARGO_BIN_EXE_pryx");
    let out = Command::new("script")
        .args(["-qefc", &format!("'{pryx}' {args}"), "/dev/null"])
        .env("PRYX_HOME", env.home.path())
        .env("PRYX_SECRET_BACKEND", "file")
        .env("TERM", "xterm-256color")
        .env_remove("OPENAI_API_KEY")
        .current_dir(env.ws())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("util-linux `script` runs the command under a pty");
    out.stdout
}

/// Feeds the bytes to a terminal emulator; returns the screen text and what else was asked.
fn emulate(bytes: &[u8]) -> (String, Effects) {
    let mut term = vt100::Parser::new_with_callbacks(60, 220, 0, Effects::default());
    term.process(bytes);
    let screen = term.screen().contents();
    (screen, std::mem::take(term.callbacks_mut()))
}

/// The raw bytes hold no sequence introducer at all: pryx itself styles nothing here, so any ESC,
/// 8-bit CSI/OSC/DCS or bidi override would have come from the hostile text.
fn assert_inert(bytes: &[u8], screen: &str, effects: &Effects) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.contains('\x1b'),
        "a raw ESC reached the terminal: {text:?}"
    );
    for c in ['\u{9b}', '\u{9d}', '\u{90}', '\u{202e}', '\u{7}'] {
        assert!(!text.contains(c), "{c:?} reached the terminal: {text:?}");
    }
    assert!(effects.titles.is_empty(), "title changed: {effects:?}");
    assert!(
        effects.clipboard.is_empty(),
        "clipboard written: {effects:?}"
    );
    assert!(
        effects.unhandled.is_empty(),
        "sequences acted: {effects:?}\n{screen}"
    );
}

const HOSTILE: &str = "Answer.\x1b]52;c;cHduZWQ=\x07\x1b]0;EVIL TITLE\x07\x1b]2;T2\x1b\\\
\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\\x1b[2J\x1b[H\x1b[3A\x1bP+q544e\x1b\\\
\u{9b}31m\u{9d}0;c1\u{7}SAFE\rEVIL \u{202e}fdp.exe";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_model_text_tool_errors_and_provider_errors_do_not_reach_the_terminal() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    // A tool error quoting a hostile file name, then a hostile answer.
    server.push_all([
        Turn::tool_calls([call(
            "r1",
            "fs.read",
            json!({"path": "x\x1b]0;FILE TITLE\x07.txt"}),
        )]),
        Turn::text(HOSTILE),
    ]);
    let bytes = under_pty(&env, "run 'summarise'");
    let (screen, effects) = emulate(&bytes);
    assert_inert(&bytes, &screen, &effects);
    assert!(
        screen.contains("session "),
        "the screen was cleared:\n{screen}"
    );
    assert!(
        screen.contains("Answer.␛]52;c;cHduZWQ=␇␛]0;EVIL TITLE␇"),
        "{screen}"
    );
    assert!(screen.contains("␛[2J␛[H␛[3A␛P+q544e␛\\"), "{screen}");
    assert!(
        screen.contains("‹U+009B›31m‹U+009D›0;c1␇SAFE␍EVIL ‹U+202E›fdp.exe"),
        "{screen}"
    );
    assert!(
        screen.contains("⚙ fs.read x␛]0;FILE TITLE␇.txt"),
        "{screen}"
    );

    // A provider error quoting hostile text.
    server.push(Turn {
        failure: Some(pryx_testkit::Failure::Status {
            status: 400,
            retry_after_secs: None,
            message: Some("bad request\x1b]0;ERR TITLE\x07\x1b[2J".into()),
        }),
        ..Turn::default()
    });
    let bytes = under_pty(&env, "run 'again'");
    let (screen, effects) = emulate(&bytes);
    assert_inert(&bytes, &screen, &effects);
    assert!(screen.contains("␛]0;ERR TITLE␇␛[2J"), "{screen}");
}

#[test]
fn piped_output_keeps_the_exact_bytes_unless_asked_to_sanitize() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(ScriptedLlm::start());
    let env = Env::scripted(&server);
    server.push(Turn::text("exact\x1b[1mbold\x1b[0m"));
    let out = env.run(&["run", "hi"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(out.stdout, b"exact\x1b[1mbold\x1b[0m\n");
    server.push(Turn::text("exact\x1b[1mbold\x1b[0m"));
    let out = env.run(&["run", "--sanitize", "hi"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "exact␛[1mbold␛[0m\n"
    );
    // JSON stays JSON: the control characters are JSON-escaped.
    server.push(Turn::text("j\x1b]0;t\x07"));
    let out = env.run(&["run", "--json", "hi"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !stdout.contains('\x1b') && stdout.contains("\\u001b]0;t\\u0007"),
        "{stdout}"
    );
}

#[test]
fn hostile_mcp_tool_descriptions_are_shown_escaped() {
    let server = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(ScriptedLlm::start())
    };
    let env = Env::scripted(&server);
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mcp/tests/fixtures/hostile_server.py");
    let added = env.run(&[
        "mcp",
        "add",
        "hostile",
        "--cmd",
        &format!("python3 '{}' --escapes", fixture.display()),
    ]);
    assert!(added.status.success(), "{:?}", text(&added));
    let bytes = under_pty(&env, "mcp tools hostile");
    let (screen, effects) = emulate(&bytes);
    assert_inert(&bytes, &screen, &effects);
    assert!(screen.contains("hostile.leak"), "{screen}");
    assert!(
        screen.contains("Reads files.␛]52;c;cHduZWQ=␇␛]0;MCP TITLE␇␛[2J␛[H"),
        "{screen}"
    );
}
