//! The event envelope of DESIGN.md §6 and the kinds of events the session bus carries.

use crate::event_payload::EventPayload;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which surface produced an event or answered an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    Core,
    Cli,
    Tui,
    Web,
    Telegram,
    Webhook,
}

impl Surface {
    /// The name on the wire and in audit rows (`cli`, `tui`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Core => "core",
            Surface::Cli => "cli",
            Surface::Tui => "tui",
            Surface::Web => "web",
            Surface::Telegram => "telegram",
            Surface::Webhook => "webhook",
        }
    }
}

/// Bus event names (PRD §8.3), used to filter subscriptions. `session.delta` and
/// `session.typing` are ephemeral: never persisted, never replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    #[serde(rename = "session.message")]
    SessionMessage,
    #[serde(rename = "session.delta")]
    SessionDelta,
    #[serde(rename = "session.typing")]
    SessionTyping,
    #[serde(rename = "turn.started")]
    TurnStarted,
    #[serde(rename = "turn.completed")]
    TurnCompleted,
    #[serde(rename = "tool.request")]
    ToolRequest,
    #[serde(rename = "tool.executing")]
    ToolExecuting,
    #[serde(rename = "tool.complete")]
    ToolComplete,
    #[serde(rename = "approval.needed")]
    ApprovalNeeded,
    #[serde(rename = "approval.resolved")]
    ApprovalResolved,
    #[serde(rename = "trace.event")]
    TraceEvent,
    #[serde(rename = "error.occurred")]
    ErrorOccurred,
    #[serde(rename = "model.fallback")]
    ModelFallback,
    #[serde(rename = "budget.warning")]
    BudgetWarning,
    #[serde(rename = "context.warning")]
    ContextWarning,
    #[serde(rename = "context.compacted")]
    ContextCompacted,
    #[serde(rename = "process.matched")]
    ProcessMatched,
    #[serde(rename = "span.update")]
    SpanUpdate,
}

impl EventKind {
    /// Every kind, in the order of PRD §8.3, then later additions.
    pub const ALL: [EventKind; 18] = [
        EventKind::SessionMessage,
        EventKind::SessionDelta,
        EventKind::SessionTyping,
        EventKind::TurnStarted,
        EventKind::TurnCompleted,
        EventKind::ToolRequest,
        EventKind::ToolExecuting,
        EventKind::ToolComplete,
        EventKind::ApprovalNeeded,
        EventKind::ApprovalResolved,
        EventKind::TraceEvent,
        EventKind::ErrorOccurred,
        EventKind::ModelFallback,
        EventKind::BudgetWarning,
        EventKind::ContextWarning,
        EventKind::ContextCompacted,
        EventKind::ProcessMatched,
        EventKind::SpanUpdate,
    ];

    /// Ephemeral events are broadcast but neither stored nor replayed.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            EventKind::SessionDelta | EventKind::SessionTyping | EventKind::SpanUpdate
        )
    }

    /// The wire name, e.g. `tool.complete`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::SessionMessage => "session.message",
            EventKind::SessionDelta => "session.delta",
            EventKind::SessionTyping => "session.typing",
            EventKind::TurnStarted => "turn.started",
            EventKind::TurnCompleted => "turn.completed",
            EventKind::ToolRequest => "tool.request",
            EventKind::ToolExecuting => "tool.executing",
            EventKind::ToolComplete => "tool.complete",
            EventKind::ApprovalNeeded => "approval.needed",
            EventKind::ApprovalResolved => "approval.resolved",
            EventKind::TraceEvent => "trace.event",
            EventKind::ErrorOccurred => "error.occurred",
            EventKind::ModelFallback => "model.fallback",
            EventKind::BudgetWarning => "budget.warning",
            EventKind::ContextWarning => "context.warning",
            EventKind::ContextCompacted => "context.compacted",
            EventKind::ProcessMatched => "process.matched",
            EventKind::SpanUpdate => "span.update",
        }
    }

    /// The kind of a wire name; `None` for a name this build does not know.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The envelope of DESIGN.md §6: `{type:"event",event,session_id,surface,payload,timestamp,version}`.
/// The `event` name on the wire is the payload's kind, so the two cannot disagree. `version`
/// increases per session for persisted events and is absent for ephemeral ones.
///
/// Decoding never fails on a newer core's additions: an unknown event name, or a payload this
/// build cannot read, becomes [`EventPayload::Unknown`] with the name and JSON kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub session_id: String,
    pub surface: Surface,
    pub payload: EventPayload,
    /// RFC 3339 UTC.
    pub timestamp: String,
    pub version: Option<u64>,
    /// A persistent kind of event that could not be stored (the disk is full, the database is
    /// read-only): delivered live so surfaces still learn how the turn ended, but it has no
    /// version and is never replayed.
    pub unsaved: bool,
}

impl Event {
    /// An event without a version (the store assigns it when the event is persisted).
    pub fn new(
        session_id: impl Into<String>,
        surface: Surface,
        payload: impl Into<EventPayload>,
        timestamp: impl Into<String>,
    ) -> Self {
        Event {
            session_id: session_id.into(),
            surface,
            payload: payload.into(),
            timestamp: timestamp.into(),
            version: None,
            unsaved: false,
        }
    }

    /// The kind; `None` for an event this build does not know.
    pub fn kind(&self) -> Option<EventKind> {
        self.payload.kind()
    }

    /// The wire name (`tool.complete`), also for unknown events.
    pub fn name(&self) -> &str {
        self.payload.name()
    }
}

/// The constant `"event"` tag of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EnvelopeType {
    #[default]
    Event,
}

#[derive(Serialize)]
struct WireOut<'a> {
    #[serde(rename = "type")]
    envelope: EnvelopeType,
    event: &'a str,
    session_id: &'a str,
    surface: Surface,
    payload: &'a EventPayload,
    timestamp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unsaved: bool,
}

#[derive(Deserialize)]
struct WireIn {
    #[serde(rename = "type")]
    _envelope: EnvelopeType,
    event: String,
    session_id: String,
    surface: Surface,
    #[serde(default)]
    payload: serde_json::Value,
    timestamp: String,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    unsaved: bool,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            envelope: EnvelopeType::Event,
            event: self.name(),
            session_id: &self.session_id,
            surface: self.surface,
            payload: &self.payload,
            timestamp: &self.timestamp,
            version: self.version,
            unsaved: self.unsaved,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = WireIn::deserialize(deserializer)?;
        Ok(Event {
            payload: EventPayload::decode(&w.event, w.payload),
            session_id: w.session_id,
            surface: w.surface,
            timestamp: w.timestamp,
            version: w.version,
            unsaved: w.unsaved,
        })
    }
}

/// The envelope as the OpenAPI document describes it (the same JSON as [`Event`]).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema, Serialize)]
#[allow(dead_code)]
pub struct EventEnvelope {
    /// Always `event`.
    #[serde(rename = "type")]
    envelope: EnvelopeType,
    /// The kind; names the shape of `payload`.
    event: EventKind,
    session_id: String,
    surface: Surface,
    payload: EventPayload,
    /// RFC 3339 UTC.
    timestamp: String,
    /// Per-session sequence number of persisted events; absent on `session.delta` and
    /// `session.typing`.
    version: Option<u64>,
    /// Present (and true) on an event that should have been stored but could not be (full
    /// disk, read-only database): it is never replayed.
    unsaved: Option<bool>,
}
