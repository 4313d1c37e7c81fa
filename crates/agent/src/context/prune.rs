//! Pruning old tool results: results of turns old enough are sent trimmed (head and tail),
//! then older still as a one-line stub naming the call, so the model knows to call again.
//! The line between old and recent moves in steps of whole turns, not with every turn, so the
//! request's prefix stays byte-identical between steps and provider prompt caches stay warm.
//! The last [`PRUNE_KEEP_TURNS`] turns and pinned results are sent as they are — unless a
//! request is still too large once compacted (one long turn of many tool calls): then all but
//! the newest results are squeezed the same way, trimmed first, elided if that is not enough.

use super::Conversation;
use pryx_llm::{AssistantPart, Message, ToolResult};
use pryx_protocol::{PrunedKind, PrunedResult};

/// The newest turns whose tool results are never pruned.
pub const PRUNE_KEEP_TURNS: u32 = 3;
/// When a request is still too large after compaction (one long turn of many tool calls),
/// results are squeezed — all but the newest this many.
pub const SQUEEZE_KEEP_RESULTS: usize = 4;
/// A result longer than this (bytes) is trimmed once old.
const TRIM_OVER: usize = 4096;
const TRIM_HEAD: usize = 1536;
const TRIM_TAIL: usize = 512;

/// Which turns are old at this point of the session.
pub(super) struct Plan {
    /// The turn (1-based, counted by user messages) of each entry.
    turns: Vec<u32>,
    /// Results of turns up to this one are trimmed…
    trim_through: u32,
    /// …and up to this one elided.
    elide_through: u32,
    /// Squeezing: results before this entry are trimmed (or elided), whatever their turn.
    squeeze: Option<(usize, PrunedKind)>,
}

impl Plan {
    pub fn new(conv: &Conversation, step: u32) -> Plan {
        let mut turn = 0u32;
        let turns: Vec<u32> = conv
            .entries
            .iter()
            .map(|e| {
                if matches!(e.message, Message::User { .. }) {
                    turn += 1;
                }
                turn
            })
            .collect();
        let (trim_through, elide_through) = match step {
            0 => (0, 0),
            step => {
                let boundary = turn.saturating_sub(PRUNE_KEEP_TURNS) / step * step;
                (boundary, boundary.saturating_sub(step))
            }
        };
        Plan {
            turns,
            trim_through,
            elide_through,
            squeeze: None,
        }
    }

    /// This plan, and besides every result but the newest [`SQUEEZE_KEEP_RESULTS`] (pinned
    /// ones aside) sent as `kind`: the last resort before a request too large for the model.
    pub fn squeezed(mut self, conv: &Conversation, kind: PrunedKind) -> Plan {
        let keep_from = conv
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.message, Message::Tool(_)) && !e.pinned)
            .map(|(i, _)| i)
            .rev()
            .nth(SQUEEZE_KEEP_RESULTS - 1)
            .unwrap_or(0);
        self.squeeze = Some((keep_from, kind));
        self
    }

    /// How entry `i` (the result `r`) is sent, when not as it is.
    pub fn prune(
        &self,
        conv: &Conversation,
        i: usize,
        r: &ToolResult,
    ) -> Option<(ToolResult, PrunedResult)> {
        let turn = self.turns.get(i).copied().unwrap_or(u32::MAX);
        let squeezed = self
            .squeeze
            .filter(|(keep_from, _)| i < *keep_from)
            .map(|(_, kind)| kind);
        if turn > self.trim_through && squeezed.is_none() {
            return None;
        }
        let (tool, target) = call_of(conv, i, &r.call_id);
        let bytes = r.content.len();
        let elide = turn <= self.elide_through || squeezed == Some(PrunedKind::Elided);
        let (content, kind) = if elide {
            let stub = stub(&tool, &target, bytes);
            if stub.len() >= bytes {
                return None;
            }
            (stub, PrunedKind::Elided)
        } else {
            (trim(&r.content)?, PrunedKind::Trimmed)
        };
        let record = PrunedResult {
            seq: conv.entries.get(i).map_or(0, |e| e.seq),
            tool,
            kind,
            bytes: bytes as u64,
            sent_bytes: content.len() as u64,
        };
        Some((
            ToolResult {
                call_id: r.call_id.clone(),
                content,
                is_error: r.is_error,
            },
            record,
        ))
    }
}

/// The tool and the main argument (path, command, URL…) of the call `call_id` answers.
fn call_of(conv: &Conversation, before: usize, call_id: &str) -> (String, String) {
    let call = conv.entries[..before.min(conv.entries.len())]
        .iter()
        .rev()
        .find_map(|e| match &e.message {
            Message::Assistant { content } => content.iter().find_map(|p| match p {
                AssistantPart::ToolCall(c) if c.id == call_id => Some(c),
                _ => None,
            }),
            _ => None,
        });
    let Some(call) = call else {
        return ("a tool".to_string(), String::new());
    };
    let args = call.arguments_json().unwrap_or_default();
    let target = ["path", "command", "url", "query", "name", "pattern"]
        .iter()
        .find_map(|k| args.get(*k).and_then(|v| v.as_str()))
        .map(|t| {
            let one_line = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut short: String = one_line.chars().take(80).collect();
            if short.len() < one_line.len() {
                short.push('…');
            }
            short
        })
        .unwrap_or_default();
    (call.name.clone(), target)
}

fn size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn stub(tool: &str, target: &str, bytes: usize) -> String {
    let what = if target.is_empty() {
        tool.to_string()
    } else {
        format!("{tool} {target}")
    };
    format!(
        "[result of {what}, {}, elided to save context; call the tool again if you need it]",
        size(bytes)
    )
}

/// Head and tail of a long result; `None` when it is short enough as it is.
fn trim(content: &str) -> Option<String> {
    if content.len() <= TRIM_OVER {
        return None;
    }
    let head_end = floor_char(content, TRIM_HEAD);
    let tail_start = ceil_char(content, content.len() - TRIM_TAIL);
    let elided = tail_start - head_end;
    Some(format!(
        "{}\n[… {} of this result elided to save context; call the tool again for all of it …]\n{}",
        &content[..head_end],
        size(elided),
        &content[tail_start..]
    ))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}
