//! Chat Completions SSE stream -> events.
//!
//! Handles parallel tool calls whose fragments interleave by `index`, reasoning in
//! `reasoning_content` or `reasoning`, the usage-only final chunk, legacy `function_call`
//! deltas, and `{"error": ...}` objects arriving inside the stream. A whole `chat.completion`
//! (from a server that ignored `stream: true`) is read as one chunk whose deltas are its messages.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::LlmError;
use crate::event::StreamEvent;
use crate::http_error;
use crate::sse::SseEvent;
use crate::tool_names::ToolNameMap;
use crate::types::{StopReason, Usage};
use crate::wire::{ParserContext, StreamParser};

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// A whole `chat.completion`, as sent by servers that ignore `stream: true`.
#[derive(Debug, Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Option<Vec<CompletionChoice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct CompletionChoice {
    /// The whole message has the fields of a stream delta, all at once.
    #[serde(default)]
    message: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
    #[serde(default)]
    function_call: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek reports cache hits at the top level.
    #[serde(default)]
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    fn to_usage(&self) -> Usage {
        let cached = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .or(self.prompt_cache_hit_tokens)
            .unwrap_or(0)
            .min(self.prompt_tokens);
        Usage {
            input_tokens: self.prompt_tokens - cached,
            output_tokens: self.completion_tokens,
            cache_read_tokens: cached,
            cache_write_tokens: 0,
            reasoning_tokens: self
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}

/// Maps a `finish_reason` to a stop reason.
pub fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" | "end_turn" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}

#[derive(Debug)]
struct OpenCall {
    /// Our index, stable across the response.
    index: usize,
    id: String,
    started: bool,
    ended: bool,
    /// Argument text that arrived before the name.
    pending: String,
}

/// Stream parser for Chat Completions.
#[derive(Debug)]
pub struct OpenAiParser {
    ctx: ParserContext,
    names: ToolNameMap,
    /// Wire `index` -> the call currently using it.
    by_wire_index: BTreeMap<usize, usize>,
    calls: Vec<OpenCall>,
    stop: Option<StopReason>,
    done: bool,
}

impl OpenAiParser {
    pub fn new(ctx: ParserContext, names: ToolNameMap) -> Self {
        OpenAiParser {
            ctx,
            names,
            by_wire_index: BTreeMap::new(),
            calls: Vec::new(),
            stop: None,
            done: false,
        }
    }

    fn tool_delta(
        &mut self,
        wire_index: usize,
        id: Option<&str>,
        f: Option<&FunctionDelta>,
        out: &mut Vec<StreamEvent>,
    ) {
        let id = id.filter(|s| !s.is_empty());
        let slot = match self.by_wire_index.get(&wire_index) {
            // A different id at the same index starts a new call (some servers reuse index 0).
            Some(&slot)
                if id.is_none_or(|id| {
                    self.calls[slot].id == id || self.calls[slot].id.is_empty()
                }) =>
            {
                slot
            }
            _ => {
                let slot = self.calls.len();
                self.calls.push(OpenCall {
                    index: slot,
                    id: String::new(),
                    started: false,
                    ended: false,
                    pending: String::new(),
                });
                self.by_wire_index.insert(wire_index, slot);
                slot
            }
        };
        let call = &mut self.calls[slot];
        if let Some(id) = id.filter(|_| call.id.is_empty()) {
            call.id = id.to_string();
        }
        let name = f.and_then(|f| f.name.as_deref()).filter(|n| !n.is_empty());
        if let (false, Some(name)) = (call.started, name) {
            call.started = true;
            if call.id.is_empty() {
                call.id = format!("call_{}", call.index);
            }
            out.push(StreamEvent::ToolCallStart {
                index: call.index,
                id: call.id.clone(),
                name: self.names.canonical(name),
            });
            if !call.pending.is_empty() {
                out.push(StreamEvent::ToolCallDelta {
                    index: call.index,
                    arguments: std::mem::take(&mut call.pending),
                });
            }
        }
        if let Some(args) = f
            .and_then(|f| f.arguments.as_deref())
            .filter(|a| !a.is_empty())
        {
            if call.started {
                out.push(StreamEvent::ToolCallDelta {
                    index: call.index,
                    arguments: args.to_string(),
                });
            } else {
                call.pending.push_str(args);
            }
        }
    }

    fn end_calls(&mut self, out: &mut Vec<StreamEvent>) {
        for call in &mut self.calls {
            if call.ended {
                continue;
            }
            call.ended = true;
            if !call.started {
                // Arguments without a name: surface the call so the caller can report it.
                call.started = true;
                if call.id.is_empty() {
                    call.id = format!("call_{}", call.index);
                }
                out.push(StreamEvent::ToolCallStart {
                    index: call.index,
                    id: call.id.clone(),
                    name: String::new(),
                });
                if !call.pending.is_empty() {
                    out.push(StreamEvent::ToolCallDelta {
                        index: call.index,
                        arguments: std::mem::take(&mut call.pending),
                    });
                }
            }
            out.push(StreamEvent::ToolCallEnd { index: call.index });
        }
    }

    fn chunk(&mut self, chunk: Chunk, out: &mut Vec<StreamEvent>) -> Result<(), LlmError> {
        if let Some(err) = chunk.error {
            let (message, kind) =
                http_error::extract_message(&serde_json::json!({ "error": err }).to_string());
            return Err(http_error::from_stream_error(
                &self.ctx.provider,
                &kind,
                &message,
                self.ctx.api_key.as_deref(),
            ));
        }
        for choice in chunk.choices.unwrap_or_default() {
            if let Some(delta) = choice.delta {
                if let Some(r) = delta
                    .reasoning_content
                    .or(delta.reasoning)
                    .filter(|r| !r.is_empty())
                {
                    out.push(StreamEvent::ReasoningDelta(r));
                }
                if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::TextDelta(t));
                }
                for tc in delta.tool_calls.unwrap_or_default() {
                    let wire_index = tc.index.unwrap_or(0);
                    self.tool_delta(wire_index, tc.id.as_deref(), tc.function.as_ref(), out);
                }
                if let Some(fc) = delta.function_call {
                    self.tool_delta(usize::MAX, None, Some(&fc), out);
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.end_calls(out);
                self.stop = Some(stop_reason(&reason));
            }
        }
        if let Some(usage) = chunk.usage {
            out.push(StreamEvent::Usage(usage.to_usage()));
        }
        Ok(())
    }

    fn complete(&mut self, out: &mut Vec<StreamEvent>) {
        self.end_calls(out);
        if let Some(stop) = self.stop.take() {
            out.push(StreamEvent::Stop(stop));
        }
        self.done = true;
    }
}

impl StreamParser for OpenAiParser {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            if self.stop.is_none() {
                return Err(self
                    .ctx
                    .protocol("the stream ended without a finish reason"));
            }
            self.complete(out);
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|e| self.ctx.protocol(format!("malformed stream chunk ({e})")))?;
        if event.event == "error" && chunk.error.is_none() {
            let (message, kind) = http_error::extract_message(data);
            return Err(http_error::from_stream_error(
                &self.ctx.provider,
                &kind,
                &message,
                self.ctx.api_key.as_deref(),
            ));
        }
        self.chunk(chunk, out)
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        // Some servers omit `[DONE]`; a finish reason is enough to call the answer complete.
        if self.stop.is_some() {
            self.complete(out);
            return Ok(());
        }
        Err(self
            .ctx
            .protocol("the stream was cut off before the answer finished"))
    }

    fn on_document(&mut self, body: &[u8], out: &mut Vec<StreamEvent>) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        const WHAT: &str = "the answer came as one JSON document instead of a stream";
        let doc: Completion = serde_json::from_slice(body).map_err(|e| {
            self.ctx
                .protocol(format!("{WHAT}, and it is not a chat completion ({e})"))
        })?;
        if doc.error.is_none() && doc.choices.as_ref().is_none_or(Vec::is_empty) {
            return Err(self
                .ctx
                .protocol(format!("{WHAT}, and it holds no choices")));
        }
        let choices = doc
            .choices
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let mut delta = c.message;
                // A message's tool calls carry no `index`; their order is the index.
                if let Some(d) = delta.as_mut() {
                    for (i, tc) in d.tool_calls.iter_mut().flatten().enumerate() {
                        tc.index.get_or_insert(i);
                    }
                }
                Choice {
                    delta,
                    finish_reason: c.finish_reason,
                }
            })
            .collect();
        let chunk = Chunk {
            choices: Some(choices),
            usage: doc.usage,
            error: doc.error,
        };
        self.chunk(chunk, out)?;
        self.complete(out);
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
