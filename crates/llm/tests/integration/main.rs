//! Provider clients and parsers against scripted servers, aimock and fuzzed input, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod aimock;
mod client_limits;
mod client_resilience;
mod client_scripted;
mod parser_anthropic;
mod parser_fuzz;
mod parser_openai;
mod sse_fuzz;
