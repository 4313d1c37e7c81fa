//! The core with its runtime and its task clock, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod clock;
mod heartbeat;
mod store_off_runtime;
mod tasks_clock;
