//! Updates as the surfaces see them (`GET /update`, `POST /update/seen`): this version, a newer
//! release a background check found, and the last update or rollback, shown once on every
//! surface ("what's new", or the rollback and its reason).

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How an update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpdateOutcome {
    /// The new binary is in place (and its core, when one ran, came up ready).
    Installed,
    /// The new binary failed to start; the previous one was put back.
    RolledBack,
    /// Refused or failed before anything changed.
    Failed,
}

/// One update, as `update/history.jsonl` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateRecord {
    /// RFC 3339 UTC.
    pub at: String,
    pub from: String,
    pub to: String,
    pub channel: String,
    pub outcome: UpdateOutcome,
    /// Why it was rolled back or failed; empty otherwise.
    #[serde(default)]
    pub detail: String,
    /// The release notes ("what's new").
    #[serde(default)]
    pub notes: String,
}

/// `GET /update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateStatus {
    /// The running core's version.
    pub version: String,
    pub channel: String,
    /// Whether the core checks for releases by itself (config `updates.auto_check`).
    pub auto_check: bool,
    /// A newer version a background check found; `pryx update` installs it.
    #[serde(default)]
    pub available: Option<String>,
    /// The last update, rollback or refusal.
    #[serde(default)]
    pub last: Option<UpdateRecord>,
    /// `last` is an update or rollback no surface has shown yet: show it once, then
    /// `POST /update/seen`.
    pub unseen: bool,
}
