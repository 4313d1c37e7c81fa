//! Model provider clients for Pryx: one provider-neutral conversation model, one [`Provider`]
//! trait, and hand-written streaming clients for OpenAI-compatible Chat Completions and
//! Anthropic Messages, with retries, timeouts, cancellation and a circuit breaker.

pub mod client;
pub mod error;
pub mod event;
pub mod http_error;
pub mod provider;
pub mod resilience;
pub mod sse;
pub mod tool_names;
pub mod types;
pub mod wire;

pub use client::Client;
pub use error::{LlmError, TimeoutPhase};
pub use event::{EventStream, ResponseCollector, StreamEvent, collect, collect_events};
pub use provider::{
    Provider, ProviderKind, ProviderSettings, SecretString, build_provider, build_provider_with,
};
pub use resilience::RetryPolicy;
pub use types::{
    AssistantPart, ChatRequest, ChatResponse, ImageData, Message, StopReason, ToolCall, ToolResult,
    ToolSpec, Usage, UserPart,
};
