//! Pryx's MCP client: servers from `mcp/servers.json` over stdio, streamable HTTP or the older
//! HTTP+SSE transport; their tools appear to the agent as `<server>.<tool>`.
//!
//! Start with [`McpManager::load`], then [`McpManager::tools`] for the agent's tool set.
//! Servers start lazily on first need, stdio ones are restarted with backoff after a crash,
//! and [`McpManager::shutdown`] ends every session.

pub mod callbacks;
mod command_line;
pub mod config;
mod connection;
mod error;
mod handler;
mod manager;
mod names;
pub mod oauth;
pub mod pins;
pub mod serve;
mod sign_in;
mod tool;
pub mod transport;

pub use callbacks::{
    ClientCallbacks, DefaultCallbacks, ElicitationAnswer, ElicitationRequest, Progress,
    SamplingMessage, SamplingRequest, SamplingResponse,
};
pub use command_line::split_command;
pub use config::{AuthConfig, ConfigProblem, ServerConfig, ServersFile, TransportKind};
pub use connection::{ServerConnection, ServerStatus};
pub use error::McpError;
pub use handler::{PryxClientHandler, client_info};
pub use manager::{McpManager, McpOptions, forget_server};
pub use pins::ToolsChanged;
pub use sign_in::sign_in;
pub use tool::{McpTool, canonical_name, render_result};

/// The rmcp crate, for hosts that need its model types (resources, prompts).
pub use rmcp;
