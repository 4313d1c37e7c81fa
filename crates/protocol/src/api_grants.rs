//! Standing approvals (`GET /approvals/grants`, `DELETE /approvals/grants/{id}`): what an
//! approval answered `session` or `always` left behind, so the same exact call runs without
//! asking again while it holds.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How long a standing grant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum GrantScope {
    /// For the rest of one session.
    Session,
    /// Across sessions until it expires (or is revoked).
    Always,
}

impl GrantScope {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantScope::Session => "session",
            GrantScope::Always => "always",
        }
    }
}

/// One standing grant. It lets exactly one call run without asking: the same tool with the same
/// arguments (`fingerprint`), in the same workspace, under the same policy (`policy_hash`
/// identifies its exact content, so an edited or different policy asks again), and for a
/// `session` grant only in that session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GrantView {
    pub id: String,
    pub tool: String,
    pub scope: GrantScope,
    /// The session a `session` grant belongs to.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Canonical path of the workspace it holds in.
    pub workspace: String,
    /// The name of the policy it was given under.
    pub policy: String,
    /// SHA-256 of that policy's content.
    pub policy_hash: String,
    /// SHA-256 over the tool name and the canonical arguments of the exact call.
    pub fingerprint: String,
    /// The call's arguments, known secret values replaced by `‹secret:NAME›`.
    pub arguments: serde_json::Value,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// `None`: holds until revoked (or its session ends).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// When it last let a call run without asking.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// How many calls it let run without asking.
    pub uses: u64,
    /// Past `expires_at`: no longer used; listed until revoked.
    pub expired: bool,
}

/// `GET /approvals/grants`: every stored grant, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GrantList {
    pub grants: Vec<GrantView>,
}
