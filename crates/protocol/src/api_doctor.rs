//! `pryx doctor`'s checks as data (`pryx doctor --json`, `GET /doctor`, the dashboard's
//! Diagnostics page): one line per check, with the fix when something needs doing.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How a check came out; only `fail` makes `pryx doctor` exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DoctorStatus {
    Ok,
    Warn,
    Fail,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DoctorCheck {
    /// Stable identifier (`config`, `database`, `sandbox`, ...).
    pub name: String,
    pub status: DoctorStatus,
    /// What was found.
    pub message: String,
    /// What to do about it; absent when nothing needs doing.
    #[serde(default)]
    pub hint: Option<String>,
}

/// `GET /doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DoctorReport {
    pub checks: Vec<DoctorCheck>,
    /// How long the checks took.
    pub took_ms: u64,
}
