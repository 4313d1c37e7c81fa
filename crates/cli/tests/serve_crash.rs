#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A message the API acknowledged survives `kill -9` of `pryx serve` at once after the 202; the
//! next start closes the cut-short turn (spans `interrupted`, a replayable `turn.completed` with
//! `stop: interrupted`) and the session takes new turns.

mod common;
mod serve_api;

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
