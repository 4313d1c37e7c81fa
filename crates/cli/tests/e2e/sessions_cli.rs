#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx sessions list|show|export|rm|search` on sessions made by real `pryx run` turns against
//! the scripted model, on the database when no core runs and through the running core when one
//! does: ids or any unique start of one are accepted, ambiguous and unknown ids are errors that
//! say what to do, exports never replace a file unasked, deleting asks (and is refused without
//! a terminal unless `--yes`), and a closed pipe ends the output quietly.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

fn json_out(env: &Env, args: &[&str]) -> Value {
    let out = env.run(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{args:?}: {stdout}\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

/// Stdout of a command that must succeed.
fn ok(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{args:?}: {stdout}\n{stderr}");
    stdout
}

/// Stderr of a command that must fail with exit code 1.
fn fails(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}\n{stderr}");
    stderr
}

/// Two sessions made by `pryx run`: one listing files with a tool call, then one about zebras.
/// Returns their ids in that order.
fn two_sessions(server: &ScriptedLlm, env: &Env) -> (String, String) {
    std::fs::write(env.ws().join("notes.txt"), "x").unwrap();
    server.push_all([
        Turn::tool_calls([call("r1", "fs.list", json!({}))]),
        Turn::text("There is one file: notes.txt."),
        Turn::text("Zebras have stripes."),
    ]);
    ok(env, &["run", "list the files"]);
    ok(env, &["run", "tell me about zebras"]);
    let list = json_out(env, &["sessions", "list", "--json"]);
    let ids: Vec<String> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    assert_eq!(list["sessions"][0]["title"], "tell me about zebras");
    assert_eq!(list["sessions"][1]["title"], "list the files");
    (ids[1].clone(), ids[0].clone())
}

/// The shortest start of `id` that `other` does not share.
fn unique_prefix(id: &str, other: &str) -> String {
    let common = id
        .bytes()
        .zip(other.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    id[..=common].to_string()
}

fn round_trip(server: &ScriptedLlm, env: &Env) {
    let (files, zebras) = two_sessions(server, env);

    // The list: newest first, one line each with the title; --limit and --agent.
    let human = ok(env, &["sessions", "list"]);
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(lines.len(), 2, "{human}");
    assert!(lines[0].ends_with("tell me about zebras"), "{human}");
    assert!(
        lines[1].contains(" main ") && lines[1].contains("mock/gpt-4o"),
        "{human}"
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{human}");
    assert_eq!(ok(env, &["sessions"]), human, "no subcommand lists");
    let one = json_out(env, &["sessions", "list", "--limit", "1", "--json"]);
    assert_eq!(one["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(one["sessions"][0]["id"], zebras.as_str());
    let none = json_out(env, &["sessions", "list", "--agent", "other", "--json"]);
    assert_eq!(none["sessions"], json!([]));
    assert!(
        ok(env, &["sessions", "list", "--agent", "other"]).contains("no sessions of agent other")
    );

    // Show: the facts and the transcript; --json is the API's session detail.
    let prefix = unique_prefix(&files, &zebras);
    let shown = ok(env, &["sessions", "show", &prefix]);
    assert!(shown.contains(&format!("session    {files}")), "{shown}");
    assert!(shown.contains("4 messages"), "{shown}");
    for line in [
        "user: list the files",
        "assistant: ⚙ fs.list {}",
        "  ↳ fs.list: notes.txt\n",
        "assistant: There is one file: notes.txt.",
    ] {
        assert!(shown.contains(line), "{line:?} in {shown}");
    }
    let detail = json_out(env, &["sessions", "show", &files, "--json"]);
    let detail: pryx_protocol::api::SessionDetail = serde_json::from_value(detail).unwrap();
    assert_eq!(detail.session.id, files);
    let roles: Vec<&str> = detail.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant"]);

    // Ambiguous and unknown ids say what to do.
    let err = fails(env, &["sessions", "show", "0"]);
    assert!(
        err.contains("is the start of 2 session ids") && err.contains("give more of the id"),
        "{err}"
    );
    let err = fails(env, &["sessions", "show", "no-such-session"]);
    assert!(
        err.contains("no session id is or starts with \"no-such-session\"")
            && err.contains("pryx sessions list"),
        "{err}"
    );

    // Export: Markdown by default, JSON on request, to a file that is never replaced unasked.
    let md = ok(env, &["sessions", "export", &prefix]);
    for part in [
        "# list the files\n",
        &format!("- Session: `{files}`"),
        "## User\n\nlist the files\n",
        "**Tool call** `fs.list` (r1)\n\n```json\n{}\n```\n",
        "### Tool result `fs.list` (r1)\n\n```text\n",
        "## Assistant\n\nThere is one file: notes.txt.\n",
    ] {
        assert!(md.contains(part), "{part:?} in {md}");
    }
    let exported = json_out(env, &["sessions", "export", &files, "--format", "json"]);
    assert_eq!(exported["session"]["id"], files.as_str());
    assert_eq!(exported["messages"].as_array().unwrap().len(), 4);
    let file = env.ws().join("files.md");
    ok(env, &["sessions", "export", &files, "-o", "files.md"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), md);
    std::fs::write(&file, "mine").unwrap();
    let err = fails(env, &["sessions", "export", &files, "-o", "files.md"]);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    ok(
        env,
        &[
            "sessions", "export", &files, "--format", "json", "-o", "files.md", "--force",
        ],
    );
    let back: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(back["session"]["id"], files.as_str());

    // Search: the matching session with a snippet.
    let found = json_out(env, &["sessions", "search", "zebras", "--json"]);
    let hits = found["sessions"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{found}");
    assert_eq!(hits[0]["id"], zebras.as_str());
    assert!(
        hits[0]["snippet"].as_str().unwrap().contains("«Zebras»"),
        "{found}"
    );
    let human = ok(env, &["sessions", "search", "stripes"]);
    assert!(
        human.contains("tell me about zebras") && human.contains("«stripes»"),
        "{human}"
    );
    assert!(ok(env, &["sessions", "search", "giraffes"]).contains("no session has a message"));
    let err = fails(env, &["sessions", "search", "*"]);
    assert!(err.contains("give at least one word"), "{err}");

    // Delete: refused without a terminal unless --yes; gone afterwards.
    let err = fails(env, &["sessions", "rm", &prefix]);
    assert!(
        err.contains("stdin is not a terminal") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(
        json_out(env, &["sessions", "list", "--json"])["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let deleted = json_out(env, &["sessions", "rm", &prefix, "--yes", "--json"]);
    assert_eq!(deleted["deleted"]["id"], files.as_str());
    let left = json_out(env, &["sessions", "list", "--json"]);
    assert_eq!(left["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(left["sessions"][0]["id"], zebras.as_str());
    let err = fails(env, &["sessions", "show", &files]);
    assert!(err.contains("no session id is or starts with"), "{err}");
    let said = ok(env, &["sessions", "rm", &zebras, "-y"]);
    assert!(
        said.contains(&format!("deleted session {zebras} (2 messages)")),
        "{said}"
    );
    assert!(ok(env, &["sessions", "list"]).contains("no sessions yet"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_export_search_and_rm_on_the_database() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    round_trip(&server, &env);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_export_search_and_rm_through_the_running_core() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let _core = Serve::start(&env, &[]);
    round_trip(&server, &env);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_a_long_listing_quietly() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    // More than a pipe holds, over more than one page of the walk.
    let store = env.store();
    for i in 0..260 {
        store
            .create_session(&pryx_store::NewSession {
                title: format!("session {i} {}", "x".repeat(400)),
                ..Default::default()
            })
            .unwrap();
    }
    drop(store);
    let all = json_out(&env, &["sessions", "list", "--limit", "1000", "--json"]);
    assert_eq!(all["sessions"].as_array().unwrap().len(), 260);

    let mut child = env
        .cmd()
        .args(["sessions", "list", "--limit", "1000", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"{");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 0 when the closed pipe is noticed and the output ends; 141 is a shell's name for
    // death by SIGPIPE.
    assert!(
        out.status.code() == Some(0) || out.status.signal() == Some(13),
        "{:?}: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_is_refused_while_a_turn_runs_in_the_session() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let _core = Serve::start(&env, &[]);
    // The model answers its first words, then stays silent: the turn runs until cancelled.
    server.push(Turn::stall_after(
        "thinking",
        std::time::Duration::from_secs(120),
    ));
    let client = pryx_client::Client::discover(&pryx_config::DataDir::at(env.home.path()))
        .await
        .unwrap();
    let session = client
        .create_session(&pryx_protocol::api::CreateSession {
            workspace: Some(env.ws().display().to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    // The session is reserved for the turn before the message is accepted.
    let turn = client.send_message(&session.id, "hello").await.unwrap();

    let list = json_out(&env, &["sessions", "list", "--json"]);
    assert_eq!(list["sessions"][0]["busy"], true, "{list}");
    assert!(ok(&env, &["sessions", "list"]).contains("[running] "));
    let err = fails(&env, &["sessions", "rm", &session.id, "--yes"]);
    assert!(
        err.contains(&format!("session {} is running a turn", session.id))
            && err.contains("wait for it to end"),
        "{err}"
    );
    client.cancel_turn(&turn.turn_id).await.unwrap();
    assert!(client.get_session(&session.id).await.is_ok());
}
