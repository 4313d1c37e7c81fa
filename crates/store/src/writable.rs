//! Can the database be written here, and if not, why: a read-only file system or missing
//! permissions. Asked with `access(2)`, which creates and changes nothing, so that "cannot write"
//! is never mistaken for "damaged".

use std::path::{Path, PathBuf};

use rustix::fs::Access;
use rustix::io::Errno;

/// Why a path cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteBlock {
    /// The file system is mounted read-only.
    ReadOnlyFileSystem,
    /// The user lacks write permission (owner, mode, or an immutable attribute).
    PermissionDenied,
}

impl WriteBlock {
    /// Why `path` cannot be written by this process; `None` when it can, or when it does not
    /// exist (then its directory decides).
    pub fn of(path: &Path) -> Option<WriteBlock> {
        match rustix::fs::access(path, Access::WRITE_OK) {
            Err(Errno::ROFS) => Some(WriteBlock::ReadOnlyFileSystem),
            Err(Errno::ACCESS | Errno::PERM) => Some(WriteBlock::PermissionDenied),
            _ => None,
        }
    }

    /// What to do about it, for a message that already names the path.
    pub fn fix(self) -> &'static str {
        match self {
            WriteBlock::ReadOnlyFileSystem => {
                "remount that file system read-write, or point PRYX_HOME at a writable directory"
            }
            WriteBlock::PermissionDenied => {
                "give your user write access to the data directory and its files (`chown`/`chmod u+w`), or point PRYX_HOME at a directory you own"
            }
        }
    }
}

impl std::fmt::Display for WriteBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WriteBlock::ReadOnlyFileSystem => "read-only file system",
            WriteBlock::PermissionDenied => "permission denied",
        })
    }
}

/// The first of the database file, its directory and its `-wal`/`-shm` files that this process
/// cannot write, with the reason. SQLite needs all of them writable to commit.
pub fn database_write_block(db: &Path) -> Option<(PathBuf, WriteBlock)> {
    let dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut candidates = vec![db.to_path_buf(), dir];
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        candidates.push(PathBuf::from(side));
    }
    candidates
        .into_iter()
        .find_map(|p| WriteBlock::of(&p).map(|why| (p, why)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_and_missing_paths_are_not_blocked() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("pryx.db");
        assert_eq!(
            database_write_block(&db),
            None,
            "missing file, writable dir"
        );
        std::fs::write(&db, b"").unwrap();
        assert_eq!(database_write_block(&db), None);
        assert_eq!(WriteBlock::of(&dir.path().join("nope/deeper")), None);
    }

    #[test]
    fn causes_read_as_the_os_names_them() {
        assert_eq!(
            WriteBlock::ReadOnlyFileSystem.to_string(),
            "read-only file system"
        );
        assert_eq!(
            WriteBlock::PermissionDenied.to_string(),
            "permission denied"
        );
        assert!(WriteBlock::ReadOnlyFileSystem.fix().contains("remount"));
        assert!(WriteBlock::PermissionDenied.fix().contains("PRYX_HOME"));
    }
}
