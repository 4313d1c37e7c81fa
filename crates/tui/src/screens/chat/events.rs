//! Folds core events into the Chat state.

use super::{ChatState, Entry, Level, ToolCard, ToolStatus};
use crate::action::Action;
use pryx_protocol::api::MessageView;
use pryx_protocol::message::{Message, Role};
use pryx_protocol::{Delta, Event, EventPayload, MessageStored, NotRun, TurnEnd};
use serde_json::Value;

/// Longest argument summary kept on a card.
const ARGS_MAX: usize = 120;

impl ChatState {
    /// Applies one event. Approvals count from every session (an approval raised anywhere can be
    /// answered here); everything else only for the open session.
    pub fn apply(&mut self, ev: &Event) -> Vec<Action> {
        let approval = matches!(
            ev.payload,
            EventPayload::ApprovalNeeded(_) | EventPayload::ApprovalResolved(_)
        );
        // Loaded with the session already (approvals are kept by id, so they need no such care).
        if !approval && self.is_current(ev) && ev.version.is_some_and(|v| v <= self.loaded_version)
        {
            return vec![];
        }
        if let Some(v) = ev.version.filter(|_| self.is_current(ev)) {
            self.shown_version = self.shown_version.max(v);
        }
        match &ev.payload {
            EventPayload::ApprovalNeeded(a) => {
                if self.is_current(ev) {
                    self.set_card_status(&a.tool_call_id, ToolStatus::AwaitingApproval, None);
                }
                if !self.approvals.iter().any(|x| x.id == a.id) {
                    self.approvals.push((**a).clone());
                }
                return vec![];
            }
            EventPayload::ApprovalResolved(r) => {
                let first = self.approvals.first().map(|a| a.id.clone());
                self.approvals.retain(|a| a.id != r.id);
                if first.as_deref() == Some(r.id.as_str()) {
                    self.approval_scroll = 0;
                }
                if self.is_current(ev) {
                    let status = if r.outcome.approved() {
                        ToolStatus::Requested
                    } else {
                        ToolStatus::Denied
                    };
                    self.set_card_status(&r.tool_call_id, status, None);
                }
                return vec![];
            }
            _ => {}
        }
        if !self.is_current(ev) {
            return vec![];
        }
        match &ev.payload {
            EventPayload::SessionDelta(Delta::Text { text }) => self.push_delta(text),
            EventPayload::SessionDelta(Delta::Reasoning { .. }) => {}
            EventPayload::SessionMessage(m) => self.on_message(m),
            EventPayload::TurnStarted(_) => self.turn_running = true,
            EventPayload::TurnCompleted(end) => return self.on_turn_completed(end),
            EventPayload::ToolRequest(r) => {
                let card = ToolCard {
                    id: r.tool_call_id.clone(),
                    tool: r.tool.clone(),
                    args: summarize_args(&r.arguments, ARGS_MAX),
                    status: ToolStatus::Requested,
                    duration_ms: None,
                    message: None,
                    call_id: r.call_id.clone(),
                    output: None,
                    expanded: false,
                };
                self.finish_streaming();
                self.entries.push(Entry::Tool(card));
            }
            EventPayload::ToolExecuting(x) => {
                self.set_card_status(&x.tool_call_id, ToolStatus::Running, None);
            }
            EventPayload::ToolComplete(c) => {
                let status = match (c.status, c.is_error) {
                    _ if c.cancelled => ToolStatus::Cancelled,
                    (Some(NotRun::Denied), _) => ToolStatus::Denied,
                    (Some(NotRun::Failed), _) | (None, true) => ToolStatus::Failed,
                    (None, false) => ToolStatus::Done,
                };
                self.set_card_status(&c.tool_call_id, status, c.message.clone());
                if let Some(Entry::Tool(card)) = self.card_mut(&c.tool_call_id) {
                    card.duration_ms = c.duration_ms;
                }
            }
            EventPayload::ErrorOccurred(e) => self.turn_error(&e.code.to_string(), &e.message),
            EventPayload::ModelFallback(f) => {
                self.finish_streaming();
                self.notice(
                    format!("{} failed ({}); continuing on {}.", f.from, f.code, f.to),
                    Level::Info,
                );
            }
            EventPayload::BudgetWarning(b) => {
                self.notice(
                    format!(
                        "Budget {}: ${:.4} of ${:.2} used; raise `{}` to allow more.",
                        b.budget, b.spent_usd, b.limit_usd, b.setting
                    ),
                    Level::Info,
                );
            }
            EventPayload::ContextWarning(w) => self.on_context_warning(w),
            EventPayload::ContextCompacted(c) => self.on_compacted(c),
            EventPayload::ProcessMatched(m) => {
                let more = if m.more > 0 {
                    format!(" (and {} more since the last one)", m.more)
                } else {
                    String::new()
                };
                self.notice(
                    format!(
                        "Background process {} ({}) printed a line matching {}{more}: {}",
                        m.process_id, m.command, m.pattern, m.line
                    ),
                    Level::Error,
                );
            }
            EventPayload::SessionTyping(_)
            | EventPayload::TraceEvent(_)
            | EventPayload::SpanUpdate(_)
            | EventPayload::Unknown(_)
            | EventPayload::ApprovalNeeded(_)
            | EventPayload::ApprovalResolved(_) => {}
        }
        vec![]
    }

    fn is_current(&self, ev: &Event) -> bool {
        self.session_id.as_deref() == Some(ev.session_id.as_str())
    }

    fn push_delta(&mut self, t: &str) {
        if let Some(Entry::Assistant {
            text,
            streaming: true,
        }) = self.entries.last_mut()
        {
            text.push_str(t);
        } else {
            self.entries.push(Entry::Assistant {
                text: t.to_string(),
                streaming: true,
            });
        }
    }

    fn finish_streaming(&mut self) {
        for e in &mut self.entries {
            if let Entry::Assistant { streaming, .. } = e {
                *streaming = false;
            }
        }
    }

    fn on_message(&mut self, m: &MessageStored) {
        self.remember_message(m.seq, &m.message_id, m.role == Role::User);
        let text = m.content.text();
        match m.role {
            Role::User => {
                let pending = self.entries.iter_mut().rev().find_map(|e| match e {
                    Entry::User { text: t, confirmed } if !*confirmed && *t == text => {
                        Some(confirmed)
                    }
                    _ => None,
                });
                match pending {
                    Some(confirmed) => *confirmed = true,
                    None => self.entries.push(Entry::User {
                        text,
                        confirmed: true,
                    }),
                }
            }
            Role::Assistant => {
                // The stored message is authoritative: it replaces what was streamed.
                let streamed = self.entries.iter().rposition(|e| {
                    matches!(
                        e,
                        Entry::Assistant {
                            streaming: true,
                            ..
                        }
                    )
                });
                match streamed {
                    Some(i) if text.is_empty() => {
                        self.entries.remove(i);
                    }
                    Some(i) => {
                        self.entries[i] = Entry::Assistant {
                            text,
                            streaming: false,
                        }
                    }
                    None if !text.is_empty() => {
                        self.entries.push(Entry::Assistant {
                            text,
                            streaming: false,
                        });
                    }
                    None => {}
                }
            }
            Role::Tool => {
                if let Message::Tool(r) = &m.content {
                    let card = self.entries.iter_mut().rev().find_map(|e| match e {
                        Entry::Tool(c) if c.call_id == r.call_id => Some(c),
                        _ => None,
                    });
                    if let Some(c) = card {
                        c.output = Some(tool_output(&r.content));
                    }
                }
            }
            Role::System => {}
        }
    }

    /// A failed turn, said once: `error.occurred` and the `turn.completed` after it carry the
    /// same words, and either may come alone (one missed while reconnecting).
    fn turn_error(&mut self, code: &str, message: &str) {
        let text = format!("{code}: {message}");
        let said = self
            .entries
            .iter()
            .rev()
            .take_while(|e| !matches!(e, Entry::User { .. }))
            .any(|e| matches!(e, Entry::Notice { text: t, level: Level::Error } if *t == text));
        if !said {
            self.notice(text, Level::Error);
        }
    }

    fn on_turn_completed(&mut self, end: &TurnEnd) -> Vec<Action> {
        self.turn_running = false;
        self.finish_streaming();
        self.cost_usd += end.cost_usd();
        match end {
            TurnEnd::Cancelled { .. } => self.notice("Turn cancelled.", Level::Info),
            TurnEnd::StepLimit { .. } => {
                self.notice("Stopped: the step limit was reached.", Level::Error)
            }
            TurnEnd::BudgetExceeded { .. } => {
                self.notice("Stopped: the cost budget was reached.", Level::Error)
            }
            TurnEnd::Interrupted => self.notice(
                "The turn was interrupted: the core stopped while it ran. Your message is kept; send it again to retry.",
                Level::Error,
            ),
            TurnEnd::Error { code, message, .. } => {
                self.turn_error(&code.to_string(), message);
                if let Some(t) = end.short_trace() {
                    self.notice(format!("trace {t}: `pryx trace {t}` shows its spans"), Level::Info);
                }
            }
            TurnEnd::Completed { .. } => {}
        }
        match &self.session_id {
            Some(id) => vec![Action::RefreshTotals {
                session_id: id.clone(),
            }],
            None => vec![],
        }
    }

    fn card_mut(&mut self, id: &str) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .rev()
            .find(|e| matches!(e, Entry::Tool(c) if c.id == id))
    }

    fn set_card_status(&mut self, id: &str, status: ToolStatus, message: Option<String>) {
        if let Some(Entry::Tool(c)) = self.card_mut(id) {
            c.status = status;
            if message.is_some() {
                c.message = message;
            }
        }
    }
}

/// Arguments in one line: `key=value` pairs for an object, strings unquoted, cut to `max` chars.
pub fn summarize_args(args: &Value, max: usize) -> String {
    let s = match args {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::String(s) => s
            .parse::<Value>()
            .ok()
            .filter(Value::is_object)
            .map_or_else(|| s.clone(), |v| summarize_args(&v, max)),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let one_line = s.replace(['\n', '\r', '\t'], " ");
    if one_line.chars().count() > max {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// Rebuilds the transcript from stored messages: text as entries, tool calls as finished cards.
pub fn entries_from_messages(messages: &[MessageView]) -> Vec<Entry> {
    let mut out = Vec::new();
    for m in messages {
        match &m.content {
            Message::User { .. } => out.push(Entry::User {
                text: m.text.clone(),
                confirmed: true,
            }),
            Message::Assistant { .. } => {
                if !m.text.is_empty() {
                    out.push(Entry::Assistant {
                        text: m.text.clone(),
                        streaming: false,
                    });
                }
                for call in m.content.tool_calls() {
                    let args = call
                        .arguments_json()
                        .unwrap_or_else(|_| Value::String(call.arguments.clone()));
                    out.push(Entry::Tool(ToolCard {
                        id: call.id.clone(),
                        tool: call.name.clone(),
                        args: summarize_args(&args, ARGS_MAX),
                        status: ToolStatus::Done,
                        duration_ms: None,
                        message: None,
                        call_id: call.id.clone(),
                        output: None,
                        expanded: false,
                    }));
                }
            }
            Message::Tool(result) => {
                let card = out
                    .iter_mut()
                    .rev()
                    .find(|e| matches!(e, Entry::Tool(c) if c.call_id == result.call_id));
                if let Some(Entry::Tool(c)) = card {
                    if result.is_error {
                        c.status = ToolStatus::Failed;
                    }
                    c.output = Some(tool_output(&result.content));
                }
            }
        }
    }
    out
}

/// A stored tool result as the user reads it: without the untrusted-content boundary the model
/// saw it in.
pub fn tool_output(content: &str) -> String {
    let lines: Vec<&str> = content.lines().collect();
    match lines.as_slice() {
        [first, inner @ .., last]
            if first.starts_with("<untrusted-") && last.starts_with("</untrusted-") =>
        {
            inner.join("\n")
        }
        _ => content.to_string(),
    }
}
