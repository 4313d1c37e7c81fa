//! Policy documents and their evaluation: every tool call is judged allow / ask / deny, with the
//! rule that decided. Pure logic apart from reading the filesystem to resolve paths (symlinks,
//! link counts) and loading policy files; no clock, no network.
//!
//! Defaults (`workspace-only`): reads inside the workspace are allowed, writes inside ask, shell
//! asks, network to domains not on an allow-list asks, tools that are not built in ask unless they
//! declare themselves read-only (and come from a server the user trusts), and anything outside
//! the workspace is denied. Addresses are classed in [`network`], which `http.request` shares.

mod builtin;
mod code_files;
mod commands;
mod context;
mod decision;
mod document;
mod evaluate;
mod judge;
mod load;
pub mod network;
mod path;
mod pattern;
mod rate;
pub mod shell;
mod shell_network;
mod tool_reads;

pub use builtin::{BUILTIN_NAMES, DEFAULT_POLICY, builtin};
pub use context::{CallContext, RateState, ToolHints};
pub use decision::{Action, Decision};
pub use document::{
    ApprovalRules, Constraints, DEFAULT_APPROVAL_TIMEOUT_SECS, Defaults, NetworkRules, OutsidePath,
    Policy, RateLimits, ToolRule, ToolRules, WorkspaceRules,
};
pub use evaluate::evaluate;
pub use load::{LoadReport, PolicyError, is_plain_name, load_dir, load_file, parse_policy};
pub use path::{PathProblem, resolve_path};
pub use pattern::{domain_matches, tool_matches};
pub use rate::RateLedger;
