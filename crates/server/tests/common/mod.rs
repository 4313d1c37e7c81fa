//! Harness: a core on a temp data dir and workspace, its model the scripted LLM server, served on
//! a loopback port; a reqwest client with the token and a WebSocket client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use futures_util::{SinkExt, StreamExt};
use pryx_catalog::Catalog;
use pryx_core::{Core, CoreParts, SessionBus};
use pryx_llm::{ProviderKind, ProviderSettings};
use pryx_protocol::api::PendingApproval;
use pryx_protocol::ws::{WsControl, WsServerMessage};
use pryx_protocol::{ApprovalResolved, Event, EventKind, EventPayload, Surface, TurnEnd};
use pryx_server::{Server, ServerConfig};
#[allow(unused_imports)]
pub use pryx_testkit::{ScriptedLlm, ScriptedToolCall, Turn};
use pryx_tools::{ToolContext, ToolRegistry};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const TOKEN: &str = "test-token-0123456789";

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
    /// Base URL of a second scripted server, configured as provider `other`.
    pub other_llm: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            approval_timeout_secs: 30,
            bus_capacity: pryx_core::BUS_CAPACITY,
            failures_per_minute: 50,
            other_llm: None,
        }
    }
}

impl Rig {
    pub async fn start() -> Rig {
        Self::with(Options::default()).await
    }

    pub async fn with(opts: Options) -> Rig {
        let llm = ScriptedLlm::start().await;
        let home = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        let db = home.path().join("pryx.db");
        let store = pryx_store::Store::open(&db).unwrap();
        let settings =
            ProviderSettings::new("mock", ProviderKind::OpenAiCompatible, llm.base_url());
        let mut model = Catalog::bundled().unwrap().resolve("openai/gpt-4o").info;
        model.provider = "mock".into();
        let mut policy = pryx_policy::builtin("workspace-only").unwrap();
        policy.approval.timeout_secs = opts.approval_timeout_secs;
        let core = Core::with_bus(
            CoreParts {
                store,
                provider: pryx_llm::build_provider(settings).unwrap(),
                model,
                tools: Arc::new(ToolRegistry::with_builtins()),
                policy: Arc::new(policy),
                policy_name: "workspace-only".into(),
                tool_ctx: ToolContext::new(ws.path()).unwrap(),
                settings: pryx_agent::AgentSettings {
                    surface: Surface::Core,
                    // Approvals are answered over REST and the socket.
                    interactive: true,
                    ..Default::default()
                },
                prompt_sources: Vec::new(),
                policy_loader: Some(Arc::new(|name: &str| {
                    pryx_policy::builtin(name).ok_or_else(|| format!("unknown policy {name:?}"))
                })),
                model_loader: Some(model_loader(
                    [
                        Some(("mock", llm.base_url())),
                        opts.other_llm.map(|u| ("other", u)),
                    ]
                    .into_iter()
                    .flatten()
                    .map(|(p, u)| (p.to_string(), u))
                    .collect(),
                )),
            },
            SessionBus::with_capacity(opts.bus_capacity),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = ServerConfig::new(TOKEN);
        config.auth_failures_per_minute = opts.failures_per_minute;
        let server = Server::start(core.clone(), listener, config).unwrap();
        let port = server.local_addr().port();
        Rig {
            llm,
            core,
            server: Some(server),
            port,
            http: reqwest::Client::new(),
            db,
            _home: home,
            _ws: ws,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/api/v1{path}", self.port)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        status_json(r).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        status_json(r).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .delete(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        status_json(r).await
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
        let mut ends = self.turn_ends(session, 1).await;
        ends.pop().expect("at least one turn ended")
    }

    /// Waits until the session has `n` stored `turn.completed` events; returns them all, in order.
    pub async fn wait_completed_n(&self, session: &str, n: usize) -> Vec<TurnEnd> {
        self.turn_ends(session, n).await
    }

    /// The session's stored turn ends and the last stored version.
    fn stored_ends(&self, session: &str) -> (Vec<TurnEnd>, u64) {
        let evs = self.core.store().events_since(session, 0, 100_000).unwrap();
        let last = evs.iter().filter_map(|e| e.version).max().unwrap_or(0);
        let ends = evs
            .into_iter()
            .filter_map(|e| match e.payload {
                EventPayload::TurnCompleted(end) => Some(end),
                _ => None,
            })
            .collect();
        (ends, last)
    }

    /// Waits (on bus events, not by polling) until at least `n` turns of `session` ended.
    /// Subscribes before reading the store, so no event falls between the two; events read from
    /// both are counted once (by version). Panics after 30 s.
    async fn turn_ends(&self, session: &str, n: usize) -> Vec<TurnEnd> {
        let mut rx = self.core.bus().subscribe();
        let wait = async {
            let (mut ends, mut last) = self.stored_ends(session);
            while ends.len() < n {
                match rx.recv().await {
                    Ok(ev) => {
                        let e = &ev.event;
                        if e.session_id != session {
                            continue;
                        }
                        let Some(v) = e.version.filter(|v| *v > last) else {
                            continue;
                        };
                        last = v;
                        if let EventPayload::TurnCompleted(end) = &e.payload {
                            ends.push(end.clone());
                        }
                    }
                    Err(RecvError::Lagged(_)) => (ends, last) = self.stored_ends(session),
                    Err(RecvError::Closed) => panic!("the bus closed while waiting on {session}"),
                }
            }
            ends
        };
        match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(ends) => ends,
            Err(_) => {
                let (ends, _) = self.stored_ends(session);
                panic!(
                    "{n} turn(s) in {session} did not complete within 30 s; ended: {ends:?}, session busy: {}",
                    self.core.is_busy(session)
                )
            }
        }
    }
}

/// Resolves `provider/model` against the given providers (name, OpenAI-compatible base URL),
/// with the catalog figures of `openai/<model>`.
pub fn model_loader(providers: Vec<(String, String)>) -> pryx_core::ModelLoader {
    Arc::new(move |id: &str| {
        let (provider, name) = id.split_once('/').ok_or("no provider")?;
        let (_, url) = providers
            .iter()
            .find(|(p, _)| p == provider)
            .ok_or_else(|| format!("provider {provider:?} is not configured"))?;
        let settings = ProviderSettings::new(provider, ProviderKind::OpenAiCompatible, url.clone());
        let client = pryx_llm::build_provider(settings).map_err(|e| e.to_string())?;
        let mut model = Catalog::bundled()
            .map_err(|e| e.to_string())?
            .resolve(&format!("openai/{name}"))
            .info;
        model.provider = provider.to_string();
        model.id = name.to_string();
        Ok((client, model, Some(format!("{provider}-secret-key"))))
    })
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

/// The question of an `approval.needed` event (panics on any other event).
pub fn approval_of(e: &Event) -> &PendingApproval {
    match &e.payload {
        EventPayload::ApprovalNeeded(a) => a,
        other => panic!("expected approval.needed, got {} {other:?}", e.name()),
    }
}

/// The payload of an `approval.resolved` event (panics on any other event).
pub fn resolved_of(e: &Event) -> &ApprovalResolved {
    match &e.payload {
        EventPayload::ApprovalResolved(r) => r,
        other => panic!("expected approval.resolved, got {} {other:?}", e.name()),
    }
}

/// The end of a `turn.completed` event (panics on any other event).
pub fn end_of(e: &Event) -> &TurnEnd {
    match &e.payload {
        EventPayload::TurnCompleted(end) => end,
        other => panic!("expected turn.completed, got {} {other:?}", e.name()),
    }
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
        self.inner
            .send(Message::Text(v.to_string().into()))
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

    pub async fn next_event(&mut self) -> Event {
        match self.next().await {
            WsServerMessage::Event(e) => e,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Subscribes; returns the replayed events and the `subscribed` count.
    pub async fn subscribe(&mut self, v: Value) -> Vec<Event> {
        let mut req = v;
        req["type"] = json!("subscribe");
        self.send(req).await;
        let mut out = Vec::new();
        loop {
            match self.next().await {
                WsServerMessage::Event(e) => out.push(e),
                WsServerMessage::Control(WsControl::Subscribed { replayed }) => {
                    assert_eq!(replayed as usize, out.len());
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
