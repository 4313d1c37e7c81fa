//! File tools: read, write, edit, list, search — all confined to the workspace.

mod diff;
mod edit;
mod list;
mod read;
mod search;
mod write;

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

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

/// Opens a regular file for reading without following a final symlink (the path was resolved
/// already; this closes the window for a link swapped in afterwards) and without blocking on a
/// FIFO. Directories and special files are refused.
pub(crate) fn open_regular(abs: &Path, rel: &str) -> Result<std::fs::File, ToolError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nofollow() | rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(abs)
        .map_err(|e| ToolError::io(rel, &e))?;
    let meta = file.metadata().map_err(|e| ToolError::io(rel, &e))?;
    if meta.is_dir() {
        return Err(ToolError::Io {
            path: rel.to_owned(),
            message: "is a directory; use fs.list".into(),
        });
    }
    if !meta.is_file() {
        return Err(ToolError::Io {
            path: rel.to_owned(),
            message: "is not a regular file".into(),
        });
    }
    Ok(file)
}

/// Reads a whole text file of at most `max_bytes`.
pub(crate) fn read_text(abs: &Path, rel: &str, max_bytes: u64) -> Result<String, ToolError> {
    let file = open_regular(abs, rel)?;
    let meta = file.metadata().map_err(|e| ToolError::io(rel, &e))?;
    if meta.len() > max_bytes {
        return Err(ToolError::TooLarge {
            path: rel.to_owned(),
            size: meta.len(),
            limit: max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max_bytes + 1), &mut bytes)
        .map_err(|e| ToolError::io(rel, &e))?;
    if looks_binary(&bytes) {
        return Err(ToolError::BinaryFile {
            path: rel.to_owned(),
        });
    }
    String::from_utf8(bytes).map_err(|_| ToolError::BinaryFile {
        path: rel.to_owned(),
    })
}

pub(crate) fn nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// Writes `content` atomically: a temp file in the same directory renamed over the target.
/// Missing parent directories are created; an existing file keeps its permissions.
pub(crate) fn atomic_write(abs: &Path, rel: &str, content: &[u8]) -> Result<bool, ToolError> {
    let parent = abs.parent().ok_or_else(|| ToolError::Io {
        path: rel.to_owned(),
        message: "has no parent directory".into(),
    })?;
    std::fs::create_dir_all(parent).map_err(|e| ToolError::io(rel, &e))?;
    let existing = std::fs::symlink_metadata(abs).ok();
    if existing.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(ToolError::Io {
            path: rel.to_owned(),
            message: "is a directory".into(),
        });
    }
    let mode = existing
        .as_ref()
        .map_or(0o644, |m| m.permissions().mode() & 0o7777);
    let mut tmp = tempfile::Builder::new()
        .prefix(".pryx-write-")
        .tempfile_in(parent)
        .map_err(|e| ToolError::io(rel, &e))?;
    tmp.write_all(content)
        .and_then(|()| tmp.as_file().sync_all())
        .and_then(|()| {
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))
        })
        .map_err(|e| ToolError::io(rel, &e))?;
    tmp.persist(abs).map_err(|e| ToolError::io(rel, &e.error))?;
    Ok(existing.is_none())
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
