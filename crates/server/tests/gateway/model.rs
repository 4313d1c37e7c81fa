#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The default model of a running core (persisted) and the model of one session.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_model_is_persisted_and_each_session_keeps_or_switches_its_own() {
    let other = ScriptedLlm::start().await;
    let rig = Rig::with(Options {
        other_llm: Some(other.base_url()),
        ..Options::default()
    })
    .await;

    let old = rig.new_session().await;
    rig.llm.push(Turn::text("from mock"));
    rig.send(&old, "hello").await;
    rig.wait_completed_n(&old, 1).await;
    assert_eq!(rig.llm.requests().last().unwrap().body["model"], "gpt-4o");

    let (status, body) = rig.put("/model", json!({"id": "other/gpt-4o-mini"})).await;
    assert_eq!((status, &body), (200, &json!({"id": "other/gpt-4o-mini"})));
    assert_eq!(
        rig.get("/diagnostics").await.1["model"],
        "other/gpt-4o-mini"
    );
    let (_, models) = rig.get("/models").await;
    assert_eq!(models["models"][0]["id"], "other/gpt-4o-mini", "{models}");
    assert_eq!(models["models"][0]["default"], true, "{models}");
    // Persisted through the one config writer, so a restart keeps it.
    let config: Value =
        serde_json::from_slice(&std::fs::read(rig.home().join("config.json")).unwrap()).unwrap();
    assert_eq!(config["defaults"]["model"], "other/gpt-4o-mini", "{config}");
    assert!(config["revision"].as_u64().unwrap() >= 1, "{config}");

    // The existing session keeps its model; a new one gets the new default.
    rig.llm.push(Turn::text("still mock"));
    rig.send(&old, "again").await;
    rig.wait_completed_n(&old, 2).await;
    assert_eq!(rig.llm.requests().len(), 2);
    let new = rig.new_session().await;
    other.push(Turn::text("from other"));
    rig.send(&new, "hi").await;
    rig.wait_completed_n(&new, 1).await;
    assert_eq!(other.requests()[0].body["model"], "gpt-4o-mini");

    // PATCH switches one session for its later turns.
    let (status, body) = rig
        .patch(
            &format!("/sessions/{old}"),
            json!({"model": "other/gpt-4o"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "other/gpt-4o", "{body}");
    other.push(Turn::text("switched"));
    rig.send(&old, "third").await;
    rig.wait_completed_n(&old, 3).await;
    assert_eq!(other.requests().last().unwrap().body["model"], "gpt-4o");
    assert_eq!(rig.llm.requests().len(), 2, "the old provider is not asked");

    let (_, audit) = rig.get("/audit?limit=50").await;
    let rows = audit["entries"].as_array().unwrap();
    let changed = rows
        .iter()
        .find(|e| e["action"] == "model.changed")
        .unwrap_or_else(|| panic!("no model.changed row in {audit}"));
    assert_eq!(changed["actor"], "api");
    assert_eq!(changed["resource_id"], "other/gpt-4o-mini");
    assert!(
        rows.iter()
            .any(|e| e["action"] == "session.model_changed" && e["session_id"] == old.as_str()),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_provider_is_not_found_and_malformed_ids_are_refused() {
    let rig = Rig::start().await;
    for id in ["", "gpt-4o", "mock/", "/gpt-4o", "mock/gpt 4o"] {
        let (status, body) = rig.put("/model", json!({ "id": id })).await;
        assert_eq!(status, 400, "{id}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_FAILED", "{body}");
    }
    let (status, body) = rig.put("/model", json!({"id": "nobody/gpt-4o"})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"nobody/gpt-4o\" does not name a configured provider"),
        "the loader's message is passed on: {body}"
    );
    assert_eq!(rig.get("/diagnostics").await.1["model"], "mock/gpt-4o");
}
