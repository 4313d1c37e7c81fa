#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The symlink-swap race against the real `pryx run`: a scripted model makes 1,000 file calls
//! into a workspace directory that another process keeps exchanging with a link to an outside
//! directory. No write may land outside and no read may return outside content.

use crate::common;

use common::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const STEPS: usize = 100;
const CALLS_PER_STEP: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_directory_never_leads_a_file_tool_out_of_the_workspace() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy("dev", "name: dev\ntools:\n  allowed:\n    - fs.write\n");
    let outside = tempfile::tempdir().unwrap();
    let outside = std::fs::canonicalize(outside.path()).unwrap();
    std::fs::write(outside.join("f.txt"), "OUTSIDE-CONTENT\n").unwrap();
    let ws = std::fs::canonicalize(env.ws()).unwrap();
    std::fs::create_dir(ws.join("sub")).unwrap();
    std::fs::write(ws.join("sub/f.txt"), "inside\n").unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("swap")).unwrap();

    let mut turns = Vec::new();
    for step in 0..STEPS {
        let calls = (0..CALLS_PER_STEP).map(|i| {
            let id = format!("c{step}-{i}");
            if i % 2 == 0 {
                call(
                    &id,
                    "fs.write",
                    json!({"path": format!("sub/w{step}-{i}.txt"), "content": "written\n"}),
                )
            } else {
                call(&id, "fs.read", json!({"path": "sub/f.txt"}))
            }
        });
        turns.push(Turn::tool_calls(calls));
    }
    turns.push(Turn::text("done"));
    server.push_all(turns);

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (a, b) = (ws.join("sub"), ws.join("swap"));
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            use rustix::fs::{CWD, RenameFlags, renameat_with};
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..2 {
                    renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).unwrap();
                }
                swaps.fetch_add(2, Ordering::Relaxed);
                std::thread::yield_now();
            }
        })
    };
    let steps = (STEPS + 1).to_string();
    let out = env.run(&[
        "run",
        "--local",
        "--json",
        "--policy",
        "dev",
        "--max-steps",
        &steps,
        "write and read",
    ]);
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stderr: {stderr}");

    let mut outside_names: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    outside_names.sort();
    assert_eq!(outside_names, ["f.txt"], "a write landed outside");
    assert!(
        !stdout.contains("OUTSIDE-CONTENT"),
        "a read returned outside content"
    );
    let store = env.store();
    let session = newest_session(&store);
    let calls = store.list_tool_calls(&session.id).unwrap();
    assert_eq!(calls.len(), STEPS * CALLS_PER_STEP);
    let ok_reads = calls
        .iter()
        .filter(|c| c.tool_name == "fs.read" && !c.is_error)
        .count();
    let ok_writes = calls
        .iter()
        .filter(|c| c.tool_name == "fs.write" && !c.is_error)
        .count();
    for c in &calls {
        assert!(
            !c.result
                .as_deref()
                .unwrap_or("")
                .contains("OUTSIDE-CONTENT"),
            "{c:?}"
        );
    }
    let swaps = swaps.load(Ordering::Relaxed);
    println!("{swaps} swaps; {ok_writes} writes and {ok_reads} reads succeeded");
    assert!(swaps > 1_000, "the swapper barely ran ({swaps} swaps)");
    assert!(
        ok_writes > 0 && ok_reads > 0,
        "no call ever succeeded: the race proved nothing"
    );
}
