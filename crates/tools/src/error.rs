//! Tool errors: recoverable ones go back to the model as the tool result, fatal ones end the turn.

use std::path::PathBuf;
use std::time::Duration;

/// Why a tool call did not produce a normal result.
///
/// Everything except [`ToolError::Cancelled`] and [`ToolError::Internal`] is *recoverable*: the
/// agent hands the message to the model, which can fix its arguments and try again.
/// [`ToolError::Cancelled`] is an outcome of its own (the user stopped the turn), not a failure.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("invalid arguments for {tool}: {message}")]
    InvalidArguments { tool: String, message: String },

    #[error("{path}: no such file or directory")]
    NotFound { path: String },

    #[error("{path} is outside the workspace; use a path inside {workspace}")]
    OutsideWorkspace { path: String, workspace: PathBuf },

    #[error("{path} is inside Pryx's data directory, which no tool may read or change")]
    Protected { path: String },

    #[error(
        "{path} has other hard links; Pryx will not write through a hard link because it may be a file outside the workspace"
    )]
    HardLinked { path: String },

    #[error("{path}: {message}")]
    Io { path: String, message: String },

    #[error("{path} looks like a binary file; only text files can be read or edited")]
    BinaryFile { path: String },

    #[error("{path} is {size} bytes, over the {limit}-byte limit; read a line range instead")]
    TooLarge { path: String, size: u64, limit: u64 },

    #[error("old_text not found in {path}; read the file and copy the exact text")]
    OldTextNotFound { path: String },

    #[error("old_text found {count} times in {path}; add context or set replace_all")]
    OldTextAmbiguous { path: String, count: usize },

    #[error("command timed out after {}s and was killed{}", after.as_secs_f64(), partial_suffix(output))]
    Timeout { after: Duration, output: String },

    #[error("request refused: {0}")]
    Refused(String),

    #[error("request failed: {0}")]
    Http(String),

    #[error("tool call cancelled")]
    Cancelled,

    #[error("internal error: {0}")]
    Internal(String),
}

fn partial_suffix(output: &str) -> String {
    if output.is_empty() {
        String::new()
    } else {
        format!("; output so far:\n{output}")
    }
}

impl ToolError {
    /// Fatal errors end the turn as failed; the rest (but cancellation) are returned to the
    /// model as the tool's result.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ToolError::Internal(_))
    }

    /// The call stopped because its turn was cancelled: the turn ends as cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ToolError::Cancelled)
    }

    pub(crate) fn invalid(tool: &str, message: impl Into<String>) -> Self {
        ToolError::InvalidArguments {
            tool: tool.to_owned(),
            message: message.into(),
        }
    }

    /// Maps an I/O error on `path` to the most helpful variant.
    pub(crate) fn io(path: &str, err: &std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::NotFound {
            ToolError::NotFound {
                path: path.to_owned(),
            }
        } else {
            ToolError::Io {
                path: path.to_owned(),
                message: err.to_string(),
            }
        }
    }

    /// Maps an error of an open beneath the workspace handle. The path was canonical when it
    /// was checked, so a link met while opening it (ELOOP) or a concurrent rename the kernel
    /// gave up on (EAGAIN) means the path changed in between.
    pub(crate) fn open(path: &str, err: &std::io::Error) -> Self {
        let changed = [rustix::io::Errno::LOOP, rustix::io::Errno::AGAIN]
            .iter()
            .any(|e| err.raw_os_error() == Some(e.raw_os_error()));
        if changed {
            ToolError::Io {
                path: path.to_owned(),
                message: "changed while it was being opened (a symbolic link appeared in the path, \
                          and file tools never follow one that was not there when the path was checked); \
                          check the path and try again"
                    .into(),
            }
        } else {
            Self::io(path, err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_internal_is_fatal_and_cancel_is_its_own_outcome() {
        assert!(!ToolError::Cancelled.is_fatal());
        assert!(ToolError::Cancelled.is_cancelled());
        assert!(!ToolError::Internal("x".into()).is_cancelled());
        assert!(ToolError::Internal("x".into()).is_fatal());
        assert!(!ToolError::OldTextNotFound { path: "a".into() }.is_fatal());
        assert!(
            !ToolError::Timeout {
                after: Duration::from_secs(1),
                output: String::new()
            }
            .is_fatal()
        );
    }

    #[test]
    fn messages_name_the_fix() {
        let e = ToolError::OldTextAmbiguous {
            path: "src/a.rs".into(),
            count: 3,
        };
        assert_eq!(
            e.to_string(),
            "old_text found 3 times in src/a.rs; add context or set replace_all"
        );
        let t = ToolError::Timeout {
            after: Duration::from_millis(1500),
            output: "partial".into(),
        };
        assert!(t.to_string().contains("1.5s"));
        assert!(t.to_string().ends_with("partial"));
    }
}
