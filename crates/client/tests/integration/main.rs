//! pryx-client against a real gateway, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod events;
mod rest;
