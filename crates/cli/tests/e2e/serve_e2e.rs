#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx serve` end to end: the real binary on loopback with the scripted model.

use crate::common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Serve {
    child: Child,
    port: u16,
    token: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(env: &Env, extra: &[&str]) -> Serve {
    let mut child = env
        .cmd()
        .args(["serve", "--announce"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no port announced: {line:?}"));
    let token = std::fs::read_to_string(env.home.path().join("token")).unwrap();
    Serve { child, port, token }
}

/// One HTTP/1.1 request over a fresh connection; returns (status, head, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("connection"))
    {
        req.push_str("Connection: close\r\n");
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = String::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).unwrap();
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
        if n == 0 || complete(&out) {
            break;
        }
    }
    let (head, rest) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), rest.to_string())
}

/// Whether a response is fully read: a switched protocol has only its head; others a body of
/// `content-length` bytes.
fn complete(out: &str) -> bool {
    let Some((head, body)) = out.split_once("\r\n\r\n") else {
        return false;
    };
    if head.starts_with("HTTP/1.1 101") {
        return true;
    }
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .is_some_and(|len| body.len() >= len)
}

fn authed(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announces_writes_metadata_and_token_and_holds_the_lock() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let srv = serve(&env, &[]);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.home.path().join("metadata.json")).unwrap())
            .unwrap();
    assert_eq!(meta["port"], srv.port);
    assert_eq!(meta["pid"], srv.child.id());
    assert_eq!(meta["version"], env!("CARGO_PKG_VERSION"));
    assert!(meta["started_at"].as_str().unwrap().ends_with('Z'));
    let mode = std::fs::metadata(env.home.path().join("token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(srv.token.trim().len(), 64);

    let (status, _, body) = http(srv.port, "GET", "/api/v1/health/ready", &[], "");
    assert_eq!(status, 200, "{body}");
    let second = env.run(&["serve"]);
    assert_eq!(second.status.code(), Some(3));
    let (_, stderr) = text(&second);
    assert!(
        stderr.contains("already running") && stderr.contains(&srv.child.id().to_string()),
        "{stderr}"
    );
    let exposed = env.run(&["serve", "--bind", "0.0.0.0"]);
    assert!(!exposed.status.success());
    assert!(
        text(&exposed).1.contains("--allow-remote"),
        "{:?}",
        text(&exposed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_bad_tokens_foreign_hosts_and_origins() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let srv = serve(&env, &[]);
    let p = srv.port;
    let auth = authed(&srv.token);
    let ok = http(
        p,
        "GET",
        "/api/v1/sessions",
        &[("Authorization", &auth)],
        "",
    );
    assert_eq!(ok.0, 200, "{ok:?}");
    assert_eq!(http(p, "GET", "/api/v1/sessions", &[], "").0, 401);
    assert_eq!(
        http(
            p,
            "GET",
            "/api/v1/sessions",
            &[("Authorization", "Bearer wrong")],
            ""
        )
        .0,
        401
    );
    let foreign_host = format!("attacker.example:{p}");
    let (status, _, body) = http(
        p,
        "GET",
        "/api/v1/sessions",
        &[("Authorization", &auth), ("Host", &foreign_host)],
        "",
    );
    assert_eq!(status, 403);
    assert!(
        body.contains("FORBIDDEN") && body.contains("request_id"),
        "{body}"
    );
    let (status, _, _) = http(
        p,
        "GET",
        "/api/v1/sessions",
        &[
            ("Authorization", &auth),
            ("Origin", "http://attacker.example"),
        ],
        "",
    );
    assert_eq!(status, 403);
    let upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let mut cross_site = upgrade.to_vec();
    cross_site.push(("Origin", "http://attacker.example"));
    cross_site.push(("Authorization", &auth));
    assert_eq!(http(p, "GET", "/api/v1/ws", &cross_site, "").0, 403);
    let mut no_token = upgrade.to_vec();
    no_token.push(("Origin", "http://attacker.example"));
    let query = format!("/api/v1/ws?token={}", srv.token.trim());
    assert_eq!(http(p, "GET", &query, &no_token, "").0, 403);
    // A token in the URL is never accepted, even from the gateway's own origin.
    let own = format!("http://127.0.0.1:{p}");
    let mut url_token = upgrade.to_vec();
    url_token.push(("Origin", &own));
    assert_eq!(http(p, "GET", &query, &url_token, "").0, 401);
    let mut good = upgrade.to_vec();
    good.push(("Authorization", &auth));
    let origin = format!("http://127.0.0.1:{p}");
    good.push(("Origin", &origin));
    let (status, head, _) = http(p, "GET", "/api/v1/ws", &good, "");
    assert_eq!(status, 101, "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_streaming_turn_cancels_it_and_exits_quickly() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    llm.push(
        Turn::text("this answer never arrives").with_first_token_delay(Duration::from_secs(60)),
    );
    let mut srv = serve(&env, &["--log-format", "json", "--log-to", "both"]);
    let auth = authed(&srv.token);
    let (status, _, body) = http(
        srv.port,
        "POST",
        "/api/v1/sessions",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        "{}",
    );
    assert_eq!(status, 201, "{body}");
    let session = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Stream the turn; wait until it is running (its user message is stored).
    let mut stream = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    let payload = r#"{"content":"a long task"}"#;
    write!(
        stream,
        "POST /api/v1/sessions/{session}/messages?stream=sse HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        srv.port,
        payload.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while !line.contains("\"session.message\"") {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "stream ended early"
        );
    }
    let pid = srv.child.id().to_string();
    let started = Instant::now();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(s) = srv.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "pryx serve did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took <= Duration::from_secs(3), "exit took {took:?}");
    // The stream ends (the server closed it).
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);

    assert!(!env.home.path().join("metadata.json").exists());
    let store = env.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let events = store.events_since(&session, 0, 1000).unwrap();
    let done = events
        .iter()
        .rev()
        .find_map(|e| match &e.payload {
            pryx_protocol::EventPayload::TurnCompleted(end) => Some(end),
            _ => None,
        })
        .expect("turn.completed recorded");
    assert_eq!(
        done.stop(),
        Some(pryx_protocol::TurnStop::Cancelled),
        "{done:?}"
    );
    let spans = store.list_spans(&session).unwrap();
    let turn = spans.iter().find(|s| s.kind.as_str() == "turn").unwrap();
    assert_eq!(turn.status.as_str(), "cancelled");
    let log = std::fs::read_to_string(env.home.path().join("logs/core.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("\"shutting down\"")),
        "{log}"
    );
}
