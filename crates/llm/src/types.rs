//! Provider-neutral model of a conversation, a request and a final response.
//!
//! Tool names here are always canonical (`fs.read`); the wire clients translate them.

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// One turn of the conversation. The system prompt lives on [`ChatRequest::system`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// What the user said: text and images.
    User { content: Vec<UserPart> },
    /// What the model said earlier, including its reasoning and tool calls.
    Assistant { content: Vec<AssistantPart> },
    /// The result of one tool call, answering [`ToolCall::id`].
    Tool(ToolResult),
}

impl Message {
    /// A user message holding one piece of text.
    pub fn user(text: impl Into<String>) -> Self {
        Message::User {
            content: vec![UserPart::Text { text: text.into() }],
        }
    }

    /// An assistant message holding one piece of text.
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::Assistant {
            content: vec![AssistantPart::Text { text: text.into() }],
        }
    }

    /// A tool result message.
    pub fn tool_result(
        call_id: impl Into<String>,
        content: impl Into<String>,
        is_error: bool,
    ) -> Self {
        Message::Tool(ToolResult {
            call_id: call_id.into(),
            content: content.into(),
            is_error,
        })
    }
}

/// A piece of a user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserPart {
    Text {
        text: String,
    },
    /// An image sent as data, for models that accept images.
    Image(ImageData),
}

/// Image bytes, base64-encoded, with their media type (`image/png`, `image/jpeg`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageData {
    pub media_type: String,
    pub data_base64: String,
}

/// A piece of an assistant message, in the order the model produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssistantPart {
    Text {
        text: String,
    },
    /// Visible reasoning. Anthropic signs it; the signature must travel back on the next request.
    Reasoning {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// Reasoning the provider encrypted; opaque, but must be passed back unchanged.
    RedactedReasoning {
        data: String,
    },
    ToolCall(ToolCall),
}

/// A tool call requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned id that the [`ToolResult`] must echo.
    pub id: String,
    /// Canonical tool name, e.g. `fs.read`.
    pub name: String,
    /// Arguments as the raw JSON text the model produced (may be invalid JSON).
    pub arguments: String,
}

impl ToolCall {
    /// Parses the arguments; an empty string counts as `{}`.
    pub fn arguments_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.arguments.trim().is_empty() {
            return Ok(serde_json::Value::Object(serde_json::Map::new()));
        }
        serde_json::from_str(&self.arguments)
    }
}

/// The outcome of a tool call, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    pub call_id: String,
    pub content: String,
    #[serde(default)]
    pub is_error: bool,
}

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
