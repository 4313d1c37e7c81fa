//! Persisting and broadcasting what happens during a turn: events, spans and audit rows.

use crate::agent::Agent;
use crate::redact::redact_json;
use pryx_protocol::{Event, EventKind};
use pryx_store::{AuditEntry, NewSpan, SpanEnd, SpanKind, SpanStatus, StoreError};
use serde_json::Value;

impl Agent {
    /// Stores a persistent event (it gets its per-session version) and hands it to the sink.
    pub(crate) fn emit(
        &self,
        session_id: &str,
        kind: EventKind,
        payload: Value,
    ) -> Result<(), StoreError> {
        let event = self
            .store
            .append_event(session_id, kind, self.settings.surface, &payload)?;
        (self.sink)(&event);
        Ok(())
    }

    /// Hands an ephemeral event (token deltas) to the sink without storing it.
    pub(crate) fn emit_ephemeral(&self, session_id: &str, kind: EventKind, payload: Value) {
        let event = Event::new(
            kind,
            session_id,
            self.settings.surface,
            payload,
            pryx_store::now_ts(),
        );
        (self.sink)(&event);
    }

    pub(crate) fn start_span(
        &self,
        session_id: &str,
        trace_id: Option<&str>,
        parent: Option<&str>,
        kind: SpanKind,
        name: &str,
        attributes: Value,
    ) -> Result<pryx_store::Span, StoreError> {
        self.store.start_span(&NewSpan {
            trace_id: trace_id.map(str::to_string),
            parent_id: parent.map(str::to_string),
            session_id: Some(session_id.to_string()),
            kind,
            name: name.to_string(),
            attributes,
        })
    }

    pub(crate) fn end_span(&self, id: &str, status: SpanStatus) -> Result<(), StoreError> {
        self.store
            .end_span(id, &SpanEnd::status(status))
            .map(|_| ())
    }

    /// Appends an audit row with secrets masked in `details`.
    pub(crate) fn audit(
        &self,
        session_id: &str,
        action: &str,
        resource_id: &str,
        details: Value,
        outcome: &str,
    ) -> Result<(), StoreError> {
        self.store
            .append_audit(&AuditEntry {
                actor: format!("agent:{}", self.settings.surface_name()),
                action: action.to_string(),
                resource_type: "tool_call".to_string(),
                resource_id: Some(resource_id.to_string()),
                session_id: Some(session_id.to_string()),
                details: redact_json(&details, &self.settings.known_secrets),
                outcome: outcome.to_string(),
            })
            .map(|_| ())
    }
}

impl crate::agent::AgentSettings {
    pub(crate) fn surface_name(&self) -> String {
        serde_json::to_value(self.surface)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "core".to_string())
    }
}
