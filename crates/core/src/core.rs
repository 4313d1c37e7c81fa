//! [`Core`]: the gateway. It owns the store, the session bus, the approval broker and the agents
//! (one per profile, workspace, model and policy in use), and runs turns in the background.

use crate::agents::{Pool, Spec};
use crate::bus::SessionBus;
use crate::error::CoreError;
use crate::live::{Live, Overrides, Snapshot};
use crate::mcp_host::McpHost;
use crate::profiles::{self, Profile};
use crate::setup::SetupError;
use crate::turns::Turns;
use pryx_agent::approvals::ApprovalBroker;
use pryx_agent::{Agent, AgentSettings, EventSink};
use pryx_config::{Config, DataDir, MAIN_AGENT};
use pryx_protocol::{EventPayload, TurnEnd};
use pryx_store::{Session, Store};
use pryx_tools::SandboxLauncher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What the core is built from. Everything else (providers, models, policies, tools, agent
/// profiles) it reads from the data dir, and re-reads when that changes.
pub struct CoreParts {
    pub dir: DataDir,
    /// `config.json` as validated at start-up.
    pub config: Config,
    pub store: Store,
    /// Surface and interactivity (on for `pryx serve`; for an in-process `pryx run`, whether it
    /// has a terminal to ask on). Limits come from the agent profile.
    pub settings: AgentSettings,
    /// Command-line choices for the `main` profile.
    pub overrides: Overrides,
    /// How shell commands are sandboxed, when the platform can.
    pub sandbox: Option<SandboxLauncher>,
}

/// A turn that was accepted and runs in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedTurn {
    pub turn_id: String,
    pub session_id: String,
    /// The session's last event version before the turn.
    pub after_version: u64,
}

pub(crate) struct Inner {
    live: Live,
    discovery: crate::providers::Discovery,
    pub(crate) pool: Pool,
    pub(crate) mcp: McpHost,
    store: Store,
    broker: ApprovalBroker,
    bus: SessionBus,
    observer: Arc<OnceLock<EventSink>>,
    pub(crate) turns: Arc<Turns>,
    started: Instant,
    started_at: String,
    shutting_down: AtomicBool,
    pub(crate) channels: crate::channels::Channels,
    pub(crate) tasks: crate::tasks::Tasks,
    pub(crate) telemetry: crate::telemetry::TelemetryHost,
    pub(crate) processes: pryx_tools::process::ProcessTable,
    /// Turns started for a background process's watch matches, by process id.
    pub(crate) watch_turns: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

/// The gateway. Cheap to clone; all clones share the same state.
#[derive(Clone)]
pub struct Core {
    pub(crate) inner: Arc<Inner>,
}

impl Core {
    /// Wires a new bus and broker. Nothing needs to be configured: without a provider the core
    /// runs and a turn says how to set one up. The owner of the data dir then calls
    /// [`Core::recover_interrupted`].
    pub fn new(parts: CoreParts) -> Result<Core, CoreError> {
        Self::with_bus(parts, SessionBus::default())
    }

    /// As [`Core::new`], on a given bus (tests use a small one to exercise resyncs).
    pub fn with_bus(parts: CoreParts, bus: SessionBus) -> Result<Core, CoreError> {
        bus.track_positions(parts.store.clone());
        let publisher = bus.clone();
        let observer: Arc<OnceLock<EventSink>> = Arc::default();
        let turns: Arc<Turns> = Arc::default();
        let (observe, running) = (observer.clone(), turns.clone());
        let sink: EventSink = Arc::new(move |e| deliver(&running, &observe, &publisher, e));
        let broker = ApprovalBroker::new();
        // Everything the core writes (and logs) masks the stored secrets from the start.
        parts
            .store
            .add_secrets(crate::setup::stored_secrets(&parts.dir));
        let processes =
            pryx_tools::process::ProcessTable::new(Some(parts.dir.root().join("processes")));
        let pool = Pool::new(
            parts.store.clone(),
            broker.clone(),
            sink,
            parts.settings,
            parts.sandbox,
            processes.clone(),
        );
        let core = Core {
            inner: Arc::new(Inner {
                live: Live::new(parts.dir, parts.config, parts.overrides),
                discovery: Default::default(),
                pool,
                mcp: McpHost::default(),
                store: parts.store,
                broker,
                bus,
                observer,
                turns,
                started: Instant::now(),
                started_at: pryx_store::now_ts(),
                shutting_down: AtomicBool::new(false),
                channels: Default::default(),
                tasks: Default::default(),
                telemetry: Default::default(),
                processes,
                watch_turns: Default::default(),
            }),
        };
        crate::processes::watch(&core);
        Ok(core)
    }

    /// Crash recovery for the one core that owns the data dir (it holds the core lock): tool
    /// calls, spans and turns a previous process left running are closed as interrupted. Not for an in-process
    /// `pryx run`, which may run beside other runs of the same data dir.
    pub fn recover_interrupted(&self) -> Result<usize, CoreError> {
        let store = self.store();
        let interrupted = store.mark_all_interrupted()?;
        if interrupted > 0 {
            tracing::info!(
                interrupted,
                "marked tool calls of a previous run as interrupted"
            );
        }
        // Turns cut short end with a replayable `turn.completed`, so every surface (and a client
        // that reconnects later) learns the session is free again.
        let sessions = store.close_interrupted_spans()?;
        for sid in &sessions {
            let e = store.append_event(
                sid,
                pryx_protocol::Surface::Core,
                &EventPayload::TurnCompleted(TurnEnd::Interrupted),
            )?;
            deliver(&self.inner.turns, &self.inner.observer, &self.inner.bus, &e);
        }
        if !sessions.is_empty() {
            tracing::info!(
                turns = sessions.len(),
                "closed turns a previous run left open"
            );
        }
        Ok(interrupted + sessions.len())
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub fn bus(&self) -> &SessionBus {
        &self.inner.bus
    }
    /// Calls `sink` with every event the agent emits, in order, before it reaches the bus. A bus
    /// subscriber that falls behind loses events; this one cannot, which is what an in-process
    /// `pryx run` printing the whole turn needs. Only the first observer is kept (returns false
    /// for a second one).
    pub fn set_observer(&self, sink: EventSink) -> bool {
        self.inner.observer.set(sink).is_ok()
    }
    pub fn broker(&self) -> &ApprovalBroker {
        &self.inner.broker
    }
    pub fn dir(&self) -> &DataDir {
        self.inner.live.dir()
    }

    /// The settings as they are now (re-read if a file changed).
    pub fn settings(&self) -> Arc<Snapshot> {
        self.inner.live.snapshot()
    }

    pub(crate) fn live(&self) -> &Live {
        &self.inner.live
    }

    pub(crate) fn discovery(&self) -> &crate::providers::Discovery {
        &self.inner.discovery
    }

    /// Agent profile `id` (default `main`) with every default filled in.
    pub fn profile(&self, id: Option<&str>) -> Result<Profile, CoreError> {
        let snap = self.settings();
        let live = &self.inner.live;
        Ok(profiles::resolve(
            live.dir(),
            &snap.config,
            &live.overrides(),
            id.unwrap_or(MAIN_AGENT),
        )?)
    }

    /// Every agent profile, `main` first. A profile whose workspace is unusable is left out and
    /// logged (sessions cannot be created in it).
    pub fn profiles(&self) -> Vec<Profile> {
        let snap = self.settings();
        profiles::ids(&snap.config)
            .iter()
            .filter_map(|id| match self.profile(Some(id)) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(agent = %id, error = %e, "agent profile unusable");
                    None
                }
            })
            .collect()
    }

    /// The agent a turn of `session` runs with now: the session's workspace, model and policy,
    /// its profile's limits and tool filters. Without a model the answer is
    /// [`SetupError::NotConfigured`] with what to do.
    pub async fn agent_for(&self, session: &Session) -> Result<Arc<Agent>, CoreError> {
        self.agent_with(
            session.agent.as_deref(),
            session.workspace_id.as_deref(),
            session.model.clone(),
            session.policy.clone(),
        )
        .await
    }

    /// The agent session `session_id` runs with now ([`Core::agent_for`] of the stored session).
    pub(crate) async fn session_agent(&self, session_id: &str) -> Result<Arc<Agent>, CoreError> {
        let sid = session_id.to_string();
        let session = self
            .blocking(move |core| {
                core.store()
                    .get_session(&sid)?
                    .ok_or(CoreError::SessionNotFound(sid))
            })
            .await?;
        self.agent_for(&session).await
    }

    /// The agent profile `agent` (default `main`) runs with now, e.g. to list its tools.
    pub async fn profile_agent(&self, agent: Option<&str>) -> Result<Arc<Agent>, CoreError> {
        self.agent_with(agent, None, None, None).await
    }

    /// How commands are contained on this machine (what `shell.exec` uses); `None` where it
    /// cannot be done.
    pub fn sandbox(&self) -> Option<pryx_tools::SandboxLauncher> {
        self.inner.pool.sandbox.clone()
    }

    pub(crate) async fn agent_with(
        &self,
        agent: Option<&str>,
        workspace_id: Option<&str>,
        model: Option<String>,
        policy: Option<String>,
    ) -> Result<Arc<Agent>, CoreError> {
        // Reading settings, the session's workspace row and canonical paths is blocking work.
        let (agent, workspace_id) = (agent.map(str::to_owned), workspace_id.map(str::to_owned));
        let (snap, profile, spec) = self
            .blocking(move |core| {
                core.agent_spec(agent.as_deref(), workspace_id.as_deref(), model, policy)
            })
            .await?;
        let live = &self.inner.live;
        Ok(self
            .inner
            .pool
            .agent(live, &self.inner.mcp, &snap, &profile, &spec)
            .await?)
    }

    /// The settings, profile and agent spec a turn with these choices runs with.
    fn agent_spec(
        &self,
        agent: Option<&str>,
        workspace_id: Option<&str>,
        model: Option<String>,
        policy: Option<String>,
    ) -> Result<(Arc<Snapshot>, Profile, Spec), CoreError> {
        let snap = self.settings();
        let live = &self.inner.live;
        let overrides = live.overrides();
        let named = agent.unwrap_or(MAIN_AGENT);
        let profile = match profiles::resolve(live.dir(), &snap.config, &overrides, named) {
            Ok(p) => p,
            // A deleted profile (or one whose workspace went away): the session's own settings
            // still say where and how it runs; `main` supplies the limits.
            Err(e) if named != MAIN_AGENT => {
                tracing::warn!(agent = %named, error = %e, "session's agent profile unusable; using main's limits");
                profiles::resolve(live.dir(), &snap.config, &overrides, MAIN_AGENT)?
            }
            Err(e) => return Err(e.into()),
        };
        let workspace = match workspace_id {
            Some(id) => match self.store().get_workspace(id)? {
                Some(w) => profiles::check_workspace(
                    live.dir(),
                    std::path::Path::new(&w.path),
                    &snap.config.agent.broad_workspaces,
                )?,
                None => profile.workspace.clone(),
            },
            None => profile.workspace.clone(),
        };
        let model = model
            .or_else(|| profile.model.clone())
            .ok_or_else(|| {
                SetupError::NotConfigured(if snap.config.providers.is_empty() {
                    "no LLM provider is configured yet: set one up in the TUI (`pryx`, then `/setup`), with \
                     PUT /api/v1/providers/{id}, or with `pryx config set providers.NAME.kind openai-compatible`"
                        .to_string()
                } else {
                    "no model chosen: set a default with PUT /api/v1/model, `/model` in the TUI or \
                     `pryx config set defaults.model PROVIDER/MODEL`"
                        .to_string()
                })
            })?;
        let spec = Spec {
            agent: profile.id.clone(),
            workspace,
            model,
            policy: policy.unwrap_or_else(|| profile.policy.clone()),
        };
        Ok((snap, profile, spec))
    }

    /// Whether the store works: `Err` with the reason when it cannot be read, or cannot be
    /// written since a write failed (full disk, read-only). While writes fail this tries one, so
    /// the answer turns healthy by itself once space returns. Blocking.
    pub fn store_health(&self) -> Result<(), String> {
        let store = self.store();
        store.schema_version().map_err(|e| e.to_string())?;
        if store.write_problem().is_some() {
            store.probe_write().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }
    /// RFC 3339 UTC start time.
    pub fn started_at(&self) -> &str {
        &self.inner.started_at
    }
    pub fn running_turns(&self) -> usize {
        self.inner.turns.len()
    }
    pub fn is_busy(&self, session_id: &str) -> bool {
        self.inner.turns.is_busy(session_id)
    }
    /// The id of the turn running in a session (what `POST /turns/{id}/cancel` takes), so a
    /// surface that did not start it can still stop it.
    pub fn running_turn(&self, session_id: &str) -> Option<String> {
        self.inner.turns.turn_id(session_id)
    }
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Deletes a session and everything in it; refused while a turn runs there.
    pub fn delete_session(&self, id: &str) -> Result<(), CoreError> {
        if self.is_busy(id) {
            return Err(CoreError::SessionBusy(id.to_string()));
        }
        if self.store().delete_session(id)? {
            // Nothing a session started outlives it.
            self.inner.processes.kill_session(id);
            Ok(())
        } else {
            Err(CoreError::SessionNotFound(id.to_string()))
        }
    }

    /// Hands a stored event to the observer and the bus, as the agents' own events go.
    pub(crate) fn deliver_event(&self, event: &pryx_protocol::Event) {
        deliver(
            &self.inner.turns,
            &self.inner.observer,
            &self.inner.bus,
            event,
        );
    }

    /// Cancels a running turn; it ends with `turn.completed` and `stop: cancelled`.
    pub fn cancel_turn(&self, turn_id: &str) -> Result<String, CoreError> {
        self.inner
            .turns
            .cancel(turn_id)
            .ok_or_else(|| CoreError::TurnNotFound(turn_id.to_string()))
    }

    /// Refuses new turns, cancels running ones (recorded as cancelled) and waits for them to
    /// finish their bookkeeping, at most `grace`.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        self.stop_channels().await;
        self.stop_tasks().await;
        let handles = self.inner.turns.cancel_all();
        self.inner.processes.kill_all();
        let n = handles.len();
        let all = futures_join(handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                turns = n,
                "turns did not finish within the shutdown grace period"
            );
        }
        self.inner.mcp.shutdown().await;
        // The anchor file is written behind the appends; a process about to exit must not
        // leave it behind the chain's head (the next verify would call that truncation).
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || store.flush_audit_anchor()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the audit anchor could not be written"),
            Err(e) => tracing::warn!(error = %e, "the audit anchor flush did not finish"),
        }
    }
}

/// Hands an event to the observer (if any) and to every bus subscriber. A turn's session is
/// released before its `turn.completed` goes out (to the bus first, then the observer), so
/// whoever reacts to it can start the next turn at once (and can no longer cancel the finished
/// one).
fn deliver(
    turns: &Turns,
    observer: &OnceLock<EventSink>,
    bus: &SessionBus,
    event: &pryx_protocol::Event,
) {
    if matches!(event.payload, EventPayload::TurnCompleted(_)) {
        // Freed and published with no other event in between: the next turn's events cannot
        // overtake this one on the bus.
        bus.publish_after(event, || turns.release(&event.session_id));
        if let Some(o) = observer.get() {
            o(event);
        }
        return;
    }
    if let Some(o) = observer.get() {
        o(event);
    }
    bus.publish(event);
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}
