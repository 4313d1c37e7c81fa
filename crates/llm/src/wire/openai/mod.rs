//! OpenAI-compatible Chat Completions.

mod encode;
mod parse;

pub use encode::request_body;
pub use parse::{OpenAiParser, stop_reason};

/// Endpoint for a base URL such as `https://api.openai.com/v1`.
pub fn endpoint(base_url: &str) -> String {
    format!("{}/chat/completions", base_url.trim_end_matches('/'))
}
