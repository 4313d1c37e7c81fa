//! Provider-neutral model of a request and a final response. The conversation itself (messages
//! and their parts) is part of the wire contract and lives in `pryx_protocol::message`.
//!
//! Tool names here are always canonical (`fs.read`); the wire clients translate them.

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use pryx_protocol::message::{
    AssistantPart, ImageData, Message, Role, ToolCall, ToolResult, UserPart,
};

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Canonical name, e.g. `fs.read`; mapped to a wire-safe name by the client.
    pub name: String,
    pub description: String,
    /// JSON schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// Everything one model call needs.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// Model id as the provider knows it (`gpt-4o-mini`, `claude-sonnet-4-5`).
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Reasoning budget in tokens; sent as Anthropic `thinking.budget_tokens`.
    pub thinking_budget: Option<u32>,
    /// Cancelling drops the connection at once and ends the stream with `LlmError::Cancelled`.
    pub cancel: CancellationToken,
}

/// Token counts of one call.
///
/// `input_tokens`, `cache_read_tokens` and `cache_write_tokens` are disjoint (their sum is the
/// whole prompt). `reasoning_tokens` is the part of `output_tokens` spent on reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens billed at the normal input rate.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
}

impl Usage {
    /// The whole prompt, cached or not.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its answer.
    EndTurn,
    /// The output hit `max_tokens`.
    MaxTokens,
    /// The model wants tool results before it continues.
    ToolUse,
    /// The provider filtered or refused the output.
    ContentFilter,
    StopSequence,
    /// A reason this crate does not know, kept verbatim.
    Other(String),
}

/// A finished model call, assembled from its stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub content: Vec<AssistantPart>,
    pub usage: Usage,
    pub stop_reason: StopReason,
}

impl ChatResponse {
    /// All text parts joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|p| match p {
                AssistantPart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The tool calls, in the order the model made them.
    pub fn tool_calls(&self) -> Vec<&ToolCall> {
        self.content
            .iter()
            .filter_map(|p| match p {
                AssistantPart::ToolCall(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// The response as a message to append to the conversation.
    pub fn into_message(self) -> Message {
        Message::Assistant {
            content: self.content,
        }
    }
}
