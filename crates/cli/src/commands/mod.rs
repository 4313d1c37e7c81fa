//! One module per top-level subcommand.

pub mod config;
pub mod doctor;
pub mod secrets;
