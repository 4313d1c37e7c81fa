//! A session as a file: the Markdown transcript (`pryx sessions export`, the TUI's export, the
//! dashboard's download) and the JSON of `GET /api/v1/sessions/{id}`, built the same way for
//! every surface.

use crate::core::Core;
use crate::error::CoreError;
use pryx_protocol::api::{MessageView, SessionDetail, SessionSummary};
use pryx_protocol::message::{AssistantPart, Message, UserPart};
use std::collections::HashMap;
use std::fmt::Write as _;

impl Core {
    /// A session with its messages, as `GET /api/v1/sessions/{id}` returns it (its workspace
    /// path, the broad-workspace warning, whether a turn runs); `None` when there is no such
    /// session. Blocking: call off the runtime.
    pub fn session_detail(&self, id: &str) -> Result<Option<SessionDetail>, CoreError> {
        let store = self.store();
        let Some(s) = store.get_session(id)? else {
            return Ok(None);
        };
        let workspace = match s.workspace_id.as_deref() {
            Some(w) => store.get_workspace(w)?.map(|w| w.path),
            None => None,
        };
        let mut session = s.into_summary(workspace, None);
        session.workspace_warning = session
            .workspace
            .as_deref()
            .and_then(|w| self.workspace_warning(w));
        session.busy = self.is_busy(&session.id);
        let messages = store
            .list_messages(id)?
            .into_iter()
            .map(pryx_store::Message::into_view)
            .collect();
        Ok(Some(SessionDetail {
            session,
            messages,
            last_version: store.last_event_version(id)?,
        }))
    }
}

/// The session with every message as pretty JSON (the shape of `GET /api/v1/sessions/{id}`),
/// ending with a newline.
pub fn session_json(d: &SessionDetail) -> serde_json::Result<String> {
    Ok(serde_json::to_string_pretty(d)? + "\n")
}

/// The agent a session belongs to (sessions older than agent profiles belong to `main`).
pub fn agent_of(s: &SessionSummary) -> &str {
    s.agent.as_deref().unwrap_or(pryx_config::MAIN_AGENT)
}

/// Tool names by call id, to label results.
pub fn tool_names(messages: &[MessageView]) -> HashMap<String, String> {
    messages
        .iter()
        .flat_map(|m| m.content.tool_calls())
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect()
}

/// At most `n` characters of `text` on one line, `…` marking a cut.
fn clip(text: &str, n: usize) -> String {
    let line = text.replace(['\n', '\r', '\t'], " ");
    if line.chars().count() <= n {
        return line;
    }
    let mut out: String = line.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A fence for `text`: more backticks than any run of them inside it.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn block(out: &mut String, lang: &str, text: &str) {
    let f = fence(text);
    let _ = writeln!(out, "{f}{lang}\n{}\n{f}\n", text.trim_end_matches('\n'));
}

/// The whole session as Markdown: its facts, then every message in order, tool calls with
/// their arguments and results in full. The TUI's export writes the same.
pub fn session_markdown(d: &SessionDetail) -> String {
    let s = &d.session;
    let mut out = String::new();
    let title = if s.title.trim().is_empty() {
        "Untitled session"
    } else {
        &s.title
    };
    let _ = writeln!(out, "# {}\n", clip(title, 200));
    let _ = writeln!(out, "- Session: `{}`", s.id);
    let _ = writeln!(
        out,
        "- Agent: {} · Model: {} · Policy: {}",
        agent_of(s),
        s.model.as_deref().unwrap_or("(default)"),
        s.policy.as_deref().unwrap_or("(default)")
    );
    if let Some(w) = &s.workspace {
        let _ = writeln!(out, "- Workspace: `{w}`");
    }
    let _ = writeln!(
        out,
        "- Created: {} · Updated: {}",
        s.created_at, s.updated_at
    );
    let _ = writeln!(
        out,
        "- Usage: {} tokens in, {} out · ${:.4}\n",
        s.total_tokens_in, s.total_tokens_out, s.total_cost_usd
    );
    let tools = tool_names(&d.messages);
    for m in &d.messages {
        match &m.content {
            Message::User { content } => {
                let _ = writeln!(out, "## User\n");
                for p in content {
                    match p {
                        UserPart::Text { text } if text.trim().is_empty() => {}
                        UserPart::Text { text } => {
                            let _ = writeln!(out, "{}\n", text.trim_end());
                        }
                        UserPart::Image(i) => {
                            let _ = writeln!(out, "*[image {}]*\n", i.media_type);
                        }
                    }
                }
            }
            Message::Assistant { content } => {
                let _ = writeln!(out, "## Assistant\n");
                for p in content {
                    match p {
                        AssistantPart::Text { text } if text.trim().is_empty() => {}
                        AssistantPart::Text { text } => {
                            let _ = writeln!(out, "{}\n", text.trim_end());
                        }
                        AssistantPart::ToolCall(c) => {
                            let _ = writeln!(out, "**Tool call** `{}` ({})\n", c.name, c.id);
                            let args = c
                                .arguments_json()
                                .ok()
                                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                                .unwrap_or_else(|| c.arguments.clone());
                            block(&mut out, "json", &args);
                        }
                        AssistantPart::Reasoning { .. }
                        | AssistantPart::RedactedReasoning { .. } => {}
                    }
                }
            }
            Message::Tool(r) => {
                let name = tools.get(&r.call_id).map_or("tool", String::as_str);
                let failed = if r.is_error { ", failed" } else { "" };
                let _ = writeln!(out, "### Tool result `{name}` ({}{failed})\n", r.call_id);
                if r.content.trim().is_empty() {
                    let _ = writeln!(out, "*(no output)*\n");
                } else {
                    block(&mut out, "text", &r.content);
                }
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_the_backticks_inside() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }
}
