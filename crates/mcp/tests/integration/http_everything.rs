#![allow(clippy::unwrap_used, clippy::expect_used)]
//! server-everything over streamable HTTP (session, SSE responses, DELETE on close) and over
//! the older HTTP+SSE transport, reached through a plain `http` entry.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Env, everything, node};
use pryx_mcp::ServerConfig;
use serde_json::json;

/// A server-everything process on a loopback port; killed by PID when dropped.
struct Peer {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

impl Peer {
    fn start(mode: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(node())
            .arg(everything())
            .arg(mode)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let peer = Self {
            child,
            port,
            output,
        };
        assert!(
            peer.wait_for(&format!("{port}"), Duration::from_secs(20)),
            "server did not start: {}",
            peer.output()
        );
        peer
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn wait_for(&self, needle: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.output().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_session_calls_and_delete() {
    let peer = Peer::start("streamableHttp");
    let env = Env::new();
    let mut cfg = ServerConfig::http(format!("http://127.0.0.1:{}/mcp", peer.port));
    cfg.headers.insert("X-Pryx-Test".into(), "1".into());
    env.write(&[("web", cfg)]);
    let mgr = env.manager(None);
    let tools = mgr.tools().await;
    assert!(mgr.last_failures().is_empty(), "{:?}", mgr.last_failures());
    let status = mgr.status();
    assert_eq!(status[0].wire, Some("streamable-http"));
    assert_eq!(status[0].tool_count, Some(tools.len()));
    let echo = tools.iter().find(|t| t.name() == "web.echo").unwrap();
    let out = echo
        .execute(json!({"message": "over http"}), env.ctx())
        .await
        .unwrap();
    assert!(out.content.contains("over http"));

    // A call that streams progress over SSE before its result.
    let long = tools
        .iter()
        .find(|t| t.name() == "web.trigger-long-running-operation")
        .unwrap();
    let out = long
        .execute(json!({"duration": 1, "steps": 2}), env.ctx())
        .await
        .unwrap();
    assert!(!out.is_error, "{}", out.content);

    // Resources and prompts are reachable too.
    let conn = mgr.server("web").unwrap();
    assert!(!conn.list_resources().await.unwrap().is_empty());
    assert!(!conn.list_prompts().await.unwrap().is_empty());

    assert!(peer.output().contains("Session initialized with ID"));
    mgr.shutdown().await;
    assert!(
        peer.wait_for("session termination request", Duration::from_secs(10)),
        "no DELETE seen: {}",
        peer.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_server_is_reached_through_an_http_entry() {
    let peer = Peer::start("sse");
    let env = Env::new();
    env.write(&[(
        "old",
        ServerConfig::http(format!("http://127.0.0.1:{}/sse", peer.port)),
    )]);
    let mgr = env.manager(None);
    let tools = mgr.tools().await;
    assert!(mgr.last_failures().is_empty(), "{:?}", mgr.last_failures());
    assert_eq!(mgr.status()[0].wire, Some("sse"));
    let echo = tools.iter().find(|t| t.name() == "old.echo").unwrap();
    let out = echo
        .execute(json!({"message": "legacy"}), env.ctx())
        .await
        .unwrap();
    assert!(out.content.contains("legacy"));
    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = Env::new();
    let mut cfg = ServerConfig::http(format!("http://127.0.0.1:{port}/mcp"));
    cfg.timeout = Some(5);
    env.write(&[("gone", cfg)]);
    let mgr = env.manager(None);
    let err = mgr.server_tools("gone").await.unwrap_err().to_string();
    assert!(err.contains("cannot connect to MCP server `gone`"), "{err}");
    assert_eq!(mgr.status()[0].status, "failed");
}
