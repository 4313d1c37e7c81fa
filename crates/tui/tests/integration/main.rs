//! The TUI's screens, rendered and snapshotted, and its event loop, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod approval_view;
mod event_loop;
mod frame_probe;
mod integrations;
mod setup;
mod snapshots;
mod tasks;
