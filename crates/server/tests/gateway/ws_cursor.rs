#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the session bus alone cannot tell a socket: a subscribe with the cursor of an earlier
//! `subscribed` is offered the sessions created meanwhile, the cursor never vouches for an event
//! that was stored but not yet published when the subscription was made, and versions stored by
//! another process (never on this bus) still reach a live socket, in order.

use crate::common;

use common::*;
use pryx_testkit::events::trace_event;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_offers_sessions_created_while_the_client_was_away() {
    let rig = Rig::start().await;
    let known = rig.new_session().await;
    rig.llm.push(Turn::text("one"));
    rig.send(&known, "first").await;
    rig.wait_completed(&known).await;
    let mut ws = rig.ws().await;
    let first = ws.subscribe_answer(json!({"cursor": 0})).await;
    let held = versions_of(&first.events, &known);
    assert_eq!(held, stored_versions(&rig, &known));
    drop(ws);
    // Away: a turn on the known session and a new session with a turn of its own.
    let new = rig.new_session().await;
    rig.llm.push_all([Turn::text("two"), Turn::text("three")]);
    rig.send(&known, "second").await;
    rig.send(&new, "hello").await;
    rig.wait_completed_n(&known, 2).await;
    rig.wait_completed(&new).await;
    let mut ws = rig.ws().await;
    let back = ws
        .subscribe_answer(json!({"since": {known.clone(): held.last()}, "cursor": first.cursor}))
        .await;
    assert!(back.errors.is_empty() && back.resets.is_empty());
    assert_eq!(
        versions_of(&back.events, &known),
        stored_versions(&rig, &known)[held.len()..]
    );
    assert_eq!(versions_of(&back.events, &new), stored_versions(&rig, &new));
    assert!(back.cursor > first.cursor);
    // Nothing new: the same request with the new cursor replays nothing.
    let mut ws = rig.ws().await;
    let since = json!({known.clone(): stored_versions(&rig, &known).len(), new.clone(): stored_versions(&rig, &new).len()});
    let again = ws
        .subscribe_answer(json!({"since": since, "cursor": back.cursor}))
        .await;
    assert!(again.events.is_empty(), "{:?}", again.events);
    assert_eq!(again.cursor, back.cursor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cursor_stays_below_an_event_stored_but_not_yet_published() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let store = rig.core.store();
    // Stored, not yet on the bus (as between a turn's write and its publication).
    let pending = store
        .append_event(
            &s,
            pryx_protocol::Surface::Core,
            &trace_event("n", 1).into(),
        )
        .unwrap();
    let mut ws = rig.ws().await;
    let live = ws.subscribe_answer(json!({})).await;
    assert!(live.events.is_empty());
    drop(ws);
    // The event would have come live on that socket, which is gone before it was published: a
    // client resuming from the cursor it got must still be offered it.
    rig.core.bus().publish(&pending);
    let mut ws = rig.ws().await;
    let back = ws.subscribe_answer(json!({"cursor": live.cursor})).await;
    assert_eq!(versions_of(&back.events, &s), vec![1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_another_process_stored_go_out_before_the_next_live_one() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"since": {s.clone(): 0}})).await;
    let store = rig.core.store();
    let trace = |n: u64| -> pryx_protocol::EventPayload { trace_event("n", n).into() };
    // Two events stored behind the bus's back, then one published.
    for n in 1..=2 {
        store
            .append_event(&s, pryx_protocol::Surface::Cli, &trace(n))
            .unwrap();
    }
    let third = store
        .append_event(&s, pryx_protocol::Surface::Core, &trace(3))
        .unwrap();
    rig.core.bus().publish(&third);
    let got: Vec<u64> = [
        ws.next_event().await,
        ws.next_event().await,
        ws.next_event().await,
    ]
    .iter()
    .filter_map(|e| e.version)
    .collect();
    assert_eq!(got, [1, 2, 3]);
    // And nothing twice: a subscribe from 0 on the same socket replays nothing.
    let again = ws.subscribe(json!({"since": {s.clone(): 0}})).await;
    assert!(again.is_empty(), "{again:?}");
}
