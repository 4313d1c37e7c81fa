//! Test helpers for Pryx: a scripted LLM server speaking the OpenAI Chat Completions and
//! Anthropic Messages streaming formats, with failure modes and request recording; bus events
//! built from the protocol types; and the report of sandbox assertions a machine cannot make.
//!
//! Features: `core` adds a real core and API server on temp dirs ([`core_rig`]); `telegram`
//! adds a Telegram Bot API emulator with the real API's update semantics and injectable
//! faults (`telegram`, run on the npm `telegram-test-api` from `testdeps/`).

#[cfg(feature = "core")]
pub mod core_rig;
pub mod events;
mod procs;
mod render;
mod script;
mod server;
mod skip;
pub mod tasks;
#[cfg(feature = "telegram")]
pub mod telegram;

pub use procs::live_process_with_arg;
pub use script::{Failure, ScriptFile, ScriptedToolCall, ScriptedUsage, Turn};
pub use server::{RecordedRequest, ScriptedLlm};
pub use skip::{REQUIRE_SANDBOX_ENV, skip_sandbox_assertion};
