//! The wire contract of Pryx: error codes and bodies, bus events and their payloads, the
//! conversation's messages. Pure data (serde), no I/O, so the
//! core, the server and every client share one definition.

mod error;
mod event;
mod event_payload;
pub mod message;
pub mod openai;
pub mod regular_file;

pub use error::{ErrorBody, ErrorCode, ErrorEnvelope};
#[cfg(feature = "openapi")]
pub use event::EventEnvelope;
pub use event::{EnvelopeType, Event, EventKind, Surface};
pub use event_payload::{
    ApprovalResolved, BudgetWarning, Delta, ErrorOccurred, ErrorStop, EventPayload, MessageStored,
    ModelFallback, NotRun, SpanKindWire, SpanStatusWire, SpanUpdate, ToolCompleted, ToolExecuting,
    ToolRequested, TraceEvent, TurnEnd, TurnStarted, TurnStop, Typing, UnknownEvent,
};
mod tool;
pub use api_context::{
    CompactionEstimate, ContextCompacted, ContextParts, ContextSource, ContextWarning, ForkRequest,
    PinnedView, ProcessList, ProcessMatched, ProcessView, PrunedKind, PrunedResult, SessionContext,
};
pub use tool::ToolKind;
pub mod api;
mod api_channels;
mod api_config;
mod api_context;
mod api_costs;
mod api_doctor;
mod api_extensions;
mod api_grants;
mod api_keys;
mod api_policy;
mod api_setup;
mod api_tasks;
mod api_telemetry;
mod api_update;
mod api_web;
pub mod safe_text;
pub mod strict_json;
mod whole;
pub mod ws;
