//! A session's transcript as the page shows it: stored messages in order, each assistant
//! message with the cards of the tool calls it made (arguments, status, duration, trimmed
//! result), and how turns that did not complete ended. Text the model or a tool wrote reaches
//! the page only escaped by askama or through [`crate::markdown::render`].

use askama::Template;
use pryx_protocol::message::{AssistantPart, Message, UserPart};
use pryx_protocol::{Event, EventPayload, TurnEnd};
use pryx_store::{Store, ToolCall};
use std::collections::{HashMap, VecDeque};

/// How much of a tool result a card shows; the rest is counted, not shown.
const RESULT_CHARS: usize = 4000;
/// Stored events read to place turn endings (deltas are never stored, so this is generous).
const EVENT_LIMIT: u32 = 100_000;

/// The transcript fragment (`GET /chat/{id}/transcript`, and included by the chat page).
#[derive(Template)]
#[template(path = "chat_transcript.html")]
pub struct Fragment {
    pub transcript: Transcript,
}

pub struct Transcript {
    pub session_id: String,
    pub items: Vec<Item>,
    /// The session's latest event version: the page subscribes after it.
    pub last_version: u64,
    /// Whether a turn ran once `last_version` was read. Read after it, so a turn that ended
    /// in between is not shown as running: the page would otherwise wait for an ending whose
    /// event the fragment already covers.
    pub busy: bool,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

impl Transcript {
    /// `$0.0123`, for the totals line.
    pub fn cost_label(&self) -> String {
        format!("${:.4}", self.cost_usd)
    }
}

pub enum Item {
    User {
        html: String,
        msg: MessageRef,
    },
    Assistant {
        html: String,
        reasoning: String,
        tools: Vec<ToolCard>,
        model: String,
        msg: MessageRef,
    },
    /// A tool result whose call is not in an earlier assistant message.
    Tool(ToolCard),
    /// How a turn ended when it did not complete (an error is shown whole).
    Notice {
        text: String,
        error: bool,
    },
    /// A compaction: what the model received instead of the messages above it from then on.
    Summary {
        html: String,
        messages: u64,
        trigger: String,
    },
}

/// Which stored message an item shows: for pinning it and forking the session there.
pub struct MessageRef {
    pub id: String,
    pub seq: u64,
    pub pinned: bool,
}

impl MessageRef {
    fn of(m: &pryx_store::Message) -> MessageRef {
        MessageRef {
            id: m.id.clone(),
            seq: m.seq,
            pinned: m.pinned,
        }
    }
}

pub struct ToolCard {
    /// The stored call's id (what `tool.*` events name as `tool_call_id`), else the model's.
    pub id: String,
    pub name: String,
    /// The exact arguments, pretty-printed when they are JSON.
    pub arguments: String,
    pub status: String,
    pub duration: String,
    pub result: String,
    /// Characters of the result not shown.
    pub result_more: usize,
    pub is_error: bool,
}

impl ToolCard {
    fn set_result(&mut self, text: &str, is_error: bool) {
        let total = text.chars().count();
        self.result = text.chars().take(RESULT_CHARS).collect();
        self.result_more = total.saturating_sub(RESULT_CHARS);
        self.is_error = self.is_error || is_error;
        if self.status.is_empty() || self.status == "requested" {
            self.status = if is_error { "failed" } else { "completed" }.to_string();
        }
    }
}

/// Reads a session's transcript from the store; `None` for an unknown session. `busy` says
/// whether a turn runs there now; it is asked after the version is read.
pub fn load(
    store: &Store,
    session_id: &str,
    busy: impl FnOnce() -> bool,
) -> pryx_store::Result<Option<Transcript>> {
    let Some(session) = store.get_session(session_id)? else {
        return Ok(None);
    };
    let messages = store.list_messages(session_id)?;
    let calls = store.list_tool_calls(session_id)?;
    let events = store.events_since(session_id, 0, EVENT_LIMIT)?;
    let compactions = store.list_compactions(session_id)?;
    let last_version = store.last_event_version(session_id)?;
    Ok(Some(Transcript {
        session_id: session.id,
        items: build(&messages, calls, &events, &compactions),
        last_version,
        busy: busy(),
        tokens_in: session.total_tokens_in,
        tokens_out: session.total_tokens_out,
        cost_usd: session.total_cost_usd,
    }))
}

/// Puts messages, their stored tool calls and the turn endings together, in order.
pub fn build(
    messages: &[pryx_store::Message],
    calls: Vec<ToolCall>,
    events: &[Event],
    compactions: &[pryx_store::Compaction],
) -> Vec<Item> {
    let mut by_message: HashMap<String, VecDeque<ToolCall>> = HashMap::new();
    for c in calls {
        if let Some(m) = c.message_id.clone() {
            by_message.entry(m).or_default().push_back(c);
        }
    }
    let mut notices = endings(events);
    // A summary goes right after the last message it covers.
    notices.extend(compactions.iter().map(|c| {
        (
            c.through_seq,
            Item::Summary {
                html: crate::markdown::render(&c.summary),
                messages: c.messages,
                trigger: c.trigger.as_str().to_string(),
            },
        )
    }));
    notices.sort_by_key(|(after, _)| *after);
    let mut notices = notices.into_iter().peekable();
    let mut items = Vec::with_capacity(messages.len());
    // The model's call id → (item, card) so a tool result lands on its card.
    let mut cards: HashMap<String, (usize, usize)> = HashMap::new();
    for m in messages {
        while let Some((_, notice)) = notices.next_if(|(after, _)| *after < m.seq) {
            items.push(notice);
        }
        match m.conversation() {
            Message::User { content } => {
                let text: Vec<&str> = content
                    .iter()
                    .map(|p| match p {
                        UserPart::Text { text } => text.as_str(),
                        UserPart::Image(_) => "*(image)*",
                    })
                    .collect();
                items.push(Item::User {
                    html: crate::markdown::render(&text.join("\n")),
                    msg: MessageRef::of(m),
                });
            }
            Message::Assistant { content } => {
                let mut rows = by_message.remove(&m.id).unwrap_or_default();
                let (mut text, mut reasoning, mut tools) = (String::new(), String::new(), vec![]);
                for part in content {
                    match part {
                        AssistantPart::Text { text: t } => text.push_str(&t),
                        AssistantPart::Reasoning { text: t, .. } => reasoning.push_str(&t),
                        AssistantPart::RedactedReasoning { .. } => {}
                        AssistantPart::ToolCall(call) => {
                            let row = rows.pop_front().filter(|r| r.tool_name == call.name);
                            cards.insert(call.id.clone(), (items.len(), tools.len()));
                            tools.push(card(&call, row));
                        }
                    }
                }
                items.push(Item::Assistant {
                    html: crate::markdown::render(&text),
                    reasoning,
                    tools,
                    model: m.model.clone().unwrap_or_default(),
                    msg: MessageRef::of(m),
                });
            }
            Message::Tool(result) => {
                let slot = cards.get(&result.call_id).copied();
                let target = slot.and_then(|(i, t)| match items.get_mut(i) {
                    Some(Item::Assistant { tools, .. }) => tools.get_mut(t),
                    _ => None,
                });
                match target {
                    Some(card) => card.set_result(&result.content, result.is_error),
                    None => {
                        let mut card = ToolCard {
                            id: result.call_id.clone(),
                            name: "tool result".to_string(),
                            arguments: String::new(),
                            status: String::new(),
                            duration: String::new(),
                            result: String::new(),
                            result_more: 0,
                            is_error: false,
                        };
                        card.set_result(&result.content, result.is_error);
                        items.push(Item::Tool(card));
                    }
                }
            }
        }
    }
    items.extend(notices.map(|(_, n)| n));
    items
}

fn card(call: &pryx_protocol::message::ToolCall, row: Option<ToolCall>) -> ToolCard {
    let arguments = match call.arguments_json() {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| call.arguments.clone()),
        Err(_) => call.arguments.clone(),
    };
    let mut card = ToolCard {
        id: call.id.clone(),
        name: call.name.clone(),
        arguments,
        status: "requested".to_string(),
        duration: String::new(),
        result: String::new(),
        result_more: 0,
        is_error: false,
    };
    if let Some(row) = row {
        card.id = row.id;
        card.status = row.status.as_str().to_string();
        card.duration = row.duration_ms.map(duration_label).unwrap_or_default();
        card.is_error = row.is_error;
        // The stored arguments are the ones that ran (known secrets marked).
        card.arguments =
            serde_json::to_string_pretty(&row.arguments).unwrap_or_else(|_| card.arguments.clone());
        if let Some(r) = row.result {
            card.set_result(&r, row.is_error);
        }
    }
    card
}

/// `850 ms`, `2.4 s`.
pub fn duration_label(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Turn endings worth showing, each with the seq of the last message stored before it.
fn endings(events: &[Event]) -> Vec<(u64, Item)> {
    let mut last_seq = 0;
    let mut out = Vec::new();
    for e in events {
        match &e.payload {
            EventPayload::SessionMessage(m) => last_seq = m.seq,
            EventPayload::TurnCompleted(end) => {
                if let Some(item) = ending(end) {
                    out.push((last_seq, item));
                }
            }
            _ => {}
        }
    }
    out
}

/// What the page says about a turn's end (`None` for one that completed).
pub fn ending(end: &TurnEnd) -> Option<Item> {
    let (text, error) = match end {
        TurnEnd::Completed { .. } => return None,
        TurnEnd::StepLimit { steps, .. } => (
            format!(
                "The turn stopped after {steps} steps (the step limit). Send a message to go on."
            ),
            false,
        ),
        TurnEnd::BudgetExceeded { message, .. } => (
            if message.is_empty() {
                "The turn stopped: a budget would be passed.".to_string()
            } else {
                format!("The turn stopped: {message}")
            },
            true,
        ),
        TurnEnd::Cancelled { .. } => ("Stopped.".to_string(), false),
        TurnEnd::Error { code, message, .. } => {
            let trace = end
                .short_trace()
                .map(|t| format!(" (trace {t}: `pryx trace {t}`)"))
                .unwrap_or_default();
            (format!("The turn failed ({code}): {message}{trace}"), true)
        }
        TurnEnd::Interrupted => (
            "The turn was interrupted (the gateway stopped while it ran).".to_string(),
            true,
        ),
    };
    Some(Item::Notice { text, error })
}

#[cfg(test)]
#[path = "transcript_tests.rs"]
mod tests;
