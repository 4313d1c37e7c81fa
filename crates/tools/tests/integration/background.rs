//! Background processes through the tools a model calls: started by `shell.exec` with
//! `background`, read from an offset, waited for, fed on stdin, killed with everything they
//! started, limited per session, and never seen by another session.

use pryx_tools::process::{PER_SESSION, ProcessMatch, ProcessTable, RING_LINES};
use pryx_tools::shell::ShellExec;
use pryx_tools::{Tool, ToolContext, ToolError};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

fn ctx(table: &ProcessTable, session: &str) -> (tempfile::TempDir, ToolContext) {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = ToolContext::new(dir.path()).unwrap();
    ctx.processes = Some(table.clone());
    ctx.session_id = Some(session.into());
    (dir, ctx)
}

async fn call(
    ctx: &ToolContext,
    name: &str,
    args: Value,
) -> Result<pryx_tools::ToolOutput, ToolError> {
    let tool = pryx_tools::process::tools()
        .into_iter()
        .chain([Arc::new(ShellExec) as Arc<dyn Tool>])
        .find(|t| t.name() == name)
        .unwrap();
    tool.execute(args, ctx.clone()).await
}

async fn start(ctx: &ToolContext, command: &str) -> String {
    let out = call(
        ctx,
        "shell.exec",
        json!({"command": command, "background": true}),
    )
    .await
    .unwrap();
    assert!(out.content.starts_with("started p"), "{}", out.content);
    out.metadata["process_id"].as_str().unwrap().to_string()
}

fn invalid(r: Result<pryx_tools::ToolOutput, ToolError>) -> String {
    match r {
        Err(e @ ToolError::InvalidArguments { .. }) => e.to_string(),
        other => panic!("expected a clear refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_background_command_is_read_waited_for_fed_and_killed() {
    let logs = tempfile::tempdir().unwrap();
    let table = ProcessTable::new(Some(logs.path().join("processes")));
    let (_ws, ctx) = ctx(&table, "s1");

    // A server that says it is ready, then echoes what it is sent.
    let id = start(
        &ctx,
        "echo ready; echo warming >&2; while read l; do echo \"got $l\"; done",
    )
    .await;
    let waited = call(&ctx, "process.wait", json!({"id": id, "timeout_ms": 200}))
        .await
        .unwrap();
    assert!(
        waited.content.contains("still running after 200 ms"),
        "{}",
        waited.content
    );
    assert!(waited.content.contains("| ready"), "{}", waited.content);
    let sent = call(&ctx, "process.send", json!({"id": id, "input": "ping"}))
        .await
        .unwrap();
    assert_eq!(sent.content, format!("sent 5 bytes to {id}"));
    // Poll the output from where the last read stopped (the answer names the next offset).
    let mut offset = 0;
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l == "got ping") {
        let out = call(&ctx, "process.output", json!({"id": id, "offset": offset}))
            .await
            .unwrap();
        offset = out.metadata["next_offset"].as_u64().unwrap();
        seen.extend(
            out.content
                .lines()
                .skip(1)
                .filter(|l| *l != "(no new lines)")
                .map(String::from),
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(seen, ["ready", "got ping"]);
    let err = call(
        &ctx,
        "process.output",
        json!({"id": id, "stream": "stderr"}),
    )
    .await
    .unwrap();
    assert!(err.content.ends_with("warming"), "{}", err.content);
    let past = invalid(call(&ctx, "process.output", json!({"id": id, "offset": 99})).await);
    assert!(past.contains("offset 99 is past the end"), "{past}");

    let listed = call(&ctx, "process.list", json!({})).await.unwrap();
    assert!(
        listed.content.contains(&format!("{id} · running")),
        "{}",
        listed.content
    );
    let killed = call(&ctx, "process.kill", json!({"id": id})).await.unwrap();
    assert_eq!(killed.content, format!("{id} killed"));
    let late = invalid(call(&ctx, "process.send", json!({"id": id, "input": "x"})).await);
    assert!(
        late.contains("has killed; nothing was sent") || late.contains("killed"),
        "{late}"
    );

    // Output survives in the log file, private to the data dir.
    let log = logs
        .path()
        .join("processes")
        .join(format!("{id}.stdout.log"));
    assert!(std::fs::read_to_string(&log).unwrap().contains("got ping"));
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn another_session_cannot_see_them_and_each_session_has_a_limit() {
    let table = ProcessTable::new(None);
    let (_a, mine) = ctx(&table, "mine");
    let (_b, theirs) = ctx(&table, "theirs");
    let mut ids = Vec::new();
    for _ in 0..PER_SESSION {
        ids.push(start(&mine, "sleep 30").await);
    }
    let refused = invalid(
        call(
            &mine,
            "shell.exec",
            json!({"command": "sleep 1", "background": true}),
        )
        .await,
    );
    assert!(refused.contains("already run in this session"), "{refused}");
    let hidden = invalid(call(&theirs, "process.kill", json!({"id": ids[0]})).await);
    assert!(hidden.contains("no background process"), "{hidden}");
    assert!(
        call(&theirs, "process.list", json!({}))
            .await
            .unwrap()
            .content
            .starts_with("no background processes")
    );
    // The other session is not limited by mine.
    let other = start(&theirs, "sleep 30").await;
    assert_eq!(table.kill_session("mine"), PER_SESSION);
    let waited = call(&theirs, "process.kill", json!({"id": other}))
        .await
        .unwrap();
    assert!(waited.content.ends_with("killed"));
}

#[tokio::test]
async fn killing_takes_everything_the_process_started() {
    let table = ProcessTable::new(None);
    let (_ws, ctx) = ctx(&table, "s");
    // A grandchild with an argument no other process has.
    let marker = format!("987.{}", std::process::id());
    let id = start(&ctx, &format!("sh -c 'sleep {marker}' & sleep 60")).await;
    for _ in 0..200 {
        if pryx_testkit::live_process_with_arg(&marker) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        pryx_testkit::live_process_with_arg(&marker),
        "the grandchild never started: {}",
        call(&ctx, "process.list", json!({})).await.unwrap().content
    );
    call(&ctx, "process.kill", json!({"id": id})).await.unwrap();
    let mut gone = false;
    for _ in 0..200 {
        if !pryx_testkit::live_process_with_arg(&marker) {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(gone, "a process the background command started outlived it");
}

#[tokio::test]
async fn a_flood_is_bounded_and_an_ended_process_keeps_its_last_lines() {
    let logs = tempfile::tempdir().unwrap();
    let table = ProcessTable::new(Some(logs.path().to_path_buf()));
    let (_ws, ctx) = ctx(&table, "s");
    let id = start(&ctx, "seq 1 20000; exit 3").await;
    let done = call(&ctx, "process.wait", json!({"id": id, "timeout_ms": 20000}))
        .await
        .unwrap();
    assert!(
        done.content
            .starts_with(&format!("{id} exited with code 3")),
        "{}",
        done.content
    );
    assert!(done.is_error);
    let last = call(&ctx, "process.output", json!({"id": id, "offset": 19999}))
        .await
        .unwrap();
    assert!(last.content.ends_with("\n20000"), "{}", last.content);
    // Older than the ring: from the file.
    let first = call(
        &ctx,
        "process.output",
        json!({"id": id, "offset": 0, "max_lines": 2}),
    )
    .await
    .unwrap();
    assert!(first.content.ends_with("1\n2"), "{}", first.content);
    const { assert!(RING_LINES < 20000) };
    let late = invalid(call(&ctx, "process.send", json!({"id": id, "input": "x"})).await);
    assert!(
        late.contains("exited with code 3; nothing was sent"),
        "{late}"
    );
}

#[tokio::test]
async fn watch_patterns_announce_the_first_match_of_a_quiet_period() {
    let table = ProcessTable::new(None);
    let seen: Arc<Mutex<Vec<ProcessMatch>>> = Arc::default();
    let sink = seen.clone();
    table.set_match_sink(Arc::new(move |m| sink.lock().unwrap().push(m)));
    let (_ws, ctx) = ctx(&table, "s");
    let out = call(
        &ctx,
        "shell.exec",
        json!({"command": "echo fine; echo 'ERROR: db down' >&2; echo 'ERROR: again' >&2", "background": true, "watch": ["^ERROR"]}),
    )
    .await
    .unwrap();
    let id = out.metadata["process_id"].as_str().unwrap().to_string();
    call(&ctx, "process.wait", json!({"id": id, "timeout_ms": 10000}))
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].line.as_str(), seen[0].pattern.as_str()),
        ("ERROR: db down", "^ERROR")
    );
    let bad = invalid(
        call(
            &ctx,
            "shell.exec",
            json!({"command": "true", "background": true, "watch": ["("]}),
        )
        .await,
    );
    assert!(bad.contains("watch pattern"), "{bad}");
    let fg = invalid(
        call(
            &ctx,
            "shell.exec",
            json!({"command": "true", "watch": ["x"]}),
        )
        .await,
    );
    assert!(fg.contains("only applies to a background command"), "{fg}");
}
