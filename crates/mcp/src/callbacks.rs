//! What the host (agent, CLI) supplies to answer server-initiated requests: elicitation,
//! sampling, and where progress and log messages go.

use async_trait::async_trait;
use serde_json::{Map, Value};

/// A server asks the user for input (`elicitation/create`).
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitationRequest {
    pub server: String,
    pub message: String,
    /// The requested JSON Schema (`type: object` with primitive properties).
    pub schema: Value,
    /// Defaults declared in the schema; merged into an accepted answer for fields it omits.
    pub defaults: Map<String, Value>,
    /// For URL-mode elicitation: the page the user should open.
    pub url: Option<String>,
}

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitationAnswer {
    /// Submitted; the object is checked against nothing here, the server validates it.
    Accept(Map<String, Value>),
    Decline,
    Cancel,
}

/// One message of a sampling request, reduced to its text.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingMessage {
    /// `user` or `assistant`.
    pub role: String,
    pub text: String,
}

/// A server asks the host's model for a completion (`sampling/createMessage`).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingRequest {
    pub server: String,
    pub system_prompt: Option<String>,
    pub messages: Vec<SamplingMessage>,
    pub max_tokens: u32,
    /// The request as sent, for hosts that want model preferences or non-text content.
    pub raw: Value,
}

/// The completion handed back to the server.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingResponse {
    pub text: String,
    pub model: String,
    /// e.g. `endTurn`.
    pub stop_reason: Option<String>,
}

/// Progress of a running tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub server: String,
    /// Canonical name of the tool being run, when the token belongs to a call of ours.
    pub tool: Option<String>,
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// Host hooks. Every method has a safe default: elicitation and sampling are declined,
/// progress and logs go to `tracing`.
#[async_trait]
pub trait ClientCallbacks: Send + Sync + 'static {
    /// Ask the user, like an approval prompt. Defaults are merged into `Accept` answers.
    async fn elicit(&self, request: ElicitationRequest) -> ElicitationAnswer {
        let _ = request;
        ElicitationAnswer::Decline
    }

    /// Ask the user whether `request` may be sent to the model. Sampling runs only after `true`.
    async fn approve_sampling(&self, request: &SamplingRequest) -> bool {
        let _ = request;
        false
    }

    /// Run the completion (called only after [`Self::approve_sampling`] said yes).
    async fn sample(&self, request: SamplingRequest) -> Result<SamplingResponse, String> {
        let _ = request;
        Err("this client does not offer sampling".into())
    }

    /// A progress notification for one of our calls.
    fn progress(&self, progress: Progress) {
        tracing::debug!(
            server = %progress.server,
            tool = progress.tool.as_deref().unwrap_or(""),
            progress = progress.progress,
            total = progress.total,
            message = progress.message.as_deref().unwrap_or(""),
            "mcp progress"
        );
    }

    /// A `notifications/message` log line from the server.
    fn log(&self, server: &str, level: &str, data: &Value) {
        tracing::info!(server, level, data = %data, "mcp server log");
    }
}

/// Callbacks that take every default.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultCallbacks;

impl ClientCallbacks for DefaultCallbacks {}

/// Defaults (`properties.*.default`) of an elicitation schema.
pub fn schema_defaults(schema: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            if let Some(d) = prop.get("default") {
                out.insert(name.clone(), d.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_collected_per_property() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "tags": {"type": "array", "default": ["a"]},
            "none": {"type": "string"}
        }});
        let d = schema_defaults(&schema);
        assert_eq!(d.len(), 3);
        assert_eq!(d["name"], "John Doe");
        assert_eq!(d["age"], 30);
        assert!(schema_defaults(&json!({})).is_empty());
    }
}
