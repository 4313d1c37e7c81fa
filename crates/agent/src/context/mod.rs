//! What a model call receives of a session: the conversation after the newest compaction (its
//! summary first, with the pinned messages it replaced, verbatim), old tool results pruned.
//! Everything here is a pure function of what is stored, so the same session gives the same
//! request bytes, and the request's prefix only changes at a compaction or a pruning step:
//! provider prompt caches stay warm.

mod compact;
mod prune;
mod report;
mod request;
#[cfg(test)]
mod tests;

pub use compact::Compacted;
pub(crate) use compact::can_compact;
pub use prune::PRUNE_KEEP_TURNS;
pub(crate) use request::Prepared;

use pryx_catalog::estimate_tokens;
use pryx_llm::Message;
use pryx_protocol::{ContextParts, PinnedView, PrunedResult};
use pryx_store::Compaction;

/// Most characters that may be pinned in one session (as for workspace instructions, PRD
/// §10.7.6): pins are sent in full with every request.
pub const PINNED_CAP: usize = 20_000;

/// When a session's context is announced and compacted, and how old tool results are pruned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextSettings {
    /// `context.warning` from this share of the window (0.8).
    pub warn_at: f64,
    /// Compaction before a model call from this share (0.9; `agent.compact_at_percent`).
    pub compact_at: f64,
    /// Tool results are pruned in steps of this many turns (`agent.prune_after_turns`); 0
    /// never prunes.
    pub prune_step: u32,
}

impl Default for ContextSettings {
    fn default() -> Self {
        ContextSettings {
            warn_at: 0.8,
            compact_at: 0.9,
            prune_step: 10,
        }
    }
}

/// One stored message of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub message: Message,
    pub id: String,
    pub seq: u64,
    pub pinned: bool,
}

/// A session's conversation as stored: every message, and the compaction in force.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub entries: Vec<Entry>,
    pub compaction: Option<Compaction>,
    /// Compactions so far.
    pub compactions: u64,
}

/// Loads a session's conversation with the compaction in force.
pub fn load(store: &pryx_store::Store, session_id: &str) -> pryx_store::Result<Conversation> {
    let rows = store.list_messages(session_id)?;
    let compactions = store.list_compactions(session_id)?;
    let count = compactions.len() as u64;
    Ok(Conversation::from_stored(
        &rows,
        compactions.into_iter().last(),
        count,
    ))
}

impl Conversation {
    /// From stored rows (system rows and rows that do not decode are left out).
    pub fn from_stored(
        rows: &[pryx_store::Message],
        compaction: Option<Compaction>,
        compactions: u64,
    ) -> Conversation {
        let entries = rows
            .iter()
            .filter(|m| m.role != pryx_store::Role::System)
            .filter_map(|m| {
                let message = serde_json::from_value::<Message>(m.content.clone()).ok()?;
                Some(Entry {
                    message,
                    id: m.id.clone(),
                    seq: m.seq,
                    pinned: m.pinned,
                })
            })
            .collect();
        Conversation {
            entries,
            compaction,
            compactions,
        }
    }

    /// Adds a message just stored.
    pub fn push(&mut self, message: Message, stored: &pryx_store::Message) {
        self.entries.push(Entry {
            message,
            id: stored.id.clone(),
            seq: stored.seq,
            pinned: stored.pinned,
        });
    }

    /// Every message, compacted ones included.
    pub fn messages(&self) -> Vec<Message> {
        self.entries.iter().map(|e| e.message.clone()).collect()
    }

    /// Where the summary ends (0: nothing is compacted).
    pub fn compacted_through(&self) -> u64 {
        self.compaction.as_ref().map_or(0, |c| c.through_seq)
    }

    /// Pinned messages, in order.
    pub fn pinned(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.pinned)
    }
}

/// The request's messages and what they are made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    pub messages: Vec<Message>,
    /// Estimated tokens of each part (system and tools are the caller's to fill).
    pub parts: ContextParts,
    pub pruned: Vec<PrunedResult>,
    /// Stored messages sent as they are.
    pub sent_as_is: u64,
}

/// Opens the summary message; the pinned messages it replaced follow the summary.
const SUMMARY_OPEN: &str = "<conversation-summary>\nEarlier messages of this conversation were summarised (they are kept, but no longer sent):\n\n";
const SUMMARY_CLOSE: &str = "\n</conversation-summary>";
const PINNED_INTRO: &str =
    "\n\nThe user pinned these earlier messages; they are exact and still in force:";
/// The assistant's side of the summary, so the conversation goes on with the user's next
/// message as every provider expects.
pub const SUMMARY_ACK: &str =
    "Understood: I will go on from this summary and keep to the pinned messages.";

/// The summary message standing for everything up to the compaction, with the pinned messages
/// among them, verbatim.
fn summary_message(compaction: &Compaction, entries: &[Entry]) -> String {
    let mut out = String::with_capacity(compaction.summary.len() + 256);
    out.push_str(SUMMARY_OPEN);
    out.push_str(compaction.summary.trim());
    let mut pins = entries
        .iter()
        .filter(|e| e.seq <= compaction.through_seq && e.pinned)
        .peekable();
    if pins.peek().is_some() {
        out.push_str(PINNED_INTRO);
        for e in pins {
            out.push_str(&format!(
                "\n<pinned-message seq=\"{}\" role=\"{}\">\n{}\n</pinned-message>",
                e.seq,
                role_name(&e.message),
                e.message.text()
            ));
        }
    }
    out.push_str(SUMMARY_CLOSE);
    out
}

fn role_name(m: &Message) -> &'static str {
    match m {
        Message::User { .. } => "user",
        Message::Assistant { .. } => "assistant",
        Message::Tool(_) => "tool",
    }
}

/// Builds the messages a model call receives from the conversation, with the estimated size
/// of each part. Deterministic.
pub fn assemble(conv: &Conversation, settings: &ContextSettings) -> Assembled {
    assemble_with(conv, prune::Plan::new(conv, settings.prune_step))
}

/// [`assemble`] with older results squeezed as `kind` (see [`prune::Plan::squeezed`]).
pub(crate) fn assemble_squeezed(
    conv: &Conversation,
    settings: &ContextSettings,
    kind: pryx_protocol::PrunedKind,
) -> Assembled {
    assemble_with(
        conv,
        prune::Plan::new(conv, settings.prune_step).squeezed(conv, kind),
    )
}

fn assemble_with(conv: &Conversation, plan: prune::Plan) -> Assembled {
    let through = conv.compacted_through();
    let mut messages = Vec::with_capacity(conv.entries.len() + 2);
    let mut parts = ContextParts::default();
    if let Some(c) = &conv.compaction {
        let summary = summary_message(c, &conv.entries);
        parts.summary =
            u64::from(estimate_tokens(&summary)) + u64::from(estimate_tokens(SUMMARY_ACK));
        messages.push(Message::user(summary));
        messages.push(Message::assistant(SUMMARY_ACK));
    }
    let mut pruned = Vec::new();
    let mut sent_as_is = 0;
    for (i, e) in conv.entries.iter().enumerate() {
        if e.seq <= through {
            continue;
        }
        let message = match &e.message {
            Message::Tool(r) if !e.pinned => match plan.prune(conv, i, r) {
                Some((sent, record)) => {
                    pruned.push(record);
                    Message::Tool(sent)
                }
                None => {
                    sent_as_is += 1;
                    e.message.clone()
                }
            },
            _ => {
                sent_as_is += 1;
                e.message.clone()
            }
        };
        let tokens = u64::from(estimate_tokens(&message.text()));
        match (&message, e.pinned) {
            (_, true) => parts.pinned += tokens,
            (Message::Tool(_), false) => parts.tool_results += tokens,
            _ => parts.history += tokens,
        }
        messages.push(message);
    }
    for e in conv.entries.iter().filter(|e| e.pinned && e.seq <= through) {
        parts.pinned += u64::from(estimate_tokens(&e.message.text()));
    }
    Assembled {
        messages,
        parts,
        pruned,
        sent_as_is,
    }
}

/// The pinned messages as the API lists them.
pub(crate) fn pinned_views(conv: &Conversation) -> Vec<PinnedView> {
    conv.pinned()
        .map(|e| PinnedView {
            message_id: e.id.clone(),
            seq: e.seq,
            role: e.message.role(),
            chars: e.message.text().chars().count() as u64,
        })
        .collect()
}

/// Estimated tokens of a whole request.
pub fn request_tokens(system: &str, tools_json: &str, messages: &[Message]) -> u64 {
    let history = serde_json::to_string(messages).unwrap_or_default();
    u64::from(estimate_tokens(system))
        + u64::from(estimate_tokens(tools_json))
        + u64::from(estimate_tokens(&history))
}
