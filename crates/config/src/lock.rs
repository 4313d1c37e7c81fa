//! Exclusive, non-blocking lock files (one core per data directory, one writer of a store).

use crate::datadir::DataDir;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process (or another handle in this one) holds the lock.
    #[error("{} is locked by {}; stop that process or use another PRYX_HOME", path.display(), holder_text(*holder_pid))]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The holder's pid, if it recorded one.
        holder_pid: Option<u32>,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn holder_text(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("process {pid}"),
        None => "another process".to_string(),
    }
}

/// Holds the lock until dropped; the OS releases it too if the process dies.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
}

impl LockGuard {
    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Clear the recorded pid; the lock itself is released when the file closes.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Takes the lock `<data dir>/<name>.lock` without waiting.
pub fn try_lock(dir: &DataDir, name: &str) -> Result<LockGuard, LockError> {
    try_lock_path(&dir.lock_file(name))
}

/// Takes an exclusive lock on `path` without waiting and records our pid in it.
pub fn try_lock_path(path: &Path) -> Result<LockGuard, LockError> {
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held {
                path: path.to_path_buf(),
                holder_pid: text.trim().parse().ok(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(LockGuard {
        file,
        path: path.to_path_buf(),
    })
}

/// Takes an exclusive lock on `path`, waiting for the holder (short critical sections only).
pub(crate) fn lock_blocking(path: &Path) -> Result<LockGuard, LockError> {
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.lock().map_err(io)?;
    Ok(LockGuard {
        file,
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_naming_the_holder_and_release_allows_relock() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        let guard = try_lock(&dir, "core").unwrap();
        let err = try_lock(&dir, "core").unwrap_err();
        match &err {
            LockError::Held { holder_pid, .. } => assert_eq!(*holder_pid, Some(std::process::id())),
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            err.to_string()
                .contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(guard);
        let again = try_lock(&dir, "core").unwrap();
        assert_eq!(again.path(), dir.lock_file("core"));
    }

    #[test]
    fn different_names_do_not_contend() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        let _a = try_lock(&dir, "a").unwrap();
        let _b = try_lock(&dir, "b").unwrap();
    }
}
