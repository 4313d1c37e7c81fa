//! The audit log: append-only and hash-chained. Each row's `hash` is SHA-256 over the previous
//! row's hash and a length-prefixed encoding of the row's own fields (its `seq` included), so an
//! edited, deleted, inserted or renumbered row breaks the chain at a row that can be named.
//! Triggers refuse UPDATE and DELETE; the chain catches anyone who removes them first. A chain
//! cannot, by itself, reveal rows cut from the end: compare [`AuditReport::head_hash`] with a copy
//! kept elsewhere for that.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::Store;
use crate::util::{json_col, new_id, now_ts, to_u64};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened; the caller redacts secrets from `details` before appending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Who acted: `agent`, `user:cli`, `telegram:12345`, …
    pub actor: String,
    /// What was done: `tool.call`, `approval.granted`, `grant.revoked`, …
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub session_id: Option<String>,
    pub details: serde_json::Value,
    /// `success`, `failure`, `denied`, …
    pub outcome: String,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub id: String,
    pub timestamp: String,
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// What verification found wrong with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditProblemKind {
    /// The row's contents no longer match its hash (edited, or moved to another `seq`).
    Edited,
    /// `prev_hash` does not match the row before it (rows removed, inserted or reordered).
    BrokenLink,
    /// `seq` skips numbers before this row (rows deleted).
    Gap,
}

/// One problem, naming the row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProblem {
    pub seq: i64,
    pub id: String,
    pub kind: AuditProblemKind,
    pub detail: String,
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit row seq {} (id {}): {}",
            self.seq, self.id, self.detail
        )
    }
}

/// The outcome of [`Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub rows_checked: u64,
    /// Hash of the last row ([`GENESIS_HASH`] when empty); anchor it elsewhere to detect truncation.
    pub head_hash: String,
    /// Whether the triggers that refuse UPDATE and DELETE are in place.
    pub append_only_guard: bool,
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    /// True when the chain is unbroken and the guard triggers are present.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty() && self.append_only_guard
    }
}

/// The fields that are hashed, as stored.
struct Hashed<'a> {
    seq: i64,
    id: &'a str,
    timestamp: &'a str,
    actor: &'a str,
    action: &'a str,
    resource_type: &'a str,
    resource_id: Option<&'a str>,
    session_id: Option<&'a str>,
    details: &'a str,
    outcome: &'a str,
}

fn put(h: &mut Sha256, v: Option<&str>) {
    match v {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update(u64::try_from(s.len()).unwrap_or(u64::MAX).to_be_bytes());
            h.update(s.as_bytes());
        }
    }
}

fn chain_hash(prev_hash: &str, f: &Hashed<'_>) -> String {
    let mut h = Sha256::new();
    h.update(b"pryx-audit-v1\0");
    put(&mut h, Some(prev_hash));
    h.update(f.seq.to_be_bytes());
    for v in [
        Some(f.id),
        Some(f.timestamp),
        Some(f.actor),
        Some(f.action),
        Some(f.resource_type),
    ] {
        put(&mut h, v);
    }
    put(&mut h, f.resource_id);
    put(&mut h, f.session_id);
    put(&mut h, Some(f.details));
    put(&mut h, Some(f.outcome));
    hex::encode(h.finalize())
}

const COLS: &str = "seq, id, timestamp, actor, action, resource_type, resource_id, session_id, details, outcome, \
     prev_hash, hash";

/// A row as stored, with `details` still as text (the hashed form).
struct RawRow {
    seq: i64,
    id: String,
    timestamp: String,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    session_id: Option<String>,
    details: String,
    outcome: String,
    prev_hash: String,
    hash: String,
}

impl RawRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            seq: r.get(0)?,
            id: r.get(1)?,
            timestamp: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            resource_type: r.get(5)?,
            resource_id: r.get(6)?,
            session_id: r.get(7)?,
            details: r.get(8)?,
            outcome: r.get(9)?,
            prev_hash: r.get(10)?,
            hash: r.get(11)?,
        })
    }

    fn computed_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            &Hashed {
                seq: self.seq,
                id: &self.id,
                timestamp: &self.timestamp,
                actor: &self.actor,
                action: &self.action,
                resource_type: &self.resource_type,
                resource_id: self.resource_id.as_deref(),
                session_id: self.session_id.as_deref(),
                details: &self.details,
                outcome: &self.outcome,
            },
        )
    }

    fn into_record(self) -> Result<AuditRecord> {
        Ok(AuditRecord {
            seq: to_u64(self.seq),
            id: self.id,
            timestamp: self.timestamp,
            entry: AuditEntry {
                actor: self.actor,
                action: self.action,
                resource_type: self.resource_type,
                resource_id: self.resource_id,
                session_id: self.session_id,
                details: json_col(&self.details)?,
                outcome: self.outcome,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

impl Store {
    /// Appends an entry to the chain and returns it as stored.
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRecord> {
        let details = serde_json::to_string(&entry.details)?;
        let id = new_id();
        let timestamp = now_ts();
        let raw = self.with_tx(|tx| {
            let last: Option<(i64, String)> = tx
                .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (seq, prev_hash) = match last {
                Some((seq, hash)) => (seq + 1, hash),
                None => (1, GENESIS_HASH.to_string()),
            };
            let mut row = RawRow {
                seq,
                id: id.clone(),
                timestamp: timestamp.clone(),
                actor: entry.actor.clone(),
                action: entry.action.clone(),
                resource_type: entry.resource_type.clone(),
                resource_id: entry.resource_id.clone(),
                session_id: entry.session_id.clone(),
                details: details.clone(),
                outcome: entry.outcome.clone(),
                prev_hash,
                hash: String::new(),
            };
            row.hash = row.computed_hash();
            tx.execute(
                &format!("INSERT INTO audit_log ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                params![
                    row.seq,
                    row.id,
                    row.timestamp,
                    row.actor,
                    row.action,
                    row.resource_type,
                    row.resource_id,
                    row.session_id,
                    row.details,
                    row.outcome,
                    row.prev_hash,
                    row.hash
                ],
            )?;
            Ok(row)
        })?;
        raw.into_record()
    }

    /// The latest `limit` entries (optionally of one session), oldest first.
    pub fn list_audit(&self, session_id: Option<&str>, limit: u32) -> Result<Vec<AuditRecord>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM (SELECT {COLS} FROM audit_log WHERE ?1 IS NULL OR session_id = ?1
                                ORDER BY seq DESC LIMIT ?2)
                 ORDER BY seq"
            ))?;
            let raws = stmt
                .query_map(params![session_id, limit], RawRow::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(RawRow::into_record).collect()
        })
    }

    /// Walks the whole chain and reports every row that does not fit.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        self.with_conn(|c| {
            let guards: i64 = c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'
                 AND name IN ('audit_log_no_update', 'audit_log_no_delete')",
                [],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare(&format!("SELECT {COLS} FROM audit_log ORDER BY seq"))?;
            let mut rows = stmt.query([])?;
            let mut report = AuditReport {
                rows_checked: 0,
                head_hash: GENESIS_HASH.to_string(),
                append_only_guard: guards == 2,
                problems: Vec::new(),
            };
            let mut expected_seq = 1i64;
            while let Some(r) = rows.next()? {
                let row = RawRow::from_row(r)?;
                let mut problem = |kind, detail: String| {
                    report.problems.push(AuditProblem {
                        seq: row.seq,
                        id: row.id.clone(),
                        kind,
                        detail,
                    });
                };
                if row.seq != expected_seq {
                    problem(
                        AuditProblemKind::Gap,
                        format!("expected seq {expected_seq}; rows before this one are missing"),
                    );
                }
                if row.prev_hash != report.head_hash {
                    problem(
                        AuditProblemKind::BrokenLink,
                        "does not link to the row before it (rows removed, inserted or reordered)"
                            .to_string(),
                    );
                }
                if row.computed_hash() != row.hash {
                    problem(
                        AuditProblemKind::Edited,
                        "contents do not match the stored hash (row edited or moved)".to_string(),
                    );
                }
                report.rows_checked += 1;
                report.head_hash = row.hash;
                expected_seq = row.seq.saturating_add(1);
            }
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(i: usize, session: Option<&str>) -> AuditEntry {
        AuditEntry {
            actor: "agent".into(),
            action: "tool.call".into(),
            resource_type: "tool".into(),
            resource_id: Some(format!("call_{i}")),
            session_id: session.map(str::to_string),
            details: json!({"tool": "shell.exec", "i": i}),
            outcome: "success".into(),
        }
    }

    fn store_with(n: usize) -> (Store, Vec<AuditRecord>) {
        let store = Store::open_in_memory().unwrap();
        let recs = (0..n)
            .map(|i| {
                store
                    .append_audit(&entry(i, Some(if i % 2 == 0 { "a" } else { "b" })))
                    .unwrap()
            })
            .collect();
        (store, recs)
    }

    /// Plays the attacker: removes the guard triggers and runs raw SQL.
    fn tamper(store: &Store, sql: &str) {
        store
            .with_conn(|c| {
                c.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")?;
                c.execute_batch(sql)?;
                c.execute_batch(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'x'); END;
                     CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'x'); END;",
                )?;
                Ok(())
            })
            .unwrap();
    }

    fn kinds_at(report: &AuditReport) -> Vec<(i64, AuditProblemKind)> {
        report.problems.iter().map(|p| (p.seq, p.kind)).collect()
    }

    #[test]
    fn chain_links_and_verifies() {
        let (store, recs) = store_with(5);
        assert_eq!(recs[0].prev_hash, GENESIS_HASH);
        assert!(
            recs.windows(2)
                .all(|w| w[1].prev_hash == w[0].hash && w[1].seq == w[0].seq + 1)
        );
        let report = store.verify_audit().unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.rows_checked, 5);
        assert_eq!(report.head_hash, recs[4].hash);
    }

    #[test]
    fn empty_log_is_intact() {
        let store = Store::open_in_memory().unwrap();
        let report = store.verify_audit().unwrap();
        assert!(report.is_intact());
        assert_eq!(
            (report.rows_checked, report.head_hash.as_str()),
            (0, GENESIS_HASH)
        );
    }

    #[test]
    fn triggers_refuse_update_and_delete() {
        let (store, _) = store_with(2);
        let upd = store.with_conn(|c| Ok(c.execute("UPDATE audit_log SET outcome = 'x'", [])?));
        assert!(upd.is_err());
        let del = store.with_conn(|c| Ok(c.execute("DELETE FROM audit_log", [])?));
        assert!(del.is_err());
        assert!(store.verify_audit().unwrap().is_intact());
    }

    #[test]
    fn edited_row_is_named() {
        let (store, recs) = store_with(5);
        tamper(
            &store,
            "UPDATE audit_log SET details = '{\"tool\":\"fs.read\",\"i\":2}' WHERE seq = 3",
        );
        let report = store.verify_audit().unwrap();
        assert_eq!(kinds_at(&report), [(3, AuditProblemKind::Edited)]);
        assert_eq!(report.problems[0].id, recs[2].id);
        assert!(report.problems[0].to_string().contains(&recs[2].id));
    }

    #[test]
    fn deleted_row_is_detected_at_the_next_row() {
        let (store, recs) = store_with(5);
        tamper(&store, "DELETE FROM audit_log WHERE seq = 2");
        let report = store.verify_audit().unwrap();
        assert_eq!(
            kinds_at(&report),
            [
                (3, AuditProblemKind::Gap),
                (3, AuditProblemKind::BrokenLink)
            ]
        );
        assert_eq!(report.problems[0].id, recs[2].id);
    }

    #[test]
    fn renumbered_rows_are_detected() {
        let (store, recs) = store_with(5);
        // Swap rows 2 and 4 by renumbering them (even a "clean" deletion plus renumbering is caught).
        tamper(
            &store,
            "UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -1;",
        );
        let report = store.verify_audit().unwrap();
        assert!(!report.is_intact());
        let at2: Vec<_> = report.problems.iter().filter(|p| p.seq == 2).collect();
        assert!(
            at2.iter()
                .any(|p| p.kind == AuditProblemKind::Edited && p.id == recs[3].id),
            "{report:?}"
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.seq == 4 && p.id == recs[1].id)
        );
    }

    #[test]
    fn deletion_with_renumbering_and_rehash_of_one_row_still_breaks_links() {
        let (store, recs) = store_with(4);
        // Delete row 2 and shift later rows down, as a careful attacker would.
        tamper(
            &store,
            "DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = seq - 1 WHERE seq > 2;",
        );
        let report = store.verify_audit().unwrap();
        assert!(
            report.problems.iter().any(|p| p.seq == 2
                && p.id == recs[2].id
                && p.kind == AuditProblemKind::BrokenLink)
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.kind == AuditProblemKind::Edited)
        );
    }

    #[test]
    fn missing_guard_is_reported() {
        let (store, _) = store_with(1);
        store
            .with_conn(|c| Ok(c.execute_batch("DROP TRIGGER audit_log_no_delete")?))
            .unwrap();
        let report = store.verify_audit().unwrap();
        assert!(report.problems.is_empty());
        assert!(!report.append_only_guard && !report.is_intact());
    }

    #[test]
    fn list_filters_by_session_and_keeps_the_latest() {
        let (store, recs) = store_with(6);
        let a: Vec<_> = store
            .list_audit(Some("a"), 10)
            .unwrap()
            .into_iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(a, [1, 3, 5]);
        let last_two = store.list_audit(None, 2).unwrap();
        assert_eq!(last_two, recs[4..].to_vec());
        assert_eq!(
            last_two[0].entry.details,
            json!({"tool": "shell.exec", "i": 4})
        );
    }
}
