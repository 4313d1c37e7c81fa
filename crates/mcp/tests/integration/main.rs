//! The MCP client against the reference servers and a hostile one, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod hostile;
mod http_everything;
mod stdio_everything;
