#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A message that cannot fit the session's model is refused before it is stored, and a
//! session's last user message can be taken back with what answered it.

use crate::common;

use common::*;
use serde_json::{Value, json};

async fn messages(rig: &Rig, sid: &str) -> Vec<Value> {
    let (status, body) = rig.get(&format!("/sessions/{sid}")).await;
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_too_large_for_the_model_is_refused_and_nothing_is_kept() {
    let rig = Rig::start().await;
    // A model the catalog does not know gets the conservative 8,192-token window.
    let (status, body) = rig
        .post("/sessions", json!({"model": "mock/tiny-local"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let sid = body["id"].as_str().unwrap().to_string();
    let (status, body) = rig
        .post(
            &format!("/sessions/{sid}/messages"),
            json!({"content": "word ".repeat(9_000)}),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "LLM_CONTEXT_EXCEEDED", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("8192"), "names the limit: {message}");
    assert!(message.contains("shorten"), "says what to do: {message}");
    assert!(messages(&rig, &sid).await.is_empty());
    assert!(rig.llm.requests().is_empty(), "the model was never asked");

    // The session is unharmed: the next message runs.
    rig.llm.push(Turn::text("fine"));
    rig.send(&sid, "a short one").await;
    let end = rig.wait_completed(&sid).await;
    assert!(
        matches!(end, pryx_protocol::TurnEnd::Completed { .. }),
        "{end:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_user_message_and_its_answer_can_be_removed() {
    let rig = Rig::start().await;
    let sid = rig.new_session().await;
    rig.llm.push(Turn::text("one"));
    rig.send(&sid, "first").await;
    rig.wait_completed_n(&sid, 1).await;
    rig.llm.push(Turn::text("two"));
    rig.send(&sid, "second").await;
    rig.wait_completed_n(&sid, 2).await;
    let listed = messages(&rig, &sid).await;
    let ids: Vec<&str> = listed.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4, "{listed:?}");

    // Earlier history, and answers, stay.
    for id in [ids[0], ids[1], ids[3]] {
        let (status, body) = rig.delete(&format!("/sessions/{sid}/messages/{id}")).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "VALIDATION_FAILED");
    }
    let (status, body) = rig.delete(&format!("/sessions/{sid}/messages/nope")).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = rig
        .delete(&format!("/sessions/nope/messages/{}", ids[2]))
        .await;
    assert_eq!(status, 404, "{body}");

    let (status, body) = rig
        .delete(&format!("/sessions/{sid}/messages/{}", ids[2]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"], 2);
    let left: Vec<Value> = messages(&rig, &sid).await;
    let texts: Vec<&str> = left.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["first", "one"]);

    // The model no longer sees what was removed.
    rig.llm.push(Turn::text("three"));
    rig.send(&sid, "third").await;
    rig.wait_completed_n(&sid, 3).await;
    let asked = serde_json::to_string(&rig.llm.requests().last().unwrap().body).unwrap();
    assert!(
        asked.contains("first") && asked.contains("third"),
        "{asked}"
    );
    assert!(!asked.contains("second"), "{asked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_that_failed_mid_answer_is_retried_on_another_model_in_one_call() {
    let other = ScriptedLlm::start().await;
    let rig = Rig::with(Options {
        other_llm: Some(other.base_url()),
        ..Options::default()
    })
    .await;
    let sid = rig.new_session().await;
    rig.llm.push(Turn::cut_mid_stream("half of an answer"));
    rig.send(&sid, "tell me a story").await;
    let end = rig.wait_completed(&sid).await;
    assert!(
        matches!(end, pryx_protocol::TurnEnd::Error { .. }),
        "{end:?}"
    );
    let kept = messages(&rig, &sid).await;
    assert_eq!(
        kept.len(),
        2,
        "the part of the answer already shown is kept: {kept:?}"
    );
    assert_eq!(kept[1]["role"], "assistant");
    assert!("half of an answer".starts_with(kept[1]["text"].as_str().unwrap()));

    other.push(Turn::text("a whole story"));
    let (status, body) = rig
        .post(
            &format!("/sessions/{sid}/retry"),
            json!({"model": "other/gpt-4o-mini"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let ends = rig.wait_completed_n(&sid, 2).await;
    assert!(
        matches!(ends[1], pryx_protocol::TurnEnd::Completed { .. }),
        "{ends:?}"
    );
    let listed = messages(&rig, &sid).await;
    let texts: Vec<&str> = listed.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["tell me a story", "a whole story"]);
    assert_eq!(listed[1]["model"], "other/gpt-4o-mini");
    let asked = serde_json::to_string(&other.requests()[0].body).unwrap();
    assert!(asked.contains("tell me a story"), "{asked}");

    let (status, body) = rig.post("/sessions/nope/retry", json!({})).await;
    assert_eq!(status, 404, "{body}");
    let empty = rig.new_session().await;
    let (status, body) = rig
        .post(&format!("/sessions/{empty}/retry"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
}
