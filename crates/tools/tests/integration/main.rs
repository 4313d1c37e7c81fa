//! The built-in tools and their containment on a real filesystem and real processes, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod background;
mod containment;
mod fs_tools;
mod http;
mod registry;
mod sandbox;
mod sandbox_modes;
mod shell;
