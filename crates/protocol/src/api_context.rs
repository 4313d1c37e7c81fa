//! A session's context: how full the model's window is and what fills it, the events that say
//! so (`context.warning`, `context.compacted`), and the bodies of pinning, compacting and
//! forking.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Where a context size comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContextSource {
    /// The provider's own count of the last request (plus the answer), nothing sent since.
    Provider,
    /// Pryx's estimate of the next request.
    Estimate,
}

/// Estimated tokens of each part of the next request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContextParts {
    /// The system prompt (base rules, workspace instructions, skills).
    pub system: u64,
    /// The tool definitions.
    pub tools: u64,
    /// The summary of compacted messages, with the pinned messages it carries.
    pub summary: u64,
    /// Pinned messages (wherever they are).
    pub pinned: u64,
    /// User and assistant messages after the summary.
    pub history: u64,
    /// Tool results after the summary, as sent (pruned ones at their pruned size).
    pub tool_results: u64,
}

/// A pinned message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PinnedView {
    pub message_id: String,
    pub seq: u64,
    pub role: crate::message::Role,
    pub chars: u64,
}

/// How an old tool result is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrunedKind {
    /// Its head and tail, the middle elided.
    Trimmed,
    /// A one-line stub naming the call.
    Elided,
}

/// An old tool result sent shorter than it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PrunedResult {
    pub seq: u64,
    pub tool: String,
    pub kind: PrunedKind,
    /// Bytes stored, and sent.
    pub bytes: u64,
    pub sent_bytes: u64,
}

/// What compacting the session now would summarise and cost (an estimate, before it runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CompactionEstimate {
    /// Messages the summary would replace.
    pub messages: u64,
    pub input_tokens: u64,
    /// The most the summary may take.
    pub max_output_tokens: u64,
    /// At the model's prices, with the summary at its cap (0 when prices are unknown).
    pub cost_usd: f64,
    pub model: String,
}

/// `GET /sessions/{id}/context`: how full the model's window is, and with what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionContext {
    pub session_id: String,
    /// `provider/model` the next turn runs on.
    pub model: String,
    /// The model's input window in tokens.
    pub window: u64,
    /// The prompt's size now.
    pub tokens: u64,
    pub source: ContextSource,
    /// `tokens` of `window`, 0–100 (may pass 100).
    pub percent: f64,
    /// `context.warning` is sent at this percentage, and compaction runs at the other.
    pub warn_at_percent: u8,
    pub compact_at_percent: u8,
    pub parts: ContextParts,
    /// Messages stored, and how many of them reach the model as they are.
    pub messages: u64,
    pub messages_sent: u64,
    /// Compactions so far; the newest covers messages up to `compacted_through`.
    pub compactions: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compacted_through: Option<u64>,
    pub pinned: Vec<PinnedView>,
    /// Pinned characters, and the most that may be pinned.
    pub pinned_chars: u64,
    pub pinned_cap: u64,
    pub pruned: Vec<PrunedResult>,
    /// What `/compact` would do now; absent when there is nothing to compact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction: Option<CompactionEstimate>,
}

/// `context.warning`: the session's prompt passed the warning threshold (once until the next
/// compaction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContextWarning {
    pub tokens: u64,
    pub window: u64,
    pub percent: f64,
    /// Where compaction starts by itself.
    pub compact_at_percent: u8,
}

/// `context.compacted`: older messages were summarised; they stay stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContextCompacted {
    pub compaction_id: String,
    /// `auto` (the threshold) or `user` (`/compact`).
    pub trigger: String,
    /// Messages now summarised (up to `through_seq`).
    pub messages: u64,
    pub through_seq: u64,
    /// Estimated prompt tokens before and after, of the model's `window`.
    pub tokens_before: u64,
    pub tokens_after: u64,
    pub window: u64,
    pub cost_usd: f64,
}

/// `POST /sessions/{id}/fork`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ForkRequest {
    /// The message the child ends with (its tool results come along); default: the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// `process.matched`: a background process printed a line matching one of its watch patterns
/// (the first of a quiet period; `more` counts the others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProcessMatched {
    pub process_id: String,
    pub command: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    pub pattern: String,
    pub line: String,
    #[serde(default)]
    pub more: u64,
    /// Whether a turn was started for the agent to look at it.
    #[serde(default)]
    pub turn_started: bool,
}

/// A background process of a session (`GET /sessions/{id}/processes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProcessView {
    pub id: String,
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// `running`, `exited with code N`, `ended by signal N` or `killed`.
    pub status: String,
    pub running: bool,
    pub started_at: String,
    pub stdout_lines: u64,
    pub stderr_lines: u64,
    /// The last lines of each stream.
    pub stdout_tail: Vec<String>,
    pub stderr_tail: Vec<String>,
}

/// `GET /sessions/{id}/processes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProcessList {
    pub processes: Vec<ProcessView>,
}
