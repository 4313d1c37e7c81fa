#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The session bus through `kill -9` of `pryx serve` in the middle of turns. Clients built on
//! `pryx-client` (one relying on the subscription's own reconnects, one making a new
//! subscription from `Subscription::resume` after each restart, one following a few sessions
//! only) must each end with every stored event of their sessions exactly once and in order,
//! including sessions created while they were cut off, and never a delta of a turn they saw end.
//! `PRYX_BUS_KILL_ROUNDS` runs more rounds.

use crate::common;
use crate::serve_api;

use common::*;
use pryx_client::{Backoff, Client, Filter, Subscription};
use pryx_protocol::{Event, EventKind};
use serde_json::json;
use serve_api::Api;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// What one client holds of one session.
#[derive(Default)]
struct Held {
    versions: Vec<u64>,
    /// Inside a turn (between `turn.started` and `turn.completed`).
    open: bool,
}

#[derive(Default)]
struct Seen {
    sessions: BTreeMap<String, Held>,
    stale_deltas: u64,
    turns_started: usize,
}

impl Seen {
    fn take(&mut self, e: &Event) {
        let held = self.sessions.entry(e.session_id.clone()).or_default();
        match e.kind() {
            Some(EventKind::SessionDelta) if !held.open => self.stale_deltas += 1,
            Some(EventKind::TurnStarted) => {
                held.open = true;
                self.turns_started += 1;
            }
            Some(EventKind::TurnCompleted) => held.open = false,
            _ => {}
        }
        if let Some(v) = e.version {
            held.versions.push(v);
        }
    }
}

/// A client's view, shared with the test, and a signal for each event it takes.
#[derive(Clone)]
struct Tally {
    seen: Arc<Mutex<Seen>>,
    taken: watch::Sender<u64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            seen: Arc::default(),
            taken: watch::channel(0).0,
        }
    }

    fn take(&self, e: &Event) {
        self.seen.lock().unwrap().take(e);
        self.taken.send_modify(|n| *n += 1);
    }
}

fn backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
        give_up_after: None,
    }
}

async fn subscribe(client: &Client, filter: Filter) -> Subscription {
    client.subscribe_with(filter, backoff()).await.unwrap()
}

/// Reads one subscription for ever; its reconnects are its own.
async fn follow(mut sub: Subscription, tally: Tally) {
    while let Some(e) = sub.next().await {
        tally.take(&e);
    }
}

/// Replaces its subscription with a new one (`resume`) each time `restarted` changes.
async fn renew(
    client: Client,
    mut sub: Subscription,
    tally: Tally,
    mut restarted: watch::Receiver<u64>,
) {
    loop {
        tokio::select! {
            e = sub.next() => match e {
                Some(e) => tally.take(&e),
                None => return,
            },
            r = restarted.changed() => {
                if r.is_err() {
                    return;
                }
                let next = sub.resume(Filter::all());
                drop(sub);
                sub = subscribe(&client, next).await;
            }
        }
    }
}

/// Posts one message to each session; returns how many were accepted.
fn post_round(api: &Api, sessions: &[String], round: usize) -> usize {
    sessions
        .iter()
        .enumerate()
        .filter(|(i, sid)| {
            api.try_call(
                "POST",
                &format!("/api/v1/sessions/{sid}/messages"),
                Some(&json!({ "content": format!("round {round} message {i}") })),
            )
            .is_ok_and(|r| r.status == 202)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_gets_each_stored_event_once_in_order_through_kill_9_restarts() {
    let rounds: usize = std::env::var("PRYX_BUS_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let llm = ScriptedLlm::start().await;
    // Answers streamed in small pieces, slowly enough that a kill lands inside turns.
    let answer = "the quick brown fox jumps over the lazy dog ".repeat(6);
    llm.push_all((0..rounds * 64).map(|_| {
        Turn::text(answer.clone())
            .with_chunk_chars(8)
            .with_frame_delay(Duration::from_millis(3))
    }));
    let env = Env::scripted(&llm);
    let first = Serve::start(&env, &[]);
    let port = first.port.to_string();
    let api = Api::of(env.home.path(), first.port);
    let mut serve = first;
    let url = format!("http://127.0.0.1:{port}");
    let client = Client::new(&url, api.token.clone()).unwrap();

    let mut sessions: Vec<String> = (0..6)
        .map(|_| {
            api.create_session(json!({}))["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let few: Vec<String> = sessions[..2].to_vec();

    // Everything from the start: one follows its own reconnects, one renews after restarts,
    // one follows two sessions only.
    let (restarted, restarts) = watch::channel(0u64);
    let (all, renewed, filtered) = (Tally::new(), Tally::new(), Tally::new());
    let whole = || Filter::all().after_cursor(0);
    tokio::spawn(follow(subscribe(&client, whole()).await, all.clone()));
    tokio::spawn(renew(
        client.clone(),
        subscribe(&client, whole()).await,
        renewed.clone(),
        restarts,
    ));
    let mut only = Filter {
        sessions: Some(few.clone()),
        ..Filter::default()
    };
    for s in &few {
        only = only.since(s, 0);
    }
    tokio::spawn(follow(subscribe(&client, only).await, filtered.clone()));

    let mut accepted = 0;
    for round in 0..rounds - 1 {
        let before = turns_started(&all);
        accepted += post_round(&api, &sessions, round);
        // Killed once the follower saw two turns of this round start: turns are in flight.
        let mut taken = all.taken.subscribe();
        tokio::time::timeout(Duration::from_secs(30), async {
            while turns_started(&all) < before + 2 {
                taken.changed().await.unwrap();
            }
        })
        .await
        .expect("turns start");
        serve.child.kill().unwrap();
        serve.child.wait().unwrap();
        // Dropping it would signal a process id that is not its own any more.
        std::mem::forget(serve);
        serve = Serve::start(&env, &["--port", &port]);
        restarted.send_modify(|n| *n += 1);
        // Sessions the clients never heard of, made right after the restart.
        for _ in 0..3 {
            sessions.push(
                api.create_session(json!({}))["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    // The last round runs each turn to its end.
    for (i, s) in sessions.iter().enumerate() {
        let events = api
            .stream_turn(s, &format!("last round message {i}"))
            .rest(std::time::Instant::now() + Duration::from_secs(30));
        assert!(
            events.iter().any(|e| e.name == "turn.completed"),
            "{s}: {events:?}"
        );
        accepted += 1;
    }

    // Wait until the last round's turns ended, then until each client holds what is stored.
    let store = env.store();
    let stored = |s: &str| -> Vec<u64> {
        store
            .events_since(s, 0, u32::MAX)
            .unwrap()
            .iter()
            .filter_map(|e| e.version)
            .collect()
    };
    for (name, tally, names) in [
        ("follower", &all, sessions.clone()),
        ("renewer", &renewed, sessions.clone()),
        ("filtered", &filtered, few.clone()),
    ] {
        let mut taken = tally.taken.subscribe();
        let caught_up = |tally: &Tally| {
            let seen = tally.seen.lock().unwrap();
            names.iter().all(|s| {
                seen.sessions
                    .get(s)
                    .map(|h| h.versions.clone())
                    .unwrap_or_default()
                    == stored(s)
            })
        };
        let waited = tokio::time::timeout(Duration::from_secs(60), async {
            while !caught_up(tally) {
                taken.changed().await.unwrap();
            }
        })
        .await;
        let seen = tally.seen.lock().unwrap();
        for s in &names {
            let got = seen
                .sessions
                .get(s)
                .map(|h| h.versions.clone())
                .unwrap_or_default();
            assert_eq!(got, stored(s), "{name}: session {s} ({waited:?})");
        }
        assert_eq!(
            seen.stale_deltas, 0,
            "{name}: deltas after their turn ended"
        );
        if name == "filtered" {
            assert!(
                seen.sessions.keys().all(|s| few.contains(s)),
                "{name}: events of sessions it did not ask for"
            );
        }
    }
    let events: usize = sessions.iter().map(|s| stored(s).len()).sum();
    println!(
        "bus through kill -9: {rounds} rounds ({} restarts), {} sessions, {accepted} turns, {events} stored events, 0 gaps, 0 duplicates",
        rounds - 1,
        sessions.len()
    );
    drop(serve);
}

fn turns_started(t: &Tally) -> usize {
    t.seen.lock().unwrap().turns_started
}
