//! One error type for every store operation, with messages that say what to do next.

use pryx_protocol::ErrorCode;

use crate::writable::WriteBlock;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be created or opened at all.
    #[error(
        "cannot open the database at {path}: {detail}; check that the directory exists and is writable"
    )]
    Open { path: String, detail: String },

    /// The database (or its directory, or its `-wal`/`-shm` file) cannot be written: a read-only
    /// file system or missing permissions. Says nothing about the data, which is left as it is.
    #[error(
        "cannot write the database at {path}: {cause}{on}; {fix}; the file is left as it is (`pryx doctor` checks it read-only)",
        on = refused_by(.path, .blocked),
        fix = .cause.fix()
    )]
    NotWritable {
        path: String,
        /// The path that refused the write: the file, its directory, or a `-wal`/`-shm` file.
        blocked: String,
        cause: WriteBlock,
    },

    /// The file exists but is not a readable SQLite database (truncated, overwritten, damaged).
    #[error(
        "the database at {path} is damaged or is not a Pryx database ({detail}); move it aside and restore a backup, or run `pryx doctor`"
    )]
    NotADatabase { path: String, detail: String },

    /// The file was migrated by a later release.
    #[error(
        "this database was written by a newer Pryx (schema {found}, this build knows {known}); upgrade Pryx"
    )]
    SchemaTooNew { found: i64, known: i64 },

    /// A schema migration failed and was rolled back.
    #[error(
        "upgrading the database to schema {version} failed: {detail}; the database was left at its previous schema"
    )]
    Migration { version: i64, detail: String },

    /// Damage found while the database was in use.
    #[error(
        "the database is damaged ({0}); stop Pryx, move the database aside and restore a backup"
    )]
    Corrupt(String),

    /// Another process held a lock for longer than the busy timeout.
    #[error(
        "the database is busy (another process holds a lock); try again, or stop the other Pryx process"
    )]
    Busy,

    /// The referenced row does not exist.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },

    /// The caller passed a value the store cannot record.
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },

    /// A stored value could not be read back into its type.
    #[error("stored data is malformed: {0}")]
    Decode(String),

    /// The audit key could not be made, read or used.
    #[error("audit key: {0}")]
    AuditKey(String),

    /// File-system work around the database (creating it, setting its mode) failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A write failed for a reason outside the database (a full disk, a read-only file system
    /// or file, an I/O error); what is stored is intact, and writes work again once the cause is
    /// gone.
    #[error(
        "cannot write to the database: {0}; free disk space or make the data dir writable (Pryx recovers by itself once writes succeed)"
    )]
    CannotWrite(String),

    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

/// " (PATH)" naming what refused a write, when that is not the database file itself.
fn refused_by(path: &str, blocked: &str) -> String {
    if path == blocked {
        String::new()
    } else {
        format!(" ({blocked})")
    }
}

impl StoreError {
    /// The wire error code surfaces report for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::NotFound { .. } => ErrorCode::NotFound,
            StoreError::Invalid { .. } => ErrorCode::ValidationFailed,
            _ => ErrorCode::StoreFailed,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy,
            Some(C::DatabaseCorrupt | C::NotADatabase) => StoreError::Corrupt(e.to_string()),
            Some(C::DiskFull) => StoreError::CannotWrite("the disk is full".into()),
            Some(C::ReadOnly) => StoreError::CannotWrite(
                "the database is read-only (a read-only file system, or a file or directory Pryx may not write)"
                    .into(),
            ),
            Some(C::PermissionDenied) => StoreError::CannotWrite("permission denied".into()),
            Some(C::SystemIoFailure) => StoreError::CannotWrite(format!("an I/O error ({e})")),
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Decode(e.to_string())
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_sqlite_classification() {
        assert_eq!(
            StoreError::NotFound {
                what: "session",
                id: "x".into()
            }
            .code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            StoreError::Invalid {
                what: "grant",
                detail: "d".into()
            }
            .code(),
            ErrorCode::ValidationFailed
        );
        assert_eq!(StoreError::Busy.code(), ErrorCode::StoreFailed);
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(5), None);
        assert!(matches!(StoreError::from(busy), StoreError::Busy));
        let corrupt = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(11), None);
        assert!(matches!(StoreError::from(corrupt), StoreError::Corrupt(_)));
        // SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR_WRITE: the data is fine, the place is not.
        for code in [13, 8, 10 | (3 << 8)] {
            let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
            assert!(
                matches!(StoreError::from(e), StoreError::CannotWrite(_)),
                "{code}"
            );
        }
    }
}
