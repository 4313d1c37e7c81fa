//! Bus events for tests, built from the protocol types (never hand-written JSON), so a renamed
//! field fails to compile here instead of passing every test.

use pryx_protocol::api::{ApprovalOutcome, PendingApproval};
use pryx_protocol::message::{AssistantPart, Message, Role, ToolCall};
use pryx_protocol::{
    ApprovalResolved, Delta, ErrorCode, ErrorOccurred, Event, EventPayload, MessageStored, NotRun,
    Surface, ToolCompleted, ToolExecuting, ToolRequested, TraceEvent, TurnEnd, TurnStarted,
    TurnStop,
};

/// An event of `session` from the core; `version` is `None` for ephemeral ones.
pub fn event(session: &str, version: Option<u64>, payload: impl Into<EventPayload>) -> Event {
    let mut e = Event::new(session, Surface::Core, payload, "2026-01-01T00:00:00Z");
    e.version = version;
    e
}

pub fn turn_started() -> TurnStarted {
    TurnStarted {
        span_id: "span-1".into(),
    }
}

/// `session.message` of a stored message.
pub fn stored(seq: u64, content: Message) -> MessageStored {
    MessageStored {
        message_id: format!("m{seq}"),
        seq,
        role: content.role(),
        content,
    }
}

pub fn user_message(seq: u64, text: &str) -> MessageStored {
    stored(seq, Message::user(text))
}

pub fn assistant_message(seq: u64, text: &str) -> MessageStored {
    stored(seq, Message::assistant(text))
}

/// An assistant message asking for one tool call (`id`, `tool`, JSON arguments).
pub fn assistant_call(
    seq: u64,
    id: &str,
    tool: &str,
    arguments: &serde_json::Value,
) -> MessageStored {
    stored(
        seq,
        Message::Assistant {
            content: vec![AssistantPart::ToolCall(ToolCall {
                id: id.into(),
                name: tool.into(),
                arguments: arguments.to_string(),
            })],
        },
    )
}

pub fn tool_result_message(
    seq: u64,
    call_id: &str,
    content: &str,
    is_error: bool,
) -> MessageStored {
    let m = stored(seq, Message::tool_result(call_id, content, is_error));
    debug_assert_eq!(m.role, Role::Tool);
    m
}

pub fn text_delta(text: &str) -> Delta {
    Delta::Text { text: text.into() }
}

pub fn reasoning_delta(text: &str) -> Delta {
    Delta::Reasoning {
        reasoning: text.into(),
    }
}

pub fn tool_request(tool_call_id: &str, tool: &str, arguments: serde_json::Value) -> ToolRequested {
    ToolRequested {
        tool_call_id: tool_call_id.into(),
        call_id: format!("call-{tool_call_id}"),
        tool: tool.into(),
        arguments,
    }
}

pub fn tool_executing(tool_call_id: &str, tool: &str) -> ToolExecuting {
    ToolExecuting {
        tool_call_id: tool_call_id.into(),
        tool: tool.into(),
    }
}

/// `tool.complete` of a call that ran (`is_error`: it reported a failure).
pub fn tool_ran(tool_call_id: &str, tool: &str, is_error: bool, duration_ms: u64) -> ToolCompleted {
    ToolCompleted {
        tool_call_id: tool_call_id.into(),
        tool: tool.into(),
        is_error,
        duration_ms: Some(duration_ms),
        status: None,
        message: None,
        cancelled: false,
    }
}

/// `tool.complete` of a call that never ran.
pub fn tool_not_run(tool_call_id: &str, tool: &str, why: NotRun, message: &str) -> ToolCompleted {
    ToolCompleted {
        tool_call_id: tool_call_id.into(),
        tool: tool.into(),
        is_error: true,
        duration_ms: None,
        status: Some(why),
        message: Some(message.into()),
        cancelled: false,
    }
}

/// An approval question about `tool` with `arguments` (preview: the command or the JSON).
pub fn approval(
    id: &str,
    session: &str,
    tool_call_id: &str,
    tool: &str,
    arguments: serde_json::Value,
) -> PendingApproval {
    let preview = arguments
        .get("command")
        .and_then(serde_json::Value::as_str)
        .map_or_else(|| arguments.to_string(), |c| format!("$ {c}"));
    PendingApproval {
        id: id.into(),
        session_id: session.into(),
        tool_call_id: tool_call_id.into(),
        tool: tool.into(),
        arguments,
        fingerprint: "fp".into(),
        rule: "tools.ask".into(),
        reason: "asks before running".into(),
        preview,
        timeout_secs: 300,
        created_at: "2026-01-01T00:00:00Z".into(),
        looks_like_secret: Vec::new(),
        workspace: None,
        policy: None,
    }
}

pub fn approval_resolved(
    id: &str,
    tool_call_id: &str,
    outcome: ApprovalOutcome,
) -> ApprovalResolved {
    ApprovalResolved {
        id: id.into(),
        tool_call_id: tool_call_id.into(),
        outcome,
    }
}

pub fn turn_completed(stop: TurnStop, steps: u32, cost_usd: f64) -> TurnEnd {
    TurnEnd::finished(stop, steps, cost_usd)
}

pub fn turn_failed(code: ErrorCode, message: &str) -> TurnEnd {
    TurnEnd::Error {
        trace_id: None,
        code,
        message: message.into(),
    }
}

pub fn error_occurred(code: ErrorCode, message: &str) -> ErrorOccurred {
    ErrorOccurred::new(code, message)
}

/// `trace.event` with one attribute.
pub fn trace_event(key: &str, value: impl Into<serde_json::Value>) -> TraceEvent {
    let mut attributes = serde_json::Map::new();
    attributes.insert(key.into(), value.into());
    TraceEvent { attributes }
}

/// The question of an `approval.needed` event (panics on any other event).
pub fn approval_of(e: &Event) -> &PendingApproval {
    match &e.payload {
        EventPayload::ApprovalNeeded(a) => a,
        other => panic!("expected approval.needed, got {} {other:?}", e.name()),
    }
}

/// The payload of an `approval.resolved` event (panics on any other event).
pub fn resolved_of(e: &Event) -> &ApprovalResolved {
    match &e.payload {
        EventPayload::ApprovalResolved(r) => r,
        other => panic!("expected approval.resolved, got {} {other:?}", e.name()),
    }
}

/// The end of a `turn.completed` event (panics on any other event).
pub fn end_of(e: &Event) -> &TurnEnd {
    match &e.payload {
        EventPayload::TurnCompleted(end) => end,
        other => panic!("expected turn.completed, got {} {other:?}", e.name()),
    }
}
