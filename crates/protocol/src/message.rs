//! The provider-neutral conversation: what is stored for every message, sent to the model, and
//! carried by `session.message` events. Defined here so every surface reads the same type.
//!
//! Tool names here are always canonical (`fs.read`); the provider clients translate them.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One turn of the conversation. The system prompt is not a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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

    /// The visible text, for display, search and titles: user text parts joined by newlines,
    /// assistant text parts joined (no reasoning, no tool calls), a tool result's content.
    pub fn text(&self) -> String {
        match self {
            Message::User { content } => content
                .iter()
                .filter_map(|p| match p {
                    UserPart::Text { text } => Some(text.as_str()),
                    UserPart::Image(_) => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Message::Assistant { content } => content
                .iter()
                .filter_map(|p| match p {
                    AssistantPart::Text { text } => Some(text.as_str()),
                    AssistantPart::Reasoning { .. }
                    | AssistantPart::RedactedReasoning { .. }
                    | AssistantPart::ToolCall(_) => None,
                })
                .collect(),
            Message::Tool(r) => r.content.clone(),
        }
    }

    /// The tool calls of an assistant message, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        let parts: &[AssistantPart] = match self {
            Message::Assistant { content } => content,
            Message::User { .. } | Message::Tool(_) => &[],
        };
        parts.iter().filter_map(|p| match p {
            AssistantPart::ToolCall(c) => Some(c),
            _ => None,
        })
    }
}

/// A piece of a user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImageData {
    pub media_type: String,
    pub data_base64: String,
}

/// A piece of an assistant message, in the order the model produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ToolCall {
    /// Provider-assigned id that the [`ToolResult`] must echo.
    pub id: String,
    /// Canonical tool name, e.g. `fs.read`.
    pub name: String,
    /// Arguments as the raw JSON text the model produced (may be invalid JSON).
    pub arguments: String,
}

impl ToolCall {
    /// Parses the arguments; an empty string counts as `{}`. A key given twice in any object
    /// is an error (the call is refused, never run with one of the two values).
    pub fn arguments_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.arguments.trim().is_empty() {
            return Ok(serde_json::Value::Object(serde_json::Map::new()));
        }
        crate::strict_json::parse(&self.arguments)
    }
}

/// The outcome of a tool call, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ToolResult {
    pub call_id: String,
    pub content: String,
    #[serde(default)]
    pub is_error: bool,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    Tool,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::System => "system",
        }
    }
}

impl Message {
    /// The role of the message (never `system`: the system prompt is not a message).
    pub fn role(&self) -> Role {
        match self {
            Message::User { .. } => Role::User,
            Message::Assistant { .. } => Role::Assistant,
            Message::Tool(_) => Role::Tool,
        }
    }
}
