//! "Would this be allowed?" (`POST /policy/check`, the dashboard's Policies page): a tool call
//! judged by the real policy engine, as a turn of that agent would judge it, without running it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What the policy decides for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PolicyAction {
    Allow,
    Ask,
    Deny,
}

/// `POST /policy/check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyCheckRequest {
    /// A tool name as the model calls it (`fs.read`, `shell.exec`, `server.tool`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub tool: String,
    /// The call's arguments: a JSON object.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub arguments: Value,
    /// Judge under this policy instead of the agent's (a built-in mode or a file's name).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub policy: Option<String>,
    /// Whose workspace and tools (default: the main agent).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub agent: Option<String>,
}

/// The decision and the rule that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PolicyCheck {
    pub action: PolicyAction,
    /// The deciding rule, e.g. `workspace-only: path outside workspace`.
    pub rule: String,
    /// One sentence for the user.
    pub reason: String,
    /// Facts the engine found (`attempted_path`, `resolved_path`, `command`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Value,
    /// The policy that judged.
    pub policy: String,
    /// The workspace the call was judged in.
    pub workspace: String,
}

/// A policy as `GET /policies` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PolicyView {
    pub name: String,
    /// Compiled into Pryx (not editable; save a copy under another name).
    pub builtin: bool,
    /// Its file in the data directory's `policies/`; absent for a built-in.
    #[serde(default)]
    pub file: Option<String>,
    /// Its YAML (a built-in's as it would be written to a file).
    pub yaml: String,
    /// New sessions use it (`defaults.policy`).
    pub default: bool,
    /// The agents that name it.
    pub agents: Vec<String>,
}

/// `GET /policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PolicyList {
    pub policies: Vec<PolicyView>,
    /// Files of `policies/` that could not be used, with why.
    pub problems: Vec<String>,
}

/// `PUT /policies/{name}`: a policy file's whole text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyWrite {
    /// YAML that names itself `name: <the path's name>`.
    #[cfg_attr(feature = "openapi", schema(max_length = 262144))]
    pub yaml: String,
}
