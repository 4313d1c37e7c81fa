//! The data directory (`PRYX_HOME` or `~/.pryx`) and the paths of everything stored in it.

use crate::fsutil::{self, FsError};
use std::path::{Path, PathBuf};

/// Environment variable that overrides the data directory location.
pub const HOME_ENV: &str = "PRYX_HOME";

/// Errors while locating or creating the data directory.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Neither `PRYX_HOME` nor `HOME` is set, so there is nowhere to keep data.
    #[error("cannot find the data directory: set PRYX_HOME (or HOME) to a writable directory")]
    NoHome,
    /// Creating the directory tree failed.
    #[error(transparent)]
    Fs(#[from] FsError),
}

/// The root of everything Pryx keeps on disk. Cheap to clone; holds only the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Resolves the location from `PRYX_HOME` (or `~/.pryx`) and creates the layout (dirs 0700).
    pub fn open() -> Result<Self, DataDirError> {
        let dir = Self::locate()?;
        dir.ensure()?;
        Ok(dir)
    }

    /// Resolves the location without touching the disk (for `pryx config path`, doctor).
    pub fn locate() -> Result<Self, DataDirError> {
        let from_env = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty());
        let root = match from_env {
            Some(p) => PathBuf::from(p),
            None => {
                let home = std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .ok_or(DataDirError::NoHome)?;
                PathBuf::from(home).join(".pryx")
            }
        };
        Ok(Self::at(root))
    }

    /// Uses an explicit root (tests, embedding). Relative paths are made absolute.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let root = if root.is_absolute() {
            root
        } else {
            std::env::current_dir()
                .map(|cwd| cwd.join(&root))
                .unwrap_or(root)
        };
        Self { root }
    }

    /// Creates the root and the standard subdirectories with mode 0700 where missing.
    /// Existing directories keep their mode; `check_permissions` reports bad ones.
    pub fn ensure(&self) -> Result<(), FsError> {
        fsutil::create_private_dir(&self.root)?;
        for sub in [
            self.mcp_dir(),
            self.policies_dir(),
            self.skills_dir(),
            self.exports_dir(),
            self.logs_dir(),
        ] {
            fsutil::create_private_dir(&sub)?;
        }
        Ok(())
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// User preferences, validated strictly.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.json")
    }
    /// Runtime metadata of a running core (port, pid, version).
    pub fn metadata_file(&self) -> PathBuf {
        self.root.join("metadata.json")
    }
    /// The SQLite database.
    pub fn database_file(&self) -> PathBuf {
        self.root.join("pryx.db")
    }
    /// The head of the audit chain, kept outside the database so that cutting rows from the end
    /// of the log, or replacing the database, shows.
    pub fn audit_anchor_file(&self) -> PathBuf {
        self.root.join("audit.anchor")
    }
    /// MCP configuration directory.
    pub fn mcp_dir(&self) -> PathBuf {
        self.root.join("mcp")
    }
    /// MCP server definitions.
    pub fn mcp_servers_file(&self) -> PathBuf {
        self.mcp_dir().join("servers.json")
    }
    /// Policy documents (`*.yaml`).
    pub fn policies_dir(&self) -> PathBuf {
        self.root.join("policies")
    }
    /// Managed (user-installed) skills.
    pub fn skills_dir(&self) -> PathBuf {
        self.root.join("skills")
    }
    /// Exported sessions and reports.
    pub fn exports_dir(&self) -> PathBuf {
        self.root.join("exports")
    }
    /// Log files.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// Encrypted fallback secret store (used when no OS keychain answers).
    pub fn secrets_file(&self) -> PathBuf {
        self.root.join("secrets.enc")
    }
    /// Key of the encrypted secret store, kept in its own file.
    pub fn secrets_key_file(&self) -> PathBuf {
        self.root.join("secrets.key")
    }
    /// Names (never values) of stored secrets, since keychains cannot list.
    pub fn secrets_index_file(&self) -> PathBuf {
        self.root.join("secrets.index.json")
    }
    /// Path of a named lock file, e.g. `lock_file("core")` → `core.lock`.
    pub fn lock_file(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn ensure_creates_private_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path().join("home"));
        dir.ensure().unwrap();
        for p in [
            dir.root().to_path_buf(),
            dir.mcp_dir(),
            dir.logs_dir(),
            dir.skills_dir(),
        ] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", p.display());
        }
        assert_eq!(dir.config_file(), tmp.path().join("home/config.json"));
        assert_eq!(
            dir.mcp_servers_file(),
            tmp.path().join("home/mcp/servers.json")
        );
    }
}
