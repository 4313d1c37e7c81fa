//! Telemetry export as the surfaces see it (`GET /telemetry`, `PUT /telemetry`): whether
//! anything leaves the machine, where to, how much, and how the export is going.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How much telemetry is exported. No tier ever exports prompts, messages, file contents or
/// user identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TelemetryTier {
    /// Metrics and error logs only.
    Minimal,
    /// Also spans of turns, model calls, tool calls and approval waits (names, durations,
    /// tokens, costs, error codes) and warning logs.
    #[default]
    Standard,
    /// Also redacted tool arguments and error messages, and info logs; switches itself back
    /// to `standard` an hour after the core first sees it.
    Debug,
}

impl TelemetryTier {
    pub const ALL: [TelemetryTier; 3] = [
        TelemetryTier::Minimal,
        TelemetryTier::Standard,
        TelemetryTier::Debug,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TelemetryTier::Minimal => "minimal",
            TelemetryTier::Standard => "standard",
            TelemetryTier::Debug => "debug",
        }
    }
}

/// Counts of what was sent since the core started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExportCounts {
    pub spans: u64,
    pub logs: u64,
    /// Metric collections sent (each carries every metric).
    pub metric_exports: u64,
    /// Spans and log records dropped because the queue was full or the collector failed.
    pub dropped: u64,
    /// Export requests that failed.
    pub failures: u64,
}

/// One span as it would be exported: its name and every attribute, after redaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExportSample {
    pub name: String,
    /// `turn`, `model_call`, `tool_call` or `approval_wait`.
    pub kind: String,
    pub duration_ms: u64,
    pub attributes: BTreeMap<String, String>,
}

/// `GET /telemetry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TelemetryStatus {
    /// Whether anything is exported now.
    pub enabled: bool,
    /// The OTLP/HTTP endpoint (its base; `/v1/traces`, `/v1/metrics`, `/v1/logs` are added).
    pub endpoint: Option<String>,
    pub tier: TelemetryTier,
    pub sampling_ratio: f64,
    /// Header names sent to the collector (values are secrets and never shown).
    pub headers: Vec<String>,
    /// When the debug tier switches itself back to standard (RFC 3339).
    pub debug_ends_at: Option<String>,
    pub counts: ExportCounts,
    /// RFC 3339 time of the last export that succeeded.
    pub last_export_at: Option<String>,
    /// Why the last export failed, if the last one did.
    pub last_error: Option<String>,
    /// Why export is off although the config enables it (e.g. a header secret is missing).
    pub problem: Option<String>,
    /// The latest turn's spans as the current tier would send them.
    pub sample: Vec<ExportSample>,
}

/// `PUT /telemetry`: turns export on or off (an audited change of `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PutTelemetry {
    pub enabled: bool,
    /// Required to enable when the config names none.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub tier: Option<TelemetryTier>,
}
