//! The SQLite store on real files: opening, durability, read-only data dirs, as one test binary (one link instead of one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod durability;
mod open;
mod read_only;
