#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One `pryx serve` hosting two agent profiles: `alpha` in its own workspace on the scripted
//! model, `beta` in another on aimock. Their turns run at the same time; each writes into its own
//! workspace (approved through the API) and is refused a write into the other's; each provider
//! only ever sees its own agent's requests; sessions record the agent, workspace and model they
//! were created with. Bad agent and workspace choices are refused with a useful answer.

use crate::common;
use crate::serve_api;

use common::*;
use serde_json::{Value, json};
use serve_api::{Api, SseEvent, TurnStream, completion, tool_completions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ALPHA_PROMPT: &str = "alpha: write your note";
const BETA_PROMPT: &str = "beta: write your note";

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap()
}

/// aimock answers beta's prompt with two writes (its own file, then one into `alpha_ws`), and
/// with a final text once the tool results are in.
fn beta_fixture(dir: &Path, alpha_ws: &Path) -> PathBuf {
    let file = dir.join("beta.json");
    let fixtures = json!({"fixtures": [
        {
            "match": {"userMessage": BETA_PROMPT, "hasToolResult": false},
            "response": {"toolCalls": [
                {"name": "fs__write", "arguments": {"path": "beta.txt", "content": "written by beta\n"}},
                {"name": "fs__write", "arguments": {"path": alpha_ws.join("from-beta.txt"), "content": "beta was here\n"}}
            ]}
        },
        {
            "match": {"userMessage": BETA_PROMPT, "hasToolResult": true},
            "response": {"content": "Beta wrote its note; the other write was refused."}
        }
    ]});
    std::fs::write(&file, serde_json::to_vec_pretty(&fixtures).unwrap()).unwrap();
    file
}

/// Reads `stream` until the approval it waits on; returns that approval's id.
fn approval_of(stream: &mut TurnStream, deadline: Instant, seen: &mut Vec<SseEvent>) -> String {
    let e = stream.until("approval.needed", deadline, seen);
    e.payload()["id"].as_str().unwrap().to_string()
}

/// The text of every user message in a recorded chat-completions body.
fn user_texts(body: &Value) -> String {
    body["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter(|m| m["role"] == "user")
                .map(|m| m["content"].to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_run_at_once_each_in_its_own_workspace_on_its_own_model() {
    let llm = ScriptedLlm::start().await;
    let fixtures = tempfile::tempdir().unwrap();
    let alpha_dir = tempfile::tempdir().unwrap();
    let beta_dir = tempfile::tempdir().unwrap();
    let (alpha_ws, beta_ws) = (canonical(alpha_dir.path()), canonical(beta_dir.path()));
    let mock = Aimock::start(&beta_fixture(fixtures.path(), &alpha_ws));

    let env = Env {
        home: tempfile::tempdir().unwrap(),
        ws: tempfile::tempdir().unwrap(),
    };
    let config = json!({
        "providers": {
            "scripted": {"kind": "openai-compatible", "base_url": llm.base_url(), "catalog_id": "openai"},
            "aimock": {"kind": "openai-compatible", "base_url": mock.base_url(), "catalog_id": "openai"}
        },
        "agents": {
            "alpha": {"workspace": alpha_ws, "model": "scripted/gpt-4o"},
            "beta": {"workspace": beta_ws, "model": "aimock/gpt-4o-mini"}
        },
        "agent": {"approval_timeout_secs": 120}
    });
    std::fs::write(
        env.home.path().join("config.json"),
        serde_json::to_vec_pretty(&config).unwrap(),
    )
    .unwrap();
    llm.push_all([
        Turn::tool_calls([
            call(
                "a1",
                "fs.write",
                json!({"path": "alpha.txt", "content": "written by alpha\n"}),
            ),
            call(
                "a2",
                "fs.write",
                json!({"path": beta_ws.join("from-alpha.txt"), "content": "alpha was here\n"}),
            ),
        ]),
        Turn::text("Alpha wrote its note; the other write was refused."),
    ]);

    let serve = Serve::start(&env, &[]);
    let api = Api::of(env.home.path(), serve.port);

    let agents = api.get("/api/v1/agents");
    assert_eq!(agents.status, 200, "{}", agents.text);
    let ids: Vec<&str> = agents.json["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["main", "alpha", "beta"], "{}", agents.text);

    let alpha = api.create_session(json!({"agent": "alpha"}));
    let beta = api.create_session(json!({"agent": "beta"}));
    let (alpha_id, beta_id) = (
        alpha["id"].as_str().unwrap().to_string(),
        beta["id"].as_str().unwrap().to_string(),
    );

    // Both turns start before either is answered; both then wait for approval together.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut alpha_stream = api.stream_turn(&alpha_id, ALPHA_PROMPT);
    let mut beta_stream = api.stream_turn(&beta_id, BETA_PROMPT);
    let (mut alpha_events, mut beta_events) = (Vec::new(), Vec::new());
    let alpha_approval = approval_of(&mut alpha_stream, deadline, &mut alpha_events);
    let beta_approval = approval_of(&mut beta_stream, deadline, &mut beta_events);

    let pending = api.get("/api/v1/approvals");
    assert_eq!(pending.status, 200, "{}", pending.text);
    let pending = pending.json["approvals"].as_array().unwrap().clone();
    assert_eq!(pending.len(), 2, "both turns wait at once: {pending:#?}");
    for (id, session, file) in [
        (&alpha_approval, &alpha_id, "alpha.txt"),
        (&beta_approval, &beta_id, "beta.txt"),
    ] {
        let a = pending
            .iter()
            .find(|a| a["id"] == id.as_str())
            .unwrap_or_else(|| panic!("approval {id} not listed: {pending:#?}"));
        assert_eq!(a["session_id"], session.as_str());
        assert_eq!(a["tool"], "fs.write");
        assert_eq!(a["arguments"]["path"], file, "{a:#}");
        let answer = api.post(
            &format!("/api/v1/approvals/{id}"),
            json!({"decision": "approve", "scope": "once"}),
        );
        assert_eq!(answer.status, 200, "{}", answer.text);
    }

    alpha_events.extend(alpha_stream.rest(deadline));
    beta_events.extend(beta_stream.rest(deadline));
    for (name, events) in [("alpha", &alpha_events), ("beta", &beta_events)] {
        assert_eq!(
            completion(events)["stop"],
            "completed",
            "{name}: {events:#?}"
        );
        let done = tool_completions(events);
        assert_eq!(done.len(), 2, "{name}: {done:#?}");
        let ran: Vec<_> = done.iter().filter(|c| c["is_error"] == false).collect();
        let refused: Vec<_> = done.iter().filter(|c| c["is_error"] == true).collect();
        assert_eq!(ran.len(), 1, "{name}: one write runs: {done:#?}");
        assert_eq!(refused.len(), 1, "{name}: one write is refused: {done:#?}");
        assert_eq!(refused[0]["status"], "denied", "{name}: {done:#?}");
        let why = refused[0]["message"].as_str().unwrap_or_default();
        assert!(why.contains("outside workspace"), "{name}: {why}");
    }

    // Each file landed in its own workspace only; neither intrusion happened.
    assert_eq!(
        std::fs::read_to_string(alpha_ws.join("alpha.txt")).unwrap(),
        "written by alpha\n"
    );
    assert_eq!(
        std::fs::read_to_string(beta_ws.join("beta.txt")).unwrap(),
        "written by beta\n"
    );
    for missing in [
        alpha_ws.join("from-beta.txt"),
        beta_ws.join("from-alpha.txt"),
        alpha_ws.join("beta.txt"),
        beta_ws.join("alpha.txt"),
        env.ws().join("alpha.txt"),
        env.ws().join("beta.txt"),
    ] {
        assert!(!missing.exists(), "{} must not exist", missing.display());
    }

    // Each provider saw only its own agent's requests: the prompt, then the tool results.
    let scripted = llm.requests();
    assert_eq!(scripted.len(), 2, "{scripted:#?}");
    for r in &scripted {
        assert_eq!(r.body["model"], "gpt-4o");
        let users = user_texts(&r.body);
        assert!(
            users.contains(ALPHA_PROMPT) && !users.contains(BETA_PROMPT),
            "{users}"
        );
    }
    let journal = Api {
        port: mock.port,
        token: String::new(),
    }
    .get("/__aimock/journal");
    assert_eq!(journal.status, 200, "{}", journal.text);
    let completions: Vec<&Value> = journal
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap_or_default()
                .contains("chat/completions")
        })
        .collect();
    assert_eq!(completions.len(), 2, "{:#}", journal.json);
    for e in completions {
        assert_eq!(e["body"]["model"], "gpt-4o-mini", "{e:#}");
        let users = user_texts(&e["body"]);
        assert!(
            users.contains(BETA_PROMPT) && !users.contains(ALPHA_PROMPT),
            "{users}"
        );
    }

    // The sessions recorded what they run with, and hold their answers.
    for (id, agent, ws, model, answer) in [
        (
            &alpha_id,
            "alpha",
            &alpha_ws,
            "scripted/gpt-4o",
            "Alpha wrote its note; the other write was refused.",
        ),
        (
            &beta_id,
            "beta",
            &beta_ws,
            "aimock/gpt-4o-mini",
            "Beta wrote its note; the other write was refused.",
        ),
    ] {
        let s = api.get(&format!("/api/v1/sessions/{id}"));
        assert_eq!(s.status, 200, "{}", s.text);
        let summary = &s.json["session"];
        assert_eq!(summary["agent"], agent, "{summary:#}");
        assert_eq!(
            summary["workspace"],
            ws.display().to_string(),
            "{summary:#}"
        );
        assert_eq!(summary["model"], model, "{summary:#}");
        assert_eq!(summary["policy"], "workspace-only", "{summary:#}");
        assert_eq!(summary["busy"], false, "{summary:#}");
        let last = s.json["messages"].as_array().unwrap().last().unwrap();
        assert_eq!(last["role"], "assistant", "{last:#}");
        assert_eq!(last["text"], answer, "{last:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_agent_and_workspace_choices_are_refused() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let other = tempfile::tempdir().unwrap();
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(env.home.path().join("config.json")).unwrap())
            .unwrap();
    config["agents"] = json!({"alpha": {"workspace": canonical(other.path())}});
    std::fs::write(
        env.home.path().join("config.json"),
        serde_json::to_vec_pretty(&config).unwrap(),
    )
    .unwrap();
    let serve = Serve::start(&env, &[]);
    let api = Api::of(env.home.path(), serve.port);

    let r = api.post("/api/v1/sessions", json!({"agent": "nope"}));
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(
        r.message().contains("nope") && r.message().contains("main, alpha"),
        "the answer lists the known agents: {}",
        r.text
    );

    let r = api.post("/api/v1/sessions", json!({"workspace": "/does/not/exist"}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("does not exist"), "{}", r.text);

    let home = canonical(env.home.path());
    let r = api.post("/api/v1/sessions", json!({"workspace": home}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("data dir"), "{}", r.text);
    let inside = home.join("logs");
    std::fs::create_dir_all(&inside).unwrap();
    let r = api.post("/api/v1/sessions", json!({"workspace": inside}));
    assert_eq!(r.status, 400, "inside the data dir too: {}", r.text);

    // None of these left a session behind; a good choice still works.
    let list = api.get("/api/v1/sessions");
    assert_eq!(
        list.json["sessions"].as_array().unwrap().len(),
        0,
        "{}",
        list.text
    );
    let s = api.create_session(json!({"workspace": canonical(other.path())}));
    assert_eq!(s["agent"], "main");
    assert_eq!(
        s["workspace"],
        canonical(other.path()).display().to_string()
    );
}
