//! What each bus event carries: one typed payload per event kind. Every surface builds and
//! reads these types; none reads event JSON by string keys.

use crate::api::{ApprovalOutcome, PendingApproval};
use crate::api_context::{ContextCompacted, ContextWarning, ProcessMatched};
use crate::error::ErrorCode;
use crate::event::EventKind;
use crate::message::{Message, Role};
use serde::{Deserialize, Serialize, Serializer};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The payload of an event; its variant decides the event's name on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(untagged)]
pub enum EventPayload {
    /// `session.message`
    SessionMessage(MessageStored),
    /// `session.delta` (ephemeral)
    SessionDelta(Delta),
    /// `session.typing` (ephemeral)
    SessionTyping(Typing),
    /// `turn.started`
    TurnStarted(TurnStarted),
    /// `turn.completed`
    TurnCompleted(TurnEnd),
    /// `tool.request`
    ToolRequest(ToolRequested),
    /// `tool.executing`
    ToolExecuting(ToolExecuting),
    /// `tool.complete`
    ToolComplete(ToolCompleted),
    /// `approval.needed` (boxed: the question is by far the largest payload, and every other
    /// event would otherwise carry its size)
    ApprovalNeeded(Box<PendingApproval>),
    /// `approval.resolved`
    ApprovalResolved(ApprovalResolved),
    /// `trace.event`
    TraceEvent(TraceEvent),
    /// `error.occurred`
    ErrorOccurred(ErrorOccurred),
    /// `model.fallback`
    ModelFallback(ModelFallback),
    /// `budget.warning`
    BudgetWarning(BudgetWarning),
    /// `context.warning`
    ContextWarning(ContextWarning),
    /// `context.compacted`
    ContextCompacted(ContextCompacted),
    /// `process.matched`
    ProcessMatched(ProcessMatched),
    /// `span.update`
    SpanUpdate(SpanUpdate),
    /// An event from a newer core (unknown name) or a payload this build cannot read.
    Unknown(UnknownEvent),
}

impl EventPayload {
    /// The kind; `None` for [`EventPayload::Unknown`].
    pub fn kind(&self) -> Option<EventKind> {
        Some(match self {
            EventPayload::SessionMessage(_) => EventKind::SessionMessage,
            EventPayload::SessionDelta(_) => EventKind::SessionDelta,
            EventPayload::SessionTyping(_) => EventKind::SessionTyping,
            EventPayload::TurnStarted(_) => EventKind::TurnStarted,
            EventPayload::TurnCompleted(_) => EventKind::TurnCompleted,
            EventPayload::ToolRequest(_) => EventKind::ToolRequest,
            EventPayload::ToolExecuting(_) => EventKind::ToolExecuting,
            EventPayload::ToolComplete(_) => EventKind::ToolComplete,
            EventPayload::ApprovalNeeded(_) => EventKind::ApprovalNeeded,
            EventPayload::ApprovalResolved(_) => EventKind::ApprovalResolved,
            EventPayload::TraceEvent(_) => EventKind::TraceEvent,
            EventPayload::ErrorOccurred(_) => EventKind::ErrorOccurred,
            EventPayload::ModelFallback(_) => EventKind::ModelFallback,
            EventPayload::BudgetWarning(_) => EventKind::BudgetWarning,
            EventPayload::ContextWarning(_) => EventKind::ContextWarning,
            EventPayload::ContextCompacted(_) => EventKind::ContextCompacted,
            EventPayload::ProcessMatched(_) => EventKind::ProcessMatched,
            EventPayload::SpanUpdate(_) => EventKind::SpanUpdate,
            EventPayload::Unknown(_) => return None,
        })
    }

    /// The wire name, also for unknown events.
    pub fn name(&self) -> &str {
        match (self.kind(), self) {
            (Some(k), _) => k.name(),
            (None, EventPayload::Unknown(u)) => &u.event,
            (None, _) => "",
        }
    }

    /// Ephemeral events are broadcast but never stored or replayed.
    pub fn is_ephemeral(&self) -> bool {
        self.kind().is_some_and(EventKind::is_ephemeral)
    }

    /// Reads the payload of the event called `name`. Never fails: what this build cannot read
    /// (an unknown name, a payload of another shape) is kept as [`EventPayload::Unknown`].
    pub fn decode(name: &str, payload: serde_json::Value) -> EventPayload {
        fn read<'a, T: Deserialize<'a>>(
            v: &'a serde_json::Value,
            wrap: fn(T) -> EventPayload,
        ) -> Option<EventPayload> {
            T::deserialize(v).ok().map(wrap)
        }
        let p = &payload;
        let known = EventKind::from_name(name).and_then(|kind| match kind {
            EventKind::SessionMessage => read(p, EventPayload::SessionMessage),
            EventKind::SessionDelta => read(p, EventPayload::SessionDelta),
            EventKind::SessionTyping => read(p, EventPayload::SessionTyping),
            EventKind::TurnStarted => read(p, EventPayload::TurnStarted),
            EventKind::TurnCompleted => read(p, EventPayload::TurnCompleted),
            EventKind::ToolRequest => read(p, EventPayload::ToolRequest),
            EventKind::ToolExecuting => read(p, EventPayload::ToolExecuting),
            EventKind::ToolComplete => read(p, EventPayload::ToolComplete),
            EventKind::ApprovalNeeded => read(p, |a: PendingApproval| {
                EventPayload::ApprovalNeeded(Box::new(a))
            }),
            EventKind::ApprovalResolved => read(p, EventPayload::ApprovalResolved),
            EventKind::TraceEvent => read(p, EventPayload::TraceEvent),
            EventKind::ErrorOccurred => read(p, EventPayload::ErrorOccurred),
            EventKind::ModelFallback => read(p, EventPayload::ModelFallback),
            EventKind::BudgetWarning => read(p, EventPayload::BudgetWarning),
            EventKind::ContextWarning => read(p, EventPayload::ContextWarning),
            EventKind::ContextCompacted => read(p, EventPayload::ContextCompacted),
            EventKind::ProcessMatched => read(p, EventPayload::ProcessMatched),
            EventKind::SpanUpdate => read(p, EventPayload::SpanUpdate),
        });
        known.unwrap_or_else(|| {
            EventPayload::Unknown(UnknownEvent {
                event: name.to_string(),
                payload,
            })
        })
    }
}

macro_rules! payload_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {
        $(impl From<$ty> for EventPayload {
            fn from(p: $ty) -> Self {
                EventPayload::$variant(p)
            }
        })*
    };
}

payload_from! {
    MessageStored => SessionMessage,
    Delta => SessionDelta,
    Typing => SessionTyping,
    TurnStarted => TurnStarted,
    TurnEnd => TurnCompleted,
    ToolRequested => ToolRequest,
    ToolExecuting => ToolExecuting,
    ToolCompleted => ToolComplete,
    ApprovalResolved => ApprovalResolved,
    TraceEvent => TraceEvent,
    ErrorOccurred => ErrorOccurred,
    ModelFallback => ModelFallback,
    BudgetWarning => BudgetWarning,
    ContextWarning => ContextWarning,
    ContextCompacted => ContextCompacted,
    ProcessMatched => ProcessMatched,
    SpanUpdate => SpanUpdate,
    UnknownEvent => Unknown,
}

impl From<PendingApproval> for EventPayload {
    fn from(p: PendingApproval) -> Self {
        EventPayload::ApprovalNeeded(Box::new(p))
    }
}

/// `session.message`: a message was stored (the user's prompt, an answer, a tool result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MessageStored {
    pub message_id: String,
    /// 1, 2, 3, … within the session.
    pub seq: u64,
    pub role: Role,
    pub content: Message,
}

/// `session.delta`: a fragment of the answer as the model streams it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(untagged)]
pub enum Delta {
    /// Answer text.
    Text { text: String },
    /// Visible reasoning.
    Reasoning { reasoning: String },
}

/// `session.typing`: someone is typing (no fields yet).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Typing {}

/// `turn.started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TurnStarted {
    /// The turn's span (see `GET /sessions/{id}/spans`).
    pub span_id: String,
}

/// How a turn ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TurnStop {
    /// The model gave its final answer.
    Completed,
    StepLimit,
    BudgetExceeded,
    /// Someone cancelled the turn; an outcome of its own, not an error.
    Cancelled,
}

/// `turn.completed`: how the turn ended (`stop`), with its totals or its error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "stop", rename_all = "snake_case")]
pub enum TurnEnd {
    Completed {
        steps: u32,
        cost_usd: f64,
    },
    StepLimit {
        steps: u32,
        cost_usd: f64,
    },
    BudgetExceeded {
        steps: u32,
        cost_usd: f64,
        /// Which budget stopped the turn and the setting that raises it.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        message: String,
    },
    Cancelled {
        steps: u32,
        cost_usd: f64,
    },
    /// The turn failed; `error.occurred` carries the same code and message.
    Error {
        code: ErrorCode,
        message: String,
        /// The turn's trace (`pryx trace <id>` shows its spans); surfaces show its last 8
        /// characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trace_id: Option<String>,
    },
    /// The process running the turn stopped (crash, kill) before it ended; recorded when the
    /// core starts again. The user message and everything the turn stored stay.
    Interrupted,
}

/// A trace id as people see it: its last 8 characters, the random ones (trace ids start with
/// the time, which turns close together share); `pryx trace` takes any unique start or end.
pub fn short_trace(trace_id: &str) -> &str {
    trace_id
        .len()
        .checked_sub(8)
        .and_then(|i| trace_id.get(i..))
        .unwrap_or(trace_id)
}

impl TurnEnd {
    /// The trace of a failed turn, short, as surfaces show it.
    pub fn short_trace(&self) -> Option<&str> {
        match self {
            TurnEnd::Error {
                trace_id: Some(t), ..
            } => Some(short_trace(t)),
            _ => None,
        }
    }

    /// The end of a turn that stopped without an error.
    pub fn finished(stop: TurnStop, steps: u32, cost_usd: f64) -> TurnEnd {
        match stop {
            TurnStop::Completed => TurnEnd::Completed { steps, cost_usd },
            TurnStop::StepLimit => TurnEnd::StepLimit { steps, cost_usd },
            TurnStop::BudgetExceeded => TurnEnd::BudgetExceeded {
                steps,
                cost_usd,
                message: String::new(),
            },
            TurnStop::Cancelled => TurnEnd::Cancelled { steps, cost_usd },
        }
    }

    /// The stop of a turn that did not fail; `None` for an error.
    pub fn stop(&self) -> Option<TurnStop> {
        match self {
            TurnEnd::Completed { .. } => Some(TurnStop::Completed),
            TurnEnd::StepLimit { .. } => Some(TurnStop::StepLimit),
            TurnEnd::BudgetExceeded { .. } => Some(TurnStop::BudgetExceeded),
            TurnEnd::Cancelled { .. } => Some(TurnStop::Cancelled),
            TurnEnd::Error { .. } | TurnEnd::Interrupted => None,
        }
    }

    /// What the turn cost (0 for a failed turn: its calls are in the session totals).
    pub fn cost_usd(&self) -> f64 {
        match self {
            TurnEnd::Completed { cost_usd, .. }
            | TurnEnd::StepLimit { cost_usd, .. }
            | TurnEnd::BudgetExceeded { cost_usd, .. }
            | TurnEnd::Cancelled { cost_usd, .. } => *cost_usd,
            TurnEnd::Error { .. } | TurnEnd::Interrupted => 0.0,
        }
    }
}

/// `tool.request`: the model asked for a tool call (arguments with secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ToolRequested {
    /// The stored call's id; later events of this call name it.
    pub tool_call_id: String,
    /// The model's id for the call.
    pub call_id: String,
    pub tool: String,
    /// The arguments object (or the raw text when the model sent invalid JSON).
    pub arguments: serde_json::Value,
}

/// `tool.executing`: the call passed the policy (and approval) and runs now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ToolExecuting {
    pub tool_call_id: String,
    pub tool: String,
}

/// Why a call ended without running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotRun {
    /// Bad arguments or an unknown tool.
    Failed,
    /// The policy or the user said no.
    Denied,
}

/// `tool.complete`: the call ended. A call that ran has `duration_ms` (and `cancelled` when the
/// user stopped it); one that never ran has `status` and the `message` the model got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ToolCompleted {
    pub tool_call_id: String,
    pub tool: String,
    pub is_error: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<NotRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The user cancelled the turn while the call ran (it was stopped).
    #[serde(default, skip_serializing_if = "is_false")]
    pub cancelled: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// `approval.resolved`: the approval `id` ended (answered, timed out or cancelled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalResolved {
    pub id: String,
    pub tool_call_id: String,
    pub outcome: ApprovalOutcome,
}

/// `trace.event`: telemetry attributes (free-form; no surface acts on them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TraceEvent {
    #[serde(flatten)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// What a span is: the turn, one model call, one tool call, or a wait for an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SpanKindWire {
    Turn,
    ModelCall,
    ToolCall,
    ApprovalWait,
}

/// How a span stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SpanStatusWire {
    Running,
    Ok,
    Error,
    Cancelled,
    Interrupted,
}

/// `span.update` (ephemeral): a span of a turn started or ended, for live timelines. The stored
/// span (`pryx trace`, the dashboard's timeline) is already written when it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpanUpdate {
    pub span_id: String,
    pub trace_id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub kind: SpanKindWire,
    pub name: String,
    pub started_at: String,
    #[serde(default)]
    pub ended_at: Option<String>,
    pub status: SpanStatusWire,
}

/// The constant `stop: "error"` of `error.occurred`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorStop {
    #[default]
    Error,
}

/// `error.occurred`: a turn failed; `turn.completed` follows with the same code and message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorOccurred {
    #[serde(default)]
    pub stop: ErrorStop,
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorOccurred {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorOccurred {
            stop: ErrorStop::Error,
            code,
            message: message.into(),
        }
    }
}

/// `model.fallback`: the model call failed before any of its output was shown, for a reason
/// another model may not share (rate limit, server error, timeout, unreachable), and the turn
/// goes on with the next model of the agent's fallbacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ModelFallback {
    /// `provider/model` that failed.
    pub from: String,
    /// `provider/model` the turn goes on with.
    pub to: String,
    /// Why `from` failed.
    pub code: ErrorCode,
    pub message: String,
}

/// `budget.warning`: a spending limit is 80 % used (counting the next call at its worst case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BudgetWarning {
    /// Which limit, as the user set it (e.g. `session`, `agent main per day`, `per day`,
    /// `per month`).
    pub budget: String,
    /// The setting that holds it, to raise it (e.g. `agent.daily_budget_usd`).
    pub setting: String,
    pub limit_usd: f64,
    /// Spent so far, plus the next call at its worst case.
    pub spent_usd: f64,
}

/// An event this build does not know, kept as it came. Serializes as its payload alone.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnknownEvent {
    /// The event name on the wire.
    pub event: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
}

impl Serialize for UnknownEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.payload.serialize(serializer)
    }
}
