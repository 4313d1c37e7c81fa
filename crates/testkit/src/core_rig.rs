//! A real core on a temp data dir and workspace, its model the scripted LLM server, optionally
//! served on a loopback port: the one harness the server, client and CLI tests share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use crate::ScriptedLlm;
use pryx_core::{Core, CoreParts, Overrides, SessionBus};
use pryx_protocol::{EventPayload, Surface, TurnEnd};
use pryx_server::{Server, ServerConfig};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The bearer token of a served rig.
pub const TOKEN: &str = "test-token-0123456789";

/// How long a wait for turns may take before the test fails.
const TURN_WAIT: Duration = Duration::from_secs(30);

pub struct CoreOptions {
    pub approval_timeout_secs: u64,
    pub bus_capacity: usize,
    /// Base URL of a second scripted server, configured as provider `other` (for model switches).
    pub other_llm: Option<String>,
}

impl Default for CoreOptions {
    fn default() -> Self {
        CoreOptions {
            approval_timeout_secs: 30,
            bus_capacity: pryx_core::BUS_CAPACITY,
            other_llm: None,
        }
    }
}

/// A core under test. Approvals are answerable (some surface answers them over the API).
pub struct CoreRig {
    pub llm: ScriptedLlm,
    pub core: Core,
    /// The database file of the data dir.
    pub db: PathBuf,
    pub home: tempfile::TempDir,
    pub ws: tempfile::TempDir,
}

impl CoreRig {
    pub async fn start() -> CoreRig {
        CoreRig::with(CoreOptions::default()).await
    }

    /// Model `mock/gpt-4o` (the catalog figures of `openai/gpt-4o`) on the scripted server,
    /// policy `workspace-only`, all set in the data dir's `config.json` the way a user would;
    /// policies switch among the built-ins, models among `mock/*` (and `other/*` with
    /// [`CoreOptions::other_llm`]).
    pub async fn with(opts: CoreOptions) -> CoreRig {
        let llm = ScriptedLlm::start().await;
        let home = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        let db = home.path().join("pryx.db");
        let mut providers = vec![("mock".to_string(), llm.base_url())];
        providers.extend(opts.other_llm.map(|u| ("other".to_string(), u)));
        let config = rig_config(&providers, opts.approval_timeout_secs);
        let dir = pryx_config::DataDir::at(home.path());
        dir.ensure().unwrap();
        std::fs::write(
            dir.config_file(),
            serde_json::to_vec_pretty(&config).unwrap(),
        )
        .unwrap();
        let core = open_core(home.path(), ws.path(), opts.bus_capacity);
        CoreRig {
            llm,
            core,
            db,
            home,
            ws,
        }
    }

    /// Serves the core on a free loopback port with [`TOKEN`].
    pub async fn serve(&self) -> Server {
        self.serve_with(ServerConfig::new(TOKEN), 0).await
    }

    /// Serves the core on `port` (0: any free one); see [`serve`].
    pub async fn serve_with(&self, config: ServerConfig, port: u16) -> Server {
        serve(&self.core, config, port).await
    }

    /// Waits until `session` has at least `n` ended turns; returns every end, in order.
    pub async fn wait_turns(&self, session: &str, n: usize) -> Vec<TurnEnd> {
        wait_turns(&self.core, session, n).await
    }
}

/// A core on the data dir `home` as it is (its config and database), with workspace
/// `workspace`: what [`CoreRig::with`] starts, and what a restart of `pryx serve` opens again
/// once the previous core has shut down.
pub fn open_core(home: &std::path::Path, workspace: &std::path::Path, bus_capacity: usize) -> Core {
    let dir = pryx_config::DataDir::at(home);
    let config = pryx_config::Config::load(&dir).unwrap();
    Core::with_bus(
        CoreParts {
            dir,
            config,
            store: pryx_store::Store::open(home.join("pryx.db")).unwrap(),
            settings: pryx_agent::AgentSettings {
                surface: Surface::Core,
                interactive: true,
                ..Default::default()
            },
            overrides: Overrides {
                workspace: Some(std::fs::canonicalize(workspace).unwrap()),
                ..Overrides::default()
            },
            sandbox: None,
        },
        SessionBus::with_capacity(bus_capacity),
    )
    .unwrap()
}

/// Serves `core` on loopback `port` (0: any free one). A port just released by a stopped server
/// can take a moment to be free again; binding is retried for up to 5 s.
pub async fn serve(core: &Core, config: ServerConfig, port: u16) -> Server {
    let addr = format!("127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let listener = loop {
        match tokio::net::TcpListener::bind(&addr).await {
            Ok(l) => break l,
            Err(e) if tokio::time::Instant::now() >= deadline => panic!("cannot bind {addr}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    Server::start(core.clone(), listener, config).unwrap()
}

/// Waits (on bus events, not by polling) until at least `n` turns of `session` ended; returns
/// every stored end, in order. Subscribes before reading the store, so no event falls between the
/// two; events read from both are counted once (by version). Panics after 30 s.
pub async fn wait_turns(core: &Core, session: &str, n: usize) -> Vec<TurnEnd> {
    let mut rx = core.bus().subscribe();
    let wait = async {
        let (mut ends, mut last) = stored_ends(core, session);
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
                Err(RecvError::Lagged(_)) => (ends, last) = stored_ends(core, session),
                Err(RecvError::Closed) => panic!("the bus closed while waiting on {session}"),
            }
        }
        ends
    };
    match tokio::time::timeout(TURN_WAIT, wait).await {
        Ok(ends) => ends,
        Err(_) => {
            let (ends, _) = stored_ends(core, session);
            panic!(
                "{n} turn(s) in {session} did not end within {TURN_WAIT:?}; ended: {ends:?}, session busy: {}",
                core.is_busy(session)
            )
        }
    }
}

/// The session's stored turn ends and its last stored version.
fn stored_ends(core: &Core, session: &str) -> (Vec<TurnEnd>, u64) {
    let evs = core.store().events_since(session, 0, 100_000).unwrap();
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

/// A `config.json` with the given providers (name, OpenAI-compatible base URL, priced as
/// `openai/*`), default model `mock/gpt-4o` and the given approval timeout.
pub fn rig_config(providers: &[(String, String)], approval_timeout_secs: u64) -> serde_json::Value {
    let providers: serde_json::Map<String, serde_json::Value> = providers
        .iter()
        .map(|(name, url)| {
            (
                name.clone(),
                serde_json::json!({"kind": "openai-compatible", "base_url": url, "catalog_id": "openai"}),
            )
        })
        .collect();
    serde_json::json!({
        "providers": providers,
        "defaults": {"model": "mock/gpt-4o"},
        "agent": {"approval_timeout_secs": approval_timeout_secs},
        "skills": {"enabled": false},
    })
}
