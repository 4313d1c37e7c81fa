//! Folds core events into the Chat state.

use super::{ChatState, Entry, Level, ToolCard, ToolStatus};
use crate::action::Action;
use pryx_protocol::api::{MessageView, PendingApproval};
use pryx_protocol::{Event, EventKind};
use serde_json::Value;

/// Longest argument summary kept on a card.
const ARGS_MAX: usize = 120;

impl ChatState {
    /// Applies one event. Approvals count from every session (an approval raised anywhere can be
    /// answered here); everything else only for the open session.
    pub fn apply(&mut self, ev: &Event) -> Vec<Action> {
        let p = &ev.payload;
        match ev.event {
            EventKind::ApprovalNeeded => {
                if let Ok(a) = serde_json::from_value::<PendingApproval>(p.clone()) {
                    if self.is_current(ev) {
                        self.set_card_status(&a.tool_call_id, ToolStatus::AwaitingApproval, None);
                    }
                    if !self.approvals.iter().any(|x| x.id == a.id) {
                        self.approvals.push(a);
                    }
                }
                return vec![];
            }
            EventKind::ApprovalResolved => {
                let id = str_field(p, "id");
                let first = self.approvals.first().map(|a| a.id.clone());
                self.approvals.retain(|a| a.id != id);
                if first.as_deref() == Some(id) {
                    self.approval_scroll = 0;
                }
                if self.is_current(ev) {
                    let status = if approved(&p["outcome"]) {
                        ToolStatus::Requested
                    } else {
                        ToolStatus::Denied
                    };
                    self.set_card_status(str_field(p, "tool_call_id"), status, None);
                }
                return vec![];
            }
            _ => {}
        }
        if !self.is_current(ev) {
            return vec![];
        }
        match ev.event {
            EventKind::SessionDelta => {
                if let Some(t) = p.get("text").and_then(Value::as_str) {
                    self.push_delta(t);
                }
            }
            EventKind::SessionMessage => self.on_message(p),
            EventKind::TurnStarted => self.turn_running = true,
            EventKind::TurnCompleted => return self.on_turn_completed(p),
            EventKind::ToolRequest => {
                let card = ToolCard {
                    id: str_field(p, "tool_call_id").to_string(),
                    tool: str_field(p, "tool").to_string(),
                    args: summarize_args(&p["arguments"], ARGS_MAX),
                    status: ToolStatus::Requested,
                    duration_ms: None,
                    message: None,
                };
                self.finish_streaming();
                self.entries.push(Entry::Tool(card));
            }
            EventKind::ToolExecuting => {
                self.set_card_status(str_field(p, "tool_call_id"), ToolStatus::Running, None);
            }
            EventKind::ToolComplete => {
                let status = match p.get("status").and_then(Value::as_str) {
                    Some("denied") => ToolStatus::Denied,
                    _ if p["is_error"].as_bool().unwrap_or(false) => ToolStatus::Failed,
                    _ => ToolStatus::Done,
                };
                let id = str_field(p, "tool_call_id").to_string();
                let message = p.get("message").and_then(Value::as_str).map(str::to_string);
                self.set_card_status(&id, status, message);
                if let Some(Entry::Tool(c)) = self.card_mut(&id) {
                    c.duration_ms = p.get("duration_ms").and_then(Value::as_u64);
                }
            }
            EventKind::ErrorOccurred => {
                let msg = p
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error");
                let code = p.get("code").and_then(Value::as_str).unwrap_or("ERROR");
                self.notice(format!("{code}: {msg}"), Level::Error);
            }
            EventKind::SessionTyping | EventKind::TraceEvent => {}
            EventKind::ApprovalNeeded | EventKind::ApprovalResolved => {}
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

    fn on_message(&mut self, p: &Value) {
        let role = str_field(p, "role");
        let text = message_text(&p["content"]);
        match role {
            "user" => {
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
            "assistant" => {
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
            _ => {}
        }
    }

    fn on_turn_completed(&mut self, p: &Value) -> Vec<Action> {
        self.turn_running = false;
        self.finish_streaming();
        if let Some(c) = p.get("cost_usd").and_then(Value::as_f64) {
            self.cost_usd += c;
        }
        match p.get("stop").and_then(Value::as_str) {
            Some("cancelled") => self.notice("Turn cancelled.", Level::Info),
            Some("step_limit") => self.notice("Stopped: the step limit was reached.", Level::Error),
            Some("budget_exceeded") => {
                self.notice("Stopped: the cost budget was reached.", Level::Error)
            }
            _ => {}
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

fn str_field<'a>(p: &'a Value, key: &str) -> &'a str {
    p.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Whether an approval outcome let the call run.
fn approved(outcome: &Value) -> bool {
    match outcome.get("outcome").and_then(Value::as_str) {
        Some("answered") => outcome["decision"] == "approve",
        Some("timed_out") => outcome["default"] == "approve",
        _ => false,
    }
}

/// The visible text of a stored message's content (`{"role":…,"content":[{"type":"text",…}]}`).
pub fn message_text(content: &Value) -> String {
    match content.get("content") {
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
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
        match m.role.as_str() {
            "user" => out.push(Entry::User {
                text: m.text.clone(),
                confirmed: true,
            }),
            "assistant" => {
                if !m.text.is_empty() {
                    out.push(Entry::Assistant {
                        text: m.text.clone(),
                        streaming: false,
                    });
                }
                let parts = m.content.get("content").and_then(Value::as_array);
                for part in parts
                    .into_iter()
                    .flatten()
                    .filter(|p| p["type"] == "tool_call")
                {
                    out.push(Entry::Tool(ToolCard {
                        id: str_field(part, "id").to_string(),
                        tool: str_field(part, "name").to_string(),
                        args: summarize_args(&part["arguments"], ARGS_MAX),
                        status: ToolStatus::Done,
                        duration_ms: None,
                        message: None,
                    }));
                }
            }
            "tool" => {
                let is_error = m
                    .content
                    .get("is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let call = m
                    .content
                    .get("call_id")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if is_error {
                    let card = out
                        .iter_mut()
                        .rev()
                        .find(|e| matches!(e, Entry::Tool(c) if c.id == call));
                    if let Some(Entry::Tool(c)) = card {
                        c.status = ToolStatus::Failed;
                    }
                }
            }
            _ => {}
        }
    }
    out
}
