//! A small client for the API of a `pryx serve` child: JSON calls over plain HTTP/1.1 and one
//! turn's Server-Sent Events read as they arrive, each with a deadline.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long one plain call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The API of one core on loopback, with its bearer token.
#[derive(Debug, Clone)]
pub struct Api {
    pub port: u16,
    pub token: String,
}

/// A finished call: status and body (JSON, or the raw text as a JSON string).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub text: String,
    pub json: Value,
}

impl Reply {
    /// The error envelope's `code`, when this is one.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }
    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or_default()
    }
}

impl Api {
    /// The API of the core serving data dir `home` on `port` (the token is read from the dir).
    pub fn of(home: &Path, port: u16) -> Api {
        let token = std::fs::read_to_string(home.join("token")).unwrap();
        Api {
            port,
            token: token.trim().to_string(),
        }
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>, accept_sse: bool) -> String {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            self.token,
            body.len()
        );
        if !body.is_empty() {
            req.push_str("Content-Type: application/json\r\n");
        }
        if accept_sse {
            req.push_str("Accept: text/event-stream\r\n");
        }
        req.push_str("\r\n");
        req.push_str(&body);
        req
    }

    /// One call; the connection is closed by the server after the answer.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: no complete answer: {e}"))
    }

    /// One call that may find no server (or lose it midway): an error instead of a panic.
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<Reply> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(CALL_TIMEOUT))?;
        s.write_all(self.request(method, path, body, false).as_bytes())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = raw
            .split_once("\r\n\r\n")
            .ok_or_else(|| std::io::Error::other(format!("no HTTP head in {raw:?}")))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let chunked = head.lines().any(|l| {
            l.to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked")
        });
        let text = if chunked {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        let json = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Ok(Reply { status, text, json })
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None)
    }
    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(&body))
    }
    pub fn put(&self, path: &str, body: Value) -> Reply {
        self.call("PUT", path, Some(&body))
    }
    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(&body))
    }

    /// Creates a session; panics unless the answer is 201. Returns the session summary.
    pub fn create_session(&self, body: Value) -> Value {
        let r = self.post("/api/v1/sessions", body);
        assert_eq!(r.status, 201, "{}", r.text);
        r.json
    }

    /// Sends `content` to `session` and returns its turn's event stream.
    pub fn stream_turn(&self, session: &str, content: &str) -> TurnStream {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(CALL_TIMEOUT)).unwrap();
        let body = serde_json::json!({ "content": content });
        let path = format!("/api/v1/sessions/{session}/messages?stream=sse");
        s.write_all(self.request("POST", &path, Some(&body), true).as_bytes())
            .unwrap();
        let mut reader = BufReader::new(s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).unwrap() > 0, "no answer head");
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "turn not streamed: {head}"
        );
        let chunked = head.lines().any(|l| {
            l.to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked")
        });
        TurnStream {
            reader,
            chunked,
            buf: String::new(),
            done: false,
        }
    }
}

/// The body of a chunked answer.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].strip_prefix("\r\n").unwrap_or(&tail[n..]);
    }
    out
}

/// One event of a streamed turn.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub name: String,
    /// The event envelope; the payload is under `payload`.
    pub data: Value,
}

impl SseEvent {
    pub fn payload(&self) -> &Value {
        &self.data["payload"]
    }
}

/// The events of one turn, read as the core sends them, up to `turn.completed`.
pub struct TurnStream {
    reader: BufReader<TcpStream>,
    chunked: bool,
    /// Decoded body text not yet split into events.
    buf: String,
    done: bool,
}

impl TurnStream {
    /// More body text, waiting at most until `deadline`; `false` at the end of the body.
    fn fill(&mut self, deadline: Instant) -> bool {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("no event before the deadline; unread: {:?}", self.buf));
        self.reader
            .get_ref()
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        if self.chunked {
            let mut size = String::new();
            if self.read_line(&mut size) == 0 {
                return false;
            }
            let n = usize::from_str_radix(size.trim(), 16)
                .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
            if n == 0 {
                return false;
            }
            let mut chunk = vec![0u8; n + 2];
            self.reader
                .read_exact(&mut chunk)
                .unwrap_or_else(|e| panic!("stream broke: {e}"));
            self.buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
        } else {
            let mut line = String::new();
            if self.read_line(&mut line) == 0 {
                return false;
            }
            self.buf.push_str(&line);
        }
        true
    }

    fn read_line(&mut self, line: &mut String) -> usize {
        self.reader
            .read_line(line)
            .unwrap_or_else(|e| panic!("stream broke or timed out: {e}"))
    }

    /// The next event (keep-alive comments skipped); `None` after `turn.completed` or when the
    /// stream ends. Panics when nothing arrives before `deadline`.
    pub fn next(&mut self, deadline: Instant) -> Option<SseEvent> {
        if self.done {
            return None;
        }
        loop {
            let norm = self.buf.replace("\r\n", "\n");
            if let Some((frame, rest)) = norm.split_once("\n\n") {
                let (frame, rest) = (frame.to_string(), rest.to_string());
                self.buf = rest;
                let mut name = String::new();
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if name.is_empty() && data.is_empty() {
                    continue;
                }
                if name == "turn.completed" || name == "resync" {
                    self.done = true;
                }
                let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(SseEvent { name, data });
            }
            if !self.fill(deadline) {
                self.done = true;
                return None;
            }
        }
    }

    /// Reads events until one named `name` (returned); every event read is appended to `seen`.
    pub fn until(&mut self, name: &str, deadline: Instant, seen: &mut Vec<SseEvent>) -> SseEvent {
        loop {
            let e = self
                .next(deadline)
                .unwrap_or_else(|| panic!("the turn ended before {name}; events: {seen:#?}"));
            seen.push(e.clone());
            if e.name == name {
                return e;
            }
        }
    }

    /// Reads every remaining event up to and including `turn.completed`.
    pub fn rest(&mut self, deadline: Instant) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while let Some(e) = self.next(deadline) {
            out.push(e);
        }
        out
    }
}

/// The `turn.completed` payload among `events`.
pub fn completion(events: &[SseEvent]) -> &Value {
    events
        .iter()
        .find(|e| e.name == "turn.completed")
        .map(SseEvent::payload)
        .unwrap_or_else(|| panic!("no turn.completed in {events:#?}"))
}

/// The `tool.complete` payloads among `events`, in the order they came.
pub fn tool_completions(events: &[SseEvent]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e.name == "tool.complete")
        .map(SseEvent::payload)
        .collect()
}

/// The `tool.request` payloads among `events`.
pub fn tool_requests(events: &[SseEvent]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e.name == "tool.request")
        .map(SseEvent::payload)
        .collect()
}
