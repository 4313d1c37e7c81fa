//! The gateway's HTTP and WebSocket API against a real core, as one test binary (one link
//! instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod api;
mod approval_grants;
mod approvals;
mod context;
mod extensions;
mod guard;
mod limits;
mod mcp;
mod messages;
mod metrics;
mod model;
mod openai;
mod openai_escape;
mod openai_keys;
mod policy;
mod providers;
mod web;
mod ws;
mod ws_cursor;
mod ws_exact;
