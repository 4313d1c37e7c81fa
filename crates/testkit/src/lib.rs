//! Test helpers for Pryx: a scripted LLM server speaking the OpenAI Chat Completions and
//! Anthropic Messages streaming formats, with failure modes and request recording; bus events
//! built from the protocol types.

pub mod events;
mod render;
mod script;
mod server;

pub use script::{Failure, ScriptFile, ScriptedToolCall, ScriptedUsage, Turn};
pub use server::{RecordedRequest, ScriptedLlm};
