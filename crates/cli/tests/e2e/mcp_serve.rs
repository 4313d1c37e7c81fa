#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx mcp serve` as another agent uses it: an rmcp client starts it on stdio next to a
//! running `pryx serve`, lists Pryx's tools, and calls them. A write that the policy asks about
//! waits for the user's approval (answered through the core's API, as the TUI does) and then
//! runs; a path outside the workspace is refused; `chat` runs a turn and its session is a
//! resource; another session of the core is not there for the client (escape rows).

use crate::common::*;
use crate::serve_api::Api;
use pryx_mcp::rmcp::model::{CallToolRequestParams, CallToolResult, ReadResourceRequestParams};
use pryx_mcp::rmcp::service::RunningService;
use pryx_mcp::rmcp::transport::TokioChildProcess;
use pryx_mcp::rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

type Client = RunningService<RoleClient, ()>;

async fn connect(env: &Env) -> Client {
    let cmd: tokio::process::Command = {
        let std_cmd = {
            let mut c = env.cmd();
            c.args(["mcp", "serve"]);
            c
        };
        std_cmd.into()
    };
    let transport = TokioChildProcess::new(cmd).unwrap();
    tokio::time::timeout(Duration::from_secs(30), ().serve(transport))
        .await
        .expect("pryx mcp serve did not initialize within 30 s")
        .unwrap()
}

fn params(name: &str, args: Value) -> CallToolRequestParams {
    serde_json::from_value(json!({"name": name, "arguments": args})).unwrap()
}

fn text_of(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .filter_map(|c| c["text"].as_str().map(str::to_string))
        .collect()
}

/// Waits (on the API, polled) for one pending approval of `tool` and answers it.
fn approve(api: &Api, tool: &str, decision: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = api.call("GET", "/api/v1/approvals", None);
        if let Some(a) = list.json["approvals"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["tool"] == tool))
        {
            let id = a["id"].as_str().unwrap();
            let answer = api.call(
                "POST",
                &format!("/api/v1/approvals/{id}"),
                Some(&json!({"decision": decision, "surface": "tui"})),
            );
            assert_eq!(answer.status, 200, "{}", answer.text);
            return a.clone();
        }
        assert!(Instant::now() < deadline, "no approval of {tool} appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_gets_pryx_tools_under_its_policy_and_approvals() {
    let llm = ScriptedLlm::start().await;
    llm.push(Turn::text("Answer from Pryx."));
    let env = Env::scripted(&llm);
    let ws = env.ws().display().to_string();
    let srv = Serve::start(&env, &["--workspace", &ws]);
    let api = Api::of(env.home.path(), srv.port);
    let client = connect(&env).await;

    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "pryx");
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    for expected in ["chat", "fs.read", "fs.write", "shell.exec"] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }

    // A write waits for the user's approval, given where the TUI gives it, and then runs.
    let write = {
        let peer = client.peer().clone();
        tokio::spawn(async move {
            peer.call_tool(params(
                "fs.write",
                json!({"path": "note.txt", "content": "written for an MCP client"}),
            ))
            .await
        })
    };
    let asked = tokio::task::spawn_blocking({
        let api = api.clone();
        move || approve(&api, "fs.write", "approve")
    })
    .await
    .unwrap();
    assert_eq!(asked["arguments"]["path"], "note.txt");
    let written = write.await.unwrap().unwrap();
    assert_ne!(written.is_error, Some(true), "{}", text_of(&written));
    // The client gets the tool's own words, not the boundary a model's copy is wrapped in.
    assert_eq!(text_of(&written), "created note.txt (25 bytes)");
    assert_eq!(
        std::fs::read_to_string(env.ws().join("note.txt")).unwrap(),
        "written for an MCP client"
    );

    // Denied: the call reports it and nothing is written.
    let denied = {
        let peer = client.peer().clone();
        tokio::spawn(async move {
            peer.call_tool(params(
                "fs.write",
                json!({"path": "denied.txt", "content": "x"}),
            ))
            .await
        })
    };
    tokio::task::spawn_blocking({
        let api = api.clone();
        move || approve(&api, "fs.write", "deny")
    })
    .await
    .unwrap();
    let denied = denied.await.unwrap().unwrap();
    assert_eq!(denied.is_error, Some(true), "{}", text_of(&denied));
    assert!(!env.ws().join("denied.txt").exists());

    // Outside the workspace: refused without asking anyone (escape row).
    let secret = env.home.path().join("token");
    let outside = client
        .call_tool(params(
            "fs.read",
            json!({"path": secret.display().to_string()}),
        ))
        .await
        .unwrap();
    assert_eq!(outside.is_error, Some(true), "{}", text_of(&outside));
    assert!(!text_of(&outside).contains(&api.token));
    let escape = client
        .call_tool(params(
            "fs.read",
            json!({"path": "../../../../etc/hostname"}),
        ))
        .await
        .unwrap();
    assert_eq!(escape.is_error, Some(true), "{}", text_of(&escape));

    // The calls are Pryx's own records: in a session of the core, audited.
    let store = env.store();
    let calls = newest_session(&store);
    assert_eq!(calls.title, "MCP client tool calls");

    // `chat` runs a turn; its session is this client's resource.
    let chat = client
        .call_tool(params(
            "chat",
            json!({"prompt": "hello from another agent"}),
        ))
        .await
        .unwrap();
    assert_eq!(text_of(&chat), "Answer from Pryx.");
    let session = chat.structured_content.as_ref().unwrap()["session"]
        .as_str()
        .unwrap()
        .to_string();
    let read = client
        .read_resource(
            serde_json::from_value::<ReadResourceRequestParams>(
                json!({"uri": format!("pryx://sessions/{session}")}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let body = serde_json::to_value(&read.contents[0]).unwrap();
    let body: Value = serde_json::from_str(body["text"].as_str().unwrap()).unwrap();
    assert_eq!(body["messages"][0]["text"], "hello from another agent");
    assert_eq!(body["messages"][1]["text"], "Answer from Pryx.");

    // Another conversation of the user's is not there for the client (escape rows): not
    // listed, not readable, not continued.
    let other = api.call(
        "POST",
        "/api/v1/sessions",
        Some(&json!({"title": "private"})),
    );
    assert!(other.status < 300, "{}", other.text);
    let other = other.json["id"].as_str().unwrap().to_string();
    let listed = client.list_all_resources().await.unwrap();
    assert!(listed.iter().all(|r| !r.uri.contains(&other)), "{listed:?}");
    assert!(
        listed.iter().any(|r| r.uri.contains(&session)),
        "{listed:?}"
    );
    let read_other = client
        .read_resource(
            serde_json::from_value::<ReadResourceRequestParams>(
                json!({"uri": format!("pryx://sessions/{other}")}),
            )
            .unwrap(),
        )
        .await;
    assert!(read_other.is_err(), "{read_other:?}");
    let continue_other = client
        .call_tool(params("chat", json!({"prompt": "x", "session": other})))
        .await;
    assert!(continue_other.is_err(), "{continue_other:?}");
    assert_eq!(
        llm.requests().len(),
        1,
        "only the client's own turn reached the model"
    );

    client.cancel().await.unwrap();
}
