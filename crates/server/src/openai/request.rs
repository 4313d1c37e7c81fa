//! Reading a chat request: which parameters Pryx serves, refuses or accepts without effect, and
//! how the history the client resends lines up with the session's stored messages.

use super::error::OpenAiError;
use axum::http::StatusCode;
use pryx_protocol::openai::{ChatContent, ChatMessage, ChatRequest, ChatRole};

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
        "tools" | "functions" | "tool_choice" | "function_call" => {
            "client-side tools are not supported yet; Pryx agents use their own tools (see GET /api/v1/tools)"
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

/// A message reduced to what Pryx compares and stores: its role and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub role: ChatRole,
    pub text: String,
}

/// The request's messages as role and text; system prompts, client tools and non-text parts
/// are refused by name.
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
        ChatRole::Tool | ChatRole::Function => {
            return Err(OpenAiError::param(
                format!("messages[{i}].role"),
                format!(
                    "{} messages are not supported yet: client-side tools are not supported; Pryx agents use their own tools",
                    m.role.as_str()
                ),
            )
            .with_code("unsupported_value"));
        }
        ChatRole::User | ChatRole::Assistant => {}
    }
    if let Some((key, _)) = m.other.iter().find(|(_, v)| !v.is_null()) {
        return Err(OpenAiError::param(
            format!("messages[{i}].{key}"),
            format!("`messages[{i}].{key}` is not supported yet; send text content only"),
        )
        .with_code("unsupported_parameter"));
    }
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
        None => {
            return Err(OpenAiError::param(
                format!("messages[{i}].content"),
                format!("messages[{i}] has no content; send its text"),
            ));
        }
    };
    Ok(Said { role: m.role, text })
}

/// A session's stored conversation as an OpenAI client sees it: each user message, and per
/// turn one assistant message holding the text of all its answers (tool calls and results are
/// Pryx's own and not shown). A turn that answered nothing has no assistant message.
pub fn stored_view(messages: &[pryx_store::Message]) -> Vec<Said> {
    let mut out: Vec<Said> = Vec::new();
    for m in messages {
        match m.role {
            pryx_store::Role::User => out.push(Said {
                role: ChatRole::User,
                text: m.text.clone(),
            }),
            pryx_store::Role::Assistant => match out.last_mut() {
                Some(last) if last.role == ChatRole::Assistant => last.text.push_str(&m.text),
                _ => out.push(Said {
                    role: ChatRole::Assistant,
                    text: m.text.clone(),
                }),
            },
            pryx_store::Role::Tool | pryx_store::Role::System => {}
        }
    }
    out.retain(|s| !(s.role == ChatRole::Assistant && s.text.trim().is_empty()));
    out
}

/// The new user message of a request whose history must start with `stored`: the history is
/// compared message by message (role and text, surrounding whitespace aside), and exactly one
/// new user message must follow it.
pub fn new_prompt(said: &[Said], stored: &[Said]) -> Result<String, OpenAiError> {
    for (i, (given, kept)) in said.iter().zip(stored).enumerate() {
        if given.role != kept.role || given.text.trim() != kept.text.trim() {
            let what = if given.role == kept.role {
                "its text differs"
            } else {
                "its role differs"
            };
            return Err(mismatch(
                i,
                format!(
                    "messages[{i}] ({}) does not match the session's history, where it is a {} message: {what}. Resend the session's messages unchanged, or leave out `x-pryx-session` to start a new session",
                    given.role.as_str(),
                    kept.role.as_str()
                ),
            ));
        }
    }
    if said.len() <= stored.len() {
        return Err(mismatch(
            said.len(),
            format!(
                "the request has {} messages but the session already holds {}; end the history with one new user message",
                said.len(),
                stored.len()
            ),
        ));
    }
    let new = &said[stored.len()..];
    if let Some(i) = new.iter().position(|s| s.role != ChatRole::User) {
        let at = stored.len() + i;
        return Err(mismatch(
            at,
            format!(
                "messages[{at}] is an assistant message the session does not hold; only the new user message may follow the session's history"
            ),
        ));
    }
    match new {
        [one] => Ok(one.text.clone()),
        _ => Err(OpenAiError::param(
            format!("messages[{}]", stored.len() + 1),
            "send one new user message per request: each becomes one turn of the session",
        )),
    }
}

fn mismatch(i: usize, message: String) -> OpenAiError {
    OpenAiError::new(StatusCode::CONFLICT, message)
        .with_param(format!("messages[{i}]"))
        .with_code("history_mismatch")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(role: ChatRole, text: &str) -> Said {
        Said {
            role,
            text: text.into(),
        }
    }

    #[test]
    fn a_history_continues_with_one_user_message() {
        let stored = vec![
            said(ChatRole::User, "hi"),
            said(ChatRole::Assistant, "hello"),
        ];
        let mut given = stored.clone();
        given.push(said(ChatRole::User, "more"));
        assert_eq!(new_prompt(&given, &stored).unwrap(), "more");
        given[1].text = "other".into();
        let e = new_prompt(&given, &stored).unwrap_err();
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.param.as_deref(), Some("messages[1]"));
        let e = new_prompt(&stored, &stored).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("history_mismatch"));
        assert_eq!(agent_of("pryx"), Some("main"));
        assert_eq!(agent_of("pryx:ops"), Some("ops"));
        assert_eq!(agent_of("gpt-4o"), None);
        assert_eq!(agent_of("pryx:"), None);
    }
}
