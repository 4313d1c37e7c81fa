#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The event socket: live events, filters, replay after a forced disconnect without loss or
//! duplicates, and the resync of a subscriber that falls behind.

use crate::common;

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
    let total = 600u64;
    publish_large_events(&rig, &s, total);
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

/// A receiver that is not read keeps the bus's whole ring of events alive: a socket holds one
/// only from its subscribe until it falls behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_holds_a_bus_receiver_only_while_it_reads() {
    let rig = Rig::with(Options {
        bus_capacity: 8,
        ..Options::default()
    })
    .await;
    let s = rig.new_session().await;
    let before = rig.core.bus().receivers();
    let mut ws = rig.ws().await;
    ws.send(json!({"type": "ping"})).await;
    assert!(matches!(
        ws.next().await,
        WsServerMessage::Control(WsControl::Pong)
    ));
    assert_eq!(
        rig.core.bus().receivers(),
        before,
        "none before a subscribe"
    );
    ws.subscribe(json!({"sessions": [s]})).await;
    assert_eq!(rig.core.bus().receivers(), before + 1);
    publish_large_events(&rig, &s, 600);
    loop {
        match ws.next().await {
            WsServerMessage::Event(_) => {}
            WsServerMessage::Control(WsControl::Resync { .. }) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        rig.core.bus().receivers(),
        before,
        "none after falling behind"
    );
    ws.subscribe(json!({"sessions": [s]})).await;
    assert_eq!(
        rig.core.bus().receivers(),
        before + 1,
        "one again after resubscribing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_resync_any_subscribe_resumes_where_the_socket_stopped() {
    let rig = Rig::with(Options {
        bus_capacity: 8,
        ..Options::default()
    })
    .await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s]})).await;
    let total = 600u64;
    publish_large_events(&rig, &s, total);
    let mut have = Vec::new();
    loop {
        match ws.next().await {
            WsServerMessage::Event(e) => have.push(e.version.unwrap()),
            WsServerMessage::Control(WsControl::Resync { .. }) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    // Subscribing again without `since` still fills the gap: the socket knows what it sent.
    let answer = ws.subscribe_answer(json!({"sessions": [s]})).await;
    have.extend(versions_of(&answer.events, &s));
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

/// Stores and publishes `n` events of 64 KiB on `session`: a client that does not read them fills
/// its socket's buffers, and a small bus ring overflows for it.
fn publish_large_events(rig: &Rig, session: &str, n: u64) {
    let big = "x".repeat(64 * 1024);
    for _ in 0..n {
        let e = rig
            .core
            .store()
            .append_event(
                session,
                Surface::Core,
                &trace_event("blob", big.as_str()).into(),
            )
            .unwrap();
        rig.core.bus().publish(&e);
    }
}

/// Sessions created in id order (a `since` map is replayed in that order).
async fn sessions_in_order(rig: &Rig, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(rig.new_session().await);
    }
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_range_since_is_refused_for_its_session_and_the_others_are_replayed() {
    let rig = Rig::start().await;
    let ids = sessions_in_order(&rig, 3).await;
    for s in &ids {
        rig.llm.push(Turn::text("answer"));
        rig.send(s, "hello").await;
        rig.wait_completed(s).await;
    }
    let mut ws = rig.ws().await;
    // The first session (replayed first) has a version the store cannot hold; 2^64-1 for the last.
    let answer = ws
        .subscribe_answer(json!({"since": {
            ids[0].clone(): 1u64 << 63,
            ids[1].clone(): 0,
            ids[2].clone(): u64::MAX,
        }}))
        .await;
    assert_eq!(answer.errors.keys().collect::<Vec<_>>(), [&ids[0], &ids[2]]);
    for s in [&ids[0], &ids[2]] {
        let e = &answer.errors[s];
        assert_eq!(e.code, pryx_protocol::ErrorCode::ValidationFailed);
        assert!(e.message.contains("out of range"), "{}", e.message);
    }
    assert_eq!(
        versions_of(&answer.events, &ids[1]),
        stored_versions(&rig, &ids[1])
    );
    assert_eq!(answer.replayed as usize, answer.events.len());
    assert!(answer.resets.is_empty());
    // The refused sessions are still live on this socket.
    rig.llm.push(Turn::text("again"));
    rig.send(&ids[0], "more").await;
    let live = ws.until(EventKind::TurnCompleted).await;
    let stored = stored_versions(&rig, &ids[0]);
    assert_eq!(
        versions_of(&live, &ids[0]),
        stored[stored.len() - live.iter().filter(|e| e.version.is_some()).count()..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_since_past_the_stored_version_gets_a_reset_and_the_session_stays_live() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    rig.llm.push(Turn::text("one"));
    rig.send(&s, "first").await;
    rig.wait_completed(&s).await;
    let stored = *stored_versions(&rig, &s).last().unwrap();
    let mut ws = rig.ws().await;
    let answer = ws
        .subscribe_answer(json!({"since": {s.clone(): stored + 50, "no-such-session": 3}}))
        .await;
    assert_eq!(answer.resets, vec![(s.clone(), stored)]);
    assert!(answer.events.is_empty());
    assert_eq!(
        answer.errors["no-such-session"].code,
        pryx_protocol::ErrorCode::NotFound
    );
    // Never silence: the next turn arrives whole, right after the stored version.
    rig.llm.push(Turn::text("two"));
    rig.send(&s, "second").await;
    let live = ws.until(EventKind::TurnCompleted).await;
    let got = versions_of(&live, &s);
    assert_eq!(got, stored_versions(&rig, &s)[stored as usize..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_again_on_the_same_socket_neither_loses_nor_repeats() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"sessions": [s]})).await;
    let mut have = Vec::new();
    // A whole turn is queued, unread, when the client subscribes again without `since`.
    rig.llm.push(Turn::text("one"));
    rig.send(&s, "first").await;
    rig.wait_completed_n(&s, 1).await;
    let answer = ws.subscribe_answer(json!({"sessions": [s]})).await;
    assert_eq!(answer.replayed, 0);
    have.extend(versions_of(&answer.events, &s));
    assert_eq!(
        have,
        stored_versions(&rig, &s),
        "queued events are delivered"
    );
    // Again with `since` from the start, with a second turn queued: what was sent is not repeated.
    rig.llm.push(Turn::text("two"));
    rig.send(&s, "second").await;
    rig.wait_completed_n(&s, 2).await;
    let answer = ws
        .subscribe_answer(json!({"sessions": [s], "since": {s.clone(): 0}}))
        .await;
    have.extend(versions_of(&answer.events, &s));
    assert_eq!(have, stored_versions(&rig, &s));
    // And once more, now with nothing new: nothing at all.
    let answer = ws.subscribe_answer(json!({"since": {s.clone(): 1}})).await;
    assert!(answer.events.is_empty(), "{:?}", answer.events);
    // Whatever `since` says, what was queued under the previous subscription goes out first,
    // once.
    rig.llm.push(Turn::text("three"));
    rig.send(&s, "third").await;
    rig.wait_completed_n(&s, 3).await;
    let all = stored_versions(&rig, &s);
    let skip_to = have.len() as u64 + 2;
    let answer = ws
        .subscribe_answer(json!({"sessions": [s], "since": {s.clone(): skip_to}}))
        .await;
    let got = versions_of(&answer.events, &s);
    assert_eq!(got, all[have.len()..]);
    assert_eq!(answer.replayed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deltas_of_a_replayed_turn_are_not_delivered_after_it() {
    let rig = Rig::start().await;
    let ids = sessions_in_order(&rig, 2).await;
    let (slow, s) = (&ids[0], &ids[1]);
    // A large backlog on the session replayed first holds the server in the replay (the client
    // does not read) while a whole turn runs on the second.
    let big = "x".repeat(64 * 1024);
    for _ in 0..400 {
        rig.core
            .store()
            .append_event(
                slow,
                Surface::Core,
                &trace_event("blob", big.as_str()).into(),
            )
            .unwrap();
    }
    let mut ws = rig.ws().await;
    ws.send(json!({"type": "subscribe", "since": {slow.clone(): 0, s.clone(): 0}}))
        .await;
    // The first replayed event proves the live feed is attached.
    let first = ws.next_event().await;
    assert_eq!(first.version, Some(1));
    rig.llm
        .push(Turn::text("a long answer in many small pieces").with_chunk_chars(2));
    rig.send(s, "hello").await;
    rig.wait_completed(s).await;
    let mut after_replay = Vec::new();
    loop {
        match ws.next().await {
            WsServerMessage::Event(_) => {}
            WsServerMessage::Control(WsControl::Subscribed { errors, .. }) => {
                assert!(errors.is_empty());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // The turn was replayed whole; nothing of it follows, until the next turn starts.
    rig.llm.push(Turn::text("next").with_chunk_chars(2));
    rig.send(s, "again").await;
    loop {
        let e = ws.next_event().await;
        let done = e.kind() == Some(EventKind::TurnCompleted);
        after_replay.push(e);
        if done {
            break;
        }
    }
    let kinds: Vec<_> = after_replay.iter().filter_map(|e| e.kind()).collect();
    let started = kinds
        .iter()
        .position(|k| *k == EventKind::TurnStarted)
        .unwrap();
    assert!(
        !kinds[..started].contains(&EventKind::SessionDelta),
        "stale deltas: {kinds:?}"
    );
    assert!(kinds[started..].contains(&EventKind::SessionDelta));
    let stored = stored_versions(&rig, s);
    let live = versions_of(&after_replay, s);
    assert_eq!(live, stored[stored.len() - live.len()..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_refused_with_an_error_naming_them() {
    let rig = Rig::start().await;
    let mut ws = rig.ws().await;
    let since: serde_json::Map<String, serde_json::Value> =
        (0..1001).map(|i| (format!("s{i}"), json!(0))).collect();
    ws.send(json!({"type": "subscribe", "since": since})).await;
    match ws.next().await {
        WsServerMessage::Control(WsControl::Error { error }) => {
            assert_eq!(error.code, pryx_protocol::ErrorCode::ValidationFailed);
            assert!(error.message.contains("1000"), "{}", error.message);
        }
        other => panic!("unexpected {other:?}"),
    }
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, WsServerMessage::Control(WsControl::Pong));
    // A message over 1 MiB: an error, then the socket closes as "message too big".
    ws.send_text(&format!(
        r#"{{"type":"ping","pad":"{}"}}"#,
        "x".repeat(1 << 20)
    ))
    .await;
    match ws.next().await {
        WsServerMessage::Control(WsControl::Error { error }) => {
            assert!(error.message.contains("1048576"), "{}", error.message)
        }
        other => panic!("unexpected {other:?}"),
    }
    match ws.inner.next().await {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1009)
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_handshake_is_answered() {
    let rig = Rig::start().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({})).await;
    ws.inner.close(None).await.unwrap();
    // The server's close frame completes the handshake: the stream then ends cleanly.
    let mut answered = false;
    while let Some(msg) = ws.inner.next().await {
        match msg {
            Ok(tokio_tungstenite::tungstenite::Message::Close(_)) => answered = true,
            Ok(_) => {}
            Err(e) => panic!("the close was not answered cleanly: {e}"),
        }
    }
    assert!(answered, "no close frame came back");
}
