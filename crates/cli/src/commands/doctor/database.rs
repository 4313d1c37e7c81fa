//! Database and audit-log checks. The store is opened only when that cannot change the file:
//! a missing database is created (first use); a damaged one, or one whose schema would be
//! migrated, is judged from its header and left untouched.
//!
//! "Cannot write here" is told apart from "damaged": a database on a read-only file system, or
//! in a directory or file this user may not write, is opened read-only and checked like any
//! other. When it passes SQLite's integrity check, the report says it is intact and names what
//! refuses the write and why; moving it aside is advised only for a file that really is damaged.

use super::db_file::{self, Verdict};
use super::report::Check;
use pryx_config::DataDir;
use pryx_core::setup::AuditKeyUse;
use pryx_store::{
    AuditReport, SCHEMA_VERSION, Store, StoreError, WriteBlock, database_write_block,
};
use std::path::{Path, PathBuf};

const DB: &str = "database";
const AUDIT: &str = "audit_log";

/// What refuses a write to the database, and why.
type Blocked = (PathBuf, WriteBlock);

/// Returns the `database` and `audit_log` checks.
pub fn check(dir: &DataDir) -> [Check; 2] {
    let path = dir.database_file();
    let (store, blocked) = match open(&path) {
        Ok(opened) => opened,
        Err(db) => {
            let audit = Check::warn(
                AUDIT,
                "not checked: the database could not be opened",
                "fix the database first",
            );
            return [db, audit];
        }
    };
    // Only read the audit key: doctor never creates one.
    let seal = pryx_core::setup::audit_seal(dir, &store, AuditKeyUse::Verify);
    store.set_audit_seal(seal);
    let db = match (health(&store), &blocked) {
        (Ok(message), None) => Check::ok(DB, format!("{} ({message})", path.display())),
        (Ok(message), Some(blocked)) => {
            let unread = if store.is_snapshot() && wal_in_use(&path) {
                "; changes still in its -wal file were not read"
            } else {
                ""
            };
            Check::fail(
                DB,
                format!(
                    "{} is intact ({message}, checked read-only{unread}) but cannot be written: {}",
                    path.display(),
                    refusal(&path, blocked)
                ),
                write_hint(blocked.1),
            )
        }
        (Err(Problem::Damaged(problem)), _) => Check::fail(DB, problem, damaged_hint(&path)),
        (Err(Problem::Unreadable(problem)), _) => Check::fail(
            DB,
            problem,
            "the file is left as it is; run `pryx doctor` again once nothing else holds it",
        ),
    };
    let audit = match store.verify_audit() {
        Ok(report) => match &blocked {
            Some(blocked) if report.problems.is_empty() => {
                audit_unwritable(&report, &dir.audit_anchor_file(), blocked)
            }
            _ => audit_check(&report),
        },
        Err(e @ (StoreError::Corrupt(_) | StoreError::NotADatabase { .. })) => Check::fail(
            AUDIT,
            format!("cannot read the audit log: {e}"),
            damaged_hint(&path),
        ),
        Err(e) => Check::fail(
            AUDIT,
            format!("cannot read the audit log: {e}"),
            "the database is left as it is; run `pryx audit verify` for details",
        ),
    };
    [db, audit]
}

/// Opens the store if that is safe, read-only when it cannot be written here (with what refuses
/// the write); otherwise the `database` check explaining why not.
fn open(path: &Path) -> Result<(Store, Option<Blocked>), Check> {
    let exists = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => true,
        Ok(_) => {
            return Err(Check::fail(
                DB,
                format!("{} is not a regular file", path.display()),
                format!("move {} aside; Pryx creates a new database", path.display()),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(unreadable(path, &e)),
    };
    let blocked = database_write_block(path);
    if !exists {
        return match blocked {
            Some(blocked) => Err(Check::fail(
                DB,
                format!(
                    "{} does not exist and cannot be created: {}",
                    path.display(),
                    refusal(path, &blocked)
                ),
                blocked.1.fix(),
            )),
            // First use: creating the database is the one write doctor makes.
            None => Store::open(path)
                .map(|store| (store, None))
                .map_err(|e| open_failed(path, &e)),
        };
    }
    // While a core runs, recent commits (even the schema version) may live only in the WAL, so
    // the main file's header is not the whole truth; SQLite must read it then.
    if !wal_in_use(path) {
        match db_file::inspect_file(path).map_err(|e| unreadable(path, &e))? {
            Verdict::Empty => {
                return Err(match &blocked {
                    None => Check::warn(
                        DB,
                        format!("{} is empty", path.display()),
                        "it is initialised on the next start of Pryx (doctor changes nothing)",
                    ),
                    Some(blocked) => Check::fail(
                        DB,
                        format!(
                            "{} is empty and cannot be initialised: {}",
                            path.display(),
                            refusal(path, blocked)
                        ),
                        blocked.1.fix(),
                    ),
                });
            }
            Verdict::Damaged(why) => {
                return Err(Check::fail(
                    DB,
                    format!("{} is damaged: {why}", path.display()),
                    damaged_hint(path),
                ));
            }
            Verdict::Plausible { user_version } => {
                let version = i64::from(user_version);
                if let Some(blocked) = &blocked
                    && version < SCHEMA_VERSION
                {
                    return Err(Check::fail(
                        DB,
                        format!(
                            "{} has schema {version}; this build uses {SCHEMA_VERSION} and cannot upgrade it here: {}",
                            path.display(),
                            refusal(path, blocked)
                        ),
                        format!("{}; the file is left as it is", blocked.1.fix()),
                    ));
                }
                schema_gate(path, version)?
            }
        }
    }
    if let Some(blocked) = blocked {
        return Store::open_read_only(path)
            .map(|store| (store, Some(blocked.clone())))
            .map_err(|e| match e {
                StoreError::NotADatabase { .. } | StoreError::Corrupt(_) => {
                    Check::fail(DB, e.to_string(), damaged_hint(path))
                }
                e => Check::fail(
                    DB,
                    format!(
                        "{} cannot be written ({}) nor read: {e}",
                        path.display(),
                        refusal(path, &blocked)
                    ),
                    format!("{}; the file is left as it is", blocked.1.fix()),
                ),
            });
    }
    Store::open(path)
        .map(|store| (store, None))
        .map_err(|e| open_failed(path, &e))
}

/// The check for a store that would not open for writing. Damage is named only when SQLite
/// found it; anything else is judged again read-only, so an intact file is never called damaged.
fn open_failed(path: &Path, e: &StoreError) -> Check {
    match e {
        StoreError::NotADatabase { .. } | StoreError::Corrupt(_) => {
            Check::fail(DB, e.to_string(), damaged_hint(path))
        }
        StoreError::NotWritable { blocked, cause, .. } => Check::fail(
            DB,
            format!(
                "{} cannot be written: {}",
                path.display(),
                refusal(path, &(PathBuf::from(blocked), *cause))
            ),
            format!("{}; the file is left as it is", cause.fix()),
        ),
        e => match Store::open_read_only(path)
            .map_err(|_| ())
            .map(|s| health(&s))
        {
            Ok(Ok(message)) => Check::fail(
                DB,
                format!(
                    "{} is intact ({message}, checked read-only) but does not open for writing: {e}",
                    path.display()
                ),
                "the data is intact, so keep the file where it is; stop any other program using it and run `pryx doctor` again",
            ),
            Ok(Err(Problem::Damaged(problem))) => {
                Check::fail(DB, format!("{e}; {problem}"), damaged_hint(path))
            }
            _ => Check::fail(
                DB,
                e.to_string(),
                "the file is left as it is; stop any other program using it and run `pryx doctor` again",
            ),
        },
    }
}

/// Refuses to open (and so migrate) a database at another schema version.
fn schema_gate(path: &Path, version: i64) -> Result<(), Check> {
    if version > SCHEMA_VERSION {
        return Err(Check::fail(
            DB,
            format!(
                "{} has schema {version}, newer than this build knows ({SCHEMA_VERSION})",
                path.display()
            ),
            "upgrade Pryx to the release that wrote this database",
        ));
    }
    if version < SCHEMA_VERSION {
        return Err(Check::warn(
            DB,
            format!(
                "{} has schema {version}; this build uses {SCHEMA_VERSION}",
                path.display()
            ),
            "it is upgraded on the next start of Pryx (back it up first; doctor does not migrate)",
        ));
    }
    Ok(())
}

/// Why [`health`] did not pass.
enum Problem {
    /// SQLite found damage: the integrity check failed, or the file is not a database.
    Damaged(String),
    /// The check could not run for another reason (a lock, an I/O error): not evidence of damage.
    Unreadable(String),
}

fn health(store: &Store) -> Result<String, Problem> {
    let failed = |what: &str, e: StoreError| match e {
        StoreError::Corrupt(_) | StoreError::NotADatabase { .. } => {
            Problem::Damaged(format!("{what}: {e}"))
        }
        e => Problem::Unreadable(format!("{what}: {e}")),
    };
    let version = store
        .schema_version()
        .map_err(|e| failed("cannot read the schema version", e))?;
    if version != SCHEMA_VERSION {
        return Err(Problem::Unreadable(format!(
            "schema {version}, but this build expects {SCHEMA_VERSION}"
        )));
    }
    let integrity = store
        .integrity_check()
        .map_err(|e| failed("integrity check could not run", e))?;
    if integrity != "ok" {
        let first: Vec<&str> = integrity.lines().take(3).collect();
        return Err(Problem::Damaged(format!(
            "integrity check failed: {}",
            first.join("; ")
        )));
    }
    Ok(format!("schema {version}, integrity ok"))
}

/// An intact audit log that cannot grow here: no entry can be appended, nor the anchor moved.
fn audit_unwritable(report: &AuditReport, anchor: &Path, blocked: &Blocked) -> Check {
    Check::warn(
        AUDIT,
        format!(
            "{} row(s), chain intact (checked read-only); no entry can be appended and the anchor {} cannot be updated: {}",
            report.rows_checked,
            anchor.display(),
            refusal(anchor, blocked)
        ),
        write_hint(blocked.1),
    )
}

fn audit_check(report: &AuditReport) -> Check {
    if let Some(first) = report.problems.first() {
        let more = match report.problems.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        return Check::fail(
            AUDIT,
            format!("{first}{more}"),
            "run `pryx audit verify` for every problem; if the log was changed outside Pryx, keep a copy of the data directory as evidence",
        );
    }
    let legacy = match report.legacy_rows {
        0 => String::new(),
        n => format!(", {n} legacy unkeyed"),
    };
    Check::ok(
        AUDIT,
        format!("{} row(s){legacy}, chain intact", report.rows_checked),
    )
}

fn wal_in_use(db: &Path) -> bool {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|m| m.len() > 0)
}

fn unreadable(path: &Path, e: &std::io::Error) -> Check {
    Check::fail(
        DB,
        format!("cannot read {}: {e}", path.display()),
        "make the file readable by your user (it should be mode 0600)",
    )
}

/// "read-only file system (PATH)": the cause, and the path that refused the write when that is
/// not the database file the line is about.
fn refusal(db: &Path, (blocked, cause): &Blocked) -> String {
    if blocked == db {
        cause.to_string()
    } else {
        format!("{cause} ({})", blocked.display())
    }
}

/// The fix for a database that cannot be written; never "move it aside", which would lose data.
fn write_hint(cause: WriteBlock) -> String {
    format!(
        "{}; the data is intact: keep the file where it is",
        cause.fix()
    )
}

fn damaged_hint(path: &Path) -> String {
    let p = path.display();
    format!(
        "stop Pryx, move the file aside (`mv {p} {p}.damaged`, with any `-wal`/`-shm` files next to it) and restore it from a backup; without one, Pryx starts with a new empty database"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_store::{AuditKeyStatus, AuditProblem, GENESIS_HASH};

    fn report(problems: Vec<AuditProblem>, legacy_rows: u64) -> AuditReport {
        AuditReport {
            rows_checked: 4,
            legacy_rows,
            keyed_rows: 4 - legacy_rows,
            head_seq: 4,
            head_hash: GENESIS_HASH.to_string(),
            anchored_seq: Some(4),
            key: AuditKeyStatus::Present,
            problems,
        }
    }

    #[test]
    fn audit_failure_names_the_row() {
        let problem = AuditProblem::MacMismatch {
            seq: 3,
            id: "row-3".into(),
        };
        let c = audit_check(&report(vec![problem.clone(), problem], 0));
        assert_eq!(c.status, super::super::report::Status::Fail);
        assert!(c.message.contains("seq 3 (id row-3)"), "{}", c.message);
        assert!(c.message.contains("and 1 more"), "{}", c.message);
        let guard = AuditProblem::GuardAltered {
            name: "audit_log_no_delete".into(),
        };
        let c = audit_check(&report(vec![guard], 0));
        assert!(c.message.contains("append-only"), "{}", c.message);
        let c = audit_check(&report(vec![], 0));
        assert_eq!(c.message, "4 row(s), chain intact");
        let c = audit_check(&report(vec![], 1));
        assert_eq!(c.message, "4 row(s), 1 legacy unkeyed, chain intact");
    }

    #[test]
    fn unwritable_is_never_advised_to_move_aside() {
        let db = Path::new("/d/pryx.db");
        for cause in [WriteBlock::ReadOnlyFileSystem, WriteBlock::PermissionDenied] {
            let hint = write_hint(cause);
            assert!(!hint.contains("aside") && !hint.contains("mv "), "{hint}");
            assert!(hint.contains("PRYX_HOME"), "{hint}");
        }
        assert!(damaged_hint(db).contains("aside"));
        let file = (db.to_path_buf(), WriteBlock::ReadOnlyFileSystem);
        assert_eq!(refusal(db, &file), "read-only file system");
        let dir = (PathBuf::from("/d"), WriteBlock::PermissionDenied);
        assert_eq!(refusal(db, &dir), "permission denied (/d)");
    }

    #[test]
    fn other_schema_versions_are_not_opened() {
        let p = Path::new("/x/pryx.db");
        assert!(schema_gate(p, SCHEMA_VERSION).is_ok());
        let newer = schema_gate(p, SCHEMA_VERSION + 1).unwrap_err();
        assert!(newer.message.contains("newer"), "{}", newer.message);
        let older = schema_gate(p, SCHEMA_VERSION - 1).unwrap_err();
        assert_eq!(older.status, super::super::report::Status::Warn);
    }
}
