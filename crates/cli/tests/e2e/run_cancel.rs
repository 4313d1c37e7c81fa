#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Ctrl-C while a tool runs ends `pryx run` as *cancelled* (exit 130, `turn.completed` with
//! `stop: cancelled`), never as a failure: in-process and through a running core.

use crate::common;

use common::*;
use pryx_protocol::{Event, EventPayload, TurnEnd};
use serde_json::json;
use std::io::BufRead;
use std::process::{Command, Stdio};

const SLEEPER: &str = "name: dev\ntools:\n  allowed:\n    - shell.exec: {commands: [sleep]}\n";

/// Starts `pryx run --json` with `extra` args, waits until the tool runs, sends SIGINT and returns
/// the exit code with every event printed.
fn interrupt_mid_tool(env: &Env, extra: &[&str]) -> (Option<i32>, Vec<Event>) {
    let mut child = env
        .cmd()
        .args(["run", "--json"])
        .args(extra)
        .arg("wait for it")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events: Vec<Event> = Vec::new();
    for line in lines.by_ref() {
        let event: Event = serde_json::from_str(&line.unwrap()).unwrap();
        let executing = matches!(event.payload, EventPayload::ToolExecuting(_));
        events.push(event);
        if executing {
            break;
        }
    }
    assert!(
        matches!(
            events.last().map(|e| &e.payload),
            Some(EventPayload::ToolExecuting(_))
        ),
        "the tool never started: {events:?}"
    );
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    for line in lines {
        events.push(serde_json::from_str(&line.unwrap()).unwrap());
    }
    (child.wait().unwrap().code(), events)
}

fn assert_cancelled(code: Option<i32>, events: &[Event], env: &Env) {
    assert_eq!(code, Some(130), "{events:#?}");
    let end = events
        .iter()
        .find_map(|e| match &e.payload {
            EventPayload::TurnCompleted(end) => Some(end),
            _ => None,
        })
        .expect("turn.completed");
    assert!(matches!(end, TurnEnd::Cancelled { .. }), "{end:?}");
    let stopped = events
        .iter()
        .find_map(|e| match &e.payload {
            EventPayload::ToolComplete(c) => Some(c),
            _ => None,
        })
        .expect("tool.complete");
    assert!(stopped.cancelled && stopped.is_error, "{stopped:?}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.payload, EventPayload::ErrorOccurred(_))),
        "a cancelled turn is not an error: {events:#?}"
    );
    let store = env.store();
    let session = &events[0].session_id;
    let calls = store.list_tool_calls(session).unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].result.as_deref(), Some("cancelled by the user"));
    let spans = store.list_spans(session).unwrap();
    let turn = spans.iter().find(|s| s.kind.as_str() == "turn").unwrap();
    assert_eq!(turn.status.as_str(), "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_tool_in_process_is_a_cancellation() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy("dev", SLEEPER);
    server.push_all([
        Turn::tool_calls([call("c1", "shell.exec", json!({"command": "sleep 31.5"}))]),
        Turn::text("never reached"),
    ]);
    let (code, events) = interrupt_mid_tool(&env, &["--local", "--policy", "dev"]);
    assert_cancelled(code, &events, &env);
    assert!(
        events
            .iter()
            .all(|e| e.surface == pryx_protocol::Surface::Cli)
    );
    assert_eq!(server.requests().len(), 1, "no model call after cancel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_tool_through_a_running_core_is_a_cancellation() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy("dev", SLEEPER);
    let _core = Serve::start(&env, &["--policy", "dev"]);
    server.push_all([
        Turn::tool_calls([call("c1", "shell.exec", json!({"command": "sleep 31.5"}))]),
        Turn::text("never reached"),
    ]);
    let (code, events) = interrupt_mid_tool(&env, &["--policy", "dev"]);
    assert!(
        events
            .iter()
            .all(|e| e.surface == pryx_protocol::Surface::Core),
        "the turn ran in the core: {events:#?}"
    );
    assert_cancelled(code, &events, &env);
    assert_eq!(server.requests().len(), 1, "no model call after cancel");
}
