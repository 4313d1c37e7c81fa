#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx run` end to end: the real binary against the scripted LLM server.

use crate::common;

use common::*;
use serde_json::json;

fn usage(input: u64, output: u64) -> ScriptedUsage {
    ScriptedUsage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
    }
}

const TRUSTING: &str =
    "name: dev\ntools:\n  allowed:\n    - fs.edit\n    - shell.exec: {commands: [cat, sleep]}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_step_task_reads_edits_and_runs_a_command() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy("dev", TRUSTING);
    std::fs::write(env.ws().join("hello.txt"), "hello world\n").unwrap();
    server.push_all([
        Turn::tool_calls([call("c1", "fs.read", json!({"path": "hello.txt"}))])
            .with_usage(usage(1000, 50)),
        Turn::tool_calls([call(
            "c2",
            "fs.edit",
            json!({"path": "hello.txt", "old_text": "hello", "new_text": "goodbye"}),
        )]),
        Turn::tool_calls([call(
            "c3",
            "shell.exec",
            json!({"command": "cat hello.txt"}),
        )]),
        Turn::text("Changed the greeting to goodbye.").with_usage(usage(2000, 10)),
    ]);
    let out = env.run(&["run", "--policy", "dev", "change the greeting"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("Changed the greeting to goodbye."),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(env.ws().join("hello.txt")).unwrap(),
        "goodbye world\n"
    );
    let results = tool_results(&server, 3);
    assert_eq!(results.len(), 3);
    assert!(results[0].1.contains("hello world"), "{results:?}");
    assert!(results[2].1.contains("goodbye world"), "{results:?}");
    assert!(stderr.contains("⚙ shell.exec cat hello.txt"), "{stderr}");

    // Everything is recorded: messages, tool calls, usage and cost, spans.
    let store = env.store();
    let sessions = store
        .list_sessions(
            None,
            pryx_store::Page {
                limit: 10,
                offset: 0,
            },
        )
        .unwrap();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!(s.title, "change the greeting");
    assert_eq!(s.total_tokens_in, 3000);
    assert_eq!(s.total_tokens_out, 60);
    // gpt-4o: $2.50 in / $10 out per million tokens.
    assert!(
        (s.total_cost_usd - (3000.0 * 2.5 + 60.0 * 10.0) / 1e6).abs() < 1e-9,
        "{}",
        s.total_cost_usd
    );
    let calls = store.list_tool_calls(&s.id).unwrap();
    assert_eq!(calls.len(), 3);
    assert!(
        calls
            .iter()
            .all(|c| c.status == pryx_store::ToolCallStatus::Completed),
        "{calls:?}"
    );
    let spans = store.list_spans(&s.id).unwrap();
    let kinds: Vec<&str> = spans.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "model_call").count(),
        4,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "tool_call").count(),
        3,
        "{kinds:?}"
    );
    assert!(
        spans.iter().all(|s| s.ended_at.is_some()),
        "every span ends"
    );
    let verify = env.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{:?}", text(&verify));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_outside_the_workspace_is_denied_and_the_turn_goes_on() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let before = std::fs::read("/etc/passwd").unwrap();
    server.push_all([
        Turn::tool_calls([call(
            "w1",
            "fs.write",
            json!({"path": "/etc/passwd", "content": "pwned"}),
        )]),
        Turn::text("I may not write there."),
    ]);
    let out = env.run(&["run", "overwrite /etc/passwd"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::read("/etc/passwd").unwrap(),
        before,
        "nothing changes"
    );
    let results = tool_results(&server, 1);
    assert!(results[0].1.contains("outside workspace"), "{results:?}");
    assert!(results[0].1.starts_with("denied by policy"), "{results:?}");
    assert!(stdout.contains("I may not write there."));
    assert!(stderr.contains("✗ fs.write denied"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tty_an_ask_is_denied_with_the_setting_that_would_allow_it() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push_all([
        Turn::tool_calls([call(
            "s1",
            "shell.exec",
            json!({"command": "touch ran.txt"}),
        )]),
        Turn::text("Understood."),
    ]);
    let out = env.run(&["run", "touch a file"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(
        !env.ws().join("ran.txt").exists(),
        "the command must not run"
    );
    let results = tool_results(&server, 1);
    assert!(results[0].1.contains("tools.allowed"), "{results:?}");
    assert!(results[0].1.contains("needs approval"), "{results:?}");
    let store = env.store();
    let session = newest_session(&store);
    let calls = store.list_tool_calls(&session.id).unwrap();
    assert_eq!(calls[0].status, pryx_store::ToolCallStatus::Denied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_mode_emits_protocol_events_in_version_order() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    std::fs::write(env.ws().join("a.txt"), "x").unwrap();
    server.push_all([
        Turn::tool_calls([call("r1", "fs.list", json!({}))]),
        Turn::text("One file."),
    ]);
    let out = env.run(&["run", "--json", "list files"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let events: Vec<pryx_protocol::Event> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let versions: Vec<u64> = events.iter().filter_map(|e| e.version).collect();
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "{versions:?}"
    );
    let names: Vec<String> = events
        .iter()
        .filter(|e| e.version.is_some())
        .map(|e| e.name().to_string())
        .collect();
    for expected in [
        "turn.started",
        "session.message",
        "tool.request",
        "tool.executing",
        "tool.complete",
        "turn.completed",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        events.iter().any(
            |e| e.kind() == Some(pryx_protocol::EventKind::SessionDelta) && e.version.is_none()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_turn_then_continue_loses_nothing() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy("dev", TRUSTING);
    server.push_all([
        Turn::tool_calls([call("k1", "shell.exec", json!({"command": "sleep 23.456"}))]),
        Turn::text("Resumed and done."),
    ]);
    let mut child = env
        .cmd()
        .args(["run", "--json", "--policy", "dev", "wait a bit"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    for line in reader {
        if line.unwrap().contains("\"tool.executing\"") {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // The command does not outlive the killed agent (when the sandbox helper supervises it).
    let landlock = pryx_tools::landlock_status();
    if landlock.support == pryx_tools::LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion(
            "kill_9_mid_turn_then_continue_loses_nothing: the shell command does not outlive the killed agent",
            &landlock.detail,
        );
    } else {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while sleeping_processes() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(
            sleeping_processes(),
            0,
            "the shell command was left running"
        );
    }

    let out = env.run(&["run", "--json", "--continue", "--policy", "dev", "go on"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let store = env.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let sessions = store
        .list_sessions(
            None,
            pryx_store::Page {
                limit: 10,
                offset: 0,
            },
        )
        .unwrap();
    assert_eq!(sessions.len(), 1, "--continue reuses the session");
    let calls = store.list_tool_calls(&sessions[0].id).unwrap();
    assert_eq!(calls.len(), 1, "the interrupted call is not re-run");
    assert_eq!(calls[0].status, pryx_store::ToolCallStatus::Interrupted);
    // The model sees the whole history: first prompt, its call, the interruption, the new prompt.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let messages = reqs[1].body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "user"]);
    assert!(
        messages[3]["content"]
            .as_str()
            .unwrap()
            .starts_with("interrupted")
    );
    let texts: Vec<String> = store
        .list_messages(&sessions[0].id)
        .unwrap()
        .iter()
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(texts.last().unwrap(), "Resumed and done.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_one_audit_row_is_detected_and_named() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push_all([
        Turn::tool_calls([call("t1", "fs.list", json!({}))]),
        Turn::text("ok"),
    ]);
    assert!(env.run(&["run", "list"]).status.success());
    assert!(env.run(&["audit", "verify"]).status.success());
    let conn = rusqlite::Connection::open(env.db_path()).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in triggers {
        conn.execute(&format!("DROP TRIGGER {t}"), []).unwrap();
    }
    conn.execute("UPDATE audit_log SET outcome = 'deny' WHERE seq = 1", [])
        .unwrap();
    drop(conn);
    let out = env.run(&["audit", "verify"]);
    let (stdout, _) = text(&out);
    assert!(!out.status.success());
    assert!(stdout.contains("row seq 1"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failure_is_a_clear_error_and_the_prompt_is_kept() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push(Turn::status(401, None, "invalid api key"));
    let out = env.run(&["run", "hello"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("LLM_AUTH") || stderr.to_lowercase().contains("key"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("invalid api key").count(),
        1,
        "the provider's error is printed once: {stderr}"
    );
    let store = env.store();
    let session = newest_session(&store);
    let messages = store.list_messages(&session.id).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text, "hello");

    // The error names its trace; `pryx trace` shows the turn and the failed call under it.
    let line = stderr
        .lines()
        .find(|l| l.contains("pryx trace "))
        .unwrap_or_else(|| panic!("no trace in: {stderr}"));
    let short = line
        .trim()
        .trim_start_matches("trace ")
        .split(':')
        .next()
        .unwrap();
    assert_eq!(short.len(), 8, "{line}");
    let out = env.run(&["trace", short]);
    let (tree, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        tree.contains(&format!("(session {})", session.id)),
        "{tree}"
    );
    let turn = tree.lines().position(|l| l.starts_with("turn ")).unwrap();
    let call = tree
        .lines()
        .position(|l| l.starts_with("  model_call ") && l.contains("error"))
        .unwrap_or_else(|| panic!("no failed model call under the turn: {tree}"));
    assert!(call > turn);
    assert!(tree.contains("invalid api key"), "{tree}");
    let out = env.run(&["trace", "zzzzzzzz"]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("not a trace id"));

    // A second failure moments later has a trace of its own, found as surely.
    server.push(Turn::status(401, None, "invalid api key"));
    let out = env.run(&["run", "hello again"]);
    let (_, again) = text(&out);
    let second = again
        .lines()
        .find(|l| l.contains("pryx trace "))
        .and_then(|l| l.trim().trim_start_matches("trace ").split(':').next())
        .unwrap_or_else(|| panic!("no trace in: {again}"))
        .to_string();
    assert_ne!(second, short, "each turn's short id differs");
    let out = env.run(&["trace", &second]);
    assert!(out.status.success(), "{}", text(&out).1);
}

/// Processes whose command line is the kill-9 test's `sleep 23.456`.
fn sleeping_processes() -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| c.starts_with(b"sleep\0") && c.windows(6).any(|w| w == b"23.456"))
        .count()
}
