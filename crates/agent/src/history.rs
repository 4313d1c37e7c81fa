//! Stored messages ⇄ provider-neutral conversation, including repair after a crash.

use pryx_llm::{AssistantPart, Message};
use pryx_store::{Message as StoredMessage, Role};
use std::collections::HashSet;

/// Text the model receives for a call whose run was cut short (crash or kill) before it finished.
pub const INTERRUPTED_RESULT: &str = "interrupted: the previous run stopped before this tool call finished; it was not re-run. \
     Check its effects before trying again.";

/// Rebuilds the conversation from the store. Rows that do not decode are skipped (never fatal).
pub fn from_stored(rows: &[StoredMessage]) -> Vec<Message> {
    rows.iter()
        .filter(|m| m.role != Role::System)
        .filter_map(|m| serde_json::from_value::<Message>(m.content.clone()).ok())
        .collect()
}

/// Tool calls of assistant messages that never got a result, in order (call id, tool name).
pub fn dangling_calls(history: &[Message]) -> Vec<(String, String)> {
    let answered: HashSet<&str> = history
        .iter()
        .filter_map(|m| match m {
            Message::Tool(r) => Some(r.call_id.as_str()),
            _ => None,
        })
        .collect();
    history
        .iter()
        .flat_map(|m| match m {
            Message::Assistant { content } => content.iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .filter_map(|p| match p {
            AssistantPart::ToolCall(c) if !answered.contains(c.id.as_str()) => {
                Some((c.id.clone(), c.name.clone()))
            }
            _ => None,
        })
        .collect()
}

/// A session title from its first prompt: one line, at most 60 characters.
pub fn title_from_prompt(prompt: &str) -> String {
    let line = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut title: String = line.chars().take(60).collect();
    if title.len() < line.len() {
        title.push('…');
    }
    if title.is_empty() {
        "(empty prompt)".to_string()
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_llm::ToolCall;

    #[test]
    fn finds_calls_without_results() {
        let call = |id: &str| {
            AssistantPart::ToolCall(ToolCall {
                id: id.into(),
                name: "fs.read".into(),
                arguments: "{}".into(),
            })
        };
        let h = vec![
            Message::user("hi"),
            Message::Assistant {
                content: vec![call("a"), call("b")],
            },
            Message::tool_result("a", "ok", false),
        ];
        assert_eq!(
            dangling_calls(&h),
            vec![("b".to_string(), "fs.read".to_string())]
        );
    }

    #[test]
    fn titles_are_one_trimmed_line() {
        assert_eq!(title_from_prompt("  fix\n the   bug "), "fix the bug");
        assert_eq!(title_from_prompt(&"x".repeat(100)).chars().count(), 61);
    }
}
