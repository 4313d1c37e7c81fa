#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Switching the model of a running core: the next turn of every session runs on the new one.

mod common;

use common::*;
use serde_json::{Value, json};

async fn put_model(rig: &Rig, body: Value) -> (u16, Value) {
    let r = rig
        .http
        .put(rig.url("/model"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_turn_reaches_the_new_provider_and_model() {
    let other = ScriptedLlm::start().await;
    let rig = Rig::with(Options {
        other_llm: Some(other.base_url()),
        ..Options::default()
    })
    .await;

    let session = rig.new_session().await;
    rig.llm.push(Turn::text("from mock"));
    rig.send(&session, "hello").await;
    rig.wait_completed_n(&session, 1).await;
    assert_eq!(rig.llm.requests().last().unwrap().body["model"], "gpt-4o");

    let (status, body) = put_model(&rig, json!({"id": "other/gpt-4o-mini"})).await;
    assert_eq!((status, &body), (200, &json!({"id": "other/gpt-4o-mini"})));
    assert_eq!(
        rig.get("/diagnostics").await.1["model"],
        "other/gpt-4o-mini"
    );
    let (_, models) = rig.get("/models").await;
    assert_eq!(models["models"][0]["id"], "other/gpt-4o-mini", "{models}");
    assert_eq!(models["models"][0]["default"], true, "{models}");

    other.push(Turn::text("from other"));
    rig.send(&session, "again").await;
    rig.wait_completed_n(&session, 2).await;
    let asked = other.requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].body["model"], "gpt-4o-mini");
    assert_eq!(rig.llm.requests().len(), 1, "the old provider is not asked");
    let (_, detail) = rig.get(&format!("/sessions/{session}")).await;
    assert_eq!(detail["session"]["model"], "other/gpt-4o-mini", "{detail}");

    // New sessions may name the new model, no longer the old one.
    let (status, _) = rig
        .post("/sessions", json!({"model": "other/gpt-4o-mini"}))
        .await;
    assert_eq!(status, 201);
    let (status, body) = rig.post("/sessions", json!({"model": "mock/gpt-4o"})).await;
    assert_eq!(status, 404, "{body}");

    let (_, audit) = rig.get("/audit?limit=50").await;
    let changed = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "model.changed")
        .cloned()
        .unwrap_or_else(|| panic!("no model.changed row in {audit}"));
    assert_eq!(changed["actor"], "api");
    assert_eq!(changed["resource_id"], "other/gpt-4o-mini");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_provider_is_not_found_and_malformed_ids_are_refused() {
    let rig = Rig::start().await;
    for id in ["", "gpt-4o", "mock/", "/gpt-4o", "mock/gpt 4o"] {
        let (status, body) = put_model(&rig, json!({ "id": id })).await;
        assert_eq!(status, 400, "{id}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_FAILED", "{body}");
    }
    let (status, body) = put_model(&rig, json!({"id": "nobody/gpt-4o"})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"nobody\" is not configured"),
        "the loader's message is passed on: {body}"
    );
    assert_eq!(rig.get("/diagnostics").await.1["model"], "mock/gpt-4o");
}
