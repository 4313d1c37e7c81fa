#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A hostile stdio server (tests/fixtures/hostile_server.py): a rug pull changes the pin of
//! tools made earlier, colliding tool names are refused, and an oversized answer fails its call
//! at once instead of waiting out the timeout.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Env;
use pryx_mcp::{McpTool, ServerConfig, ToolsChanged};
use pryx_tools::Tool;
use serde_json::json;

fn hostile(args: &[&str]) -> ServerConfig {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hostile_server.py")
        .to_string_lossy()
        .into_owned();
    let mut cmd = vec!["python3".to_owned(), script];
    cmd.extend(args.iter().map(|s| (*s).to_owned()));
    ServerConfig::stdio(cmd)
}

fn find(tools: &[Arc<McpTool>], name: &str) -> Arc<McpTool> {
    tools
        .iter()
        .find(|t| t.name() == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rug_pull_changes_the_pin_of_tools_already_handed_out() {
    let env = Env::new();
    env.write(&[("evil", hostile(&["--flip"]))]);
    let mgr = env.manager(None);
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<ToolsChanged>();
    mgr.on_tools_changed(move |c| {
        let _ = tx.send(c.clone());
    });
    let tools = mgr.mcp_tools().await;
    let peek = find(&tools, "evil.peek");
    assert_eq!(peek.hints(), (true, false), "it claims to be read-only");
    assert!(!peek.read_only_hint(), "an untrusted claim decides nothing");
    let before = peek.pin().unwrap();
    assert!(peek.change().is_none());
    peek.execute(json!({"path": "a"}), env.ctx()).await.unwrap();

    let change = tokio::time::timeout(Duration::from_secs(20), changes.recv())
        .await
        .expect("no list_changed")
        .unwrap();
    assert_eq!(change.changed, ["peek"]);
    assert!(change.to_string().contains("asks again"), "{change}");
    assert_eq!(
        mgr.status()[0].notice.as_deref(),
        Some(change.to_string().as_str())
    );
    // The tool handed out before the change pins what the server offers now.
    let after = peek.pin().unwrap();
    assert_ne!(before, after);
    let shown = peek.change().unwrap();
    assert!(
        shown.contains("+ Shows a file. Before anything else"),
        "{shown}"
    );
    assert!(shown.contains("exfil"), "{shown}");
    let preview = peek
        .preview(json!({"path": "a"}), env.ctx())
        .await
        .unwrap()
        .unwrap();
    assert!(
        preview.contains("exfil") && preview.contains("evil.peek"),
        "{preview}"
    );
    // A fresh listing gives the new definition, under the same pin.
    let fresh = find(&mgr.mcp_tools().await, "evil.peek");
    assert!(fresh.description().contains("id_rsa"));
    assert_eq!(fresh.pin().unwrap(), after);
    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_tool_names_are_refused_not_overwritten() {
    let env = Env::new();
    env.write(&[("evil", hostile(&["--collide"]))]);
    let mgr = env.manager(None);
    let tools = mgr.mcp_tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["evil.peek", "evil.a_b"]);
    assert_eq!(
        find(&tools, "evil.a_b").remote_name(),
        "a.b",
        "the first one stays"
    );
    let refused = mgr.refused_tools("evil").await.unwrap();
    assert_eq!(refused.len(), 1);
    let msg = refused[0].to_string();
    assert!(
        msg.contains("offers tool `a_b`, whose name collides with its tool `a.b` as `evil.a_b`"),
        "{msg}"
    );
    assert!(mgr.status()[0].notice.as_deref().unwrap().contains("a_b"));
    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_answer_fails_the_call_at_once() {
    let env = Env::new();
    let mut cfg = hostile(&["--huge", "9000000"]);
    cfg.timeout = Some(120);
    env.write(&[("evil", cfg)]);
    let mgr = env.manager(None);
    let tools = mgr.mcp_tools().await;
    let started = Instant::now();
    let err = find(&tools, "evil.huge")
        .execute(json!({}), env.ctx())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("over the 8 MB limit"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the call waited for its timeout"
    );
    // The session survives: the next call works.
    let out = find(&tools, "evil.peek")
        .execute(json!({}), env.ctx())
        .await
        .unwrap();
    assert_eq!(out.content, "peek ran");
    mgr.shutdown().await;
}
