//! Permission audit of the data directory, for `pryx doctor`.

use crate::datadir::DataDir;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One thing wrong with the data directory's permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionProblem {
    /// The offending file or directory.
    pub path: PathBuf,
    /// Its current mode (permission bits only).
    pub mode: u32,
    /// The mode it should have.
    pub expected: u32,
}

impl std::fmt::Display for PermissionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} has mode {:04o}, expected {:04o} (fix: chmod {:o} {})",
            self.path.display(),
            self.mode,
            self.expected,
            self.expected,
            self.path.display()
        )
    }
}

/// Walks the data directory and lists every directory not 0700 and every file readable or
/// writable by group or others. A missing data directory yields no problems.
pub fn check_permissions(dir: &DataDir) -> Vec<PermissionProblem> {
    let mut out = Vec::new();
    walk(dir.root(), 0, &mut out);
    out
}

fn walk(path: &Path, depth: usize, out: &mut Vec<PermissionProblem>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() {
        if mode & 0o777 != 0o700 {
            out.push(PermissionProblem {
                path: path.to_path_buf(),
                mode,
                expected: 0o700,
            });
        }
        if depth >= 8 {
            return;
        }
        let Ok(entries) = fs::read_dir(path) else {
            return;
        };
        let mut children: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        children.sort();
        for child in children {
            walk(&child, depth + 1, out);
        }
    } else if meta.is_file() && mode & 0o077 != 0 {
        out.push(PermissionProblem {
            path: path.to_path_buf(),
            mode,
            expected: 0o600,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_open_dir_and_world_readable_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path().join("home"));
        dir.ensure().unwrap();
        assert!(check_permissions(&dir).is_empty());

        fs::set_permissions(dir.root(), fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(dir.config_file(), "{}").unwrap();
        fs::set_permissions(dir.config_file(), fs::Permissions::from_mode(0o644)).unwrap();
        let problems = check_permissions(&dir);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].path, dir.root());
        assert_eq!(problems[0].mode, 0o777);
        assert!(problems[0].to_string().contains("mode 0777, expected 0700"));
        assert_eq!(problems[1].path, dir.config_file());
        assert_eq!(problems[1].expected, 0o600);
    }

    #[test]
    fn missing_dir_has_no_problems() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(check_permissions(&DataDir::at(tmp.path().join("absent"))).is_empty());
    }
}
