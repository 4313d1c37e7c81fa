//! The [`Store`] handle: opening the file, connection settings, and the locking helpers every
//! query module uses.
//!
//! Durability: the database runs in WAL mode with `synchronous=NORMAL`. A commit that returned is
//! in the WAL file, so it survives the writer being killed (`kill -9`, a crash, an OOM kill); the
//! tests prove that with a real child process. Only an OS crash or power loss can drop the last few
//! commits, and even then the database stays consistent. `FULL` would fsync on every commit and cost
//! ~40x per agent tool round trip (about 45 ms instead of 1 ms on this project's reference disk).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use pryx_telemetry::{KnownSecret, Redactor};
use rusqlite::{Connection, ErrorCode, MAIN_DB, OpenFlags, Transaction, TransactionBehavior};

use crate::audit::AuditState;
use crate::error::{Result, StoreError};
use crate::migrate;
use crate::writable::{WriteBlock, database_write_block};

/// How long a statement waits for another connection's lock before failing with `Busy`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes of WAL kept after a checkpoint (SQLite checkpoints every 1,000 pages by default).
const WAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

/// A handle on the Pryx database. Cheap to clone; all clones share one connection. Methods are
/// synchronous: async callers wrap them in `spawn_blocking`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// Opened read-only as an immutable snapshot (see [`Store::open_read_only`]).
    snapshot: bool,
    secrets: RwLock<Secrets>,
    audit: AuditState,
    /// Why the last write failed for a cause outside the database (full disk, read-only);
    /// cleared by the next write that succeeds.
    write_problem: Mutex<Option<String>>,
    /// Event positions stored and not yet published (see `positions.rs`).
    positions: Mutex<crate::positions::Positions>,
    /// Told of every span once it ended (see [`Store::observe_spans`]).
    span_observer: RwLock<Option<SpanObserver>>,
}

/// What [`Store::observe_spans`] calls with each ended span; it runs on the writer's thread,
/// so it must only hand the span on.
pub type SpanObserver = Arc<dyn Fn(&crate::spans::Span) + Send + Sync>;

/// Secret values masked in everything written (each with its name, for the markers of what a
/// person approves), and the redactor built from them.
#[derive(Default)]
struct Secrets {
    values: BTreeSet<KnownSecret>,
    redactor: Redactor,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating with mode 0600 if needed) and migrates the database at `path`.
    ///
    /// A database that cannot be written here (a read-only file system, missing permissions on
    /// the file, its directory or its `-wal`/`-shm` files) fails with [`StoreError::NotWritable`]
    /// before SQLite touches it, never with [`StoreError::NotADatabase`]: only SQLite's own
    /// "not a database" and "corrupt" answers mean damage.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let not_writable = |blocked: &Path, cause| StoreError::NotWritable {
            path: shown.clone(),
            blocked: blocked.display().to_string(),
            cause,
        };
        if let Some((blocked, cause)) = database_write_block(path) {
            return Err(not_writable(&blocked, cause));
        }
        // Whatever else fails, a write the OS refused (read-only, cannot open, permission, I/O)
        // is reported as such when the file system says so; damage only when SQLite finds it.
        let on_open_error = |e: StoreError| match e {
            StoreError::Corrupt(detail) => StoreError::NotADatabase {
                path: shown.clone(),
                detail,
            },
            other => match database_write_block(path) {
                Some((blocked, cause)) if refused_write(&other) => not_writable(&blocked, cause),
                _ => other,
            },
        };
        create_private(path).map_err(on_open_error)?;
        let mut conn = Connection::open(path).map_err(|e| {
            on_open_error(StoreError::Open {
                path: shown.clone(),
                detail: e.to_string(),
            })
        })?;
        configure(&conn, true).map_err(on_open_error)?;
        if conn.is_readonly(MAIN_DB).unwrap_or(false) {
            // SQLite fell back to reading only: the OS refused to open the file for writing.
            let (blocked, cause) = database_write_block(path)
                .unwrap_or_else(|| (path.to_path_buf(), WriteBlock::PermissionDenied));
            return Err(not_writable(&blocked, cause));
        }
        migrate::migrate(&mut conn).map_err(on_open_error)?;
        Ok(Store::from_conn(conn, Some(path.to_path_buf()), false))
    }

    /// Opens the database at `path` for reading only, for checking it where it cannot be written:
    /// nothing is created, migrated or changed. While its `-wal` and `-shm` files exist (a writer
    /// has it open, or was killed) SQLite reads through them. Otherwise, or when they cannot be
    /// used, the main file is opened as an immutable snapshot, so that no `-shm` or `-wal` file
    /// is made; changes still in a `-wal` file are then not seen, and [`Store::is_snapshot`] says
    /// so. Every write fails.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let on_error = |e: StoreError| match e {
            StoreError::Corrupt(detail) => StoreError::NotADatabase {
                path: shown.clone(),
                detail,
            },
            other => other,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let snapshot = || -> Result<Connection> {
            let conn = Connection::open_with_flags(
                immutable_uri(path),
                flags | OpenFlags::SQLITE_OPEN_URI,
            )?;
            configure(&conn, false)?;
            Ok(conn)
        };
        let side = |suffix: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p).is_file()
        };
        if !(side("-wal") && side("-shm")) {
            let conn = snapshot().map_err(on_error)?;
            return Ok(Store::from_conn(conn, Some(path.to_path_buf()), true));
        }
        let shared = Connection::open_with_flags(path, flags)
            .map_err(StoreError::from)
            .and_then(|conn| configure(&conn, false).map(|()| conn));
        match shared {
            Ok(conn) => Ok(Store::from_conn(conn, Some(path.to_path_buf()), false)),
            // The `-shm` file cannot be used here: SQLite says it cannot open, or (where this
            // user may not write) that the database is read-only.
            Err(StoreError::Sqlite(e))
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
                ) =>
            {
                let conn = snapshot().map_err(on_error)?;
                Ok(Store::from_conn(conn, Some(path.to_path_buf()), true))
            }
            Err(e) => Err(on_error(e)),
        }
    }

    /// True for a store opened by [`Store::open_read_only`] as an immutable snapshot of the main
    /// file: changes still in its `-wal` file were not read.
    pub fn is_snapshot(&self) -> bool {
        self.inner.snapshot
    }

    fn from_conn(conn: Connection, path: Option<PathBuf>, snapshot: bool) -> Store {
        // A snapshot of an older schema has no `event_seq`: it stores nothing anyway.
        let last: i64 = conn
            .query_row("SELECT last FROM event_seq WHERE id = 1", [], |r| r.get(0))
            .unwrap_or(0);
        Store {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                path,
                snapshot,
                secrets: RwLock::default(),
                audit: AuditState::default(),
                write_problem: Mutex::default(),
                positions: crate::positions::Positions::starting_at(
                    u64::try_from(last).unwrap_or(0),
                ),
                span_observer: RwLock::default(),
            }),
        }
    }

    /// Adds secret values to mask in every string written from now on: messages and their
    /// search index, tool results, events, spans and session titles; in the arguments of tool
    /// calls and what approvals show they are replaced by a marker naming them. Secrets are
    /// never forgotten while the store is open (history may hold an old key).
    pub fn add_secrets<I>(&self, secrets: I)
    where
        I: IntoIterator<Item = KnownSecret>,
    {
        let mut guard = self
            .inner
            .secrets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = guard.values.len();
        guard.values.extend(secrets);
        if guard.values.len() != before {
            guard.redactor = Redactor::named(guard.values.iter().cloned());
        }
    }

    /// The redactor every write goes through.
    /// Hands every span that ends from now on to `observer` (the OTLP export), after it is
    /// stored. One observer per store; a later call replaces it.
    pub fn observe_spans(&self, observer: SpanObserver) {
        *self
            .inner
            .span_observer
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(observer);
    }

    pub(crate) fn span_ended(&self, span: &crate::spans::Span) {
        let observer = self
            .inner
            .span_observer
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(observe) = observer {
            observe(span);
        }
    }

    pub fn redactor(&self) -> Redactor {
        self.inner
            .secrets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .redactor
            .clone()
    }

    /// A private database that lives as long as the handle; for tests.
    pub fn open_in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn, false)?;
        migrate::migrate(&mut conn)?;
        Ok(Store::from_conn(conn, None, false))
    }

    /// The file behind this store, `None` for an in-memory one.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> Result<i64> {
        self.with_conn(migrate::user_version)
    }

    /// The text of `PRAGMA integrity_check`: `"ok"` for a healthy database, otherwise the
    /// problems SQLite found, one per line.
    pub fn integrity_check(&self) -> Result<String> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let lines = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(lines.join("\n"))
        })
    }

    pub(crate) fn audit_state(&self) -> &AuditState {
        &self.inner.audit
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-applied write: SQLite rolls back any
        // open transaction when it is dropped, so the connection is safe to reuse.
        self.inner
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` with the connection (autocommit: each statement is its own transaction).
    pub(crate) fn positions_lock(&self) -> &Mutex<crate::positions::Positions> {
        &self.inner.positions
    }

    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&conn)
    }

    /// Runs `f` inside an immediate (write-locking) transaction, committing if it succeeds.
    /// Notes whether writes work (see [`Store::write_problem`]).
    pub(crate) fn with_tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        drop(conn);
        self.note_write(result.as_ref().err());
        result
    }

    fn note_write(&self, error: Option<&StoreError>) {
        let mut problem = self
            .inner
            .write_problem
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match error {
            Some(StoreError::CannotWrite(why)) => {
                if problem.is_none() {
                    tracing::warn!(reason = %why, "the database cannot be written; turns fail until it can");
                }
                *problem = Some(why.clone());
            }
            // Refused for what was written, not for where: says nothing about the disk.
            Some(_) => {}
            None => {
                if problem.take().is_some() {
                    tracing::info!("the database can be written again");
                }
            }
        }
    }

    /// Why writes currently fail (full disk, read-only file system), `None` while they work.
    /// Set by a failed write, cleared by the next one that succeeds.
    pub fn write_problem(&self) -> Option<String> {
        self.inner
            .write_problem
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Tries a real (tiny) write, so a store that could not write notices by itself that it can
    /// again: rewrites the schema version with its own value, which commits one page.
    pub fn probe_write(&self) -> Result<()> {
        self.with_tx(|tx| {
            let version = migrate::user_version(tx)?;
            tx.pragma_update(None, "user_version", version)?;
            Ok(())
        })
    }
}

fn configure(conn: &Connection, file: bool) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Reading the schema forces SQLite to parse the header, so garbage files fail here, clearly.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    if file {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid {
                what: "journal mode",
                detail: format!(
                    "SQLite kept {mode:?} instead of WAL; is the file on a network share?"
                ),
            });
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Checkpoints reset the WAL; this caps the file they leave behind, so it stays bounded
    // however large one burst of writes made it.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Whether `e` is the OS refusing a write or an open (as opposed to damage, a lock, or a bug).
fn refused_write(e: &StoreError) -> bool {
    match e {
        StoreError::Open { .. } | StoreError::CannotWrite(_) => true,
        StoreError::Io { source, .. } => matches!(
            source.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        ),
        StoreError::Sqlite(e) => matches!(
            e.sqlite_error_code(),
            Some(
                ErrorCode::ReadOnly
                    | ErrorCode::CannotOpen
                    | ErrorCode::PermissionDenied
                    | ErrorCode::SystemIoFailure
            )
        ),
        _ => false,
    }
}

/// `file:` URI for `path` with `immutable=1`, every byte outside the unreserved set escaped.
fn immutable_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Creates the database file with owner-only permissions, so that SQLite (which copies the main
/// file's mode onto `-wal` and `-shm`) never creates a readable file.
fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Io {
            path: path.display().to_string(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_shareable_across_threads() {
        fn assert_shareable<T: Clone + Send + Sync + 'static>() {}
        assert_shareable::<Store>();
    }

    #[test]
    fn in_memory_store_is_migrated_with_foreign_keys_on() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), migrate::SCHEMA_VERSION);
        assert_eq!(store.integrity_check().unwrap(), "ok");
        assert!(store.path().is_none());
        let fk: i64 = store
            .with_conn(|c| Ok(c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(fk, 1);
        let sync: i64 = store
            .with_conn(|c| Ok(c.query_row("PRAGMA synchronous", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(sync, 1, "synchronous=NORMAL");
    }

    #[test]
    fn a_write_that_cannot_reach_the_disk_is_noted_until_one_succeeds() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.write_problem(), None);
        let full: Result<()> =
            store.with_tx(|_| Err(StoreError::CannotWrite("the disk is full".into())));
        assert!(full.is_err());
        assert_eq!(store.write_problem().as_deref(), Some("the disk is full"));
        // A refusal of what was written says nothing about the disk.
        let _ = store.with_tx::<()>(|_| Err(StoreError::Busy));
        assert!(store.write_problem().is_some());
        store.probe_write().unwrap();
        assert_eq!(store.write_problem(), None);
        assert_eq!(store.schema_version().unwrap(), migrate::SCHEMA_VERSION);
    }

    #[test]
    fn immutable_uri_escapes_what_sqlite_would_parse() {
        assert_eq!(
            immutable_uri(Path::new("/d/my data?#%/pryx.db")),
            "file:/d/my%20data%3F%23%25/pryx.db?immutable=1"
        );
    }

    #[test]
    fn refused_writes_are_told_from_damage() {
        let sqlite = |code| {
            StoreError::from(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        for code in [8, 14, 3, 10] {
            // SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_IOERR
            assert!(refused_write(&sqlite(code)), "{code}");
        }
        for code in [11, 26, 5] {
            // SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_BUSY
            assert!(!refused_write(&sqlite(code)), "{code}");
        }
        let io = |kind| StoreError::Io {
            path: "p".into(),
            source: std::io::Error::from(kind),
        };
        assert!(refused_write(&io(std::io::ErrorKind::ReadOnlyFilesystem)));
        assert!(!refused_write(&io(std::io::ErrorKind::StorageFull)));
    }

    #[test]
    fn failed_transaction_leaves_nothing_behind() {
        let store = Store::open_in_memory().unwrap();
        let res: Result<()> = store.with_tx(|tx| {
            tx.execute("INSERT INTO workspaces (id, name, path, created_at) VALUES ('w', 'w', '/w', 'now')", [])?;
            Err(StoreError::Invalid { what: "test", detail: "abort".into() })
        });
        assert!(res.is_err());
        assert!(store.list_workspaces().unwrap().is_empty());
    }
}
