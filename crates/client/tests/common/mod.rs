//! Harness: a real core and API server on a loopback port (temp data dir and workspace, the
//! scripted LLM as its model) and a [`Client`] of it. The server can be stopped and started again
//! on the same port with the same core, to test reconnects.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use pryx_catalog::Catalog;
use pryx_client::{Client, Subscription};
use pryx_core::{Core, CoreParts, SessionBus};
use pryx_llm::{ProviderKind, ProviderSettings};
use pryx_protocol::api::PendingApproval;
use pryx_protocol::{ApprovalResolved, Event, EventKind, EventPayload, Surface, TurnEnd};
use pryx_server::{Server, ServerConfig};
#[allow(unused_imports)]
pub use pryx_testkit::{ScriptedLlm, ScriptedToolCall, Turn};
use pryx_tools::{ToolContext, ToolRegistry};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub const TOKEN: &str = "client-test-token-0123456789";

pub struct Rig {
    pub llm: ScriptedLlm,
    pub core: Core,
    pub server: Option<Server>,
    pub port: u16,
    pub client: Client,
    pub home: tempfile::TempDir,
    pub ws: tempfile::TempDir,
}

impl Rig {
    pub async fn start() -> Rig {
        Self::with_bus(pryx_core::BUS_CAPACITY).await
    }

    pub async fn with_bus(bus_capacity: usize) -> Rig {
        let llm = ScriptedLlm::start().await;
        let home = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        let store = pryx_store::Store::open(home.path().join("pryx.db")).unwrap();
        let settings =
            ProviderSettings::new("mock", ProviderKind::OpenAiCompatible, llm.base_url());
        let mut model = Catalog::bundled().unwrap().resolve("openai/gpt-4o").info;
        model.provider = "mock".into();
        let mut policy = pryx_policy::builtin("workspace-only").unwrap();
        policy.approval.timeout_secs = 30;
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
                model_loader: None,
            },
            SessionBus::with_capacity(bus_capacity),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server::start(core.clone(), listener, ServerConfig::new(TOKEN)).unwrap();
        let port = server.local_addr().port();
        let client = Client::new(&format!("http://127.0.0.1:{port}"), TOKEN).unwrap();
        Rig {
            llm,
            core,
            server: Some(server),
            port,
            client,
            home,
            ws,
        }
    }

    /// Stops the API server: every socket is closed. The core keeps running.
    pub async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown(Duration::from_secs(2)).await;
        }
    }

    /// Serves the same core again on the same port.
    pub async fn start_server(&mut self) {
        let addr = format!("127.0.0.1:{}", self.port);
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(&addr).await {
                Ok(l) => break l,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot bind {addr} again: {e}"),
            }
        };
        self.server =
            Some(Server::start(self.core.clone(), listener, ServerConfig::new(TOKEN)).unwrap());
    }

    /// Waits until the session has `count` stored `turn.completed` events; returns the
    /// `count`-th. Waits on bus events, not by polling: subscribes before reading the store, so
    /// no event falls between the two, and counts events read from both once (by version).
    /// Panics after 30 s.
    pub async fn wait_completed(&self, session: &str, count: usize) -> TurnEnd {
        assert!(count > 0, "wait for at least one turn");
        let mut rx = self.core.bus().subscribe();
        let wait = async {
            let (mut ends, mut last) = self.stored_ends(session);
            while ends.len() < count {
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
            ends.swap_remove(count - 1)
        };
        match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(end) => end,
            Err(_) => {
                let (ends, _) = self.stored_ends(session);
                panic!(
                    "turn {count} in {session} did not complete within 30 s; ended: {ends:?}, session busy: {}",
                    self.core.is_busy(session)
                )
            }
        }
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

    /// Every stored version of a session, in order.
    pub fn stored_versions(&self, session: &str) -> Vec<u64> {
        self.core
            .store()
            .events_since(session, 0, 100_000)
            .unwrap()
            .iter()
            .filter_map(|e| e.version)
            .collect()
    }
}

/// The next event, or a panic after 20 s (a hang is a failure, not a slow pass).
pub async fn next(sub: &mut Subscription) -> Event {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("no event within 20 s")
        .expect("the subscription ended")
}

/// Events up to and including the `n`-th `turn.completed`.
pub async fn until_completed(sub: &mut Subscription, n: usize) -> Vec<Event> {
    let mut out = Vec::new();
    let mut seen = 0;
    while seen < n {
        let e = next(sub).await;
        if e.kind() == Some(EventKind::TurnCompleted) {
            seen += 1;
        }
        out.push(e);
    }
    out
}

/// Waits until the broker lists approval `id`. `approval.needed` is published a moment before
/// the approval can be answered, so tests wait as a UI listing `GET /approvals` would.
pub async fn wait_pending(client: &Client, id: &str) {
    for _ in 0..500 {
        if client
            .pending_approvals()
            .await
            .unwrap()
            .iter()
            .any(|a| a.id == id)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("approval {id} never became pending");
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

pub fn call(id: &str, name: &str, args: Value) -> ScriptedToolCall {
    ScriptedToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args.to_string(),
    }
}
