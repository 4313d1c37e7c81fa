//! One module per top-level subcommand.

pub mod agents;
pub mod api_keys;
pub mod approvals;
pub mod audit;
mod backend;
pub mod channels;
pub mod config;
pub mod costs;
pub mod dashboard;
pub mod doctor;
pub mod logs;
pub mod mcp;
pub mod models;
mod models_probe;
pub mod run;
pub mod secrets;
pub mod serve;
pub mod service;
pub mod sessions;
pub mod skills;
pub mod tasks;
pub mod trace;
pub mod tui;
pub mod uninstall;
pub mod update;
