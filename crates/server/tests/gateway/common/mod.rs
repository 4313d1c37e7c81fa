//! Harness: a core on a temp data dir and workspace, its model the scripted LLM server, served on
//! a loopback port; a reqwest client with the token and a WebSocket client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use futures_util::{SinkExt, StreamExt};
use pryx_core::Core;
use pryx_protocol::ws::{WsControl, WsServerMessage};
use pryx_protocol::{ErrorBody, Event, EventKind, TurnEnd};
use pryx_server::{Server, ServerConfig};
#[allow(unused_imports)]
pub use pryx_testkit::core_rig::TOKEN;
use pryx_testkit::core_rig::{CoreOptions, CoreRig, wait_turns};
#[allow(unused_imports)]
pub use pryx_testkit::events::{approval_of, end_of, resolved_of};
#[allow(unused_imports)]
pub use pryx_testkit::{ScriptedLlm, ScriptedToolCall, Turn};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub struct Rig {
    pub llm: ScriptedLlm,
    pub core: Core,
    pub server: Option<Server>,
    pub port: u16,
    pub http: reqwest::Client,
    pub db: std::path::PathBuf,
    _home: tempfile::TempDir,
    _ws: tempfile::TempDir,
}

pub struct Options {
    pub approval_timeout_secs: u64,
    pub bus_capacity: usize,
    pub failures_per_minute: u32,
    /// How long dashboard login links work.
    pub login_code_lifetime: Duration,
    /// Base URL of a second scripted server, configured as provider `other`.
    pub other_llm: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            approval_timeout_secs: 30,
            bus_capacity: pryx_core::BUS_CAPACITY,
            failures_per_minute: 50,
            login_code_lifetime: pryx_web::auth::CODE_LIFETIME,
            other_llm: None,
        }
    }
}

impl Rig {
    pub async fn start() -> Rig {
        Self::with(Options::default()).await
    }

    pub async fn with(opts: Options) -> Rig {
        let rig = CoreRig::with(CoreOptions {
            approval_timeout_secs: opts.approval_timeout_secs,
            bus_capacity: opts.bus_capacity,
            other_llm: opts.other_llm,
        })
        .await;
        let mut config = ServerConfig::new(TOKEN);
        config.auth_failures_per_minute = opts.failures_per_minute;
        config.login_code_lifetime = opts.login_code_lifetime;
        let server = rig.serve_with(config, 0).await;
        let port = server.local_addr().port();
        let CoreRig {
            llm,
            core,
            db,
            home,
            ws,
        } = rig;
        Rig {
            llm,
            core,
            server: Some(server),
            port,
            http: pryx_http::client().expect("an HTTP client"),
            db,
            _home: home,
            _ws: ws,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/api/v1{path}", self.port)
    }

    /// One authorised API call, with a JSON body when given.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        status_json(req.send().await.unwrap()).await
    }

    /// A URL of the OpenAI-compatible `/v1`.
    pub fn v1(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/v1{path}", self.port)
    }

    /// `POST /v1/chat/completions` with `auth` as the bearer and, when given, the session to
    /// continue; returns the status, the `x-pryx-session` answer header and the raw answer.
    pub async fn openai_chat(
        &self,
        auth: &str,
        body: &Value,
        session: Option<&str>,
    ) -> (u16, Option<String>, reqwest::Response) {
        let mut req = self
            .http
            .post(self.v1("/chat/completions"))
            .bearer_auth(auth)
            .json(body);
        if let Some(s) = session {
            req = req.header("x-pryx-session", s);
        }
        let res = req.send().await.unwrap();
        let sid = res
            .headers()
            .get("x-pryx-session")
            .map(|v| v.to_str().unwrap().to_string());
        (res.status().as_u16(), sid, res)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    /// The data dir of the core.
    /// The workspace sessions are created in.
    pub fn workspace(&self) -> &std::path::Path {
        self._ws.path()
    }

    pub fn home(&self) -> &std::path::Path {
        self._home.path()
    }

    pub async fn new_session(&self) -> String {
        let (status, body) = self.post("/sessions", json!({})).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Starts a turn; returns its id.
    pub async fn send(&self, session: &str, text: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/sessions/{session}/messages"),
                json!({"content": text}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body
    }

    pub async fn ws(&self) -> Ws {
        Ws::connect(
            self.port,
            &[("authorization", &format!("Bearer {TOKEN}"))],
            "",
        )
        .await
        .unwrap()
    }

    /// Waits until the session's `turn.completed` is stored; returns the last one.
    pub async fn wait_completed(&self, session: &str) -> TurnEnd {
        let mut ends = wait_turns(&self.core, session, 1).await;
        ends.pop().expect("at least one turn ended")
    }

    /// Waits until the session has `n` stored `turn.completed` events; returns them all, in order.
    pub async fn wait_completed_n(&self, session: &str, n: usize) -> Vec<TurnEnd> {
        wait_turns(&self.core, session, n).await
    }
}

pub async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn call(id: &str, name: &str, args: Value) -> ScriptedToolCall {
    ScriptedToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args.to_string(),
    }
}

/// What a `subscribe` got before and with its `subscribed`.
#[derive(Debug, Default)]
pub struct SubscribeAnswer {
    pub events: Vec<Event>,
    pub resets: Vec<(String, u64)>,
    pub replayed: u64,
    pub errors: BTreeMap<String, ErrorBody>,
    pub cursor: u64,
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client of the event socket.
pub struct Ws {
    pub inner: Stream,
}

impl Ws {
    pub async fn connect(
        port: u16,
        headers: &[(&str, &str)],
        query: &str,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let mut req = format!("ws://127.0.0.1:{port}/api/v1/ws{query}")
            .into_client_request()
            .unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let (inner, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Ws { inner })
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    /// Sends `text` as it is (JSON a `Value` cannot hold, such as a key given twice).
    pub async fn send_text(&mut self, text: &str) {
        self.inner
            .send(Message::Text(text.to_string().into()))
            .await
            .unwrap();
    }

    /// The next server message (panics after 10 s of silence).
    pub async fn next(&mut self) -> WsServerMessage {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.inner.next())
                .await
                .expect("no WebSocket message within 10 s")
                .expect("socket closed")
                .unwrap();
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// The next server message, or `None` once the socket is closed or broken (a server that
    /// went away); no timeout.
    pub async fn try_next(&mut self) -> Option<WsServerMessage> {
        loop {
            match self.inner.next().await? {
                Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    pub async fn next_event(&mut self) -> Event {
        match self.next().await {
            WsServerMessage::Event(e) => e,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Subscribes; returns the replayed events and the `subscribed` count.
    pub async fn subscribe(&mut self, v: Value) -> Vec<Event> {
        let answer = self.subscribe_answer(v).await;
        assert_eq!(answer.replayed as usize, answer.events.len());
        assert!(answer.resets.is_empty(), "{:?}", answer.resets);
        assert!(answer.errors.is_empty(), "{:?}", answer.errors);
        answer.events
    }

    /// Subscribes; returns everything up to `subscribed`: events (live ones still queued under a
    /// previous subscription, then the replayed ones), resets and per-session errors.
    pub async fn subscribe_answer(&mut self, v: Value) -> SubscribeAnswer {
        let mut req = v;
        req["type"] = json!("subscribe");
        self.send(req).await;
        let mut out = SubscribeAnswer::default();
        loop {
            match self.next().await {
                WsServerMessage::Event(e) => out.events.push(e),
                WsServerMessage::Control(WsControl::Reset {
                    session_id,
                    last_version,
                }) => out.resets.push((session_id, last_version)),
                WsServerMessage::Control(WsControl::Subscribed {
                    replayed,
                    errors,
                    cursor,
                }) => {
                    out.replayed = replayed;
                    out.errors = errors;
                    out.cursor = cursor;
                    return out;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Reads events until one of `kind` arrives; returns all read.
    pub async fn until(&mut self, kind: EventKind) -> Vec<Event> {
        let mut out = Vec::new();
        loop {
            let e = self.next_event().await;
            let done = e.kind() == Some(kind);
            out.push(e);
            if done {
                return out;
            }
        }
    }
}

/// Stored versions of a session, in order.
pub fn stored_versions(rig: &Rig, session: &str) -> Vec<u64> {
    rig.core
        .store()
        .events_since(session, 0, u32::MAX)
        .unwrap()
        .iter()
        .filter_map(|e| e.version)
        .collect()
}

pub fn versions_of(events: &[pryx_protocol::Event], session: &str) -> Vec<u64> {
    events
        .iter()
        .filter(|e| e.session_id == session)
        .filter_map(|e| e.version)
        .collect()
}
