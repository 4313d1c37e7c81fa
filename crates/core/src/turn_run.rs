//! Running turns: accepting one (the session reserved, the agent built, the user message and
//! `turn.started` committed), driving it to its end in the background or in the caller's task,
//! and the bookkeeping at the end.

use crate::core::{Core, StartedTurn};
use crate::error::CoreError;
use pryx_agent::{Agent, BegunTurn, ClientTools, TurnInput, TurnReport};
use pryx_protocol::{ErrorOccurred, EventPayload, TurnEnd};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

impl Core {
    /// Starts a turn in the background and returns once it is accepted. Its events go to the
    /// bus, ending with `turn.completed` (preceded by `error.occurred` when it fails). A session
    /// whose agent cannot be built (no provider yet, a key that does not resolve) is refused here,
    /// before anything is recorded.
    pub async fn start_turn(
        &self,
        session_id: &str,
        prompt: &str,
    ) -> Result<StartedTurn, CoreError> {
        self.start_turn_with(
            session_id,
            TurnInput::Prompt(prompt.to_string()),
            Vec::new(),
        )
        .await
    }

    /// As [`Core::start_turn`], from `input` (a message, or a client's tool results) with
    /// `client_tools` offered to the model for this turn.
    pub async fn start_turn_with(
        &self,
        session_id: &str,
        input: TurnInput,
        client_tools: ClientTools,
    ) -> Result<StartedTurn, CoreError> {
        let cancel = CancellationToken::new();
        let (started, agent, begun) = self
            .reserve_turn(session_id, input, client_tools, cancel.clone())
            .await?;
        let core = self.clone();
        let run = started.clone();
        let handle = tokio::spawn(async move {
            let _ = core.drive(agent, &run, begun, cancel).await;
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
        let input = TurnInput::Prompt(prompt.to_string());
        let (started, agent, begun) = self
            .reserve_turn(session_id, input, Vec::new(), cancel.clone())
            .await?;
        Ok(self.drive(agent, &started, begun, cancel).await?)
    }

    /// Runs store work off the async workers (SQLite may wait for a lock).
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Core) -> Result<T, CoreError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let core = self.clone();
        tokio::task::spawn_blocking(move || work(&core))
            .await
            .map_err(|e| CoreError::Internal(format!("a store task failed: {e}")))?
    }

    /// Validates a new turn, builds its agent, reserves its session (one turn per session at a
    /// time) and commits the turn's start.
    async fn reserve_turn(
        &self,
        session_id: &str,
        input: TurnInput,
        client_tools: ClientTools,
        cancel: CancellationToken,
    ) -> Result<(StartedTurn, Arc<Agent>, BegunTurn), CoreError> {
        if self.is_shutting_down() {
            return Err(CoreError::ShuttingDown);
        }
        if matches!(&input, TurnInput::Prompt(p) if p.trim().is_empty()) {
            return Err(CoreError::Invalid(
                "the message content is empty; send some text".into(),
            ));
        }
        let agent = self.session_agent(session_id).await?;
        let sid = session_id.to_string();
        let started = self
            .blocking(move |core| {
                let turn_id = uuid::Uuid::now_v7().to_string();
                if !core.inner.turns.reserve(&sid, &turn_id, cancel) {
                    return Err(CoreError::SessionBusy(sid));
                }
                match core.store().last_event_version(&sid) {
                    Ok(after_version) => Ok(StartedTurn {
                        turn_id,
                        session_id: sid,
                        after_version,
                    }),
                    Err(e) => {
                        core.inner.turns.finish(&sid, &turn_id);
                        Err(e.into())
                    }
                }
            })
            .await?;
        // The user message and `turn.started` are committed before the turn is acknowledged:
        // whatever happens after, an accepted message is never lost.
        match agent.begin_turn_with(session_id, input, client_tools).await {
            Ok(begun) => Ok((started, agent, begun)),
            Err(e) => {
                self.inner.turns.finish(session_id, &started.turn_id);
                Err(e.into())
            }
        }
    }

    /// Runs a reserved turn and releases its session, making sure it ends with `turn.completed`.
    async fn drive(
        &self,
        agent: Arc<Agent>,
        turn: &StartedTurn,
        begun: BegunTurn,
        cancel: CancellationToken,
    ) -> Result<TurnReport, pryx_agent::AgentError> {
        let (sid, tid) = (&turn.session_id, &turn.turn_id);
        let result = agent.finish_turn(begun, cancel).await;
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
        let surface = self.inner.pool.base.surface;
        // Masked here too: an event that cannot be stored skips the store's masking.
        let message = &*store.redactor().text(message);
        let payloads = [
            EventPayload::ErrorOccurred(ErrorOccurred::new(code, message)),
            EventPayload::TurnCompleted(TurnEnd::Error {
                code,
                message: message.to_string(),
                trace_id: None,
            }),
        ];
        for payload in payloads {
            let event = store
                .append_event(session_id, surface, &payload)
                .unwrap_or_else(|e| {
                    // Every surface must still learn that the turn is over (streams end, the
                    // session frees): the event goes out live, marked as not stored.
                    tracing::warn!(session = %session_id, error = %e, "cannot record the end of a failed turn; sending it unsaved");
                    let mut event =
                        pryx_protocol::Event::new(session_id, surface, payload, pryx_store::now_ts());
                    event.unsaved = true;
                    event
                });
            self.deliver_event(&event);
        }
    }
}
