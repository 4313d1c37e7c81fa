#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The event subscription over a real socket: live events in order, exact replay after the
//! server goes away and comes back, resync of a slow reader, and approval answers over the
//! socket where the first answer from any surface wins.

use crate::common;

use common::*;
use pryx_client::{Backoff, Client, Connection, Filter};
use pryx_protocol::api::{ApprovalDecision, ApprovalOutcome, ApprovalScope, CreateSession};
use pryx_protocol::message::Role;
use pryx_protocol::{Delta, ErrorCode, Event, EventKind, EventPayload, Surface, TurnStop};
use pryx_testkit::events::trace_event;
use serde_json::json;
use std::time::Duration;

fn versions(events: &[Event]) -> Vec<u64> {
    events.iter().filter_map(|e| e.version).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_streams_in_order_with_deltas() {
    let rig = Rig::start().await;
    let c = &rig.client;
    let s = c.create_session(&CreateSession::default()).await.unwrap();
    let mut sub = c.subscribe(Filter::session(&s.id)).await.unwrap();
    rig.llm
        .push(Turn::text("Hello there, friend.").with_chunk_chars(4));
    c.send_message(&s.id, "greet me").await.unwrap();
    let events = until_completed(&mut sub, 1).await;
    assert_eq!(events[0].kind(), Some(EventKind::TurnStarted));
    let text: String = events
        .iter()
        .filter_map(|e| match &e.payload {
            EventPayload::SessionDelta(Delta::Text { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Hello there, friend.");
    assert_eq!(versions(&events), rig.stored_versions(&s.id));
    assert_eq!(*sub.state().borrow(), Connection::Connected { connects: 1 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_replays_exactly_what_was_missed() {
    let mut rig = Rig::start().await;
    let c = rig.client.clone();
    let s = c.create_session(&CreateSession::default()).await.unwrap();
    let quiet = c.create_session(&CreateSession::default()).await.unwrap();
    // One subscription to all sessions, one to a single session with an explicit start.
    let mut all = c.subscribe(Filter::all()).await.unwrap();
    let mut one = c
        .subscribe(Filter::session(&s.id).since(&s.id, 0))
        .await
        .unwrap();
    rig.llm.push(Turn::text("one"));
    c.send_message(&s.id, "first").await.unwrap();
    let mut got_all = until_completed(&mut all, 1).await;
    let mut got_one = until_completed(&mut one, 1).await;

    let mut state = all.state();
    rig.stop_server().await;
    state
        .wait_for(|s| matches!(s, Connection::Reconnecting { .. }))
        .await
        .unwrap();
    // While no server listens, two turns run in the core: they are stored, nobody hears them.
    rig.llm.push_all([Turn::text("two"), Turn::text("three")]);
    rig.core.start_turn(&s.id, "second").await.unwrap();
    rig.wait_completed(&s.id, 2).await;
    rig.core.start_turn(&s.id, "third").await.unwrap();
    rig.wait_completed(&s.id, 3).await;
    rig.start_server().await;
    state
        .wait_for(|s| matches!(s, Connection::Connected { connects: 2 }))
        .await
        .unwrap();
    // Live again: a fourth turn after the replay.
    rig.llm.push(Turn::text("four"));
    c.send_message(&s.id, "fourth").await.unwrap();
    got_all.extend(until_completed(&mut all, 3).await);
    got_one.extend(until_completed(&mut one, 3).await);

    let stored = rig.stored_versions(&s.id);
    assert_eq!(stored, (1..=stored.len() as u64).collect::<Vec<_>>());
    assert_eq!(versions(&got_all), stored, "no loss, no duplicate");
    assert_eq!(versions(&got_one), stored, "no loss, no duplicate");
    assert!(got_all.iter().all(|e| e.session_id == s.id));
    assert!(rig.stored_versions(&quiet.id).is_empty());
    let answers = got_one
        .iter()
        .filter(
            |e| matches!(&e.payload, EventPayload::SessionMessage(m) if m.role == Role::Assistant),
        )
        .count();
    assert_eq!(answers, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_resynced_without_loss() {
    let rig = Rig::with_bus(8).await;
    let c = &rig.client;
    let s = c.create_session(&CreateSession::default()).await.unwrap();
    let mut sub = c.subscribe(Filter::session(&s.id)).await.unwrap();
    // Large events published faster than anyone reads them: the client's buffer fills, the
    // socket backs up and the bus ring (8 events) overflows for this connection.
    let big = "x".repeat(64 * 1024);
    let total = 600u64;
    for _ in 0..total {
        let e = rig
            .core
            .store()
            .append_event(
                &s.id,
                Surface::Core,
                &trace_event("blob", big.as_str()).into(),
            )
            .unwrap();
        rig.core.bus().publish(&e);
    }
    let mut got = Vec::new();
    while got.len() < total as usize {
        got.push(next(&mut sub).await.version.unwrap());
    }
    // Exactly once each, in order — whether the client caught up through the server's resync on
    // the same socket or (on a loaded machine, after a send timeout) through a reconnect.
    assert_eq!(got, (1..=total).collect::<Vec<_>>());
    assert!(
        matches!(*sub.state().borrow(), Connection::Connected { .. }),
        "still connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_answered_over_the_socket_first_answer_wins() {
    let rig = Rig::start().await;
    let tui = rig.client.clone().with_surface(Surface::Tui);
    let web = rig.client.clone().with_surface(Surface::Web);
    let s = tui.create_session(&CreateSession::default()).await.unwrap();
    let kinds = [EventKind::ApprovalNeeded, EventKind::ApprovalResolved];
    let mut a = tui
        .subscribe(Filter::session(&s.id).kinds(kinds))
        .await
        .unwrap();
    let mut b = web
        .subscribe(Filter::session(&s.id).kinds(kinds))
        .await
        .unwrap();
    rig.llm.push_all([
        Turn::tool_calls([call("c1", "shell__exec", json!({"command": "echo ok"}))]),
        Turn::text("done"),
    ]);
    tui.send_message(&s.id, "run echo").await.unwrap();
    let asked_a = next(&mut a).await;
    let asked_b = next(&mut b).await;
    assert_eq!(asked_a, asked_b, "both surfaces get the same question");
    let id = approval_of(&asked_a).id.as_str();
    wait_pending(&tui, id).await;
    a.answer(id, ApprovalDecision::Approve, ApprovalScope::Once)
        .await
        .unwrap();
    let late = b
        .answer(id, ApprovalDecision::Deny, ApprovalScope::Once)
        .await
        .unwrap_err();
    assert_eq!(late.code(), Some(ErrorCode::NotFound), "{late}");
    let late = web
        .answer_approval(id, ApprovalDecision::Deny, ApprovalScope::Once)
        .await
        .unwrap_err();
    assert_eq!(late.code(), Some(ErrorCode::NotFound), "{late}");
    for sub in [&mut a, &mut b] {
        let resolved = next(sub).await;
        assert_eq!(resolved.kind(), Some(EventKind::ApprovalResolved));
        let outcome = &resolved_of(&resolved).outcome;
        let ApprovalOutcome::Answered(answer) = outcome else {
            panic!("expected an answer, got {outcome:?}");
        };
        assert_eq!(answer.decision, ApprovalDecision::Approve, "{outcome:?}");
        assert_eq!(
            answer.surface,
            Surface::Tui,
            "recorded with the answering surface"
        );
    }
    let done = rig.wait_completed(&s.id, 1).await;
    assert_eq!(done.stop(), Some(TurnStop::Completed), "{done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_gives_up_after_its_deadline() {
    let mut rig = Rig::start().await;
    let backoff = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
        give_up_after: Some(Duration::from_millis(300)),
    };
    let mut sub = rig
        .client
        .subscribe_with(Filter::all(), backoff)
        .await
        .unwrap();
    rig.stop_server().await;
    let end = tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .unwrap();
    assert!(end.is_none(), "the stream ends");
    assert!(matches!(*sub.state().borrow(), Connection::Closed { .. }));
    let e = sub
        .answer("x", ApprovalDecision::Deny, ApprovalScope::Once)
        .await
        .unwrap_err();
    assert!(matches!(e, pryx_client::ClientError::Closed(_)), "{e}");
    // A fresh client cannot subscribe to a core that is down: the error says so at once.
    let c = Client::new(&format!("http://127.0.0.1:{}", rig.port), TOKEN).unwrap();
    assert!(
        c.subscribe(Filter::all())
            .await
            .err()
            .unwrap()
            .is_unreachable()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_continues_from_the_stored_version_and_a_refused_since_is_reported() {
    let rig = Rig::start().await;
    let c = &rig.client;
    let s = c.create_session(&CreateSession::default()).await.unwrap();
    rig.llm.push(Turn::text("one"));
    c.send_message(&s.id, "first").await.unwrap();
    rig.wait_completed(&s.id, 1).await;
    let stored = *rig.stored_versions(&s.id).last().unwrap();
    // The caller holds versions the core never stored, and one beyond what any store can hold.
    let filter = Filter::all()
        .since(&s.id, stored + 100)
        .since("ghost", u64::MAX);
    let mut sub = c.subscribe(filter).await.unwrap();
    let mut notices = [
        sub.next_notice().await.unwrap(),
        sub.next_notice().await.unwrap(),
    ];
    notices.sort_by_key(|n| matches!(n, pryx_client::Notice::Refused { .. }));
    assert_eq!(
        notices[0],
        pryx_client::Notice::Reset {
            session_id: s.id.clone(),
            last_version: stored
        }
    );
    match &notices[1] {
        pryx_client::Notice::Refused { session_id, error } => {
            assert_eq!(session_id, "ghost");
            assert_eq!(error.code, ErrorCode::ValidationFailed);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The session goes on right after the stored version.
    rig.llm.push(Turn::text("two"));
    c.send_message(&s.id, "second").await.unwrap();
    let events = until_completed(&mut sub, 1).await;
    assert_eq!(
        versions(&events),
        rig.stored_versions(&s.id)[stored as usize..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_created_while_the_core_was_away_arrive_without_being_listed() {
    let mut rig = Rig::start().await;
    let c = rig.client.clone();
    let known = c.create_session(&CreateSession::default()).await.unwrap();
    let mut sub = c.subscribe(Filter::all()).await.unwrap();
    rig.llm.push(Turn::text("one"));
    c.send_message(&known.id, "first").await.unwrap();
    let mut got = until_completed(&mut sub, 1).await;
    let mut state = sub.state();
    rig.stop_server().await;
    state
        .wait_for(|s| matches!(s, Connection::Reconnecting { .. }))
        .await
        .unwrap();
    // While no server listens, a session nobody has heard of gets a turn.
    let new = rig
        .core
        .create_session(&pryx_core::SessionRequest::default())
        .unwrap();
    rig.llm.push(Turn::text("hello"));
    rig.core.start_turn(&new.id, "hi").await.unwrap();
    rig.wait_completed(&new.id, 1).await;
    rig.start_server().await;
    got.extend(until_completed(&mut sub, 1).await);
    let of = |id: &str| -> Vec<u64> {
        got.iter()
            .filter(|e| e.session_id == id)
            .filter_map(|e| e.version)
            .collect()
    };
    assert_eq!(of(&new.id), rig.stored_versions(&new.id));
    assert_eq!(of(&known.id), rig.stored_versions(&known.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_subscription_resumes_exactly_where_the_read_events_end() {
    let rig = Rig::start().await;
    let c = &rig.client;
    let a = c.create_session(&CreateSession::default()).await.unwrap();
    let mut sub = c.subscribe(Filter::all()).await.unwrap();
    rig.llm.push(Turn::text("one"));
    c.send_message(&a.id, "first").await.unwrap();
    let mut got = until_completed(&mut sub, 1).await;
    // A second turn is queued for the reader, unread, when the subscription is dropped (as when
    // the TUI moves to a restarted core); a new session gets a turn meanwhile.
    rig.llm.push(Turn::text("two"));
    c.send_message(&a.id, "second").await.unwrap();
    rig.wait_completed(&a.id, 2).await;
    let resume = sub.resume(Filter::all());
    drop(sub);
    let b = c.create_session(&CreateSession::default()).await.unwrap();
    rig.llm.push(Turn::text("three"));
    c.send_message(&b.id, "third").await.unwrap();
    rig.wait_completed(&b.id, 1).await;
    let mut sub = c.subscribe(resume).await.unwrap();
    got.extend(until_completed(&mut sub, 2).await);
    let of = |id: &str| -> Vec<u64> {
        got.iter()
            .filter(|e| e.session_id == id)
            .filter_map(|e| e.version)
            .collect()
    };
    assert_eq!(of(&a.id), rig.stored_versions(&a.id));
    assert_eq!(of(&b.id), rig.stored_versions(&b.id));
}
