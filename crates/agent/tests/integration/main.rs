//! The agent loop against the scripted model and real stores, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod approval_integrity;
mod context;
mod cost_table;
mod fallback_budget;
mod mcp_pins;
mod turn;
