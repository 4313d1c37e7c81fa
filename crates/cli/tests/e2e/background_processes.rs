#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Background processes through `pryx serve` (its sandbox included) and the scripted model: a
//! server started in the background, its output polled, an error line its watch pattern
//! catches starting a turn in which the model stops it; deleting a session, or stopping the
//! core, leaves none of its processes behind.

use crate::common;
use crate::serve_api;

use common::*;
use pryx_testkit::live_process_with_arg;
use serde_json::{Value, json};
use serve_api::{Api, completion};
use std::time::{Duration, Instant};

/// Allows the server script and the `process.*` tools without asking.
const POLICY: &str =
    "name: dev\ntools:\n  allowed:\n    - shell.exec: {commands: [sh]}\n    - process.send\n";

/// Says it listens, then answers each line; `crash` makes it print an error.
const SERVER: &str = "echo \"listening on 8080 ($1)\"\nwhile read line; do\n  if [ \"$line\" = crash ]; then echo 'ERROR: the database went away' >&2; else echo \"got $line\"; fi\ndone\n";

/// Runs a turn to its end, approving once whatever it asks (starting the server script runs
/// code, which the policy always puts to a person).
fn turn_ok(api: &Api, sid: &str, prompt: &str) {
    let mut stream = api.stream_turn(sid, prompt);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut events = Vec::new();
    while let Some(e) = stream.next(deadline) {
        if e.name == "approval.needed" {
            let id = e.payload()["id"].as_str().unwrap().to_string();
            let r = api.post(
                &format!("/api/v1/approvals/{id}"),
                json!({"decision": "approve", "scope": "once"}),
            );
            assert_eq!(r.status, 200, "{}", r.text);
        }
        events.push(e);
    }
    let end = completion(&events);
    assert_eq!(end["stop"], "completed", "{end}");
}

/// Waits (up to a deadline) until `pred` holds of the session's processes.
fn wait_processes(api: &Api, sid: &str, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = api.get(&format!("/api/v1/sessions/{sid}/processes"));
        assert_eq!(r.status, 200, "{}", r.text);
        let list = r.json["processes"].as_array().cloned().unwrap_or_default();
        if pred(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "{what}: {}", r.text);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (up to a deadline) until `cond` holds.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_gone(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while live_process_with_arg(marker) {
        assert!(
            Instant::now() < deadline,
            "a background process outlived its session or core ({marker})"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start_call(id: &str, marker: &str) -> ScriptedToolCall {
    call(
        id,
        "shell.exec",
        json!({"command": format!("sh server.sh {marker}"), "background": true, "watch": ["^ERROR"]}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_server_error_gets_a_turn_and_no_process_outlives_its_session_or_core() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    env.policy("dev", POLICY);
    std::fs::write(env.ws().join("server.sh"), SERVER).unwrap();
    let mut serve = Serve::start(&env, &["--policy", "dev"]);
    let api = Api::of(env.home.path(), serve.port);
    let sid = api.create_session(json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let marker = format!("bg{}", std::process::id());

    // Start the server, then poll its output.
    llm.push_all([
        Turn::tool_calls([start_call("c1", &marker)]),
        Turn::tool_calls([call("c2", "process.output", json!({"id": "p1"}))]),
        Turn::text("The server is starting."),
    ]);
    turn_ok(&api, &sid, "start the dev server");
    let results = tool_results(&llm, 2);
    assert!(results[0].1.contains("started p1"), "{results:?}");
    let list = wait_processes(&api, &sid, "the server never said it listens", |l| {
        l.first()
            .is_some_and(|p| p["stdout_tail"].to_string().contains("listening on 8080"))
    });
    assert_eq!(
        (list[0]["id"].as_str(), list[0]["running"].as_bool()),
        (Some("p1"), Some(true))
    );
    assert!(live_process_with_arg(&marker));

    // Make it fail: the error line starts a turn of its own, in which the model stops it.
    llm.push_all([
        Turn::tool_calls([call(
            "c3",
            "process.send",
            json!({"id": "p1", "input": "crash"}),
        )]),
        Turn::text("Sent."),
        Turn::tool_calls([call("c4", "process.kill", json!({"id": "p1"}))]),
        Turn::text("The database went away; I stopped the server."),
    ]);
    turn_ok(&api, &sid, "make it crash");
    wait_processes(&api, &sid, "the model did not stop the server", |l| {
        l.first().is_some_and(|p| p["status"] == "killed")
    });
    wait_gone(&marker);
    let requests = llm.requests();
    let reacted = requests
        .iter()
        .map(|r| r.body.to_string())
        .find(|b| b.contains("matching the watch pattern `^ERROR`"))
        .expect("no turn was started for the error line");
    assert!(
        reacted.contains("ERROR: the database went away"),
        "{reacted}"
    );
    wait_until("the watch turn's answer never reached the session", || {
        api.get(&format!("/api/v1/sessions/{sid}")).json["messages"]
            .to_string()
            .contains("I stopped the server.")
    });
    wait_until("no process.matched event says a turn was started", || {
        env.store()
            .events_since(&sid, 0, 10_000)
            .unwrap()
            .iter()
            .any(|e| {
                matches!(
                    &e.payload,
                    pryx_protocol::EventPayload::ProcessMatched(m)
                        if m.turn_started && m.line.starts_with("ERROR")
                )
            })
    });
    wait_until("the session is still busy after the watch turn", || {
        !api.get(&format!("/api/v1/sessions/{sid}")).json["session"]["busy"]
            .as_bool()
            .unwrap_or(true)
    });

    // Deleting a session kills what it runs.
    let second = format!("{marker}b");
    llm.push_all([
        Turn::tool_calls([start_call("c5", &second)]),
        Turn::text("Started again."),
    ]);
    turn_ok(&api, &sid, "start it again");
    wait_processes(&api, &sid, "the second server did not start", |l| {
        l.len() == 2 && l[1]["stdout_tail"].to_string().contains("listening")
    });
    assert!(live_process_with_arg(&second));
    let deleted = api.call("DELETE", &format!("/api/v1/sessions/{sid}"), None);
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    wait_gone(&second);

    // Stopping the core kills every session's.
    let other = api.create_session(json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let third = format!("{marker}c");
    llm.push_all([
        Turn::tool_calls([start_call("c6", &third)]),
        Turn::text("Started."),
    ]);
    turn_ok(&api, &other, "start it here");
    wait_processes(&api, &other, "the third server did not start", |l| {
        l.len() == 1 && l[0]["stdout_tail"].to_string().contains("listening")
    });
    assert!(live_process_with_arg(&third));
    serve.stop();
    wait_gone(&third);
}
