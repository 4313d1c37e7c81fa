//! The anchor: the head of the chain (its last `seq` and that row's MAC), kept in a file outside
//! the database and sealed with its own MAC under the audit key. A chain cannot show rows cut
//! from its end, nor a database replaced by an empty one; the anchor can, and without the key it
//! cannot be forged to match a shortened log.
//!
//! Before the first keyed row is committed, an anchor on the head as it stands (the last legacy
//! row, or seq 0) is written synchronously. So from the first keyed row on, an anchor always
//! exists, and a missing one means it was removed; a crash at any point leaves an anchor that
//! is at most behind the log, never ahead of it or absent.
//!
//! Cost: the file is replaced atomically (temporary file, fsync, rename, fsync of the directory),
//! which costs several milliseconds on an ordinary disk, while an audit append costs about a
//! fifth of one. So appends do not write it themselves: they hand the new head to a writer
//! thread and return. The writer always writes the newest head it has been given, so a burst of
//! appends costs one or two file writes, and the anchor trails the log by at most the rows
//! appended during one write. Rows past the anchor are still MAC-chained, so that lag is never
//! reported as a problem; it only means that cutting those few newest rows could go unnoticed
//! after a crash. Dropping the store (and [`crate::Store::flush_audit_anchor`]) waits for the
//! last head to be written.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use hmac::Mac;
use serde::{Deserialize, Serialize};

use super::key::AuditKey;
use super::put;
use crate::error::{Result, StoreError};

const VERSION: u32 = 1;
const DOMAIN: &[u8] = b"pryx-audit-anchor-v1\0";

/// A head of the chain: a `seq` and that row's link, i.e. its MAC (or, for an unkeyed row, its
/// hash; [`super::GENESIS_HASH`] for seq 0, the empty log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anchor {
    pub seq: i64,
    pub link: String,
}

/// The file's content.
#[derive(Serialize, Deserialize)]
struct AnchorFile {
    version: u32,
    seq: i64,
    link: String,
    /// HMAC-SHA256 over `seq` and `link`, hex.
    seal: String,
}

impl Anchor {
    fn seal(&self, key: &AuditKey) -> Result<super::key::HmacSha256> {
        let mut h = key.mac(DOMAIN)?;
        Mac::update(&mut h, &self.seq.to_be_bytes());
        put(&mut h, Some(&self.link));
        Ok(h)
    }

    /// The file's bytes, sealed with `key`.
    pub(crate) fn encode(&self, key: &AuditKey) -> Result<Vec<u8>> {
        let file = AnchorFile {
            version: VERSION,
            seq: self.seq,
            link: self.link.clone(),
            seal: hex::encode(self.seal(key)?.finalize().into_bytes()),
        };
        let mut bytes = serde_json::to_vec(&file)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// What is found at the anchor path.
#[derive(Debug)]
pub(crate) enum AnchorRead {
    Missing,
    /// Unreadable, not an anchor, or (with a key) its seal does not match.
    Invalid(String),
    /// A well-formed anchor; `authentic` is `None` when there was no key to check the seal.
    Found {
        anchor: Anchor,
        authentic: Option<bool>,
    },
}

/// Reads and, given the key, authenticates the anchor at `path`.
pub(crate) fn read(path: &Path, key: Option<&AuditKey>) -> AnchorRead {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return AnchorRead::Missing,
        Err(e) => return AnchorRead::Invalid(format!("cannot read it: {e}")),
    };
    let file: AnchorFile = match serde_json::from_slice(&bytes) {
        Ok(f) => f,
        Err(e) => return AnchorRead::Invalid(format!("not an audit anchor ({e})")),
    };
    if file.version != VERSION {
        return AnchorRead::Invalid(format!("unknown anchor version {}", file.version));
    }
    let anchor = Anchor {
        seq: file.seq,
        link: file.link,
    };
    let authentic = match key {
        None => None,
        Some(key) => {
            let ok = match (anchor.seal(key), hex::decode(&file.seal)) {
                (Ok(h), Ok(tag)) => h.verify_slice(&tag).is_ok(),
                _ => false,
            };
            Some(ok)
        }
    };
    AnchorRead::Found { anchor, authentic }
}

/// Replaces `path` with `bytes` atomically and durably, mode 0600.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let io = |p: &Path, e: std::io::Error| StoreError::Io {
        path: p.display().to_string(),
        source: e,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| io(path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes posted heads to the anchor file off the appending thread; see the module docs.
pub(crate) struct AnchorWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    path: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The newest head posted and its encoded file, not yet taken by the writer.
    pending: Option<Vec<u8>>,
    /// The newest head posted by this process.
    head: Option<Anchor>,
    posted: u64,
    written: u64,
    last_error: Option<String>,
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `bytes`, recording the outcome for generation `generation`.
    fn write(&self, bytes: &[u8], generation: u64) {
        let outcome = write_file(&self.path, bytes);
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "could not update the audit anchor");
        }
        let mut st = self.lock();
        st.written = st.written.max(generation);
        if let Err(e) = outcome {
            st.last_error = Some(e.to_string());
        }
        self.changed.notify_all();
    }
}

impl AnchorWriter {
    /// Starts the writer thread for `path` (writing inline if no thread can be started).
    pub(crate) fn start(path: PathBuf) -> AnchorWriter {
        let shared = Arc::new(Shared {
            path,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pryx-audit-anchor".into())
            .spawn(move || run(&worker))
            .map_err(|e| tracing::warn!(error = %e, "writing the audit anchor inline"))
            .ok();
        AnchorWriter { shared, thread }
    }

    /// The newest head this process posted, if any.
    pub(crate) fn head(&self) -> Option<Anchor> {
        self.shared.lock().head.clone()
    }

    /// Hands a new head to the writer.
    pub(crate) fn post(&self, head: Anchor, bytes: Vec<u8>) {
        let mut st = self.shared.lock();
        st.posted += 1;
        st.head = Some(head);
        if self.thread.is_none() {
            let generation = st.posted;
            drop(st);
            self.shared.write(&bytes, generation);
            return;
        }
        st.pending = Some(bytes);
        self.shared.changed.notify_all();
    }

    /// Waits until every head posted so far is written; reports the last failed write.
    pub(crate) fn flush(&self) -> Result<()> {
        let mut st = self.shared.lock();
        let target = st.posted;
        while st.written < target {
            st = self
                .shared
                .changed
                .wait(st)
                .unwrap_or_else(|p| p.into_inner());
        }
        match st.last_error.take() {
            None => Ok(()),
            Some(detail) => Err(StoreError::Io {
                path: self.shared.path.display().to_string(),
                source: std::io::Error::other(detail),
            }),
        }
    }
}

fn run(shared: &Shared) {
    loop {
        let (bytes, generation) = {
            let mut st = shared.lock();
            loop {
                if let Some(bytes) = st.pending.take() {
                    break (bytes, st.posted);
                }
                if st.stop {
                    return;
                }
                st = shared.changed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        };
        shared.write(&bytes, generation);
    }
}

impl Drop for AnchorWriter {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            // The thread writes what is pending before it sees `stop`.
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::from_bytes([7; 32], 0)
    }

    #[test]
    fn anchor_round_trips_and_refuses_forgery() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.anchor");
        assert!(matches!(read(&path, Some(&key())), AnchorRead::Missing));
        let a = Anchor {
            seq: 5,
            link: "ab".repeat(32),
        };
        write_file(&path, &a.encode(&key()).unwrap()).unwrap();
        match read(&path, Some(&key())) {
            AnchorRead::Found { anchor, authentic } => {
                assert_eq!(anchor, a);
                assert_eq!(authentic, Some(true));
            }
            other => panic!("{other:?}"),
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Another key, or a hand-edited seq, no longer authenticates.
        let other = AuditKey::from_bytes([8; 32], 0);
        assert!(matches!(
            read(&path, Some(&other)),
            AnchorRead::Found {
                authentic: Some(false),
                ..
            }
        ));
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"seq\":5", "\"seq\":9");
        fs::write(&path, text).unwrap();
        assert!(matches!(
            read(&path, Some(&key())),
            AnchorRead::Found {
                authentic: Some(false),
                ..
            }
        ));
        fs::write(&path, "garbage").unwrap();
        assert!(matches!(read(&path, None), AnchorRead::Invalid(_)));
    }

    #[test]
    fn writer_writes_the_newest_head_and_flush_waits_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.anchor");
        let writer = AnchorWriter::start(path.clone());
        for seq in 1..=50 {
            let head = Anchor {
                seq,
                link: format!("{seq:064x}"),
            };
            let bytes = head.encode(&key()).unwrap();
            writer.post(head, bytes);
        }
        writer.flush().unwrap();
        assert_eq!(writer.head().map(|h| h.seq), Some(50));
        match read(&path, Some(&key())) {
            AnchorRead::Found { anchor, authentic } => {
                assert_eq!((anchor.seq, authentic), (50, Some(true)));
            }
            other => panic!("{other:?}"),
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "audit.anchor")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn dropping_the_writer_writes_what_is_pending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.anchor");
        let writer = AnchorWriter::start(path.clone());
        let head = Anchor {
            seq: 3,
            link: "cd".repeat(32),
        };
        writer.post(head.clone(), head.encode(&key()).unwrap());
        drop(writer);
        assert!(matches!(read(&path, None), AnchorRead::Found { anchor, .. } if anchor == head));
    }

    #[test]
    fn a_failed_write_is_reported_by_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir/audit.anchor");
        let writer = AnchorWriter::start(path);
        let head = Anchor {
            seq: 1,
            link: "00".repeat(32),
        };
        writer.post(head.clone(), head.encode(&key()).unwrap());
        let err = writer.flush().unwrap_err().to_string();
        assert!(err.contains("missing-dir"), "{err}");
    }
}
