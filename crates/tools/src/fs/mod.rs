//! File tools: read, write, edit, list, search — all confined to the workspace: paths are
//! checked by [`crate::path::resolve`], then opened beneath a handle on the workspace directory
//! with no link followed ([`confined`]), so a path changed after the check cannot lead out.

mod confined;
mod diff;
mod edit;
mod list;
mod read;
mod search;
mod walk;
mod write;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use diff::unified_diff;
pub use edit::{FsEdit, preview_edit};
pub use list::FsList;
pub use read::FsRead;
pub use search::FsSearch;
pub use write::{FsWrite, preview_write};

use crate::ToolError;

/// Parses a tool's arguments object, naming the tool in the error.
pub(crate) fn parse_args<T: DeserializeOwned>(tool: &str, args: Value) -> Result<T, ToolError> {
    serde_json::from_value(args).map_err(|e| ToolError::invalid(tool, e.to_string()))
}

/// Binary when the first 8 KiB hold a NUL byte (the heuristic git and grep use).
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8192).any(|b| *b == 0)
}

/// Runs blocking file work off the async runtime.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ToolError::Internal(format!("file task failed: {e}")))?
}
