//! REST request and response bodies of `/api/v1` (PRD §13).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::api_channels::*;
pub use crate::api_config::*;
pub use crate::api_costs::*;
pub use crate::api_doctor::*;
pub use crate::api_extensions::*;
pub use crate::api_grants::*;
pub use crate::api_keys::*;
pub use crate::api_policy::*;
pub use crate::api_setup::*;
pub use crate::api_tasks::*;
pub use crate::api_telemetry::*;
pub use crate::api_update::*;
pub use crate::api_web::*;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A session as listed and returned by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionSummary {
    pub id: String,
    #[serde(default)]
    pub workspace_id: Option<String>,
    pub title: String,
    /// `active`, `idle` or `archived`.
    pub status: String,
    #[serde(default)]
    pub model: Option<String>,
    /// The agent profile the session was created from.
    #[serde(default)]
    pub agent: Option<String>,
    /// The policy its turns run under.
    #[serde(default)]
    pub policy: Option<String>,
    /// Canonical path of its workspace.
    #[serde(default)]
    pub workspace: Option<String>,
    /// Set when the workspace is the root or home directory, or holds the data dir (the user
    /// confirmed it): every tool reaches all of it except Pryx's data dir. Surfaces show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_warning: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub total_tokens_in: u64,
    pub total_tokens_out: u64,
    pub total_cost_usd: f64,
    /// Whether a turn is running in this session right now.
    #[serde(default)]
    pub busy: bool,
    /// The session this one was forked from, while that one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// With a search query: text around the best match (terms wrapped in « »).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// `GET /sessions`: one page of sessions, newest first (or best match first with `q`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionList {
    pub sessions: Vec<SessionSummary>,
    pub limit: u32,
    pub offset: u32,
}

/// `POST /sessions`. Every field is optional: the agent profile (default `main`) supplies the
/// workspace, model and policy the request does not name. The session keeps them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub title: Option<String>,
    /// An agent profile (`GET /agents`).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub agent: Option<String>,
    /// `provider/model` with a configured provider.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 3,
            max_length = 256,
            pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._:@+/-]*$"
        )
    )]
    pub model: Option<String>,
    /// A built-in mode or a policy file's name.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[A-Za-z0-9][A-Za-z0-9_-]*$"
        )
    )]
    pub policy: Option<String>,
    /// An absolute directory path or a workspace id known to the core.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4096))]
    pub workspace: Option<String>,
    /// A workspace id known to the core (kept for older clients; prefer `workspace`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4096))]
    pub workspace_id: Option<String>,
}

/// One stored span of a session's trace: a turn, model call, tool call or approval wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpanInfo {
    pub id: String,
    pub trace_id: String,
    pub parent_id: Option<String>,
    /// `turn`, `model_call`, `tool_call` or `approval_wait`.
    pub kind: String,
    pub name: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// `None` while the span runs.
    pub ended_at: Option<String>,
    /// `running`, `ok`, `error` or `cancelled`.
    pub status: String,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub cost_usd: Option<f64>,
}

/// `GET /sessions/{id}/spans`: the session's trace timeline, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpanList {
    pub spans: Vec<SpanInfo>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MessageView {
    pub id: String,
    /// 1, 2, 3, … within the session.
    pub seq: u64,
    pub role: crate::message::Role,
    pub text: String,
    /// The provider-neutral message content (text, tool calls, tool results).
    pub content: crate::message::Message,
    #[serde(default)]
    pub tool_call_id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    pub created_at: String,
    /// Pinned by the user: kept verbatim in what the model receives, through compaction and
    /// pruning.
    #[serde(default)]
    pub pinned: bool,
}

/// `GET /sessions/{id}`: the session with its messages in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionDetail {
    pub session: SessionSummary,
    pub messages: Vec<MessageView>,
    /// The latest event version of the session; subscribe with it to get only what follows.
    pub last_version: u64,
}

/// `POST /sessions/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The user's prompt (not blank).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100000, pattern = "\\S")
    )]
    pub content: String,
}

/// The answer to `POST /sessions/{id}/messages` (202): the turn runs in the background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TurnAccepted {
    pub turn_id: String,
    pub session_id: String,
    /// The session's last event version before the turn; its events all come after it, ending
    /// with `turn.completed`.
    pub after_version: u64,
}

/// `POST /sessions/{id}/retry`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetryTurn {
    /// `provider/model` to run on from now on (default: the session's model).
    #[serde(default)]
    pub model: Option<String>,
}

/// The answer to `DELETE /sessions/{id}/messages/{message_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RemovedMessages {
    /// How many messages went: the user message and what answered it.
    pub removed: u64,
}

/// `POST /turns/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TurnCancelled {
    pub turn_id: String,
    pub session_id: String,
}

/// What the user decided about a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ApprovalDecision {
    Approve,
    Deny,
}

/// How long an approval holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ApprovalScope {
    #[default]
    Once,
    Session,
    Always,
}

impl ApprovalScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalScope::Once => "once",
            ApprovalScope::Session => "session",
            ApprovalScope::Always => "always",
        }
    }
}

/// A question waiting for an answer from any surface. What is shown is what runs: `arguments`
/// are the exact arguments of the call and `preview` shows every one that changes its effect;
/// only the values of known secrets (configured keys, stored secrets) are replaced, by a marker
/// naming the secret (`‹secret:openai›`). Text that merely looks like a secret is shown as it
/// is and named in `looks_like_secret`. Surfaces show all of it through
/// [`crate::safe_text::escape_exact`] and say when that escaped something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PendingApproval {
    pub id: String,
    pub session_id: String,
    pub tool_call_id: String,
    pub tool: String,
    /// The call's exact arguments, known secret values replaced by `‹secret:NAME›`.
    pub arguments: serde_json::Value,
    /// SHA-256 over the tool name and the canonical form of the exact arguments.
    pub fingerprint: String,
    pub rule: String,
    pub reason: String,
    /// What the call does, in full (the command with its working directory, environment and
    /// timeout; the request with its headers and body; the whole diff of a write), known secret
    /// values marked as in `arguments`.
    pub preview: String,
    pub timeout_secs: u64,
    pub created_at: String,
    /// Kinds of well-known secret shapes found in the call (`a private key block`, …): shown,
    /// never hidden, so the person can decide whether a secret is about to leave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub looks_like_secret: Vec<String>,
    /// Canonical path of the workspace the call runs in; a `session` or `always` answer holds
    /// only there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The policy the call was judged under; a grant holds only while that exact policy is in
    /// force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// `GET /approvals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalList {
    pub approvals: Vec<PendingApproval>,
}

/// `POST /approvals/{id}`: the first answer from any surface wins. A key given twice is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerApproval {
    pub decision: ApprovalDecision,
    #[serde(default)]
    pub scope: ApprovalScope,
    /// Which surface answered, for the audit log (default `web`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface: Option<crate::Surface>,
}

/// `PUT /policy` body and answer: the policy new turns run under, by name (a built-in mode or a
/// file in the data dir's `policies/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyChoice {
    /// A name, never a path.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[A-Za-z0-9][A-Za-z0-9_-]*$"
        )
    )]
    pub name: String,
}

/// `PUT /model` body and answer: the model new turns of every session run on, as
/// `provider/model` with a configured provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelChoice {
    /// `provider/model`, e.g. `openai/gpt-4o`; the model part may hold further `/`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 3,
            max_length = 256,
            pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._:@+/-]*$"
        )
    )]
    pub id: String,
}

/// The answer was accepted (it was the first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalAccepted {
    pub id: String,
    pub decision: ApprovalDecision,
    pub scope: ApprovalScope,
}

/// `GET /health` and `GET /health/ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    /// `healthy`, `ready`, `degraded` or `unavailable`.
    pub status: String,
    pub version: String,
    pub uptime_seconds: u64,
    /// Why the core is not ready (e.g. the database cannot be written: the disk is full).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The components block of PRD §13.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Components {
    /// `ok` or a short description of the failure.
    pub database: String,
    /// `ok`, `fallback` (encrypted file) or what is wrong.
    pub keychain: String,
    /// Channel name → `connected`, `disconnected`, ….
    pub integrations: BTreeMap<String, String>,
}

/// `GET /diagnostics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Diagnostics {
    pub status: String,
    pub version: String,
    pub uptime_seconds: u64,
    pub components: Components,
    pub pid: u32,
    pub model: String,
    pub policy: String,
    pub workspace: String,
    pub running_turns: u32,
    pub pending_approvals: u32,
    pub ws_clients: u32,
    pub schema_version: i64,
    /// The telemetry export: whether it runs, what it sent and dropped, its last error.
    pub telemetry: ExportBrief,
}

/// The telemetry export in the diagnostics (`GET /telemetry` has the whole picture).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExportBrief {
    pub enabled: bool,
    pub counts: ExportCounts,
    pub last_error: Option<String>,
}

/// A model the core can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ModelView {
    /// `provider/model`.
    pub id: String,
    pub provider: String,
    pub name: String,
    pub context: u32,
    pub output: u32,
    pub tool_call: bool,
    pub reasoning: bool,
    /// USD per million input tokens.
    pub input_cost: f64,
    /// USD per million output tokens.
    pub output_cost: f64,
    /// The model turns run with unless a session names another.
    pub default: bool,
}

/// `GET /models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ModelList {
    pub models: Vec<ModelView>,
}

/// A tool the agent can call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ToolView {
    pub name: String,
    pub description: String,
    /// `read`, `write`, `exec` or `network`.
    pub kind: String,
    /// JSON Schema of the arguments.
    pub parameters: serde_json::Value,
}

/// `GET /tools`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ToolList {
    pub tools: Vec<ToolView>,
}

/// One row of the hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditView {
    pub seq: u64,
    pub timestamp: String,
    pub actor: String,
    pub action: String,
    pub resource_type: String,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    pub details: serde_json::Value,
    pub outcome: String,
    pub hash: String,
}

/// `GET /audit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditList {
    pub entries: Vec<AuditView>,
}

/// `metadata.json` in the data dir while a core runs: how surfaces find it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreMetadata {
    pub port: u16,
    pub pid: u32,
    pub version: String,
    pub started_at: String,
    /// The address the core listens on (`127.0.0.1` unless exposed on purpose).
    pub bind: String,
    /// How the core was started, so `pryx update` can start the new binary the same way.
    /// Absent in metadata written before updates existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<CoreLaunch>,
}

/// The command line and directory a core was started with, and what supervises it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreLaunch {
    /// Arguments after the program name (`serve …`).
    pub args: Vec<String>,
    pub cwd: String,
    pub supervisor: CoreSupervisor,
}

/// What restarts a core when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoreSupervisor {
    /// Started by hand (a terminal, a script): an update starts the new core itself.
    None,
    /// The TUI's sidecar: the TUI restarts it.
    Tui,
    /// A systemd user unit (`pryx install-service`).
    Systemd,
    /// A systemd system unit (`pryx install-service --system`): restarting it needs root.
    SystemdSystem,
    /// A launchd agent (`pryx install-service` on macOS).
    Launchd,
}

/// An answer to an approval, from some surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalAnswer {
    pub decision: ApprovalDecision,
    pub scope: ApprovalScope,
    pub surface: crate::Surface,
}

/// How an approval ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApprovalOutcome {
    Answered(ApprovalAnswer),
    /// Nobody answered in time: the policy's default applies.
    TimedOut {
        default: ApprovalDecision,
    },
    /// The turn was cancelled while waiting.
    Cancelled,
}

impl ApprovalOutcome {
    /// Whether the call may run.
    pub fn approved(&self) -> bool {
        match self {
            ApprovalOutcome::Answered(a) => a.decision == ApprovalDecision::Approve,
            ApprovalOutcome::TimedOut { default } => *default == ApprovalDecision::Approve,
            ApprovalOutcome::Cancelled => false,
        }
    }
}
