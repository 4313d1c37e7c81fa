//! Replacing the installed binary in place. The path always holds a whole binary: the old one
//! is hard-linked to `pryx.previous` first, then the new one renamed over it (one atomic
//! rename), and a rollback renames `pryx.previous` back.

use crate::UpdateError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The kept old binary is the installed path with this suffix.
pub const PREVIOUS_SUFFIX: &str = ".previous";

/// An installed `pryx` binary.
#[derive(Debug, Clone)]
pub struct Binary {
    pub path: PathBuf,
}

impl Binary {
    /// The binary this process runs from.
    pub fn current() -> Result<Self, UpdateError> {
        let exe = std::env::current_exe()
            .map_err(|e| UpdateError::io("cannot find", Path::new("the running binary"), e))?;
        let path = exe
            .canonicalize()
            .map_err(|e| UpdateError::io("cannot resolve", &exe, e))?;
        Ok(Self { path })
    }

    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn previous(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(PREVIOUS_SUFFIX);
        PathBuf::from(name)
    }

    fn staged(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".new-{}", std::process::id()));
        PathBuf::from(name)
    }

    /// Writes `bytes` beside the binary (same file system, so the swap is a rename), executable
    /// and synced.
    pub fn stage(&self, bytes: &[u8]) -> Result<PathBuf, UpdateError> {
        use std::io::Write;
        let staged = self.staged();
        // A file (or a link planted) at that name is removed, and the new one made exclusively:
        // nothing is written through a link.
        let _ = std::fs::remove_file(&staged);
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o755);
            let mut file = options.open(&staged)?;
            file.write_all(bytes)?;
            file.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&staged);
            UpdateError::io("cannot write the new binary to", &staged, e)
        })?;
        Ok(staged)
    }

    /// Puts `staged` in place, keeping the current binary as `pryx.previous`.
    pub fn install(&self, staged: &Path) -> Result<(), UpdateError> {
        let previous = self.previous();
        match std::fs::remove_file(&previous) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(UpdateError::io("cannot remove the old", &previous, e)),
        }
        if std::fs::hard_link(&self.path, &previous).is_err() {
            std::fs::copy(&self.path, &previous)
                .map_err(|e| UpdateError::io("cannot keep the current binary as", &previous, e))?;
        }
        std::fs::rename(staged, &self.path)
            .map_err(|e| UpdateError::io("cannot put the new binary at", &self.path, e))?;
        self.sync_dir();
        Ok(())
    }

    /// Puts `pryx.previous` back; false when there is none.
    pub fn restore_previous(&self) -> Result<bool, UpdateError> {
        let previous = self.previous();
        if !previous.exists() {
            return Ok(false);
        }
        std::fs::rename(&previous, &self.path)
            .map_err(|e| UpdateError::io("cannot restore the previous binary to", &self.path, e))?;
        self.sync_dir();
        Ok(true)
    }

    /// Removes a staged file left by an interrupted update.
    pub fn discard(&self, staged: &Path) {
        let _ = std::fs::remove_file(staged);
    }

    fn sync_dir(&self) {
        if let Some(dir) = self.path.parent()
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
    }
}

/// Runs `<binary> --version` (ten seconds at most): what it prints, or why it is not a
/// working Pryx binary for this machine.
pub fn smoke_test(binary: &Path) -> Result<String, String> {
    let mut child = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("it does not start: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut out = String::new();
                if let Some(mut stdout) = child.stdout.take() {
                    let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
                }
                return if status.success() && out.starts_with("pryx ") {
                    Ok(out.trim().to_string())
                } else {
                    Err(format!("`--version` ended with {status}"))
                };
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("`--version` did not answer within 10 s".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_keeps_the_old_and_restore_puts_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pryx");
        std::fs::write(&path, b"old").unwrap();
        let binary = Binary::at(&path);
        let staged = binary.stage(b"new").unwrap();
        binary.install(&staged).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read(binary.previous()).unwrap(), b"old");
        assert!(!staged.exists());
        assert!(binary.restore_previous().unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!binary.restore_previous().unwrap());
    }

    #[test]
    fn smoke_test_needs_a_pryx_version_line() {
        assert!(smoke_test(Path::new("/nonexistent/pryx")).is_err());
        assert!(smoke_test(Path::new("/bin/false")).is_err());
    }
}
