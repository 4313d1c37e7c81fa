#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every REST method of the client against a real core served on loopback, errors with their
//! codes, and discovery through a data dir.

use crate::common;

use common::*;
use pryx_client::{Client, ClientError, Filter};
use pryx_config::DataDir;
use pryx_protocol::api::{ApprovalDecision, ApprovalScope, CoreMetadata, CreateSession};
use pryx_protocol::message::Role;
use pryx_protocol::{ErrorCode, EventKind, TurnStop};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_endpoints() {
    let rig = Rig::start().await;
    let c = &rig.client;
    let h = c.health().await.unwrap();
    assert_eq!(h.status, "healthy");
    assert_eq!(c.ready().await.unwrap().status, "ready");
    let d = c.diagnostics().await.unwrap();
    assert_eq!(d.policy, "workspace-only");
    assert_eq!(d.model, "mock/gpt-4o");
    assert_eq!(d.components.database, "ok");
    let models = c.models().await.unwrap();
    assert_eq!(models[0].id, "mock/gpt-4o");
    assert!(models[0].default);
    assert!(
        models[1..]
            .iter()
            .all(|m| !m.default && m.provider == "mock")
    );
    let tools = c.tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "shell.exec"), "{tools:?}");
    assert!(c.audit(None, Some(10)).await.unwrap().entries.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_turns_search_audit_and_delete() {
    let rig = Rig::start().await;
    let c = &rig.client;
    let s = c
        .create_session(&CreateSession {
            title: Some("first".into()),
            ..CreateSession::default()
        })
        .await
        .unwrap();
    assert_eq!(s.title, "first");
    let other = c.create_session(&CreateSession::default()).await.unwrap();

    std::fs::write(rig.ws.path().join("notes.txt"), "zebra crossing\n").unwrap();
    rig.llm.push_all([
        Turn::tool_calls([call("r1", "fs__read", json!({"path": "notes.txt"}))]),
        Turn::text("The notes mention a zebra."),
    ]);
    let turn = c.send_message(&s.id, "what do my notes say").await.unwrap();
    assert_eq!(turn.session_id, s.id);
    assert_eq!(turn.after_version, 0);
    let done = rig.wait_completed(&s.id, 1).await;
    assert_eq!(done.stop(), Some(TurnStop::Completed), "{done:?}");

    let detail = c.get_session(&s.id).await.unwrap();
    let roles: Vec<Role> = detail.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::Tool, Role::Assistant]
    );
    assert_eq!(
        detail.messages.last().unwrap().text,
        "The notes mention a zebra."
    );
    assert_eq!(
        detail.last_version,
        *rig.stored_versions(&s.id).last().unwrap()
    );

    let page = c.list_sessions(Some(10), None).await.unwrap();
    assert_eq!(page.sessions.len(), 2);
    assert_eq!(page.limit, 10);
    let page = c.list_sessions(Some(1), Some(1)).await.unwrap();
    assert_eq!(page.sessions.len(), 1);
    assert_eq!(page.offset, 1);

    let hits = c.search_sessions("zebra", None, None).await.unwrap();
    assert_eq!(hits.sessions.len(), 1);
    assert_eq!(hits.sessions[0].id, s.id);
    assert!(
        hits.sessions[0]
            .snippet
            .as_deref()
            .unwrap()
            .contains("zebra")
    );
    assert!(
        c.search_sessions("giraffe", None, None)
            .await
            .unwrap()
            .sessions
            .is_empty()
    );

    let audit = c.audit(Some(&s.id), None).await.unwrap();
    assert!(!audit.entries.is_empty());
    assert!(
        audit
            .entries
            .iter()
            .all(|e| e.session_id.as_deref() == Some(s.id.as_str()))
    );
    assert!(
        c.audit(Some(&other.id), None)
            .await
            .unwrap()
            .entries
            .is_empty()
    );

    c.delete_session(&other.id).await.unwrap();
    let e = c.get_session(&other.id).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound));
    assert_eq!(e.status(), Some(404));
    let e = c.delete_session(&other.id).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_answer_once_and_cancel_a_waiting_turn() {
    let rig = Rig::start().await;
    let c = &rig.client;
    let s = c.create_session(&CreateSession::default()).await.unwrap();
    let mut sub = c
        .subscribe(Filter::session(&s.id).kinds([EventKind::ApprovalNeeded]))
        .await
        .unwrap();
    rig.llm.push_all([
        Turn::tool_calls([call("x1", "shell__exec", json!({"command": "echo hi"}))]),
        Turn::text("ran it"),
        Turn::tool_calls([call("x2", "shell__exec", json!({"command": "echo again"}))]),
    ]);
    c.send_message(&s.id, "run echo").await.unwrap();
    let asked = next(&mut sub).await;
    let id = approval_of(&asked).id.clone();
    wait_pending(c, &id).await;
    let pending = c.pending_approvals().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, id);
    assert_eq!(pending[0].tool, "shell.exec");
    let accepted = c
        .answer_approval(&id, ApprovalDecision::Approve, ApprovalScope::Once)
        .await
        .unwrap();
    assert_eq!(accepted.decision, ApprovalDecision::Approve);
    // The first answer won; a second one is refused with the API's code.
    let late = c
        .answer_approval(&id, ApprovalDecision::Deny, ApprovalScope::Once)
        .await
        .unwrap_err();
    assert_eq!(late.code(), Some(ErrorCode::NotFound), "{late}");
    let done = rig.wait_completed(&s.id, 1).await;
    assert_eq!(done.stop(), Some(TurnStop::Completed), "{done:?}");

    // A turn waiting for an answer is cancelled through the API.
    let turn = c.send_message(&s.id, "again").await.unwrap();
    let again = next(&mut sub).await;
    wait_pending(c, &approval_of(&again).id).await;
    let e = c.send_message(&s.id, "meanwhile").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::Conflict), "{e}");
    let cancelled = c.cancel_turn(&turn.turn_id).await.unwrap();
    assert_eq!(cancelled.session_id, s.id);
    let done = rig.wait_completed(&s.id, 2).await;
    assert_eq!(done.stop(), Some(TurnStop::Cancelled), "{done:?}");
    let e = c.cancel_turn(&turn.turn_id).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound));
    assert!(c.pending_approvals().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_and_dead_core_are_told_apart() {
    let mut rig = Rig::start().await;
    let bad = Client::new(&format!("http://127.0.0.1:{}", rig.port), "wrong").unwrap();
    assert_eq!(
        bad.health().await.unwrap().status,
        "healthy",
        "health is public"
    );
    let e = bad.list_sessions(None, None).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::Unauthorized));
    assert_eq!(e.status(), Some(401));
    let e = bad.subscribe(Filter::all()).await.err().unwrap();
    assert_eq!(e.code(), Some(ErrorCode::Unauthorized), "{e}");
    let e = rig
        .client
        .send_message("no-such-session", "hi")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound));
    rig.stop_server().await;
    let e = rig.client.health().await.unwrap_err();
    assert!(e.is_unreachable(), "{e}");
    assert!(e.to_string().contains("pryx serve"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_reads_metadata_and_token_and_checks_the_core() {
    let rig = Rig::start().await;
    let home = tempfile::tempdir().unwrap();
    let dir = DataDir::at(home.path());
    assert!(matches!(
        Client::discover(&dir).await,
        Err(ClientError::NotRunning { .. })
    ));
    let mut meta = CoreMetadata {
        port: rig.port,
        pid: std::process::id(),
        version: "0.1.0".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        bind: "127.0.0.1".into(),
        launch: None,
    };
    std::fs::write(dir.metadata_file(), serde_json::to_vec(&meta).unwrap()).unwrap();
    assert!(matches!(
        Client::discover(&dir).await,
        Err(ClientError::Token { .. })
    ));
    std::fs::write(
        home.path().join(pryx_client::TOKEN_FILE),
        format!("{TOKEN}\n"),
    )
    .unwrap();
    let found = Client::discover_with_metadata(&dir).await.unwrap();
    assert_eq!(found.metadata, meta);
    assert_eq!(
        found.client.base_url(),
        format!("http://127.0.0.1:{}", rig.port)
    );
    assert!(found.client.list_sessions(None, None).await.is_ok());

    // A wildcard bind is reached on loopback.
    meta.bind = "0.0.0.0".into();
    std::fs::write(dir.metadata_file(), serde_json::to_vec(&meta).unwrap()).unwrap();
    assert!(Client::discover(&dir).await.is_ok());

    // A dead pid is stale, whatever answers on the port.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    meta.pid = dead;
    std::fs::write(dir.metadata_file(), serde_json::to_vec(&meta).unwrap()).unwrap();
    assert!(matches!(
        Client::discover(&dir).await,
        Err(ClientError::Stale { pid }) if pid == dead
    ));

    // A live pid whose port answers nothing is unreachable.
    meta.pid = std::process::id();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    meta.port = closed.local_addr().unwrap().port();
    drop(closed);
    std::fs::write(dir.metadata_file(), serde_json::to_vec(&meta).unwrap()).unwrap();
    let e = Client::discover(&dir).await.unwrap_err();
    assert!(e.is_unreachable(), "{e}");
}
