#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A session's context over HTTP: its breakdown, compaction on request (and the clear refusals
//! around it), pins with their cap, and forks.

use crate::common;

use common::*;
use serde_json::{Value, json};

async fn messages(rig: &Rig, sid: &str) -> Vec<Value> {
    let (status, body) = rig.get(&format!("/sessions/{sid}")).await;
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().unwrap().clone()
}

async fn turns(rig: &Rig, sid: &str, prompts: &[&str]) {
    for (i, p) in prompts.iter().enumerate() {
        rig.llm.push(Turn::text(format!("answer {i}")));
        rig.send(sid, p).await;
        rig.wait_completed_n(sid, i + 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_on_request_shows_its_cost_first_and_refuses_what_it_cannot_do() {
    let rig = Rig::start().await;
    let sid = rig.new_session().await;
    let (status, body) = rig
        .post(&format!("/sessions/{sid}/compact"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("empty"),
        "{body}"
    );

    turns(&rig, &sid, &["first request", "second request"]).await;
    let (status, ctx) = rig.get(&format!("/sessions/{sid}/context")).await;
    assert_eq!(status, 200, "{ctx}");
    assert_eq!(ctx["messages"], 4);
    assert_eq!(ctx["compactions"], 0);
    assert!(ctx["window"].as_u64().unwrap() > 0 && ctx["tokens"].as_u64().unwrap() > 0);
    assert!(ctx["parts"]["tools"].as_u64().unwrap() > 0, "{ctx}");
    assert_eq!(
        ctx["compaction"]["messages"], 2,
        "what /compact would take: {ctx}"
    );
    assert!(ctx["compaction"]["cost_usd"].as_f64().is_some());

    rig.llm.push(Turn::text("## Goal\n- two requests"));
    let (status, done) = rig
        .post(&format!("/sessions/{sid}/compact"), json!({}))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["trigger"].as_str(), done["through_seq"].as_u64()),
        (Some("user"), Some(2))
    );
    let (_, ctx) = rig.get(&format!("/sessions/{sid}/context")).await;
    assert_eq!(
        (
            ctx["compactions"].as_u64(),
            ctx["compacted_through"].as_u64()
        ),
        (Some(1), Some(2))
    );
    assert!(ctx.get("compaction").is_none(), "{ctx}");
    let (status, body) = rig
        .post(&format!("/sessions/{sid}/compact"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already compact")
    );
    assert_eq!(messages(&rig, &sid).await.len(), 4, "nothing deleted");

    // The next turn gets the summary in place of the first one.
    rig.llm.push(Turn::text("third answer"));
    rig.send(&sid, "third request").await;
    rig.wait_completed_n(&sid, 3).await;
    let sent = rig.llm.requests().last().unwrap().body.to_string();
    assert!(
        sent.contains("two requests") && !sent.contains("first request"),
        "{sent}"
    );
    assert!(
        sent.contains("second request"),
        "the latest request then was kept"
    );

    let (status, body) = rig.post("/sessions/nope/compact", json!({})).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_summary_is_a_502_and_changes_nothing() {
    let rig = Rig::start().await;
    let sid = rig.new_session().await;
    turns(&rig, &sid, &["one", "two"]).await;
    rig.llm.push(Turn::status(400, None, "no"));
    let (status, body) = rig
        .post(&format!("/sessions/{sid}/compact"), json!({}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "COMPACTION_FAILED");
    let (_, ctx) = rig.get(&format!("/sessions/{sid}/context")).await;
    assert_eq!(ctx["compactions"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_are_capped_and_unknown_messages_are_404() {
    let rig = Rig::start().await;
    let sid = rig.new_session().await;
    let long = "r".repeat(15_000);
    turns(&rig, &sid, &[&long, "short rule"]).await;
    let listed = messages(&rig, &sid).await;
    let (first, third) = (
        listed[0]["id"].as_str().unwrap(),
        listed[2]["id"].as_str().unwrap(),
    );
    let (status, body) = rig
        .put(&format!("/sessions/{sid}/messages/{first}/pin"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pinned"], true);
    let (status, body) = rig
        .put(&format!("/sessions/{sid}/messages/{third}/pin"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    // A third pin would pass the 20,000 characters.
    let (status, body) = rig
        .put(
            &format!(
                "/sessions/{sid}/messages/{}/pin",
                listed[1]["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "a short answer fits: {body}");
    rig.llm.push(Turn::text("ok"));
    rig.send(&sid, &"s".repeat(6_000)).await;
    rig.wait_completed_n(&sid, 3).await;
    let listed = messages(&rig, &sid).await;
    let big = listed[4]["id"].as_str().unwrap();
    let (status, body) = rig
        .put(&format!("/sessions/{sid}/messages/{big}/pin"), json!({}))
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("20000") && message.contains("unpin one of message 1"),
        "{message}"
    );

    let (status, body) = rig
        .put(&format!("/sessions/{sid}/messages/nope/pin"), json!({}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has no message nope")
    );
    let (status, body) = rig
        .delete(&format!("/sessions/{sid}/messages/{first}/pin"))
        .await;
    assert_eq!(
        (status, body["pinned"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    let (_, ctx) = rig.get(&format!("/sessions/{sid}/context")).await;
    assert_eq!(ctx["pinned"].as_array().unwrap().len(), 2, "{ctx}");
    assert_eq!(ctx["pinned_cap"], 20_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_copies_up_to_its_message_and_links_to_its_parent() {
    let rig = Rig::start().await;
    let sid = rig.new_session().await;
    turns(&rig, &sid, &["alpha", "beta"]).await;
    let listed = messages(&rig, &sid).await;
    let at = listed[1]["id"].as_str().unwrap();
    let (status, child) = rig
        .post(&format!("/sessions/{sid}/fork"), json!({"message_id": at}))
        .await;
    assert_eq!(status, 201, "{child}");
    assert_eq!(child["parent_id"], sid.as_str());
    let cid = child["id"].as_str().unwrap().to_string();
    let copied: Vec<String> = messages(&rig, &cid)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(copied, ["alpha", "answer 0"]);
    // The child goes its own way; the parent is unchanged.
    rig.llm.push(Turn::text("gamma answer"));
    rig.send(&cid, "gamma").await;
    rig.wait_completed_n(&cid, 1).await;
    let sent = rig.llm.requests().last().unwrap().body.to_string();
    assert!(sent.contains("alpha") && !sent.contains("beta"), "{sent}");
    assert_eq!(messages(&rig, &sid).await.len(), 4);

    let (status, whole) = rig.post(&format!("/sessions/{sid}/fork"), json!({})).await;
    assert_eq!(status, 201, "{whole}");
    let (status, body) = rig
        .post(
            &format!("/sessions/{sid}/fork"),
            json!({"message_id": "nope"}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let empty = rig.new_session().await;
    let (status, body) = rig
        .post(&format!("/sessions/{empty}/fork"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = rig
        .post(&format!("/sessions/{sid}/fork"), json!({"message_id": 5}))
        .await;
    assert_eq!(status, 400, "{body}");
}
