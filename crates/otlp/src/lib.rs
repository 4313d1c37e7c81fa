//! Opt-in export of what Pryx does to an OpenTelemetry collector the user names (OTLP over
//! HTTP, protobuf): spans of turns, model calls, tool calls and approval waits with GenAI
//! attributes, the metrics `/metrics` serves, and warning/error logs. Off by default, and off
//! means no connection at all. Everything sent passes one redaction ([`redaction::scrub`]);
//! prompts, messages, results and file contents are never read for export.

mod exporter;
mod logs;
mod metrics;
pub mod redaction;
mod settings;
mod span_map;
mod worker;

pub use exporter::{ExportState, Exporter, QUEUE, sample};
pub use logs::OtlpLogLayer;
pub use settings::{Settings, sampled};
