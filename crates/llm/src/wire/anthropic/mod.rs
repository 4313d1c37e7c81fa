//! Anthropic Messages.

mod encode;
mod parse;

pub use encode::{ANTHROPIC_VERSION, request_body};
pub use parse::{AnthropicParser, stop_reason};

/// Endpoint for `https://api.anthropic.com/v1` or `https://api.anthropic.com`.
pub fn endpoint(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}
