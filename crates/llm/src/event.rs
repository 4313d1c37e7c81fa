//! The streaming events every provider yields, and the collector that turns them into a response.

use std::collections::BTreeMap;
use std::pin::Pin;

use futures_util::{Stream, StreamExt};

use crate::error::LlmError;
use crate::types::{AssistantPart, ChatResponse, StopReason, ToolCall, Usage};

/// One step of a streamed model answer.
///
/// Tool call `index` values identify a call within one response (0, 1, ...); fragments of
/// parallel calls may interleave. An `Err` item ends the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    TextDelta(String),
    ReasoningDelta(String),
    /// Signature closing the current reasoning block (Anthropic); keep it with the reasoning.
    ReasoningSignature(String),
    /// An encrypted reasoning block (Anthropic `redacted_thinking`).
    RedactedReasoning(String),
    /// A tool call begins; `name` is canonical.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// A fragment of the call's JSON arguments.
    ToolCallDelta {
        index: usize,
        arguments: String,
    },
    /// The call's arguments are complete.
    ToolCallEnd {
        index: usize,
    },
    /// Token counts so far; a later `Usage` event replaces an earlier one.
    Usage(Usage),
    /// The last meaningful event of a successful stream.
    Stop(StopReason),
}

/// A provider's answer as a stream of events.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// Assembles a [`ChatResponse`] from events, one at a time (usable while forwarding them).
#[derive(Debug, Default)]
pub struct ResponseCollector {
    parts: Vec<AssistantPart>,
    /// Tool call index -> position in `parts`.
    calls: BTreeMap<usize, usize>,
    usage: Usage,
    stop: Option<StopReason>,
}

impl ResponseCollector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one event into the response under construction.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(t) => match self.parts.last_mut() {
                Some(AssistantPart::Text { text }) => text.push_str(t),
                _ => self.parts.push(AssistantPart::Text { text: t.clone() }),
            },
            StreamEvent::ReasoningDelta(t) => match self.parts.last_mut() {
                Some(AssistantPart::Reasoning {
                    text,
                    signature: None,
                }) => text.push_str(t),
                _ => self.parts.push(AssistantPart::Reasoning {
                    text: t.clone(),
                    signature: None,
                }),
            },
            StreamEvent::ReasoningSignature(s) => match self.parts.last_mut() {
                Some(AssistantPart::Reasoning { signature, .. }) if signature.is_none() => {
                    *signature = Some(s.clone())
                }
                _ => self.parts.push(AssistantPart::Reasoning {
                    text: String::new(),
                    signature: Some(s.clone()),
                }),
            },
            StreamEvent::RedactedReasoning(d) => self
                .parts
                .push(AssistantPart::RedactedReasoning { data: d.clone() }),
            StreamEvent::ToolCallStart { index, id, name } => {
                self.calls.insert(*index, self.parts.len());
                self.parts.push(AssistantPart::ToolCall(ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                }));
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                if let Some(AssistantPart::ToolCall(call)) = self
                    .calls
                    .get(index)
                    .and_then(|pos| self.parts.get_mut(*pos))
                {
                    call.arguments.push_str(arguments);
                }
            }
            StreamEvent::ToolCallEnd { .. } => {}
            StreamEvent::Usage(u) => self.usage = *u,
            StreamEvent::Stop(r) => self.stop = Some(r.clone()),
        }
    }

    /// The response so far. Without a stop event the stop reason is inferred.
    pub fn finish(self) -> ChatResponse {
        let has_calls = !self.calls.is_empty();
        let stop_reason = self.stop.unwrap_or(if has_calls {
            StopReason::ToolUse
        } else {
            StopReason::EndTurn
        });
        ChatResponse {
            content: self.parts,
            usage: self.usage,
            stop_reason,
        }
    }
}

/// Drains a stream into a final response; the first error wins.
pub async fn collect(mut stream: EventStream) -> Result<ChatResponse, LlmError> {
    let mut collector = ResponseCollector::new();
    while let Some(item) = stream.next().await {
        collector.push(&item?);
    }
    Ok(collector.finish())
}

/// Assembles a response from events already gathered.
pub fn collect_events<'a>(events: impl IntoIterator<Item = &'a StreamEvent>) -> ChatResponse {
    let mut collector = ResponseCollector::new();
    for e in events {
        collector.push(e);
    }
    collector.finish()
}
