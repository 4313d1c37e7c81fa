//! [`Core`]: one agent wired to the session bus and the approval broker, running turns in the
//! background.

use crate::bus::SessionBus;
use crate::error::CoreError;
use crate::turns::Turns;
use pryx_agent::approvals::ApprovalBroker;
use pryx_agent::{Agent, AgentParts, AgentSettings, EventSink, PromptSource, TurnReport};
use pryx_catalog::ModelInfo;
use pryx_llm::Provider;
use pryx_policy::Policy;
use pryx_protocol::{ErrorOccurred, EventPayload, TurnEnd};
use pryx_store::{NewSession, Session, Store};
use pryx_tools::{ToolContext, ToolRegistry};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What the core is built from; the command line resolves these from config (the same way for
/// `pryx serve` and `pryx run`).
pub struct CoreParts {
    pub store: Store,
    pub provider: Arc<dyn Provider>,
    pub model: ModelInfo,
    pub tools: Arc<ToolRegistry>,
    pub policy: Arc<Policy>,
    /// How the policy was named (`workspace-only`, a file stem), for diagnostics.
    pub policy_name: String,
    pub tool_ctx: ToolContext,
    /// `interactive`: whether some surface can answer approvals (on for `pryx serve`; for an
    /// in-process `pryx run`, whether it has a terminal to ask on).
    pub settings: AgentSettings,
    /// Appended to the system prompt at the start of each turn (skills).
    pub prompt_sources: Vec<PromptSource>,
    /// Resolves a policy by name (built-in mode or file in the data dir) for
    /// [`Core::set_policy_by_name`]; without it the policy cannot be switched by name.
    pub policy_loader: Option<PolicyLoader>,
    /// Resolves a `provider/model` id to a provider client, the model's catalog figures and the
    /// provider's key, for [`Core::set_model_by_name`]; without it the model cannot be switched.
    pub model_loader: Option<ModelLoader>,
}

/// Loads a policy by name; the error says why the name was refused.
pub type PolicyLoader = Arc<dyn Fn(&str) -> Result<Policy, String> + Send + Sync>;

/// Loads a model by `provider/model` id: the provider client, the model's catalog figures and the
/// key to mask in records. The error says why the id was refused.
pub type ModelLoader = Arc<
    dyn Fn(&str) -> Result<(Arc<dyn Provider>, ModelInfo, Option<String>), String> + Send + Sync,
>;

/// The agent new turns start with (its model and policy), and how its policy was named.
struct Active {
    agent: Arc<Agent>,
    policy_name: String,
}

/// A turn that was accepted and runs in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedTurn {
    pub turn_id: String,
    pub session_id: String,
    /// The session's last event version before the turn.
    pub after_version: u64,
}

struct Inner {
    active: RwLock<Active>,
    store: Store,
    broker: ApprovalBroker,
    policy_loader: Option<PolicyLoader>,
    model_loader: Option<ModelLoader>,
    bus: SessionBus,
    observer: Arc<OnceLock<EventSink>>,
    turns: Arc<Turns>,
    workspace_id: String,
    started: Instant,
    started_at: String,
    shutting_down: AtomicBool,
}

/// The gateway. Cheap to clone; all clones share the same state.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

impl Core {
    /// Wires the agent to a new bus and broker. The owner of the data dir then calls
    /// [`Core::recover_interrupted`].
    pub fn new(parts: CoreParts) -> Result<Core, CoreError> {
        Self::with_bus(parts, SessionBus::default())
    }

    /// As [`Core::new`], on a given bus (tests use a small one to exercise resyncs).
    pub fn with_bus(parts: CoreParts, bus: SessionBus) -> Result<Core, CoreError> {
        let publisher = bus.clone();
        let observer: Arc<OnceLock<EventSink>> = Arc::default();
        let turns: Arc<Turns> = Arc::default();
        let (observe, running) = (observer.clone(), turns.clone());
        let sink: EventSink = Arc::new(move |e| deliver(&running, &observe, &publisher, e));
        let workspace = parts.store.upsert_workspace(&parts.tool_ctx.workspace)?;
        let broker = ApprovalBroker::new();
        let agent = Agent::new(AgentParts {
            store: parts.store.clone(),
            provider: parts.provider,
            model: parts.model,
            tools: parts.tools,
            policy: parts.policy,
            broker: broker.clone(),
            sink,
            tool_ctx: parts.tool_ctx,
            settings: parts.settings,
            prompt_sources: parts.prompt_sources,
        });
        Ok(Core {
            inner: Arc::new(Inner {
                active: RwLock::new(Active {
                    agent: Arc::new(agent),
                    policy_name: parts.policy_name,
                }),
                store: parts.store,
                broker,
                policy_loader: parts.policy_loader,
                model_loader: parts.model_loader,
                bus,
                observer,
                turns,
                workspace_id: workspace.id,
                started: Instant::now(),
                started_at: pryx_store::now_ts(),
                shutting_down: AtomicBool::new(false),
            }),
        })
    }

    /// Crash recovery for the one core that owns the data dir (it holds the core lock): tool
    /// calls a previous process left running are marked interrupted. Not for an in-process
    /// `pryx run`, which may run beside other runs of the same data dir.
    pub fn recover_interrupted(&self) -> Result<usize, CoreError> {
        let interrupted = self.store().mark_all_interrupted()?;
        if interrupted > 0 {
            tracing::info!(
                interrupted,
                "marked tool calls of a previous run as interrupted"
            );
        }
        Ok(interrupted)
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
    /// The agent new turns start with (model, tools, policy, workspace).
    pub fn agent(&self) -> Arc<Agent> {
        self.active().agent.clone()
    }
    /// How the current policy was named.
    pub fn policy_name(&self) -> String {
        self.active().policy_name.clone()
    }

    fn active(&self) -> std::sync::RwLockReadGuard<'_, Active> {
        // The lock only guards a swap of two fields, which cannot leave them half-written.
        self.inner.active.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Switches the policy for turns started from now on; running turns keep the one they
    /// started with.
    pub fn set_policy(&self, name: String, policy: Policy) {
        let mut active = self.inner.active.write().unwrap_or_else(|e| e.into_inner());
        let agent = active.agent.with_policy(Arc::new(policy));
        *active = Active {
            agent: Arc::new(agent),
            policy_name: name,
        };
    }

    /// Loads the named policy with the core's loader and switches to it. A name the loader
    /// refuses is [`CoreError::Unknown`], with the loader's message.
    pub fn set_policy_by_name(&self, name: &str) -> Result<(), CoreError> {
        let loader = self.inner.policy_loader.as_ref().ok_or_else(|| {
            CoreError::Invalid(
                "this core cannot load policies by name; restart it with --policy".into(),
            )
        })?;
        let policy = loader(name).map_err(CoreError::Unknown)?;
        self.set_policy(name.to_string(), policy);
        Ok(())
    }

    /// Switches the model (one for all sessions) for turns started from now on; running turns
    /// keep the one they started with. New sessions may only name this model.
    pub fn set_model(&self, provider: Arc<dyn Provider>, model: ModelInfo, key: Option<String>) {
        let mut active = self.inner.active.write().unwrap_or_else(|e| e.into_inner());
        let agent = active.agent.with_model(provider, model, key);
        active.agent = Arc::new(agent);
    }

    /// Loads the `provider/model` id with the core's loader and switches to it; returns the full
    /// id now in use. An id the loader refuses is [`CoreError::Unknown`], with its message.
    pub fn set_model_by_name(&self, id: &str) -> Result<String, CoreError> {
        let loader = self.inner.model_loader.as_ref().ok_or_else(|| {
            CoreError::Invalid("this core cannot switch models; restart it with --model".into())
        })?;
        let (provider, model, key) = loader(id).map_err(CoreError::Unknown)?;
        let full_id = model.full_id();
        self.set_model(provider, model, key);
        Ok(full_id)
    }
    /// The store id of the core's workspace.
    pub fn workspace_id(&self) -> &str {
        &self.inner.workspace_id
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
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Creates a session in the core's workspace (or `workspace_id`). `model`, when given, must be
    /// the core's current model: one core runs one model at a time (see [`Core::set_model`]).
    pub fn create_session(
        &self,
        title: Option<&str>,
        model: Option<&str>,
        workspace_id: Option<&str>,
    ) -> Result<Session, CoreError> {
        let current = self.agent().model_id();
        if let Some(m) = model.filter(|m| *m != current) {
            return Err(CoreError::Unknown(format!(
                "model {m:?} is not available in this core; use {current:?} (see GET /api/v1/models)"
            )));
        }
        let workspace = match workspace_id {
            Some(id) => {
                self.store()
                    .get_workspace(id)?
                    .ok_or_else(|| {
                        CoreError::Unknown(format!("workspace {id:?} is unknown to this core"))
                    })?
                    .id
            }
            None => self.inner.workspace_id.clone(),
        };
        Ok(self.store().create_session(&NewSession {
            workspace_id: Some(workspace),
            title: title.unwrap_or_default().to_string(),
            model: Some(current),
        })?)
    }

    /// Deletes a session and everything in it; refused while a turn runs there.
    pub fn delete_session(&self, id: &str) -> Result<(), CoreError> {
        if self.is_busy(id) {
            return Err(CoreError::SessionBusy(id.to_string()));
        }
        if self.store().delete_session(id)? {
            Ok(())
        } else {
            Err(CoreError::SessionNotFound(id.to_string()))
        }
    }

    /// Starts a turn in the background and returns at once. Its events go to the bus, ending with
    /// `turn.completed` (preceded by `error.occurred` when it fails).
    pub fn start_turn(&self, session_id: &str, prompt: &str) -> Result<StartedTurn, CoreError> {
        let cancel = CancellationToken::new();
        let (started, agent) = self.reserve_turn(session_id, prompt, cancel.clone())?;
        let core = self.clone();
        let (run, text) = (started.clone(), prompt.to_string());
        let handle = tokio::spawn(async move {
            let _ = core.drive(agent, &run, &text, cancel).await;
        });
        self.inner
            .turns
            .set_handle(session_id, &started.turn_id, handle);
        Ok(started)
    }

    /// Runs a turn to its end in the calling task (`pryx run` hosting the core in-process): the
    /// same checks, bookkeeping and events as [`Core::start_turn`]. Cancelling `cancel` (or
    /// [`Core::cancel_turn`]) ends it as cancelled.
    pub async fn run_turn(
        &self,
        session_id: &str,
        prompt: &str,
        cancel: CancellationToken,
    ) -> Result<TurnReport, CoreError> {
        let (core, sid, text, token) = (
            self.clone(),
            session_id.to_string(),
            prompt.to_string(),
            cancel.clone(),
        );
        let (started, agent) =
            tokio::task::spawn_blocking(move || core.reserve_turn(&sid, &text, token))
                .await
                .map_err(|e| CoreError::Internal(format!("the turn could not start: {e}")))??;
        Ok(self.drive(agent, &started, prompt, cancel).await?)
    }

    /// Validates a new turn and reserves its session (one turn per session at a time).
    fn reserve_turn(
        &self,
        session_id: &str,
        prompt: &str,
        cancel: CancellationToken,
    ) -> Result<(StartedTurn, Arc<Agent>), CoreError> {
        if self.is_shutting_down() {
            return Err(CoreError::ShuttingDown);
        }
        if prompt.trim().is_empty() {
            return Err(CoreError::Invalid(
                "the message content is empty; send some text".into(),
            ));
        }
        if self.store().get_session(session_id)?.is_none() {
            return Err(CoreError::SessionNotFound(session_id.to_string()));
        }
        let turn_id = uuid::Uuid::now_v7().to_string();
        if !self.inner.turns.reserve(session_id, &turn_id, cancel) {
            return Err(CoreError::SessionBusy(session_id.to_string()));
        }
        let after_version = match self.store().last_event_version(session_id) {
            Ok(v) => v,
            Err(e) => {
                self.inner.turns.finish(session_id, &turn_id);
                return Err(e.into());
            }
        };
        let started = StartedTurn {
            turn_id,
            session_id: session_id.to_string(),
            after_version,
        };
        Ok((started, self.agent()))
    }

    /// Runs a reserved turn and releases its session, making sure it ends with `turn.completed`.
    async fn drive(
        &self,
        agent: Arc<Agent>,
        turn: &StartedTurn,
        prompt: &str,
        cancel: CancellationToken,
    ) -> Result<TurnReport, pryx_agent::AgentError> {
        let (sid, tid) = (&turn.session_id, &turn.turn_id);
        let result = agent.run_turn(sid, prompt, cancel).await;
        match &result {
            Ok(report) => {
                tracing::info!(session = %sid, turn = %tid, stop = ?report.stop, steps = report.steps, "turn ended")
            }
            Err(e) => {
                tracing::warn!(session = %sid, turn = %tid, error = %e, "turn failed");
                let (core, sid, after) = (self.clone(), sid.clone(), turn.after_version);
                let (code, message) = (e.code(), e.to_string());
                // Store work runs off the async workers (SQLite may wait for a lock).
                let _ = tokio::task::spawn_blocking(move || {
                    core.ensure_completed(&sid, after, code, &message)
                })
                .await;
            }
        }
        self.inner.turns.finish(sid, tid);
        result
    }

    /// A turn that failed before it could report its end still ends with `turn.completed`.
    fn ensure_completed(
        &self,
        session_id: &str,
        after: u64,
        code: pryx_protocol::ErrorCode,
        message: &str,
    ) {
        let store = self.store();
        let done = store
            .events_since(session_id, after, u32::MAX)
            .map(|evs| {
                evs.iter()
                    .any(|e| matches!(e.payload, EventPayload::TurnCompleted(_)))
            })
            .unwrap_or(false);
        if done {
            return;
        }
        let surface = self.agent().settings().surface;
        let payloads = [
            EventPayload::ErrorOccurred(ErrorOccurred::new(code, message)),
            EventPayload::TurnCompleted(TurnEnd::Error {
                code,
                message: message.to_string(),
            }),
        ];
        for payload in payloads {
            match store.append_event(session_id, surface, &payload) {
                Ok(e) => deliver(&self.inner.turns, &self.inner.observer, &self.inner.bus, &e),
                Err(e) => {
                    tracing::warn!(session = %session_id, error = %e, "cannot record the end of a failed turn")
                }
            }
        }
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
        let handles = self.inner.turns.cancel_all();
        let n = handles.len();
        let all = futures_join(handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                turns = n,
                "turns did not finish within the shutdown grace period"
            );
        }
    }
}

/// Hands an event to the observer (if any), then to every bus subscriber. A turn's session is
/// released before its `turn.completed` goes out, so whoever reacts to it can start the next
/// turn at once (and can no longer cancel the finished one).
fn deliver(
    turns: &Turns,
    observer: &OnceLock<EventSink>,
    bus: &SessionBus,
    event: &pryx_protocol::Event,
) {
    if matches!(event.payload, EventPayload::TurnCompleted(_)) {
        turns.release(&event.session_id);
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
