//! Persisting and broadcasting what happens during a turn: events, spans and audit rows.
//!
//! Every store call runs on the blocking pool ([`Agent::db`]): SQLite may wait up to its busy
//! timeout for a lock, and that wait must never hold an async worker that other sessions' turns
//! (and the API) run on.

use crate::agent::Agent;
use crate::error::AgentError;
use crate::redact::redact_json;
use pryx_protocol::{Event, EventPayload};
use pryx_store::{AuditEntry, NewSpan, SpanEnd, SpanKind, SpanStatus, Store, StoreError};
use serde_json::Value;

impl Agent {
    /// Runs `f` against the store on the blocking pool and waits for it.
    pub(crate) async fn db<T, F>(&self, f: F) -> Result<T, AgentError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.parts.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(result) => Ok(result?),
            Err(e) => Err(AgentError::Internal(format!(
                "a store task ended early: {e}"
            ))),
        }
    }

    /// Stores a persistent event (it gets its per-session version) and hands it to the sink.
    pub(crate) async fn emit(
        &self,
        session_id: &str,
        payload: impl Into<EventPayload>,
    ) -> Result<(), AgentError> {
        let (sid, surface, payload) = (
            session_id.to_string(),
            self.parts.settings.surface,
            payload.into(),
        );
        let event = self
            .db(move |s| s.append_event(&sid, surface, &payload))
            .await?;
        (self.parts.sink)(&event);
        Ok(())
    }

    /// Hands an ephemeral event (token deltas) to the sink without storing it.
    pub(crate) fn emit_ephemeral(&self, session_id: &str, payload: impl Into<EventPayload>) {
        let event = Event::new(
            session_id,
            self.parts.settings.surface,
            payload,
            pryx_store::now_ts(),
        );
        (self.parts.sink)(&event);
    }

    pub(crate) async fn start_span(
        &self,
        session_id: &str,
        parent: Option<&pryx_store::Span>,
        kind: SpanKind,
        name: &str,
        attributes: Value,
    ) -> Result<pryx_store::Span, AgentError> {
        let span = NewSpan {
            trace_id: parent.map(|p| p.trace_id.clone()),
            parent_id: parent.map(|p| p.id.clone()),
            session_id: Some(session_id.to_string()),
            kind,
            name: name.to_string(),
            attributes,
        };
        self.db(move |s| s.start_span(&span)).await
    }

    pub(crate) async fn end_span(&self, id: &str, end: SpanEnd) -> Result<(), AgentError> {
        let id = id.to_string();
        self.db(move |s| s.end_span(&id, &end).map(|_| ())).await
    }

    pub(crate) async fn end_span_status(
        &self,
        id: &str,
        status: SpanStatus,
    ) -> Result<(), AgentError> {
        self.end_span(id, SpanEnd::status(status)).await
    }

    /// Appends an audit row with secrets masked in `details`.
    pub(crate) async fn audit(
        &self,
        session_id: &str,
        action: &str,
        resource_id: &str,
        details: Value,
        outcome: &str,
    ) -> Result<(), AgentError> {
        let entry = AuditEntry {
            actor: format!("agent:{}", self.parts.settings.surface.as_str()),
            action: action.to_string(),
            resource_type: "tool_call".to_string(),
            resource_id: Some(resource_id.to_string()),
            session_id: Some(session_id.to_string()),
            details: redact_json(&details, &self.parts.settings.known_secrets),
            outcome: outcome.to_string(),
        };
        self.db(move |s| s.append_audit(&entry).map(|_| ())).await
    }
}
