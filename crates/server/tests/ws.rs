#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The event socket: live events, filters, replay after a forced disconnect without loss or
//! duplicates, and the resync of a subscriber that falls behind.

mod common;

use common::*;
use futures_util::StreamExt;
use pryx_protocol::message::Role;
use pryx_protocol::ws::{WsControl, WsServerMessage};
use pryx_protocol::{EventKind, EventPayload, Surface};
use pryx_testkit::events::trace_event;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_in_order_with_filters() {
    let rig = Rig::start().await;
    let (a, b) = (rig.new_session().await, rig.new_session().await);
    let mut all = rig.ws().await;
    assert!(all.subscribe(json!({})).await.is_empty());
    let mut only_b_messages = rig.ws().await;
    only_b_messages
        .subscribe(json!({"sessions": [b], "events": ["session.message"]}))
        .await;
    rig.llm.push_all([Turn::text("to a"), Turn::text("to b")]);
    rig.send(&a, "hello a").await;
    let evs = all.until(EventKind::TurnCompleted).await;
    assert!(evs.iter().all(|e| e.session_id == a));
    let versions: Vec<u64> = evs.iter().filter_map(|e| e.version).collect();
    assert_eq!(
        versions,
        (1..=versions.len() as u64).collect::<Vec<_>>(),
        "persisted events arrive in version order"
    );
    assert!(
        evs.iter()
            .any(|e| e.kind() == Some(EventKind::SessionDelta) && e.version.is_none())
    );
    rig.send(&b, "hello b").await;
    let first = only_b_messages.next_event().await;
    let second = only_b_messages.next_event().await;
    assert_eq!(
        (first.session_id.as_str(), first.kind()),
        (b.as_str(), Some(EventKind::SessionMessage))
    );
    match &second.payload {
        EventPayload::SessionMessage(m) => assert_eq!(m.role, Role::Assistant, "{m:?}"),
        other => panic!("expected session.message, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_replays_exactly_what_was_missed() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s]})).await;
    rig.llm.push(Turn::text("one"));
    rig.send(&s, "first").await;
    let seen = ws.until(EventKind::TurnCompleted).await;
    let mut have: Vec<u64> = seen.iter().filter_map(|e| e.version).collect();
    // Forced disconnect: drop the TCP connection without a close handshake.
    drop(ws);
    rig.llm.push_all([Turn::text("two"), Turn::text("three")]);
    rig.send(&s, "second").await;
    rig.wait_completed_n(&s, 2).await;
    let last = *have.last().unwrap();
    let mut ws = rig.ws().await;
    let replayed = ws
        .subscribe(json!({"sessions": [s], "since": {s.clone(): last}}))
        .await;
    assert!(!replayed.is_empty());
    assert!(
        replayed.iter().all(|e| e.version.is_some()),
        "deltas are not replayed"
    );
    have.extend(replayed.iter().filter_map(|e| e.version));
    // A turn started right after the replay arrives live, with nothing repeated.
    rig.send(&s, "third").await;
    let live = ws.until(EventKind::TurnCompleted).await;
    have.extend(live.iter().filter_map(|e| e.version));
    let stored: Vec<u64> = rig
        .core
        .store()
        .events_since(&s, 0, 10_000)
        .unwrap()
        .iter()
        .filter_map(|e| e.version)
        .collect();
    assert_eq!(have, stored, "every stored event exactly once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_and_live_overlap_without_gap_or_duplicate() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let store = rig.core.store().clone();
    let bus = rig.core.bus().clone();
    let sid = s.clone();
    // Events keep coming while the client subscribes.
    let writer = tokio::spawn(async move {
        for n in 0..300 {
            let e = store
                .append_event(&sid, Surface::Core, &trace_event("n", n).into())
                .unwrap();
            bus.publish(&e);
            if n % 10 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(2)).await;
    let mut ws = rig.ws().await;
    let mut got: Vec<u64> = ws
        .subscribe(json!({"since": {s.clone(): 0}}))
        .await
        .iter()
        .filter_map(|e| e.version)
        .collect();
    writer.await.unwrap();
    while got.last() != Some(&300) {
        got.push(ws.next_event().await.version.unwrap());
    }
    assert_eq!(got, (1..=300).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_subscriber_is_told_to_resync_and_catches_up_from_the_store() {
    let rig = Rig::with(Options {
        bus_capacity: 8,
        ..Options::default()
    })
    .await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s]})).await;
    // Large events that the client does not read: socket buffers fill, the server's send blocks,
    // and the bus ring (8 events) overflows for this subscriber.
    let big = "x".repeat(64 * 1024);
    let total = 600u64;
    for _ in 0..total {
        let e = rig
            .core
            .store()
            .append_event(&s, Surface::Core, &trace_event("blob", big.as_str()).into())
            .unwrap();
        rig.core.bus().publish(&e);
    }
    let mut have = Vec::new();
    let dropped = loop {
        match ws.next().await {
            WsServerMessage::Event(e) => have.push(e.version.unwrap()),
            WsServerMessage::Control(WsControl::Resync { dropped }) => break dropped,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(dropped > 0);
    assert!((have.len() as u64) < total);
    assert_eq!(
        have,
        (1..=have.len() as u64).collect::<Vec<_>>(),
        "no gap before the resync"
    );
    let last = have.last().copied().unwrap_or(0);
    let replayed = ws
        .subscribe(json!({"sessions": [s], "since": {s.clone(): last}}))
        .await;
    have.extend(replayed.iter().filter_map(|e| e.version));
    assert_eq!(have, (1..=total).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_an_error_and_the_socket_stays_open() {
    let rig = Rig::start().await;
    let mut ws = rig.ws().await;
    ws.send(json!({"type": "subscribe", "events": ["no.such.event"]}))
        .await;
    match ws.next().await {
        WsServerMessage::Control(WsControl::Error { error }) => {
            assert_eq!(error.code, pryx_protocol::ErrorCode::ValidationFailed)
        }
        other => panic!("unexpected {other:?}"),
    }
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, WsServerMessage::Control(WsControl::Pong));
    // Server shutdown closes the socket.
    let server = {
        let mut rig = rig;
        let s = rig.server.take().unwrap();
        (s, rig)
    };
    server.0.shutdown(Duration::from_secs(2)).await;
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.inner.next().await {
                None
                | Some(Err(_))
                | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => break,
                _ => {}
            }
        }
    })
    .await;
    assert!(end.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_warning_and_a_budget_stop_reach_a_websocket_client() {
    let rig = Rig::start().await;
    // gpt-4o at its full output cap may cost ~$0.17 a call: 80 % of a $0.20 session budget.
    let path = rig.home().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["agent"]["session_budget_usd"] = json!(0.20);
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s]})).await;
    let spent = pryx_testkit::ScriptedUsage {
        input_tokens: 20_000,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
    };
    rig.llm.push(Turn::text("one").with_usage(spent));
    rig.send(&s, "first").await;
    let evs = ws.until(EventKind::TurnCompleted).await;
    let warning = evs
        .iter()
        .find_map(|e| match &e.payload {
            EventPayload::BudgetWarning(w) => Some(w.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no budget.warning in {evs:#?}"));
    assert_eq!(warning.budget, "session");
    assert_eq!(warning.setting, "agent.session_budget_usd");
    assert_eq!(warning.limit_usd, 0.20);

    // $0.05 spent: the next call could pass the budget, so the next turn stops before it.
    rig.send(&s, "second").await;
    let evs = ws.until(EventKind::TurnCompleted).await;
    match &evs.last().unwrap().payload {
        EventPayload::TurnCompleted(pryx_protocol::TurnEnd::BudgetExceeded { message, .. }) => {
            assert!(message.contains("session budget of $0.20"), "{message}");
            assert!(message.contains("agent.session_budget_usd"), "{message}");
        }
        other => panic!("expected budget_exceeded, got {other:?}"),
    }
}
