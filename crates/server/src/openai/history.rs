//! How the history an OpenAI client resends lines up with the session's stored messages, and
//! what the request adds: one new user message, or the results of the client's own tools the
//! model called in the turn before.

use super::error::OpenAiError;
use super::request::Said;
use axum::http::StatusCode;
use pryx_core::ClientResult;
use pryx_protocol::message::{AssistantPart, Message};
use pryx_protocol::openai::{ChatRole, ChatToolCall, FunctionCall};
use std::collections::HashSet;

/// What a continuing request adds to its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewInput {
    Prompt(String),
    ToolResults(Vec<ClientResult>),
}

fn client_call(id: &str, name: &str, arguments: &str) -> ChatToolCall {
    ChatToolCall {
        id: id.to_string(),
        kind: "function".into(),
        function: FunctionCall {
            name: name.to_string(),
            arguments: arguments.to_string(),
        },
    }
}

/// A session's stored conversation as an OpenAI client sees it: each user message; per run of
/// the agent's messages one assistant message holding their text and the calls of the client's
/// tools (named in `client_tools`), followed by the client's results of those calls. Pryx's own
/// tool calls and results are not shown. An assistant message with no text and no call is left
/// out.
pub fn stored_view(messages: &[pryx_store::Message], client_tools: &[String]) -> Vec<Said> {
    let mut out: Vec<Said> = Vec::new();
    let mut client_ids: HashSet<String> = HashSet::new();
    for m in messages {
        match m.role {
            pryx_store::Role::User => out.push(Said::new(ChatRole::User, m.text.clone())),
            pryx_store::Role::Assistant => {
                let calls: Vec<ChatToolCall> = serde_json::from_value::<Message>(m.content.clone())
                    .ok()
                    .map(|msg| match msg {
                        Message::Assistant { content } => content
                            .into_iter()
                            .filter_map(|p| match p {
                                AssistantPart::ToolCall(c) if client_tools.contains(&c.name) => {
                                    Some(client_call(&c.id, &c.name, &c.arguments))
                                }
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    })
                    .unwrap_or_default();
                client_ids.extend(calls.iter().map(|c| c.id.clone()));
                match out.last_mut() {
                    Some(last)
                        if last.role == ChatRole::Assistant && last.tool_calls.is_empty() =>
                    {
                        last.text.push_str(&m.text);
                        last.tool_calls = calls;
                    }
                    _ => out.push(Said {
                        tool_calls: calls,
                        ..Said::new(ChatRole::Assistant, m.text.clone())
                    }),
                }
            }
            pryx_store::Role::Tool => {
                if let Some(id) = m
                    .tool_call_id
                    .as_ref()
                    .filter(|id| client_ids.contains(*id))
                {
                    out.push(Said {
                        tool_call_id: Some(id.clone()),
                        ..Said::new(ChatRole::Tool, m.text.clone())
                    });
                }
            }
            pryx_store::Role::System => {}
        }
    }
    out.retain(|s| {
        !(s.role == ChatRole::Assistant && s.text.trim().is_empty() && s.tool_calls.is_empty())
    });
    out
}

/// The calls of the client's tools in `view`'s last assistant message that no `tool` message
/// after it answers.
pub fn pending_calls(view: &[Said]) -> Vec<ChatToolCall> {
    let Some(at) = view.iter().rposition(|s| s.role == ChatRole::Assistant) else {
        return Vec::new();
    };
    let answered: HashSet<&str> = view[at + 1..]
        .iter()
        .filter_map(|s| s.tool_call_id.as_deref())
        .collect();
    view[at]
        .tool_calls
        .iter()
        .filter(|c| !answered.contains(c.id.as_str()))
        .cloned()
        .collect()
}

fn same(given: &Said, kept: &Said) -> bool {
    let calls = |s: &Said| -> Vec<(String, String)> {
        s.tool_calls
            .iter()
            .map(|c| (c.id.clone(), c.function.name.clone()))
            .collect()
    };
    given.role == kept.role
        && given.text.trim() == kept.text.trim()
        && calls(given) == calls(kept)
        && given.tool_call_id == kept.tool_call_id
}

/// What a request whose history must start with `stored` adds: the history is compared message
/// by message (role, text with surrounding whitespace aside, tool call ids and names, the call a
/// result answers); then either one new user message follows, or — when the model called the
/// client's tools — one `tool` message for each of those calls.
pub fn new_input(said: &[Said], stored: &[Said]) -> Result<NewInput, OpenAiError> {
    for (i, (given, kept)) in said.iter().zip(stored).enumerate() {
        if !same(given, kept) {
            let what = if given.role != kept.role {
                "its role differs"
            } else if given.text.trim() != kept.text.trim() {
                "its text differs"
            } else {
                "its tool calls differ"
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
    let pending = pending_calls(stored);
    if !pending.is_empty() {
        return tool_results(new, stored.len(), &pending);
    }
    if let Some(i) = new.iter().position(|s| s.role != ChatRole::User) {
        let at = stored.len() + i;
        return Err(mismatch(
            at,
            format!(
                "messages[{at}] is a {} message the session does not hold; only the new user message may follow the session's history",
                new[i].role.as_str()
            ),
        ));
    }
    match new {
        [one] => Ok(NewInput::Prompt(one.text.clone())),
        _ => Err(OpenAiError::param(
            format!("messages[{}]", stored.len() + 1),
            "send one new user message per request: each becomes one turn of the session",
        )),
    }
}

/// The client's results for every pending call, each once, and nothing else.
fn tool_results(
    new: &[Said],
    offset: usize,
    pending: &[ChatToolCall],
) -> Result<NewInput, OpenAiError> {
    let ids: Vec<&str> = pending.iter().map(|c| c.id.as_str()).collect();
    let mut results: Vec<ClientResult> = Vec::new();
    for (i, s) in new.iter().enumerate() {
        let at = offset + i;
        let id = match (s.role, s.tool_call_id.as_deref()) {
            (ChatRole::Tool, Some(id)) => id,
            _ => {
                return Err(OpenAiError::param(
                    format!("messages[{at}]"),
                    format!(
                        "the assistant called your tools ({}); answer each call with one `tool` message before anything else",
                        ids.join(", ")
                    ),
                ));
            }
        };
        if !ids.contains(&id) || results.iter().any(|r| r.call_id == id) {
            return Err(OpenAiError::param(
                format!("messages[{at}].tool_call_id"),
                format!(
                    "`{id}` is not a call waiting for its result (or is answered twice); the calls waiting are {}",
                    ids.join(", ")
                ),
            ));
        }
        results.push(ClientResult {
            call_id: id.to_string(),
            content: s.text.clone(),
        });
    }
    if results.len() < ids.len() {
        let missing: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| results.iter().all(|r| r.call_id != *id))
            .collect();
        return Err(OpenAiError::param(
            "messages",
            format!(
                "the results of {} are missing; answer every call of the assistant's last message",
                missing.join(", ")
            ),
        ));
    }
    Ok(NewInput::ToolResults(results))
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
        Said::new(role, text)
    }

    #[test]
    fn a_history_continues_with_one_user_message() {
        let stored = vec![
            said(ChatRole::User, "hi"),
            said(ChatRole::Assistant, "hello"),
        ];
        let mut given = stored.clone();
        given.push(said(ChatRole::User, "more"));
        assert_eq!(
            new_input(&given, &stored).unwrap(),
            NewInput::Prompt("more".into())
        );
        given[1].text = "other".into();
        let e = new_input(&given, &stored).unwrap_err();
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.param.as_deref(), Some("messages[1]"));
        let e = new_input(&stored, &stored).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("history_mismatch"));
    }

    #[test]
    fn pending_client_calls_take_exactly_their_results() {
        let call = |id: &str| client_call(id, "get_weather", "{}");
        let stored = vec![
            said(ChatRole::User, "weather?"),
            Said {
                tool_calls: vec![call("a"), call("b")],
                ..said(ChatRole::Assistant, "")
            },
        ];
        assert_eq!(pending_calls(&stored).len(), 2);
        let result = |id: &str, text: &str| Said {
            tool_call_id: Some(id.into()),
            ..said(ChatRole::Tool, text)
        };
        let mut given = stored.clone();
        given.extend([result("b", "rain"), result("a", "sun")]);
        assert_eq!(
            new_input(&given, &stored).unwrap(),
            NewInput::ToolResults(vec![
                ClientResult {
                    call_id: "b".into(),
                    content: "rain".into()
                },
                ClientResult {
                    call_id: "a".into(),
                    content: "sun".into()
                },
            ])
        );
        // One missing, one unknown, one twice, or a user message instead: refused.
        for bad in [
            vec![result("a", "sun")],
            vec![result("a", "sun"), result("c", "x")],
            vec![result("a", "sun"), result("a", "sun")],
            vec![said(ChatRole::User, "never mind")],
        ] {
            let mut given = stored.clone();
            given.extend(bad);
            assert_eq!(
                new_input(&given, &stored).unwrap_err().status,
                StatusCode::BAD_REQUEST
            );
        }
        // A call resent under another id does not match the history.
        let mut given = stored.clone();
        given[1].tool_calls[0].id = "z".into();
        given.push(result("a", "sun"));
        assert_eq!(
            new_input(&given, &stored).unwrap_err().status,
            StatusCode::CONFLICT
        );
    }
}
