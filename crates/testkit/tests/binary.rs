#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `pryx-scripted-llm` binary: reads a script, prints its port, serves and records.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-test: yes\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serves_a_script_file_in_both_formats_and_records_requests() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.json");
    std::fs::write(
        &script,
        r#"{"turns": [
            {"text": "hello there"},
            {"tool_calls": [{"id": "toolu_1", "name": "fs__read", "arguments": "{\"path\":\"a\"}"}]},
            {"failure": {"kind": "status", "status": 429, "retry_after_secs": 3}}
        ]}"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pryx-scripted-llm"))
        .arg(&script)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port: u16 = line.trim().parse().unwrap();

    let openai = http(
        port,
        "POST",
        "/v1/chat/completions",
        r#"{"model":"gpt-x","messages":[]}"#,
    );
    assert!(openai.starts_with("HTTP/1.1 200"), "{openai}");
    assert!(
        openai.contains("\"content\":\"hel\"") && openai.contains("data: [DONE]"),
        "{openai}"
    );
    assert!(openai.contains("\"model\":\"gpt-x\""));

    let anthropic = http(
        port,
        "POST",
        "/v1/messages",
        r#"{"model":"claude-x","messages":[]}"#,
    );
    assert!(anthropic.contains("event: message_start"), "{anthropic}");
    assert!(anthropic.contains("\"name\":\"fs__read\""));
    assert!(anthropic.contains("\"partial_json\":\"{\\\"p\""));
    assert!(anthropic.contains("\"stop_reason\":\"tool_use\""));
    assert!(anthropic.contains("event: message_stop"));

    let limited = http(port, "POST", "/v1/chat/completions", "{}");
    assert!(limited.starts_with("HTTP/1.1 429"), "{limited}");
    assert!(limited.to_ascii_lowercase().contains("retry-after: 3"));

    let exhausted = http(port, "POST", "/v1/chat/completions", "{}");
    assert!(exhausted.starts_with("HTTP/1.1 500") && exhausted.contains("no turn left"));

    let pushed = http(port, "POST", "/_turns", r#"[{"text":"more"}]"#);
    assert!(pushed.starts_with("HTTP/1.1 204"), "{pushed}");
    assert!(http(port, "POST", "/v1/chat/completions", "{}").contains("\"content\":\"mor\""));

    let recorded = http(port, "GET", "/_requests", "");
    let body = recorded.split("\r\n\r\n").nth(1).unwrap();
    let requests: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(requests.as_array().unwrap().len(), 5);
    assert_eq!(requests[0]["path"], "/v1/chat/completions");
    assert_eq!(requests[0]["body"]["model"], "gpt-x");
    assert_eq!(requests[1]["path"], "/v1/messages");
    assert_eq!(requests[1]["headers"]["x-test"], "yes");
}

#[test]
fn a_bad_script_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.json");
    std::fs::write(&script, "{not json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pryx-scripted-llm"))
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid list of turns"));
}
