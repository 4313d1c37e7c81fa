//! What the updater remembers in the data dir's `update/`: the history of updates and
//! rollbacks (`history.jsonl`), a pending update whose new core has not proved itself yet
//! (`pending.json`, which counts its starts), and which history entry every surface has shown.

use crate::UpdateError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use pryx_protocol::api::{UpdateOutcome, UpdateRecord, UpdateStatus};

/// An update whose new core has not been seen ready yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub from: String,
    pub to: String,
    pub channel: String,
    pub notes: String,
    /// Starts of the new core so far; the third failed one rolls back.
    pub starts: u32,
    /// The installed new binary (device, inode): a core running another file (reinstalled
    /// since, say) leaves this stale marker alone instead of counting against it.
    #[serde(default)]
    pub binary: Option<(u64, u64)>,
}

/// The (device, inode) of a file, to tell one binary from another at the same path.
pub fn file_id(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// A newer release a background check found (`update/available.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Available {
    pub version: String,
    pub channel: String,
    pub checked_at: String,
}

/// The `update/` directory of a data dir.
#[derive(Debug, Clone)]
pub struct State {
    dir: PathBuf,
}

/// Starts a pending update gets before a service-managed core rolls it back.
pub const MAX_STARTS: u32 = 3;

impl State {
    pub fn new(data_root: &Path) -> Self {
        Self {
            dir: data_root.join("update"),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The directory, private like the rest of the data dir.
    fn ensure(&self) -> Result<(), UpdateError> {
        pryx_config::create_private_dir(&self.dir).map_err(|e| {
            UpdateError::io(
                "cannot create",
                &self.dir,
                std::io::Error::other(e.to_string()),
            )
        })
    }

    /// Appends one entry (one line, synced).
    pub fn record(&self, entry: &UpdateRecord) -> Result<(), UpdateError> {
        self.ensure()?;
        let path = self.file("history.jsonl");
        let mut line = serde_json::to_vec(entry).map_err(|e| {
            UpdateError::io("cannot encode", &path, std::io::Error::other(e.to_string()))
        })?;
        line.push(b'\n');
        let mut append = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).read(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path)?;
            // A line torn by a crash is ended first, so it cannot swallow this one.
            let len = file.metadata()?.len();
            if len > 0 {
                use std::io::{Read, Seek, SeekFrom};
                let mut last = [0u8; 1];
                file.seek(SeekFrom::Start(len - 1))?;
                file.read_exact(&mut last)?;
                if last[0] != b'\n' {
                    line.insert(0, b'\n');
                }
            }
            file.write_all(&line)?;
            file.sync_all()
        };
        append().map_err(|e| UpdateError::io("cannot append to", &path, e))
    }

    /// Every entry, oldest first; unreadable lines (a torn last write) are skipped.
    pub fn history(&self) -> Vec<UpdateRecord> {
        std::fs::read_to_string(self.file("history.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    pub fn pending(&self) -> Option<Pending> {
        let bytes = std::fs::read(self.file("pending.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn set_pending(&self, pending: &Pending) -> Result<(), UpdateError> {
        self.write_json("pending.json", pending)
    }

    /// One JSON file of the directory, replaced atomically.
    fn write_json(&self, name: &str, value: &impl Serialize) -> Result<(), UpdateError> {
        self.ensure()?;
        let path = self.file(name);
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| {
            UpdateError::io("cannot encode", &path, std::io::Error::other(e.to_string()))
        })?;
        write_atomic(&path, &bytes)
    }

    pub fn clear_pending(&self) {
        let _ = std::fs::remove_file(self.file("pending.json"));
    }

    /// A release a background check found, if it is newer than this binary.
    pub fn newer_available(&self) -> Option<Available> {
        let bytes = std::fs::read(self.file("available.json")).ok()?;
        let available: Available = serde_json::from_slice(&bytes).ok()?;
        semver::Version::parse(&available.version)
            .is_ok_and(|v| v > crate::current_version())
            .then_some(available)
    }

    /// Remembers (or, with `None`, forgets) a newer release found by a background check.
    pub fn set_available(&self, available: Option<&Available>) -> Result<(), UpdateError> {
        match available {
            Some(available) => self.write_json("available.json", available),
            None => {
                let _ = std::fs::remove_file(self.file("available.json"));
                Ok(())
            }
        }
    }

    /// What surfaces show: this version, a newer release found, the last update and whether
    /// it is still to be shown.
    pub fn status(&self, channel: &str, auto_check: bool) -> UpdateStatus {
        UpdateStatus {
            version: crate::current_version().to_string(),
            channel: channel.to_string(),
            auto_check,
            available: self.newer_available().map(|a| a.version),
            unseen: self.unannounced().is_some(),
            last: self.last_change(),
        }
    }

    /// The newest update or rollback (refusals and failures aside).
    pub fn last_change(&self) -> Option<UpdateRecord> {
        self.history()
            .into_iter()
            .rev()
            .find(|e| e.outcome != UpdateOutcome::Failed)
    }

    /// The newest update or rollback if no surface has shown it yet.
    pub fn unannounced(&self) -> Option<UpdateRecord> {
        let last = self.last_change()?;
        let seen = std::fs::read_to_string(self.file("announced")).unwrap_or_default();
        (seen.trim() != last.at && last.outcome != UpdateOutcome::Failed).then_some(last)
    }

    /// Marks the entry stamped `at` as shown.
    pub fn mark_announced(&self, at: &str) -> Result<(), UpdateError> {
        self.ensure()?;
        write_atomic(&self.file("announced"), at.as_bytes())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), UpdateError> {
    pryx_config::atomic_write(path, bytes)
        .map_err(|e| UpdateError::io("cannot write", path, std::io::Error::other(e.to_string())))
}

/// Now as RFC 3339, for history stamps.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, outcome: UpdateOutcome) -> UpdateRecord {
        UpdateRecord {
            at: at.into(),
            from: "0.1.0".into(),
            to: "0.2.0".into(),
            channel: "stable".into(),
            outcome,
            detail: String::new(),
            notes: "new".into(),
        }
    }

    #[test]
    fn history_pending_and_announcements() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::new(dir.path());
        assert!(state.history().is_empty() && state.unannounced().is_none());
        state
            .record(&entry("t1", UpdateOutcome::Installed))
            .unwrap();
        // A torn line is skipped, not fatal.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("update/history.jsonl"))
            .unwrap()
            .write_all(b"{\"at\":")
            .unwrap();
        assert_eq!(state.history().len(), 1);
        state
            .record(&entry("t1", UpdateOutcome::Installed))
            .unwrap();
        assert_eq!(state.history().len(), 2);
        assert_eq!(state.unannounced().unwrap().at, "t1");
        state.mark_announced("t1").unwrap();
        assert!(state.unannounced().is_none());

        let pending = Pending {
            from: "0.1.0".into(),
            to: "0.2.0".into(),
            channel: "stable".into(),
            notes: String::new(),
            starts: 1,
            binary: Some((1, 2)),
        };
        state.set_pending(&pending).unwrap();
        assert_eq!(state.pending(), Some(pending));
        state.clear_pending();
        assert_eq!(state.pending(), None);
    }
}
