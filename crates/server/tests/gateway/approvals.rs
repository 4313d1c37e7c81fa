#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Cross-surface approvals: every connected surface is asked, the first answer wins (WebSocket
//! or REST), the others see `approval.resolved`, and no answer means the policy default.

use crate::common;

use common::*;
use pryx_protocol::api::{ApprovalAnswer, ApprovalDecision, ApprovalOutcome};
use pryx_protocol::ws::{WsControl, WsServerMessage};
use pryx_protocol::{EventKind, Surface, TurnStop};
use serde_json::json;

/// Reads until the ack of an answer; events read on the way are kept in `seen`.
async fn ack(
    ws: &mut Ws,
    seen: &mut Vec<pryx_protocol::Event>,
) -> (bool, Option<pryx_protocol::ErrorBody>) {
    loop {
        match ws.next().await {
            WsServerMessage::Control(WsControl::Ack { ok, error, .. }) => return (ok, error),
            WsServerMessage::Event(e) => seen.push(e),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_answer_wins_across_two_sockets_and_rest() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let (mut tui, mut web) = (rig.ws().await, rig.ws().await);
    tui.subscribe(json!({"events": ["approval.needed", "approval.resolved", "turn.completed"]}))
        .await;
    web.subscribe(json!({"events": ["approval.needed", "approval.resolved", "turn.completed"]}))
        .await;
    rig.llm.push_all([
        Turn::tool_calls([call(
            "c1",
            "shell__exec",
            json!({"command": "echo approved-run"}),
        )]),
        Turn::text("done"),
    ]);
    rig.send(&s, "run echo").await;
    let asked_tui = tui.next_event().await;
    let asked_web = web.next_event().await;
    assert_eq!(asked_tui.kind(), Some(EventKind::ApprovalNeeded));
    assert_eq!(asked_tui, asked_web, "both surfaces get the same question");
    let id = approval_of(&asked_tui).id.clone();
    let (_, pending) = rig.get("/approvals").await;
    assert_eq!(pending["approvals"][0]["id"], id.as_str());
    assert_eq!(pending["approvals"][0]["tool"], "shell.exec");

    tui.send(
        json!({"type": "tool.response", "request_id": id, "decision": "approve", "scope": "once"}),
    )
    .await;
    let (mut seen_tui, mut seen_web) = (Vec::new(), Vec::new());
    assert_eq!(ack(&mut tui, &mut seen_tui).await, (true, None));
    web.send(json!({"type": "tool.response", "request_id": id, "decision": "deny"}))
        .await;
    let (ok, err) = ack(&mut web, &mut seen_web).await;
    assert!(!ok);
    assert_eq!(err.unwrap().code, pryx_protocol::ErrorCode::NotFound);
    let (status, body) = rig
        .post(&format!("/approvals/{id}"), json!({"decision": "deny"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );

    for (ws, mut seen) in [(&mut tui, seen_tui), (&mut web, seen_web)] {
        if !seen
            .iter()
            .any(|e| e.kind() == Some(EventKind::ApprovalResolved))
        {
            seen.extend(ws.until(EventKind::ApprovalResolved).await);
        }
        let resolved = resolved_of(
            seen.iter()
                .find(|e| e.kind() == Some(EventKind::ApprovalResolved))
                .unwrap(),
        );
        assert!(
            matches!(
                resolved.outcome,
                ApprovalOutcome::Answered(ApprovalAnswer {
                    decision: ApprovalDecision::Approve,
                    ..
                })
            ),
            "{resolved:?}"
        );
        if !seen
            .iter()
            .any(|e| e.kind() == Some(EventKind::TurnCompleted))
        {
            seen.extend(ws.until(EventKind::TurnCompleted).await);
        }
        let done = end_of(
            seen.iter()
                .find(|e| e.kind() == Some(EventKind::TurnCompleted))
                .unwrap(),
        );
        assert_eq!(done.stop(), Some(TurnStop::Completed), "{done:?}");
    }
    let calls = rig.core.store().list_tool_calls(&s).unwrap();
    assert_eq!(
        calls[0].status,
        pryx_store::ToolCallStatus::Completed,
        "{calls:?}"
    );
    assert!(
        rig.get("/approvals").await.1["approvals"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answer_wins_and_sockets_see_it_resolved() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s]})).await;
    rig.llm.push_all([
        Turn::tool_calls([call("c1", "shell__exec", json!({"command": "echo nope"}))]),
        Turn::text("ok, not running it"),
    ]);
    rig.send(&s, "run echo").await;
    let asked = ws.until(EventKind::ApprovalNeeded).await.pop().unwrap();
    let id = approval_of(&asked).id.as_str();
    let (status, body) = rig
        .post(
            &format!("/approvals/{id}"),
            json!({"decision": "deny", "scope": "once"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "deny");
    let resolved = ws.until(EventKind::ApprovalResolved).await.pop().unwrap();
    let resolved = resolved_of(&resolved);
    let ApprovalOutcome::Answered(answer) = resolved.outcome else {
        panic!("expected an answer, got {resolved:?}");
    };
    assert_eq!(answer.decision, ApprovalDecision::Deny, "{resolved:?}");
    assert_eq!(answer.surface, Surface::Web, "{resolved:?}");
    ws.until(EventKind::TurnCompleted).await;
    let (status, _) = rig
        .post("/approvals/unknown", json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = rig
        .post(&format!("/approvals/{id}"), json!({"decision": "maybe"}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_before_the_timeout_means_the_policy_default() {
    let rig = Rig::with(Options {
        approval_timeout_secs: 1,
        ..Options::default()
    })
    .await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s], "events": ["approval.needed", "approval.resolved", "turn.completed"]})).await;
    rig.llm.push_all([
        Turn::tool_calls([call("c1", "shell__exec", json!({"command": "echo late"}))]),
        Turn::text("timed out"),
    ]);
    rig.send(&s, "run echo").await;
    ws.until(EventKind::ApprovalNeeded).await;
    let resolved = ws.until(EventKind::ApprovalResolved).await.pop().unwrap();
    let resolved = resolved_of(&resolved);
    assert_eq!(
        resolved.outcome,
        ApprovalOutcome::TimedOut {
            default: ApprovalDecision::Deny
        },
        "{resolved:?}"
    );
    ws.until(EventKind::TurnCompleted).await;
    let calls = rig.core.store().list_tool_calls(&s).unwrap();
    assert_ne!(
        calls[0].status,
        pryx_store::ToolCallStatus::Completed,
        "{calls:?}"
    );
}
