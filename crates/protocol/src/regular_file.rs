//! Reading a settings file (config, policy, skill, manifest) safely: only a regular file (or a
//! symlink to one) is opened, and never more than a cap is read. A FIFO would block the reader
//! forever and `/dev/zero` would fill memory; both are refused before any read.

use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// The cap for configuration, policy and manifest files: far above any real one, far below
/// what would hurt.
pub const SETTINGS_FILE_CAP: u64 = 4 * 1024 * 1024;

/// Why a settings file could not be read.
#[derive(Debug)]
pub enum FileReadError {
    /// The path exists but is not a regular file (a FIFO, a device, a socket, a directory).
    NotRegular { path: PathBuf, kind: &'static str },
    /// The file is larger than the cap for its kind.
    TooLarge { path: PathBuf, size: u64, cap: u64 },
    /// Opening or reading failed (including "not found"; see [`FileReadError::is_not_found`]).
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl FileReadError {
    /// The file does not exist (callers that treat a missing file as empty check this).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for FileReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileReadError::NotRegular { path, kind } => write!(
                f,
                "{} is a {kind}, not a regular file; replace it with a regular file (or a symlink to one)",
                path.display()
            ),
            FileReadError::TooLarge { path, size, cap } => write!(
                f,
                "{} is too large ({} bytes; the limit is {} bytes); shorten it or point the path at the right file",
                path.display(),
                size,
                cap
            ),
            FileReadError::Io { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for FileReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileReadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What a non-regular file is, for the message.
fn kind_of(file_type: fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "directory"
    } else if file_type.is_fifo() {
        "FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// Reads `path` whole if it is a regular file (symlinks followed) of at most `cap` bytes.
///
/// The type is checked before opening, so a FIFO is never opened (opening one blocks until a
/// writer appears), and again on the opened file, so a swap in between is caught too. The read
/// itself stops after `cap + 1` bytes, whatever the size claimed.
pub fn read_regular_file(path: &Path, cap: u64) -> Result<Vec<u8>, FileReadError> {
    let io = |source| FileReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not_regular = |t: fs::FileType| FileReadError::NotRegular {
        path: path.to_path_buf(),
        kind: kind_of(t),
    };
    let too_large = |size| FileReadError::TooLarge {
        path: path.to_path_buf(),
        size,
        cap,
    };
    let meta = fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(meta.file_type()));
    }
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(meta.file_type()));
    }
    if meta.len() > cap {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pryx-regular-file-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_regular_file_and_a_symlink_to_one_are_read() {
        let dir = scratch("regular");
        let file = dir.join("config.json");
        fs::write(&file, b"{}").unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_regular_file(&file, 10).unwrap(), b"{}");
        assert_eq!(read_regular_file(&link, 10).unwrap(), b"{}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_fifo_is_refused_without_opening_it() {
        let dir = scratch("fifo");
        let fifo = dir.join("config.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening the FIFO would block this test forever; the error must come first.
        let err = read_regular_file(&fifo, 1024).unwrap_err();
        assert!(matches!(err, FileReadError::NotRegular { .. }), "{err:?}");
        assert!(err.to_string().contains("FIFO"), "{err}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_symlink_to_dev_zero_is_refused() {
        let dir = scratch("zero");
        let link = dir.join("SKILL.md");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = read_regular_file(&link, 1024).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_over_the_cap_is_refused_and_a_missing_one_is_named() {
        let dir = scratch("cap");
        let file = dir.join("big.json");
        fs::write(&file, vec![b' '; 11]).unwrap();
        let err = read_regular_file(&file, 10).unwrap_err();
        assert!(
            matches!(
                err,
                FileReadError::TooLarge {
                    size: 11,
                    cap: 10,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(read_regular_file(&file, 11).unwrap().len(), 11);
        let missing = read_regular_file(&dir.join("none"), 10).unwrap_err();
        assert!(missing.is_not_found(), "{missing:?}");
        assert!(!err.is_not_found());
        fs::remove_dir_all(dir).unwrap();
    }
}
