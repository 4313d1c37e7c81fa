//! Test helpers for Pryx: a scripted LLM server speaking the OpenAI Chat Completions and
//! Anthropic Messages streaming formats, with failure modes and request recording; and the
//! report of sandbox assertions a machine cannot make.

mod render;
mod script;
mod server;
mod skip;

pub use script::{Failure, ScriptFile, ScriptedToolCall, ScriptedUsage, Turn};
pub use server::{RecordedRequest, ScriptedLlm};
pub use skip::{REQUIRE_SANDBOX_ENV, skip_sandbox_assertion};
