#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx run` and `pryx models test` against a mock written by others (`@copilotkit/aimock`),
//! in OpenAI and Anthropic modes.

use crate::common;

use common::*;

fn start_aimock() -> Aimock {
    Aimock::start(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aimock"),
    )
}

fn agent_task(kind: &str, model: &str) {
    let mock = start_aimock();
    let env = Env::new(&format!("http://127.0.0.1:{}/v1", mock.port), kind, model);
    std::fs::write(env.ws().join("greeting.txt"), "hello from the workspace\n").unwrap();
    let out = env.run(&["run", "what does the greeting say"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("The greeting says: hello from the workspace."),
        "{stdout}"
    );
    assert!(stderr.contains("✓ fs.read"), "{stderr}");
    let store = env.store();
    let session = newest_session(&store);
    let calls = store.list_tool_calls(&session.id).unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].tool_name, "fs.read");
    assert!(
        calls[0]
            .result
            .as_deref()
            .unwrap()
            .contains("hello from the workspace")
    );
}

#[test]
fn agent_task_over_openai_wire() {
    agent_task("openai-compatible", "gpt-4o-mini");
}

#[test]
fn agent_task_over_anthropic_wire() {
    agent_task("anthropic", "claude-sonnet-4-5");
}

#[test]
fn models_test_prints_a_real_round_trip() {
    let mock = start_aimock();
    for (kind, model) in [
        ("openai-compatible", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-5"),
    ] {
        let env = Env::new(&format!("http://127.0.0.1:{}/v1", mock.port), kind, model);
        let out = env.run(&["models", "test", "mock"]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{kind}: {stdout}\n{stderr}");
        assert!(stdout.contains("latency"), "{stdout}");
        assert!(stdout.contains("tokens"), "{stdout}");
        assert!(stdout.contains("cost"), "{stdout}");
    }
}

/// A long conversation compacted on request (`pryx run --compact`) with a mock written by
/// others answering both the turns and the summary: the cost is said first, everything before
/// the latest request is summarised and stored, nothing is deleted, and the session goes on.
#[test]
fn a_session_is_compacted_on_request_over_the_openai_wire() {
    let mock = start_aimock();
    let env = Env::new(
        &format!("http://127.0.0.1:{}/v1", mock.port),
        "openai-compatible",
        "gpt-4o-mini",
    );
    for n in 1..=2 {
        let out = env.run(&["run", "-c", &format!("note for later, number {n}")]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
    }
    let out = env.run(&["run", "-c", "--compact", "note for later, number 3"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("compacting 2 earlier messages with mock/gpt-4o-mini"),
        "the cost comes first: {stderr}"
    );
    assert!(stderr.contains("earlier messages summarised"), "{stderr}");
    assert!(stdout.contains("Noted."), "{stdout}");
    let store = env.store();
    let session = newest_session(&store);
    let compactions = store.list_compactions(&session.id).unwrap();
    assert_eq!(compactions.len(), 1);
    assert!(compactions[0].summary.contains("keep notes on the parser"));
    // Everything before the latest request then (turn 2's) is summarised.
    assert_eq!(compactions[0].through_seq, 2);
    assert_eq!(
        store.list_messages(&session.id).unwrap().len(),
        6,
        "nothing deleted"
    );

    // A new session has nothing to compact: that is said, and the turn runs anyway.
    let out = env.run(&["run", "--compact", "note for later, number 4"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("nothing compacted"), "{stderr}");
}
