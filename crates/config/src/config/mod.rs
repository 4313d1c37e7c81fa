//! `config.json`: typed settings, strict validation that names the key and the fix, and
//! key-path access for the CLI.

mod channels;
mod document;
pub mod keys;
pub(crate) mod path;
pub(crate) mod schema;
pub(crate) mod secret_like;
mod types;

pub use channels::*;
pub use document::Edit;
pub use schema::{POLICY_PRESETS, PROVIDER_KINDS, Problem, is_name};
pub use secret_like::looks_like_secret;
pub use types::*;

use crate::fsutil::FsError;
use std::path::PathBuf;

/// Why the configuration could not be read or changed. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading or writing the file failed.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// The file is not valid JSON; it is left as it is for the user to fix.
    #[error("{} is not valid JSON (line {line}, column {column}): {message}; fix the file by hand (it was not changed)", file.display())]
    Syntax {
        /// The config file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The file parses but breaks the schema.
    #[error("{} is invalid:{}\nfix it with `pryx config set KEY VALUE` or by editing the file (it was not changed)", file.display(), list(problems))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// A `set`/`unset` would make the document invalid; nothing was written.
    #[error(
        "not saved: setting `{key}` would leave an invalid config:{}",
        list(problems)
    )]
    Rejected {
        /// The key being set.
        key: String,
        /// Every problem found in the resulting document.
        problems: Vec<Problem>,
    },
    /// The key path is malformed.
    #[error(
        "`{key}` is not a valid key path; use dotted keys like `telemetry.enabled` (quote keys containing dots: `models.overrides[\"a/b.c\"].context`)"
    )]
    BadKey {
        /// The key as given.
        key: String,
    },
    /// The key path does not exist in the schema.
    #[error("unknown config key `{key}`{hint}")]
    NoSuchKey {
        /// The key as given.
        key: String,
        /// "; did you mean ...?" or empty.
        hint: String,
    },
    /// The file changed since the revision the write was based on; nothing was written.
    #[error(
        "config.json changed elsewhere (revision {current}, this change was based on {base}); reload it and try again"
    )]
    Stale {
        /// The revision the change was based on.
        base: u64,
        /// The file's revision now.
        current: u64,
    },
    /// Serialising the document failed.
    #[error("cannot serialise the config: {0}")]
    Serialize(#[from] serde_json::Error),
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}
