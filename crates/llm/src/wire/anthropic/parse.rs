//! Messages SSE stream -> events.
//!
//! Events: `message_start`, `content_block_start` / `_delta` / `_stop` (`text_delta`,
//! `input_json_delta`, `thinking_delta`, `signature_delta`), `message_delta`, `message_stop`,
//! `ping`, `error`. A whole message (from a server that ignored `stream: true`) is replayed
//! block by block as the same events.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::error::LlmError;
use crate::event::StreamEvent;
use crate::http_error;
use crate::sse::SseEvent;
use crate::tool_names::ToolNameMap;
use crate::types::{StopReason, Usage};
use crate::wire::{ParserContext, StreamParser};

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: Value,
    },
    ContentBlockDelta {
        index: usize,
        delta: Value,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        #[serde(default)]
        delta: Option<MessageDeltaBody>,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: Value,
    },
    #[serde(other)]
    Unknown,
}

/// A whole Messages answer (or an error object), as sent by servers that ignore `stream: true`.
#[derive(Debug, Deserialize)]
struct WholeMessage {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    content: Option<Vec<Value>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

/// Maps a Messages `stop_reason`.
pub fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" | "pause_turn" => StopReason::EndTurn,
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        "tool_use" => StopReason::ToolUse,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    ToolUse { call: usize },
    Other,
}

/// Stream parser for Messages.
#[derive(Debug)]
pub struct AnthropicParser {
    ctx: ParserContext,
    names: ToolNameMap,
    blocks: HashMap<usize, Block>,
    next_call: usize,
    usage: Usage,
    stop: Option<StopReason>,
    started: bool,
    done: bool,
}

impl AnthropicParser {
    pub fn new(ctx: ParserContext, names: ToolNameMap) -> Self {
        AnthropicParser {
            ctx,
            names,
            blocks: HashMap::new(),
            next_call: 0,
            usage: Usage::default(),
            stop: None,
            started: false,
            done: false,
        }
    }

    fn merge_usage(&mut self, u: &WireUsage) {
        if let Some(v) = u.input_tokens {
            self.usage.input_tokens = v;
        }
        if let Some(v) = u.output_tokens {
            self.usage.output_tokens = v;
        }
        if let Some(v) = u.cache_creation_input_tokens {
            self.usage.cache_write_tokens = v;
        }
        if let Some(v) = u.cache_read_input_tokens {
            self.usage.cache_read_tokens = v;
        }
    }

    fn block_start(&mut self, index: usize, block: &Value, out: &mut Vec<StreamEvent>) {
        let str_of = |k: &str| {
            block
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let kind = match block
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "text" => {
                let text = str_of("text");
                if !text.is_empty() {
                    out.push(StreamEvent::TextDelta(text));
                }
                Block::Text
            }
            "thinking" => {
                let text = str_of("thinking");
                if !text.is_empty() {
                    out.push(StreamEvent::ReasoningDelta(text));
                }
                Block::Thinking
            }
            "redacted_thinking" => {
                out.push(StreamEvent::RedactedReasoning(str_of("data")));
                Block::Other
            }
            "tool_use" | "server_tool_use" => {
                let call = self.next_call;
                self.next_call += 1;
                out.push(StreamEvent::ToolCallStart {
                    index: call,
                    id: str_of("id"),
                    name: self.names.canonical(&str_of("name")),
                });
                // Input normally streams as `input_json_delta`; a non-empty start value is kept.
                if let Some(input) = block
                    .get("input")
                    .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()))
                {
                    out.push(StreamEvent::ToolCallDelta {
                        index: call,
                        arguments: input.to_string(),
                    });
                }
                Block::ToolUse { call }
            }
            _ => Block::Other,
        };
        self.blocks.insert(index, kind);
    }

    fn block_delta(
        &mut self,
        index: usize,
        delta: &Value,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), LlmError> {
        let field = |k: &str| {
            delta
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let block = self.blocks.get(&index).copied();
        match delta
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "text_delta" => out.push(StreamEvent::TextDelta(field("text"))),
            "thinking_delta" => out.push(StreamEvent::ReasoningDelta(field("thinking"))),
            "signature_delta" => out.push(StreamEvent::ReasoningSignature(field("signature"))),
            "input_json_delta" => match block {
                Some(Block::ToolUse { call }) => {
                    let part = field("partial_json");
                    if !part.is_empty() {
                        out.push(StreamEvent::ToolCallDelta {
                            index: call,
                            arguments: part,
                        });
                    }
                }
                _ => {
                    return Err(self
                        .ctx
                        .protocol(format!("tool input for unknown content block {index}")));
                }
            },
            _ => {}
        }
        Ok(())
    }
}

impl AnthropicParser {
    fn stream_error(&self, error: &Value) -> LlmError {
        let (message, kind) =
            http_error::extract_message(&serde_json::json!({ "error": error }).to_string());
        http_error::from_stream_error(
            &self.ctx.provider,
            &kind,
            &message,
            self.ctx.api_key.as_deref(),
        )
    }
}

impl StreamParser for AnthropicParser {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let parsed: WireEvent = serde_json::from_str(data).map_err(|e| {
            self.ctx
                .protocol(format!("malformed `{}` event ({e})", event.event))
        })?;
        match parsed {
            WireEvent::MessageStart { message } => {
                self.started = true;
                if let Some(u) = message.usage {
                    self.merge_usage(&u);
                }
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, &content_block, out),
            WireEvent::ContentBlockDelta { index, delta } => {
                self.block_delta(index, &delta, out)?
            }
            WireEvent::ContentBlockStop { index } => {
                if let Some(Block::ToolUse { call }) = self.blocks.get(&index) {
                    out.push(StreamEvent::ToolCallEnd { index: *call });
                }
            }
            WireEvent::MessageDelta { delta, usage } => {
                if let Some(u) = usage {
                    self.merge_usage(&u);
                }
                if let Some(r) = delta.and_then(|d| d.stop_reason) {
                    self.stop = Some(stop_reason(&r));
                }
                out.push(StreamEvent::Usage(self.usage));
            }
            WireEvent::MessageStop => {
                out.push(StreamEvent::Stop(
                    self.stop.take().unwrap_or(StopReason::EndTurn),
                ));
                self.done = true;
            }
            WireEvent::Ping | WireEvent::Unknown => {}
            WireEvent::Error { error } => return Err(self.stream_error(&error)),
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<StreamEvent>) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        if self.started {
            Err(self
                .ctx
                .protocol("the stream was cut off before the answer finished (no message_stop)"))
        } else {
            Err(self
                .ctx
                .protocol("the stream ended before any message started"))
        }
    }

    fn on_document(&mut self, body: &[u8], out: &mut Vec<StreamEvent>) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        const WHAT: &str = "the answer came as one JSON document instead of a stream";
        let doc: WholeMessage = serde_json::from_slice(body).map_err(|e| {
            self.ctx
                .protocol(format!("{WHAT}, and it is not a Messages answer ({e})"))
        })?;
        if let Some(error) = &doc.error {
            return Err(self.stream_error(error));
        }
        let Some(content) = doc.content.filter(|_| doc.kind.as_deref() != Some("error")) else {
            return Err(self.ctx.protocol(format!(
                "{WHAT}, and it is not a Messages answer (no content)"
            )));
        };
        self.started = true;
        for (index, block) in content.iter().enumerate() {
            self.block_start(index, block, out);
            match self.blocks.get(&index) {
                Some(Block::ToolUse { call }) => {
                    out.push(StreamEvent::ToolCallEnd { index: *call });
                }
                Some(Block::Thinking) => {
                    if let Some(sig) = block
                        .get("signature")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                    {
                        out.push(StreamEvent::ReasoningSignature(sig.to_string()));
                    }
                }
                _ => {}
            }
        }
        if let Some(u) = &doc.usage {
            self.merge_usage(u);
        }
        out.push(StreamEvent::Usage(self.usage));
        let stop = doc.stop_reason.as_deref().map(stop_reason);
        out.push(StreamEvent::Stop(stop.unwrap_or(StopReason::EndTurn)));
        self.done = true;
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
