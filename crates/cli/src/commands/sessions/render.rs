//! How sessions look to people: list lines, the transcript shown by `show`, and the Markdown
//! export. Text goes through the escaping printer; the Markdown is returned as a string.

use super::backend::agent_of;
use crate::term::say;
use pryx_protocol::api::{MessageView, SessionDetail, SessionSummary};
use pryx_protocol::message::{AssistantPart, Message, UserPart};
use std::collections::HashMap;

/// A list line is at most this wide.
const WIDTH: usize = 100;
/// Shown ids are at least this long: the time part of a UUIDv7 (to the millisecond).
const MIN_ID: usize = 13;
/// A tool result in `show` keeps this many characters of its first line.
const RESULT_PREVIEW: usize = 80;

/// The shortest prefix of each id in `ids` (at least [`MIN_ID`] characters) that no other id
/// of `all` starts with; any of them is accepted where an id is.
pub(super) fn short_ids(all: &[String]) -> HashMap<String, String> {
    let mut sorted: Vec<&str> = all.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let common = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    (0..sorted.len())
        .map(|i| {
            let id = sorted[i];
            let before = i.checked_sub(1).map_or(0, |j| common(id, sorted[j]));
            let after = sorted.get(i + 1).map_or(0, |n| common(id, n));
            let len = (before.max(after) + 1).max(MIN_ID).min(id.len());
            (id.to_string(), id.get(..len).unwrap_or(id).to_string())
        })
        .collect()
}

/// `2026-12-01T10:04:05.123456Z` as `2026-12-01 10:04`.
fn when(ts: &str) -> String {
    ts.get(..16).unwrap_or(ts).replacen('T', " ", 1)
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

/// One line per session: id, last update, cost, agent, model, title.
pub(super) fn list(sessions: &[SessionSummary], short: &HashMap<String, String>) {
    let id = |s: &SessionSummary| short.get(&s.id).cloned().unwrap_or_else(|| s.id.clone());
    let id_width = sessions.iter().map(|s| id(s).len()).max().unwrap_or(MIN_ID);
    for s in sessions {
        let head = format!(
            "{:<id_width$}  {}  ${:<7.4} {:<10} {:<24}",
            id(s),
            when(&s.updated_at),
            s.total_cost_usd,
            clip(agent_of(s), 10),
            clip(s.model.as_deref().unwrap_or("-"), 24),
        );
        let busy = if s.busy { "[running] " } else { "" };
        let room = WIDTH.saturating_sub(head.chars().count() + 1);
        say!("{head} {}", clip(&format!("{busy}{}", s.title), room));
        if let Some(snippet) = &s.snippet {
            say!("    {}", clip(snippet, WIDTH - 4));
        }
    }
}

/// The session's facts, then its transcript.
pub(super) fn show(d: &SessionDetail) {
    let s = &d.session;
    say!("session    {}", s.id);
    say!("title      {}", clip(&s.title, WIDTH));
    say!(
        "agent      {} · model {} · policy {}",
        agent_of(s),
        s.model.as_deref().unwrap_or("(default)"),
        s.policy.as_deref().unwrap_or("(default)")
    );
    if let Some(w) = &s.workspace {
        say!("workspace  {w}");
    }
    if let Some(w) = &s.workspace_warning {
        say!("warning    {w}");
    }
    say!(
        "status     {}{} · created {} · updated {}",
        s.status,
        if s.busy { ", a turn is running" } else { "" },
        when(&s.created_at),
        when(&s.updated_at)
    );
    say!(
        "usage      {} messages · {} tokens in, {} out · ${:.4}",
        d.messages.len(),
        s.total_tokens_in,
        s.total_tokens_out,
        s.total_cost_usd
    );
    let tools = pryx_core::export::tool_names(&d.messages);
    for m in &d.messages {
        if matches!(m.content, Message::User { .. }) {
            say!("");
        }
        transcript_entry(m, &tools);
    }
}

fn transcript_entry(m: &MessageView, tools: &HashMap<String, String>) {
    let indented = |text: &str| text.replace('\n', "\n  ");
    match &m.content {
        Message::User { content } => {
            for p in content {
                match p {
                    UserPart::Text { text } => say!("{}: {}", m.role.as_str(), indented(text)),
                    UserPart::Image(i) => say!("{}: [image {}]", m.role.as_str(), i.media_type),
                }
            }
        }
        Message::Assistant { content } => {
            for p in content {
                match p {
                    AssistantPart::Text { text } => say!("assistant: {}", indented(text)),
                    AssistantPart::ToolCall(c) => {
                        say!(
                            "assistant: ⚙ {} {}",
                            c.name,
                            clip(&c.arguments, RESULT_PREVIEW)
                        );
                    }
                    AssistantPart::Reasoning { .. } | AssistantPart::RedactedReasoning { .. } => {}
                }
            }
        }
        Message::Tool(r) => {
            let name = tools.get(&r.call_id).map_or("tool", String::as_str);
            let body = inside_boundary(&r.content);
            let lines = body.len();
            let first = body.first().copied().unwrap_or("");
            let more = if lines > 1 {
                format!(" (+{} lines)", lines - 1)
            } else {
                String::new()
            };
            let failed = if r.is_error { " failed" } else { "" };
            say!("  ↳ {name}{failed}: {}{more}", clip(first, RESULT_PREVIEW));
        }
    }
}

/// The lines of a tool result without the untrusted-content boundary the model saw it in.
fn inside_boundary(content: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = content.lines().collect();
    if lines.first().is_some_and(|l| l.starts_with("<untrusted-"))
        && lines.last().is_some_and(|l| l.starts_with("</untrusted-"))
    {
        lines.pop();
        lines.remove(0);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_unique_prefixes() {
        let ids: Vec<String> = [
            "0193a1b2-c3d4-7000-8000-000000000001",
            "0193a1b2-c3d4-7000-8000-000000000002",
            "0193a1b2-c3d5-7000-8000-000000000003",
        ]
        .map(String::from)
        .to_vec();
        let short = short_ids(&ids);
        assert_eq!(short[&ids[0]], ids[0]);
        assert_eq!(short[&ids[2]], "0193a1b2-c3d5");
    }
}
