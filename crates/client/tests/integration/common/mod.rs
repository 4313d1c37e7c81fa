//! Harness: a real core and API server on a loopback port (temp data dir and workspace, the
//! scripted LLM as its model) and a [`Client`] of it. The server can be stopped and started again
//! on the same port with the same core, to test reconnects.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use pryx_client::{Client, Subscription};
use pryx_core::Core;
use pryx_protocol::{Event, EventKind, TurnEnd};
use pryx_server::{Server, ServerConfig};
pub use pryx_testkit::core_rig::TOKEN;
use pryx_testkit::core_rig::{CoreOptions, CoreRig, serve, wait_turns};
#[allow(unused_imports)]
pub use pryx_testkit::events::{approval_of, resolved_of};
#[allow(unused_imports)]
pub use pryx_testkit::{ScriptedLlm, ScriptedToolCall, Turn};
use serde_json::Value;
use std::time::Duration;

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
        let rig = CoreRig::with(CoreOptions {
            bus_capacity,
            ..CoreOptions::default()
        })
        .await;
        let server = rig.serve().await;
        let port = server.local_addr().port();
        let client = Client::new(&format!("http://127.0.0.1:{port}"), TOKEN).unwrap();
        let CoreRig {
            llm,
            core,
            home,
            ws,
            ..
        } = rig;
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
        self.server = Some(serve(&self.core, ServerConfig::new(TOKEN), self.port).await);
    }

    /// Waits until the session has `count` ended turns; returns the `count`-th.
    pub async fn wait_completed(&self, session: &str, count: usize) -> TurnEnd {
        assert!(count > 0, "wait for at least one turn");
        wait_turns(&self.core, session, count)
            .await
            .swap_remove(count - 1)
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

pub fn call(id: &str, name: &str, args: Value) -> ScriptedToolCall {
    ScriptedToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args.to_string(),
    }
}
