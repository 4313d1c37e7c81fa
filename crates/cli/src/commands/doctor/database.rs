//! Database and audit-log checks. The store is opened only when that cannot change the file:
//! a missing database is created (first use); a damaged one, or one whose schema would be
//! migrated, is judged from its header and left untouched.

use super::db_file::{self, Verdict};
use super::report::Check;
use pryx_config::DataDir;
use pryx_core::setup::AuditKeyUse;
use pryx_store::{AuditReport, SCHEMA_VERSION, Store};
use std::path::Path;

const DB: &str = "database";
const AUDIT: &str = "audit_log";

/// Returns the `database` and `audit_log` checks.
pub fn check(dir: &DataDir) -> [Check; 2] {
    let path = dir.database_file();
    let store = match open(&path) {
        Ok(store) => {
            // Only read the audit key: doctor never creates one.
            let seal = pryx_core::setup::audit_seal(dir, &store, AuditKeyUse::Verify);
            store.set_audit_seal(seal);
            store
        }
        Err(db) => {
            let audit = Check::warn(
                AUDIT,
                "not checked: the database could not be opened",
                "fix the database first",
            );
            return [db, audit];
        }
    };
    let db = match health(&store) {
        Ok(message) => Check::ok(DB, format!("{} ({message})", path.display())),
        Err(problem) => Check::fail(DB, problem, damaged_hint(&path)),
    };
    let audit = match store.verify_audit() {
        Ok(report) => audit_check(&report),
        Err(e) => Check::fail(
            AUDIT,
            format!("cannot read the audit log: {e}"),
            damaged_hint(&path),
        ),
    };
    [db, audit]
}

/// Opens the store if that is safe; otherwise the `database` check explaining why not.
fn open(path: &Path) -> Result<Store, Check> {
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
    // While a core runs, recent commits (even the schema version) may live only in the WAL, so
    // the main file's header is not the whole truth; SQLite must read it then.
    if exists && !wal_in_use(path) {
        match db_file::inspect_file(path).map_err(|e| unreadable(path, &e))? {
            Verdict::Empty => {
                return Err(Check::warn(
                    DB,
                    format!("{} is empty", path.display()),
                    "it is initialised on the next start of Pryx (doctor changes nothing)",
                ));
            }
            Verdict::Damaged(why) => {
                return Err(Check::fail(
                    DB,
                    format!("{} is damaged: {why}", path.display()),
                    damaged_hint(path),
                ));
            }
            Verdict::Plausible { user_version } => schema_gate(path, i64::from(user_version))?,
        }
    }
    Store::open(path).map_err(|e| Check::fail(DB, e.to_string(), damaged_hint(path)))
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

fn health(store: &Store) -> Result<String, String> {
    let version = store
        .schema_version()
        .map_err(|e| format!("cannot read the schema version: {e}"))?;
    if version != SCHEMA_VERSION {
        return Err(format!(
            "schema {version}, but this build expects {SCHEMA_VERSION}"
        ));
    }
    let integrity = store
        .integrity_check()
        .map_err(|e| format!("integrity check could not run: {e}"))?;
    if integrity != "ok" {
        let first: Vec<&str> = integrity.lines().take(3).collect();
        return Err(format!("integrity check failed: {}", first.join("; ")));
    }
    Ok(format!("schema {version}, integrity ok"))
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
    fn other_schema_versions_are_not_opened() {
        let p = Path::new("/x/pryx.db");
        assert!(schema_gate(p, SCHEMA_VERSION).is_ok());
        let newer = schema_gate(p, SCHEMA_VERSION + 1).unwrap_err();
        assert!(newer.message.contains("newer"), "{}", newer.message);
        let older = schema_gate(p, SCHEMA_VERSION - 1).unwrap_err();
        assert_eq!(older.status, super::super::report::Status::Warn);
    }
}
