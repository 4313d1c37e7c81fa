//! Private directories and atomic, private (0600) file writes shared by everything in the data dir.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use pryx_protocol::regular_file::{FileReadError, SETTINGS_FILE_CAP, read_regular_file};

/// A file-system operation failed; names the path and the operation.
#[derive(Debug, thiserror::Error)]
#[error("cannot {op} {}: {source}", path.display())]
pub struct FsError {
    /// What was attempted ("create directory", "write", ...).
    pub op: &'static str,
    /// The path involved.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

impl FsError {
    pub(crate) fn new(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Creates `path` (and parents) with mode 0700 if it does not exist yet.
pub fn create_private_dir(path: &Path) -> Result<(), FsError> {
    if path.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| FsError::new("create directory", path, e))?;
    // The umask may have narrowed the mode; make it exact.
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(|e| FsError::new("set permissions of", path, e))
}

/// Writes `bytes` to `path` atomically with mode 0600: a temp file in the same directory is
/// written, fsynced and renamed over the target, so readers see the old or the new content, never
/// a torn file.
///
/// When `path` is a symlink, its target is replaced instead of the link, so a config file kept
/// elsewhere (a dotfiles repository) stays linked.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let resolved;
    let path = if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        resolved = fs::canonicalize(path).map_err(|e| FsError::new("follow the link", path, e))?;
        resolved.as_path()
    } else {
        path
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut nonce = [0u8; 6];
    getrandom::fill(&mut nonce)
        .map_err(|e| FsError::new("write", path, std::io::Error::other(e.to_string())))?;
    let suffix: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".{name}.{}.{suffix}.tmp", std::process::id()));
    let result = write_then_rename(&tmp, path, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // Persist the rename itself.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(|e| FsError::new("create temporary file", tmp, e))?;
    file.write_all(bytes)
        .map_err(|e| FsError::new("write", tmp, e))?;
    file.sync_all().map_err(|e| FsError::new("sync", tmp, e))?;
    drop(file);
    fs::rename(tmp, path).map_err(|e| FsError::new("replace", path, e))
}

/// Reads a file, mapping "not found" to `None`. Only a regular file (or a symlink to one) of at
/// most [`SETTINGS_FILE_CAP`] bytes is read: a FIFO or a device fails at once.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, FsError> {
    match read_regular_file(path, SETTINGS_FILE_CAP) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(FileReadError::Io { source, .. }) => Err(FsError::new("read", path, source)),
        Err(e) => Err(FsError::new(
            "read",
            path,
            std::io::Error::other(e.to_string()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_with_private_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.json");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        atomic_write(&path, b"new content").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new content");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // No temp files left behind.
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn atomic_write_through_a_symlink_replaces_the_target_and_keeps_the_link() {
        let tmp = tempfile::tempdir().unwrap();
        let dotfiles = tmp.path().join("dotfiles");
        fs::create_dir(&dotfiles).unwrap();
        let target = dotfiles.join("pryx.json");
        fs::write(&target, b"old").unwrap();
        let link = tmp.path().join("config.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        atomic_write(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(
            fs::read_dir(&dotfiles).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn read_optional_refuses_a_fifo_and_dev_zero_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("config.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = read_optional(&fifo).unwrap_err().to_string();
        assert!(
            err.contains("FIFO") && err.contains("not a regular file"),
            "{err}"
        );
        let zero = tmp.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read_optional(&zero).unwrap_err().to_string();
        assert!(err.contains("character device"), "{err}");
    }

    #[test]
    fn atomic_write_failure_leaves_target_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let missing_dir = tmp.path().join("nope/f.json");
        let err = atomic_write(&missing_dir, b"x").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        assert!(!missing_dir.exists());
    }

    #[test]
    fn private_dir_is_0700() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("a/b");
        create_private_dir(&d).unwrap();
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
