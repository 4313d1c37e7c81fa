//! What the caller tells the engine about one tool call.

use std::path::{Path, PathBuf};

use pryx_protocol::ToolKind;

use crate::rate::RateLedger;

/// Annotations a tool declares about itself (MCP `readOnlyHint` / `destructiveHint`).
/// Only consulted for tools that are not built in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolHints {
    pub read_only: bool,
    pub destructive: bool,
}

/// Recent calls plus the current time, so rate limits stay pure: the caller owns the clock
/// and records calls in the ledger after they are made.
#[derive(Debug, Clone, Copy)]
pub struct RateState<'a> {
    pub ledger: &'a RateLedger,
    /// Milliseconds since the Unix epoch (or any monotonic origin the ledger also uses).
    pub now_ms: u64,
}

/// One tool call to judge.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// Canonical tool name (`fs.write`, `shell.exec`, `<server>.<tool>`).
    pub tool: &'a str,
    /// Declared kind; used for tools that are not built in (built-ins have fixed kinds).
    pub kind: ToolKind,
    /// The call's JSON arguments.
    pub args: &'a serde_json::Value,
    /// The session's workspace root; relative paths are resolved against it.
    pub workspace: &'a Path,
    /// The user's home directory for `~` expansion; `None` makes `~` paths ask.
    pub home: Option<&'a Path>,
    pub hints: ToolHints,
    /// Rate-limit state; `None` skips rate limits.
    pub rate: Option<RateState<'a>>,
    /// Why this machine cannot contain shell commands, if it cannot: a `shell.exec` call the
    /// policy allows is then asked about, since the policy was written for a contained shell.
    pub uncontained_shell: Option<&'a str>,
    /// What a tool that reads files of its own (`skills.read`, `skills.load`) reports it would
    /// read: the real paths, symlinks followed, or why it cannot say. Those tools are judged by
    /// these paths, as `fs.read` of each; without a report they are denied.
    pub reads: Option<Result<&'a [PathBuf], &'a str>>,
}

impl<'a> CallContext<'a> {
    /// A context with no hints and no rate state.
    pub fn new(
        tool: &'a str,
        kind: ToolKind,
        args: &'a serde_json::Value,
        workspace: &'a Path,
        home: Option<&'a Path>,
    ) -> Self {
        CallContext {
            tool,
            kind,
            args,
            workspace,
            home,
            hints: ToolHints::default(),
            rate: None,
            uncontained_shell: None,
            reads: None,
        }
    }
}
