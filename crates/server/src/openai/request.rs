//! Reading a chat request: which parameters Pryx serves, refuses or accepts without effect, and
//! how the history the client resends lines up with the session's stored messages.

use super::error::OpenAiError;
use pryx_core::ToolSpec;
use pryx_protocol::openai::{ChatContent, ChatMessage, ChatRequest, ChatRole, ChatToolCall};

/// The agent a `model` names: `pryx` (the `main` agent) or `pryx:<agent id>`.
pub fn agent_of(model: &str) -> Option<&str> {
    match model {
        "pryx" => Some(pryx_config::MAIN_AGENT),
        m => m.strip_prefix("pryx:").filter(|id| !id.is_empty()),
    }
}

/// Why a parameter Pryx does not serve is refused.
fn refused(name: &str) -> Option<&'static str> {
    Some(match name {
        "functions" | "function_call" => {
            "the deprecated functions API is not supported; send `tools` instead"
        }
        "top_logprobs" | "logprobs" => "log probabilities are not supported",
        "logit_bias" => "logit_bias is not supported",
        "audio" => "audio output is not supported; only text",
        "stop" => "stop sequences are not supported",
        "prediction" => "predicted outputs are not supported",
        "reasoning_effort" | "verbosity" => {
            "the agent's model settings decide this; it cannot be set per request"
        }
        "web_search_options" => "web search options are not supported",
        _ => return None,
    })
}

/// Checks every parameter; an unknown one or one that would change the answer's meaning is
/// refused with its name.
pub fn check_params(req: &ChatRequest) -> Result<(), OpenAiError> {
    if let Some((name, _)) = req.other.iter().next() {
        let why = refused(name).unwrap_or("this parameter is not supported by Pryx");
        return Err(
            OpenAiError::param(name.as_str(), format!("`{name}`: {why}"))
                .with_code("unsupported_parameter"),
        );
    }
    if req.n.is_some_and(|n| n != 1) {
        return Err(unsupported("n", "only one choice (`n: 1`) is served"));
    }
    if req.logprobs == Some(true) {
        return Err(unsupported(
            "logprobs",
            "log probabilities are not supported",
        ));
    }
    if let Some(m) = &req.modalities
        && m.iter().any(|m| m != "text")
    {
        return Err(unsupported("modalities", "only `[\"text\"]` is served"));
    }
    if let Some(f) = &req.response_format {
        if f.kind != "text" {
            return Err(unsupported(
                "response_format",
                "only `{\"type\": \"text\"}` is served; structured output is not supported",
            ));
        }
        if let Some(key) = f.other.keys().next() {
            return Err(unsupported(
                &format!("response_format.{key}"),
                "not supported",
            ));
        }
    }
    if let Some(o) = &req.stream_options
        && let Some(key) = o.other.keys().next()
    {
        return Err(unsupported(
            &format!("stream_options.{key}"),
            "only `include_usage` is supported",
        ));
    }
    if req.stream_options.is_some() && req.stream != Some(true) {
        return Err(unsupported(
            "stream_options",
            "stream_options is only allowed with `stream: true`",
        ));
    }
    if req.messages.is_empty() {
        return Err(OpenAiError::param(
            "messages",
            "messages is empty; send at least one user message",
        ));
    }
    Ok(())
}

fn unsupported(param: &str, why: &str) -> OpenAiError {
    OpenAiError::param(param, format!("`{param}`: {why}")).with_code("unsupported_parameter")
}

/// A message reduced to what Pryx compares and stores: its role, its text, the client tool
/// calls of an assistant message, and the call a `tool` message answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub role: ChatRole,
    pub text: String,
    pub tool_calls: Vec<ChatToolCall>,
    pub tool_call_id: Option<String>,
}

impl Said {
    pub fn new(role: ChatRole, text: impl Into<String>) -> Said {
        Said {
            role,
            text: text.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// The request's messages as [`Said`]; system prompts, functions and non-text parts are
/// refused by name.
pub fn read_messages(messages: &[ChatMessage]) -> Result<Vec<Said>, OpenAiError> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| read_message(i, m))
        .collect()
}

fn read_message(i: usize, m: &ChatMessage) -> Result<Said, OpenAiError> {
    match m.role {
        ChatRole::System | ChatRole::Developer => {
            return Err(OpenAiError::param(
                format!("messages[{i}].role"),
                format!(
                    "{} messages are not supported; Pryx agents have their own instructions (the agent profile and AGENTS.md)",
                    m.role.as_str()
                ),
            )
            .with_code("unsupported_value"));
        }
        ChatRole::Function => {
            return Err(OpenAiError::param(
                format!("messages[{i}].role"),
                "function messages (the deprecated functions API) are not supported; send `tools` and answer with `tool` messages",
            )
            .with_code("unsupported_value"));
        }
        ChatRole::User | ChatRole::Assistant | ChatRole::Tool => {}
    }
    if let Some((key, _)) = m.other.iter().find(|(_, v)| !v.is_null()) {
        return Err(OpenAiError::param(
            format!("messages[{i}].{key}"),
            format!("`messages[{i}].{key}` is not supported; send text content only"),
        )
        .with_code("unsupported_parameter"));
    }
    let tool_calls = match (&m.tool_calls, m.role) {
        (None, _) => Vec::new(),
        (Some(calls), ChatRole::Assistant) => {
            if let Some(j) = calls.iter().position(|c| c.kind != "function") {
                return Err(OpenAiError::param(
                    format!("messages[{i}].tool_calls[{j}].type"),
                    "only `function` tool calls exist",
                )
                .with_code("unsupported_value"));
            }
            calls.clone()
        }
        (Some(_), role) => {
            return Err(OpenAiError::param(
                format!("messages[{i}].tool_calls"),
                format!(
                    "only assistant messages carry tool_calls, not {}",
                    role.as_str()
                ),
            ));
        }
    };
    let tool_call_id = match (m.role, &m.tool_call_id) {
        (ChatRole::Tool, Some(id)) => Some(id.clone()),
        (ChatRole::Tool, None) => {
            return Err(OpenAiError::param(
                format!("messages[{i}].tool_call_id"),
                format!(
                    "messages[{i}] is a tool result without `tool_call_id`; name the call it answers"
                ),
            ));
        }
        (_, None) => None,
        (role, Some(_)) => {
            return Err(OpenAiError::param(
                format!("messages[{i}].tool_call_id"),
                format!(
                    "only tool messages carry tool_call_id, not {}",
                    role.as_str()
                ),
            ));
        }
    };
    let text = match &m.content {
        Some(ChatContent::Text(t)) => t.clone(),
        Some(ChatContent::Parts(parts)) => {
            let mut text = Vec::new();
            for (j, p) in parts.iter().enumerate() {
                match (&p.kind[..], &p.text) {
                    ("text", Some(t)) if p.other.is_empty() => text.push(t.as_str()),
                    _ => {
                        return Err(OpenAiError::param(
                            format!("messages[{i}].content[{j}]"),
                            format!(
                                "content parts of type `{}` are not supported yet; send text parts only",
                                p.kind
                            ),
                        )
                        .with_code("unsupported_value"));
                    }
                }
            }
            text.join("\n")
        }
        // An assistant message may be only tool calls.
        None if !tool_calls.is_empty() => String::new(),
        None => {
            return Err(OpenAiError::param(
                format!("messages[{i}].content"),
                format!("messages[{i}] has no content; send its text"),
            ));
        }
    };
    Ok(Said {
        role: m.role,
        text,
        tool_calls,
        tool_call_id,
    })
}

/// The client's own tools for this turn (none with `tool_choice: "none"`), refused by name
/// when one is malformed or asks for what Pryx does not serve.
pub fn read_tools(req: &ChatRequest) -> Result<Vec<ToolSpec>, OpenAiError> {
    match &req.tool_choice {
        None => {}
        Some(serde_json::Value::String(c)) if c == "auto" => {}
        Some(serde_json::Value::String(c)) if c == "none" => return Ok(Vec::new()),
        Some(_) => {
            return Err(unsupported(
                "tool_choice",
                "only `\"auto\"` and `\"none\"` are served; the agent decides which tools to call",
            ));
        }
    }
    let mut specs: Vec<ToolSpec> = Vec::new();
    for (i, t) in req.tools.iter().flatten().enumerate() {
        let at = |k: &str| format!("tools[{i}]{k}");
        if t.kind != "function" {
            return Err(unsupported(&at(".type"), "only `function` tools exist"));
        }
        if let Some(key) = t.other.keys().next() {
            return Err(unsupported(&at(&format!(".{key}")), "not supported"));
        }
        let Some(f) = &t.function else {
            return Err(OpenAiError::param(
                at(".function"),
                "a function tool needs `function`",
            ));
        };
        if let Some(key) = f.other.keys().next() {
            return Err(unsupported(
                &at(&format!(".function.{key}")),
                "not supported",
            ));
        }
        let valid = (1..=64).contains(&f.name.len())
            && f.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(OpenAiError::param(
                at(".function.name"),
                format!(
                    "`{}` is not a valid function name: 1 to 64 letters, digits, `_` or `-`",
                    f.name
                ),
            ));
        }
        if specs.iter().any(|s| s.name == f.name) {
            return Err(OpenAiError::param(
                at(".function.name"),
                format!("two tools are named `{}`", f.name),
            ));
        }
        let parameters = match &f.parameters {
            None => serde_json::json!({"type": "object", "properties": {}}),
            Some(p) if p.is_object() => p.clone(),
            Some(_) => {
                return Err(OpenAiError::param(
                    at(".function.parameters"),
                    "`parameters` must be a JSON Schema object",
                ));
            }
        };
        specs.push(ToolSpec {
            name: f.name.clone(),
            description: f.description.clone().unwrap_or_default(),
            parameters,
        });
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_name_agents() {
        assert_eq!(agent_of("pryx"), Some("main"));
        assert_eq!(agent_of("pryx:ops"), Some("ops"));
        assert_eq!(agent_of("gpt-4o"), None);
        assert_eq!(agent_of("pryx:"), None);
    }
}
