#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Switching the policy of a running core: new turns run under the new one.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn put_policy(rig: &Rig, body: Value) -> (u16, Value) {
    let r = rig
        .http
        .put(rig.url("/policy"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

fn write_call(id: &str) -> ScriptedToolCall {
    call(id, "fs__write", json!({"path": "out.txt", "content": "x"}))
}

/// Waits until an approval is pending; returns its id.
async fn pending_approval(rig: &Rig) -> Value {
    for _ in 0..500 {
        let (_, body) = rig.get("/approvals").await;
        if let Some(first) = body["approvals"].as_array().and_then(|a| a.first()) {
            return first.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no approval was asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_read_only_denies_writes_that_asked_before() {
    let rig = Rig::start().await;

    let before = rig.new_session().await;
    rig.llm
        .push_all([Turn::tool_calls([write_call("c1")]), Turn::text("asked")]);
    rig.send(&before, "write out.txt").await;
    let asked = pending_approval(&rig).await;
    assert_eq!(asked["tool"], "fs.write", "{asked}");
    let id = asked["id"].as_str().unwrap();
    let (status, _) = rig
        .post(&format!("/approvals/{id}"), json!({"decision": "deny"}))
        .await;
    assert_eq!(status, 200);
    rig.wait_completed(&before).await;

    let (status, body) = put_policy(&rig, json!({"name": "read-only"})).await;
    assert_eq!((status, &body), (200, &json!({"name": "read-only"})));
    assert_eq!(rig.get("/diagnostics").await.1["policy"], "read-only");

    let after = rig.new_session().await;
    rig.llm
        .push_all([Turn::tool_calls([write_call("c2")]), Turn::text("denied")]);
    rig.send(&after, "write out.txt").await;
    let done = rig.wait_completed(&after).await;
    assert_eq!(
        done.stop(),
        Some(pryx_protocol::TurnStop::Completed),
        "{done:?}"
    );
    let calls = rig.core.store().list_tool_calls(&after).unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].status, pryx_store::ToolCallStatus::Denied);
    let rule = calls[0].rule.clone().unwrap_or_default();
    assert!(rule.starts_with("read-only: "), "{rule}");
    assert!(
        rig.get("/approvals").await.1["approvals"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (_, audit) = rig.get("/audit?limit=50").await;
    let changed = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "policy.changed")
        .cloned()
        .unwrap_or_else(|| panic!("no policy.changed row in {audit}"));
    assert_eq!(changed["actor"], "api");
    assert_eq!(changed["resource_id"], "read-only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_policy_is_not_found_and_path_like_names_are_refused() {
    let rig = Rig::start().await;
    for name in ["/etc/passwd.yaml", "../x", "x.yaml", ""] {
        let (status, body) = put_policy(&rig, json!({ "name": name })).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_FAILED", "{body}");
    }
    let (status, body) = put_policy(&rig, json!({"name": "no-such-policy"})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown policy"),
        "the loader's message is passed on: {body}"
    );
    assert_eq!(rig.get("/diagnostics").await.1["policy"], "workspace-only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_files_are_listed_written_once_they_parse_and_removed_when_unused() {
    let rig = Rig::start().await;
    let (status, list) = rig.get("/policies").await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"read-only") && names.contains(&"workspace-only"),
        "{names:?}"
    );
    let (_, ro) = rig.get("/policies/read-only").await;
    assert_eq!(
        (ro["builtin"].clone(), ro["file"].clone()),
        (json!(true), Value::Null)
    );

    // A built-in's YAML saved under another name is a working file policy.
    let yaml = ro["yaml"]
        .as_str()
        .unwrap()
        .replace("name: read-only", "name: team-ro");
    let (status, saved) = rig.put("/policies/team-ro", json!({ "yaml": yaml })).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["builtin"], false);
    assert!(rig.home().join("policies/team-ro.yaml").is_file());
    let (status, _) = put_policy(&rig, json!({"name": "team-ro"})).await;
    assert_eq!(status, 200);

    for (name, body, why) in [
        ("read-only", json!({"yaml": yaml}), "built in"),
        ("other", json!({"yaml": yaml}), "must be `name: other`"),
        ("broken", json!({"yaml": "name: broken\ntools: ["}), ""),
        ("bad.name", json!({"yaml": yaml}), "letters, digits"),
    ] {
        let (status, e) = rig.put(&format!("/policies/{name}"), body).await;
        assert_eq!(status, 422, "{name}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(why), "{e}");
    }
    assert!(!rig.home().join("policies/other.yaml").exists());

    let (status, e) = rig.delete("/policies/team-ro").await;
    assert_eq!(status, 409, "the default policy was removed: {e}");
    put_policy(&rig, json!({"name": "workspace-only"})).await;
    let (status, _) = rig.delete("/policies/team-ro").await;
    assert_eq!(status, 204);
    assert!(!rig.home().join("policies/team-ro.yaml").exists());
    let (status, _) = rig.delete("/policies/read-only").await;
    assert_eq!(status, 422);
    let (status, _) = rig.get("/policies/team-ro").await;
    assert_eq!(status, 404);
}
