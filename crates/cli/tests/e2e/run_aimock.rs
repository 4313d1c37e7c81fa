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
