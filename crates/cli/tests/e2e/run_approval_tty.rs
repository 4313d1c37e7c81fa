#![allow(clippy::unwrap_used, clippy::expect_used)]
//! On a terminal, `pryx run` asks before a `shell.exec` and the call blocks until answered.
//! `script(1)` gives the binary a real pseudo-terminal.

use crate::common;

use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn read_until(
    out: &std::sync::Arc<std::sync::Mutex<String>>,
    needle: &str,
    limit: Duration,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if out.lock().unwrap().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_exec_blocks_until_approved_on_the_terminal() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push_all([
        Turn::tool_calls([call(
            "a1",
            "shell.exec",
            json!({"command": "echo approved > proof.txt"}),
        )]),
        Turn::text("Wrote the proof."),
    ]);
    let pryx = env!("CARGO_BIN_EXE_pryx");
    let mut child = std::process::Command::new("script")
        .args([
            "-qfec",
            &format!("{pryx} run 'write the proof'"),
            "/dev/null",
        ])
        .env("PRYX_HOME", env.home.path())
        .env("PRYX_SECRET_BACKEND", "file")
        .current_dir(env.ws())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux must be installed");
    let mut stdout = child.stdout.take().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    assert!(
        read_until(&seen, "y once", Duration::from_secs(20)),
        "no prompt: {}",
        seen.lock().unwrap()
    );
    let screen = seen.lock().unwrap().clone();
    assert!(screen.contains("approval needed: shell.exec"), "{screen}");
    assert!(
        screen.contains("$ echo approved > proof.txt"),
        "the full command is previewed: {screen}"
    );
    // Blocked: nothing ran while the question is open. The call is recorded before the
    // question is shown, so the database already holds it, still pending and never started.
    let store = env.store();
    let session = newest_session(&store);
    let calls = store.list_tool_calls(&session.id).unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].tool_name, "shell.exec");
    assert_eq!(
        calls[0].status,
        pryx_store::ToolCallStatus::Pending,
        "{calls:?}"
    );
    assert!(calls[0].started_at.is_none(), "{calls:?}");
    assert!(calls[0].approval_scope.is_none(), "{calls:?}");
    assert!(!env.ws().join("proof.txt").exists());
    assert_eq!(server.requests().len(), 1);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"y\n").unwrap();
    stdin.flush().unwrap();
    assert!(
        read_until(&seen, "Wrote the proof.", Duration::from_secs(20)),
        "{}",
        seen.lock().unwrap()
    );
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success(), "{}", seen.lock().unwrap());
    assert_eq!(
        std::fs::read_to_string(env.ws().join("proof.txt")).unwrap(),
        "approved\n"
    );
    let calls = store.list_tool_calls(&session.id).unwrap();
    assert_eq!(calls[0].status, pryx_store::ToolCallStatus::Completed);
    assert_eq!(calls[0].approval_scope.as_deref(), Some("once"));
    let audit = store.list_audit(Some(&session.id), 100).unwrap();
    assert!(
        audit.iter().any(|r| r.entry.action == "approval.granted"),
        "{audit:?}"
    );
}
