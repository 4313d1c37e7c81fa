#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Approval answers naming a key twice are refused on REST and on the socket; standing grants
//! are listed and revoked over REST (`GET`/`DELETE /approvals/grants…`), used without asking
//! while they hold, and audited when revoked.

use crate::common;

use common::*;
use pryx_protocol::EventKind;
use pryx_protocol::ws::{WsControl, WsServerMessage};
use serde_json::json;

/// Starts a turn that runs `command` and returns the approval it raised, if it raised one
/// before the turn completed.
async fn run_echo(
    rig: &Rig,
    ws: &mut Ws,
    session: &str,
    command: &str,
) -> Option<pryx_protocol::api::PendingApproval> {
    rig.llm.push_all([
        Turn::tool_calls([call("c1", "shell__exec", json!({ "command": command }))]),
        Turn::text("done"),
    ]);
    rig.send(session, "run it").await;
    loop {
        let e = ws.next_event().await;
        match e.kind() {
            Some(EventKind::ApprovalNeeded) => return Some(approval_of(&e).clone()),
            Some(EventKind::TurnCompleted) => return None,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_naming_a_key_twice_are_refused_on_rest_and_on_the_socket() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s], "events": ["approval.needed", "turn.completed"]}))
        .await;
    let asked = run_echo(&rig, &mut ws, &s, "echo twice").await.unwrap();
    let id = asked.id.as_str();

    let r = rig
        .http
        .post(rig.url(&format!("/approvals/{id}")))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"decision":"deny","decision":"approve"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_FAILED");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("duplicate key `decision`"), "{message}");

    ws.send_text(&format!(
        r#"{{"type":"tool.response","request_id":"{id}","decision":"deny","decision":"approve"}}"#
    ))
    .await;
    match ws.next().await {
        WsServerMessage::Control(WsControl::Error { error }) => {
            assert!(
                error.message.contains("duplicate key `decision`"),
                "{error:?}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // Neither answer counted: the question still waits, and a proper answer settles it.
    let (_, pending) = rig.get("/approvals").await;
    assert_eq!(pending["approvals"][0]["id"], id);
    let (status, _) = rig
        .post(&format!("/approvals/{id}"), json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 200);
    ws.until(EventKind::TurnCompleted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_are_listed_used_and_revoked_over_rest() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s], "events": ["approval.needed", "turn.completed"]}))
        .await;
    let (_, empty) = rig.get("/approvals/grants").await;
    assert_eq!(empty, json!({"grants": []}));

    let asked = run_echo(&rig, &mut ws, &s, "echo granted").await.unwrap();
    let (status, _) = rig
        .post(
            &format!("/approvals/{}", asked.id),
            json!({"decision": "approve", "scope": "always"}),
        )
        .await;
    assert_eq!(status, 200);
    ws.until(EventKind::TurnCompleted).await;

    let (status, list) = rig.get("/approvals/grants").await;
    assert_eq!(status, 200, "{list}");
    let grants = list["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{list}");
    let g = &grants[0];
    assert_eq!(g["tool"], "shell.exec");
    assert_eq!(g["scope"], "always");
    assert_eq!(g["session_id"], serde_json::Value::Null);
    assert_eq!(g["workspace"], asked.workspace.clone().unwrap().as_str());
    assert_eq!(g["policy"], asked.policy.clone().unwrap().as_str());
    assert_eq!(g["fingerprint"], asked.fingerprint.as_str());
    assert_eq!(g["arguments"], json!({"command": "echo granted"}));
    assert_eq!(
        (g["uses"].as_u64(), g["expired"].as_bool()),
        (Some(0), Some(false))
    );
    assert!(g["expires_at"].is_string());
    let id = g["id"].as_str().unwrap().to_string();

    // The same call runs without asking, and the use is counted.
    assert!(run_echo(&rig, &mut ws, &s, "echo granted").await.is_none());
    let (_, list) = rig.get("/approvals/grants").await;
    assert_eq!(list["grants"][0]["uses"], 1);
    assert!(list["grants"][0]["last_used_at"].is_string());

    let (status, body) = rig
        .delete(&format!("/approvals/grants/{id}?surface=tui"))
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(rig.get("/approvals/grants").await.1, json!({"grants": []}));
    let (status, body) = rig.delete(&format!("/approvals/grants/{id}")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pryx approvals list"),
        "{body}"
    );
    let audit = rig.core.store().list_audit(None, 200).unwrap();
    let revoked = audit
        .iter()
        .find(|a| a.entry.action == "grant.revoked")
        .expect("grant.revoked audited");
    assert_eq!(revoked.entry.actor, "user:tui");
    assert_eq!(revoked.entry.resource_id.as_deref(), Some(id.as_str()));

    // Revoked: the same call asks again.
    let again = run_echo(&rig, &mut ws, &s, "echo granted").await.unwrap();
    let (status, _) = rig
        .post(
            &format!("/approvals/{}", again.id),
            json!({"decision": "deny"}),
        )
        .await;
    assert_eq!(status, 200);
    ws.until(EventKind::TurnCompleted).await;
}
