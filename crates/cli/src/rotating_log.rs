//! The core's log file, `logs/core.log`, kept bounded: past [`MAX_BYTES`] it becomes
//! `core.log.1` (the older ones shift up) and a new one starts; at most [`KEEP`] old files stay,
//! and none older than [`MAX_AGE`]. Files are the owner's only (0600). Written here rather than
//! with a rolling-file crate: those roll by time or leave the mode to the umask, and this one
//! must rotate by size, mid-line never (each write is one formatted event).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A log file grows to this before it is rotated.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Rotated files kept (`core.log.1` … `core.log.5`).
pub const KEEP: u32 = 5;
/// Rotated files older than this are removed.
pub const MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    file: File,
    size: u64,
}

/// `core.log.N`.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

impl RotatingFile {
    pub fn open(path: &Path) -> io::Result<RotatingFile> {
        Self::with_limit(path, MAX_BYTES)
    }

    pub fn with_limit(path: &Path, max_bytes: u64) -> io::Result<RotatingFile> {
        prune_old(path);
        let file = open(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            max_bytes,
            file,
            size,
        })
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let _ = std::fs::remove_file(rotated(&self.path, KEEP));
        for n in (1..KEEP).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = open(&self.path)?;
        self.size = 0;
        prune_old(&self.path);
        Ok(())
    }
}

/// Removes rotated files past [`MAX_AGE`].
fn prune_old(path: &Path) {
    let now = SystemTime::now();
    for n in 1..=KEEP {
        let p = rotated(path, n);
        let old = std::fs::metadata(&p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > MAX_AGE));
        if old {
            let _ = std::fs::remove_file(&p);
        }
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max_bytes {
            // A failed rotation keeps logging to the current file rather than losing lines.
            if let Err(e) = self.rotate() {
                let _ = writeln!(
                    self.file,
                    "{{\"level\":\"WARN\",\"fields\":{{\"message\":\"cannot rotate the log file: {e}\"}}}}"
                );
            }
        }
        self.file.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn rotates_by_size_keeps_five_and_never_splits_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("core.log");
        let mut f = RotatingFile::with_limit(&path, 100).unwrap();
        for i in 0..40 {
            f.write_all(format!("line {i:02} of the log, padded out\n").as_bytes())
                .unwrap();
        }
        f.flush().unwrap();
        let mut files = vec![path.clone()];
        files.extend((1..=KEEP).map(|n| rotated(&path, n)));
        for p in &files {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(text.len() <= 100, "{} is {} bytes", p.display(), text.len());
            assert!(text.lines().all(|l| l.starts_with("line ")), "{text}");
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        assert!(!rotated(&path, KEEP + 1).exists());
        // The newest lines are in core.log, the ones before in core.log.1.
        assert!(std::fs::read_to_string(&path).unwrap().contains("line 39"));
        let before = std::fs::read_to_string(rotated(&path, 1)).unwrap();
        assert!(before.contains("line 3"), "{before}");
    }
}
