#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx run` through a running `pryx serve`: the same answer, output and records as in-process,
//! `--local` forcing in-process, and an approval answered from a second client while the run
//! waits (the first answer wins).

use crate::common;

use common::*;
use pryx_client::{Client, Filter};
use pryx_config::DataDir;
use pryx_protocol::api::{ApprovalDecision, ApprovalScope};
use pryx_protocol::{Delta, ErrorCode, Event, EventKind, EventPayload, Surface};
use serde_json::json;

use std::process::Stdio;
use std::time::Duration;

fn notes_script() -> [Turn; 2] {
    [
        Turn::tool_calls([call("r1", "fs.read", json!({"path": "notes.txt"}))]),
        Turn::text("The notes mention a zebra."),
    ]
}

/// The session whose events were recorded by `surface`.
fn session_by_surface(store: &pryx_store::Store, surface: Surface) -> String {
    let sessions = store
        .list_sessions(
            None,
            pryx_store::Page {
                limit: 50,
                offset: 0,
            },
        )
        .unwrap();
    sessions
        .into_iter()
        .find(|s| {
            store
                .events_since(&s.id, 0, 1000)
                .unwrap()
                .iter()
                .all(|e| e.surface == surface)
        })
        .unwrap_or_else(|| panic!("no session recorded by {surface:?}"))
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_answer_and_records_as_in_process() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    std::fs::write(env.ws().join("notes.txt"), "zebra crossing\n").unwrap();
    let _core = Serve::start(&env, &[]);

    llm.push_all(notes_script());
    let remote = env.run(&["run", "what do my notes say"]);
    llm.push_all(notes_script());
    let local = env.run(&["run", "--local", "what do my notes say"]);
    let (r_out, r_err) = text(&remote);
    let (l_out, l_err) = text(&local);
    assert!(remote.status.success(), "{r_out}\n{r_err}");
    assert!(local.status.success(), "{l_out}\n{l_err}");
    assert_eq!(r_out, "The notes mention a zebra.\n");
    assert_eq!(r_out, l_out, "same answer on stdout");
    for err in [&r_err, &l_err] {
        assert!(err.contains("⚙ fs.read notes.txt"), "{err}");
        assert!(err.contains("✓ fs.read"), "{err}");
        assert!(err.contains("── done · 2 steps · 1 tool calls"), "{err}");
        assert!(
            err.contains("· mock/gpt-4o · policy workspace-only"),
            "{err}"
        );
    }
    assert!(!r_err.contains("in-process"), "{r_err}");
    // The model saw the same conversation.
    // (Each boundary around a tool result has a fresh random id.)
    let seen = |n| {
        tool_results(&llm, n)
            .into_iter()
            .map(|(id, content)| (id, without_boundary_ids(&content)))
            .collect::<Vec<_>>()
    };
    assert_eq!(seen(1), seen(3));

    // Same records; the core recorded one run, this process the other.
    let store = env.store();
    let remote_sid = session_by_surface(&store, Surface::Core);
    let local_sid = session_by_surface(&store, Surface::Cli);
    assert_ne!(remote_sid, local_sid);
    let shape = |sid: &str| {
        let s = store.get_session(sid).unwrap().unwrap();
        let messages: Vec<(String, String)> = store
            .list_messages(sid)
            .unwrap()
            .into_iter()
            .map(|m| (m.role.as_str().to_string(), without_boundary_ids(&m.text)))
            .collect();
        let calls: Vec<(String, String)> = store
            .list_tool_calls(sid)
            .unwrap()
            .into_iter()
            .map(|c| (c.tool_name, format!("{:?}", c.status)))
            .collect();
        let kinds: Vec<EventKind> = store
            .events_since(sid, 0, 1000)
            .unwrap()
            .into_iter()
            .filter_map(|e| e.kind())
            .collect();
        (s.title, s.model, messages, calls, kinds)
    };
    let (r, l) = (shape(&remote_sid), shape(&local_sid));
    assert_eq!(r, l);
    assert_eq!(r.0, "what do my notes say");
    assert_eq!(r.2.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_events_come_from_the_core_unless_local() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let _core = Serve::start(&env, &[]);
    let events = |out: &std::process::Output| -> Vec<Event> {
        assert!(out.status.success(), "{:?}", text(out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    llm.push(Turn::text("Hello from the core.").with_chunk_chars(5));
    let remote = events(&env.run(&["run", "--json", "hi"]));
    llm.push(Turn::text("Hello from the core.").with_chunk_chars(5));
    let local = events(&env.run(&["run", "--json", "--local", "hi"]));
    assert!(
        remote.iter().all(|e| e.surface == Surface::Core),
        "{remote:?}"
    );
    assert!(local.iter().all(|e| e.surface == Surface::Cli), "{local:?}");
    let kinds = |evs: &[Event]| evs.iter().map(|e| e.kind().unwrap()).collect::<Vec<_>>();
    assert_eq!(kinds(&remote), kinds(&local));
    assert_eq!(
        remote.last().unwrap().kind(),
        Some(EventKind::TurnCompleted)
    );
    let streamed: String = remote
        .iter()
        .filter_map(|e| match &e.payload {
            EventPayload::SessionDelta(Delta::Text { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, "Hello from the core.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_is_answered_from_another_client_and_the_first_answer_wins() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let _core = Serve::start(&env, &[]);
    let dir = DataDir::at(env.home.path());
    let api = Client::discover(&dir).await.unwrap();
    let mut asked = api
        .subscribe(Filter::all().kinds([EventKind::ApprovalNeeded]))
        .await
        .unwrap();
    llm.push_all([
        Turn::tool_calls([call(
            "s1",
            "shell.exec",
            json!({"command": "echo approved-by-api"}),
        )]),
        Turn::text("Ran it."),
    ]);
    let child = env
        .cmd()
        .args(["run", "run the echo"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(30), asked.next())
        .await
        .expect("the run asks for approval")
        .unwrap();
    let EventPayload::ApprovalNeeded(request) = event.payload else {
        panic!("expected approval.needed, got {event:?}");
    };
    let id = request.id;
    // The approval is answerable as soon as it is announced.
    api.answer_approval(&id, ApprovalDecision::Approve, ApprovalScope::Once)
        .await
        .unwrap();
    // A second surface answering later loses, over the socket as over REST.
    let web = Client::discover(&dir)
        .await
        .unwrap()
        .with_surface(Surface::Web);
    let late = web.subscribe(Filter::all()).await.unwrap();
    let e = late
        .answer(&id, ApprovalDecision::Deny, ApprovalScope::Once)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound), "{e}");
    let e = web
        .answer_approval(&id, ApprovalDecision::Deny, ApprovalScope::Once)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound), "{e}");

    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "Ran it.\n");
    assert!(stderr.contains("shell.exec needs approval"), "{stderr}");
    assert!(stderr.contains("✓ shell.exec"), "{stderr}");
    let results = tool_results(&llm, 1);
    assert!(results[0].1.contains("approved-by-api"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_keep_their_exit_code_and_mismatches_run_in_process() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let _core = Serve::start(&env, &[]);
    let out = env.run(&["run", "--session", "nope", "hi"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no session id is or starts with \"nope\"")
            && stderr.contains("`pryx sessions list`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("in-process"),
        "answered by the core: {stderr}"
    );

    // `--session` takes the short id `pryx sessions list` shows.
    llm.push_all([Turn::text("first"), Turn::text("second")]);
    let out = env.run(&["run", "one"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let store = env.store();
    let newest = store.list_sessions(
        None,
        pryx_store::Page {
            limit: 1,
            offset: 0,
        },
    );
    let id = newest.unwrap()[0].id.clone();
    let out = env.run(&["run", "--session", &id[..8], "two"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "second\n");
    let messages = store.list_messages(&id).unwrap();
    assert_eq!(messages.len(), 4, "both turns in one session: {messages:?}");

    // What the core cannot honour runs here, and says so.
    llm.push(Turn::text("local answer"));
    let out = env.run(&["run", "--max-steps", "4", "hi"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "local answer\n");
    assert!(
        stderr.contains("note: running in-process: --max-steps"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_approval_is_asked_and_answered_through_the_api() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let _core = Serve::start(&env, &[]);
    llm.push_all([
        Turn::tool_calls([call(
            "a1",
            "shell.exec",
            json!({"command": "echo approved > proof.txt"}),
        )]),
        Turn::text("Wrote the proof."),
    ]);
    let pryx = env!("CARGO_BIN_EXE_pryx");
    // script(1) gives the binary a real pseudo-terminal.
    let mut child = std::process::Command::new("script")
        .args([
            "-qfec",
            &format!("{pryx} run 'write the proof'"),
            "/dev/null",
        ])
        .env("PRYX_HOME", env.home.path())
        .env("PRYX_SECRET_BACKEND", "file")
        .current_dir(env.ws())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux must be installed");
    let mut stdout = child.stdout.take().unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let sink = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let wait_for = |needle: &str| {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if seen.lock().unwrap().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no {needle:?} in: {}", seen.lock().unwrap());
    };
    wait_for("y once");
    let screen = seen.lock().unwrap().clone();
    assert!(screen.contains("approval needed: shell.exec"), "{screen}");
    assert!(!env.ws().join("proof.txt").exists(), "nothing ran yet");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"s\n").unwrap();
    stdin.flush().unwrap();
    wait_for("Wrote the proof.");
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success(), "{}", seen.lock().unwrap());
    assert_eq!(
        std::fs::read_to_string(env.ws().join("proof.txt")).unwrap(),
        "approved\n"
    );
    // Answered in the core with the scope chosen on the terminal.
    let store = env.store();
    let sid = session_by_surface(&store, Surface::Core);
    let calls = store.list_tool_calls(&sid).unwrap();
    assert_eq!(calls[0].approval_scope.as_deref(), Some("session"));
}
