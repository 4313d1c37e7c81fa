#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hostile MCP servers through the real binary: a server cannot take a built-in's name, two
//! servers cannot share a name up to case and `-`/`_`, colliding tool names are refused with a
//! clear error, and `pryx mcp remove` revokes what the user approved for the server.

use crate::common;

use common::*;
use serde_json::json;

fn hostile(args: &str) -> String {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mcp/tests/fixtures/hostile_server.py");
    format!("python3 '{}' {args}", fixture.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_named_fs_is_refused_and_fs_read_stays_the_built_in() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let calls = env.home.path().join("calls.log");
    let cmd = hostile(&format!("--calls '{}'", calls.display()));
    for name in ["fs", "SHELL", "process", "mcp"] {
        let out = env.run(&["mcp", "add", name, "--cmd", &cmd]);
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(
            stderr.contains(&format!("invalid server name `{name}`")),
            "{stderr}"
        );
    }
    // A hand-written entry under a built-in's name is skipped with a clear problem.
    std::fs::create_dir_all(env.home.path().join("mcp")).unwrap();
    let file = json!({"servers": {"fs": {"command": ["python3", "-c", "x"]}}});
    let mut cmd_words: Vec<String> = vec!["python3".into()];
    cmd_words.push(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../mcp/tests/fixtures/hostile_server.py")
            .to_string_lossy()
            .into_owned(),
    );
    cmd_words.extend(["--calls".into(), calls.to_string_lossy().into_owned()]);
    let mut file = file;
    file["servers"]["fs"]["command"] = json!(cmd_words);
    std::fs::write(env.home.path().join("mcp/servers.json"), file.to_string()).unwrap();
    let listed = env.run(&["mcp", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list[0]["status"], "invalid", "{list}");
    assert!(
        list[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("invalid server name"),
        "{list}"
    );

    let ws = std::fs::canonicalize(env.ws()).unwrap();
    std::fs::write(ws.join("todo.txt"), "buy milk\n").unwrap();
    server.push_all([
        Turn::tool_calls([call("r1", "fs.read", json!({"path": "todo.txt"}))]),
        Turn::text("done"),
    ]);
    let out = env.run(&["run", "--policy", "workspace-only", "read the todo"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let results = tool_results(&server, 1);
    assert!(results[0].1.contains("buy milk"), "{results:?}");
    assert!(!calls.exists(), "the server named fs was called");
}

#[test]
fn server_names_collide_up_to_case_and_dashes_and_tool_collisions_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args(["mcp", "add", "my-srv", "--cmd", &hostile("--collide")])
        .assert()
        .success();
    let out = pryx(&home)
        .args(["mcp", "add", "My_Srv", "--cmd", &hostile("")])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("collides with server `my-srv`"), "{stderr}");

    let out = pryx(&home)
        .args(["mcp", "tools", "my-srv"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.matches("my-srv.a_b").count(), 1, "{stdout}");
    assert!(
        stderr.contains("offers tool `a_b`, whose name collides with its tool `a.b`"),
        "{stderr}"
    );
}

#[test]
fn removing_a_server_revokes_its_grants() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args(["mcp", "add", "evil", "--cmd", &hostile("")])
        .assert()
        .success();
    {
        let store = pryx_store::Store::open(home.join("pryx.db")).unwrap();
        for tool in ["evil.peek", "evil.other", "evilish.peek", "shell.exec"] {
            store
                .add_grant(&pryx_store::NewGrant {
                    tool_name: tool.into(),
                    fingerprint: "fp".into(),
                    scope: pryx_store::GrantScope::Always,
                    session_id: None,
                    workspace: "/w".into(),
                    policy: "workspace-only".into(),
                    policy_hash: "h".into(),
                    arguments: serde_json::json!({}),
                    expires_at: None,
                })
                .unwrap();
        }
    }
    let out = pryx(&home)
        .args(["mcp", "remove", "evil"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 remembered approval(s)"), "{stdout}");
    let store = pryx_store::Store::open(home.join("pryx.db")).unwrap();
    let mut left: Vec<String> = store
        .list_grants()
        .unwrap()
        .into_iter()
        .map(|g| g.tool_name)
        .collect();
    left.sort();
    assert_eq!(left, ["evilish.peek", "shell.exec"]);
    // Each revoke is audited.
    let revoked: Vec<_> = store
        .list_audit(None, 50)
        .unwrap()
        .into_iter()
        .filter(|a| a.entry.action == "grant.revoked" && a.entry.actor == "user:cli")
        .collect();
    assert_eq!(revoked.len(), 2, "{revoked:?}");
}
