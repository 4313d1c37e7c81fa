#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The approval prompt of `pryx run` on a real terminal, read back through a terminal emulator:
//! what runs is what is shown (a command hidden between private-key markers is visible and
//! flagged), escape sequences, carriage returns, bidi overrides and zero-width characters show
//! escaped and are noted, a long preview is never cut without a way to see all of it, and an
//! `always` answer holds only in its workspace under its policy.

use crate::common;

use common::pty::{Pty, assert_inert, emulate};
use common::*;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const PROMPT: &str = "v view all";

const HIDDEN_TOUCH: &str = "echo \"-----BEGIN RSA PRIVATE KEY-----\" >/dev/null; touch HIDDEN; \
     echo \"-----END RSA PRIVATE KEY-----\" >/dev/null; echo ok > ok.txt";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_hidden_between_private_key_markers_is_shown_flagged_and_recorded() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push_all([
        Turn::tool_calls([call("a", "shell.exec", json!({"command": HIDDEN_TOUCH}))]),
        Turn::text("Done."),
    ]);
    let mut pty = Pty::start(&env, &["run", "go"], env.ws());
    assert!(pty.wait_for(PROMPT, WAIT), "no prompt: {:?}", pty.bytes);
    pty.type_line("o");
    assert!(pty.wait_for("Done.", WAIT));
    let (ok, bytes) = pty.finish();
    assert!(ok);
    let (screen, effects) = emulate(&bytes);
    assert_inert(&bytes, &effects);
    assert!(screen.contains(&format!("│ $ {HIDDEN_TOUCH}")), "{screen}");
    assert!(
        screen.contains("⚠ looks like a secret: a private key block. Shown as it is, not hidden"),
        "{screen}"
    );
    assert!(env.ws().join("HIDDEN").exists() && env.ws().join("ok.txt").exists());

    let store = env.store();
    let session = newest_session(&store);
    let calls = store.list_tool_calls(&session.id).unwrap();
    assert_eq!(calls[0].arguments, json!({"command": HIDDEN_TOUCH}));
    let audit = store.list_audit(Some(&session.id), 100).unwrap();
    let decision = audit
        .iter()
        .find(|a| a.entry.action == "tool.decision")
        .unwrap();
    assert_eq!(decision.entry.details["arguments"]["command"], HIDDEN_TOUCH);
    assert_eq!(
        decision.entry.details["fingerprint"],
        pryx_agent::approvals::fingerprint("shell.exec", None, &json!({"command": HIDDEN_TOUCH}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_a_command_are_shown_escaped_and_noted() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    // Shown raw, the first would erase its own line and redraw it as a harmless `echo hello`.
    let erasing = "touch x \x1b[2K\x1b[1G│ $ echo hello";
    let reordered = "echo \u{202e}gnp.exe\u{200b} \r\necho done";
    server.push_all([
        Turn::tool_calls([call("a", "shell.exec", json!({"command": erasing}))]),
        Turn::tool_calls([call("b", "shell.exec", json!({"command": reordered}))]),
        Turn::text("Both refused."),
    ]);
    let mut pty = Pty::start(&env, &["run", "go"], env.ws());
    assert!(pty.wait_for(PROMPT, WAIT), "no prompt: {:?}", pty.bytes);
    pty.type_line("d");
    // The second question comes after the first is answered.
    assert!(
        pty.wait_for_nth(PROMPT, 2, WAIT),
        "no second prompt: {:?}",
        pty.bytes
    );
    pty.type_line("d");
    assert!(pty.wait_for("Both refused.", WAIT));
    let (ok, bytes) = pty.finish();
    assert!(ok);
    let (screen, effects) = emulate(&bytes);
    assert_inert(&bytes, &effects);
    assert!(
        screen.contains("│ $ touch x ␛[2K␛[1G│ $ echo hello"),
        "{screen}"
    );
    assert!(
        screen.contains("⚙ shell.exec touch x ␛[2K␛[1G│ $ echo hello"),
        "{screen}"
    );
    // The activity line keeps the carriage return visible too.
    assert!(
        screen.contains("⚙ shell.exec echo ‹U+202E›gnp.exe‹U+200B› ␍ echo done"),
        "{screen}"
    );
    assert!(
        screen.contains("│ $ echo ‹U+202E›gnp.exe‹U+200B› ␍\n│ echo done"),
        "{screen}"
    );
    assert_eq!(
        screen.matches("shown escaped (␛, ␍, ‹U+…›)").count(),
        2,
        "{screen}"
    );
    assert!(!env.ws().join("x").exists(), "a denied command ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_preview_says_what_is_left_and_v_shows_every_line() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let content: String = (1..=120).map(|i| format!("line {i}\n")).collect();
    server.push_all([
        Turn::tool_calls([call(
            "a",
            "fs.write",
            json!({"path": "long.txt", "content": content}),
        )]),
        Turn::text("Not written."),
    ]);
    let mut pty = Pty::start(&env, &["run", "go"], env.ws());
    assert!(pty.wait_for(PROMPT, WAIT), "no prompt: {:?}", pty.bytes);
    let first = String::from_utf8_lossy(&pty.bytes).into_owned();
    assert!(
        first.contains("more lines not shown yet: answer v to see the whole preview"),
        "{first}"
    );
    assert!(!first.contains("+line 120"), "{first}");
    pty.type_line("v");
    assert!(pty.wait_for("(end of preview)", WAIT));
    assert!(
        pty.wait_for_nth(PROMPT, 2, WAIT),
        "asked again after the preview"
    );
    pty.type_line("d");
    assert!(pty.wait_for("Not written.", WAIT));
    let (ok, bytes) = pty.finish();
    assert!(ok);
    let (screen, effects) = emulate(&bytes);
    assert_inert(&bytes, &effects);
    for i in [1, 60, 120] {
        assert!(
            screen.contains(&format!(" +line {i}\n")),
            "line {i} never shown:\n{screen}"
        );
    }
    assert!(!env.ws().join("long.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_always_answer_holds_only_in_its_workspace_and_under_its_policy() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let command = json!({"command": "echo granted >> proof.txt"});
    let echo = || {
        server.push_all([
            Turn::tool_calls([call("a", "shell.exec", command.clone())]),
            Turn::text("Ran."),
        ]);
    };
    echo();
    let mut pty = Pty::start(&env, &["run", "go"], env.ws());
    assert!(pty.wait_for(PROMPT, WAIT), "no prompt: {:?}", pty.bytes);
    pty.type_line("a");
    assert!(pty.wait_for("Ran.", WAIT));
    assert!(pty.finish().0);

    // No terminal now: an `ask` without a grant is refused at once, with a grant it runs.
    echo();
    let out = env.run(&["run", "again"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(
        std::fs::read_to_string(env.ws().join("proof.txt")).unwrap(),
        "granted\ngranted\n",
        "the grant held in its workspace"
    );

    let w2 = tempfile::tempdir().unwrap();
    echo();
    let out = env.run(&["run", "-w", w2.path().to_str().unwrap(), "elsewhere"]);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("needs approval"), "{stderr}");
    assert!(
        !w2.path().join("proof.txt").exists(),
        "another workspace asked again"
    );

    env.policy("stricter", "name: stricter\ndefaults:\n  network: deny\n");
    echo();
    let out = env.run(&["run", "--policy", "stricter", "stricter"]);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("needs approval"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(env.ws().join("proof.txt")).unwrap(),
        "granted\ngranted\n",
        "a stricter policy asked again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_call_previews_its_server_tool_and_arguments_and_binds_to_its_pin() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let calls = env.home.path().join("calls.log");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mcp/tests/fixtures/hostile_server.py");
    let cmd = format!(
        "python3 '{}' --escapes --calls '{}'",
        fixture.display(),
        calls.display()
    );
    let added = env.run(&["mcp", "add", "hostile", "--cmd", &cmd]);
    assert!(added.status.success(), "{:?}", text(&added));
    let args = json!({"scope": "everything", "confirm": true});
    server.push_all([
        Turn::tool_calls([call("a", "hostile.wipe", args.clone())]),
        Turn::text("Not wiped."),
    ]);
    let mut pty = Pty::start(&env, &["run", "go"], env.ws());
    assert!(pty.wait_for(PROMPT, WAIT), "no prompt: {:?}", pty.bytes);
    pty.type_line("d");
    assert!(pty.wait_for("Not wiped.", WAIT));
    let (ok, bytes) = pty.finish();
    assert!(ok);
    let (screen, effects) = emulate(&bytes);
    assert_inert(&bytes, &effects);
    assert!(
        screen.contains("│ MCP server: hostile (not marked trusted)\n│ tool: wipe (claims to only read)\n│ arguments:"),
        "{screen}"
    );
    assert!(
        screen.contains("│   \"scope\": \"everything\","),
        "{screen}"
    );
    assert!(screen.contains("│   \"confirm\": true"), "{screen}");
    assert!(
        !std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .contains("wipe")
    );

    // The approval is bound to the server's identity and the tool's definition, not the name.
    let store = env.store();
    let session = newest_session(&store);
    let audit = store.list_audit(Some(&session.id), 100).unwrap();
    let decision = audit
        .iter()
        .find(|a| a.entry.action == "tool.decision")
        .unwrap();
    let by_name = pryx_agent::approvals::fingerprint("hostile.wipe", None, &args);
    assert_ne!(decision.entry.details["fingerprint"], by_name.as_str());
}
