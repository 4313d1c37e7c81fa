//! Tools the agent can call: the [`Tool`] trait, the built-in file, shell and HTTP tools, output
//! trimming and the process sandbox used by `shell.exec`.
//!
//! The policy engine decides whether a call may run; the tools still defend themselves: paths
//! are confined to the workspace, commands run with a cleared environment in their own process
//! group (and under Landlock on Linux), HTTP refuses private addresses the policy did not list.

mod beneath;
mod error;
pub mod fs;
pub mod http;
pub mod path;
pub mod process;
mod registry;
pub mod sandbox;
pub mod shell;
mod tool;
pub mod trim;

use std::sync::Arc;

pub use beneath::{read_beneath, write_new_beneath};
pub use error::ToolError;
pub use registry::{RegistryError, ToolRegistry};
pub use sandbox::{
    Assume, LandlockStatus, LandlockSupport, NamespaceStatus, Network, containment_gap,
    landlock_status, namespace_status, sandbox_exec_main,
};
pub use tool::{
    DEFAULT_ALLOWED_ENV, HttpPolicy, Limits, SandboxLauncher, Tool, ToolContext, ToolDefinition,
    ToolOutput,
};
pub use trim::trim_output;

/// The built-in tools, in name order.
pub fn builtins() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(fs::FsEdit),
        Arc::new(fs::FsList),
        Arc::new(fs::FsRead),
        Arc::new(fs::FsSearch),
        Arc::new(fs::FsWrite),
        Arc::new(http::HttpRequest::default()),
        Arc::new(shell::ShellExec),
    ]
}
