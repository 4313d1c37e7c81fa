#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What a `/v1/chat/completions` client cannot do, against the real server and the scripted
//! model: make a tool reach outside the agent's workspace, skip an approval, or read another
//! client's session.

use crate::common;

use common::*;
use pryx_protocol::EventKind;
use pryx_store::ToolCallStatus;
use serde_json::{Value, json};

async fn chat(
    rig: &Rig,
    auth: &str,
    body: Value,
    session: Option<&str>,
) -> (u16, Option<String>, String) {
    let (status, sid, res) = rig.openai_chat(auth, &body, session).await;
    (status, sid, res.text().await.unwrap())
}

fn ask(text: &str) -> Value {
    json!({"model": "pryx:main", "messages": [{"role": "user", "content": text}]})
}

async fn key(rig: &Rig, name: &str) -> String {
    let (status, body) = rig.post("/api-keys", json!({"name": name})).await;
    assert_eq!(status, 201, "{body}");
    body["secret"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_stay_inside_the_workspace() {
    let rig = Rig::start().await;
    let workspace = rig.core.profiles()[0].workspace.clone();
    let secret_text = format!("outside-secret-{}", uuid::Uuid::new_v4().simple());
    // A sibling of the workspace (reached as `../name`) and a file in the data dir (absolute).
    let sibling_name = format!("pryx-outside-{}.txt", uuid::Uuid::new_v4().simple());
    let sibling = workspace.parent().unwrap().join(&sibling_name);
    std::fs::write(&sibling, &secret_text).unwrap();
    let absolute = rig.home().join("outside.txt");
    std::fs::write(&absolute, &secret_text).unwrap();
    let written = workspace
        .parent()
        .unwrap()
        .join(format!("{sibling_name}.w"));
    rig.llm.push_all([
        Turn::tool_calls([
            call(
                "c1",
                "fs__read",
                json!({"path": format!("../{sibling_name}")}),
            ),
            call(
                "c2",
                "fs__read",
                json!({"path": absolute.to_str().unwrap()}),
            ),
            call(
                "c3",
                "fs__write",
                json!({"path": written.to_str().unwrap(), "content": "x"}),
            ),
        ]),
        Turn::text("could not read them"),
    ]);
    let key = key(&rig, "editor").await;
    let (status, sid, text) = chat(&rig, &key, ask("read the files outside"), None).await;
    std::fs::remove_file(&sibling).unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(&secret_text), "{text}");
    assert!(!written.exists(), "a write outside the workspace happened");
    let sid = sid.unwrap();
    let calls = rig.core.store().list_tool_calls(&sid).unwrap();
    assert_eq!(calls.len(), 3, "{calls:?}");
    for c in &calls {
        assert!(
            matches!(c.status, ToolCallStatus::Denied | ToolCallStatus::Failed),
            "{c:?}"
        );
    }
    // The model never saw the content either.
    let seen = serde_json::to_string(
        &rig.llm
            .requests()
            .iter()
            .map(|r| &r.body)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(!seen.contains(&secret_text));
    let audit =
        serde_json::to_string(&rig.core.store().list_audit(Some(&sid), 50).unwrap()).unwrap();
    assert!(!audit.contains(&secret_text));
    assert_eq!(audit.matches("\"decision\":\"deny\"").count(), 3, "{audit}");
    assert!(audit.contains("outside the workspace"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_cannot_be_skipped() {
    let rig = Rig::with(Options {
        approval_timeout_secs: 1,
        ..Options::default()
    })
    .await;
    let workspace = rig.core.profiles()[0].workspace.clone();
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"events": ["approval.needed", "approval.resolved"]}))
        .await;
    rig.llm.push_all([
        Turn::tool_calls([call(
            "c1",
            "shell__exec",
            json!({"command": "touch ran.txt"}),
        )]),
        Turn::text("was not allowed"),
    ]);
    let key = key(&rig, "script").await;
    // Whatever a body may carry that looks like consent changes nothing.
    let mut body = ask("run touch");
    body["user"] = json!("approver");
    body["metadata"] = json!({"approve": "always", "decision": "approve", "scope": "always"});
    let (status, sid, text) = chat(&rig, &key, body, None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        ws.next_event().await.kind(),
        Some(EventKind::ApprovalNeeded)
    );
    let resolved = ws.next_event().await;
    assert_eq!(resolved.kind(), Some(EventKind::ApprovalResolved));
    assert!(
        format!("{:?}", resolved_of(&resolved).outcome).contains("TimedOut"),
        "{resolved:?}"
    );
    assert!(!workspace.join("ran.txt").exists());
    let calls = rig.core.store().list_tool_calls(&sid.unwrap()).unwrap();
    assert_ne!(calls[0].status, ToolCallStatus::Completed, "{calls:?}");
    assert!(rig.core.store().list_grants().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_read_another_session() {
    let rig = Rig::start().await;
    let (a, b) = (key(&rig, "a").await, key(&rig, "b").await);
    rig.llm.push_all([
        Turn::text("the answer for A only"),
        Turn::text("the answer for the token"),
        Turn::text("the answer in the terminal"),
        Turn::text("A again"),
        Turn::text("the token continues A"),
    ]);
    let (status, sid_a, text) = chat(&rig, &a, ask("private words of A"), None).await;
    assert_eq!(status, 200, "{text}");
    let sid_a = sid_a.unwrap();
    let (status, sid_token, _) = chat(&rig, TOKEN, ask("words of the token"), None).await;
    assert_eq!(status, 200);
    let tui = rig.new_session().await;
    rig.send(&tui, "terminal words").await;
    rig.wait_completed(&tui).await;

    for (who, sid) in [(&b, &sid_a), (&a, sid_token.as_ref().unwrap()), (&a, &tui)] {
        let (status, _, text) = chat(&rig, who, ask("go on"), Some(sid)).await;
        assert_eq!(status, 404, "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["code"], "session_not_found", "{body}");
        for words in ["private", "the answer", "terminal", "of the token"] {
            assert!(!text.contains(words), "{text}");
        }
    }
    // Its own session and the token continue it.
    let history = json!({"model": "pryx:main", "messages": [
        {"role": "user", "content": "private words of A"},
        {"role": "assistant", "content": "the answer for A only"},
        {"role": "user", "content": "more"}]});
    let (status, _, text) = chat(&rig, &a, history.clone(), Some(&sid_a)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("A again"), "{text}");
    let mut history = history;
    let messages = history["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": "A again"}));
    messages.push(json!({"role": "user", "content": "and more"}));
    let (status, _, text) = chat(&rig, TOKEN, history, Some(&sid_a)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("the token continues A"), "{text}");
}
