//! Persisting and broadcasting what happens during a turn: events, spans and audit rows.
//!
//! Every store call runs off the async runtime ([`Agent::db`], on the agent's store thread):
//! SQLite may wait up to its busy timeout for a lock, and that wait must never hold an async
//! worker that other sessions' turns (and the API) run on.

use crate::agent::Agent;
use crate::error::AgentError;
use pryx_protocol::{
    Delta, Event, EventPayload, SpanKindWire, SpanStatusWire, SpanUpdate, Surface,
};
use pryx_store::{AuditEntry, NewSpan, SpanEnd, SpanKind, SpanStatus, Store, StoreError};
use serde_json::Value;

/// Several store writes of one step, run in one hop to the store thread (each hop costs a
/// thread hand-off). The events it appends reach the sink afterwards, in order, even when a
/// later write failed.
pub(crate) struct Batch<'a> {
    pub store: &'a Store,
    session: &'a str,
    surface: Surface,
    redactor: pryx_telemetry::Redactor,
    events: Vec<Event>,
}

/// The live view of a stored span.
fn span_update(span: &pryx_store::Span) -> SpanUpdate {
    SpanUpdate {
        span_id: span.id.clone(),
        trace_id: span.trace_id.clone(),
        parent_id: span.parent_id.clone(),
        kind: match span.kind {
            SpanKind::Turn => SpanKindWire::Turn,
            SpanKind::ModelCall => SpanKindWire::ModelCall,
            SpanKind::ToolCall => SpanKindWire::ToolCall,
            SpanKind::ApprovalWait => SpanKindWire::ApprovalWait,
        },
        name: span.name.clone(),
        started_at: span.started_at.clone(),
        ended_at: span.ended_at.clone(),
        status: match span.status {
            SpanStatus::Running => SpanStatusWire::Running,
            SpanStatus::Ok => SpanStatusWire::Ok,
            SpanStatus::Error => SpanStatusWire::Error,
            SpanStatus::Cancelled => SpanStatusWire::Cancelled,
            SpanStatus::Interrupted => SpanStatusWire::Interrupted,
        },
    }
}

impl Batch<'_> {
    /// `span.update` (never stored), handed to the sink in order with the batch's events.
    pub fn span(&mut self, span: &pryx_store::Span) {
        self.events.push(Event::new(
            self.session,
            self.surface,
            EventPayload::SpanUpdate(span_update(span)),
            pryx_store::now_ts(),
        ));
    }

    /// The session the batch records for.
    pub fn session(&self) -> &str {
        self.session
    }

    /// Stores an event; it is handed to the sink when the batch ends.
    pub fn emit(&mut self, payload: impl Into<EventPayload>) -> Result<(), StoreError> {
        let event = self
            .store
            .append_event(self.session, self.surface, &payload.into())?;
        self.events.push(event);
        Ok(())
    }

    /// Stores a message and emits its `session.message`.
    pub fn message(
        &mut self,
        new: &pryx_store::NewMessage,
        message: pryx_protocol::message::Message,
    ) -> Result<pryx_store::Message, StoreError> {
        let stored = self.store.append_message(new)?;
        self.emit(pryx_protocol::MessageStored {
            message_id: stored.id.clone(),
            seq: stored.seq,
            role: message.role(),
            content: message,
        })?;
        Ok(stored)
    }

    /// Appends an audit row about tool call `resource_id`. `details` are kept exactly, known
    /// secret values replaced by a marker naming them: the audit proves what ran, so no
    /// pattern-based masking may hide any of it (texts quoted in it, such as denial messages,
    /// were masked where they were made).
    pub fn audit(
        &mut self,
        action: &str,
        resource_id: &str,
        details: &Value,
        outcome: &str,
    ) -> Result<(), StoreError> {
        self.store
            .append_audit(&AuditEntry {
                actor: format!("agent:{}", self.surface.as_str()),
                action: action.to_string(),
                resource_type: "tool_call".to_string(),
                resource_id: Some(resource_id.to_string()),
                session_id: Some(self.session.to_string()),
                details: self.redactor.mark_known_json(details),
                outcome: outcome.to_string(),
            })
            .map(|_| ())
    }
}

impl Agent {
    /// Runs `f` against the store on the agent's store thread (or, without one, the runtime's
    /// blocking pool) and waits for it.
    pub(crate) async fn db<T, F>(&self, f: F) -> Result<T, AgentError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        if let Some(worker) = &self.store_worker {
            return worker.run(f).await;
        }
        let store = self.parts.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(result) => Ok(result?),
            Err(e) => Err(AgentError::Internal(format!(
                "a store task ended early: {e}"
            ))),
        }
    }

    /// Runs `f` with a [`Batch`] for `session_id` on the store thread, then hands the events it
    /// stored to the sink.
    pub(crate) async fn batch<T, F>(&self, session_id: &str, f: F) -> Result<T, AgentError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Batch<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (sid, surface) = (session_id.to_string(), self.parts.settings.surface);
        let redactor = self.redactor();
        let (events, result) = self
            .db(move |store| {
                let mut b = Batch {
                    store,
                    session: &sid,
                    surface,
                    redactor,
                    events: Vec::new(),
                };
                let result = f(&mut b);
                Ok((b.events, result))
            })
            .await?;
        for event in &events {
            (self.parts.sink)(event);
        }
        Ok(result?)
    }

    /// Stores a persistent event (it gets its per-session version) and hands it to the sink.
    pub(crate) async fn emit(
        &self,
        session_id: &str,
        payload: impl Into<EventPayload>,
    ) -> Result<(), AgentError> {
        let payload = payload.into();
        self.batch(session_id, move |b| b.emit(payload)).await
    }

    /// Hands an ephemeral event (token deltas) to the sink without storing it.
    /// Streams a piece of the answer to live surfaces (not stored), masked like what is stored.
    pub(crate) fn emit_delta(&self, session_id: &str, text: &str, make: fn(String) -> Delta) {
        // A secret split across two deltas is not caught here; the stored message is masked.
        let masked = self.parts.store.redactor().text(text).into_owned();
        let event = Event::new(
            session_id,
            self.parts.settings.surface,
            EventPayload::from(make(masked)),
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
        let span = self.db(move |s| s.start_span(&span)).await?;
        self.emit_span(&span);
        Ok(span)
    }

    pub(crate) async fn end_span(&self, id: &str, end: SpanEnd) -> Result<(), AgentError> {
        let id = id.to_string();
        let span = self.db(move |s| s.end_span(&id, &end)).await?;
        self.emit_span(&span);
        Ok(())
    }

    /// `span.update` for live timelines, once the span is stored.
    pub(crate) fn emit_span(&self, span: &pryx_store::Span) {
        let Some(session_id) = span.session_id.as_deref() else {
            return;
        };
        let event = Event::new(
            session_id,
            self.parts.settings.surface,
            EventPayload::SpanUpdate(span_update(span)),
            pryx_store::now_ts(),
        );
        (self.parts.sink)(&event);
    }

    pub(crate) async fn end_span_status(
        &self,
        id: &str,
        status: SpanStatus,
    ) -> Result<(), AgentError> {
        self.end_span(id, SpanEnd::status(status)).await
    }

    /// Appends an audit row, known secret values in `details` replaced by their marker.
    pub(crate) async fn audit(
        &self,
        session_id: &str,
        action: &str,
        resource_id: &str,
        details: Value,
        outcome: &str,
    ) -> Result<(), AgentError> {
        let (action, resource_id, outcome) = (
            action.to_string(),
            resource_id.to_string(),
            outcome.to_string(),
        );
        self.batch(session_id, move |b| {
            b.audit(&action, &resource_id, &details, &outcome)
        })
        .await
    }
}
