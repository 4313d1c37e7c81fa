#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A message the API acknowledged survives `kill -9` of `pryx serve` at once after the 202; the
//! next start closes the cut-short turn (spans `interrupted`, a replayable `turn.completed` with
//! `stop: interrupted`) and the session takes new turns.

use crate::common;
use crate::serve_api;

use common::*;
use pryx_protocol::{EventPayload, TurnEnd};
use serde_json::json;
use serve_api::{Api, completion};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_message_survives_kill_9_and_its_turn_is_closed_at_the_next_start() {
    let llm = ScriptedLlm::start().await;
    // The model would answer only after the process is long gone.
    llm.push(Turn::text("too late").with_first_token_delay(Duration::from_secs(120)));
    let env = Env::scripted(&llm);
    let mut serve = Serve::start(&env, &[]);
    let api = Api::of(env.home.path(), serve.port);
    let sid = api.create_session(json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accepted = api.post(
        &format!("/api/v1/sessions/{sid}/messages"),
        json!({"content": "remember me"}),
    );
    assert_eq!(accepted.status, 202, "{}", accepted.text);
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();

    // What the 202 promised is on disk.
    let store = env.store();
    let messages = store.list_messages(&sid).unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].text, "remember me");

    // The slow answer may still be queued on the first server (if the request never reached
    // it); the restarted core talks to a fresh one.
    let next = ScriptedLlm::start().await;
    let config = std::fs::read_to_string(env.home.path().join("config.json"))
        .unwrap()
        .replace(&llm.base_url(), &next.base_url());
    std::fs::write(env.home.path().join("config.json"), config).unwrap();
    let serve = Serve::start(&env, &[]);
    let api = Api::of(env.home.path(), serve.port);
    let spans = api.get(&format!("/api/v1/sessions/{sid}/spans"));
    let statuses: Vec<&str> = spans.json["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(!statuses.is_empty(), "{}", spans.text);
    assert!(
        statuses.iter().all(|s| *s == "interrupted"),
        "every span the killed process left running is closed: {statuses:?}"
    );
    let ends: Vec<TurnEnd> = store
        .events_since(&sid, 0, 1000)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.payload {
            EventPayload::TurnCompleted(end) => Some(end),
            _ => None,
        })
        .collect();
    assert_eq!(ends, vec![TurnEnd::Interrupted]);
    let detail = api.get(&format!("/api/v1/sessions/{sid}"));
    assert_eq!(detail.json["session"]["busy"], false, "{}", detail.text);

    // The session goes on: the next turn sees the kept message and answers.
    next.push(Turn::text("I remember."));
    let mut turn = api.stream_turn(&sid, "do you remember?");
    let events = turn.rest(Instant::now() + Duration::from_secs(30));
    assert_eq!(completion(&events)["stop"], "completed", "{events:?}");
    let asked = next.requests();
    let last = serde_json::to_string(&asked.last().unwrap().body).unwrap();
    assert!(last.contains("remember me"), "{last}");
}

/// Bursts of messages from several clients, `kill -9` at a different moment of each round:
/// every message the API acknowledged (202) is on disk afterwards, in ≥ 10 rounds and ≥ 500
/// acknowledged messages in all. (`bench/reliability.sh` runs more rounds.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9_in_bursts() {
    // `bench/reliability.sh` runs more rounds.
    let rounds: usize = std::env::var("PRYX_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    const CLIENTS: usize = 4;
    const PER_CLIENT: usize = 40;
    let llm = ScriptedLlm::start().await;
    // Turns wait on their model for ever: each session stays busy, so every message needs one.
    llm.hold();
    let env = Env::scripted(&llm);
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for round in 0..rounds {
        let serve = Serve::start(&env, &[]);
        let api = Api::of(env.home.path(), serve.port);
        let sessions: Vec<Vec<String>> = (0..CLIENTS)
            .map(|_| {
                (0..PER_CLIENT)
                    .map(|_| {
                        api.create_session(json!({}))["id"]
                            .as_str()
                            .unwrap()
                            .to_string()
                    })
                    .collect()
            })
            .collect();
        // The kill comes after a different number of acknowledgements each round, while the
        // clients keep posting.
        let kill_after = 50 + (round * 13) % 60;
        let acks = std::sync::atomic::AtomicUsize::new(0);
        let pid = serve.child.id();
        let round_acks: Vec<(String, String)> = std::thread::scope(|scope| {
            let workers: Vec<_> = sessions
                .iter()
                .enumerate()
                .map(|(client, sids)| {
                    let (api, acks) = (&api, &acks);
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        for (i, sid) in sids.iter().enumerate() {
                            let content = format!("round {round} client {client} message {i}");
                            let Ok(reply) = api.try_call(
                                "POST",
                                &format!("/api/v1/sessions/{sid}/messages"),
                                Some(&json!({ "content": content })),
                            ) else {
                                break;
                            };
                            if reply.status != 202 {
                                break;
                            }
                            mine.push((sid.clone(), content));
                            if acks.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
                                == kill_after
                            {
                                let _ = std::process::Command::new("kill")
                                    .args(["-KILL", &pid.to_string()])
                                    .status();
                            }
                        }
                        mine
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let mut serve = serve;
        serve.child.wait().unwrap();
        assert!(
            round_acks.len() >= kill_after,
            "round {round}: the kill came after {kill_after} acknowledgements"
        );
        acknowledged.extend(round_acks);
    }
    assert!(
        acknowledged.len() >= 500,
        "only {} messages were acknowledged",
        acknowledged.len()
    );
    let store = env.store();
    let lost: Vec<&(String, String)> = acknowledged
        .iter()
        .filter(|(sid, content)| {
            !store
                .list_messages(sid)
                .unwrap()
                .iter()
                .any(|m| &m.text == content)
        })
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged messages were lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    println!(
        "kill -9 bursts: {rounds} rounds, {} acknowledged, 0 lost",
        acknowledged.len()
    );
}
