#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The turn loop in process against the scripted LLM server: approvals and their scopes, limits,
//! budget, cancellation, bad tool calls, pre-call constraints and prompt size.

use crate::common;

use common::*;
use pryx_agent::approvals::{ApprovalDecision as Decision, ApprovalScope as Scope, BrokerEvent};
use pryx_agent::{Agent, AgentError, TurnStop};
use pryx_protocol::{ErrorCode, EventPayload, TurnEnd};
use pryx_testkit::{ScriptedLlm, ScriptedToolCall, Turn};
use serde_json::json;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn session_scope_grant_is_reused_for_the_same_call_only() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), true);
    let asked = auto_answer(r.agent.broker(), Decision::Approve, Scope::Session);
    let echo = json!({"command": "echo hi"});
    server.push_all([
        Turn::tool_calls([call("a", "shell.exec", echo.clone())]),
        Turn::tool_calls([call("b", "shell.exec", echo.clone())]),
        Turn::tool_calls([call("c", "shell.exec", json!({"command": "echo other"}))]),
        Turn::text("done"),
    ]);
    let report = r
        .agent
        .run_turn(&r.session, "echo", CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.stop, TurnStop::Completed);
    assert_eq!(
        asked.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "same call reused the grant; a different one asked"
    );
    let grants = r.agent.store().list_grants().unwrap();
    assert_eq!(grants.len(), 2);
    assert!(
        grants
            .iter()
            .all(|g| g.session_id.as_deref() == Some(r.session.as_str()))
    );
}

#[tokio::test]
async fn always_scope_is_stored_with_an_expiry() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), true);
    auto_answer(r.agent.broker(), Decision::Approve, Scope::Always);
    server.push_all([
        Turn::tool_calls([call("a", "shell.exec", json!({"command": "true"}))]),
        Turn::text("ok"),
    ]);
    r.agent
        .run_turn(&r.session, "x", CancellationToken::new())
        .await
        .unwrap();
    let grants = r.agent.store().list_grants().unwrap();
    assert_eq!(grants.len(), 1);
    assert!(grants[0].session_id.is_none());
    assert!(grants[0].expires_at.is_some());
}

#[tokio::test]
async fn a_denial_goes_back_to_the_model_and_the_turn_goes_on() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), true);
    auto_answer(r.agent.broker(), Decision::Deny, Scope::Once);
    server.push_all([
        Turn::tool_calls([call(
            "a",
            "fs.write",
            json!({"path": "x.txt", "content": "x"}),
        )]),
        Turn::text("Okay, I will not write."),
    ]);
    let report = r
        .agent
        .run_turn(&r.session, "write", CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.answer, "Okay, I will not write.");
    assert!(last_tool_result(&server).contains("the user denied fs.write"));
    assert!(!r.agent.workspace().join("x.txt").exists());
}

#[tokio::test]
async fn an_unanswered_approval_times_out_to_deny() {
    let server = ScriptedLlm::start().await;
    let policy = pryx_policy::parse_policy(
        "name: quick\napproval:\n  timeout_secs: 1\n",
        std::path::Path::new("quick.yaml"),
    )
    .unwrap();
    let r = rig(&server, policy, true);
    server.push_all([
        Turn::tool_calls([call("a", "shell.exec", json!({"command": "true"}))]),
        Turn::text("ok"),
    ]);
    r.agent
        .run_turn(&r.session, "x", CancellationToken::new())
        .await
        .unwrap();
    assert!(
        last_tool_result(&server).contains("policy default (deny)"),
        "{}",
        last_tool_result(&server)
    );
    let audit = r.agent.store().list_audit(Some(&r.session), 50).unwrap();
    assert!(audit.iter().any(|a| a.entry.action == "approval.timeout"));
}

#[tokio::test]
async fn cancelling_during_an_approval_wait_ends_the_turn() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), true);
    server.push_all([
        Turn::tool_calls([call("a", "shell.exec", json!({"command": "true"}))]),
        Turn::text("never"),
    ]);
    let cancel = CancellationToken::new();
    let mut events = r.agent.broker().subscribe();
    let c = cancel.clone();
    tokio::spawn(async move {
        if let Ok(BrokerEvent::Needed(_)) = events.recv().await {
            c.cancel();
        }
    });
    let report = r.agent.run_turn(&r.session, "x", cancel).await.unwrap();
    assert_eq!(report.stop, TurnStop::Cancelled);
    assert_eq!(
        server.requests().len(),
        1,
        "no further model call after cancel"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_while_a_tool_runs_ends_the_turn_as_cancelled_not_failed() {
    let server = ScriptedLlm::start().await;
    let policy = pryx_policy::parse_policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [sleep]}\n",
        std::path::Path::new("t.yaml"),
    )
    .unwrap();
    let mut r = rig(&server, policy, false);
    server.push_all([
        Turn::tool_calls([
            call("a", "shell.exec", json!({"command": "sleep 30"})),
            call("b", "fs.list", json!({})),
        ]),
        Turn::text("never"),
    ]);
    let cancel = CancellationToken::new();
    let agent = Arc::new(Agent::new(r.parts.clone()));
    let (a, sid, c) = (agent.clone(), r.session.clone(), cancel.clone());
    let turn = tokio::spawn(async move { a.run_turn(&sid, "wait", c).await });
    r.wait_for(|e| matches!(e.payload, EventPayload::ToolExecuting(_)))
        .await;
    cancel.cancel();
    let report = turn
        .await
        .unwrap()
        .expect("a cancelled turn is not an error");
    assert_eq!(report.stop, TurnStop::Cancelled);
    let completed = r
        .wait_for(|e| matches!(e.payload, EventPayload::TurnCompleted(_)))
        .await;
    assert!(
        matches!(
            completed.payload,
            EventPayload::TurnCompleted(TurnEnd::Cancelled { .. })
        ),
        "{completed:?}"
    );
    assert_eq!(server.requests().len(), 1, "no model call after cancel");
    let calls = agent.store().list_tool_calls(&r.session).unwrap();
    assert_eq!(calls.len(), 1, "the second call never started: {calls:?}");
    assert_eq!(calls[0].result.as_deref(), Some("cancelled by the user"));
    // Both calls of the model's message have a result, so the next turn's history is valid.
    let messages = agent.store().list_messages(&r.session).unwrap();
    let tool_results = messages
        .iter()
        .filter(|m| m.role == pryx_store::Role::Tool)
        .count();
    assert_eq!(tool_results, 2);
}

#[tokio::test]
async fn the_step_limit_stops_an_endless_tool_loop() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    r.tune(|p| p.settings.max_steps = 3);
    for i in 0..5 {
        server.push(Turn::tool_calls([call(
            &format!("l{i}"),
            "fs.list",
            json!({}),
        )]));
    }
    let report = r
        .agent
        .run_turn(&r.session, "loop", CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.stop, TurnStop::StepLimit);
    assert_eq!(report.steps, 3);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn bad_tool_calls_are_returned_to_the_model() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), false);
    server.push_all([
        Turn::tool_calls([
            ScriptedToolCall {
                id: "bad".into(),
                name: "fs.read".into(),
                arguments: "{not json".into(),
            },
            call("unk", "fs.teleport", json!({})),
            call("missing", "fs.read", json!({"path": "nope.txt"})),
        ]),
        Turn::text("I see."),
    ]);
    let report = r
        .agent
        .run_turn(&r.session, "x", CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.stop, TurnStop::Completed);
    let reqs = server.requests();
    let msgs = reqs[1].body["messages"].as_array().unwrap();
    let results: Vec<&str> = msgs
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(results[0].contains("invalid arguments"), "{results:?}");
    assert!(
        results[1].contains("unknown tool fs.teleport"),
        "{results:?}"
    );
    assert!(results[2].contains("nope.txt"), "{results:?}");
}

#[tokio::test]
async fn an_oversized_context_fails_before_any_request() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    r.tune(|p| p.model.context = 500);
    let err = r
        .agent
        .run_turn(&r.session, &"word ".repeat(2_000), CancellationToken::new())
        .await
        .unwrap_err();
    // Refused before it is stored: kept, it would break every later turn of the session.
    assert!(
        matches!(err, AgentError::PromptTooLarge { limit: 500, .. }),
        "{err}"
    );
    assert_eq!(err.code(), ErrorCode::LlmContextExceeded);
    assert!(server.requests().is_empty());
    assert!(
        r.agent
            .store()
            .list_messages(&r.session)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_trivial_turn_sends_a_small_deterministic_prompt() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), false);
    server.push_all([Turn::text("hi"), Turn::text("hi")]);
    r.agent
        .run_turn(&r.session, "hi", CancellationToken::new())
        .await
        .unwrap();
    let reqs = server.requests();
    let body = &reqs[0].body;
    let system = body["messages"][0]["content"].as_str().unwrap();
    let tools = serde_json::to_string(&body["tools"]).unwrap();
    let bytes = system.len() + tools.len();
    println!(
        "system prompt {} B + tool schemas {} B = {bytes} B",
        system.len(),
        tools.len()
    );
    assert!(
        bytes <= 8 * 1024,
        "system prompt + tools = {bytes} bytes, over the 8 KB goal"
    );
    // Same inputs, same bytes: provider prompt caches stay warm.
    let r2 = rig(&server, workspace_only(), false);
    r2.agent
        .run_turn(&r2.session, "hi", CancellationToken::new())
        .await
        .unwrap();
    let again = &server.requests()[1].body;
    assert_eq!(again["tools"], body["tools"]);
}

#[tokio::test]
async fn agents_md_reaches_the_system_prompt() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), false);
    std::fs::write(
        r.agent.workspace().join("AGENTS.md"),
        "Always answer in French.",
    )
    .unwrap();
    server.push(Turn::text("Bonjour"));
    r.agent
        .run_turn(&r.session, "hi", CancellationToken::new())
        .await
        .unwrap();
    let system = server.requests()[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(system.contains("Always answer in French."), "{system}");
}
