use serde::{Deserialize, Serialize};

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

/// Bus event names (PRD §8.3). `session.delta` and `session.typing` are ephemeral: never persisted,
/// never replayed.
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
}

impl EventKind {
    /// Ephemeral events are broadcast but neither stored nor replayed.
    pub fn is_ephemeral(self) -> bool {
        matches!(self, EventKind::SessionDelta | EventKind::SessionTyping)
    }
}

/// The envelope of DESIGN.md §6: `{type:"event",event,session_id,surface,payload,timestamp,version}`.
/// `version` increases per session for persisted events and is absent for ephemeral ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    #[serde(rename = "type")]
    pub envelope: EnvelopeType,
    pub event: EventKind,
    pub session_id: String,
    pub surface: Surface,
    pub payload: serde_json::Value,
    /// RFC 3339 UTC.
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// The constant `"event"` tag of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EnvelopeType {
    #[default]
    Event,
}

impl Event {
    pub fn new(
        event: EventKind,
        session_id: impl Into<String>,
        surface: Surface,
        payload: serde_json::Value,
        timestamp: impl Into<String>,
    ) -> Self {
        Event {
            envelope: EnvelopeType::Event,
            event,
            session_id: session_id.into(),
            surface,
            payload,
            timestamp: timestamp.into(),
            version: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape() {
        let mut e = Event::new(
            EventKind::ToolComplete,
            "s1",
            Surface::Cli,
            serde_json::json!({"tool": "shell.exec"}),
            "2026-01-27T12:00:00Z",
        );
        e.version = Some(42);
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(v["type"], "event");
        assert_eq!(v["event"], "tool.complete");
        assert_eq!(v["version"], 42);
        let back: Event = serde_json::from_value(v).unwrap_or_else(|_| e.clone());
        assert_eq!(back, e);
        assert!(EventKind::SessionDelta.is_ephemeral());
    }
}
