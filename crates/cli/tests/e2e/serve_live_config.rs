#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A running `pryx serve` picks up changes other `pryx` processes make to its data dir: an MCP
//! server added with `pryx mcp add` is offered and called on the next turn, and an agent profile
//! added with `pryx config set` is listed at once, without a restart.

use crate::common;
use crate::serve_api;

use common::*;
use serde_json::json;
use serve_api::{Api, completion, tool_completions, tool_requests};
use std::time::{Duration, Instant};

/// The tool names offered to the model in scripted request `n`.
fn offered(llm: &ScriptedLlm, n: usize) -> Vec<String> {
    llm.requests()[n].body["tools"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_server_added_while_serving_is_used_on_the_next_turn() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let serve = Serve::start(&env, &[]);
    let api = Api::of(env.home.path(), serve.port);
    let session = api.create_session(json!({}));
    let sid = session["id"].as_str().unwrap().to_string();

    // A first turn builds the agent without any MCP server.
    llm.push(Turn::text("Nothing to echo yet."));
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = api.stream_turn(&sid, "are you there").rest(deadline);
    assert_eq!(completion(&events)["stop"], "completed", "{events:#?}");
    let before = offered(&llm, 0);
    assert!(before.iter().any(|n| n == "fs__read"), "{before:?}");
    assert!(
        !before.iter().any(|n| n.starts_with("every__")),
        "{before:?}"
    );

    // Another process adds a server to the same data dir while the core runs.
    let mark = format!("PRYX_TEST_MARK={}", env.home.path().display());
    let added = env.run(&[
        "mcp",
        "add",
        "every",
        // Its echo tool claims to be read-only; the claim counts for a trusted server only.
        "--trusted",
        "--cmd",
        &everything_cmd(),
        "--env",
        &mark,
    ]);
    assert!(added.status.success(), "{:?}", text(&added));

    llm.push_all([
        Turn::tool_calls([call("e1", "every.echo", json!({"message": "live hello"}))]),
        Turn::text("The server echoed it."),
    ]);
    let events = api.stream_turn(&sid, "echo live hello").rest(deadline);
    assert_eq!(completion(&events)["stop"], "completed", "{events:#?}");
    let after = offered(&llm, 1);
    assert!(after.iter().any(|n| n == "every__echo"), "{after:?}");
    let requested = tool_requests(&events);
    assert_eq!(requested.len(), 1, "{events:#?}");
    assert_eq!(requested[0]["tool"], "every.echo");
    let done = tool_completions(&events);
    assert_eq!(done.len(), 1, "{events:#?}");
    assert_eq!(done[0]["tool"], "every.echo");
    assert_eq!(done[0]["is_error"], false, "the call ran: {:#}", done[0]);
    assert!(done[0]["duration_ms"].is_u64(), "{:#}", done[0]);
    let results = tool_results(&llm, 2);
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(results[0].1.contains("live hello"), "{results:?}");
    assert!(!results[0].1.contains("unknown tool"), "{results:?}");
    assert_eq!(llm.remaining(), 0);
    assert!(marked(&mark) > 0, "the MCP server runs under the core");

    // Stopping the core stops the server it started.
    drop(serve);
    let end = Instant::now() + Duration::from_secs(10);
    while marked(&mark) > 0 {
        assert!(Instant::now() < end, "the MCP server outlived the core");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many live processes have `mark` (NAME=VALUE) in their environment.
fn marked(mark: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("environ")).ok())
        .filter(|env| env.split(|b| *b == 0).any(|v| v == mark.as_bytes()))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_profile_set_while_serving_is_listed_at_once() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let serve = Serve::start(&env, &[]);
    let api = Api::of(env.home.path(), serve.port);
    let ids = |api: &Api| -> Vec<String> {
        let r = api.get("/api/v1/agents");
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&api), ["main"]);

    let gamma = tempfile::tempdir().unwrap();
    let gamma_ws = std::fs::canonicalize(gamma.path()).unwrap();
    let set = env.run(&[
        "config",
        "set",
        "agents.gamma.workspace",
        gamma_ws.to_str().unwrap(),
    ]);
    assert!(set.status.success(), "{:?}", text(&set));
    let set = env.run(&["config", "set", "agents.gamma.policy", "read-only"]);
    assert!(set.status.success(), "{:?}", text(&set));

    let r = api.get("/api/v1/agents");
    let agents = r.json["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2, "{}", r.text);
    let g = &agents[1];
    assert_eq!(g["id"], "gamma", "{}", r.text);
    assert_eq!(g["workspace"], gamma_ws.display().to_string());
    assert_eq!(g["policy"], "read-only");
    assert_eq!(g["model"], "mock/gpt-4o", "the default model: {}", r.text);
    assert_eq!(g["default"], false);

    // A session of the new profile works there.
    let s = api.create_session(json!({"agent": "gamma"}));
    assert_eq!(s["agent"], "gamma");
    assert_eq!(s["workspace"], gamma_ws.display().to_string());
    assert_eq!(s["policy"], "read-only");
}
